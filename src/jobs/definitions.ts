import type { AgentsService } from '../core/contact-center/index.ts'
import type { DeliveryService } from '../core/delivery/index.ts'
import { forceLogoutJob } from './force-logout.job.ts'
import type { OutboundWebhooksService } from '../core/outbound-webhooks/index.ts'
import { inboundMessageJob } from './inbound-message.job.ts'
import { outboundWebhookJob, type WebhookRetryPolicy } from './outbound-webhook.job.ts'
import { pruneJobKeysJob } from './prune-job-keys.job.ts'
import type { JobQueue } from './queue.ts'
import { sendMessageJob, type SendRetryPolicy } from './send-message.job.ts'

/**
 * Define every job of the application on `jobs` (before it starts). Kept apart from the queue's
 * index so that core, which enqueues through the index, never imports the handlers.
 */
export function defineJobs(jobs: JobQueue, deps: {
  delivery: DeliveryService
  sendRetry?: SendRetryPolicy
  /** Outbound webhooks; without them `webhooks.send` is not defined (tests of other domains). */
  webhooks?: OutboundWebhooksService
  webhookRetry?: WebhookRetryPolicy
  /** The contact center's agents (force-logout jobs). */
  agents?: AgentsService
}): void {
  jobs.define(pruneJobKeysJob(jobs))
  jobs.define(sendMessageJob({ delivery: deps.delivery, retry: deps.sendRetry }))
  jobs.define(inboundMessageJob(deps))
  if (deps.webhooks) jobs.define(outboundWebhookJob({ webhooks: deps.webhooks, retry: deps.webhookRetry }))
  if (deps.agents) jobs.define(forceLogoutJob({ agents: deps.agents }))
}
