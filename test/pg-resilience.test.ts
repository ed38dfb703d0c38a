import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/db/migrate.ts'
import { openStore, type Store } from '../src/db/store.ts'
import { createServices, type Services } from '../src/services.ts'
import { createTenant, uniquePhone, type TestTenant } from './factories/tenants.ts'
import { testConfig } from './helpers/app.ts'
import { freePort, MAIN } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts'

// PostgreSQL connections reset under running `switchboard api` and `switchboard worker` processes
// (every backend of their database terminated, during a burst of sends and while idle), and the
// PostgreSQL server itself restarted. The processes keep running, /readyz says 503 while the
// database is away and 200 after, everything the API accepted is sent, and new sends work.
// All of it happens on a PostgreSQL server of this file's own: the shared one is never touched.

const DEMO_THREADS = fileURLToPath(new URL('../examples/threads/demo.yaml', import.meta.url))
const DB_NAME = 'sb_resilience'

let server: PrivatePostgres
let store: Store
let services: Services
let tenant: TestTenant
const dataDir = mkdtempSync(join(tmpdir(), 'sb-pg-resilience-'))
const running = new Set<ChildProcess>()

interface Proc {
  child: ChildProcess
  /** The last few KB of its output, for failure messages. */
  output(): string
  /** All of it. */
  fullOutput(): string
  alive(): boolean
}

