import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { AuthError, NotFoundError, ValidationError } from '../errors.ts'
import type { DeliveryTracking } from './delivery-tracking.ts'
import type { DeliveryService, TenantRef } from './delivery.service.ts'
import type { Channel, ChannelProviderSettings } from './delivery.types.ts'

/** A vendor's webhook request as core hands it to the tenant's provider (no framework types). */
export interface WebhookRequest {
  readonly method: string
  /** The public URL the vendor called (signatures may cover it). */
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The parsed body. */
  readonly body: unknown
  /** The body's exact bytes, for signatures over the raw body. */
  readonly rawBody?: Buffer | undefined
}

/** One event a provider read from a webhook (the providers' `WebhookEvent`, seen from core). */
export type WebhookEventInput =
  | {
    readonly kind: 'message'
    readonly message: {
      readonly channel: string
      readonly from: string
      readonly to?: string | undefined
      readonly body: string
      readonly providerMessageId?: string | undefined
      readonly data?: Readonly<Record<string, unknown>> | undefined
    }
  }
  | {
    readonly kind: 'status'
    readonly status: 'delivered'
    readonly providerMessageIds?: readonly string[] | undefined
    readonly recipient?: string | undefined
    readonly before?: Date | undefined
  }

/** What of a provider webhooks need: the vendor's checks and parser (a ChannelProvider fits). */
export interface WebhookAdapter {
  readonly id: string
  verifySignature?(req: WebhookRequest): boolean
  parseWebhook?(req: WebhookRequest): WebhookEventInput[]
  verifySubscription?(query: Readonly<Record<string, string | undefined>>): string | undefined
}

/** The tenant's provider for a channel under its settings (wired to the provider registry); throws when it cannot be built. */
export type WebhookAdapterLookup = (channel: Channel, settings: ChannelProviderSettings) => WebhookAdapter

/** What one webhook request did. */
export interface WebhookOutcome {
  /** Inbound messages stored (a repeated vendor id counts once, when first stored). */
  readonly received: number
  /** Outbox messages whose status moved. */
  readonly statusUpdates: number
  /** Events that could not be stored (an unusable sender, say); the vendor is not asked to resend them. */
  readonly skipped: number
}

/**
 * Vendor webhooks of any channel, for the tenant's configured provider: the subscription handshake
 * (Messenger's verify token), then for every request the vendor's signature (refused when wrong or
 * when the provider cannot check one), then its events — messages people sent go through
 * `DeliveryService.receive` (and so to the inbound handlers), delivery reports move outbox messages
 * forward through `DeliveryTracking`.
 */
export class DeliveryWebhooks {
  readonly #db: Kysely<DB>
  readonly #delivery: DeliveryService
  readonly #tracking: DeliveryTracking
  readonly #lookup: WebhookAdapterLookup

  constructor(db: Kysely<DB>, deps: { delivery: DeliveryService; tracking: DeliveryTracking; adapter: WebhookAdapterLookup }) {
    this.#db = db
    this.#delivery = deps.delivery
    this.#tracking = deps.tracking
    this.#lookup = deps.adapter
  }

  async #adapter(tenant: TenantRef, channel: Channel): Promise<WebhookAdapter> {
    const settings = await this.#delivery.channelSettings(tenant.id, channel)
    let adapter: WebhookAdapter | undefined
    if (settings && settings.provider !== 'sandbox') {
      try {
        adapter = this.#lookup(channel, settings)
      } catch {
        adapter = undefined
      }
    }
    if (!adapter?.parseWebhook || !adapter.verifySignature) {
      throw new NotFoundError('webhook_not_configured', `no ${channel} provider with webhooks is configured for this tenant`, { channel })
    }
    return adapter
  }

  /**
   * A subscription handshake: the challenge to echo. Throws NotFoundError `webhook_not_configured`,
   * AuthError `bad_verify_token` (wrong token, or not a subscribe request).
   */
  async subscribe(tenant: TenantRef, channel: Channel, query: Readonly<Record<string, string | undefined>>): Promise<string> {
    const adapter = await this.#adapter(tenant, channel)
    const challenge = adapter.verifySubscription?.(query)
    if (challenge === undefined) throw new AuthError('bad_verify_token', 'the verify token does not match')
    return challenge
  }

  /**
   * One webhook request: verified, then every event applied. Throws NotFoundError
   * `webhook_not_configured`, AuthError `bad_signature`, ValidationError `invalid_webhook`;
   * nothing is stored when it throws.
   */
  async handle(tenant: TenantRef, channel: Channel, req: WebhookRequest): Promise<WebhookOutcome> {
    const adapter = await this.#adapter(tenant, channel)
    if (!adapter.verifySignature!(req)) throw new AuthError('bad_signature', 'the webhook signature does not match')
    let events: WebhookEventInput[]
    try {
      events = adapter.parseWebhook!(req)
    } catch (err) {
      const e = err as { code?: unknown; message?: string }
      if (e.code === 'invalid_webhook') throw new ValidationError('invalid_webhook', e.message ?? 'invalid webhook body')
      throw err
    }
    let received = 0
    let statusUpdates = 0
    let skipped = 0
    for (const event of events) {
      if (event.kind === 'message') {
        const m = event.message
        try {
          const { created } = await this.#delivery.receive(tenant, {
            channel: m.channel, from: m.from, to: m.to, body: m.body, provider: adapter.id,
            providerMessageId: m.providerMessageId, data: m.data ? { ...m.data } : undefined,
          })
          if (created) received++
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err
          skipped++
        }
        continue
      }
      const ids = new Set(event.providerMessageIds ?? [])
      if (event.recipient !== undefined && event.before !== undefined) {
        // "Everything to this person up to the watermark": our messages still only `sent`.
        const rows = await this.#db.selectFrom('outbox_messages').select('provider_message_id')
          .where('tenant_id', '=', tenant.id).where('channel', '=', channel).where('provider', '=', adapter.id)
          .where('recipient', '=', event.recipient).where('status', '=', 'sent').where('sent_at', '<=', event.before)
          .where('provider_message_id', 'is not', null)
          .limit(1000).execute()
        for (const r of rows) ids.add(r.provider_message_id!)
      }
      for (const providerMessageId of ids) {
        const moved = await this.#tracking.recordStatus(tenant, { provider: adapter.id, providerMessageId, status: event.status, providerStatus: event.status })
        if (moved?.applied) statusUpdates++
      }
    }
    return { received, statusUpdates, skipped }
  }
}
