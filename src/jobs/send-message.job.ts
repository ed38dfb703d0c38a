import { SEND_MESSAGE_JOB, type Channel as CoreChannel, type DeliveryService, type DeliveryTracking, type Dispatcher, type OutboxMessage } from '../core/delivery/index.ts'
import { ProviderError, type Channel as ProviderChannel, type ProviderRegistry } from '../providers/index.ts'
import type { Static } from 'typebox'
import { DeferJobError, PermanentJobError, type JobContext, type JobDefinition } from './types.ts'

// Core and providers each list the channels (neither imports the other); they must be the same list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const channelsAgree: Same<CoreChannel, ProviderChannel> = true
void channelsAgree

/** Retry policy of `delivery.send` (tests and operators may shorten it). */
export interface SendRetryPolicy {
  /** Seconds before the first retry; doubles with jitter each retry. Default 10. */
  readonly retryDelaySeconds?: number
  /** Retries after the first attempt. Default 5. */
  readonly retryLimit?: number
}

/** Provider calls one batch makes at once. */
const SEND_LANES = 16

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (ms <= 0 || signal.aborted) return resolve()
  const timer = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => {
    clearTimeout(timer)
    resolve()
  }, { once: true })
})

/**
 * `delivery.send`: one outbox message to the tenant's provider for its channel. A worker takes
 * up to 50 at once: one statement claims them all, up to 16 provider calls run in parallel, and
 * one statement records every send (failures are recorded each on its own). Vendor outages
 * (timeouts, 5xx, 429) retry with exponential backoff and jitter (about 10 s, 20 s, 40 s… up to an
 * hour, five retries), never sooner than a vendor's `Retry-After`; then, or at once when the vendor
 * rejects the message, the message is marked `failed` with the vendor's last error (the dead
 * letter). A provider with a per-sender rate (Twilio: 1 SMS/s per number by default) gets a send
 * slot reserved in the database first, so the limit holds across every worker process; a slot more
 * than two seconds away puts the job off instead of holding the worker. A crash between the
 * vendor's answer and `recordSent` sends again on retry: at least once towards the vendor, which
 * gets our message id as its idempotency key (Twilio's `I-Twilio-Idempotency-Token`), so the
 * vendor sends it once. A worker killed mid-attempt is noticed by its stopped heartbeat.
 */
