import { INBOUND_MESSAGE_JOB, type DeliveryService } from '../core/delivery/index.ts'
import type { JobDefinition } from './types.ts'

/**
 * `delivery.inbound`: run the registered inbound handlers (`delivery.onInbound`) on a stored
 * inbound message, retrying until they all succeed.
 */
export function inboundMessageJob(deps: { delivery: DeliveryService }): JobDefinition<typeof INBOUND_MESSAGE_JOB.payload> {
  return {
    ...INBOUND_MESSAGE_JOB,
    retryLimit: 8,
    retryDelaySeconds: 5,
    retryBackoff: true,
    retryDelayMaxSeconds: 600,
    expireInSeconds: 120,
    concurrency: 2,
    handle: ({ tenantId, messageId }) => deps.delivery.processInbound(tenantId, messageId),
  }
}
