import type { TextsService } from '../core/texts/index.ts'
import { TEXT_STATUS_JOB } from '../core/texts/index.ts'
import { DeferJobError, type JobDefinition } from './types.ts'

/**
 * `texts.status`: one per text with a callback-status-url (or from a number with `alert`): posts
 * each status change (TextsService.watchStatus) and looks again — every second in the text's first
 * minute, every 10 s to 10 minutes, then every minute — until the status is final or 72 hours passed.
 */
export function textStatusJob(deps: { texts: TextsService }): JobDefinition<typeof TEXT_STATUS_JOB.payload> {
  return {
    ...TEXT_STATUS_JOB,
    retryLimit: 10,
    retryDelaySeconds: 5,
    concurrency: 2,
    async handle(payload) {
      const next = await deps.texts.watchStatus(payload.tenantId as never, payload.textId)
      if (next) throw new DeferJobError(next, 'text status not final yet')
    },
  }
}
