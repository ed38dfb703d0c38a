import { createHash, randomUUID } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import { PgBoss, fromKysely, type JobResult, type JobWithMetadata, type Queue } from 'pg-boss'
import type { Static, TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import type { Notifier } from '../db/notifier.ts'
import type { DB } from '../db/schema.ts'
import { JobKeysRepository } from './job-keys.repository.ts'
import {
  DeferJobError, PermanentJobError, type EnqueueItem, type EnqueueOptions, type EnqueueResult, type JobContext, type JobDefinition, type JobKey, type JobsLogger, type JobType,
} from './types.ts'

/**
 * The dead-letter queue of a queue: where its jobs that gave up land, for a worker of the same
 * definitions to record the last error and call `onDead`. One per queue, so a process that does not
 * know a job (an older release during a rolling deploy) never handles its dead letters.
 */
export function deadLetterQueue(name: string): string {
  return `${name}${DEAD_SUFFIX}`
}
const DEAD_SUFFIX = '.dead'

/** The pg-boss schema in our database. */
export const DEFAULT_BOSS_SCHEMA = 'pgboss'

/** What we store as the pg-boss job's data: our key travels with the payload so the worker can check it. */
interface Envelope {
  key: string | null
  payload: unknown
}

interface Registered {
  def: JobDefinition
  validator: Validator
}

/** How one job count row looks (`counts()`), for metrics. */
export interface JobCount {
  queue: string
  state: string
  count: number
}

export interface JobQueueOptions {
  /** Our database (the key ledger, counts). */
  db: Kysely<DB>
  /** Connection URL of the same database, for pg-boss's own small pool. */
  url: string
  /** pg-boss schema; tests on a shared server may isolate with their own. Default `pgboss`. */
  schema?: string
  /** pg-boss pool size. Default 4. */
  poolSize?: number
  /**
   * How often a supervising process fails expired and heartbeat-dead attempts so they retry
   * (seconds). Default 60.
   */
  superviseIntervalSeconds?: number
  logger?: JobsLogger
  /**
   * The store's notifications (`Store.notifier`): through them this process's workers hear of jobs
   * that other processes commit (pg-boss NOTIFYs on insert), and fetch them at once instead of at
   * their next poll. Without it they poll only.
   */
  notifier?: Notifier
}

/**
 * The channel pg-boss NOTIFYs on (with the queue's name as payload) when a job of a `notify` queue
 * becomes runnable: pg-boss's `notifyChannelSql`, `'pgboss_'` and the first 24 hex digits of the
 * SHA-224 of the schema name. The worker test of a cross-process wake fails if it ever changes.
 */
export function bossNotifyChannel(schema: string): string {
  return `pgboss_${createHash('sha224').update(schema).digest('hex').slice(0, 24)}`
}

export interface StartOptions {
  /**
   * Run pg-boss maintenance (expiring hung jobs, retention, queue stats) and the cron scheduler in
   * this process. Worker processes do; API-only processes only enqueue. Default false.
   */
  supervise?: boolean
}

export interface WorkOptions {
  /** How often an idle worker looks for due jobs. Enqueues in this process wake it at once. Default 2. */
  pollingIntervalSeconds?: number
}

/** A kind of pg-boss error is logged at most once per this many milliseconds. */
const ERROR_LOG_INTERVAL_MS = 10_000

const silent: JobsLogger = { info() {}, warn() {}, error() {}, debug() {} }

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err) ?? String(err)
  } catch {
    return String(err)
  }
}

/** The error text pg-boss kept as a failed job's output (ours: `{message}`; its own: a serialized Error). */
function outputText(output: unknown): string {
  if (output && typeof output === 'object' && typeof (output as { message?: unknown }).message === 'string') {
    return (output as { message: string }).message
  }
  return output === null || output === undefined ? 'unknown error' : errorText(output)
}

function queueOptions(def: JobDefinition): Omit<Queue, 'name'> & { deadLetter: string } {
  const retryBackoff = def.retryBackoff ?? true
  return {
    retryLimit: def.retryLimit ?? 5,
    retryDelay: def.retryDelaySeconds ?? 5,
    retryBackoff,
    ...(retryBackoff ? { retryDelayMax: def.retryDelayMaxSeconds ?? 3600 } : {}),
    expireInSeconds: def.expireInSeconds ?? 300,
    ...(def.heartbeatSeconds !== undefined ? { heartbeatSeconds: def.heartbeatSeconds } : {}),
    deadLetter: deadLetterQueue(def.name),
    // A job that becomes runnable NOTIFYs in the transaction that makes it so (see `notifier`).
    notify: true,
  }
}

