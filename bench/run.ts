// `npm run bench`: autocannon against create, get and patch of a person and against a bare Fastify
// route in the same run, on the embedded store and, when DATABASE_URL is set, on PostgreSQL.
//
// Every server under test runs in its own child process (`node src/main.ts api`, and
// bench/bare-server.ts for the baseline); autocannon runs here, so the load generator never shares
// an event loop with the server it measures. Results: a markdown table per store on stdout and
// JSON in bench/results/latest.json.
//
// Environment:
//   DATABASE_URL        also run on this PostgreSQL server (a fresh database is created and dropped)
//   BENCH_DURATION      seconds measured per scenario (10)
//   BENCH_WARMUP        seconds of unmeasured warm-up before each scenario (2)
//   BENCH_CONNECTIONS   concurrent connections (50)
//   BENCH_PEOPLE        people created up front for the GET and PATCH scenarios (1000)
//   BENCH_PORT          first of the loopback ports used (18300; uses the next few too)
//   BENCH_STORES        comma-separated subset of `embedded,postgres` (both, postgres only with DATABASE_URL)
//   BENCH_ROLE          the server role to start: `api` (default) or `serve`
//   BENCH_SCENARIOS     comma-separated subset of `bare,bare-pg,raw,create,get,patch,checkins,ping,delivery,contact-center,messaging,dnc,console,voice,multicast,apns` (all; `delivery`
//                       runs bench/delivery.ts on PostgreSQL only, see there; `contact-center` runs
//                       bench/contact-center.ts (2 api + 2 worker processes, 200 chats, 20 agents) on
//                       PostgreSQL only, see there; `messaging` runs bench/messaging.ts (directory import, bulk
//                       message, messages and channels over HTTP against its own bare route) on PostgreSQL
//                       only, see there; `dnc` runs bench/dnc.ts (1,000,000 DNC entries, the D3 check's
//                       p99) on PostgreSQL only; `voice` runs bench/voice.ts (K3 import of 100,000 campaign
//                       contacts, RSS sampled), bench/voice-dialer.ts (a predictive campaign of 2,000
//                       contacts, 20 agents, time compressed) and bench/voice-scheduled.ts (500 C4 calls due
//                       together, two job workers) on PostgreSQL only (BENCH_VOICE_PARTS: `import,dialer,scheduled`); `console` runs bench/console.ts (the console bundle's gzipped
//                       size and the people page's first render in Chromium, embedded store), see there;
//                       `multicast` runs bench/multicast.ts (one templated multicast to
//                       BENCH_MC_RECIPIENTS, 100,000, and a kill -9 of its worker halfway) on PostgreSQL only;
//                       `apns` runs bench/apns.ts (BENCH_APNS_PUSHES pushes through the APNs adapter to the
//                       local HTTP/2 peer in its own process, pushes/s; no database);
//                       with only these selected no store is benched; the ratio needs
//                       bare; bare-pg, bare Fastify plus one pg query, runs on PostgreSQL only;
//                       raw, the database's own single-row insert and update rate with the same
//                       number of clients (bench/raw-insert.ts), runs on PostgreSQL only, right
//                       before create, and create and patch are reported as a share of it)
//   BENCH_SERVER_ENTRY  the script started as the server under test (src/main.ts, run as `<entry> <role>`);
//                       for trying a variant of the server without changing src/
//   BENCH_SERVER_ENV    extra `NAME=value` pairs (space-separated) for the server under test
//   BENCH_NODE_ARGS     extra node flags for the server under test, e.g. `--cpu-prof --cpu-prof-dir=/tmp/bench-prof`
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { intEnv, startChild as startBenchChild, stopChild, type Child } from './children.ts'
import { benchCheckins, benchPing, type CheckinFigures, type PingFigures } from './checkins.ts'
import type { Figures as ContactCenterFigures } from './contact-center-figures.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json')


