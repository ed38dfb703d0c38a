import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { Registry } from 'prom-client'
import { Type } from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresNotifier } from '../db/notifier.ts'
import type { Store } from '../db/store.ts'
import { openTestStore } from '../../test/helpers/store.ts'
import { waitFor } from '../../test/helpers/wait.ts'
import { registerJobMetrics } from './metrics.ts'
import { bossNotifyChannel, JobQueue } from './queue.ts'
import { PermanentJobError, type JobDefinition } from './types.ts'

// Every test uses queues with names of its own, so on the shared PostgreSQL database no other test
// file's workers ever fetch these jobs.
let store: Store
const queues: JobQueue[] = []

const Payload = Type.Object({ n: Type.Integer() }, { additionalProperties: false })
type Def = JobDefinition<typeof Payload>

beforeAll(async () => {
  store = await openTestStore()
  await sql`CREATE TABLE IF NOT EXISTS jobs_test_runs (queue text NOT NULL, job_id uuid NOT NULL, n int NOT NULL, worker text NOT NULL)`.execute(store.db)
})
afterAll(async () => {
  for (const q of queues) await q.stop({ timeoutMs: 1000 })
  await store?.close()
})

const uniqueName = (what: string) => `test.${what}.${randomUUID().slice(0, 8)}`

/** A queue over the test store with `defs` defined; started (and working, unless `work: false`). */
async function openQueue(defs: Def[], opts: { work?: boolean } = {}): Promise<JobQueue> {
  const q = new JobQueue({ db: store.db, url: store.url, poolSize: 3 })
  queues.push(q)
  for (const d of defs) q.define(d)
  await q.start({ supervise: false })
  if (opts.work !== false) await q.work({ pollingIntervalSeconds: 0.5 })
  return q
}

/** A definition whose handler records each run in jobs_test_runs. */
function counting(name: string, worker: string, extra: Partial<Def> = {}): Def {
  return {
    name, payload: Payload, retryLimit: 0,
    async handle({ n }, ctx) {
      await sql`INSERT INTO jobs_test_runs (queue, job_id, n, worker) VALUES (${name}, ${ctx.jobId}, ${n}, ${worker})`.execute(store.db)
    },
    ...extra,
  }
}

async function runsOf(queue: string): Promise<Array<{ job_id: string; n: number; worker: string }>> {
  const r = await sql<{ job_id: string; n: number; worker: string }>`SELECT job_id, n, worker FROM jobs_test_runs WHERE queue = ${queue} ORDER BY n`.execute(store.db)
  return r.rows
}

async function bossJob(id: string): Promise<{ state: string; start_after: Date; retry_count: number; retry_backoff: boolean } | undefined> {
  const r = await sql<{ state: string; start_after: Date; retry_count: number; retry_backoff: boolean }>`
    SELECT state::text AS state, start_after, retry_count, retry_backoff FROM pgboss.job WHERE id = ${id}`.execute(store.db)
  return r.rows[0]
}

