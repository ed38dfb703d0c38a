import { SEND_WEBHOOK_JOB, type OutboundWebhooksService } from '../core/outbound-webhooks/index.ts'
import type { JobDefinition } from './types.ts'

/** Retry policy of `webhooks.send` (tests and operators may shorten it). */
export interface WebhookRetryPolicy {
  /** Seconds before the first retry; doubles with jitter each retry. Default 10. */
  readonly retryDelaySeconds?: number
  /** Retries after the first attempt. Default 8 (nine POSTs over about an hour and a half). */
  readonly retryLimit?: number
}

/**
 * `webhooks.send`: the queue's adapter over `OutboundWebhooksService.attempt`. A passing failure
 * (5xx, 408, 429, timeout, network) is retried with exponential backoff and jitter (about 10 s,
 * 20 s, 40 s… capped at an hour, eight retries), never sooner than the endpoint's `Retry-After`;
 * then, or at once on a permanent refusal, the event is `failed` with its last error (the dead
 * letter). An event waiting behind an earlier one of its ordering key is put off without counting
 * an attempt.
 */
export function outboundWebhookJob(deps: {
  webhooks: OutboundWebhooksService
  retry?: WebhookRetryPolicy | undefined
}): JobDefinition<typeof SEND_WEBHOOK_JOB.payload> {
  const { webhooks } = deps
  return {
    ...SEND_WEBHOOK_JOB,
    retryLimit: deps.retry?.retryLimit ?? 8,
    retryDelaySeconds: deps.retry?.retryDelaySeconds ?? 10,
    retryBackoff: true,
    retryDelayMaxSeconds: 3600,
    // Well past the POST's own deadline: an attempt running this long is hung and is retried.
    expireInSeconds: 120,
    heartbeatSeconds: 10,
    concurrency: 4,
    async handle({ tenantId, webhookId }, ctx) {
      await webhooks.attempt(tenantId, webhookId, { signal: ctx.signal })
    },
    async onDead({ tenantId, webhookId }, ctx) {
      await webhooks.giveUp(tenantId, webhookId, ctx.error)
    },
  }
}
