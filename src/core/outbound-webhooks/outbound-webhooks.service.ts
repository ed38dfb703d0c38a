import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { DeferJobError, PermanentJobError, type JobQueue } from '../../jobs/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { GuardedHttpClient, UnsafeUrlError, type UrlPolicy } from '../../lib/url-safety.ts'
import { SEND_WEBHOOK_JOB, webhookJobKey } from './outbound-webhooks.jobs.ts'
import { OutboundWebhooksRepository, type WebhookOutcome } from './outbound-webhooks.repository.ts'
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './outbound-webhooks.signature.ts'
import {
  NO_WEBHOOK_TARGETS, type EnqueueWebhookInput, type EnqueueWebhookResult, type ListWebhooksOptions, type OutboundWebhook,
  type OutboundWebhookErrorCode, type WebhookTargets,
} from './outbound-webhooks.types.ts'

const TOPIC = /^[A-Za-z0-9_.:/-]{1,200}$/
const MAX_KEY = 200
/** Largest serialised body (the column's check): events are small; a bigger one is a caller's bug. */
export const MAX_WEBHOOK_BODY_BYTES = 262_144
/** What is kept of an endpoint's answer, for the error text. */
const MAX_ANSWER_BYTES = 4096
/** How often, and how far apart, a settled event looks for the next one's put-off job (see `#settle`). */
/** How long a settled event waits for the next one's running attempt to put itself off (then wakes it). */
const RESCHEDULE_WITHIN_MS = 15_000
const RESCHEDULE_WAIT_MS = 50
/** A `Retry-After` longer than this is not honoured beyond it (the queue's backoff ceiling). */
const MAX_RETRY_AFTER_MS = 3_600_000

/** An attempt that did not deliver but may on a later one (5xx, 408, 429, timeout, network). */
class RetryableWebhookError extends Error {
  readonly code: OutboundWebhookErrorCode
  readonly retryAfterMs: number | undefined
  constructor(code: OutboundWebhookErrorCode, message: string, retryAfterMs?: number) {
    super(message)
    this.name = 'RetryableWebhookError'
    this.code = code
    this.retryAfterMs = retryAfterMs
  }
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds from now, bounded. */
function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) * 1000 : Date.parse(text) - now
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : undefined
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err)
  return code && !message.includes(code) ? `${code}: ${message}` : message
}

/** Options of the service beyond the database and the queue. */
export interface OutboundWebhooksOptions {
  /** Where each tenant's events go (asked at every attempt). Default: nowhere (every event `no_target`). */
  readonly targets?: WebhookTargets | undefined
  /**
   * The guarded HTTP client every POST goes through: tenant URLs are held to the outbound URL
   * policy as each connection is made. Default: one of the service's own under `urlPolicy`.
   */
  readonly http?: GuardedHttpClient | undefined
  /** The operator's outbound URL policy for the service's own client. Default: strict (nothing private). */
  readonly urlPolicy?: UrlPolicy | undefined
  /** Deadline of one POST, answer included. Default 10 s. */
  readonly timeoutMs?: number | undefined
  /**
   * How long an event waiting behind an earlier pending event of its ordering key is put off
   * before it looks again (it is woken at once when the earlier one settles). Default 30 s.
   */
  readonly orderRecheckMs?: number | undefined
  /** `User-Agent` of the POSTs. */
  readonly userAgent?: string | undefined
}

/** What a delivery attempt knows of its job. */
export interface WebhookAttemptContext {
  readonly signal?: AbortSignal | undefined
}

/**
 * Outbound webhooks: events a tenant's HTTP endpoint receives, signed as ccai.md §1.12. `enqueue`
 * writes the event (its body serialised once: those bytes are signed and sent on every attempt)
 * with a `webhooks.send` job in the caller's transaction; the job (src/jobs/outbound-webhook.job.ts)
 * calls `attempt`, which asks the `WebhookTargets` port for the tenant's URL and secrets, signs,
 * and POSTs through the guarded HTTP client. 2xx: delivered. 4xx but 408 and 429, 3xx (redirects
 * are not followed), a URL the outbound URL policy refuses, a target without secrets: failed at
 * once. 5xx, 408, 429, timeouts and network errors: retried by the queue with exponential backoff
 * (bounded attempts, never sooner than a `Retry-After`), then failed. No target: dropped.
 *
 * Delivery is at least once (a worker that dies after the POST but before recording it POSTs
 * again): receivers dedupe on `X-Webhook-Id`. Events of one ordering key are POSTed one after
 * another in enqueue order; see `enqueue`.
 */