describe('enqueue', () => {
  it('runs a job once per idempotency key, however often and concurrently the key is enqueued', async () => {
    const name = uniqueName('dup')
    const def = counting(name, 'w')
    const q = await openQueue([def])
    const results = await Promise.all([1, 2, 3, 4].map(() => q.enqueue(store.db, def, { n: 1 }, { key: 'same' })))
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1)
    await waitFor('the job to complete', async () => (await q.findKey(def, 'same'))?.state === 'completed')
    // Even after the job finished, the key still deduplicates.
    const again = await q.enqueue(store.db, def, { n: 2 }, { key: 'same' })
    expect(again).toEqual({ jobId: results[0]!.jobId, created: false })
    const other = await q.enqueue(store.db, def, { n: 3 }, { key: 'other' })
    expect(other.created).toBe(true)
    await waitFor('the other job', async () => (await q.findKey(def, 'other'))?.state === 'completed')
    expect((await runsOf(name)).map((r) => r.n)).toEqual([1, 3])
    expect(await q.findKey(def, 'same')).toMatchObject({ state: 'completed', attempts: 1, lastError: null, jobId: results[0]!.jobId })
  })

  it('enqueues in the caller’s transaction: a rollback leaves neither key nor job', async () => {
    const name = uniqueName('trx')
    const def = counting(name, 'w')
    const q = await openQueue([def])
    let rolledBackJob = ''
    await expect(store.db.transaction().execute(async (trx) => {
      rolledBackJob = (await q.enqueue(trx, def, { n: 1 }, { key: 'k' })).jobId
      throw new Error('abort the change')
    })).rejects.toThrow('abort the change')
    expect(await q.findKey(def, 'k')).toBeUndefined()
    expect(await bossJob(rolledBackJob)).toBeUndefined()

    const committed = await store.db.transaction().execute((trx) => q.enqueue(trx, def, { n: 2 }, { key: 'k' }))
    expect(committed.created).toBe(true)
    q.wake(def)
    await waitFor('the committed job', async () => (await q.findKey(def, 'k'))?.state === 'completed')
    expect((await runsOf(name)).map((r) => r.n)).toEqual([2])
  })

  it('checks the payload and the key before writing anything', async () => {
    const def = counting(uniqueName('bad'), 'w')
    const q = await openQueue([def], { work: false })
    await expect(q.enqueue(store.db, def, { n: 'x' } as never, { key: 'k' })).rejects.toThrow(/invalid payload: \/n/)
    await expect(q.enqueue(store.db, def, { n: 1 }, { key: '' })).rejects.toThrow(/key/)
    const undefinedJob = counting(uniqueName('undefined'), 'w')
    await expect(q.enqueue(store.db, undefinedJob, { n: 1 }, { key: 'k' })).rejects.toThrow(/not defined/)
    expect(await q.findKey(def, 'k')).toBeUndefined()
  })

  it('holds a job until its run-at time', async () => {
    const name = uniqueName('later')
    const def = counting(name, 'w')
    const q = await openQueue([def])
    const runAt = new Date(Date.now() + 3_600_000)
    const later = await q.enqueue(store.db, def, { n: 1 }, { key: 'later', runAt })
    await q.enqueue(store.db, def, { n: 2 }, { key: 'now' })
    await waitFor('the due job', async () => (await q.findKey(def, 'now'))?.state === 'completed')
    expect(await q.findKey(def, 'later')).toMatchObject({ state: 'queued', attempts: 0, runAt })
    expect(await bossJob(later.jobId)).toMatchObject({ state: 'created', start_after: runAt })
    expect((await runsOf(name)).map((r) => r.n)).toEqual([2])
  })
})

describe('workers', () => {
  it('a job enqueued before a stop runs after a restart on the same database', async () => {
    const name = uniqueName('restart')
    const firstDef = counting(name, 'first')
    const first = await openQueue([firstDef], { work: false })
    await first.enqueue(store.db, firstDef, { n: 1 }, { key: 'survivor' })
    await first.stop()

    const def = counting(name, 'second')
    const second = await openQueue([def])
    await waitFor('the job to run on the new queue', async () => (await second.findKey(def, 'survivor'))?.state === 'completed')
    expect(await runsOf(name)).toEqual([expect.objectContaining({ n: 1, worker: 'second' })])
  })

  it('two workers on one database never run the same job', async () => {
    const name = uniqueName('pair')
    const a = counting(name, 'a', { concurrency: 3 })
    const b = counting(name, 'b', { concurrency: 3 })
    const qa = await openQueue([a], { work: false })
    const qb = await openQueue([b], { work: false })
    const total = 40
    for (let i = 0; i < total; i++) await qa.enqueue(store.db, a, { n: i }, { key: `k${i}` })
    await Promise.all([qa.work({ pollingIntervalSeconds: 0.5 }), qb.work({ pollingIntervalSeconds: 0.5 })])
    await waitFor('all jobs to run', async () => (await runsOf(name)).length >= total && (await runsOf(name)))
    // Let any duplicate run show up before counting.
    await waitFor('every key completed', async () => {
      for (let i = 0; i < total; i++) if ((await qa.findKey(a, `k${i}`))?.state !== 'completed') return false
      return true
    })
    const runs = await runsOf(name)
    expect(runs.map((r) => r.n)).toEqual(Array.from({ length: total }, (_, i) => i))
    expect(new Set(runs.map((r) => r.job_id)).size).toBe(total)
    for (let i = 0; i < total; i++) expect((await qa.findKey(a, `k${i}`))?.attempts).toBe(1)
  })

  it('a stop lets the job in flight finish', async () => {
    const name = uniqueName('graceful')
    let release: () => void = () => {}
    let started: () => void = () => {}
    const running = new Promise<void>((r) => (started = r))
    const def: Def = {
      name, payload: Payload,
      async handle({ n }, ctx) {
        started()
        await new Promise<void>((r) => (release = r))
        await sql`INSERT INTO jobs_test_runs (queue, job_id, n, worker) VALUES (${name}, ${ctx.jobId}, ${n}, 'g')`.execute(store.db)
      },
    }
    const q = await openQueue([def])
    await q.enqueue(store.db, def, { n: 7 }, { key: 'slow' })
    await running
    const stopping = q.stop({ timeoutMs: 10_000 })
    setTimeout(() => release(), 200)
    await stopping
    expect(await q.findKey(def, 'slow')).toMatchObject({ state: 'completed', attempts: 1 })
    expect((await runsOf(name)).map((r) => r.n)).toEqual([7])
  })
})

