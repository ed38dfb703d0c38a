/**
 * The provider side of delivery: one interface per channel in novu's adapter shape. Providers know
 * nothing of core (tenants, people, the outbox); they turn one message into one vendor call.
 */

/** Every channel a message can go out on. */
export const CHANNELS = ['sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice'] as const
export type Channel = (typeof CHANNELS)[number]

/** One message to hand to a vendor. */
export interface OutboundMessage {
  /**
   * Our id of the message, the same on every attempt: vendors that accept an idempotency key get
   * it, so a retry after a lost answer does not send twice.
   */
  readonly id: string
  readonly channel: Channel
  /** E.164 phone (sms, whatsapp, voice), e-mail address, device token, page-scoped id, chat session. */
  readonly to: string
  /** Sender number or address; undefined for the provider's default. */
  readonly from?: string | undefined
  /** E-mail subject, push title. */
  readonly subject?: string | undefined
  readonly body: string
  /** Channel extras (an HTML part, push data, media URLs). */
  readonly data?: Readonly<Record<string, unknown>> | undefined
  /** Where the vendor should post delivery-status callbacks for this message (our webhook), if it does. */
  readonly statusCallbackUrl?: string | undefined
  /** Files to attach, with their bytes (e-mail; the caller read them from its file store). */
  readonly attachments?: ReadonlyArray<{ readonly filename: string; readonly contentType: string; readonly content: Buffer }> | undefined
}

/** What the vendor said when it accepted a message. */
export interface SendResult {
  /** The vendor's id of the message (for status webhooks). */
  readonly providerMessageId: string
  /** `sent` once the vendor accepted it; `delivered` when the vendor confirms delivery synchronously. */
  readonly status: 'sent' | 'delivered'
}

/** A webhook request as a provider sees it (no framework types). */
export interface RawWebhook {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: unknown
  /** The body exactly as received, for vendors that sign the raw bytes (Messenger's X-Hub-Signature-256). */
  readonly rawBody?: Buffer | undefined
}

/**
 * What one vendor webhook request carried, in order: messages people sent, and delivery reports
 * on messages we sent (by the vendor's message ids, or for a recipient up to a time, as
 * Messenger's read watermark says). Every vendor callback (messaging today; voice, video and chat
 * callbacks later) is read into these events by its provider and applied by core's one webhook
 * pipeline (`DeliveryWebhooks`).
 */
export type WebhookEvent =
  | { readonly kind: 'message'; readonly message: ParsedInbound }
  | WebhookStatusEvent

/** A delivery status a vendor reports on messages we sent. */
export type WebhookStatus = 'sent' | 'delivered' | 'undelivered' | 'failed'

/** A delivery report: the messages it is about move forward to `status` (never back). */
export interface WebhookStatusEvent {
  readonly kind: 'status'
  /** `sent` (still on its way), `delivered`, or a final failure: `undelivered`, `failed`. */
  readonly status: WebhookStatus
  readonly providerMessageIds?: readonly string[] | undefined
  /** With `before`: every message to this recipient sent up to that time. */
  readonly recipient?: string | undefined
  readonly before?: Date | undefined
  /** The vendor's own status word (Twilio: queued, sent, delivered, read…), kept in the history. */
  readonly providerStatus?: string | undefined
  /** The vendor's error code of a failure (Twilio's `ErrorCode`, 30003…). */
  readonly errorCode?: string | undefined
  /**
   * Our message id, when the (authenticated) callback names it: the status callback URL we gave
   * the vendor carries it as `?message=`, so a report that overtakes our record of the send still
   * finds its message.
   */
  readonly messageId?: string | undefined
}

/** A file a person sent with a message (a picture, a voice note), as the vendor hosts it. */
export interface InboundMedia {
  readonly url: string
  readonly contentType?: string | undefined
}

