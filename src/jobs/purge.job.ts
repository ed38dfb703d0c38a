import { PURGE_JOB, type PrivacyService } from '../core/privacy/index.ts'
import type { JobDefinition } from './types.ts'

/**
 * `privacy.purge`: erases (or archives) the individual of one purge-data request
 * (PrivacyService.run). Safe to run again: a completed purge only finishes deleting its files.
 * When the retries are spent the audit record is marked failed.
 */
export function purgeJob(deps: { privacy: PrivacyService }): JobDefinition<typeof PURGE_JOB.payload> {
  return {
    ...PURGE_JOB,
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 600,
    expireInSeconds: 900,
    concurrency: 1,
    handle: async ({ tenantId, purgeId }) => deps.privacy.run(tenantId, purgeId),
    onDead: async ({ tenantId, purgeId }, ctx) => deps.privacy.markFailed(tenantId, purgeId, ctx.error),
  }
}
