import { OPERATION_JOB, type OperationRunHooks, type OperationsService } from '../core/messaging/index.ts'
import type { JobDefinition } from './types.ts'

/** Options of the operation job beyond its service: tuning and the tests' pacing hook. */
export type OperationJobOptions = OperationRunHooks

/**
 * `messaging.operation`: runs a messaging operation (#64; OperationsService.run). Safe to run
 * again and resumable: each batch of moved channels is committed with its log entry.
 */
export function messagingOperationJob(deps: { operations: OperationsService; options?: OperationJobOptions }): JobDefinition<typeof OPERATION_JOB.payload> {
  return {
    ...OPERATION_JOB,
    retryLimit: 10,
    retryDelaySeconds: 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 3600,
    heartbeatSeconds: 30,
    concurrency: 1,
    handle: async ({ tenantId, operationId }) => {
      await deps.operations.run(tenantId, operationId, deps.options ?? {})
    },
  }
}
