import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniquePhone } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'
import { addThread } from '../../../test/helpers/cass.ts'
import { cliOver } from '../../cli/testing.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { LOCKOUT } from '../../core/console/index.ts'

// The console in real Chromium (playwright-core driving Debian's chromium) through the real server:
// the owner that `tenant create` made signs in, searches a person, opens their timeline and sees a
// bot message and a care-team channel message, newest first; a POST without the CSRF token is
// refused; wrong passwords lock the account out. axe-core runs on every page (no serious or critical
// violation); nothing is blocked by the Content-Security-Policy. Screenshots go to SHOTS.

const SHOTS = process.env.SWITCHBOARD_CONSOLE_SHOTS ?? '/tmp/console-shots'
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

let t: TestApp
let browser: TestBrowser
let owner: { email: string; password: string }
let patId: string
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  console.log(`console screenshots: ${SHOTS}`)
  t = await startTestApp({ listen: true })
  // A tenant as `tenant create` makes it, with its console owner.
  const made = await cliOver(t.store)(['tenant', 'create', '--name', `Demo-like ${Date.now()}`, '--json'])
  expect(made.code, made.stderr).toBe(0)
  const c = JSON.parse(made.stdout) as Json
  owner = c.console
  const cassAuth = 'Basic ' + Buffer.from(`${c.cass.client}:${c.cass.token}`).toString('base64')
  const post = async (url: string, body: unknown, auth: string) => {
    const r = await fetch(t.url + url, { method: 'POST', headers: { authorization: auth, 'content-type': url.startsWith('/v1/') ? 'application/vnd.api+json' : 'application/json' }, body: JSON.stringify(body) })
    const text = await r.text()
    expect(r.status, `${url} ${text}`).toBeLessThan(300)
    return JSON.parse(text) as Json
  }
  // Patricia: a bot ping, then a message of her care team's channel.
  const pat = await post('/external_person', { phone: uniquePhone(), first_name: 'Patricia', last_name: 'Okonkwo', external_id: 'pat-1' }, cassAuth)
  await post('/external_person', { phone: uniquePhone(), first_name: 'Paul', last_name: 'Mensah', external_id: 'paul-1' }, cassAuth)
  patId = (await t.services.people.getByRef({ id: c.id as TenantId } as never, pat.person_id as string)).id
  await addThread(t, c.id as TenantId, 'checkin', [{ say: 'Hi Patricia, how are you feeling today?' }])
  await post('/v2/ping_person', { person_id: pat.person_id, thread_name: 'checkin' }, cassAuth)
  const nurse = await post('/external_person', { first_name: 'Nia', protocol: 'web', external_id: 'nurse-nia' }, cassAuth)
  const bearer = `Bearer ${c.courier.api_key}`
  const channel = await post('/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': c.courier.organization_id, 'individual-ids': [pat.person_id], 'individual-id': nurse.person_id } } }, bearer)
  await post('/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'Remember to take your meds with food.', 'individual-id': nurse.person_id } } }, bearer)
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

/** axe-core's serious and critical violations of the page as it is now. */
async function axe(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> would be refused).
  await page.evaluate(AXE)
  type Violation = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }
  const violations = await page.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

