import type { Static, TSchema } from 'typebox'
import type { TenantId } from '../lib/tenant-id.ts'

/**
 * What names a kind of job and its payload: enough to enqueue it. Core modules export these (so
 * they can enqueue without depending on the handlers, which may use providers); the full
 * definition with the handler is defined on the queue by whoever wires the process.
 */
export interface JobType<S extends TSchema = TSchema> {
  /** Queue name: letters, digits, `_ . - /`. One queue per definition. */
  readonly name: string
  readonly payload: S
}

/**
 * A kind of background job: its queue name, the TypeBox schema of its payload (checked when the
 * job is enqueued and again when a worker picks it up), its retry policy and its handler.
 * Handlers must be idempotent: a job can run again after a crash between its effect and its
 * completion, so a handler checks its own state (the outbox row's status, say) before acting.
 */
export interface JobDefinition<S extends TSchema = TSchema> extends JobType<S> {
  /** Retries after the first attempt before the job is dead-lettered. Default 5. */
  readonly retryLimit?: number
  /** Seconds before the first retry; doubles (with jitter) on each retry when `retryBackoff`. Default 5. */
  readonly retryDelaySeconds?: number
  /** Exponential backoff between retries. Default true. */
  readonly retryBackoff?: boolean
  /** Ceiling of the backoff, seconds. Default 3600. */
  readonly retryDelayMaxSeconds?: number
  /** An attempt running longer than this is failed (and retried): the bound on a hung handler. Default 300. */
  readonly expireInSeconds?: number
  /**
   * A running attempt refreshes a heartbeat this often (seconds, ≥ 10); an attempt whose heartbeat
   * stops (its worker process was killed) is failed and retried by any supervising process after
   * this long, instead of waiting for `expireInSeconds`. Default: no heartbeat.
   */
  readonly heartbeatSeconds?: number
  /**
   * Workers of this queue one process runs at once. Default 2. With `batchSize` above 1 each worker
   * takes up to that many jobs per fetch, so up to `concurrency × batchSize` jobs are in hand.
   */
  readonly concurrency?: number
  /**
   * Jobs a worker fetches at once (default 1). Their keys are claimed, and the successes completed,
   * one statement per batch; `handleBatch`, when given, handles them together.
   */
  readonly batchSize?: number
  /**
   * Handle a fetched batch at once (instead of `handle` per job). Answers, in order, one outcome
   * per job: undefined for success, or the error it failed with (as `handle` would throw it:
   * PermanentJobError, DeferJobError, an error with `retryAfterMs`…). Throwing fails every job of
   * the batch. The same idempotency rules as `handle` apply to each job.
   */
  handleBatch?(jobs: ReadonlyArray<{ readonly payload: Static<S>; readonly ctx: JobContext }>): Promise<ReadonlyArray<unknown>>
  /** Run on a recurring schedule by processes started with `schedule: true` (cron, in `tz`, default UTC). */
  readonly schedule?: { readonly cron: string; readonly payload: Static<S>; readonly tz?: string }
  handle(payload: Static<S>, ctx: JobContext): Promise<void>
  /** Called once when the job is dead-lettered (retries exhausted or a PermanentJobError). */
  onDead?(payload: Static<S>, ctx: DeadJobContext): Promise<void>
}

/** What a handler knows about the attempt it runs. */
export interface JobContext {
  readonly jobId: string
  /** The idempotency key it was enqueued with; null for scheduled (cron) jobs. */
  readonly key: string | null
  /** 1 for the first attempt. */
  readonly attempt: number
  /** Attempts allowed in all (retryLimit + 1). */
  readonly maxAttempts: number
  /** Aborted when the attempt expires or the worker is shutting down past its grace period. */
  readonly signal: AbortSignal
}

/** What `onDead` knows about the job that gave up. */
export interface DeadJobContext {
  readonly jobId: string
  readonly key: string | null
  /** The error of the last attempt. */
  readonly error: string
}

/** Options of `JobQueue.enqueue`. */
export interface EnqueueOptions {
  /**
   * Idempotency key, unique per queue: enqueueing the same key again returns the first job and
   * runs nothing more, even after that job finished.
   */
  readonly key: string
  /** Not before this time (the scheduler's run-at). Default: now. */
  readonly runAt?: Date
  /** The tenant the job acts for, recorded with the key. */
  readonly tenantId?: TenantId | null
}

/** One job of `JobQueue.enqueueMany`: its payload and the options `enqueue` takes. */
export interface EnqueueItem<P = unknown> extends EnqueueOptions {
  readonly payload: P
}

/** The answer of `JobQueue.enqueue`. */
export interface EnqueueResult {
  readonly jobId: string
  /** False when the key was already taken: `jobId` is then the existing job's. */
  readonly created: boolean
}

/** State of an idempotency key, as the worker records it. */
export type JobKeyState = 'queued' | 'running' | 'retrying' | 'completed' | 'dead'

/** One idempotency key and what became of its job. */
export interface JobKey {
  readonly queue: string
  readonly key: string
  readonly jobId: string
  readonly tenantId: TenantId | null
  readonly state: JobKeyState
  readonly attempts: number
  readonly lastError: string | null
  readonly runAt: Date
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly finishedAt: Date | null
}

/**
 * Thrown by a handler when retrying cannot help (an invalid recipient, a payload that no longer
 * validates): the job is dead-lettered at once instead of being retried.
 */
export class PermanentJobError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PermanentJobError'
    this.code = code
  }
}

/** The logger the queue writes to: pino's shape, so the app's logger fits. */
export interface JobsLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/**
 * Thrown by a handler that cannot act yet (a sender's rate-limit slot is seconds away) and did
 * nothing: the job is put off until `until` as the same job key, without counting an attempt or
 * holding a worker while it waits.
 */
export class DeferJobError extends Error {
  readonly until: Date
  constructor(until: Date, message = 'put off') {
    super(message)
    this.name = 'DeferJobError'
    this.until = until
  }
}
