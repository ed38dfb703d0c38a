import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'

// The /sandbox page in real Chromium: Basic credentials from the browser, a test message sent
// through the form, an answer as the person, both shown.

let t: TestApp
let acme: TestTenant
let browser: TestBrowser

beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true })
  acme = await createTenant(t.services)
  browser = await launchBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

describe('the sandbox page', () => {
  it('logs in with the tenant’s Cass credentials, sends a test message, answers as the person and shows both', async () => {
    const context = await browser.newContext({ httpCredentials: { username: acme.credentials.cass.client, password: acme.credentials.cass.token } })
    const page = await context.newPage()
    const response = await page.goto(`${t.url}/sandbox`)
    expect(response?.status()).toBe(200)
    await page.getByRole('heading', { name: 'Sandbox' }).waitFor()
    const phone = uniquePhone()
    await page.locator('#send-channel').selectOption('sms')
    await page.locator('#send-to').fill(phone)
    await page.locator('#send-body').fill('Your appointment is tomorrow at 10:00.')
    await page.getByRole('button', { name: 'Queue message' }).click()
    const row = page.locator('section[aria-labelledby="outbox-title"] tbody tr', { hasText: 'Your appointment is tomorrow at 10:00.' })
    await row.waitFor()
    // The sandbox provider sends it; the page shows the status on a reload.
    await expect.poll(async () => {
      await page.reload()
      return row.locator('.status').textContent()
    }, { timeout: 15_000, interval: 300 }).toBe('sent')

    await row.getByLabel(`Reply as ${phone}`).fill('Thanks, see you then')
    await row.getByRole('button', { name: 'Send reply' }).click()
    const received = page.locator('section[aria-labelledby="inbound-title"] tbody tr', { hasText: 'Thanks, see you then' })
    await received.waitFor()
    expect(await received.textContent()).toContain(phone)
    expect(await page.locator('section[aria-labelledby="outbox-title"]').textContent()).toContain('Your appointment is tomorrow at 10:00.')
    await browser.screenshot(page, 'sandbox-page')

    // Without credentials the browser is asked for them (401 with a Basic challenge).
    const anonymous = await browser.newContext()
    const refused = await anonymous.request.get(`${t.url}/sandbox`)
    expect(refused.status()).toBe(401)
    expect(refused.headers()['www-authenticate']).toMatch(/^Basic /)
  })
})
