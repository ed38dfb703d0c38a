import { createServer, type Server } from 'node:http'
import { sql } from 'kysely'
import type { Frame, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { launchBrowser, type TestBrowser } from '../../../test/helpers/browser.ts'
import { openSse } from '../../../test/helpers/sse.ts'
import { contrastRatio } from './contrast.ts'
import { TEST_THREADS } from '../../../test/fixtures/embed-threads.ts'

// The web chat in real Chromium (playwright-core driving Debian's chromium): the embed through a
// branching thread with quick replies, history after a reload, anonymous sessions, keyboard-only
// use, a phone-sized screen, and the popup on another site's page. Screenshots go to test-results/.

let t: TestApp
let acme: TestTenant
let browser: TestBrowser
let hostPage: Server
let hostUrl: string

beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true })
  acme = await createTenant(t.services)
  await t.services.threads.load(acme.tenant, TEST_THREADS, 'yaml')
  browser = await launchBrowser()
  // Another site's page (another origin) with the one-line popup snippet.
  hostPage = createServer((req, res) => {
    const snippet = `<script src="${t.url}/embed/popup.js" data-company="${acme.credentials.cass.client}" data-auth-code="${acme.tenant.embedCode}" data-name="Tess" data-color="6a1b9a" async></script>`
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Clinic</title></head>
<body><h1>Riverside Clinic</h1><p>Opening hours: 9 to 5.</p><a href="#top" id="host-link">A link on the host page</a>
${snippet}</body></html>`)
  })
  await new Promise<void>((resolve) => hostPage.listen(0, '127.0.0.1', resolve))
  hostUrl = `http://127.0.0.1:${(hostPage.address() as { port: number }).port}/`
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await new Promise((r) => hostPage?.close(r))
  await t?.close()
})

