import type { Channel, ChannelProviderSettings } from '../channels.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

export { CHANNELS, type Channel, type ChannelProviderSettings } from '../channels.ts'

/**
 * Where an outbound message is: waiting, with a vendor right now, accepted, confirmed, or given up;
 * or `suppressed`: never sent, because the recipient is on the tenant's suppression list.
 */
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'suppressed'

/** Why an address is suppressed: a STOP reply, a do-not-contact entry, a withdrawn consent, by hand. */
export type SuppressionReason = 'stop_keyword' | 'dnc' | 'consent_withdrawn' | 'manual'

/** One outbound message of any channel, as core hands it around. */
export interface OutboxMessage {
  readonly id: string
  readonly tenantId: TenantId
  readonly channel: Channel
  /** The tenant's person it went to, when the recipient matched one (or the caller named one). */
  readonly personId: string | null
  readonly to: string
  readonly from: string | null
  readonly subject: string | null
  readonly body: string
  readonly data: Readonly<Record<string, unknown>>
  readonly idempotencyKey: string
  readonly status: OutboxStatus
  /** The vendor that took it (`sandbox`), once one did. */
  readonly provider: string | null
  readonly providerMessageId: string | null
  readonly attempts: number
  readonly lastError: string | null
  /** Not sent before this time. */
  readonly sendAt: Date
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly sentAt: Date | null
  /**
   * Why it was not sent, when `status` is `suppressed`: an entry's reason, or `consent_required`
   * (a promotional SMS while the tenant requires an accepted consent the number has not given).
   */
  readonly suppressedReason: SuppressionReason | 'consent_required' | null
  /** A carrier-required reply (STOP/START/HELP answer), which the suppression list never holds back. */
  readonly complianceReply: boolean
}

/** What `DeliveryService.send` needs. */
export interface SendMessageInput {
  readonly channel: string
  /** Phone (any common writing; stored E.164), e-mail address, device token, page-scoped id, chat session. */
  readonly to: string
  readonly body: string
  readonly subject?: string | undefined
  readonly from?: string | undefined
  readonly data?: Record<string, unknown> | undefined
  /** The tenant's person, when the caller knows it; otherwise found by phone or e-mail. */
  readonly personId?: string | undefined
  /**
   * Idempotency key, unique per tenant: sending again with the same key returns the first message
   * and sends nothing. Default: a fresh key (every call sends).
   */
  readonly idempotencyKey?: string | undefined
  /** Not before this time. */
  readonly sendAt?: Date | undefined
  /**
   * Only for the replies carriers require (the STOP confirmation, START and HELP answers): sent even
   * to a suppressed recipient. Never set it for anything else.
   */
  readonly complianceReply?: boolean | undefined
  /**
   * A non-transactional send (a multicast's SMS): held back as `suppressed` (`consent_required`)
   * when the tenant requires an accepted SMS consent (README "Consent") and the number has none.
   */
  readonly promotional?: boolean | undefined
}

/** One message a person sent in. */
export interface InboundMessage {
  readonly id: string
  readonly tenantId: TenantId
  readonly channel: Channel
  /** The tenant's person whose phone or e-mail matched `from`, if any. */
  readonly personId: string | null
  readonly from: string
  readonly to: string | null
  readonly body: string
  readonly data: Readonly<Record<string, unknown>>
  /** The vendor it came through (`sandbox`). */
  readonly provider: string
  readonly providerMessageId: string | null
  /** `processed` once every inbound handler ran. */
  readonly status: 'received' | 'processed'
  readonly receivedAt: Date
  readonly processedAt: Date | null
}

/** What `DeliveryService.receive` needs: a provider's parsed webhook, or the sandbox's answer form. */
export interface ReceiveMessageInput {
  readonly channel: string
  readonly from: string
  readonly body: string
  readonly to?: string | undefined
  readonly provider: string
  /** The vendor's id: a webhook delivered twice is stored once. */
  readonly providerMessageId?: string | undefined
  readonly data?: Record<string, unknown> | undefined
}