/**
 * The job queue and scheduler: pg-boss on our own database, with our idempotency keys on top.
 *
 * - `enqueue(trx, job, payload, {key, runAt})` writes the key and the job in the caller's
 *   transaction, so the job exists exactly when the change that caused it commits.
 * - Workers (`work()`) validate each payload when they pick it up, check the key before acting,
 *   record every failed attempt, and retry with exponential backoff; a job out of retries (or one
 *   that threw a PermanentJobError) goes to the dead-letter queue, whose worker marks the key `dead`
 *   with the last error and calls the definition's `onDead`.
 * - Definitions with a `schedule` are registered as cron schedules by supervising processes.
 *
 * On the embedded store every transaction holds PGlite's single session, so nothing inside
 * `enqueue(trx)` may use another connection: the queue is started (and its queue cache warmed)
 * before any transaction can call it.
 */
export class JobQueue {
  readonly #db: Kysely<DB>
  readonly #keys: JobKeysRepository
  readonly #options: JobQueueOptions
  readonly #log: JobsLogger
  readonly #defs = new Map<string, Registered>()
  readonly #workerIds = new Map<string, string[]>()
  readonly #wakeTurn = new Map<string, number>()
  #boss: PgBoss | undefined
  #starting: Promise<PgBoss> | undefined
  #working = false
  #stopped = false
  #stopping: Promise<void> | undefined
  /** Whether this process runs maintenance and the cron scheduler (decided by the first `start`). */
  #supervising = false
  /** When each kind of pg-boss error was last logged, and how many were left out since. */
  readonly #errorsLogged = new Map<string, { at: number; suppressed: number }>()

  constructor(options: JobQueueOptions) {
    this.#options = options
    this.#db = options.db
    this.#keys = new JobKeysRepository(options.db)
    this.#log = options.logger ?? silent
  }

  /** The pg-boss schema this queue uses. */
  get schema(): string {
    return this.#options.schema ?? DEFAULT_BOSS_SCHEMA
  }

  /** True once `start()` finished (enqueue may then run inside a transaction). */
  get started(): boolean {
    return this.#boss !== undefined
  }