const DURATION = intEnv('BENCH_DURATION', 10)
const WARMUP = intEnv('BENCH_WARMUP', 2, 0)
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50)
const PEOPLE = intEnv('BENCH_PEOPLE', 1000)
const PORT_BASE = intEnv('BENCH_PORT', 18300)
const ROLE = process.env.BENCH_ROLE === 'serve' ? 'serve' : 'api'
const SERVER_ENTRY = process.env.BENCH_SERVER_ENTRY || 'src/main.ts'
const SERVER_ENV = Object.fromEntries((process.env.BENCH_SERVER_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => {
  const eq = kv.indexOf('=')
  if (eq < 1) throw new Error(`BENCH_SERVER_ENV: expected NAME=value, got "${kv}"`)
  return [kv.slice(0, eq), kv.slice(eq + 1)]
}))
const SERVER_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
const DATABASE_URL = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '' ? process.env.DATABASE_URL : undefined
const STORES = (process.env.BENCH_STORES ?? 'embedded,postgres').split(',').map((s) => s.trim())
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'bare,bare-pg,raw,create,get,patch,checkins,ping,delivery,contact-center,messaging,dnc,console,voice,multicast,apns').split(',').map((s) => s.trim())
/** Scenarios that start their own databases and processes (PostgreSQL only), run after the stores. */
const STANDALONE_SCENARIOS = ['delivery', 'contact-center', 'messaging', 'dnc', 'console', 'voice', 'multicast', 'apns']
/** Whether anything per store (the API scenarios, the bot's) is selected. */
const STORE_SCENARIOS = SCENARIOS.some((s) => !STANDALONE_SCENARIOS.includes(s))
/** The bot's scenarios (bench/checkins.ts), run on PostgreSQL only. */
const BOT_SCENARIOS = ['checkins', 'ping']

/** The PostgreSQL goal of the issue: GET external_person ≥ 40 % of bare req/s with p99 ≤ 25 ms. */
const GOAL = { scenario: 'GET /external_person/{uuid}', minRatio: 0.4, maxP99: 25 }
/** The write goal (issue 7.13): create and patch ≥ 50 % of the raw single-row insert rate, p99 ≤ 40 ms. */
const WRITE_GOAL = { scenarios: ['POST /external_person', 'PATCH /external_person/{uuid}'], minRatio: 0.5, maxP99: 40 }
const RAW_INSERT = 'raw INSERT, one row per statement (pg, no HTTP)'
const RAW_UPDATE = 'raw UPDATE by id, one row per statement (pg, no HTTP)'

// ---------------------------------------------------------------------------------------------
// Child processes and cleanup


const children = new Set<Child>()
const cleanups: Array<() => Promise<void> | void> = []

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = startBenchChild(name, args, env, 8000)
  children.add(child)
  child.proc.once('exit', () => children.delete(child))
  return child
}