describe('wake-up across processes', () => {
  it('a worker of another process runs a job as soon as it is committed, not at its next poll', async () => {
    const name = uniqueName('wake')
    const def = counting(name, 'other')
    // The enqueuing process: no workers of its own, so nothing here can wake one.
    const producer = await openQueue([def], { work: false })
    // The working process: its own pg-boss, its own notifications (on PostgreSQL its own LISTEN
    // connection), and an idle worker polls only once a minute.
    const notifier = store.kind === 'postgres' ? postgresNotifier(store.url) : store.notifier
    const consumer = new JobQueue({ db: store.db, url: store.url, poolSize: 3, notifier })
    queues.push(consumer)
    consumer.define(def)
    await consumer.start({ supervise: false })
    await consumer.work({ pollingIntervalSeconds: 60 })
    try {
      // The first job may be found by the workers' first fetch; once it ran and they looked again,
      // they sleep out their minute.
      await producer.enqueue(store.db, def, { n: 1 }, { key: 'first' })
      await waitFor('the first job', async () => (await consumer.findKey(def, 'first'))?.state === 'completed', 30_000)
      await new Promise((r) => setTimeout(r, 1000))
      await producer.enqueue(store.db, def, { n: 2 }, { key: 'second' })
      // Well inside the minute: only the NOTIFY of the commit can have woken a worker.
      await waitFor('the second job, woken by its NOTIFY', async () => (await consumer.findKey(def, 'second'))?.state === 'completed', 20_000)
      // Inside a caller's transaction that began a while before the enqueue (a chat message, say):
      // the job starts at the transaction's clock, so its commit NOTIFYs too.
      await store.db.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx)
        await new Promise((r) => setTimeout(r, 300))
        await producer.enqueue(trx, def, { n: 3 }, { key: 'third' })
      })
      await waitFor('the third job, enqueued in an older transaction, woken by its NOTIFY', async () => (await consumer.findKey(def, 'third'))?.state === 'completed', 20_000)
      expect((await runsOf(name)).map((r) => [r.n, r.worker])).toEqual([[1, 'other'], [2, 'other'], [3, 'other']])
    } finally {
      if (notifier !== store.notifier) await notifier.close()
    }
  }, 60_000)

  it('pg-boss NOTIFYs on the channel the workers listen on', async () => {
    const channel = await sql<{ channel: string }>`SELECT ('pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24)) AS channel`.execute(store.db)
    expect(bossNotifyChannel('pgboss')).toBe(channel.rows[0]!.channel)
  })
})