  /** Register a kind of job. Must happen before `start()`; returns the definition for typed enqueues. */
  define<S extends TSchema>(def: JobDefinition<S>): JobDefinition<S> {
    if (this.#starting) throw new Error(`job ${def.name}: define jobs before the queue starts`)
    if (this.#defs.has(def.name)) throw new Error(`job ${def.name} is already defined`)
    if (def.name.endsWith(DEAD_SUFFIX)) throw new Error(`job name ${def.name} may not end with ${DEAD_SUFFIX}`)
    if (!/^[\w.\-/]+$/.test(def.name)) throw new Error(`job name ${def.name} may only contain letters, digits and _ . - /`)
    this.#defs.set(def.name, { def: def as unknown as JobDefinition, validator: Compile(def.payload) as unknown as Validator })
    return def
  }

  /**
   * Connect pg-boss (installing or migrating its schema), create or update every defined queue,
   * and warm its queue cache. Idempotent; the first call's options win.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#stopped) throw new Error('the job queue was stopped')
    if (!this.#starting) {
      this.#supervising = options.supervise ?? false
      this.#starting = this.#start(this.#supervising).catch((err: unknown) => {
        this.#starting = undefined // a later call may try again (the database was not up yet, say)
        throw err
      })
    }
    await this.#starting
  }

  async #start(supervise: boolean): Promise<PgBoss> {
    const boss = new PgBoss({
      connectionString: this.#options.url,
      schema: this.schema,
      max: this.#options.poolSize ?? 4,
      // pg-boss's default is 10 s; a busy embedded store (one PGlite serving several processes
      // starting at once) can take longer to accept, and a refused connect at start ends `serve`.
      connectionTimeoutMillis: 30_000,
      application_name: 'switchboard-jobs',
      supervise,
      // Supervision passes and the per-queue monitor (expiry, dead heartbeats) run at the same pace.
      ...(this.#options.superviseIntervalSeconds
        ? { superviseIntervalSeconds: this.#options.superviseIntervalSeconds, monitorIntervalSeconds: this.#options.superviseIntervalSeconds }
        : {}),
      schedule: supervise,
      migrate: true,
    })
    // Without a listener pg-boss's errors would crash the process; they are transient (a poll that
    // lost its connection, the database restarting) and pg-boss carries on: its pool replaces dead
    // connections, its LISTEN connection reconnects, and an attempt cut short is retried.
    boss.on('error', (err) => this.#reportError(err))
    boss.on('warning', (w) => this.#log.warn({ warning: w }, 'job queue warning'))
    await boss.start()
    try {
      for (const { def } of this.#defs.values()) {
        // The dead-letter queue first: pg-boss checks that a queue's dead-letter queue exists.
        await this.#ensureQueue(boss, deadLetterQueue(def.name), { retryLimit: 5, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300 })
        await this.#ensureQueue(boss, def.name, queueOptions(def))
      }
    } catch (err) {
      await boss.stop({ graceful: false, close: true }).catch(() => {})
      throw err
    }
    this.#boss = boss
    return boss
  }

  /**
   * Log one of pg-boss's errors. While the database is away every poll of every worker fails the
   * same way, several times a second: each kind of error (its code, or its text) is logged at most
   * once per ERROR_LOG_INTERVAL_MS, with how many like it were left out since. Only the error's own
   * fields are logged (pg attaches the whole client object to some).
   */
  #reportError(err: unknown): void {
    const e = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown; stack?: unknown; queue?: unknown }
    const message = typeof e.message === 'string' ? e.message : errorText(err)
    const code = typeof e.code === 'string' ? e.code : undefined
    const kind = code ?? message.replace(/\s*\(Queue: .*\)$/, '')
    const now = Date.now()
    const last = this.#errorsLogged.get(kind)
    if (last && now - last.at < ERROR_LOG_INTERVAL_MS) {
      last.suppressed++
      return
    }
    if (this.#errorsLogged.size >= 100) this.#errorsLogged.clear()
    this.#errorsLogged.set(kind, { at: now, suppressed: 0 })
    const summary = {
      type: typeof e.name === 'string' ? e.name : typeof err, message,
      ...(code ? { code } : {}), ...(typeof e.queue === 'string' ? { queue: e.queue } : {}), ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    }
    this.#log.error({ err: summary, ...(last?.suppressed ? { suppressedSinceLast: last.suppressed } : {}) }, 'job queue error')
  }

  async #ensureQueue(boss: PgBoss, name: string, options: Omit<Queue, 'name'>): Promise<void> {
    await boss.createQueue(name, options)
    const queue = await boss.getQueue(name)
    const differs = queue && (Object.keys(options) as Array<keyof typeof options>).some((k) => queue[k] !== options[k])
    if (differs) await boss.updateQueue(name, options)
    // pg-boss looks a queue up in its cache on every send and queries its own pool on a miss. A miss
    // inside a caller's transaction would wait forever on the embedded store (the transaction holds
    // the only session), so fill the cache now: any call that goes through the cache does that.
    await boss.getJobById(name, '00000000-0000-0000-0000-000000000000')
  }

