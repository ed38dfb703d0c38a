import { DIALER_ROUND_JOB, DIALER_SWEEP_JOB, type DialerService } from '../core/contact-center/dialer.service.ts'
import type { JobDefinition } from './types.ts'

/** `cc.dialer_round`: one round of a campaign's dialer; it enqueues the next (one chain per campaign, keyed by round). */
export function dialerRoundJob(deps: { dialer: DialerService }): JobDefinition<typeof DIALER_ROUND_JOB.payload> {
  return {
    ...DIALER_ROUND_JOB, retryLimit: 5, retryDelaySeconds: 1, expireInSeconds: 120, concurrency: 4,
    handle: ({ tenantId, campaignId, round }) => deps.dialer.round(tenantId, campaignId, round),
  }
}

/** `cc.dialer_sweep` (every minute): restarts the runner of a campaign with work whose chain stopped. */
export function dialerSweepJob(deps: { dialer: DialerService }): JobDefinition<typeof DIALER_SWEEP_JOB.payload> {
  return {
    ...DIALER_SWEEP_JOB, retryLimit: 1, retryDelaySeconds: 10, expireInSeconds: 120, concurrency: 1,
    schedule: { cron: '* * * * *', payload: {} },
    handle: async () => {
      await deps.dialer.sweep()
    },
  }
}
