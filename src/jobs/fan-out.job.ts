import type { Static, TSchema } from 'typebox'
import type { Tenant, TenantId, TenantsService } from '../core/tenants/index.ts'
import type { JobContext, JobDefinition, JobType } from './types.ts'

/** Options of a fan-out job (bulk messages, multicasts) beyond its services: tuning, and the crash hook of the tests. */
export interface FanOutJobOptions {
  /** Batches (transactions) in flight at once in one run (default 2). */
  readonly concurrency?: number
  /** Recipients per batch (default 500). */
  readonly batchSize?: number
  /** Seconds before a failed run is retried (default 5). */
  readonly retryDelaySeconds?: number
  /**
   * Tests only: the first attempt fails once it has done this many recipients, as a worker that
   * dies halfway would leave it (the retry must resume with no duplicate and no gap).
   */
  readonly failFirstAttemptAfter?: number
}

/** What a fan-out run is given: its tuning, and `progress` to call with how many recipients it has done. */
export interface FanOutTuning {
  readonly concurrency?: number
  readonly batchSize?: number
  readonly progress?: (done: number) => void
}

/**
 * A resumable fan-out job to many recipients: retried with backoff, one run at a time per worker,
 * kept alive by heartbeats; `run` marks each recipient done in its batch's transaction, so a rerun
 * resumes with no duplicate and no gap. `what` names it in the test hook's error.
 */
export function fanOutJob<S extends TSchema>(
  job: JobType<S>, what: string, deps: { tenants: TenantsService; options?: FanOutJobOptions | undefined },
  run: (tenant: Tenant, payload: Static<S>, tuning: FanOutTuning) => Promise<void>,
): JobDefinition<S> {
  const o = deps.options ?? {}
  return {
    ...job,
    retryLimit: 10,
    retryDelaySeconds: o.retryDelaySeconds ?? 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 3600,
    heartbeatSeconds: 30,
    concurrency: 1,
    handle: async (payload: Static<S>, ctx: JobContext) => {
      const tenant = await deps.tenants.findById((payload as { tenantId: TenantId }).tenantId)
      if (!tenant) return
      const crashAfter = ctx.attempt === 1 ? o.failFirstAttemptAfter : undefined
      await run(tenant, payload, {
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
        ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
        ...(crashAfter !== undefined ? {
          progress: (done: number) => {
            if (done >= crashAfter) throw new Error(`test hook: ${what} run stopped after ${done} recipients`)
          },
        } : {}),
      })
    },
  }
}