  /**
   * Run workers for every defined queue (and its dead-letter queue) in this process, and register
   * the cron schedules when this process supervises. Starts the queue if needed.
   */
  async work(options: WorkOptions = {}): Promise<void> {
    await this.start()
    const boss = this.#boss!
    if (this.#working) return
    this.#working = true
    const pollingIntervalSeconds = options.pollingIntervalSeconds ?? 2
    const workOptions = { batchSize: 1, includeMetadata: true, perJobResults: true, pollingIntervalSeconds } as const
    for (const registered of this.#defs.values()) {
      const ids: string[] = []
      const batchSize = Math.max(1, registered.def.batchSize ?? 1)
      // One pg-boss worker per slot (not localConcurrency) so that every one of them can be woken.
      for (let i = 0; i < (registered.def.concurrency ?? 2); i++) {
        const self: { id?: string } = {}
        self.id = await boss.work(registered.def.name, { ...workOptions, batchSize }, async (jobs: Array<JobWithMetadata<Envelope>>) => {
          const results = await this.#runBatch(registered, jobs)
          // A worker that found work fetches again at once instead of sleeping out its polling
          // interval; an empty fetch sleeps (or waits to be woken).
          if (self.id) boss.notifyWorker(self.id)
          return results
        })
        ids.push(self.id)
      }
      this.#workerIds.set(registered.def.name, ids)
      await boss.work(deadLetterQueue(registered.def.name), workOptions, async (jobs: Array<JobWithMetadata<Envelope>>) => {
        const results: JobResult[] = []
        for (const job of jobs) results.push(await this.#bury(registered, job))
        return results
      })
    }
    const notifier = this.#options.notifier
    if (notifier) {
      // A job another process committed: one worker of its queue fetches now (round robin, as after
      // an enqueue here). After a gap in notifications (reconnect) every queue looks once.
      notifier.onReset(() => {
        for (const name of this.#workerIds.keys()) this.wake(name)
      })
      try {
        await notifier.listen(bossNotifyChannel(this.schema), (queue) => {
          if (this.#workerIds.has(queue)) this.wake(queue)
        })
      } catch (err) {
        this.#log.warn({ err }, 'job queue: not listening for jobs of other processes; polling only')
      }
    }
    if (this.#supervising) {
      for (const { def } of this.#defs.values()) {
        if (!def.schedule) continue
        await boss.schedule(def.name, def.schedule.cron, { key: null, payload: def.schedule.payload } satisfies Envelope, { tz: def.schedule.tz ?? 'UTC' })
      }
    }
  }

  /**
   * Enqueue a job under an idempotency key, in `db`'s transaction when it is one (the job then
   * exists exactly when that transaction commits), else in a transaction of its own. A key already
   * taken in this queue returns the existing job and enqueues nothing.
   */
  async enqueue<S extends TSchema>(db: Kysely<DB> | Transaction<DB>, job: JobType<S>, payload: Static<S>, options: EnqueueOptions): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany(db, job, [{ ...options, payload }])
    return result!
  }

  /**
   * `enqueue` for many jobs of one queue at once: the keys in one statement and the jobs in
   * another, all in `db`'s transaction when it is one (else in one of their own). Answers in the
   * order given. Every payload and key is checked before anything is written; a key given twice
   * in one call is refused.
   */
  async enqueueMany<S extends TSchema>(db: Kysely<DB> | Transaction<DB>, job: JobType<S>, items: ReadonlyArray<EnqueueItem<Static<S>>>): Promise<EnqueueResult[]> {
    const registered = this.#defs.get(job.name)
    if (!registered) throw new Error(`job ${job.name} is not defined on this queue`)
    const seen = new Set<string>()
    for (const item of items) {
      if (!registered.validator.Check(item.payload)) {
        throw new TypeError(`job ${job.name}: invalid payload: ${this.#describe(registered, item.payload)}`)
      }
      if (typeof item.key !== 'string' || item.key.length === 0 || item.key.length > 500) {
        throw new TypeError(`job ${job.name}: the idempotency key must be 1-500 characters`)
      }
      if (seen.has(item.key)) throw new TypeError(`job ${job.name}: the idempotency key ${item.key} is given twice`)
      seen.add(item.key)
    }
    if (items.length === 0) return []
    if (!this.#boss) {
      // Starting uses pg-boss's own connections, which a caller's open transaction would block on
      // the embedded store; only start here when we are not inside one.
      if (db.isTransaction) throw new Error('start the job queue before enqueueing inside a transaction')
      await this.start()
    }
    const boss = this.#boss!
    const now = new Date()
    const rows = items.map((item) => ({ item, jobId: randomUUID(), runAt: item.runAt ?? now }))
    const insert = async (trx: Transaction<DB>): Promise<EnqueueResult[]> => {
      const free = await this.#keys.insertMany(trx, job.name, rows.map((r) => ({ key: r.item.key, jobId: r.jobId, tenantId: r.item.tenantId ?? null, runAt: r.runAt })))
      const created = rows.filter((r) => free.has(r.item.key))
      const existing = created.length < rows.length ? await this.#keys.jobIds(trx, job.name, rows.filter((r) => !free.has(r.item.key)).map((r) => r.item.key)) : new Map<string, string>()
      if (created.length > 0) {
        // A job due now goes in without a start time, so it starts at the database's `now()`: the
        // start of the caller's transaction. Our clock's "now" is later than that, and pg-boss only
        // NOTIFYs the other processes' workers of a job whose start is not after `now()` — with
        // it, a job enqueued inside a transaction waited for the next poll (up to 2 s).
        await boss.insert(job.name, created.map((r) => ({
          id: r.jobId, data: { key: r.item.key, payload: r.item.payload } satisfies Envelope, ...(r.runAt > now ? { startAfter: r.runAt.toISOString() } : {}),
        })), { db: fromKysely(trx) })
      }
      return rows.map((r) => {
        if (free.has(r.item.key)) return { jobId: r.jobId, created: true }
        const jobId = existing.get(r.item.key)
        if (!jobId) throw new Error(`job key ${job.name}/${r.item.key} vanished`)
        return { jobId, created: false }
      })
    }
    if (db.isTransaction) return insert(db as Transaction<DB>)
    const results = await db.transaction().execute(insert)
    if (rows.some((r, i) => results[i]!.created && r.runAt.getTime() <= Date.now())) this.wake(job)
    return results
  }

  /**
   * Move a job that has not started yet (state `created`) to run at `runAt`, sooner or later than
   * planned; found by its idempotency key. False when there is no such job or it already started.
   */
  async reschedule(job: JobType | string, key: string, runAt: Date): Promise<boolean> {
    const name = typeof job === 'string' ? job : job.name
    const moved = await sql<{ id: string }>`
      UPDATE ${sql.table(`${this.schema}.job`)} j SET start_after = ${runAt}
      FROM job_keys k
      WHERE k.queue = ${name} AND k.key = ${key} AND j.name = ${name} AND j.id = k.job_id AND j.state = 'created'
      RETURNING j.id`.execute(this.#db)
    if (moved.rows.length === 0) return false
    if (runAt.getTime() <= Date.now()) this.wake(name)
    return true
  }

  /**
   * Wake one of this process's workers of a queue so jobs enqueued (and committed) just now run
   * without waiting for the next poll. Call after committing a transaction that enqueued.
   */
  wake(job: JobType | string): void {
    const name = typeof job === 'string' ? job : job.name
    const boss = this.#boss
    if (!boss) return
    // One worker is enough for what one commit made due: it fetches a whole batch, and a worker
    // that found work fetches again at once. Round robin, so concurrent commits wake different ones.
    const ids = this.#workerIds.get(name)
    if (!ids || ids.length === 0) return
    const next = ((this.#wakeTurn.get(name) ?? -1) + 1) % ids.length
    this.#wakeTurn.set(name, next)
    boss.notifyWorker(ids[next]!)
  }

  /**
   * Run a fetched batch: check each payload, claim the keys (one statement), hand the jobs to the
   * definition (`handleBatch`, or `handle` one after another), then complete the successes' keys
   * (one statement) and settle each failure. Answers one result per job for pg-boss.
   */
  async #runBatch(registered: Registered, jobs: ReadonlyArray<JobWithMetadata<Envelope>>): Promise<JobResult[]> {
    const { def, validator } = registered
    const results = new Map<string, JobResult>()
    const runnable: Array<{ job: JobWithMetadata<Envelope>; key: string | null; payload: unknown }> = []
    for (const job of jobs) {
      const envelope = (job.data ?? {}) as Partial<Envelope>
      const key = typeof envelope.key === 'string' ? envelope.key : null
      // Validate at this edge too: the row may predate a schema change, or have been written by hand.
      if (!validator.Check(envelope.payload)) {
        const message = `invalid payload: ${this.#describe(registered, envelope.payload)}`
        this.#log.error({ queue: def.name, jobId: job.id, key }, `job ${def.name} dead-lettered: ${message}`)
        if (key !== null) await this.#keys.recordFailure(def.name, key, job.id, message)
        results.set(job.id, { id: job.id, status: 'deadletter', output: { message, code: 'invalid_payload' } })
      } else runnable.push({ job, key, payload: envelope.payload })
    }
    const keyed = runnable.filter((r) => r.key !== null).map((r) => ({ key: r.key!, jobId: r.job.id }))
    const claims = await this.#keys.claimMany(def.name, keyed)
    const items: Array<{ job: JobWithMetadata<Envelope>; key: string | null; payload: unknown; ctx: JobContext }> = []
    for (const r of runnable) {
      let attempt = r.job.retryCount + 1
      if (r.key !== null) {
        const claimed = claims.get(r.job.id)
        if (claimed === undefined) {
          // Finished already (a crash after the handler but before pg-boss's completion), superseded,
          // or pruned: acting again could send a message twice.
          this.#log.info({ queue: def.name, jobId: r.job.id, key: r.key }, `job ${def.name} skipped: its key is already finished or belongs to another job`)
          results.set(r.job.id, { id: r.job.id, status: 'completed', output: { skipped: true } })
          continue
        }
        attempt = Math.max(attempt, claimed)
      }
      items.push({ ...r, ctx: { jobId: r.job.id, key: r.key, attempt, maxAttempts: r.job.retryLimit + 1, signal: r.job.signal } })
    }
    let outcomes: ReadonlyArray<unknown>
    if (items.length === 0) outcomes = []
    else if (def.handleBatch) {
      try {
        outcomes = await def.handleBatch(items.map((i) => ({ payload: i.payload as never, ctx: i.ctx })))
        if (outcomes.length !== items.length) throw new Error(`job ${def.name}: handleBatch answered ${outcomes.length} outcomes for ${items.length} jobs`)
      } catch (err) {
        outcomes = items.map(() => err ?? new Error('handleBatch failed'))
      }
    } else {
      const each: unknown[] = []
      for (const i of items) {
        try {
          await def.handle(i.payload as never, i.ctx)
          each.push(undefined)
        } catch (err) {
          each.push(err ?? new Error('handler failed'))
        }
      }
      outcomes = each
    }
    const succeeded = items.filter((_, n) => outcomes[n] === undefined)
    await this.#keys.completeMany(def.name, succeeded.filter((i) => i.key !== null).map((i) => ({ key: i.key!, jobId: i.job.id })))
    for (const i of succeeded) results.set(i.job.id, { id: i.job.id, status: 'completed' })
    for (const [n, i] of items.entries()) {
      const err = outcomes[n]
      if (err !== undefined) results.set(i.job.id, await this.#failed(registered, i.job, i.key, i.ctx.attempt, err))
    }
    return jobs.map((job) => results.get(job.id)!)
  }

  /** One job's attempt failed with `err`: put it off, retry it, or dead-letter it. */
  async #failed(registered: Registered, job: JobWithMetadata<Envelope>, key: string | null, attempt: number, err: unknown): Promise<JobResult> {
    const { def } = registered
    if (err instanceof DeferJobError && key !== null) return this.#defer(registered, job, key, err.until)
    const message = errorText(err)
    const permanent = err instanceof PermanentJobError
    const final = permanent || job.retryCount >= job.retryLimit
    this.#log.warn({ queue: def.name, jobId: job.id, key, attempt, err }, `job ${def.name} failed${final ? '; dead-lettering it' : '; it will be retried'}`)
    if (key !== null) await this.#keys.recordFailure(def.name, key, job.id, message)
    const retryAfterMs = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs
    if (!final && typeof retryAfterMs === 'number' && retryAfterMs > 0) await this.#delayRetry(def.name, job, retryAfterMs)
    const code = permanent ? err.code : (err as { code?: unknown } | null)?.code
    return { id: job.id, status: permanent ? 'deadletter' : 'failed', output: { message, ...(typeof code === 'string' ? { code } : {}) } }
  }

  /**
   * The failing party asked us to wait (`Retry-After`): raise this job's retry delay so that the
   * coming retry — pg-boss's exponential backoff with jitter, between 2^n and 2^(n+1) times the
   * delay for the n-th retry — is no sooner than asked. Applied before pg-boss fails the attempt.
   */
  async #delayRetry(queue: string, job: JobWithMetadata<Envelope>, retryAfterMs: number): Promise<void> {
    const base = Math.ceil(retryAfterMs / 1000 / 2 ** job.retryCount)
    await sql`UPDATE ${sql.table(`${this.schema}.job`)} SET retry_delay = greatest(retry_delay, ${base}::int)
      WHERE name = ${queue} AND id = ${job.id}`.execute(this.#db)
  }

  /**
   * Put a job off without an attempt: in one transaction the key moves to a new job that starts at
   * `until`, and this one completes as superseded (a crash before pg-boss records that leaves it to
   * be retried, and its claim then fails because the key names the new job).
   */
  async #defer(registered: Registered, job: JobWithMetadata<Envelope>, key: string, until: Date): Promise<JobResult> {
    const boss = this.#boss!
    const name = registered.def.name
    const nextId = randomUUID()
    await this.#db.transaction().execute(async (trx) => {
      await trx.updateTable('job_keys')
        .set({ job_id: nextId, state: 'queued', attempts: sql`greatest(attempts - 1, 0)`, run_at: until, updated_at: sql`now()` })
        .where('queue', '=', name).where('key', '=', key).where('job_id', '=', job.id)
        .execute()
      await boss.send(name, job.data, { db: fromKysely(trx), id: nextId, startAfter: until })
    })
    return { id: job.id, status: 'completed', output: { deferredTo: nextId, until: until.toISOString() } }
  }

  /** A job of ours that gave up: record the last error on its key (once) and tell its definition. */
  async #bury(registered: Registered, dead: JobWithMetadata<Envelope>): Promise<JobResult> {
    const queue = registered.def.name
    const jobId = dead.sourceId
    if (!jobId) return { id: dead.id, status: 'completed' }
    const envelope = (dead.data ?? {}) as Partial<Envelope>
    const key = typeof envelope.key === 'string' ? envelope.key : null
    const error = outputText(dead.output)
    if (key !== null) {
      const current = await this.#keys.find(this.#db, queue, key)
      if (current && (current.state === 'dead' || current.jobId !== jobId)) return { id: dead.id, status: 'completed' }
    }
    // onDead first and the key after: if onDead fails, this dead-letter job retries and calls it again.
    if (registered.def.onDead && registered.validator.Check(envelope.payload)) {
      await registered.def.onDead(envelope.payload as never, { jobId, key, error })
    }
    if (key !== null) await this.#keys.markDead(queue, key, jobId, error)
    this.#log.error({ queue, jobId, key, error }, `job ${queue} is dead: ${error}`)
    return { id: dead.id, status: 'completed' }
  }

  #describe(registered: Registered, value: unknown): string {
    const first = registered.validator.Errors(value)[0]
    if (!first) return 'does not match the schema'
    return `${first.instancePath || '/'} ${first.message}`
  }

