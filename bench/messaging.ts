// The messaging API at scale on PostgreSQL: `node bench/messaging.ts` (run by `npm run bench` when
// DATABASE_URL is set and BENCH_SCENARIOS includes `messaging`). Goals of issue 10, reported, never
// asserted:
//   1. directory import of BENCH_MSG_INDIVIDUALS (100,000) individuals ≤ 60 s with peak RSS < 300 MB
//      (the real CLI in a child process under `/usr/bin/time -f %M`, process start included);
//   2. one bulk message to BENCH_MSG_BULK (10,000) of them with auto-create-channel, done ≤ 20 s
//      (POST /v1/messaging-bulk-messages/ on the `api` process, posted by one `worker` process;
//      from the POST to `state: posted` read back over HTTP, polled every 100 ms);
//   3. with 50 connections (BENCH_CONNECTIONS), against a bare Fastify route measured in the same
//      run: POST /v1/messaging-messages/ ≥ 25 % and GET /v1/messaging-messages/?channel-id=…
//      ≥ 40 % of its req/s, each p99 ≤ 25 ms;
//   4. the channel list of an individual with BENCH_MSG_CHANNELS (1,000) channels,
//      GET /v1/messaging-channels/?individual-id=… (first page, 50), p99 ≤ 30 ms.
// The individual of (4), the "clinician", gets their channels from a second bulk message (to
// 1,000 other individuals, auto-create) before the HTTP scenarios; the posts and lists of (3) go
// to the clinician's channels in turn, as the clinician (`individual-id`).
//
// A fresh database `switchboard_bench_msg_<ms>` is created and dropped afterwards, also on failure.
// Output: a markdown table, the goal lines, and a last line `JSON {…}` with the figures.
// Environment: DATABASE_URL (required), BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_CONNECTIONS
// (50), BENCH_MSG_INDIVIDUALS (100000), BENCH_MSG_BULK (10000), BENCH_MSG_CHANNELS (1000),
// BENCH_MSG_NODE_ARGS (node flags for the api process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/msg-prof`
// or `--import ./bench/count-statements.ts`), BENCH_MSG_SERVER_ENV (extra `NAME=value` pairs for it),
// BENCH_MSG_WORKER_NODE_ARGS (node flags for the worker process, which posts the bulk messages),
// BENCH_MSG_SKIP (comma-separated steps to skip: `import` uses the bulk and channel sizes only,
// `bulk`, `http`), BENCH_MSG_KEEP_DB (`1`: keep the database afterwards, for EXPLAIN ANALYZE).
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { intEnv, startChild, stopChild, type Child } from './children.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ADMIN_URL = process.env.DATABASE_URL
const DURATION = intEnv('BENCH_DURATION', 10)
const WARMUP = intEnv('BENCH_WARMUP', 2, 0)
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50)
const BULK = intEnv('BENCH_MSG_BULK', 10_000)
const CHANNELS = intEnv('BENCH_MSG_CHANNELS', 1000)
const SKIP = (process.env.BENCH_MSG_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean)
const INDIVIDUALS = Math.max(intEnv('BENCH_MSG_INDIVIDUALS', 100_000), BULK + CHANNELS + 2)
const NODE_ARGS = (process.env.BENCH_MSG_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
const WORKER_NODE_ARGS = (process.env.BENCH_MSG_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
const SERVER_ENV = Object.fromEntries((process.env.BENCH_MSG_SERVER_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))

export const GOALS = {
  importSeconds: 60, importRssMb: 300, bulkSeconds: 20,
  post: { minRatio: 0.25, maxP99: 25 }, list: { minRatio: 0.4, maxP99: 25 }, channels: { maxP99: 30 },
} as const

const log = (m: string) => process.stderr.write(`[bench:messaging] ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------------------------------------------------------------------------------------
// Processes

const children: Child[] = []

function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = startChild(name, args, env)
  children.push(child)
  return child
}

const stop = stopChild

/** Until `url` answers 2xx, or (without a url) the child logs `ready`. */
async function ready(child: Child, url: string | undefined, readyText = 'workers and scheduler started'): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.output()}`)
    if (url) {
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return
      } catch {
        // not listening yet
      }
    } else if (child.output().includes(readyText)) return
    await sleep(200)
  }
  throw new Error(`${child.name} not ready after 120 s:\n${child.output()}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Load

export interface LoadRow { scenario: string; reqPerSec: number; p50: number; p99: number; ratio: number | null; requests: number; failed: number }

async function load(scenario: string, url: string, method: 'GET' | 'POST', headers: Record<string, string>, next: () => { path?: string; body?: string }): Promise<LoadRow> {
  // One request first, so a broken scenario fails loudly before it is loaded.
  const v = next()
  const res = await fetch(new URL(v.path ?? new URL(url).pathname + new URL(url).search, url), { method, headers, ...(v.body !== undefined ? { body: v.body } : {}) })
  if (!res.ok) throw new Error(`${scenario}: smoke request answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
  await res.arrayBuffer()
  log(`${scenario} — ${WARMUP} s warm-up + ${DURATION} s at ${CONNECTIONS} connections`)
  const r = await autocannon({
    url, title: scenario, connections: CONNECTIONS, duration: DURATION, method, headers,
    requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }],
    ...(WARMUP > 0 ? { warmup: { connections: CONNECTIONS, duration: WARMUP } } : {}),
  })
  const row = {
    scenario, reqPerSec: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, ratio: null,
    requests: r.requests.total, failed: r.non2xx + r.errors + r.timeouts,
  }
  log(`${scenario}: ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms${row.failed ? `, ${row.failed} FAILED` : ''}`)
  return row
}

