// Delivery throughput, end to end (enqueue → sent), on PostgreSQL: `node bench/delivery.ts`
// (run by `npm run bench` when DATABASE_URL is set and BENCH_SCENARIOS includes `delivery`).
//
// Scenarios, each on a fresh database `switchboard_bench_delivery_<ms>` (dropped afterwards):
//   sandbox  BENCH_MESSAGES messages through the sandbox provider
//   twilio   BENCH_MESSAGES messages through the Twilio adapter against the local Twilio peer
//            (test/peers/twilio.ts, in this process), rate limit raised out of the way
//   twilio-adapter  the adapter alone (no queue, no database), 32 sends in flight, against the peer
// The workers are BENCH_WORKERS real `switchboard worker` processes; this process enqueues with
// BENCH_ENQUEUE_CONCURRENCY concurrent `delivery.send` calls. Throughput is messages divided by the
// time from the first enqueue until the last message is `sent`. Worker RSS is read from
// /proc/<pid>/status after a warm-up and at the end.
//
// Environment: DATABASE_URL (required), BENCH_MESSAGES (20000), BENCH_WORKERS (1),
// BENCH_ENQUEUE_CONCURRENCY (64), BENCH_DELIVERY (`twilio-adapter,sandbox,twilio`).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { openStore } from '../src/db/store.ts'
import { createServices } from '../src/services.ts'
import { createTwilioProvider } from '../src/providers/twilio.ts'
import { TwilioPeer } from '../test/peers/twilio.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ADMIN_URL = process.env.DATABASE_URL
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1)
const CONCURRENCY = Number(process.env.BENCH_ENQUEUE_CONCURRENCY ?? 64)
const SCENARIOS = (process.env.BENCH_DELIVERY ?? 'twilio-adapter,sandbox,twilio').split(',').map((s) => s.trim())
const SECRET = '0'.repeat(64)
const log = (m: string) => process.stderr.write(`[bench:delivery] ${m}\n`)

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : NaN
}

interface Result { scenario: string; messages: number; workers: number; seconds: number; perSecond: number; rssBeforeMb: number[]; rssAfterMb: number[]; note?: string }