/** A message a person sent, as a provider parsed it from its vendor's webhook. */
export interface ParsedInbound {
  readonly channel: Channel
  readonly from: string
  readonly to?: string | undefined
  readonly body: string
  readonly providerMessageId?: string | undefined
  readonly data?: Readonly<Record<string, unknown>> | undefined
  /** Files sent with it; stored as `data.media` (`[{url, content_type}]`). */
  readonly media?: readonly InboundMedia[] | undefined
  /**
   * The sender is a phone number that may be nobody in the tenant's directory yet: core applies
   * the tenant's unknown-sender policy (`unknown_senders`) before storing the message, so under
   * `create` the message reaches a new person.
   */
  readonly admitSender?: boolean | undefined
}

/** A vendor for one channel. */
export interface ChannelProvider<C extends Channel = Channel> {
  /** The vendor: `sandbox`, `twilio`, `smtp`... */
  readonly id: string
  readonly channel: C
  /** Hand one message to the vendor. Throws ProviderError; `retryable` decides whether the job retries. */
  send(msg: OutboundMessage & { readonly channel: C }): Promise<SendResult>
  parseInbound?(req: RawWebhook): ParsedInbound | undefined
  verifySignature?(req: RawWebhook): boolean
  /**
   * The vendor account a webhook comes from, when the vendor signs each (sub-)account's webhooks with
   * that account's own secret (Twilio: `AccountSid`, a text account's sub-account); with
   * `verifySignatureWith`, the pipeline checks such a webhook under the secret kept for that account.
   */
  webhookAccount?(req: RawWebhook): string | undefined
  /** Whether a webhook carries the vendor's signature under `secret` (another account's than the settings'). */
  verifySignatureWith?(secret: string, req: RawWebhook): boolean
  /** Every event of a (verified) webhook request; throws ProviderError `invalid_webhook` on a body it cannot read. */
  parseWebhook?(req: RawWebhook): WebhookEvent[]
  /**
   * A webhook subscription handshake (Messenger's `hub.mode=subscribe`): the challenge to echo when
   * the query proves the caller knows the verify token, else undefined.
   */
  verifySubscription?(query: Readonly<Record<string, string | undefined>>): string | undefined
  /**
   * The sender a message from `from` (undefined: the configured default) goes out as, and how many
   * sends per second that sender may make; undefined when the vendor has no per-sender limit.
   */
  sendRate?(from: string | undefined): { readonly sender: string; readonly perSecond: number } | undefined
  /**
   * Messages the vendor already holds that an earlier attempt of `msg` may have made: sent by us to
   * the same recipient with the same body since `since`, oldest first. Only vendors that can be
   * asked implement it; delivery calls it before sending a message again whose earlier attempt's
   * outcome is unknown (crash, timeout, lost connection), and records a match instead of sending:
   * exactly once with such vendors, at least once with the others. Throws ProviderError.
   */
  findSent?(msg: OutboundMessage & { readonly channel: C }, since: Date): Promise<SendResult[]>
  /** Release pooled connections; the registry calls it when it drops the provider. */
  close?(): Promise<void>
}

/** Channel-specific names, as HOUSE-STYLE writes them. */
export type SmsProvider = ChannelProvider<'sms'>
export type WhatsappProvider = ChannelProvider<'whatsapp'>
export type MessengerProvider = ChannelProvider<'messenger'>
export type EmailProvider = ChannelProvider<'email'>
export type PushProvider = ChannelProvider<'push'>
export type WebchatProvider = ChannelProvider<'webchat'>
export type VoiceProvider = ChannelProvider<'voice'>

/**
 * A vendor failure, normalised so the job layer can decide about retries: `retryable` for outages,
 * rate limits and timeouts; not for a rejected recipient or bad credentials.
 */
export class ProviderError extends Error {
  readonly code: string
  /** The vendor's HTTP status, when there was one. */
  readonly status: number | undefined
  readonly retryable: boolean
  /** How long the vendor asked us to wait before trying again (its `Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined
  constructor(code: string, message: string, options: { retryable: boolean; status?: number | undefined; retryAfterMs?: number | undefined; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.name = 'ProviderError'
    this.code = code
    this.status = options.status
    this.retryable = options.retryable
    this.retryAfterMs = options.retryAfterMs
  }
}

/** Whether `value` names a channel. */
export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value)
}
