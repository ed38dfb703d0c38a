import type { InboundMessage, OutboxMessage } from '../../core/delivery/index.ts'

/** An outbox message on the sandbox API (snake_case, ISO times). */
export function presentOutbox(m: OutboxMessage) {
  return {
    id: m.id, channel: m.channel, to: m.to, from: m.from, subject: m.subject, body: m.body, data: m.data,
    status: m.status, suppressed_reason: m.suppressedReason, provider: m.provider, provider_message_id: m.providerMessageId, person_id: m.personId,
    idempotency_key: m.idempotencyKey, attempts: m.attempts, last_error: m.lastError,
    send_at: m.sendAt.toISOString(), created_at: m.createdAt.toISOString(), updated_at: m.updatedAt.toISOString(),
    sent_at: m.sentAt ? m.sentAt.toISOString() : null,
  }
}

/** An inbound message on the sandbox API. */
export function presentInbound(m: InboundMessage) {
  return {
    id: m.id, channel: m.channel, from: m.from, to: m.to, body: m.body, person_id: m.personId, provider: m.provider,
    provider_message_id: m.providerMessageId, status: m.status, received_at: m.receivedAt.toISOString(),
    processed_at: m.processedAt ? m.processedAt.toISOString() : null,
  }
}
