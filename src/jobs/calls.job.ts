import { CALL_CONFIRM_TIMEOUT_JOB, CALL_CONTROL_JOB, CALL_DIAL_JOB, CALL_LEG_EVENT_JOB, CALL_SCHEDULED_JOB, type CallsService } from '../core/calls/index.ts'
import type { JobDefinition } from './types.ts'

/** `cc.call_dial`: places a call's legs on the tenant's voice provider (idempotent: placed legs are kept). */
export function callDialJob(deps: { calls: CallsService }): JobDefinition<typeof CALL_DIAL_JOB.payload> {
  return {
    ...CALL_DIAL_JOB, retryLimit: 3, retryDelaySeconds: 2, expireInSeconds: 120, concurrency: 4,
    handle: ({ tenantId, callNum, attempt }) => deps.calls.dial(tenantId, callNum, attempt === 1 ? 1 : 0),
  }
}

/** `cc.call_scheduled`: a C4 call is due; queued once (the row is locked and must still be `scheduled`). */
export function callScheduledJob(deps: { calls: CallsService }): JobDefinition<typeof CALL_SCHEDULED_JOB.payload> {
  return {
    ...CALL_SCHEDULED_JOB, retryLimit: 5, retryDelaySeconds: 2, expireInSeconds: 60, concurrency: 16,
    handle: async ({ tenantId, callNum }) => {
      await deps.calls.fireScheduled(tenantId, callNum)
    },
  }
}

/** `cc.call_leg_event`: applies one leg event (the sandbox's simulated callbacks). */
export function callLegEventJob(deps: { calls: CallsService }): JobDefinition<typeof CALL_LEG_EVENT_JOB.payload> {
  return {
    ...CALL_LEG_EVENT_JOB, retryLimit: 5, retryDelaySeconds: 1, expireInSeconds: 60, concurrency: 4,
    handle: ({ tenantId, at, ...event }) => deps.calls.applyLegEvent(tenantId, { ...event, ...(at ? { at: new Date(at) } : {}) }),
  }
}

/** `cc.call_confirm_timeout`: an outbound call (C1's 202) its agent did not confirm in time is cancelled. */
export function callConfirmTimeoutJob(deps: { calls: CallsService }): JobDefinition<typeof CALL_CONFIRM_TIMEOUT_JOB.payload> {
  return {
    ...CALL_CONFIRM_TIMEOUT_JOB, retryLimit: 5, retryDelaySeconds: 2, expireInSeconds: 60, concurrency: 2,
    handle: async ({ tenantId, callNum }) => {
      await deps.calls.expireConfirmation(tenantId, callNum)
    },
  }
}

/** `cc.call_control`: hangs up, holds or resumes a leg on its provider. */
export function callControlJob(deps: { calls: CallsService }): JobDefinition<typeof CALL_CONTROL_JOB.payload> {
  return {
    ...CALL_CONTROL_JOB, retryLimit: 5, retryDelaySeconds: 2, expireInSeconds: 60, concurrency: 4,
    handle: ({ tenantId, action, providerCallId, callId, attempt }) => deps.calls.control(tenantId, action, providerCallId, callId, attempt === 1 ? 1 : 0),
  }
}
