import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { toE164 } from '../../lib/phone.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { AuthError, NotFoundError, ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import type { DeliveryTracking, ReportedStatus } from './delivery-tracking.ts'
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
      /** Files sent with it, stored as `data.media` (`[{url, content_type}]`). */
      readonly media?: ReadonlyArray<{ readonly url: string; readonly contentType?: string | undefined }> | undefined
      /** The sender is a phone number: apply the tenant's unknown-sender policy before storing. */
      readonly admitSender?: boolean | undefined
    }
  }
  | {
    readonly kind: 'status'
    readonly status: ReportedStatus
    readonly providerMessageIds?: readonly string[] | undefined
    readonly recipient?: string | undefined
    readonly before?: Date | undefined
    readonly providerStatus?: string | undefined
    readonly errorCode?: string | undefined
    /** Our message id, when the authenticated callback names it. */
    readonly messageId?: string | undefined
  }

/** What of a provider webhooks need: the vendor's checks and parser (a ChannelProvider fits). */
export interface WebhookAdapter {
  readonly id: string
  verifySignature?(req: WebhookRequest): boolean
  /** The vendor account a webhook names, when each (sub-)account signs with its own secret (Twilio's `AccountSid`). */
  webhookAccount?(req: WebhookRequest): string | undefined
  verifySignatureWith?(secret: string, req: WebhookRequest): boolean
  parseWebhook?(req: WebhookRequest): WebhookEventInput[]
  verifySubscription?(query: Readonly<Record<string, string | undefined>>): string | undefined
}

/** The tenant's provider for a channel under its settings (wired to the provider registry); throws when it cannot be built. */
export type WebhookAdapterLookup = (channel: Channel, settings: ChannelProviderSettings) => WebhookAdapter

/**
 * The webhook secret the tenant keeps for one of its accounts at a vendor other than the settings'
 * own (a text account's Twilio sub-account, whose numbers' webhooks it signs), or undefined.
 */
export type WebhookAccountSecrets = (tenantId: TenantId, vendor: string, accountId: string) => Promise<string | undefined>

/**
 * Which of the tenant's providers a webhook endpoint is for: a channel (Messenger's endpoint), or
 * several channels one vendor account serves (Twilio's SMS and WhatsApp share the account's auth
 * token), optionally only when the configured vendor is `vendor`.
 */
