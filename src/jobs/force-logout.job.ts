import { FORCE_LOGOUT_JOB, type AgentsService } from '../core/contact-center/index.ts'
import type { JobDefinition } from './types.ts'

/**
 * `cc.force_logout`: logs out a large selection of agents (A2 → 202) in chunks, recording progress
 * and results on the job row that A4 reads. Safe to run again: it resumes where it stopped.
 */
export function forceLogoutJob(deps: { agents: AgentsService }): JobDefinition<typeof FORCE_LOGOUT_JOB.payload> {
  return {
    ...FORCE_LOGOUT_JOB,
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
    expireInSeconds: 600,
    concurrency: 1,
    handle: ({ tenantId, jobNum }) => deps.agents.runForceLogoutJob(tenantId, jobNum),
  }
}
