import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// The sandbox page as the person's phone, in real Chromium: calls to the sandbox's numbers are
// listed; the person picks up, declines, hangs up, presses the deflection digits (1 voicemail,
// 2 schedule a call) and leaves the voicemail with the page's buttons (server-rendered forms).
let t: TestApp
let acme: TestTenant
let browser: TestBrowser

beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true })
  acme = await createTenant(t.services)
  await t.services.ccSetup.load(acme.tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: Desk }]
menus: [{ name: Phone, type: ivr, children: [{ name: Full, channels: [call], teams: [Desk], over_capacity: { max_queued: 0, deflection: [voicemail, schedule_call] } }] }]
phone_numbers: [{ number: "+1 628-555-0196" }]
`, 'yaml')
  await t.services.providerSettings.set(acme.tenant, 'voice', 'sandbox', { answer: 'manual' })
  browser = await launchBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

/** A C3 call on the full queue: deflected, the person's phone rings (answer: manual). */
async function deflectedCall(phone: string): Promise<number> {
  const menu = (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', acme.tenant.id).where('name', '=', 'Full').executeTakeFirstOrThrow()).num
  const r = await t.app.inject({ method: 'POST', url: '/apps/api/v1/calls', headers: { authorization: acme.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ call_type: 'IncomingCall', menu_id: menu, end_user_number: phone }) })
  expect(r.statusCode, r.body).toBe(201)
  const id = (JSON.parse(r.body) as Json).id as number
  await waitFor(`call ${id} to ring`, async () => (await t.services.calls.endUserLeg(acme.tenant.id, id))?.providerCallId ?? undefined, 45_000)
  return id
}
const row = (page: Page, id: number) => page.locator(`section[aria-labelledby="calls-title"] tr[data-call-id="${id}"]`)
/** Reload until the call's row offers `button`, then click it (the page posts and comes back). */
async function act(page: Page, id: number, button: string): Promise<void> {
  await expect.poll(async () => {
    await page.reload()
    return row(page, id).getByRole('button', { name: button }).count()
  }, { timeout: 45_000, interval: 300 }).toBe(1)
  await row(page, id).getByRole('button', { name: button }).click()
  await page.getByRole('heading', { name: 'Phone calls' }).waitFor()
}
const status = (page: Page, id: number) => row(page, id).locator('.status').textContent()

describe('the sandbox page as the person’s phone', () => {
  it('picks up, presses 2 (a call back is scheduled) or 1 and leaves the voicemail, declines, hangs up', async () => {
    const context = await browser.newContext({ httpCredentials: { username: acme.credentials.cass.client, password: acme.credentials.cass.token } })
    const page = await context.newPage()
    expect((await page.goto(`${t.url}/sandbox`))?.status()).toBe(200)

    const later = await deflectedCall('+14155550131')
    await act(page, later, 'Pick up')
    expect(await row(page, later).textContent()).toContain('asked to choose')
    await act(page, later, 'Press 2 (schedule a call)')
    expect(await status(page, later)).toBe('deflected')
    expect(await row(page, later).getByRole('button').count()).toBe(0)
    const child = (await t.store.db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', acme.tenant.id).where('parent_num', '=', later).executeTakeFirstOrThrow()).num
    expect(await status(page, child)).toBe('scheduled')

    const message = await deflectedCall('+14155550132')
    await act(page, message, 'Pick up')
    await act(page, message, 'Press 1 (leave a voicemail)')
    expect(await status(page, message)).toBe('voicemail')
    await act(page, message, 'Leave the voicemail')
    expect(await status(page, message)).toBe('voicemail_received')
    expect((await t.services.calls.get(acme.tenant.id, message)).recordingUrl).toMatch(/voicemail\.sandbox\.invalid/)

    const declined = await deflectedCall('+14155550133')
    await act(page, declined, 'Decline')
    expect(await row(page, declined).getByRole('button').count()).toBe(0)
    expect((await t.services.calls.endUserLeg(acme.tenant.id, declined))).toBeUndefined()

    const hungUp = await deflectedCall('+14155550134')
    await act(page, hungUp, 'Pick up')
    await act(page, hungUp, 'Hang up')
    expect(await row(page, hungUp).getByRole('button').count()).toBe(0)
    const ended = await t.services.calls.get(acme.tenant.id, hungUp)
    expect(ended).toMatchObject({ status: 'deflected' })
    expect(ended.endsAt).not.toBeNull()
    await browser.screenshot(page, 'sandbox-calls')

    // A form without the page's token is refused and changes nothing.
    const other = await deflectedCall('+14155550135')
    const forged = await context.request.post(`${t.url}/sandbox/calls/${other}/pick-up`, { form: { csrf: 'forged' } })
    expect(forged.status()).toBe(403)
    expect((await t.services.calls.endUserLeg(acme.tenant.id, other))?.answered).toBe(false)
  })
})
