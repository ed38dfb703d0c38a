import { Type } from 'typebox'
import type { JobQueue } from './queue.ts'
import type { JobDefinition } from './types.ts'

/** How long a completed job's key keeps deduplicating. Dead keys are kept: they are the dead-letter record. */
export const COMPLETED_KEY_RETENTION_DAYS = 30

const PrunePayload = Type.Object({ retentionDays: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })

/**
 * Nightly maintenance: forget idempotency keys of jobs completed long ago, in batches, so the ledger
 * stays small. Re-enqueueing such a key later would run again, so callers whose work must never
 * repeat also keep their own state (the outbox row's status).
 */
export function pruneJobKeysJob(jobs: JobQueue): JobDefinition<typeof PrunePayload> {
  return {
    name: 'jobs.prune-keys',
    payload: PrunePayload,
    retryLimit: 3,
    concurrency: 1,
    schedule: { cron: '17 3 * * *', payload: { retentionDays: COMPLETED_KEY_RETENTION_DAYS } },
    async handle({ retentionDays }, ctx) {
      const before = new Date(Date.now() - retentionDays * 86_400_000)
      while (!ctx.signal.aborted && (await jobs.pruneCompletedKeys(before, 5_000)) > 0) {
        // keep going in batches: one huge DELETE would hold locks and bloat the WAL
      }
    },
  }
}
