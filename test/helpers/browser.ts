import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'

/** Debian's chromium (`.ci/run` installs it). */
export const CHROMIUM = process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium'
/** Where screenshots go (gitignored): test artifacts. */
export const ARTIFACTS = join(process.cwd(), 'test-results')

export interface TestBrowser {
  browser: Browser
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>
  /** Save a full-page screenshot as `test-results/<name>.png`. */
  screenshot(page: Page, name: string): Promise<string>
  close(): Promise<void>
}

/**
 * A headless Chromium. Playwright gives every launch a fresh `--user-data-dir` of its own (it
 * refuses one in `args`), and every context is a fresh profile on top. Pages may only reach the
 * loopback interface: outbound network is blocked in tests.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  })
  const contexts: BrowserContext[] = []
  return {
    browser,
    async newContext(options = {}) {
      const context = await browser.newContext(options)
      await context.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol !== 'data:', (route) => route.abort())
      contexts.push(context)
      return context
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {})
      await browser.close()
    },
  }
}
