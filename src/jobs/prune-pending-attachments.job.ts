import { Type } from 'typebox'
import type { AttachmentsService } from '../core/messaging/index.ts'
import type { JobDefinition } from './types.ts'

const PrunePayload = Type.Object({}, { additionalProperties: false })

/**
 * The cleanup as of `now`: remove, in batches, every pending attachment and bulk attachment whose
 * upload ticket expired more than the grace period before `now`. Answers how many went.
 */
export async function prunePendingAttachments(attachments: AttachmentsService, now: Date, signal?: AbortSignal): Promise<number> {
  let total = 0
  for (;;) {
    if (signal?.aborted) return total
    // In batches: a backlog (the job was off for long) never becomes one huge transaction.
    const n = await attachments.prunePending(now, 500)
    total += n
    if (n === 0) return total
  }
}

/**
 * Every 15 minutes: remove messaging attachments and bulk attachments whose upload never completed,
 * a grace period after their ticket expired — their rows and any bytes that were uploaded
 * (AttachmentsService.prunePending). Processed attachments are never touched.
 */
export function prunePendingAttachmentsJob(deps: { attachments: AttachmentsService }): JobDefinition<typeof PrunePayload> {
  return {
    name: 'messaging.prune-pending-attachments',
    payload: PrunePayload,
    retryLimit: 3,
    concurrency: 1,
    schedule: { cron: '*/15 * * * *', payload: {} },
    async handle(_payload, ctx) {
      await prunePendingAttachments(deps.attachments, new Date(), ctx.signal)
    },
  }
}
