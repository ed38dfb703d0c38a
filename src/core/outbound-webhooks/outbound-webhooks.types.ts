import type { TenantId } from '../../lib/tenant-id.ts'

/** Where a tenant's events of a topic go, and the secrets they are signed with (primary first). */
export interface WebhookTarget {
  readonly url: string
  /** One or two secrets: the primary, and during a rotation the secondary. */
  readonly secrets: readonly string[]
}

/**
 * The port that says where a tenant's events go: asked at every attempt (not at enqueue), so a
 * changed URL or a rotated secret applies to events still waiting. Null: the tenant has no target
 * for the topic and the event is dropped (`no_target`).
 */
export interface WebhookTargets {
  resolve(tenantId: TenantId, topic: string): Promise<WebhookTarget | null>
}

/** A resolver with no targets: every event is dropped as `no_target` (the default until one is wired). */
export const NO_WEBHOOK_TARGETS: WebhookTargets = Object.freeze({ resolve: async () => null })

/** What became of an event: see migrations/0013. */
export type OutboundWebhookStatus = 'pending' | 'delivered' | 'failed' | 'dropped'

/**
 * Why the last attempt did not deliver: `no_target` (dropped), `unsafe_url` (the URL broke the
 * outbound URL policy), `invalid_target` (no secret, a malformed URL), `http_error` (a non-2xx
 * answer), `timeout`, `network_error`.
 */
export type OutboundWebhookErrorCode = 'no_target' | 'unsafe_url' | 'invalid_target' | 'http_error' | 'timeout' | 'network_error'

/** One event for a tenant's endpoint and what became of it. */
export interface OutboundWebhook {
  readonly id: string
  readonly tenantId: TenantId
  readonly topic: string
  readonly orderingKey: string | null
  readonly idempotencyKey: string
  /** The JSON body exactly as signed and sent. */
  readonly body: string
  readonly status: OutboundWebhookStatus
  /** POSTs made (an event put off behind an earlier one of its ordering key counts none). */
  readonly attempts: number
  readonly url: string | null
  readonly responseStatus: number | null
  readonly lastErrorCode: OutboundWebhookErrorCode | null
  readonly lastError: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly deliveredAt: Date | null
}

/** What `enqueue` takes. */
export interface EnqueueWebhookInput {
  /** What the event is about (`chat.message_received`): letters, digits, `_ . : / -`, at most 200. */
  readonly topic: string
  /** The JSON body; serialised once, here, and those bytes are signed and sent on every attempt. */
  readonly body: object
  /** Unique per tenant: the same key again enqueues nothing and answers the first event. */
  readonly idempotencyKey: string
  /**
   * Events of one key (`chat:<id>`) are delivered one after another in enqueue order: one is not
   * sent while an earlier one of the key is pending. Omit for events that need no order.
   */
  readonly orderingKey?: string | undefined
}

/** What `enqueue` answers. */
export interface EnqueueWebhookResult {
  readonly webhook: OutboundWebhook
  /** False when the key was used before: `webhook` is the first event. */
  readonly created: boolean
}

/** Options of `list`. */
export interface ListWebhooksOptions {
  readonly status?: OutboundWebhookStatus | undefined
  readonly topic?: string | undefined
  /** 1-500, default 100. */
  readonly limit?: number | undefined
}
