import { Type } from 'typebox'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema } from '../../lib/tenant-id.ts'

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' })

/** Payload of `delivery.send`: which outbox message to hand to its provider. */
export const SendMessagePayload = Type.Object({ tenantId: TenantIdSchema, messageId: Uuid }, { additionalProperties: false })

/** Most messages one `delivery.send-batch` job carries. */
export const SEND_BATCH_MAX = 500

/** Payload of `delivery.send-batch`: outbox messages of one tenant to hand to their providers together. */
export const SendBatchPayload = Type.Object({ tenantId: TenantIdSchema, messageIds: Type.Array(Uuid, { minItems: 1, maxItems: SEND_BATCH_MAX }) }, { additionalProperties: false })

/** Payload of `delivery.inbound`: which inbound message to run the inbound handlers on. */
export const InboundMessagePayload = Type.Object({ tenantId: TenantIdSchema, messageId: Uuid }, { additionalProperties: false })

/**
 * The delivery jobs core enqueues. Their handlers live in src/jobs (the send handler calls
 * providers, which core never imports) and are defined on the queue when the process is wired.
 */
export const SEND_MESSAGE_JOB = { name: 'delivery.send', payload: SendMessagePayload } as const satisfies JobType
/**
 * Many due messages of one fan-out (a multicast's batch) under one job instead of one job each:
 * the outbox rows keep their own idempotency keys and states, so the job is as safe to rerun.
 */
export const SEND_BATCH_JOB = { name: 'delivery.send-batch', payload: SendBatchPayload } as const satisfies JobType
export const INBOUND_MESSAGE_JOB = { name: 'delivery.inbound', payload: InboundMessagePayload } as const satisfies JobType