describe('failures', () => {
  it('retries with exponential backoff, then dead-letters with the last error', async () => {
    const name = uniqueName('retry')
    const attempts: number[] = []
    const dead: Array<{ n: number; error: string; key: string | null }> = []
    const def: Def = {
      name, payload: Payload, retryLimit: 2, retryDelaySeconds: 1, retryBackoff: true,
      async handle(_p, ctx) {
        attempts.push(ctx.attempt)
        throw new Error(`boom ${ctx.attempt}`)
      },
      async onDead({ n }, ctx) {
        dead.push({ n, error: ctx.error, key: ctx.key })
      },
    }
    const q = await openQueue([def])
    const { jobId } = await q.enqueue(store.db, def, { n: 5 }, { key: 'doomed' })
    for (const attempt of [1, 2]) {
      await waitFor(`failure ${attempt}`, async () => {
        const key = await q.findKey(def, 'doomed')
        return key?.state === 'retrying' && key.attempts === attempt && key.lastError === `boom ${attempt}`
      })
      // The retry waits: pg-boss pushed start_after into the future with backoff on.
      const job = await waitFor('the retry to be scheduled', async () => {
        const j = await bossJob(jobId)
        // pg-boss counts retries when it fetches one: after failure n the count is still n - 1.
        return j?.state === 'retry' && j.retry_count === attempt - 1 ? j : undefined
      })
      expect(job.retry_backoff).toBe(true)
      expect(job.start_after.getTime()).toBeGreaterThan(Date.now() - 500)
      // Fast-forward the backoff instead of sleeping through it.
      await sql`UPDATE pgboss.job SET start_after = now() WHERE id = ${jobId}`.execute(store.db)
      q.wake(def)
    }
    await waitFor('the dead letter', async () => (await q.findKey(def, 'doomed'))?.state === 'dead')
    expect(await q.findKey(def, 'doomed')).toMatchObject({ state: 'dead', attempts: 3, lastError: 'boom 3' })
    expect(attempts).toEqual([1, 2, 3])
    expect(dead).toEqual([{ n: 5, error: 'boom 3', key: 'doomed' }])
    expect((await q.deadLetters(def)).map((k) => k.key)).toEqual(['doomed'])
    expect((await bossJob(jobId))?.state).toBe('failed')
  })

  it('a PermanentJobError dead-letters at once, without retries', async () => {
    const name = uniqueName('permanent')
    const dead: string[] = []
    const def: Def = {
      name, payload: Payload, retryLimit: 5,
      async handle() {
        throw new PermanentJobError('invalid_recipient', 'no such number')
      },
      async onDead(_p, ctx) {
        dead.push(ctx.error)
      },
    }
    const q = await openQueue([def])
    await q.enqueue(store.db, def, { n: 1 }, { key: 'p' })
    await waitFor('the dead letter', async () => (await q.findKey(def, 'p'))?.state === 'dead')
    expect(await q.findKey(def, 'p')).toMatchObject({ attempts: 1, lastError: 'no such number' })
    expect(dead).toEqual(['no such number'])
  })

  it('validates the payload again when a worker picks the job up', async () => {
    const name = uniqueName('validate')
    // A producer with a looser schema than the worker's (a row written before a schema change).
    const loose: JobDefinition = { name, payload: Type.Object({ n: Type.Unknown() }), async handle() {} }
    const handled: unknown[] = []
    const strict: Def = { name, payload: Payload, retryLimit: 5, async handle(p) { handled.push(p) } }
    const producer = new JobQueue({ db: store.db, url: store.url, poolSize: 2 })
    queues.push(producer)
    producer.define(loose)
    await producer.start()
    await producer.enqueue(store.db, loose, { n: 'not a number' }, { key: 'v' })
    const q = await openQueue([strict])
    await waitFor('the dead letter', async () => (await q.findKey(strict, 'v'))?.state === 'dead')
    expect((await q.findKey(strict, 'v'))?.lastError).toMatch(/^invalid payload: \/n/)
    expect(handled).toEqual([])
  })
})

describe('metrics', () => {
  it('counts jobs by queue and state at scrape time', async () => {
    const name = uniqueName('metrics')
    const def = counting(name, 'w')
    const q = await openQueue([def], { work: false })
    await q.enqueue(store.db, def, { n: 1 }, { key: 'a' })
    await q.enqueue(store.db, def, { n: 2 }, { key: 'b' })
    expect((await q.counts()).filter((c) => c.queue === name)).toEqual([{ queue: name, state: 'created', count: 2 }])
    const registry = new Registry()
    registerJobMetrics(registry, q)
    expect(await registry.metrics()).toContain(`switchboard_jobs{queue="${name}",state="created"} 2`)
    await q.work({ pollingIntervalSeconds: 0.5 })
    await waitFor('both jobs', async () => (await runsOf(name)).length === 2)
    await waitFor('the completed count', async () => (await registry.metrics()).includes(`switchboard_jobs{queue="${name}",state="completed"} 2`))
    expect(await registry.metrics()).not.toContain(`switchboard_jobs{queue="${name}",state="created"}`)
  })
})