  /** The idempotency key of a job, with its state, attempts and last error. */
  findKey(job: JobType | string, key: string): Promise<JobKey | undefined> {
    return this.#keys.find(this.#db, typeof job === 'string' ? job : job.name, key)
  }

  /** Dead-lettered keys of a queue, most recent first. */
  deadLetters(job: JobType | string, limit = 100): Promise<JobKey[]> {
    return this.#keys.listByState(typeof job === 'string' ? job : job.name, 'dead', limit)
  }

  /** Delete completed keys finished before `before` (at most `limit`); returns how many. */
  pruneCompletedKeys(before: Date, limit = 10_000): Promise<number> {
    return this.#keys.pruneCompleted(before, limit)
  }

  /**
   * Jobs in pg-boss's table by queue and state (created, retry, active, completed, cancelled,
   * failed), counted now; empty before pg-boss first installed its schema.
   */
  async counts(): Promise<JobCount[]> {
    try {
      const result = await sql<JobCount>`SELECT name AS queue, state::text AS state, count(*)::int AS count
        FROM ${sql.table(`${this.schema}.job`)} GROUP BY name, state ORDER BY name, state`.execute(this.#db)
      return result.rows
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === '42P01' || code === '3F000') return []
      throw err
    }
  }

  /**
   * Stop: workers take no new jobs, jobs in flight get up to `timeoutMs` to finish (then they are
   * failed and will be retried), pg-boss's connections close. Idempotent. Close the store after.
   */
  /** Stop (once: later calls wait for the first, whose options win). */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options)
    return this.#stopping
  }

  async #stop(options: { timeoutMs?: number }): Promise<void> {
    this.#stopped = true
    const starting = this.#starting
    if (!starting) return
    const boss = await starting.catch(() => undefined)
    if (!boss) return
    const timeoutMs = options.timeoutMs ?? 30_000
    let drained = true
    if (this.#working) {
      // Stop this process's workers first and wait for their jobs in flight (within the time
      // limit): pg-boss's graceful stop would otherwise poll for them every 500 ms, so closing an
      // app with workers took half a second even when nothing was running.
      const queues = [...this.#defs.values()].flatMap(({ def }) => [def.name, deadLetterQueue(def.name)])
      const workersStopped = Promise.allSettled(queues.map((name) => boss.offWork(name, { wait: true }))).then(() => true)
      let timer: NodeJS.Timeout | undefined
      drained = await Promise.race([workersStopped, new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })])
      clearTimeout(timer)
    }
    // Past the limit, what is still running is failed at once (and will be retried).
    await boss.stop({ graceful: drained, close: true, timeout: timeoutMs })
    this.#workerIds.clear()
  }
}
