import { Type } from 'typebox'
import type { UserEmailsService } from '../core/emails/index.ts'
import type { JobDefinition } from './types.ts'

const PrunePayload = Type.Object({}, { additionalProperties: false })

/** The cleanup as of `now`, in batches: user email attachments whose upload never completed. Answers how many went. */
export async function prunePendingEmailAttachments(emails: UserEmailsService, now: Date, signal?: AbortSignal): Promise<number> {
  let total = 0
  for (;;) {
    if (signal?.aborted) return total
    const n = await emails.prunePending(now, 500)
    total += n
    if (n === 0) return total
  }
}

/**
 * Every 15 minutes: remove user email attachments (#122) whose upload never completed, a grace
 * period after their ticket expired — their rows and any bytes uploaded (UserEmailsService.prunePending).
 */
export function prunePendingEmailAttachmentsJob(deps: { userEmails: UserEmailsService }): JobDefinition<typeof PrunePayload> {
  return {
    name: 'user-emails.prune-pending-attachments',
    payload: PrunePayload,
    retryLimit: 3,
    concurrency: 1,
    schedule: { cron: '*/15 * * * *', payload: {} },
    async handle(_payload, ctx) {
      await prunePendingEmailAttachments(deps.userEmails, new Date(), ctx.signal)
    },
  }
}