describe('the console in Chromium', () => {
  it('signs in as the owner, finds Patricia, shows her one timeline newest first; accessible; nothing blocked by the CSP', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text()) || m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))

    await page.goto(`${t.url}/console`)
    await page.getByRole('heading', { name: 'Sign in to the Switchboard console' }).waitFor()
    // The one expected error: GET /session answered 401 before signing in.
    problems.length = 0
    expect(await axe(page)).toEqual([])
    await shot(page, '1-sign-in')

    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill(owner.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'People' }).waitFor()
    expect(page.url()).toBe(`${t.url}/console/people`)
    // The session cookie is not readable by scripts.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sb_console')
    const cookies = await context.cookies()
    expect(cookies.find((x) => x.name === 'sb_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' })

    await page.getByRole('searchbox', { name: 'Search people' }).fill('okonkwo')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('status').filter({ hasText: '1 person' }).waitFor()
    expect(await page.getByRole('link', { name: 'Patricia Okonkwo' }).count()).toBe(1)
    expect(await page.getByRole('link', { name: 'Paul Mensah' }).count()).toBe(0)
    expect(await axe(page)).toEqual([])
    await shot(page, '2-people-search')
    // The check can fail: an image without a text alternative is a critical violation.
    await page.evaluate('document.querySelector("main").insertAdjacentHTML("beforeend", "<img id=bad src=/console/nothing.png>")')
    expect((await axe(page)).join('\n')).toMatch(/^image-alt \(critical\)/)
    await page.evaluate('document.getElementById("bad").remove()')

    await page.getByRole('link', { name: 'Patricia Okonkwo' }).click()
    await page.getByRole('heading', { name: 'Patricia Okonkwo' }).waitFor()
    expect(page.url()).toBe(`${t.url}/console/people/${patId}`)
    const items = page.locator('ol.events > li')
    await items.first().waitFor()
    const texts = await items.allInnerTexts()
    const channelAt = texts.findIndex((x) => x.includes('Remember to take your meds with food.') && x.includes('Care-team channel'))
    const botAt = texts.findIndex((x) => x.includes('Hi Patricia, how are you feeling today?') && x.includes('bot · checkin'))
    expect(channelAt, texts.join('\n---\n')).toBeGreaterThan(-1)
    expect(botAt, texts.join('\n---\n')).toBeGreaterThan(channelAt)
    await page.getByText('Not suppressed on any channel.').waitFor()
    expect(await page.locator('aside').innerText()).toContain('cass')
    expect(await axe(page)).toEqual([])
    await shot(page, '3-person-timeline')

    // A reload of a client route keeps the page and the session.
    await page.reload()
    await page.getByRole('heading', { name: 'Patricia Okonkwo' }).waitFor()
    // A phone-sized screen.
    await page.setViewportSize({ width: 360, height: 740 })
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    expect(await axe(page)).toEqual([])
    await shot(page, '4-person-timeline-360px')
    await page.setViewportSize({ width: 1280, height: 800 })

    // From the page: a POST without the CSRF token is refused and creates nothing; with it, it works.
    const results = await page.evaluate(async () => {
      const body = JSON.stringify({ email: 'csrf-check@example.org', role: 'agent' })
      const without = await fetch('/console/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const session = await (await fetch('/console/api/session')).json() as { csrf_token: string }
      const users = await (await fetch('/console/api/users')).json() as { users: unknown[] }
      const withToken = await fetch('/console/api/users', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body })
      return { without: without.status, withoutBody: await without.json(), before: users.users.length, with: withToken.status }
    })
    expect(results).toEqual({ without: 403, withoutBody: { message: 'Missing or wrong CSRF token', code: 'console_csrf_failed' }, before: 1, with: 201 })

    // Signing out ends the session: the page asks to sign in again.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to the Switchboard console' }).waitFor()
    expect((await page.evaluate(async () => (await fetch('/console/api/session')).status))).toBe(401)
    // The 401s and the 403 just asked for are expected; nothing else went wrong on the pages.
    expect(problems.filter((p) => !/status of (401 \(Unauthorized\)|403 \(Forbidden\))/.test(p))).toEqual([])
    await context.close()
  }, 120_000)

  it(`locks the account after ${LOCKOUT.failures} wrong passwords: the right one is refused then, and the page says so`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    await page.goto(`${t.url}/console`)
    await page.getByRole('heading', { name: 'Sign in to the Switchboard console' }).waitFor()
    await page.getByLabel('Email').fill(owner.email)
    for (let i = 0; i < LOCKOUT.failures; i++) {
      await page.getByLabel('Password').fill(`wrong-password-${i}`)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor()
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':not([disabled])')).waitFor()
    }
    await page.getByLabel('Password').fill(owner.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'Too many failed sign-ins; try again later' }).waitFor()
    expect(await page.getByRole('heading', { name: 'People' }).count()).toBe(0)
    expect(await axe(page)).toEqual([])
    await shot(page, '5-locked-out')
    await context.close()
  }, 120_000)
})
