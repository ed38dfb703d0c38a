import { MULTICAST_JOB, type MulticastsService } from '../core/messaging/index.ts'
import type { TenantsService } from '../core/tenants/index.ts'
import { fanOutJob, type FanOutJobOptions } from './fan-out.job.ts'
import type { JobDefinition } from './types.ts'

/** Options of the multicast job beyond its services (the fan-out jobs' tuning and test hook). */
export type MulticastJobOptions = FanOutJobOptions

/**
 * `messaging.multicast`: renders and sends a multicast to its recipients (MulticastsService.run).
 * Safe to run again and resumable: each recipient is marked sent in its sends' transaction.
 */
export function multicastJob(deps: { multicasts: MulticastsService; tenants: TenantsService; options?: MulticastJobOptions }): JobDefinition<typeof MULTICAST_JOB.payload> {
  return fanOutJob(MULTICAST_JOB, 'multicast', deps, (tenant, { multicastId }, { progress, ...tuning }) =>
    deps.multicasts.run(tenant, multicastId, { ...tuning, ...(progress ? { afterBatch: progress } : {}) }))
}
