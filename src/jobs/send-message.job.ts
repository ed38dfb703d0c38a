import { SEND_BATCH_JOB, SEND_MESSAGE_JOB, type DeliveryService } from '../core/delivery/index.ts'
import type { JobDefinition } from './types.ts'

/** Retry policy of `delivery.send` (tests and operators may shorten it). */
export interface SendRetryPolicy {
  /** Seconds before the first retry; doubles with jitter each retry. Default 10. */
  readonly retryDelaySeconds?: number
  /** Retries after the first attempt. Default 5. */
  readonly retryLimit?: number
}

/**
 * `delivery.send`: the queue's adapter over delivery's attempts (`DeliveryService.attemptQueued`,
 * src/core/delivery/delivery-attempts.ts). A worker takes up to 50 jobs at once and hands them to
 * delivery as one batch; each job ends with its message's outcome. Vendor outages (timeouts, 5xx,
 * 429) retry with exponential backoff and jitter (about 10 s, 20 s, 40 s… up to an hour, five
 * retries), never sooner than a vendor's `Retry-After`; a sender at its rate limit puts the job off
 * (same key, no attempt counted); then, or at once when the vendor refuses the message, the
 * message is `failed` with the vendor's last error (the dead letter). A worker killed mid-attempt
 * is noticed by its stopped heartbeat and the message is attempted again, reconciled first with
 * vendors that can be asked what they hold (see DeliveryAttempts).
 */
export function sendMessageJob(deps: {
  delivery: DeliveryService
  retry?: SendRetryPolicy | undefined
}): JobDefinition<typeof SEND_MESSAGE_JOB.payload> {
  const { delivery } = deps
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
      const [outcome] = await delivery.attemptQueued([{ ...payload, signal: ctx.signal }])
      if (outcome !== undefined) throw outcome
    },
    handleBatch: (jobs) => delivery.attemptQueued(jobs.map((j) => ({ ...j.payload, signal: j.ctx.signal }))),
    async onDead({ tenantId, messageId }, ctx) {
      await delivery.giveUp(tenantId, messageId, ctx.error)
    },
  }
}

/**
 * `delivery.send-batch`: the messages of a fan-out's batch (up to 500, README "Multicasts") handed
 * to their providers by one job (DeliveryService.attemptBatch, the same attempt as `delivery.send`'s
 * with 16 provider calls at once). A passing failure of any retries the job with the same backoff
 * and limit as `delivery.send`, and a retry attempts only the messages not yet sent, failed or
 * suppressed; when the job dies, those are `failed` with its last error. A worker killed
 * mid-attempt is noticed by its stopped heartbeat, as for `delivery.send`.
 */
export function sendBatchJob(deps: {
  delivery: DeliveryService
  retry?: SendRetryPolicy | undefined
}): JobDefinition<typeof SEND_BATCH_JOB.payload> {
  const { delivery } = deps
  return {
    ...SEND_BATCH_JOB,
    retryLimit: deps.retry?.retryLimit ?? 5,
    retryDelaySeconds: deps.retry?.retryDelaySeconds ?? 10,
    retryBackoff: true,
    retryDelayMaxSeconds: 3600,
    // Up to 500 vendor calls, 16 at a time.
    expireInSeconds: 900,
    heartbeatSeconds: 10,
    concurrency: 2,
    async handle({ tenantId, messageIds }, ctx) {
      await delivery.attemptBatch(tenantId, messageIds, ctx.signal)
    },
    async onDead({ tenantId, messageIds }, ctx) {
      await delivery.giveUpMany(tenantId, messageIds, ctx.error)
    },
  }
}
