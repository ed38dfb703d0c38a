import type { DeliveryService, DeliveryTracking } from '../core/delivery/index.ts'
import { ProviderRegistry } from '../providers/index.ts'
import { inboundMessageJob } from './inbound-message.job.ts'
import { pruneJobKeysJob } from './prune-job-keys.job.ts'
import type { JobQueue } from './queue.ts'
import { sendMessageJob, type SendRetryPolicy } from './send-message.job.ts'

/**
 * Define every job of the application on `jobs` (before it starts); `providers` defaults to a
 * registry with only the sandbox. Kept apart from the queue's
 * index so that core, which enqueues through the index, never imports the handlers.
 */
export function defineJobs(jobs: JobQueue, deps: {
  delivery: DeliveryService
  providers?: ProviderRegistry
  /** Status callbacks, segment counts, per-sender rate limits. */
  tracking: DeliveryTracking
  /** Public base URL for provider status callbacks. */
  publicUrl?: string
  sendRetry?: SendRetryPolicy
}): void {
  const providers = deps.providers ?? new ProviderRegistry()
  jobs.define(pruneJobKeysJob(jobs))
  const send = sendMessageJob({ delivery: deps.delivery, providers, tracking: deps.tracking, publicUrl: deps.publicUrl, retry: deps.sendRetry })
  jobs.define(send)
  // The same batch handler attempts messages at once for callers that wait for the outcome.
  deps.delivery.setDispatcher(send.attempt)
  jobs.define(inboundMessageJob(deps))
}