export class OutboundWebhooksService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #repo: OutboundWebhooksRepository
  readonly #targets: WebhookTargets
  readonly #http: GuardedHttpClient
  readonly #ownHttp: boolean
  readonly #timeoutMs: number
  readonly #orderRecheckMs: number
  readonly #userAgent: string

  constructor(db: Kysely<DB>, jobs: JobQueue, options: OutboundWebhooksOptions = {}) {
    this.#db = db
    this.#jobs = jobs
    this.#repo = new OutboundWebhooksRepository(db)
    this.#targets = options.targets ?? NO_WEBHOOK_TARGETS
    this.#ownHttp = options.http === undefined
    this.#http = options.http ?? new GuardedHttpClient({ policy: options.urlPolicy, maxSockets: 16 })
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#orderRecheckMs = options.orderRecheckMs ?? 30_000
    this.#userAgent = options.userAgent ?? 'Switchboard-Webhooks/1'
  }

  /**
   * Queue an event for the tenant's endpoint. In `db`'s transaction when it is one (the event and
   * its job then exist exactly when that transaction commits; call `wake()` after the commit for
   * an immediate send, else the next poll takes it), else in one of its own. The same
   * `idempotencyKey` again enqueues nothing and answers the first event.
   *
   * Ordering: events with the same `orderingKey` are POSTed one after another, in the order they
   * were enqueued (by commit; producers of one chat serialise on the chat, so that is the chat's
   * order): an event is not sent while an earlier one of its key is pending, however long that
   * one retries; once it is delivered, failed or dropped the next goes. No order holds across keys.
   * Throws TypeError on input a caller's code got wrong (these are not user input).
   */
  async enqueue(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, input: EnqueueWebhookInput): Promise<EnqueueWebhookResult> {
    const row = this.#check(input)
    const write = async (trx: Transaction<DB>): Promise<EnqueueWebhookResult> => {
      const made = await this.#repo.insert(trx, tenantId, row)
      if (!made) {
        const first = await this.#repo.findByKey(trx, tenantId, row.idempotencyKey)
        if (!first) throw new Error('webhook key conflicted but no event has it')
        return { webhook: first, created: false }
      }
      await this.#jobs.enqueue(trx, SEND_WEBHOOK_JOB, { tenantId, webhookId: made.id }, { key: webhookJobKey(made.id), tenantId })
      return { webhook: made, created: true }
    }
    if (db.isTransaction) return write(db as Transaction<DB>)
    const result = await db.transaction().execute(write)
    if (result.created) this.wake()
    return result
  }

  /** Wake this process's webhook workers (after a transaction that enqueued commits). */
  wake(): void {
    this.#jobs.wake(SEND_WEBHOOK_JOB)
  }

  /** One event of the tenant, or undefined (another tenant's is never found). */
  get(tenantId: TenantId, id: string): Promise<OutboundWebhook | undefined> {
    return this.#repo.find(this.#db, tenantId, id)
  }

  /** The tenant's events, newest first. */
  list(tenantId: TenantId, options: ListWebhooksOptions = {}): Promise<OutboundWebhook[]> {
    const limit = options.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new TypeError('limit must be 1-500')
    return this.#repo.list(tenantId, { status: options.status, topic: options.topic, limit })
  }

  /**
   * One delivery attempt of a pending event (the job's handler). Resolves when the event is
   * settled (delivered, dropped) or needs nothing (settled before, not this tenant's). Throws a
   * PermanentJobError after recording a permanent failure, a DeferJobError while an earlier event
   * of its ordering key is pending, and a retryable error (with `retryAfterMs` when the endpoint
   * asked) after recording a passing one.
   */
  async attempt(tenantId: TenantId, webhookId: string, ctx: WebhookAttemptContext = {}): Promise<void> {
    const hook = await this.#repo.find(this.#db, tenantId, webhookId)
    if (!hook || hook.status !== 'pending') return
    const earlier = await this.#repo.pendingBefore(tenantId, hook)
    if (earlier) throw new DeferJobError(new Date(Date.now() + this.#orderRecheckMs), `waiting for the earlier event ${earlier.id} of ${hook.orderingKey}`)
    const target = await this.#targets.resolve(tenantId, hook.topic)
    if (!target) {
      await this.#settle(hook, { status: 'dropped', attempted: false, errorCode: 'no_target', error: `no webhook target for ${hook.topic}` })
      return
    }
    if (target.secrets.length < 1 || target.secrets.length > 2 || target.secrets.some((s) => typeof s !== 'string' || s === '')) {
      await this.#fail(hook, { url: target.url, errorCode: 'invalid_target', error: 'the webhook target needs one or two non-empty secrets' }, false)
    }
    const timestamp = String(Math.floor(Date.now() / 1000))
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.#userAgent,
      [SIGNATURE_HEADER]: signWebhook(hook.body, timestamp, target.secrets),
      [TIMESTAMP_HEADER]: timestamp,
      'x-webhook-id': hook.id,
      'x-webhook-topic': hook.topic,
      'content-length': String(Buffer.byteLength(hook.body)),
    }
    let answer: Awaited<ReturnType<GuardedHttpClient['request']>>
    try {
      answer = await this.#http.request(target.url, {
        method: 'POST', headers, body: hook.body, timeoutMs: this.#timeoutMs, maxBodyBytes: MAX_ANSWER_BYTES, ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
    } catch (err) {
      if (err instanceof UnsafeUrlError) {
        const code = err.code === 'host_not_allowed' ? 'unsafe_url' : 'invalid_target'
        return this.#fail(hook, { url: target.url, errorCode: code, error: err.message }, false)
      }
      const timeout = (err as { name?: string }).name === 'TimeoutError' || (err as { name?: string }).name === 'AbortError'
      const failure = new RetryableWebhookError(timeout ? 'timeout' : 'network_error', timeout ? `no answer in ${this.#timeoutMs} ms` : errorText(err))
      await this.#repo.record(tenantId, hook.id, { status: 'pending', attempted: true, url: target.url, responseStatus: null, errorCode: failure.code, error: failure.message })
      throw failure
    }
    const status = answer.status
    if (status >= 200 && status < 300) {
      await this.#settle(hook, { status: 'delivered', attempted: true, url: target.url, responseStatus: status })
      return
    }
    const snippet = answer.body.toString('utf8').slice(0, 300).trim()
    const error = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`
    if (status >= 500 || status === 408 || status === 429) {
      await this.#repo.record(tenantId, hook.id, { status: 'pending', attempted: true, url: target.url, responseStatus: status, errorCode: 'http_error', error })
      throw new RetryableWebhookError('http_error', error, status === 429 || status === 503 ? retryAfterMs(answer.headers['retry-after'], Date.now()) : undefined)
    }
    // Other 4xx (the endpoint refuses this event) and 3xx (redirects are not followed).
    return this.#fail(hook, { url: target.url, responseStatus: status, errorCode: 'http_error', error }, true)
  }

  /**
   * The event's job gave up (retries exhausted, or its worker kept dying): a pending event is
   * failed, keeping its last attempt's error, and the next event of its ordering key may go.
   */
  async giveUp(tenantId: TenantId, webhookId: string, error: string): Promise<void> {
    const hook = await this.#repo.find(this.#db, tenantId, webhookId)
    if (!hook || hook.status !== 'pending') return
    await this.#settle(hook, { status: 'failed', attempted: false, errorCode: hook.lastErrorCode ?? 'network_error', error: hook.lastError ?? error })
  }

  /** Release the HTTP client's kept-alive connections (when the service made its own client). */
  close(): void {
    if (this.#ownHttp) this.#http.close()
  }

  /** Record a permanent failure, let the next event of the key go, and dead-letter the job. */
  async #fail(hook: OutboundWebhook, outcome: Omit<WebhookOutcome, 'status' | 'attempted'>, attempted: boolean): Promise<never> {
    await this.#settle(hook, { ...outcome, status: 'failed', attempted })
    throw new PermanentJobError(outcome.errorCode ?? 'http_error', outcome.error ?? 'failed')
  }

  /** Record a final outcome and wake the next pending event of the ordering key (it may be put off waiting for this one). */
  async #settle(hook: OutboundWebhook, outcome: WebhookOutcome): Promise<void> {
    const settled = await this.#repo.record(hook.tenantId, hook.id, outcome)
    if (!settled) return
    const next = await this.#repo.pendingAfter(hook.tenantId, hook)
    if (!next) return
    const key = webhookJobKey(next.id)
    // The next event's attempt may be running right now: it saw this one still pending and is
    // putting itself off (for orderRecheckMs); its new job exists once that commits, which takes
    // milliseconds — seconds on a loaded machine (2 s was seen to be too short). Look again while it
    // runs, up to RESCHEDULE_WITHIN_MS, instead of leaving it to wait the whole delay.
    for (const until = Date.now() + RESCHEDULE_WITHIN_MS; Date.now() < until;) {
      if (await this.#jobs.reschedule(SEND_WEBHOOK_JOB, key, new Date())) {
        this.wake()
        return
      }
      if ((await this.#jobs.findKey(SEND_WEBHOOK_JOB, key))?.state !== 'running') return
      await new Promise((r) => setTimeout(r, RESCHEDULE_WAIT_MS))
    }
  }

  #check(input: EnqueueWebhookInput): { topic: string; orderingKey: string | null; idempotencyKey: string; body: string } {
    if (typeof input?.topic !== 'string' || !TOPIC.test(input.topic)) throw new TypeError('a webhook topic is 1-200 letters, digits or _ . : / -')
    const key = input.idempotencyKey
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY || key.includes('\u0000')) {
      throw new TypeError(`a webhook idempotency key is 1-${MAX_KEY} characters`)
    }
    const ordering = input.orderingKey
    if (ordering !== undefined && (typeof ordering !== 'string' || ordering.length === 0 || ordering.length > MAX_KEY || ordering.includes('\u0000'))) {
      throw new TypeError(`a webhook ordering key is 1-${MAX_KEY} characters`)
    }
    if (typeof input.body !== 'object' || input.body === null) throw new TypeError('a webhook body is a JSON object or array')
    const body = JSON.stringify(input.body)
    if (Buffer.byteLength(body) > MAX_WEBHOOK_BODY_BYTES) throw new TypeError(`a webhook body is at most ${MAX_WEBHOOK_BODY_BYTES} bytes serialised`)
    return { topic: input.topic, orderingKey: ordering ?? null, idempotencyKey: key, body }
  }
}