// ---------------------------------------------------------------------------------------------
// Steps

async function writeCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file)
  out.write('external_id,first_name,last_name,preferred_name,birth_date,phone,account_type\n')
  for (let i = 0; i < n; i++) {
    const line = `ext-${i},First${i},"Last, ${i}",P${i},19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10},+1415${String(2000000 + i).padStart(7, '0')},patient\n`
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r) => out.end(() => r()))
}

export interface ImportFigures { individuals: number; seconds: number; rssMb: number; result: unknown }

function importDirectory(file: string, n: number, env: NodeJS.ProcessEnv): ImportFigures {
  const started = Date.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'src/main.ts', 'directory', 'import', '--tenant', 'Bench', file, '--json'], { cwd: ROOT, env, encoding: 'utf8' })
  const seconds = (Date.now() - started) / 1000
  if (r.status !== 0) throw new Error(`directory import failed: ${r.stderr}`)
  const rssMb = Number(r.stderr.trim().split('\n').pop()) / 1024
  const result = (JSON.parse(r.stdout) as { individuals: unknown }).individuals
  log(`directory import: ${n} individuals in ${seconds.toFixed(1)} s, peak RSS ${rssMb.toFixed(0)} MB, ${JSON.stringify(result)}`)
  return { individuals: n, seconds, rssMb, result }
}

export interface BulkFigures { recipients: number; seconds: number; posted: number; skipped: number; messages: number; channels: number }

/** POST the bulk message, then read it back until it is posted. */
async function bulkMessage(base: string, headers: Record<string, string>, sender: string, recipients: string[], db: pg.Client): Promise<BulkFigures> {
  const before = await counts(db)
  const started = Date.now()
  const res = await fetch(`${base}/v1/messaging-bulk-messages/`, {
    method: 'POST', headers, body: JSON.stringify({ data: { type: 'messaging-bulk-messages', attributes: {
      'individual-ids': recipients, 'auto-create-channel': true, 'sender-individual-id': sender,
      message: 'Clinic closed on Friday', 'message-js': { en_US: 'Clinic closed on Friday', es_US: 'La clínica cierra el viernes' },
    } } }),
  })
  const created = (await res.json()) as Json
  if (res.status !== 201) throw new Error(`POST bulk message answered ${res.status}: ${JSON.stringify(created).slice(0, 300)}`)
  for (;;) {
    const b = (await (await fetch(`${base}/v1/messaging-bulk-messages/${created.data.id}/`, { headers })).json()) as Json
    const a = b.data.attributes
    if (a.state === 'posted') {
      const seconds = (Date.now() - started) / 1000
      const after = await counts(db)
      const f = { recipients: recipients.length, seconds, posted: a['posted-count'], skipped: a['skipped-count'], messages: after.messages - before.messages, channels: after.channels - before.channels }
      log(`bulk message: ${JSON.stringify(f)}`)
      return f
    }
    if (Date.now() - started > 900_000) throw new Error(`bulk message not posted after 900 s: ${JSON.stringify(a).slice(0, 300)}`)
    await sleep(100)
  }
}

async function counts(db: pg.Client): Promise<{ messages: number; channels: number }> {
  const { rows } = await db.query<{ m: string; c: string }>('SELECT (SELECT count(*) FROM msg_messages) AS m, (SELECT count(*) FROM msg_channels) AS c')
  return { messages: Number(rows[0]!.m), channels: Number(rows[0]!.c) }
}

// ---------------------------------------------------------------------------------------------
// The run