export type WebhookTarget = Channel | { readonly channels: readonly Channel[]; readonly vendor?: string | undefined }

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
 * The one inbound webhook pipeline, for every vendor and channel: a surface hands over the raw
 * request; the tenant's configured provider checks the subscription handshake (Messenger's verify
 * token) or the request's signature (refused when wrong, or when the provider cannot check one)
 * and reads its events; this applies them. Messages people sent go through
 * `DeliveryService.receive` (and so to the inbound handlers), after the tenant's unknown-sender
 * policy admitted a phone sender; delivery reports move outbox messages forward through
 * `DeliveryTracking` (never back; failures keep the vendor's error code).
 */
export class DeliveryWebhooks {
  readonly #db: Kysely<DB>
  readonly #delivery: DeliveryService
  readonly #tracking: DeliveryTracking
  readonly #lookup: WebhookAdapterLookup
  readonly #accountSecrets: WebhookAccountSecrets | undefined

  constructor(db: Kysely<DB>, deps: { delivery: DeliveryService; tracking: DeliveryTracking; adapter: WebhookAdapterLookup; accountSecrets?: WebhookAccountSecrets }) {
    this.#db = db
    this.#delivery = deps.delivery
    this.#tracking = deps.tracking
    this.#lookup = deps.adapter
    this.#accountSecrets = deps.accountSecrets
  }

  /**
   * The first of the providers whose signature check passes: under the settings' own secret, or
   * under the secret kept for the (sub-)account the webhook names (a text account's numbers).
   */
  async #verified(tenant: TenantRef, adapters: Array<{ channel: Channel; adapter: WebhookAdapter }>, req: WebhookRequest): Promise<{ channel: Channel; adapter: WebhookAdapter } | undefined> {
    const own = adapters.find(({ adapter }) => adapter.verifySignature!(req))
    if (own || !this.#accountSecrets) return own
    for (const found of adapters) {
      const { adapter } = found
      const account = adapter.webhookAccount?.(req)
      if (!account || !adapter.verifySignatureWith) continue
      const secret = await this.#accountSecrets(tenant.id, adapter.id, account)
      if (secret && adapter.verifySignatureWith(secret, req)) return found
    }
    return undefined
  }

  /** The tenant's providers that can take webhooks for `target`, in the target's channel order. */
  async #adapters(tenant: TenantRef, target: WebhookTarget): Promise<Array<{ channel: Channel; adapter: WebhookAdapter }>> {
    const channels = typeof target === 'string' ? [target] : target.channels
    const vendor = typeof target === 'string' ? undefined : target.vendor
    const found: Array<{ channel: Channel; adapter: WebhookAdapter }> = []
    for (const channel of channels) {
      const settings = await this.#delivery.channelSettings(tenant.id, channel)
      if (!settings || settings.provider === 'sandbox' || (vendor !== undefined && settings.provider !== vendor)) continue
      let adapter: WebhookAdapter | undefined
      try {
        adapter = this.#lookup(channel, settings)
      } catch {
        adapter = undefined
      }
      if (adapter?.parseWebhook && adapter.verifySignature) found.push({ channel, adapter })
    }
    if (found.length === 0) {
      const named = channels.join(' or ')
      throw new NotFoundError('webhook_not_configured', `no ${named} provider with webhooks is configured for this tenant`, { channel: named })
    }
    return found
  }

  /**
   * A subscription handshake: the challenge to echo. Throws NotFoundError `webhook_not_configured`,
   * AuthError `bad_verify_token` (wrong token, or not a subscribe request).
   */
  async subscribe(tenant: TenantRef, target: WebhookTarget, query: Readonly<Record<string, string | undefined>>): Promise<string> {
    for (const { adapter } of await this.#adapters(tenant, target)) {
      const challenge = adapter.verifySubscription?.(query)
      if (challenge !== undefined) return challenge
    }
    throw new AuthError('bad_verify_token', 'the verify token does not match')
  }

  /**
   * One webhook request: verified by the first of the target's providers whose signature check
   * passes, read by that provider, then every event applied. Throws NotFoundError
   * `webhook_not_configured`, AuthError `bad_signature`, ValidationError `invalid_webhook`;
   * nothing is stored when it throws.
   */
  async handle(tenant: Tenant, target: WebhookTarget, req: WebhookRequest): Promise<WebhookOutcome> {
    const verified = await this.#verified(tenant, await this.#adapters(tenant, target), req)
    if (!verified) throw new AuthError('bad_signature', 'the webhook signature does not match')
    const { channel, adapter } = verified
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
        if (m.admitSender && (m.channel === 'sms' || m.channel === 'whatsapp')) {
          const phone = toE164(m.from)
          if (phone) await this.#tracking.admitSender(tenant, m.channel, phone)
        }
        const media = m.media && m.media.length > 0 ? m.media.map((x) => ({ url: x.url, content_type: x.contentType ?? null })) : undefined
        const data = media ? { media, ...m.data } : m.data ? { ...m.data } : undefined
        try {
          const { created } = await this.#delivery.receive(tenant, {
            channel: m.channel, from: m.from, to: m.to, body: m.body, provider: adapter.id, providerMessageId: m.providerMessageId, data,
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
        const moved = await this.#tracking.recordStatus(tenant, {
          provider: adapter.id, providerMessageId, status: event.status, providerStatus: event.providerStatus ?? event.status,
          errorCode: event.errorCode, messageId: ids.size === 1 ? event.messageId : undefined,
        })
        if (moved?.applied) statusUpdates++
      }
    }
    return { received, statusUpdates, skipped }
  }
}