export interface ListMessagesOptions {
  /** 1-200; default 50. */
  readonly limit?: number | undefined
  readonly channel?: string | undefined
}

/**
 * Reacts to an inbound message, in a worker, after it is stored (the bot routes it into a
 * conversation). Runs again when the job retries, so it must be idempotent. Answering `consumed`
 * ends the message's way through the handlers: later handlers never see it (a STOP is no answer
 * to the bot's question).
 */
export type InboundHandler = (message: InboundMessage) => Promise<void | 'consumed'>

/**
 * When an inbound handler runs: every `consent` handler (an SMS opt-in conversation waiting for its
 * answer, which must see a STOP too) before every `compliance` handler (the opt-out keywords) before
 * any `conversation` handler (the bot, an agent's chat), each phase in registration order.
 */
export type InboundPhase = 'consent' | 'compliance' | 'conversation'

/**
 * The check of the tenant's consent requirement for promotional SMS: of these phones, those that may
 * not be sent a promotional SMS now (the tenant requires an accepted consent and they have none).
 */
export type ConsentGate = (db: import('kysely').Kysely<import('../../db/schema.ts').DB>, tenantId: TenantId, phones: readonly string[]) => Promise<ReadonlySet<string>>


/** One message as delivery hands it to a provider (the provider contract's outbound message). */
export interface ProviderMessage {
  /** Our message id, the same on every attempt (vendors that take an idempotency key get it). */
  readonly id: string
  readonly channel: Channel
  readonly to: string
  readonly from?: string | undefined
  readonly subject?: string | undefined
  readonly body: string
  readonly data?: Readonly<Record<string, unknown>> | undefined
  /** Where the vendor posts status callbacks for this message, if it does. */
  readonly statusCallbackUrl?: string | undefined
  /** Files that go with it (e-mail): read from the file store at each attempt (`data.files`, see `StoredFileRef`). */
  readonly attachments?: readonly MessageAttachmentFile[] | undefined
}

/**
 * A stored file an outbox message carries, listed in its `data.files`: the key in core's file
 * store, read at each attempt and handed to the provider as a `MessageAttachmentFile`.
 */
export interface StoredFileRef {
  readonly key: string
  readonly filename: string
  readonly contentType: string
}

/** A file as a provider gets it with a message. */
export interface MessageAttachmentFile {
  readonly filename: string
  readonly contentType: string
  readonly content: Buffer
}

/** A message the vendor holds: what it said when it took one, or what a lookup found. */
export interface ProviderAccepted {
  readonly providerMessageId: string
  readonly status: 'sent' | 'delivered'
}

/**
 * A vendor as delivery attempts through it: the port core defines and the provider registry
 * (src/providers) implements at wiring, so core never imports providers.
 */
export interface DeliveryProvider {
  /** The vendor: `sandbox`, `twilio`… */
  readonly id: string
  /** Hand one message to the vendor; throws on failure (see `ProviderResolver.isFinal`). */
  send(message: ProviderMessage): Promise<ProviderAccepted>
  /** The sender a message from `from` goes out as and its sends per second, when the vendor limits senders. */
  sendRate?(from: string | undefined): { readonly sender: string; readonly perSecond: number } | undefined
  /**
   * Messages the vendor already holds that an earlier attempt of `message` may have made (same
   * recipient and body, made since `since`), oldest first. Present only where the vendor can be
   * asked: a retry then reconciles instead of sending again (exactly once); without it a retry
   * after an unknown outcome may send twice (at least once).
   */
  findSent?(message: ProviderMessage, since: Date): Promise<readonly ProviderAccepted[]>
}

/** Picks a tenant's provider for a channel from its settings (undefined: the sandbox). */
export interface ProviderResolver {
  resolve(channel: Channel, settings: ChannelProviderSettings | undefined): DeliveryProvider
  /** Whether a provider's error means the message can never go out as it is (no retry). */
  isFinal(err: unknown): boolean
  /** The vendor's error code of a provider's error, if it has one. */
  errorCode?(err: unknown): string | undefined
}
