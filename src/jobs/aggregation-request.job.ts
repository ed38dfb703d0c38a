import { AGGREGATION_JOB, type AggregationRequestsService } from '../core/messaging/index.ts'
import type { JobDefinition } from './types.ts'

/**
 * `messaging.aggregate`: computes an aggregation request's columns (AggregationRequestsService.run).
 * Safe to run again: a request that is no longer pending is left alone. Given up: `failed`.
 */
export function aggregationRequestJob(deps: { aggregations: AggregationRequestsService }): JobDefinition<typeof AGGREGATION_JOB.payload> {
  return {
    ...AGGREGATION_JOB,
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 600,
    concurrency: 2,
    handle: async ({ tenantId, requestId }) => deps.aggregations.run(tenantId, requestId),
    onDead: async ({ tenantId, requestId }, ctx) => deps.aggregations.fail(tenantId, requestId, ctx.error),
  }
}
