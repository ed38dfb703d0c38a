import { BULK_MESSAGE_JOB, type BulkMessagesService, type BulkRunHooks } from '../core/messaging/index.ts'
import type { TenantsService } from '../core/tenants/index.ts'
import type { JobContext, JobDefinition } from './types.ts'

/** Options of the bulk-message job beyond its services: tuning, and the crash hook of the tests. */
export interface BulkMessageJobOptions {
  /** Batches (transactions) in flight at once in one run (default 2). */
  readonly concurrency?: number
  /** Recipients per batch (default 500). */
  readonly batchSize?: number
  /** Seconds before a failed run is retried (default 5). */
  readonly retryDelaySeconds?: number
  /**
   * Tests only: the first attempt fails once it has done this many recipients, as a worker that
   * dies halfway would leave it (the retry must resume with no duplicate and no gap).
   */
  readonly failFirstAttemptAfter?: number
}

/**
 * `messaging.bulk_post`: posts a bulk message to its recipients (BulkMessagesService.run). Safe to
 * run again and resumable: each recipient is marked done in its message's transaction.
 */
export function bulkMessageJob(deps: { bulkMessages: BulkMessagesService; tenants: TenantsService; options?: BulkMessageJobOptions }): JobDefinition<typeof BULK_MESSAGE_JOB.payload> {
  const o = deps.options ?? {}
  return {
    ...BULK_MESSAGE_JOB,
    retryLimit: 10,
    retryDelaySeconds: o.retryDelaySeconds ?? 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 3600,
    heartbeatSeconds: 30,
    concurrency: 1,
    handle: async ({ tenantId, bulkMessageId }, ctx: JobContext) => {
      const tenant = await deps.tenants.findById(tenantId)
      if (!tenant) return
      const crashAfter = ctx.attempt === 1 ? o.failFirstAttemptAfter : undefined
      const hooks: BulkRunHooks = {
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
        ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
        ...(crashAfter !== undefined ? {
          afterRecipient: (done: number) => {
            if (done >= crashAfter) throw new Error(`test hook: bulk message run stopped after ${done} recipients`)
          },
        } : {}),
      }
      await deps.bulkMessages.run(tenant, bulkMessageId, hooks)
    },
  }
}
