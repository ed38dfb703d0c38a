import { Type } from 'typebox'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema } from '../../lib/tenant-id.ts'

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' })

/** Payload of `delivery.send`: which outbox message to hand to its provider. */
export const SendMessagePayload = Type.Object({ tenantId: TenantIdSchema, messageId: Uuid }, { additionalProperties: false })

/** Payload of `delivery.inbound`: which inbound message to run the inbound handlers on. */
export const InboundMessagePayload = Type.Object({ tenantId: TenantIdSchema, messageId: Uuid }, { additionalProperties: false })

/**
 * The delivery jobs core enqueues. Their handlers live in src/jobs (the send handler calls
 * providers, which core never imports) and are defined on the queue when the process is wired.
 */
export const SEND_MESSAGE_JOB = { name: 'delivery.send', payload: SendMessagePayload } as const satisfies JobType
export const INBOUND_MESSAGE_JOB = { name: 'delivery.inbound', payload: InboundMessagePayload } as const satisfies JobType