const embedApi = () => `/embed/1/${acme.credentials.cass.client}/api`
/** Start an anonymous embed session through the API, as the page does. */
async function startSession(): Promise<{ token: string }> {
  const r = await fetch(`${t.url}${embedApi()}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_code: acme.tenant.embedCode }) })
  expect(r.status).toBe(200)
  return (await r.json()) as { token: string }
}

const embedUrl = (params: Record<string, string> = {}) =>
  `${t.url}/embed/1/${acme.credentials.cass.client}?${new URLSearchParams({ auth_code: acme.tenant.embedCode, name: 'Tess', color: '228fb1', intro: 'Welcome! I would love to get to know you.', ...params })}`

/** Poll until the value matches (for what background workers and the live stream bring). */
const poll = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 15_000, interval: 100 })

/** A property of the element that has the keyboard focus. */
const focused = (page: Page, prop: 'id' | 'textContent' | 'className') =>
  page.evaluate<string | undefined>(`document.activeElement ? document.activeElement[${JSON.stringify(prop)}] : undefined`)

/** The texts of the conversation as shown, in order. */
const shownTexts = (page: Page | Frame) => page.locator('.sb-msg .sb-bubble').evaluateAll((els) => els.map((e) => (e.lastChild?.textContent ?? '').trim()))
const bot = (page: Page | Frame, text: string) => page.locator('.sb-msg.sb-bot .sb-bubble', { hasText: text })

async function people(): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*) AS n FROM people WHERE tenant_id = ${acme.tenant.id}`.execute(t.store.db)
  return Number(r.rows[0]!.n)
}

describe('the embed', () => {
  it('chats through a branching thread with quick replies, and shows the history after a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 480, height: 720 } })
    const page = await context.newPage()
    await page.goto(embedUrl())
    await poll(() => page.locator('.sb-reply').allTextContents()).toEqual(['Good', 'Not great'])
    expect(await shownTexts(page)).toEqual(["Hi there! I'm the test bot.", 'How are you feeling today?'])
    await poll(() => page.locator('#sb-status').textContent()).toBe('Online')
    expect(await page.locator('.sb-title').textContent()).toBe('Tess')
    expect(await page.locator('.sb-intro').textContent()).toBe('Welcome! I would love to get to know you.')
    await browser.screenshot(page, 'embed-opening')

    // The quick reply takes the "Not great" branch.
    await page.getByRole('button', { name: 'Not great' }).click()
    await bot(page, 'What is on your mind?').waitFor()
    expect(await page.locator('.sb-reply').count()).toBe(0)
    await page.getByLabel('Message to Tess').fill('Work has been stressful')
    await page.getByRole('button', { name: 'Send' }).click()
    await bot(page, 'Thank you for telling me.').waitFor()
    const conversation = ["Hi there! I'm the test bot.", 'How are you feeling today?', 'Not great', "I'm sorry to hear that.", 'What is on your mind?', 'Work has been stressful', 'Thank you for telling me.']
    expect(await shownTexts(page)).toEqual(conversation)
    await browser.screenshot(page, 'embed-conversation')

    await page.reload()
    await poll(() => shownTexts(page)).toEqual(conversation)
    expect(await page.locator('.sb-msg.sb-me .sb-bubble').allTextContents()).toEqual(['You said: Not great', 'You said: Work has been stressful'])
    await browser.screenshot(page, 'embed-after-reload')
    await context.close()
  })

  it('keeps an anonymous visitor across reloads, and a fresh browser is someone new', async () => {
    const before = await people()
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(embedUrl())
    await page.getByRole('button', { name: 'Good' }).click()
    await bot(page, 'Want a tip for the day?').waitFor()
    const token = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('switchboard-embed:'))?.[1])
    expect(token).toMatch(/^[0-9a-f-]{36}\./)
    await page.reload()
    await poll(() => shownTexts(page)).toContain('Want a tip for the day?')
    await poll(() => page.locator('.sb-reply').allTextContents()).toEqual(['Yes please', 'No thanks'])
    expect(await people()).toBe(before + 1)

    const fresh = await (await browser.newContext()).newPage()
    await fresh.goto(embedUrl())
    await poll(() => shownTexts(fresh)).toEqual(["Hi there! I'm the test bot.", 'How are you feeling today?'])
    expect(await people()).toBe(before + 2)
    await context.close()
  })

  it('chats as an identified person (personId) and starts the given threadId', async () => {
    const { person } = await t.services.people.create(acme.tenant, { externalId: `browser-${Date.now()}`, protocol: 'web', firstName: 'Jane' })
    const page = await (await browser.newContext()).newPage()
    await page.goto(embedUrl({ personId: person.cassId, threadId: 'other' }))
    await bot(page, 'This is the other thread.').waitFor()
    const transcript = await t.services.bot.transcript(acme.tenant, person.id)
    expect(transcript.map((m) => m.text)).toEqual(['This is the other thread.'])
    // An identified page stores no anonymous token.
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0)
  })

  it('works with the keyboard alone, with labels, a live region and a typing indicator', async () => {
    // An anonymous visitor whose opening messages are already there: made through the embed API,
    // and waited for on its live stream (events, not time), so the page below shows the opening
    // from the history at its first load.
    const { token } = await startSession()
    const opening = await openSse(`${t.url}${embedApi()}/events?${new URLSearchParams({ auth_code: acme.tenant.embedCode, token, after: '0' })}`)
    try {
      expect(opening.status).toBe(200)
      await opening.waitFor(2)
    } finally {
      opening.close()
    }
    const context = await browser.newContext()
    await context.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [`switchboard-embed:${acme.credentials.cass.client}:${acme.tenant.embedCode}`, token])
    const page = await context.newPage()
    // Hold the live stream's request back, so the bot's answer cannot arrive until the test lets
    // it through: the typing indicator must show meanwhile.
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    await page.route('**/api/events**', async (route) => {
      await released
      await route.continue().catch(() => {}) // (the page may be gone when a test failed)
    })
    await page.goto(embedUrl())
    await poll(() => page.locator('.sb-reply').allTextContents()).toEqual(['Good', 'Not great'])
    expect(await page.locator('#sb-log').getAttribute('role')).toBe('log')
    expect(await page.locator('#sb-log').getAttribute('aria-live')).toBe('polite')
    expect(await page.locator('#sb-replies').getAttribute('aria-label')).toBe('Quick replies')
    expect(await page.getByLabel('Message to Tess').count()).toBe(1)

    // Tab order: the conversation, then the quick replies; pressing one keeps the focus in the
    // chat, on the input.
    await page.keyboard.press('Tab')
    expect(await focused(page, 'id')).toBe('sb-log')
    await page.keyboard.press('Tab')
    expect(await focused(page, 'textContent')).toBe('Good')
    await page.keyboard.press('Enter')
    await poll(() => shownTexts(page)).toContain('Good')
    expect(await focused(page, 'id')).toBe('sb-input')
    await poll(() => page.locator('#sb-typing').textContent()).toContain('Tess is typing')

    // The stream goes through: the answer replaces the indicator.
    release()
    await bot(page, 'Want a tip for the day?').waitFor()
    await poll(() => page.locator('#sb-typing').textContent()).toBe('')
    await page.keyboard.type('no')
    await page.keyboard.press('Enter')
    await bot(page, 'Okay, talk soon!').waitFor()
    expect(await page.locator('#sb-input').inputValue()).toBe('')
  })

  it('fits a phone screen (360×640) and keeps text readable on a light brand colour', async () => {
    const page = await (await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })).newPage()
    await page.goto(embedUrl({ color: 'ffeb3b', intro: 'A rather long introduction that has to wrap on a small screen without making the page scroll sideways.' }))
    await poll(() => page.locator('.sb-reply').count()).toBe(2)
    await page.getByRole('button', { name: 'Good' }).tap()
    await bot(page, 'Want a tip for the day?').waitFor()
    // (Expressions as strings: they run in the page, whose DOM types the server's tsconfig lacks.)
    const layout = await page.evaluate<{ scrollWidth: number; composerBottom: number; sendHeight: number; replyHeight: number }>(`({
      scrollWidth: document.documentElement.scrollWidth,
      composerBottom: document.querySelector('.sb-composer').getBoundingClientRect().bottom,
      sendHeight: document.querySelector('.sb-send').getBoundingClientRect().height,
      replyHeight: document.querySelector('.sb-reply').getBoundingClientRect().height,
    })`)
    expect(layout.scrollWidth).toBeLessThanOrEqual(360)
    expect(layout.composerBottom).toBeLessThanOrEqual(640)
    expect(layout.sendHeight).toBeGreaterThanOrEqual(44)
    expect(layout.replyHeight).toBeGreaterThanOrEqual(44)
    const colours = await page.evaluate<Record<string, [string, string]>>(`(() => {
      const hex = (c) => c.match(/\\d+/g).slice(0, 3).map((n) => Number(n).toString(16).padStart(2, '0')).join('')
      const of = (sel) => { const s = getComputedStyle(document.querySelector(sel)); return [hex(s.color), hex(s.backgroundColor)] }
      return { me: of('.sb-me .sb-bubble'), reply: of('.sb-reply'), header: of('.sb-header'), bot: of('.sb-bot .sb-bubble') }
    })()`)
    for (const [fg, bg] of Object.values(colours)) expect(contrastRatio(fg!, bg!)).toBeGreaterThanOrEqual(4.5)
    await browser.screenshot(page, 'embed-phone-360x640')
  })
})