/** Run a node script to completion and return its stdout; throws with its output on failure. */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
    proc.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')))
    proc.once('error', reject)
    proc.once('exit', (code) => {
      if (code === 0) resolve(out)
      else reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${err || out}`))
    })
  })
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

let nextPort = PORT_BASE
async function freePort(): Promise<number> {
  for (; nextPort < PORT_BASE + 100; nextPort++) {
    if (await portFree(nextPort)) return nextPort++
  }
  throw new Error(`no free port in ${PORT_BASE}-${PORT_BASE + 99}`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Poll `url` until it answers 2xx; fail early when the child exits. */
async function waitReady(child: Child, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode} before it was ready:\n${child.output()}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(`${child.name} was not ready at ${url} after ${timeoutMs / 1000} s:\n${child.output()}`)
}

// ---------------------------------------------------------------------------------------------
// Load

interface Row {
  scenario: string
  reqPerSec: number
  p50: number
  p99: number
  ratio: number | null
  /** req/s as a share of the raw single-row insert rate of the same run (writes only). */
  rawRatio?: number | null
  requests: number
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  valid: boolean
}

interface Target {
  key: 'bare' | 'bare-pg' | 'create' | 'get' | 'patch'
  scenario: string
  url: string
  method: 'GET' | 'POST' | 'PATCH'
  headers?: Record<string, string>
  /** Builds the varying part of each request. */
  next?: () => { path?: string; body?: string }
}

/** One request of the scenario with fetch, so a broken scenario fails loudly before it is loaded. */
async function smokeTest(t: Target): Promise<void> {
  const v = t.next?.() ?? {}
  const url = new URL(v.path ?? new URL(t.url).pathname, t.url)
  const res = await fetch(url, { method: t.method, headers: t.headers, body: v.body })
  const text = await res.text()
  if (!res.ok) throw new Error(`${t.scenario}: smoke request answered ${res.status}: ${text.slice(0, 300)}`)
}

async function load(t: Target): Promise<Row> {
  await smokeTest(t)
  const next = t.next
  const result = await autocannon({
    url: t.url,
    title: t.scenario,
    connections: CONNECTIONS,
    duration: DURATION,
    method: t.method,
    headers: t.headers ?? {},
    requests: [next ? { setupRequest: (req) => ({ ...req, ...next() }) } : {}],
    ...(WARMUP > 0 ? { warmup: { connections: CONNECTIONS, duration: WARMUP } } : {}),
  })
  const statusCodes: Record<string, number> = {}
  for (const [code, s] of Object.entries(result.statusCodeStats)) statusCodes[code] = s.count
  const errors = result.errors + result.timeouts
  const requests = result.requests.total
  return {
    scenario: t.scenario,
    // Completed responses per second over the whole measured window (not counting failures).
    reqPerSec: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ratio: null,
    requests,
    non2xx: result.non2xx,
    errors,
    statusCodes,
    valid: result.non2xx === 0 && errors === 0 && requests > 0,
  }
}

// ---------------------------------------------------------------------------------------------
// Data

/** Unique, valid US numbers (+1 415 2xx-xxxx) and external ids for every person the run creates. */
let serial = 0
function nextIdentity(): { phone: string; externalId: string } {
  serial++
  if (serial >= 7_999_999) throw new Error('ran out of unique phone numbers')
  return { phone: '+1415' + String(2_000_000 + serial), externalId: `bench-${serial}` }
}

function personBody(): string {
  const { phone, externalId } = nextIdentity()
  return JSON.stringify({ first_name: 'Bench', last_name: `Person ${serial}`, phone, external_id: externalId })
}

async function createPeople(base: string, auth: string, count: number, concurrency: number): Promise<string[]> {
  const ids: string[] = []
  let left = count
  const worker = async () => {
    while (left > 0) {
      left--
      const res = await fetch(`${base}/external_person`, {
        method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: personBody(),
      })
      const body = (await res.json()) as { person_id?: string; message?: string }
      if (res.status !== 200 || typeof body.person_id !== 'string') throw new Error(`creating a person answered ${res.status}: ${JSON.stringify(body)}`)
      ids.push(body.person_id)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return ids
}

// ---------------------------------------------------------------------------------------------
// Stores

interface StoreRun {
  store: 'embedded' | 'postgres'
  rows: Row[]
  goal?: { met: boolean; text: string }
  writeGoal?: { met: boolean; text: string }
  /** The bot's figures (check-in burst, synchronous ping), PostgreSQL only. */
  bot?: Array<CheckinFigures | PingFigures>
}

async function createBenchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `switchboard_bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return
      dropped = true
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

async function benchStore(store: StoreRun['store'], bareUrl: string): Promise<StoreRun> {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${store}-`))
  let db: { url: string; drop: () => Promise<void> } | undefined
  let server: Child | undefined
  let barePg: Child | undefined
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true })
  cleanups.push(removeDir)
  try {
    if (store === 'postgres') {
      db = await createBenchDatabase(DATABASE_URL!)
      cleanups.push(db.drop)
      log(`postgres: created database ${new URL(db.url).pathname.slice(1)}`)
    }
    const port = await freePort()
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ,
      PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SWITCHBOARD_DATA_DIR: dataDir,
      NODE_ENV: 'production',
      ...(db ? { DATABASE_URL: db.url } : {}),
    }
    log(`${store}: starting \`node ${SERVER_ENTRY} ${ROLE}\` on port ${port}`)
    server = startChild(`switchboard (${store})`, [...SERVER_NODE_ARGS, SERVER_ENTRY, ROLE], { ...env, ...SERVER_ENV })
    const base = `http://127.0.0.1:${port}`
    await waitReady(server, `${base}/readyz`)

    const out = await runNode(['src/main.ts', 'tenant', 'create', '--name', `bench ${store}`, '--json'], env)
    const creds = JSON.parse(out.trim().split('\n').pop()!) as { id: string; cass: { client: string; token: string } }
    const auth = 'Basic ' + Buffer.from(`${creds.cass.client}:${creds.cass.token}`).toString('base64')

    log(`${store}: creating ${PEOPLE} people for the GET and PATCH scenarios`)
    // One at a time on the embedded store: this is setup, not measurement, and concurrent queries over
    // pglite-socket can fail (see the embedded section of bench/README.md).
    const ids = await createPeople(base, auth, PEOPLE, store === 'embedded' ? 1 : 16)
    let g = 0
    let p = 0
    let b = 0
    let barePgUrl: string | undefined
    if (db && SCENARIOS.includes('bare-pg')) {
      const barePgPort = await freePort()
      barePg = startChild('bare Fastify + pg', ['bench/bare-server.ts'], {
        PATH: process.env.PATH, PORT: String(barePgPort), NODE_ENV: 'production', BARE_DATABASE_URL: db.url,
      })
      barePgUrl = `http://127.0.0.1:${barePgPort}`
      await waitReady(barePg, `${barePgUrl}/bare`)
    }
    const json = { authorization: auth, 'content-type': 'application/json' }

    const targets: Target[] = [
      { key: 'bare', scenario: 'GET /bare (bare Fastify)', url: bareUrl, method: 'GET' },
      ...(barePgUrl ? [{
        key: 'bare-pg' as const, scenario: 'GET /bare-pg/{uuid} (reference: bare + 1 query)', url: `${barePgUrl}/bare-pg/${ids[0]}`, method: 'GET' as const,
        next: () => ({ path: `/bare-pg/${ids[b++ % ids.length]}` }),
      }] : []),
      { key: 'create', scenario: 'POST /external_person', url: `${base}/external_person`, method: 'POST', headers: json, next: () => ({ body: personBody() }) },
      {
        key: 'get', scenario: GOAL.scenario, url: `${base}/external_person/${ids[0]}`, method: 'GET', headers: { authorization: auth },
        next: () => ({ path: `/external_person/${ids[g++ % ids.length]}` }),
      },
      {
        key: 'patch', scenario: 'PATCH /external_person/{uuid}', url: `${base}/external_person/${ids[0]}`, method: 'PATCH', headers: json,
        next: () => {
          const n = p++
          return { path: `/external_person/${ids[n % ids.length]}`, body: JSON.stringify({ first_name: `Renamed ${n}` }) }
        },
      },
    ]
    const rows: Row[] = []
    for (const t of targets.filter((x) => SCENARIOS.includes(x.key))) {
      // The database's own write rate, measured right before the writes through the API.
      if (t.key === 'create' && db && SCENARIOS.includes('raw')) rows.push(...(await rawBaseline(db.url, store)))
      log(`${store}: ${t.scenario} — ${WARMUP} s warm-up + ${DURATION} s at ${CONNECTIONS} connections`)
      const row = await load(t)
      log(`${store}: ${t.scenario}: ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms${row.valid ? '' : ` — FAILED (${describeFailures(row)})`}`)
      rows.push(row)
    }
    if (db && SCENARIOS.includes('raw') && !rows.some((r) => r.scenario === RAW_INSERT)) rows.push(...(await rawBaseline(db.url, store)))
    const bare = rows.find((r) => r.scenario === targets[0]!.scenario)
    for (const r of rows) r.ratio = bare && bare.reqPerSec > 0 ? r.reqPerSec / bare.reqPerSec : null
    const raw = rows.find((r) => r.scenario === RAW_INSERT)
    for (const r of rows) if (raw && raw.reqPerSec > 0 && (WRITE_GOAL.scenarios.includes(r.scenario) || r.scenario === RAW_UPDATE)) r.rawRatio = r.reqPerSec / raw.reqPerSec

    const run: StoreRun = { store, rows }
    if (store === 'postgres') run.goal = judgeGoal(rows)
    if (store === 'postgres' && raw) run.writeGoal = judgeWriteGoal(rows)
    const bot = BOT_SCENARIOS.filter((k) => SCENARIOS.includes(k))
    if (bot.length > 0 && store === 'postgres' && db) {
      const ctx = {
        databaseUrl: db.url, base, auth, tenantId: creds.id, env, log, freePort, startChild, stopChild,
        waitReady: (c: Child, url: string) => waitReady(c, url),
        createPeople: (count: number, concurrency: number) => createPeople(base, auth, count, concurrency),
      }
      run.bot = []
      if (bot.includes('checkins')) run.bot.push(await benchCheckins(ctx))
      if (bot.includes('ping')) run.bot.push(await benchPing(ctx, { duration: DURATION, warmup: WARMUP }))
      for (const f of run.bot) log(`${store}: ${f.text}`)
    } else if (bot.length > 0 && store === 'embedded') log(`embedded: the bot scenarios (${bot.join(', ')}) run on PostgreSQL only`)
    return run
  } catch (err) {
    if (server) log(`${store}: the server's last output:\n${server.output()}`)
    throw err
  } finally {
    if (barePg) await stopChild(barePg)
    if (server) {
      await stopChild(server)
      if (server.proc.exitCode !== 0 && server.proc.exitCode !== null) log(`${store}: server exited with ${server.proc.exitCode}:\n${server.output()}`)
    }
    if (db) await db.drop().catch((err: unknown) => log(`could not drop the bench database: ${(err as Error).message}`))
    removeDir()
  }
}

