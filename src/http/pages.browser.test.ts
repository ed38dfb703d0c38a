import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../test/helpers/browser.ts'

// The HTML pages' security headers in real Chromium: the landing page, the docs and the sandbox
// work under their Content-Security-Policy (nothing they need is blocked) and refuse framing.

let t: TestApp
let acme: TestTenant
let browser: TestBrowser

beforeAll(async () => {
  t = await startTestApp({ listen: true })
  acme = await createTenant(t.services)
  browser = await launchBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

describe('HTML pages under their security headers', () => {
  it('render with nothing blocked, and cannot be framed by another page', async () => {
    const context = await browser.newContext({ httpCredentials: { username: acme.credentials.cass.client, password: acme.credentials.cass.token } })
    const page = await context.newPage()
    const violations: string[] = []
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`)
    })

    await page.goto(`${t.url}/`)
    await page.getByRole('heading', { name: 'Switchboard' }).waitFor()
    // The inline style applied (the CSP allows it by hash): the body is centred in a narrow column.
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).not.toBe('none')

    await page.getByRole('link', { name: 'API documentation' }).click()
    // Swagger UI's scripts ran and drew the Cass document's operations.
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 })

    await page.goto(`${t.url}/sandbox`)
    await page.getByRole('heading', { name: 'Sandbox' }).waitFor()
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).not.toBe('none')

    expect(violations).toEqual([])

    // Another origin (the same server by another name) cannot frame the pages: the frames stay
    // without their documents. A frame of the same page from a site allowed to frame it (none) would show its heading.
    const framer = `http://localhost:${new URL(t.url).port}`
    await page.route(`${framer}/framer.html`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<iframe src="${t.url}/"></iframe><iframe src="${t.url}/sandbox"></iframe><iframe src="${t.url}/docs/"></iframe>`,
    }))
    await page.goto(`${framer}/framer.html`, { waitUntil: 'load' })
    const frames = page.frames().slice(1)
    expect(frames).toHaveLength(3)
    for (const frame of frames) {
      const readable = await frame.evaluate<string>('document.body ? document.body.innerText : ""').catch(() => '')
      expect(readable, frame.url()).not.toMatch(/Switchboard|Sandbox|swagger/i)
    }
    await context.close()
  }, 60_000)
})
