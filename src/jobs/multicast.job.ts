import { MULTICAST_JOB, type MulticastRunHooks, type MulticastsService } from '../core/messaging/index.ts'
import type { TenantsService } from '../core/tenants/index.ts'
import type { JobContext, JobDefinition } from './types.ts'

/** Options of the multicast job beyond its services: tuning, and the crash hook of the tests. */
export interface MulticastJobOptions {
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
 * `messaging.multicast`: renders and sends a multicast to its recipients (MulticastsService.run).
 * Safe to run again and resumable: each recipient is marked sent in its sends' transaction.
 */
export function multicastJob(deps: { multicasts: MulticastsService; tenants: TenantsService; options?: MulticastJobOptions }): JobDefinition<typeof MULTICAST_JOB.payload> {
  const o = deps.options ?? {}
  return {
    ...MULTICAST_JOB,
    retryLimit: 10,
    retryDelaySeconds: o.retryDelaySeconds ?? 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 3600,
    heartbeatSeconds: 30,
    concurrency: 1,
    handle: async ({ tenantId, multicastId }, ctx: JobContext) => {
      const tenant = await deps.tenants.findById(tenantId)
      if (!tenant) return
      const crashAfter = ctx.attempt === 1 ? o.failFirstAttemptAfter : undefined
      const hooks: MulticastRunHooks = {
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
        ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
        ...(crashAfter !== undefined ? {
          afterBatch: (done: number) => {
            if (done >= crashAfter) throw new Error(`test hook: multicast run stopped after ${done} recipients`)
          },
        } : {}),
      }
      await deps.multicasts.run(tenant, multicastId, hooks)
    },
  }
}