async function scenario(name: 'sandbox' | 'twilio'): Promise<Result> {
  const dbName = `switchboard_bench_delivery_${Date.now()}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const url = new URL(ADMIN_URL!)
  url.pathname = '/' + dbName
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-delivery-'))
  const children: ChildProcess[] = []
  const peer = name === 'twilio' ? await new TwilioPeer({ numbers: ['+15005550006'] }).start() : undefined
  const env = { SWITCHBOARD_SECRET_KEY: SECRET, SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn', SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }
  const store = await openStore({ databaseUrl: url.toString(), dataDir, poolSize: 16 })
  let stopJobs = async () => {}
  try {
    await migrate(store.pool)
    const services = createServices(loadConfig({ ...env, DATABASE_URL: url.toString() }), store)
    const { tenant } = await services.tenants.create(`Bench ${name}`)
    if (peer) {
      await services.providerSettings.set(tenant, 'sms', 'twilio', {
        accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', baseUrl: peer.url, ratePerSecond: '10000',
      })
    }
    await services.jobs.start()
    stopJobs = () => services.jobs.stop({ timeoutMs: 2000 })
    for (let i = 0; i < WORKERS; i++) {
      const child = spawn(process.execPath, [join(ROOT, 'src/main.ts'), 'worker'], {
        cwd: ROOT, env: { ...process.env, ...env, DATABASE_URL: url.toString() }, stdio: ['ignore', 'inherit', 'inherit'],
      })
      children.push(child)
    }
    const sentCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_messages WHERE status = 'sent'`.execute(store.db)).rows[0]!.n
    const enqueue = async (count: number, offset: number) => {
      let next = 0
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < count; i = next++) {
          const n = offset + i
          await services.delivery.send(tenant, { channel: 'sms', to: `+1415${String(2000000 + n).padStart(7, '0')}`, body: `Reminder ${n}: your appointment is tomorrow at 10:00` })
        }
      }))
    }
    // Warm-up: the workers start, connect and handle a first batch.
    const warm = 500
    await enqueue(warm, 0)
    while ((await sentCount()) < warm) await new Promise((r) => setTimeout(r, 200))
    const rssBeforeMb = children.map((c) => rssMb(c.pid!))
    log(`${name}: warmed up (worker RSS ${rssBeforeMb.join(', ')} MB); enqueueing ${MESSAGES}`)
    const started = performance.now()
    // RSS at each quarter of the run (sampled while it runs): flat memory means the later quarters
    // stop growing.
    const quarters: number[][] = []
    const watching = (async () => {
      for (;;) {
        const sent = (await sentCount()) - warm
        while (quarters.length < 4 && sent >= (MESSAGES * (quarters.length + 1)) / 4) quarters.push(children.map((c) => rssMb(c.pid!)))
        if (sent >= MESSAGES) return
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    await enqueue(MESSAGES, warm)
    const enqueued = (performance.now() - started) / 1000
    await watching
    const seconds = (performance.now() - started) / 1000
    const rssAfterMb = children.map((c) => rssMb(c.pid!))
    const result: Result = {
      scenario: name, messages: MESSAGES, workers: WORKERS, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(MESSAGES / seconds),
      rssBeforeMb, rssAfterMb, note: `enqueue alone took ${enqueued.toFixed(2)} s; worker RSS MB at each quarter: ${quarters.map((q) => q.join('/')).join(' → ')}` + (peer ? `; peer: ${peer.requests} requests over ${peer.connections} connections, ${peer.messages.length} messages sent (${peer.messages.length - MESSAGES - warm} duplicates), ${peer.listRequests} reconciling lookups` : ''),
    }
    log(JSON.stringify(result))
    return result
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))))
    await stopJobs()
    await store.close()
    await peer?.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.end()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The Twilio adapter alone against the peer: `send` calls with 32 in flight, no queue, no database. */
async function adapterOnly(): Promise<Result> {
  const peer = await new TwilioPeer({ numbers: ['+15005550006'] }).start()
  const provider = createTwilioProvider('sms', { provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', baseUrl: peer.url }, { urlPolicy: { allowPrivate: true, allowedHosts: [] } })
  try {
    let next = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) {
        await provider.send({ id: `m-${i}`, channel: 'sms', to: `+1415${String(2000000 + i).padStart(7, '0')}`, body: `Reminder ${i}` })
      }
    }))
    const seconds = (performance.now() - started) / 1000
    return {
      scenario: 'twilio-adapter', messages: MESSAGES, workers: 0, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(MESSAGES / seconds),
      rssBeforeMb: [], rssAfterMb: [], note: `32 in flight; peer: ${peer.requests} requests over ${peer.connections} connections`,
    }
  } finally {
    await provider.close?.()
    await peer.stop()
  }
}

async function main() {
  if (!ADMIN_URL) throw new Error('DATABASE_URL is required (a PostgreSQL server where a bench database may be created)')
  const results: Result[] = []
  if (SCENARIOS.includes('twilio-adapter')) results.push(await adapterOnly())
  for (const s of SCENARIOS) if (s === 'sandbox' || s === 'twilio') results.push(await scenario(s))
  const lines = ['### Delivery (PostgreSQL, enqueue → sent)', '', '| scenario | messages | worker processes | seconds | messages/s | worker RSS MB before → after |', '|---|---:|---:|---:|---:|---|']
  for (const r of results) lines.push(`| ${r.scenario} | ${r.messages} | ${r.workers} | ${r.seconds} | ${r.perSecond} | ${r.rssBeforeMb.map((b, i) => `${b} → ${r.rssAfterMb[i]}`).join(', ')} |`)
  process.stdout.write(lines.join('\n') + '\n\n' + results.map((r) => `- ${r.scenario}: ${r.note}`).join('\n') + '\n')
  process.stdout.write('JSON ' + JSON.stringify(results) + '\n')
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench/delivery: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
