import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'

// The supervisor view in real Chromium through the real server: a supervisor signs in, opens
// Supervisor, changes a signed-in agent's status and forces them out, sees the queue change live
// when a chat is started through the Apps API, and the charts (uPlot, loaded on this page only)
// drawn for the date range. axe-core clean; 360 px; screenshots.

const SHOTS = process.env.SWITCHBOARD_CONSOLE_SHOTS ?? '/tmp/console-shots'
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

let t: TestApp
let browser: TestBrowser
let tt: TestTenant
let login: { email: string; password: string }
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  t = await startTestApp({ listen: true })
  tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, `
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: Avery, teams: [Desk], password: "ann-agent-password-1" }
  - { email: bo@example.org, first_name: Bo, last_name: Berg, teams: [Desk], password: "bo-agent-password-1" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`, 'yaml')
  const { user, password } = await t.services.console.createUser(tt.tenant.id, { email: 'sam@example.org', role: 'supervisor', name: 'Sam Supervisor' })
  login = { email: user.email, password }
  // Some of today's outbound messages, for the delivery chart.
  const now = new Date()
  let n = 0
  for (const [channel, provider, status] of [['sms', 'twilio', 'delivered'], ['sms', 'twilio', 'delivered'], ['sms', 'twilio', 'failed'], ['email', 'smtp', 'delivered'], ['sms', 'sandbox', 'sent']] as const) {
    await sql`INSERT INTO outbox_messages (tenant_id, channel, recipient, body, idempotency_key, status, provider, send_at, created_at, updated_at)
      VALUES (${tt.tenant.id}, ${channel}, ${channel === 'email' ? 'x@example.org' : '+15555550100'}, 'b', ${`browser-seed-${++n}`}, ${status}, ${provider}, ${now}, ${now}, ${now})`.execute(t.store.db)
  }
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

async function apps(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await fetch(`${t.url}/apps/api/v1${path}`, { method, headers: { authorization: tt.ccaiAuth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const text = await r.text()
  expect(r.status, `${path} ${text}`).toBeLessThan(300)
  return JSON.parse(text) as Json
}

async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  type Violation = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }
  const violations = await page.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
const agentStatus = async (email: string) => (await t.services.agents.list(tt.tenant.id, { kind: 'all' })).find((a) => a.email === email)?.status.name

describe('the supervisor view in Chromium', () => {
  it('a supervisor sees agents and queues live, changes a status, forces a logout, and reads the charts', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text())
    })
    const chartRequests: string[] = []
    page.on('request', (r) => {
      if (/supervisor-charts/.test(r.url())) chartRequests.push(r.url())
    })

    await page.goto(`${t.url}/console`)
    await page.getByLabel('Email').fill(login.email)
    await page.getByLabel('Password').fill(login.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'People' }).waitFor()
    // The chart library is not loaded before the supervisor page is opened.
    expect(chartRequests).toEqual([])
    await page.getByRole('link', { name: 'Supervisor' }).click()
    await page.getByRole('heading', { name: 'Supervisor', level: 1 }).waitFor()
    expect(page.url()).toBe(`${t.url}/console/supervisor`)

    const queueWaiting = page.locator('#queues tr[data-queue="Help"] td[data-cell="waiting"]')
    await expect.poll(() => queueWaiting.innerText(), { timeout: 15_000 }).toBe('0')
    const annStatus = page.locator('#agents tr[data-agent="ann@example.org"] td[data-cell="status"]')
    await expect.poll(() => annStatus.innerText(), { timeout: 15_000 }).toBe('Offline')

    // Ann signs in to the agent API: the page shows her Unavailable without a reload.
    const signIn = await fetch(`${t.url}/agent/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ann@example.org', password: 'ann-agent-password-1', company: tt.credentials.ccai.subdomain }) })
    expect(signIn.status).toBe(200)
    await expect.poll(() => annStatus.innerText(), { timeout: 15_000 }).toBe('Unavailable')

    // Status change and force-logout, with the keyboard and the mouse.
    await page.getByLabel('New status for Ann Avery').selectOption('Available')
    await page.getByRole('button', { name: 'Set status of Ann Avery' }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('status').filter({ hasText: 'Ann Avery is now Available' }).waitFor({ timeout: 15_000 })
    expect(await agentStatus('ann@example.org')).toBe('Available')
    await expect.poll(() => annStatus.innerText(), { timeout: 15_000 }).toBe('Available')
    await page.getByRole('button', { name: 'Force logout Ann Avery' }).click()
    await page.getByRole('status').filter({ hasText: 'Ann Avery is now Offline' }).waitFor({ timeout: 15_000 })
    expect(await agentStatus('ann@example.org')).toBe('Offline')

    // A chat started through the Apps API: the queue shows it waiting, live.
    const endUser = (await apps('POST', '/end_users', { identifier: 'supervised-visitor' })).id as number
    await apps('POST', '/chats', { chat: { menu_id: 2, end_user_id: String(endUser) } })
    await expect.poll(() => queueWaiting.innerText(), { timeout: 15_000 }).toBe('1')

    // The charts of the last seven days: today's chat and messages, the delivery outcomes.
    await expect.poll(() => page.locator('.chart canvas').count(), { timeout: 15_000 }).toBe(2)
    expect(chartRequests.length).toBeGreaterThan(0)
    await page.getByRole('button', { name: 'Show' }).click()
    await page.getByText('Delivery outcomes as a table').click()
    const delivery = page.locator('details', { hasText: 'Delivery outcomes as a table' }).locator('tbody tr')
    await expect.poll(() => delivery.allInnerTexts(), { timeout: 15_000 }).toEqual(['sandbox\tsent\t1', 'smtp\tdelivered\t1', 'twilio\tdelivered\t2', 'twilio\tfailed\t1'])
    await page.getByText('Volume as a table').click()
    const volumeHead = await page.locator('details', { hasText: 'Volume as a table' }).locator('thead th').allInnerTexts()
    expect(volumeHead).toEqual(['day', 'chat', 'email', 'sms'])
    // The first-response chart says when no chat was answered.
    await page.getByText('No answered chats in this range.').waitFor()

    expect(await axe(page)).toEqual([])
    await shot(page, 'supervisor')

    // Readable at 360 px: nothing wider than the screen but the scrolling tables.
    await page.setViewportSize({ width: 360, height: 800 })
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth'), { timeout: 10_000 }).toBeLessThanOrEqual(360)
    expect(await axe(page)).toEqual([])
    await shot(page, 'supervisor-360px')

    expect(problems).toEqual([])
    await context.close()
  }, 180_000)
})
