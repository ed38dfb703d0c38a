import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from './factories/tenants.ts'
import { startTestApp, type TestApp } from './helpers/app.ts'
import { MAIN } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'

// A burst of check-ins due at once; a real `switchboard worker` process is killed with SIGKILL while
// it fires them (firing batches open), and a new worker process takes over. Every check-in fires
// exactly once: one conversation and one outbox message per notification, none lost.
let t: TestApp
let acme: TestTenant
const dataDir = mkdtempSync(join(tmpdir(), 'sb-checkin-kill-'))
const running = new Set<ChildProcess>()
const BURST = 300

beforeAll(async () => {
  // A database of its own: only the workers started here may fire these.
  t = await startTestApp({ isolated: true })
  acme = await createTenant(t.services)
  await t.services.threads.load(acme.tenant, 'threads:\n  daily:\n    steps:\n      - say: "Time for your check-in"\n', 'yaml')
})
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await t?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

function startWorker(): { child: ChildProcess; output: () => string; exited: Promise<NodeJS.Signals | number | null> } {
  const child = spawn(process.execPath, [MAIN, 'worker'], {
    env: {
      ...process.env, DATABASE_URL: t.store.url, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: '0'.repeat(64), LOG_LEVEL: 'warn',
      // Send attempts the killed worker had in flight are retried within seconds.
      SWITCHBOARD_JOB_SUPERVISE_SECONDS: '1', SWITCHBOARD_DELIVERY_RETRY_SECONDS: '1',
      // Small firing batches, so that the kill lands while most of the burst is still to fire.
      SWITCHBOARD_FIRING_BATCH: '10',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => {
    running.delete(child)
    resolve(signal ?? code)
  }))
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  return { child, output: () => output, exited }
}

const count = async (where: ReturnType<typeof sql>) =>
  Number((await sql<{ n: string }>`SELECT count(*) AS n FROM scheduled_notifications WHERE tenant_id = ${acme.tenant.id} AND ${where}`.execute(t.store.db)).rows[0]!.n)

describe('a worker killed with SIGKILL in the middle of a check-in burst', () => {
  // Its waits add up to minutes on a loaded machine: the test's own limit covers them.
  it('loses no check-in and fires none twice once another worker takes over', { timeout: 360_000 }, async () => {
    for (let i = 0; i < BURST; i++) await t.services.people.create(acme.tenant, { phone: uniquePhone() })
    // All due now, as the bot leaves them (one row per check-in, its own idempotency key).
    await sql`INSERT INTO scheduled_notifications (tenant_id, person_id, type, thread_name, due_at, idempotency_key)
      SELECT tenant_id, id, 'checkin', 'daily', now() - interval '1 second', 'burst:' || id FROM people WHERE tenant_id = ${acme.tenant.id}`.execute(t.store.db)
    expect(await count(sql`status = 'pending'`)).toBe(BURST)

    const first = startWorker()
    await waitFor(`the first batch to commit\n${first.output()}`, async () => (await count(sql`status = 'fired'`)) > 0, 60_000, 5)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    const firedBeforeKill = await count(sql`status = 'fired'`)
    // Killed mid-burst: some fired, the rest still pending (their open batches rolled back).
    expect(firedBeforeKill).toBeGreaterThan(0)
    expect(firedBeforeKill).toBeLessThan(BURST)

    const second = startWorker()
    await waitFor(`the second worker to fire the rest\n${second.output()}`, async () => (await count(sql`status = 'fired'`)) === BURST, 120_000, 100)

    // Exactly one conversation and one outbox message per notification, and nothing else.
    const per = await sql<{ conversations: string; messages: string }>`
      SELECT
        (SELECT count(*) FROM conversations c WHERE c.tenant_id = n.tenant_id AND c.start_key = 'notification:' || n.id) AS conversations,
        (SELECT count(*) FROM outbox_messages o WHERE o.tenant_id = n.tenant_id AND o.person_id = n.person_id) AS messages
      FROM scheduled_notifications n WHERE n.tenant_id = ${acme.tenant.id}`.execute(t.store.db)
    expect(per.rows).toHaveLength(BURST)
    const counts = new Map<string, number>()
    for (const r of per.rows) counts.set(`${r.conversations}/${r.messages}`, (counts.get(`${r.conversations}/${r.messages}`) ?? 0) + 1)
    expect(Object.fromEntries(counts)).toEqual({ '1/1': BURST })
    expect(await count(sql`status <> 'fired' OR attempts > 0`)).toBe(0)

    // And every message reaches the (sandbox) provider.
    await waitFor(`every check-in message to be sent\n${second.output()}`, async () =>
      Number((await sql<{ n: string }>`SELECT count(*) AS n FROM outbox_messages WHERE tenant_id = ${acme.tenant.id} AND status = 'sent'`.execute(t.store.db)).rows[0]!.n) === BURST, 120_000, 200)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(second.output()).not.toMatch(/"level":(50|60)/)
  })
})