/** Run bench/raw-insert.ts against the bench database: its insert and update rows for the table. */
async function rawBaseline(url: string, store: string): Promise<Row[]> {
  log(`${store}: raw single-row INSERT and UPDATE baseline — ${CONNECTIONS} pg clients, ${WARMUP} s warm-up + ${DURATION} s each`)
  const out = await runNode(['bench/raw-insert.ts'], {
    PATH: process.env.PATH, RAW_DATABASE_URL: url, RAW_CONNECTIONS: String(CONNECTIONS), RAW_DURATION: String(DURATION), RAW_WARMUP: String(WARMUP),
  })
  const figures = JSON.parse(out.trim().split('\n').pop()!) as Record<'insert' | 'update', { tps: number; p50: number; p99: number; count: number }>
  const row = (scenario: string, f: { tps: number; p50: number; p99: number; count: number }): Row => ({
    scenario, reqPerSec: f.tps, p50: f.p50, p99: f.p99, ratio: null, requests: f.count, non2xx: 0, errors: 0, statusCodes: {}, valid: f.count > 0,
  })
  const rows = [row(RAW_INSERT, figures.insert), row(RAW_UPDATE, figures.update)]
  for (const r of rows) log(`${store}: ${r.scenario}: ${r.reqPerSec.toFixed(0)}/s, p50 ${r.p50} ms, p99 ${r.p99} ms`)
  return rows
}