describe('the popup', () => {
  it('opens the chat over another site’s page from the one-line snippet, chats, and closes with Escape', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage()
    await page.goto(hostUrl)
    const launcher = page.getByRole('button', { name: 'Open chat with Tess' })
    await launcher.waitFor()
    expect(await launcher.getAttribute('aria-expanded')).toBe('false')
    await launcher.click()
    expect(await page.getByRole('button', { name: 'Close chat with Tess' }).getAttribute('aria-expanded')).toBe('true')
    const frame = page.frameLocator('iframe[title="Chat with Tess"]')
    await frame.getByRole('button', { name: 'Good' }).click()
    await frame.locator('.sb-msg.sb-bot .sb-bubble', { hasText: 'Want a tip for the day?' }).waitFor()
    await browser.screenshot(page, 'popup-open')
    // Escape inside the chat closes the popup and gives the focus back to the launcher.
    await frame.getByLabel('Message to Tess').press('Escape')
    await poll(() => page.locator('#switchboard-chat-panel').isHidden()).toBe(true)
    expect(await focused(page, 'className')).toBe('switchboard-launcher')
    // Open again: the same conversation.
    await launcher.click()
    await frame.locator('.sb-msg.sb-bot .sb-bubble', { hasText: 'Want a tip for the day?' }).waitFor()
    await frame.getByRole('button', { name: 'Close chat' }).click()
    await poll(() => page.locator('#switchboard-chat-panel').isHidden()).toBe(true)
  })

  it('takes the whole screen on a phone', async () => {
    const page = await (await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })).newPage()
    await page.goto(hostUrl)
    await page.getByRole('button', { name: 'Open chat with Tess' }).tap()
    const frame = page.frameLocator('iframe[title="Chat with Tess"]')
    await frame.getByRole('button', { name: 'Good' }).waitFor()
    const box = await page.locator('#switchboard-chat-panel').boundingBox()
    expect(box).toMatchObject({ x: 0, y: 0, width: 360, height: 640 })
    await browser.screenshot(page, 'popup-phone-360x640')
  })
})
