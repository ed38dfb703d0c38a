import { BULK_MESSAGE_JOB, type BulkMessagesService } from '../core/messaging/index.ts'
import type { TenantsService } from '../core/tenants/index.ts'
import { fanOutJob, type FanOutJobOptions } from './fan-out.job.ts'
import type { JobDefinition } from './types.ts'

/** Options of the bulk-message job beyond its services (the fan-out jobs' tuning and test hook). */
export type BulkMessageJobOptions = FanOutJobOptions

/**
 * `messaging.bulk_post`: posts a bulk message to its recipients (BulkMessagesService.run). Safe to
 * run again and resumable: each recipient is marked done in its message's transaction.
 */
export function bulkMessageJob(deps: { bulkMessages: BulkMessagesService; tenants: TenantsService; options?: BulkMessageJobOptions }): JobDefinition<typeof BULK_MESSAGE_JOB.payload> {
  return fanOutJob(BULK_MESSAGE_JOB, 'bulk message', deps, (tenant, { bulkMessageId }, { progress, ...tuning }) =>
    deps.bulkMessages.run(tenant, bulkMessageId, { ...tuning, ...(progress ? { afterRecipient: progress } : {}) }))
}