function judgeWriteGoal(rows: Row[]): { met: boolean; text: string } {
  const parts: string[] = []
  let met = true
  for (const scenario of WRITE_GOAL.scenarios) {
    const r = rows.find((x) => x.scenario === scenario)
    if (!r || r.rawRatio === undefined || r.rawRatio === null) {
      met = false
      parts.push(`${scenario} not measured`)
      continue
    }
    const ratioOk = r.rawRatio >= WRITE_GOAL.minRatio
    const p99Ok = r.p99 <= WRITE_GOAL.maxP99
    met &&= ratioOk && p99Ok && r.valid
    parts.push(`${scenario.split(' ')[0]} ${(r.rawRatio * 100).toFixed(0)} % (${ratioOk ? 'ok' : 'too low'}), p99 ${r.p99} ms (${p99Ok ? 'ok' : 'too high'})`)
  }
  return {
    met,
    text: `Write goal (create and patch ≥ ${WRITE_GOAL.minRatio * 100} % of the raw single-row INSERT rate and p99 ≤ ${WRITE_GOAL.maxP99} ms at ${CONNECTIONS} connections): ` +
      `${met ? 'MET' : 'NOT MET'} — ${parts.join('; ')}`,
  }
}

function judgeGoal(rows: Row[]): { met: boolean; text: string } {
  const get = rows.find((r) => r.scenario === GOAL.scenario)
  if (!get) return { met: false, text: 'not measured' }
  const ratioOk = get.ratio !== null && get.ratio >= GOAL.minRatio
  const p99Ok = get.p99 <= GOAL.maxP99
  const met = get.valid && ratioOk && p99Ok
  const pct = get.ratio === null ? 'n/a' : `${(get.ratio * 100).toFixed(0)} %`
  return {
    met,
    text: `PostgreSQL goal (GET ≥ ${GOAL.minRatio * 100} % of bare req/s and p99 ≤ ${GOAL.maxP99} ms at ${CONNECTIONS} connections): ` +
      `${met ? 'MET' : 'NOT MET'} — ${pct} of bare (${ratioOk ? 'ok' : 'too low'}), p99 ${get.p99} ms (${p99Ok ? 'ok' : 'too high'})` +
      (get.valid ? '' : ', and some requests failed'),
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function describeFailures(r: Row): string {
  const codes = Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`)
  if (r.errors > 0) codes.push(`errors/timeouts×${r.errors}`)
  return codes.join(', ') || 'no requests completed'
}

function table(run: StoreRun): string {
  const lines = [
    `### ${run.store === 'embedded' ? 'Embedded store (PGlite)' : 'PostgreSQL'}`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | ratio to bare | ratio to raw insert | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of run.rows) {
    const failed = r.valid ? String(r.non2xx) : `**${r.non2xx + r.errors}** (${describeFailures(r)})`
    const ratio = r.ratio === null ? 'n/a' : `${(r.ratio * 100).toFixed(0)} %`
    const rawRatio = r.rawRatio === undefined || r.rawRatio === null ? '' : `${(r.rawRatio * 100).toFixed(0)} %`
    lines.push(`| ${r.scenario} | ${r.reqPerSec.toFixed(0)} | ${r.p50} | ${r.p99} | ${ratio} | ${rawRatio} | ${failed} |`)
  }
  if (run.goal) lines.push('', run.goal.text)
  if (run.writeGoal) lines.push('', run.writeGoal.text)
  for (const f of run.bot ?? []) lines.push('', f.text)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 22) throw new Error(`the bench needs Node ≥ 22 (this is ${process.version}); run it with \`npm run bench\``)
  const stores: StoreRun['store'][] = []
  if (STORES.includes('embedded')) stores.push('embedded')
  if (STORES.includes('postgres')) {
    if (DATABASE_URL) stores.push('postgres')
    else log('DATABASE_URL is not set: PostgreSQL is skipped')
  }
  if (stores.length === 0 && STORE_SCENARIOS) throw new Error('nothing to run: check BENCH_STORES and DATABASE_URL')
  if (!STORE_SCENARIOS) stores.length = 0
  // `console` runs on the embedded store; every other standalone scenario needs PostgreSQL.
  const needPostgres = SCENARIOS.filter((s) => STANDALONE_SCENARIOS.includes(s) && s !== 'console')
  if (!STORE_SCENARIOS && !DATABASE_URL && needPostgres.length > 0) throw new Error(`${needPostgres.join(', ')} run on PostgreSQL only: set DATABASE_URL`)

  const barePort = await freePort()
  const bare = startChild('bare Fastify', ['bench/bare-server.ts'], { PATH: process.env.PATH, PORT: String(barePort), NODE_ENV: 'production' })
  const bareUrl = `http://127.0.0.1:${barePort}/bare`
  const runs: StoreRun[] = []
  const startedAt = new Date()
  const loadBefore = loadavg()[0]!
  try {
    await waitReady(bare, bareUrl)
    for (const store of stores) runs.push(await benchStore(store, bareUrl))
  } finally {
    await stopChild(bare)
  }

  const env = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${CONNECTIONS} connections, ` +
    `${DURATION} s per scenario after ${WARMUP} s warm-up, server role \`${ROLE}\`, ${startedAt.toISOString().slice(0, 16)}Z, ` +
    `1-min load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after (other work on the host skews the numbers)`
  if (runs.length > 0) process.stdout.write(`\n${env}\n\n${runs.map(table).join('\n\n')}\n`)
  // Delivery throughput (bench/delivery.ts): its own databases and worker processes, PostgreSQL only.
  let delivery: unknown
  if (SCENARIOS.includes('delivery') && DATABASE_URL) {
    const out = await runNode(['bench/delivery.ts'], { ...process.env, DATABASE_URL })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    delivery = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }
  // The contact center end to end (bench/contact-center.ts): its own database and api/worker processes.
  let contactCenter: ContactCenterFigures | undefined
  if (SCENARIOS.includes('contact-center') && DATABASE_URL) {
    const out = await runNode(['bench/contact-center.ts'], { ...process.env, DATABASE_URL })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    contactCenter = JSON.parse(out.split('\nJSON ')[1] ?? 'null') as ContactCenterFigures
  }

  // The messaging API (bench/messaging.ts): its own database, api/worker processes and bare route.
  let messaging: unknown
  if (SCENARIOS.includes('messaging') && DATABASE_URL) {
    const out = await runNode(['bench/messaging.ts'], { ...process.env, DATABASE_URL })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    messaging = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }

  // The company DNC check with 1,000,000 entries (bench/dnc.ts): its own database, in-process app.
  let dnc: unknown
  if (SCENARIOS.includes('dnc') && DATABASE_URL) {
    const out = await runNode(['bench/dnc.ts'], { ...process.env, DATABASE_URL })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    dnc = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }

  // Voice (BENCH_VOICE_PARTS, all three by default; each its own database): bench/voice.ts, a K3 import
  // of BENCH_VOICE_CONTACTS with RSS sampled; bench/voice-dialer.ts, a predictive campaign with
  // simulated agents, time compressed; bench/voice-scheduled.ts, 500 C4 calls due together, two workers.
  let voice: Record<string, unknown> | undefined
  if (SCENARIOS.includes('voice') && DATABASE_URL) {
    const parts = (process.env.BENCH_VOICE_PARTS ?? 'import,dialer,scheduled').split(',').map((s) => s.trim())
    voice = {}
    for (const [part, script] of [['import', 'bench/voice.ts'], ['dialer', 'bench/voice-dialer.ts'], ['scheduled', 'bench/voice-scheduled.ts']] as const) {
      if (!parts.includes(part)) continue
      const out = await runNode([script], { ...process.env, DATABASE_URL })
      process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
      voice[part] = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
    }
  }

  // The web console (bench/console.ts): bundle size and the people page's first render in Chromium, embedded store.
  let consoleFigures: unknown
  if (SCENARIOS.includes('console')) {
    const out = await runNode(['bench/console.ts'], process.env)
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    consoleFigures = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }

  // One templated multicast to 100,000 recipients, and a kill -9 of its worker (bench/multicast.ts).
  let multicast: unknown
  if (SCENARIOS.includes('multicast') && DATABASE_URL) {
    const out = await runNode(['bench/multicast.ts'], { ...process.env, DATABASE_URL })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    multicast = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }

  // APNs pushes/s through the adapter to the local HTTP/2 peer (bench/apns.ts; no database).
  let apns: unknown
  if (SCENARIOS.includes('apns')) {
    const out = await runNode(['bench/apns.ts'], { ...process.env })
    process.stdout.write(`\n${out.split('\nJSON ')[0]}\n`)
    apns = JSON.parse(out.split('\nJSON ')[1] ?? 'null')
  }

  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(RESULTS_FILE, JSON.stringify({
    startedAt: startedAt.toISOString(), node: process.version, cpus: cpus().length, role: ROLE,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, people: PEOPLE, runs, delivery, contactCenter, messaging, dnc, voice, console: consoleFigures, multicast, apns,
  }, null, 2) + '\n')
  log(`results written to ${RESULTS_FILE}`)
  if (runs.some((r) => r.rows.some((row) => !row.valid) || (r.bot ?? []).some((f) => f.scenario === 'ping' ? f.non2xx + f.errors > 0 : f.fired < f.count))) {
    log('some requests failed: these numbers are not a result')
    process.exitCode = 1
  }
}

async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map(stopChild))
  for (const c of cleanups.reverse()) {
    try {
      await c()
    } catch {
      // best effort
    }
  }
}

process.once('SIGINT', () => {
  log('interrupted: stopping servers')
  void cleanupAll().then(() => process.exit(130))
})

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  await cleanupAll()
  process.exit(1)
})
