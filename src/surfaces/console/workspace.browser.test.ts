import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'

// The agent workspace in real Chromium through the real server: a contact-center agent signs in
// to the console with their agent e-mail, password and company; becomes Available; a chat started
// through the Apps API is offered live, accepted (by keyboard), answered — the tenant's webhook
// peer receives the agent's message, signed; a second chat in another tab gets an unread marker; a
// reload resumes the stream after the last event (an offer made while the page was gone shows, the
// chats and messages show once); shortcuts (Alt+A, Alt+D, Alt+1); a transfer to the queue; end and wrap-up
// with a disposition. axe-core clean; 360 px.

const SHOTS = process.env.SWITCHBOARD_CONSOLE_SHOTS ?? '/tmp/console-shots'
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const SECRET = 'workspace-webhook-secret-0123'
const PASSWORD = 'ann-agent-password-1'

let t: TestApp
let browser: TestBrowser
let receiver: WebhookReceiver
let tt: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  t = await startTestApp({ workers: true, listen: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
  receiver = await startWebhookReceiver([SECRET])
  tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 1000, offer_timeout: 5m, wrap_up_timeout: 5m, dispositions: [Resolved, Follow-up needed], webhook: { url: "${receiver.url}/hooks", primary_secret: "${SECRET}" } }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: Avery, teams: [Desk], chat_capacity: 3, password: "${PASSWORD}" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`, 'yaml')
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await receiver?.close()
  await t?.close()
})

async function apps(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await fetch(`${t.url}/apps/api/v1${path}`, { method, headers: { authorization: tt.ccaiAuth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const text = await r.text()
  expect(r.status, `${path} ${text}`).toBeLessThan(300)
  return JSON.parse(text) as Json
}
async function startChat(identifier: string): Promise<{ chatId: number; endUser: number }> {
  const endUser = (await apps('POST', '/end_users', { identifier })).id as number
  const chat = await apps('POST', '/chats', { chat: { menu_id: 2, end_user_id: String(endUser) } })
  return { chatId: chat.id as number, endUser }
}

/** axe-core's serious and critical violations of the page as it is now. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  type Violation = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }
  const violations = await page.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

/** What keyboard focus reaches pressing Tab from the top of the page (role and name of each stop). */
async function tabStops(page: Page, max = 40): Promise<string[]> {
  await page.evaluate('document.activeElement && document.activeElement.blur()')
  const stops: string[] = []
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    stops.push(await page.evaluate<string>(`(() => { const e = document.activeElement; if (!e) return ''; const l = e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
      return e.tagName.toLowerCase() + ':' + (e.getAttribute('aria-label') || (l ? l.textContent : '') || e.textContent || '').trim() })()`))
  }
  return stops
}

describe('the agent workspace in Chromium', () => {
  it('an agent signs in, takes a chat from the Apps API, answers (the webhook peer gets it), survives a reload, wraps up', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text())
    })

    // Sign in with the agent's own credentials and the company (the Apps API subdomain).
    await page.goto(`${t.url}/console`)
    await page.getByRole('heading', { name: 'Sign in to the Switchboard console' }).waitFor()
    await page.getByLabel('Email').fill('ann@example.org')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel(/^Company/).fill(tt.credentials.ccai.subdomain)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Workspace' }).waitFor()
    expect(page.url()).toBe(`${t.url}/console/workspace`)
    await expect.poll(() => page.locator('header .who').innerText()).toContain('agent')
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 })
    // The session cookie stays HTTP-only; the agent token is held in memory, never stored by the page.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sb_console')
    expect(await page.evaluate<string>('JSON.stringify(sessionStorage) + JSON.stringify(localStorage)')).not.toContain('sbat_')

    // Available, through the status selector.
    await page.getByLabel('Status').selectOption('Available')
    await expect.poll(async () => (await t.services.agents.list(tt.tenant.id, { kind: 'all' })).find((a) => a.email === 'ann@example.org')?.status.name, { timeout: 15_000 }).toBe('Available')

    // A chat from the Apps API is offered live; accepted with the keyboard.
    const first = await startChat('visitor-1')
    const accept1 = page.getByRole('button', { name: `Accept chat ${first.chatId}` })
    await accept1.waitFor({ timeout: 15_000 })
    expect(await axe(page)).toEqual([])
    await accept1.focus()
    await page.keyboard.press('Enter')
    const tab1 = page.getByRole('tab', { name: new RegExp(`visitor-1 · #${first.chatId}`) })
    await tab1.waitFor({ timeout: 15_000 })
    expect(await tab1.getAttribute('aria-selected')).toBe('true')

    // The end user writes; the agent answers from the composer (Enter sends).
    await apps('POST', `/chats/${first.chatId}/message`, { from_user_id: first.endUser, message: { type: 'text', content: 'Is my bill right?' } })
    const panel = page.getByRole('tabpanel').getByRole('log')
    await panel.getByText('Is my bill right?').waitFor({ timeout: 15_000 })
    await page.getByLabel(/^Reply/).fill('Yes, it is. Anything else?')
    await page.getByLabel(/^Reply/).press('Enter')
    await panel.getByText('Yes, it is. Anything else?').waitFor()
    const hook = await waitFor('the message_received webhook', () => receiver.verified().find((h) => (h.json as Json).type === 'message_received' && (h.json as Json).data.content === 'Yes, it is. Anything else?'), 20_000)
    expect(hook.json).toMatchObject({ type: 'message_received', chat_id: first.chatId, data: { from_agent_id: 1, from_user_id: null } })

    // A second chat in its own tab; a message in the first shows as unread there.
    const second = await startChat('visitor-2')
    await page.getByRole('button', { name: `Accept chat ${second.chatId}` }).waitFor({ timeout: 15_000 })
    await page.keyboard.press('Alt+KeyA')
    const tab2 = page.getByRole('tab', { name: new RegExp(`visitor-2 · #${second.chatId}`) })
    await expect.poll(() => tab2.getAttribute('aria-selected'), { timeout: 15_000 }).toBe('true')
    await apps('POST', `/chats/${first.chatId}/message`, { from_user_id: first.endUser, message: { type: 'text', content: 'One more thing.' } })
    await page.getByRole('tab', { name: /visitor-1 .*1 unread/ }).waitFor({ timeout: 15_000 })
    // Keyboard: arrows move between the tabs; every control is reachable with Tab.
    await tab2.focus()
    await page.keyboard.press('ArrowLeft')
    await expect.poll(() => tab1.getAttribute('aria-selected')).toBe('true')
    expect(await tab1.innerText()).not.toContain('unread')
    await panel.getByText('One more thing.').waitFor()
    const stops = await tabStops(page)
    for (const want of ['select:Status', 'button:Sign out', `button:visitor-1 · #${first.chatId}`, 'textarea:Reply', 'button:End chat']) {
      expect(stops.some((s) => s.startsWith(want)), `${want} in ${stops.join(' | ')}`).toBe(true)
    }
    expect(await axe(page)).toEqual([])
    await page.evaluate('document.activeElement && document.activeElement.blur()')
    await shot(page, 'workspace')
    await page.setViewportSize({ width: 360, height: 740 })
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    expect(await axe(page)).toEqual([])
    await shot(page, 'workspace-360px')
    await page.setViewportSize({ width: 1280, height: 900 })

    // Away from the page, a third chat is offered; after coming back (a reload), the stream resumes
    // after the last event seen: the offer shows, the chats and their messages show once.
    await page.goto('about:blank')
    const third = await startChat('visitor-3')
    await waitFor('the third offer', async () => (await apps('GET', `/chats/${third.chatId}`)).offer_events?.length > 0, 15_000)
    await page.goto(`${t.url}/console/workspace`)
    await page.getByRole('button', { name: `Accept chat ${third.chatId}` }).waitFor({ timeout: 15_000 })
    await tab1.waitFor()
    await tab2.waitFor()
    expect(await page.getByRole('tab').count()).toBe(2)
    await page.keyboard.press('Alt+Digit1')
    await expect.poll(() => tab1.getAttribute('aria-selected')).toBe('true')
    await panel.getByText('One more thing.').waitFor()
    for (const text of ['Is my bill right?', 'Yes, it is. Anything else?', 'One more thing.']) expect(await panel.getByText(text).count()).toBe(1)
    // Live again after the reload, nothing doubled.
    await apps('POST', `/chats/${first.chatId}/message`, { from_user_id: first.endUser, message: { type: 'text', content: 'After the reload.' } })
    await panel.getByText('After the reload.').waitFor({ timeout: 15_000 })
    expect(await panel.locator('li.msg').count()).toBe(4)
    // Alt+D declines the offer: it goes from the page, the chat waits in the queue for another agent.
    await page.keyboard.press('Alt+KeyD')
    await expect.poll(() => page.getByRole('button', { name: `Accept chat ${third.chatId}` }).count(), { timeout: 15_000 }).toBe(0)
    const declined = await apps('GET', `/chats/${third.chatId}`)
    expect(declined.offer_events.map((e: Json) => e.result)).toContain('rejected')
    expect(declined.status).toBe('queued')

    // Leave the chats: while another is open a chat that left is only closed; the last one's
    // wrap-up takes a disposition, and its tab goes.
    // The first goes back to the queue (transfer): Ann leaves it at once.
    await tab1.click()
    await page.getByLabel('Transfer to').selectOption({ label: 'Help' })
    await page.getByRole('button', { name: 'Transfer' }).click()
    await page.getByRole('button', { name: `Close chat ${first.chatId}` }).click({ timeout: 15_000 })
    const moved = await apps('GET', `/chats/${first.chatId}`)
    expect(moved.transfers.length).toBe(1)
    expect(moved.status).toBe('queued')
    await tab2.click()
    await page.getByRole('button', { name: 'End chat' }).click()
    await page.getByRole('heading', { name: 'Wrap-up' }).waitFor({ timeout: 15_000 })
    await page.getByLabel('Disposition').selectOption('Follow-up needed')
    expect(await axe(page)).toEqual([])
    await shot(page, 'workspace-wrap-up')
    await page.getByRole('button', { name: 'Finish wrap-up' }).click()
    await expect.poll(() => page.getByRole('tab').count(), { timeout: 15_000 }).toBe(0)
    await expect.poll(() => page.getByLabel('Status').inputValue(), { timeout: 15_000 }).toBe('Available')
    expect(await page.getByRole('alert').innerText()).toBe('')
    // Chat webhooks are ordered per chat: one that finds an earlier one of its chat still in flight
    // may wait up to the recheck delay (README "Chat webhooks"), as the chat tests allow (45 s).
    await waitFor('the chat_ended webhook', () => receiver.verified().find((h) => (h.json as Json).type === 'chat_ended' && (h.json as Json).chat_id === second.chatId), 45_000)
    expect(problems).toEqual([])
    await context.close()
  }, 180_000)
})