function spawnRole(role: 'api' | 'worker', port: number): Proc {
  const child = spawn(process.execPath, [MAIN, role], {
    env: {
      ...process.env, DATABASE_URL: store.url, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: '0'.repeat(64), LOG_LEVEL: 'warn',
      PORT: String(port), HOST: '127.0.0.1', SWITCHBOARD_JOB_SUPERVISE_SECONDS: '1', SWITCHBOARD_DELIVERY_RETRY_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  return { child, output: () => output.slice(-4000), fullOutput: () => output, alive: () => child.exitCode === null && child.signalCode === null }
}

let api: Proc
let worker: Proc
let base = ''

/** Terminate every other backend of our database; answers how many. */
async function terminateAll(): Promise<number> {
  const c = new pg.Client({ connectionString: server.url() })
  await c.connect()
  try {
    const r = await c.query<{ n: number }>(
      'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [DB_NAME])
    return r.rows[0]!.n
  } finally {
    await c.end()
  }
}

/** Register a person and send them into the welcome thread (in the background), through the API process. */
async function createAndPing(): Promise<{ status: number; personId?: string }> {
  const res = await fetch(`${base}/external_person`, {
    method: 'POST', headers: { authorization: tenant.cassAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ first_name: 'Rex', phone: uniquePhone(), initial_thread_name: 'welcome', ping: '1' }),
    signal: AbortSignal.timeout(20_000),
  })
  const body = (await res.json()) as { person_id?: string }
  return { status: res.status, personId: body.person_id }
}

/** Every message to these people is sent, and each has at least one. */
async function allSent(personIds: string[]): Promise<boolean> {
  const rows = await sql<{ cass_id: string; status: string }>`
    SELECT i.public_id AS cass_id, m.status FROM person_identities i LEFT JOIN outbox_messages m ON m.person_id = i.person_id
    WHERE i.tenant_id = ${tenant.tenant.id} AND i.surface = 'cass' AND i.public_id = ANY(${personIds})`.execute(store.db)
  const sent = new Set(rows.rows.filter((r) => r.status === 'sent').map((r) => r.cass_id))
  return rows.rows.every((r) => r.status === 'sent') && personIds.every((id) => sent.has(id))
}

const heard: string[] = []
let probes = 0

/** A notification sent now reaches this process's listener (sent again until it does: one sent while the listener reconnects is lost). */
async function notificationsArrive(): Promise<void> {
  await waitFor('a notification to arrive through the reconnected listener', async () => {
    const token = `probe-${++probes}`
    await sql`SELECT pg_notify('sb_resilience_probe', ${token})`.execute(store.db).catch(() => {})
    await new Promise((r) => setTimeout(r, 100))
    return heard.includes(token) && store.notifier.healthy
  }, 30_000, 0)
}

async function readyz(): Promise<number> {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status
  } catch {
    return 0
  }
}

function expectAlive(): void {
  const out = `api:\n${api.output()}\nworker:\n${worker.output()}`
  expect(api.alive(), out).toBe(true)
  expect(worker.alive(), out).toBe(true)
  expect(out).not.toMatch(/Unhandled 'error' event|uncaught|ECONNRESET.*\n\s+at /i)
}

beforeAll(async () => {
  server = await startPrivatePostgres()
  const url = await server.createDatabase(DB_NAME)
  store = await openStore({ databaseUrl: url, dataDir: '/nonexistent' })
  await migrate(store.pool)
  services = createServices(testConfig(), store)
  tenant = await createTenant(services)
  await store.notifier.listen('sb_resilience_probe', (payload) => heard.push(payload))
  await notificationsArrive()
  await services.threads.load(tenant.tenant, readFileSync(DEMO_THREADS, 'utf8'), 'yaml')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  api = spawnRole('api', port)
  worker = spawnRole('worker', await freePort())
  await waitFor(`the API to be ready\n${api.output()}`, async () => (await readyz()) === 200, 60_000)
}, 120_000)

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await services?.providers.close()
  await store?.close().catch(() => {})
  server?.destroy()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('PostgreSQL connections reset under the api and worker processes', () => {
  it('survives every backend of the database terminated during a burst of sends and while idle, and sends everything', async () => {
    const first = await createAndPing()
    expect(first.status).toBe(200)
    await waitFor(`the worker to send\n${worker.output()}`, () => allSent([first.personId!]), 30_000)

    // A burst of creates with pings; the connections are cut three times while it runs.
    const accepted: string[] = []
    let refused = 0
    let left = 120
    const client = async () => {
      while (left-- > 0) {
        const r = await createAndPing().catch(() => ({ status: 0 }) as { status: number; personId?: string })
        if (r.status === 200 && r.personId) accepted.push(r.personId)
        else refused++
      }
    }
    const burst = Promise.all(Array.from({ length: 8 }, client))
    let terminated = 0
    for (let i = 0; i < 3; i++) {
      await waitFor('the burst to progress', () => accepted.length >= 20 * (i + 1) || left <= 0, 30_000)
      terminated += await terminateAll()
    }
    await burst
    expect(terminated).toBeGreaterThan(0)
    expectAlive()
    // A request whose transaction was cut may fail (and wrote nothing); most are accepted.
    expect(accepted.length).toBeGreaterThan(60)
    expect(accepted.length + refused).toBe(120)
    await waitFor(`every accepted ping to be sent\n${worker.output()}`, () => allSent(accepted), 90_000)
    expectAlive()

    // Idle: nothing in flight, every pooled and listening connection is cut.
    await new Promise((r) => setTimeout(r, 500))
    expect(await terminateAll()).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 1_000))
    expectAlive()
    await notificationsArrive()
    const after = await waitFor('a create after the idle reset', async () => {
      const r = await createAndPing()
      return r.status === 200 ? r : undefined
    }, 30_000)
    await waitFor(`the send after the idle reset\n${worker.output()}`, () => allSent([after.personId!]), 60_000)
    expectAlive()
  }, 240_000)

  it('survives a restart of the PostgreSQL server under load: /readyz is 503 while it is away and 200 after, and sends go on', async () => {
    // Requests keep coming while the server stops and starts, so connections are in use when it goes.
    const accepted: string[] = []
    let loading = true
    const client = async () => {
      while (loading) {
        const r = await createAndPing().catch(() => ({ status: 0 }) as { status: number; personId?: string })
        if (r.status === 200 && r.personId) accepted.push(r.personId)
        else await new Promise((res) => setTimeout(res, 50))
      }
    }
    const load = Promise.all(Array.from({ length: 6 }, client))
    try {
      await waitFor('the load to run', () => accepted.length >= 10, 30_000)
      server.stop('fast')
      await waitFor(`/readyz to answer 503 while the database is away (api exit code ${api.child.exitCode})\n${api.output()}`, async () => (await readyz()) === 503, 30_000)
      expect(api.alive(), api.output()).toBe(true)
      expect(worker.alive(), worker.output()).toBe(true)
      // A little while down, so the retry loops of pools and listeners run against a closed port.
      await new Promise((r) => setTimeout(r, 1_500))
      expect(await readyz()).toBe(503)
      server.start()
      await waitFor('/readyz to answer 200 once the database is back', async () => (await readyz()) === 200, 60_000)
      const before = accepted.length
      await waitFor('creates to succeed again', () => accepted.length > before, 30_000)
      await notificationsArrive()
    } finally {
      loading = false
      await load
    }
    expectAlive()
    await waitFor(`every accepted ping to be sent\n${worker.output()}`, () => allSent(accepted), 90_000)
    expectAlive()

    // While the database was away every poll of every worker failed: the job queue logs each kind
    // of error at most once per 10 s, and without the client object pg attaches to some.
    const queueErrors = worker.fullOutput().split('\n').filter((l) => l.includes('"msg":"job queue error"'))
      .map((l) => JSON.parse(l) as { time: string; err: { code?: string; message: string; client?: unknown } })
    expect(queueErrors.length).toBeGreaterThan(0)
    const lastOfKind = new Map<string, number>()
    for (const e of queueErrors) {
      expect(e.err.client).toBeUndefined()
      const kind = e.err.code ?? e.err.message.replace(/\s*\(Queue: .*\)$/, '')
      const at = Date.parse(e.time)
      const last = lastOfKind.get(kind)
      if (last !== undefined) expect(at - last, `two "${kind}" errors logged ${at - last} ms apart`).toBeGreaterThanOrEqual(9_900)
      lastOfKind.set(kind, at)
    }
  }, 240_000)
})
