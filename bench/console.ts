// The web console's weight and speed: `node bench/console.ts` (run by `npm run bench` when
// BENCH_SCENARIOS includes `console`). Goals of issue 11, reported, never asserted:
//   1. the built bundle (web/console/dist: every JS and CSS file, gzip level 9) ≤ 250 KB;
//   2. the people page's first render in Chromium ≤ 1 s on this machine, the server on the
//      embedded store: from `page.goto('/console/people')` (a signed-in session, a fresh load of
//      the page and its assets, no cache) until the first row of the people list is in the DOM.
//      Measured BENCH_CONSOLE_LOADS (10) times after one unmeasured load; median and worst. The
//      browser's first-contentful-paint is reported too.
//
// The server is `node src/main.ts serve` on a fresh data directory (removed afterwards); the
// tenant is made by `tenant create`, whose console owner signs in. Needs the console built
// (`npm install` or `npm run build:console`) and Chromium at SWITCHBOARD_CHROMIUM (/usr/bin/chromium).
// Output: a markdown table, the goal lines, and a last line `JSON {…}` with the figures.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { intEnv, ROOT, startChild, stopChild } from './children.ts'

export const GOALS = { bundleKb: 250, firstRenderMs: 1000 } as const
const LOADS = intEnv('BENCH_CONSOLE_LOADS', 10)
const DIST = join(ROOT, 'web', 'console', 'dist')
const log = (m: string) => process.stderr.write(`[bench:console] ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every built JS and CSS file's gzipped size (bytes). */
function bundle(): { files: Array<{ file: string; bytes: number; gzip: number }>; gzipKb: number; jsGzipKb: number } {
  const dir = join(DIST, 'assets')
  const files = readdirSync(dir).filter((f) => /\.(js|css)$/.test(f)).map((file) => {
    const bytes = readFileSync(join(dir, file))
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }
  })
  const kb = (n: number) => Math.round(n / 102.4) / 10
  return { files, gzipKb: kb(files.reduce((s, f) => s + f.gzip, 0)), jsGzipKb: kb(files.filter((f) => f.file.endsWith('.js')).reduce((s, f) => s + f.gzip, 0)) }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main() {
  const size = bundle()
  log(`bundle: ${size.gzipKb} KB gzipped (${size.files.length} files)`)
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-console-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ,
    PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SWITCHBOARD_DATA_DIR: dataDir, NODE_ENV: 'production',
  }
  const server = startChild('switchboard (embedded)', ['src/main.ts', 'serve'], env)
  const browser = await chromium.launch({ executablePath: process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
  try {
    for (let i = 0; ; i++) {
      if (server.proc.exitCode !== null) throw new Error(`the server exited:\n${server.output()}`)
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break
      if (i > 450) throw new Error(`the server was not ready:\n${server.output()}`)
      await sleep(200)
    }
    const made = spawnSync(process.execPath, ['src/main.ts', 'tenant', 'create', '--name', `bench console ${Date.now()}`, '--json'], { cwd: ROOT, env, encoding: 'utf8' })
    if (made.status !== 0) throw new Error(`tenant create failed: ${made.stderr}`)
    const tenant = JSON.parse(made.stdout) as Json
    const auth = 'Basic ' + Buffer.from(`${tenant.cass.client}:${tenant.cass.token}`).toString('base64')
    const create = async (body: Json) => {
      const r = await fetch(`${base}/external_person`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      if (!r.ok) throw new Error(`POST /external_person: ${r.status} ${await r.text()}`)
      return ((await r.json()) as Json).person_id as string
    }
    log('creating 100 people')
    for (let i = 0; i < 100; i++) await create({ phone: `+1415555${String(1000 + i).padStart(4, '0')}`, first_name: `Person${i}`, last_name: `Bench${i}` })
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    await page.goto(`${base}/console`)
    await page.getByLabel('Email').fill(tenant.console.email)
    await page.getByLabel('Password').fill(tenant.console.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'People' }).waitFor()

    const timeLoads = async (url: string, ready: () => Promise<unknown>) => {
      const times: number[] = []
      const paints: number[] = []
      const client = await context.newCDPSession(page)
      for (let i = 0; i <= LOADS; i++) {
        await client.send('Network.clearBrowserCache')
        const t0 = performance.now()
        await page.goto(url)
        await ready()
        const ms = performance.now() - t0
        const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1)
        if (i > 0) {
          times.push(Math.round(ms))
          paints.push(Math.round(fcp))
        }
      }
      return { medianMs: median(times), maxMs: Math.max(...times), fcpMedianMs: median(paints), loads: times.length }
    }
    log(`timing the people page (${LOADS} loads)`)
    const people = await timeLoads(`${base}/console/people`, () => page.locator('table.list tbody tr').first().waitFor())

    // The supervisor view (issue 11, item 4): its page until the queue table has a row; the chart chunk is loaded only there.
    log(`timing the supervisor page (${LOADS} loads)`)
    const supervisor = await timeLoads(`${base}/console/supervisor`, () => page.locator('#queues tbody tr').first().waitFor())
    const lazyKb = Math.round(size.files.filter((f) => f.file.startsWith('supervisor-charts')).reduce((s, f) => s + f.gzip, 0) / 102.4) / 10

    const figures = { bundle: size, people, supervisor, lazyChartsKb: lazyKb, goals: GOALS }
    const lines = [
      '| Console | Figure | Goal |', '|---|---|---|',
      `| bundle (JS + CSS, gzip -9) | ${size.gzipKb} KB (JS ${size.jsGzipKb} KB) | ≤ ${GOALS.bundleKb} KB |`,
      `| people page, first render (median / worst of ${people.loads}) | ${people.medianMs} / ${people.maxMs} ms (first contentful paint ${people.fcpMedianMs} ms) | ≤ ${GOALS.firstRenderMs} ms |`,
      `| of the bundle, the supervisor page's lazy chart chunk (uPlot) | ${lazyKb} KB; the rest, ${Math.round((size.gzipKb - lazyKb) * 10) / 10} KB, is all other pages load | ≤ ${GOALS.bundleKb} KB |`,
      `| supervisor page, first render (median / worst of ${supervisor.loads}) | ${supervisor.medianMs} / ${supervisor.maxMs} ms | ≤ ${GOALS.firstRenderMs} ms |`,
    ]
    process.stdout.write(`${lines.join('\n')}\n\n`)
    process.stdout.write(`${size.gzipKb <= GOALS.bundleKb ? 'MET' : 'MISSED'}: bundle ${size.gzipKb} KB ≤ ${GOALS.bundleKb} KB\n`)
    process.stdout.write(`${people.medianMs <= GOALS.firstRenderMs ? 'MET' : 'MISSED'}: people page first render ${people.medianMs} ms ≤ ${GOALS.firstRenderMs} ms\n`)
    process.stdout.write(`JSON ${JSON.stringify(figures)}\n`)
  } finally {
    await browser.close()
    await stopChild(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
