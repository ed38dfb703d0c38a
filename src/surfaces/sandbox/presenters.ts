import type { InboundMessage, OutboxMessage } from '../../core/delivery/index.ts'

/**
 * The person API's `person_id` of each core person a message names: the sandbox shows the id an
 * operator can look up (`GET /external_person/{person_id}`), never the core's own key.
 */
export type PersonIds = ReadonlyMap<string, string>

/** An outbox message on the sandbox API (snake_case, ISO times). */
export function presentOutbox(m: OutboxMessage, personIds: PersonIds) {
  return {
    id: m.id, channel: m.channel, to: m.to, from: m.from, subject: m.subject, body: m.body, data: m.data,
    status: m.status, suppressed_reason: m.suppressedReason, provider: m.provider, provider_message_id: m.providerMessageId, person_id: m.personId ? personIds.get(m.personId) ?? null : null,
    idempotency_key: m.idempotencyKey, attempts: m.attempts, last_error: m.lastError,
    send_at: m.sendAt.toISOString(), created_at: m.createdAt.toISOString(), updated_at: m.updatedAt.toISOString(),
    sent_at: m.sentAt ? m.sentAt.toISOString() : null,
  }
}

/** An inbound message on the sandbox API. */
export function presentInbound(m: InboundMessage, personIds: PersonIds) {
  return {
    id: m.id, channel: m.channel, from: m.from, to: m.to, body: m.body, person_id: m.personId ? personIds.get(m.personId) ?? null : null, provider: m.provider,
    provider_message_id: m.providerMessageId, status: m.status, received_at: m.receivedAt.toISOString(),
    processed_at: m.processedAt ? m.processedAt.toISOString() : null,
  }
}
