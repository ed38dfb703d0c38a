import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniquePhone } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'
import { addThread } from '../../../test/helpers/cass.ts'
import { cliOver } from '../../cli/testing.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

// The person page's second slice in real Chromium through the real server: the owner edits a
// person, adds and lifts a suppression, records a withdrawn consent — each shows in the timeline
// without a reload, and a refused edit shows the server's message; a bot ping sent through the
// Cass API appears on the open page live; a person with 5,000 timeline entries keeps only a window
// of them in the DOM and scrolls to the oldest. axe-core on every state; screenshots to SHOTS.

const SHOTS = process.env.SWITCHBOARD_CONSOLE_SHOTS ?? '/tmp/console-shots'
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const MANY = 5000

let t: TestApp
let browser: TestBrowser
let owner: { email: string; password: string }
let tenantId: TenantId
let cassAuth: string
let rosa: { id: string; cassId: string; phone: string; email: string }
let takenPhone: string
let bigId: string
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  t = await startTestApp({ listen: true })
  const made = await cliOver(t.store)(['tenant', 'create', '--name', `Person page ${Date.now()}`, '--json'])
  expect(made.code, made.stderr).toBe(0)
  const c = JSON.parse(made.stdout) as Json
  owner = c.console
  tenantId = c.id as TenantId
  cassAuth = 'Basic ' + Buffer.from(`${c.cass.client}:${c.cass.token}`).toString('base64')
  const create = async (body: Json) => {
    const r = await fetch(`${t.url}/external_person`, { method: 'POST', headers: { authorization: cassAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(r.status).toBe(200)
    const cassId = ((await r.json()) as Json).person_id as string
    return { cassId, id: (await t.services.people.getByRef({ id: tenantId } as never, cassId)).id }
  }
  const phone = uniquePhone()
  const r = await create({ phone, first_name: 'Rosa', last_name: 'Lindqvist' })
  rosa = { ...r, phone, email: 'rosa.lindqvist@example.org' }
  await sql`UPDATE people SET email = ${rosa.email} WHERE id = ${rosa.id}`.execute(t.store.db)
  takenPhone = uniquePhone()
  await create({ phone: takenPhone, first_name: 'Taken' })
  bigId = (await create({ phone: uniquePhone(), first_name: 'Bertil', last_name: 'Manyfold' })).id
  await sql`INSERT INTO transcript_messages (tenant_id, person_id, direction, channel, text, created_at)
    SELECT ${tenantId}, ${bigId}, CASE WHEN i % 3 = 0 THEN 'in' ELSE 'out' END, 'sms',
      'message ' || i || CASE WHEN i % 7 = 0 THEN ': a longer message that wraps onto a second line on a narrow screen, to vary the heights' ELSE '' END,
      now() - make_interval(secs => ${MANY} - i)
    FROM generate_series(1, ${MANY}) i`.execute(t.store.db)
  await addThread(t, tenantId, 'hello', [{ say: 'Hello Rosa, a live message from the bot.' }])
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  type Violation = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }
  const violations = await page.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

async function signIn(page: Page) {
  await page.goto(`${t.url}/console`)
  await page.getByLabel('Email').fill(owner.email)
  await page.getByLabel('Password').fill(owner.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'People' }).waitFor()
}

const timelineText = (page: Page) => page.locator('ol.events > li').allInnerTexts()

describe('the person page in Chromium', () => {
  it('edits, suppresses, lifts and records consent; each shows in the timeline; errors shown; a bot ping arrives live', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    await signIn(page)
    await page.goto(`${t.url}/console/people/${rosa.id}`)
    await page.getByRole('heading', { name: 'Rosa Lindqvist' }).waitFor()
    await page.getByText('Nothing yet.').waitFor()

    // Edit: a refused phone shows the server's message and changes nothing; a new name is saved.
    await page.getByRole('button', { name: 'Edit details' }).click()
    await page.getByLabel('Phone').fill(takenPhone)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('alert').filter({ hasText: 'phone belongs to another person' }).waitFor()
    expect(await axe(page)).toEqual([])
    await page.getByLabel('Phone').fill(rosa.phone)
    await page.getByLabel('First name').fill('Rosalind')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('heading', { name: 'Rosalind Lindqvist' }).waitFor()
    await page.locator('ol.events > li').filter({ hasText: 'Edited first name: Rosa → Rosalind' }).waitFor()

    // A suppression on the do-not-contact list, then lifted.
    await page.getByText('Add a suppression').click()
    await page.locator('#sup-reason').selectOption('dnc')
    await page.locator('#sup-note').fill('asked on the phone')
    await page.getByRole('button', { name: 'Suppress', exact: true }).click()
    await page.getByRole('status').filter({ hasText: `${rosa.phone} suppressed on sms.` }).waitFor()
    await page.locator('li.suppression').filter({ hasText: 'do-not-contact list' }).waitFor()
    await page.locator('ol.events > li').filter({ hasText: `Suppressed ${rosa.phone} on SMS (the do-not-contact list): asked on the phone` }).waitFor()
    expect(await t.services.suppression.isSuppressed({ id: tenantId }, 'sms', rosa.phone)).toMatchObject({ reason: 'dnc' })
    await page.getByRole('button', { name: `Lift the suppression of ${rosa.phone} on sms` }).click()
    await page.getByText('Not suppressed on any channel.').waitFor()
    await page.locator('ol.events > li').filter({ hasText: `Lifted the suppression of ${rosa.phone} on SMS` }).waitFor()

    // A withdrawn consent for e-mail: a suppression only the person's consent lifts (no Lift button).
    await page.getByText('Record consent').first().click()
    await page.locator('#consent-scope').selectOption('email')
    await page.locator('#consent-address').selectOption(rosa.email)
    await page.getByRole('button', { name: 'Record consent' }).click()
    await page.locator('li.suppression').filter({ hasText: 'consent withdrawn' }).filter({ hasText: 'own opt-out' }).waitFor()
    expect(await page.getByRole('button', { name: /^Lift the suppression/ }).count()).toBe(0)
    await page.locator('ol.events > li').filter({ hasText: `Consent withdrawn for ${rosa.email} on email` }).waitFor()

    // Newest first: the consent, the lift, the suppression, the edit.
    const texts = await timelineText(page)
    const order = ['Consent withdrawn', 'Lifted the suppression', 'Suppressed', 'Edited first name'].map((x) => texts.findIndex((text) => text.includes(x)))
    expect(order, texts.join('\n')).toEqual([0, 1, 2, 3])
    expect(texts[0]).toContain(`by ${owner.email}`)
    expect(await axe(page)).toEqual([])
    await shot(page, '6-person-actions')

    // Live: a bot ping sent through the Cass API appears on the open page, no reload.
    const ping = await fetch(`${t.url}/v2/ping_person`, { method: 'POST', headers: { authorization: cassAuth, 'content-type': 'application/json' }, body: JSON.stringify({ person_id: rosa.cassId, thread_name: 'hello' }) })
    expect(ping.status, await ping.text()).toBe(200)
    await page.locator('ol.events > li').first().filter({ hasText: 'Hello Rosa, a live message from the bot.' }).waitFor({ timeout: 30_000 })
    expect((await timelineText(page))[0]).toContain('bot · hello')

    // The page's own ping: one of the organisation's threads, recorded with who sent it.
    await page.getByText('Ping into a thread').click()
    await page.locator('#ping-thread').selectOption('hello')
    await page.getByRole('button', { name: 'Ping', exact: true }).click()
    await page.getByRole('status').filter({ hasText: 'Pinged into hello.' }).waitFor()
    await page.locator('ol.events > li').filter({ hasText: 'Pinged into the thread hello' }).waitFor()
    expect((await timelineText(page)).filter((text) => text.includes('Hello Rosa, a live message from the bot.')).length).toBeGreaterThanOrEqual(2)
    expect(await axe(page)).toEqual([])

    await page.setViewportSize({ width: 360, height: 740 })
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    expect(await axe(page)).toEqual([])
    await shot(page, '7-person-actions-360px')
    expect(problems).toEqual([])
    await context.close()
  }, 180_000)

  it(`scrolls a timeline of ${MANY} entries with only a window of them in the DOM, down to the oldest`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await signIn(page)
    await page.goto(`${t.url}/console/people/${bigId}`)
    await page.getByRole('heading', { name: 'Bertil Manyfold' }).waitFor()
    await page.locator('ol.events > li').first().filter({ hasText: `message ${MANY}` }).waitFor()
    const rendered = () => page.locator('ol.events > li').count()
    expect(await rendered()).toBeLessThan(60)
    expect(await axe(page)).toEqual([])
    await shot(page, '8-person-5000')
    const region = page.getByRole('region', { name: /^Timeline, / })
    // Scroll to the end again and again: older pages load as the end comes near, until the oldest.
    const lastText = () => page.locator('ol.events > li').last().innerText()
    for (let i = 0; i < 200 && !/\bmessage 1$/.test(await lastText()); i++) {
      await region.evaluate((el) => el.scrollTo(0, el.scrollHeight))
      await page.waitForTimeout(100)
      expect(await rendered()).toBeLessThan(80)
    }
    const state = async () => `${await region.getAttribute('aria-label')} / last: ${await page.locator('ol.events > li').last().innerText()} / scroll ${await region.evaluate((el) => `${el.scrollTop}+${el.clientHeight} of ${el.scrollHeight}`)}`
    expect(await lastText(), await state()).toMatch(/\bmessage 1$/)
    expect(await region.getAttribute('aria-label')).toBe(`Timeline, ${MANY} entries, newest first`)
    const last = page.locator('ol.events > li').last()
    expect(await last.getAttribute('aria-posinset')).toBe(String(MANY))
    // Back to the top: the newest again.
    await region.evaluate((el) => el.scrollTo(0, 0))
    await page.locator('ol.events > li').first().filter({ hasText: `message ${MANY}` }).waitFor()
    await context.close()
  }, 180_000)
})