export function sendMessageJob(deps: {
  delivery: DeliveryService
  providers: ProviderRegistry
  tracking: DeliveryTracking
  /** Public base URL: status callbacks go to `<publicUrl>/webhooks/<vendor>/<tenant id>/status?message=<our id>`. */
  publicUrl?: string | undefined
  retry?: SendRetryPolicy | undefined
}): JobDefinition<typeof SEND_MESSAGE_JOB.payload> & { attempt: Dispatcher } {
  const { delivery, providers, tracking } = deps
  type Job = { readonly payload: Static<typeof SEND_MESSAGE_JOB.payload>; readonly ctx: JobContext }

  /** Send a batch: claim every message in one statement, call the providers in parallel, record the sends in one statement. */
  async function sendBatch(jobs: readonly Job[], claimed?: ReadonlyMap<string, OutboxMessage>): Promise<unknown[]> {
    const outcomes: unknown[] = jobs.map(() => undefined)
    const sent: Parameters<DeliveryTracking['recordSent']>[0][number][] = []
    try {
      // Messages already sent or failed, suppressed, or of a tenant that is gone are not taken.
      // Messages the caller wrote `sending` (an attempt at once) are taken already.
      const taken = claimed ?? await delivery.beginAttempts(jobs.map((j) => j.payload))
      // Each batch resolves a tenant's channel settings once.
      const settings = new Map<string, ReturnType<DeliveryService['channelSettings']>>()
      let next = 0
      const lane = async () => {
        for (let n = next++; n < jobs.length; n = next++) {
          const { payload: { tenantId, messageId }, ctx } = jobs[n]!
          const message = taken.get(messageId)
          if (!message) continue
          let provider: string | null = null
          try {
            const key = `${tenantId} ${message.channel}`
            if (!settings.has(key)) settings.set(key, delivery.channelSettings(tenantId, message.channel))
            const p = providers.resolve(message.channel, await settings.get(key)!)
            provider = p.id
            const rate = p.sendRate?.(message.from ?? undefined)
            if (rate) {
              const slot = await tracking.reserveSlot(tenantId, message.channel, rate.sender, rate.perSecond)
              if ('deferMs' in slot) {
                await tracking.releaseAttempt(tenantId, messageId)
                // Spread the put-off jobs over the backlog instead of waking them all at the same slot.
                throw new DeferJobError(new Date(Date.now() + slot.deferMs + Math.random() * slot.deferMs), `sender ${rate.sender} is at its rate limit`)
              }
              await sleep(slot.waitMs, ctx.signal)
              // A STOP that arrived while this attempt waited for its slot still wins.
              if (slot.waitMs > 0 && (await delivery.suppressedMeanwhile(tenantId, messageId))) continue
            }
            const result = await p.send({
              id: message.id, channel: message.channel, to: message.to, from: message.from ?? undefined,
              subject: message.subject ?? undefined, body: message.body, data: message.data,
              // Our id in the URL lets a report that overtakes recordSent find its message.
              statusCallbackUrl: deps.publicUrl ? `${deps.publicUrl}/webhooks/${encodeURIComponent(p.id)}/${tenantId}/status?message=${message.id}` : undefined,
            })
            sent.push({ tenantId, messageId, provider: p.id, providerMessageId: result.providerMessageId, status: result.status, channel: message.channel, body: message.body })
          } catch (err) {
            outcomes[n] = await failure(tenantId, messageId, provider, err)
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(SEND_LANES, jobs.length) }, lane))
      await tracking.recordSent(sent)
      return outcomes
    } finally {
      // A synchronous caller in this process (ping_person) waits on this instead of polling.
      for (const j of jobs) delivery.attemptSettled(j.payload.messageId)
    }
  }

  /** What a failed attempt becomes: the message records the error; the job retries, or dies at once for a rejection. */
  async function failure(tenantId: string, messageId: string, provider: string | null, err: unknown): Promise<unknown> {
    if (err instanceof DeferJobError) return err
    const error = err instanceof Error ? err.message : String(err)
    const final = err instanceof ProviderError && !err.retryable
    await delivery.recordFailure(tenantId, messageId, { provider, error, final })
    return final ? new PermanentJobError(err.code, error, { cause: err }) : err
  }

  return {
    ...SEND_MESSAGE_JOB,
    retryLimit: deps.retry?.retryLimit ?? 5,
    retryDelaySeconds: deps.retry?.retryDelaySeconds ?? 10,
    retryBackoff: true,
    retryDelayMaxSeconds: 3600,
    // A vendor call that takes longer than this is hung; the attempt is failed and retried.
    expireInSeconds: 120,
    heartbeatSeconds: 10,
    concurrency: 4,
    batchSize: 50,
    async handle(payload, ctx) {
      const [outcome] = await sendBatch([{ payload, ctx }])
      if (outcome !== undefined) throw outcome
    },
    handleBatch: (jobs) => sendBatch(jobs),
    /** Attempt messages already taken (`sending`) now, outside any job: `DeliveryService.sendNow`. */
    attempt: (messages: readonly OutboxMessage[], signal: AbortSignal) => sendBatch(
      messages.map((m) => ({ payload: { tenantId: m.tenantId, messageId: m.id }, ctx: { jobId: 'inline', key: `outbox:${m.id}`, attempt: m.attempts, maxAttempts: 1, signal } })),
      new Map(messages.map((m) => [m.id, m])),
    ),
    async onDead({ tenantId, messageId }, ctx) {
      await delivery.giveUp(tenantId, messageId, ctx.error)
    },
  }
}