export interface MessagingFigures {
  import?: ImportFigures
  bulk?: BulkFigures
  rows: LoadRow[]
  goals: Array<{ goal: string; met: boolean; text: string }>
  environment: string
}

async function main(): Promise<MessagingFigures> {
  if (!ADMIN_URL) throw new Error('DATABASE_URL is required')
  const name = `switchboard_bench_msg_${Date.now()}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  const dir = mkdtempSync(join(tmpdir(), 'bench-messaging-'))
  const loadBefore = loadavg()[0]!
  const startedAt = new Date()
  const figures: MessagingFigures = { rows: [], goals: [], environment: '' }
  const db = new pg.Client({ connectionString: url.toString() })
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ, NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      DATABASE_URL: url.toString(), SWITCHBOARD_DATA_DIR: dir,
    }
    const made = spawnSync(process.execPath, ['src/main.ts', 'tenant', 'create', '--name', 'Bench', '--json'], { cwd: ROOT, env, encoding: 'utf8' })
    if (made.status !== 0) throw new Error(`tenant create failed: ${made.stderr}`)
    const tenant = JSON.parse(made.stdout.trim().split('\n').pop()!) as { courier: { api_key: string; organization_id: string } }
    const file = join(dir, 'individuals.csv')
    const n = SKIP.includes('import') ? BULK + CHANNELS + 2 : INDIVIDUALS
    await writeCsv(file, n)
    const imported = importDirectory(file, n, env)
    if (!SKIP.includes('import')) figures.import = imported
    rmSync(file, { force: true })

    await db.connect()
    // Setup only: who is who (the API has no list of individuals).
    const { rows: people } = await db.query<{ external_id: string; public_id: string }>(`SELECT p.external_id, i.public_id FROM people p
      JOIN person_identities i ON i.person_id = p.id AND i.surface = 'cass' WHERE p.external_id LIKE 'ext-%'`)
    const byExt = new Map(people.map((p) => [p.external_id, p.public_id]))
    const id = (i: number) => byExt.get(`ext-${i}`)!
    const sender = id(0)
    const clinician = id(1)

    const apiPort = await freePort()
    const api = start('api', [...NODE_ARGS, 'src/main.ts', 'api'], { ...env, PORT: String(apiPort), ...SERVER_ENV })
    const worker = start('worker', [...WORKER_NODE_ARGS, 'src/main.ts', 'worker'], { ...env, LOG_LEVEL: 'info' })
    const barePort = await freePort()
    const bare = start('bare Fastify', ['bench/bare-server.ts'], { PATH: process.env.PATH, PORT: String(barePort), NODE_ENV: 'production' })
    const base = `http://127.0.0.1:${apiPort}`
    await Promise.all([ready(api, `${base}/readyz`), ready(worker, undefined), ready(bare, `http://127.0.0.1:${barePort}/bare`)])
    const headers = { authorization: `Bearer ${tenant.courier.api_key}`, 'content-type': 'application/vnd.api+json' }

    if (!SKIP.includes('bulk')) {
      figures.bulk = await bulkMessage(base, headers, sender, Array.from({ length: BULK }, (_, i) => id(2 + i)), db)
    }
    if (!SKIP.includes('http')) {
      // The clinician's channels: a bulk message from them to CHANNELS others (not the bulk's recipients).
      log(`the clinician's ${CHANNELS} channels (a bulk message with auto-create)`)
      await bulkMessage(base, headers, clinician, Array.from({ length: CHANNELS }, (_, i) => id(2 + BULK + i)), db)
      const { rows: chans } = await db.query<{ channel_id: string }>(`SELECT s.channel_id FROM msg_channel_subscribers s
        JOIN person_identities i ON i.person_id = s.individual_id AND i.surface = 'cass' WHERE i.public_id = $1 ORDER BY s.channel_id`, [clinician])
      if (chans.length !== CHANNELS) throw new Error(`the clinician has ${chans.length} channels, expected ${CHANNELS}`)
      const channelIds = chans.map((c) => c.channel_id)
      let p = 0
      let l = 0
      const bareRow = await load('GET /bare (bare Fastify)', `http://127.0.0.1:${barePort}/bare`, 'GET', {}, () => ({}))
      const post = await load('POST /v1/messaging-messages/', `${base}/v1/messaging-messages/`, 'POST', headers, () => ({
        body: JSON.stringify({ data: { type: 'messaging-messages', attributes: { 'channel-id': channelIds[p++ % channelIds.length], 'individual-id': clinician, message: `Hello ${p}` } } }),
      }))
      const list = await load('GET /v1/messaging-messages/?channel-id=…&individual-id=…', `${base}/v1/messaging-messages/?channel-id=${channelIds[0]}`, 'GET', headers, () => ({
        path: `/v1/messaging-messages/?channel-id=${channelIds[l++ % channelIds.length]}&individual-id=${clinician}`,
      }))
      const channels = await load(`GET /v1/messaging-channels/?individual-id=… (${CHANNELS} channels)`, `${base}/v1/messaging-channels/?individual-id=${clinician}`, 'GET', headers, () => ({}))
      figures.rows = [bareRow, post, list, channels]
      for (const r of figures.rows) r.ratio = bareRow.reqPerSec > 0 ? r.reqPerSec / bareRow.reqPerSec : null
    }
    await Promise.all([stop(api), stop(worker), stop(bare)])
  } finally {
    await Promise.all(children.map(stop))
    await db.end().catch(() => undefined)
    if (process.env.BENCH_MSG_KEEP_DB === '1') log(`kept the database ${name} (BENCH_MSG_KEEP_DB=1): drop it yourself`)
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err: unknown) => log(`could not drop ${name}: ${(err as Error).message}`))
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
  figures.environment = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${CONNECTIONS} connections, ${DURATION} s per scenario after ${WARMUP} s warm-up, ` +
    `${startedAt.toISOString().slice(0, 16)}Z, 1-min load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after`
  figures.goals = judge(figures)
  return figures
}

function judge(f: MessagingFigures): MessagingFigures['goals'] {
  const goals: MessagingFigures['goals'] = []
  const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET')
  if (f.import) {
    const met = f.import.seconds <= GOALS.importSeconds && f.import.rssMb < GOALS.importRssMb
    goals.push({ goal: 'import', met, text: `Directory import of ${f.import.individuals} individuals (≤ ${GOALS.importSeconds} s, RSS < ${GOALS.importRssMb} MB): ${verdict(met)} — ${f.import.seconds.toFixed(1)} s, ${f.import.rssMb.toFixed(0)} MB` })
  }
  if (f.bulk) {
    const met = f.bulk.seconds <= GOALS.bulkSeconds && f.bulk.posted === f.bulk.recipients && f.bulk.messages === f.bulk.recipients
    goals.push({ goal: 'bulk', met, text: `Bulk message to ${f.bulk.recipients} individuals with auto-create (≤ ${GOALS.bulkSeconds} s): ${verdict(met)} — ${f.bulk.seconds.toFixed(1)} s, ${f.bulk.posted} posted, ${f.bulk.messages} messages, ${f.bulk.channels} channels` })
  }
  const [, post, list, channels] = f.rows
  const http = (goal: string, r: LoadRow | undefined, g: { minRatio?: number; maxP99: number }) => {
    if (!r) return
    const ratioOk = g.minRatio === undefined || (r.ratio ?? 0) >= g.minRatio
    const met = ratioOk && r.p99 <= g.maxP99 && r.failed === 0
    goals.push({ goal, met, text: `${r.scenario} (${g.minRatio !== undefined ? `≥ ${g.minRatio * 100} % of bare, ` : ''}p99 ≤ ${g.maxP99} ms): ${verdict(met)} — ${((r.ratio ?? 0) * 100).toFixed(0)} % of bare, p99 ${r.p99} ms${r.failed ? `, ${r.failed} failed` : ''}` })
  }
  http('post', post, GOALS.post)
  http('list', list, GOALS.list)
  http('channels', channels, GOALS.channels)
  return goals
}

function table(f: MessagingFigures): string {
  const lines = [`### Messaging (PostgreSQL)`, '', f.environment, '']
  if (f.rows.length > 0) {
    lines.push('| scenario | req/s | p50 ms | p99 ms | ratio to bare | failed |', '|---|---:|---:|---:|---:|---:|')
    for (const r of f.rows) lines.push(`| ${r.scenario} | ${r.reqPerSec.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.ratio === null ? 'n/a' : `${(r.ratio * 100).toFixed(0)} %`} | ${r.failed} |`)
    lines.push('')
  }
  for (const g of f.goals) lines.push(`- ${g.text}`)
  return lines.join('\n')
}

process.once('SIGINT', () => {
  log('interrupted: stopping processes')
  void Promise.all(children.map(stop)).then(() => process.exit(130))
})

main().then((f) => {
  process.stdout.write(`${table(f)}\nJSON ${JSON.stringify(f)}\n`)
  if (f.rows.some((r) => r.failed > 0)) process.exitCode = 1
}, (err: unknown) => {
  process.stderr.write(`bench/messaging.ts: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
