import { EventEmitter } from 'node:events'
import { DeferJobError, PermanentJobError } from '../../jobs/index.ts'
import type { DeliveryRepository } from './delivery.repository.ts'
import type { DeliveryTracking } from './delivery-tracking.ts'
import type { Channel, ChannelProviderSettings, MessageAttachmentFile, OutboxMessage, ProviderAccepted, ProviderMessage, ProviderResolver, StoredFileRef } from './delivery.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** Provider calls one batch makes at once. */
const SEND_LANES = 16

/**
 * How far before the outbox row's creation a reconciling lookup still counts a vendor's message as
 * an earlier attempt's: clock skew between us and the vendor.
 */
const RECONCILE_SKEW_MS = 5 * 60_000

/** A file an outbox message lists in `data.files` is gone (or cannot be read here): the message can never go out as it is. */
class MissingFileError extends Error {}

/** The files an outbox message lists in `data.files` (well-formed entries only). */
function storedFiles(data: Readonly<Record<string, unknown>>): StoredFileRef[] {
  const raw = data.files
  if (!Array.isArray(raw)) return []
  return raw.filter((f): f is StoredFileRef => typeof f === 'object' && f !== null
    && typeof (f as StoredFileRef).key === 'string' && typeof (f as StoredFileRef).filename === 'string' && typeof (f as StoredFileRef).contentType === 'string')
}

/** One message to attempt: which, and the signal that ends its attempt (a job's, a caller's timeout). */
export interface AttemptItem {
  readonly tenantId: TenantId
  readonly messageId: string
  readonly signal: AbortSignal
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (ms <= 0 || signal.aborted) return resolve()
  const timer = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => {
    clearTimeout(timer)
    resolve()
  }, { once: true })
})

/**
 * Delivery attempts: take outbox messages, hand each to its tenant's provider for the channel, and
 * record the outcome. A batch claims every message in one statement, calls up to 16 providers at
 * once and records every send in one statement (failures each on its own). A provider with a
 * per-sender rate gets a send slot reserved in the database first, so the limit holds across every
 * process; a slot more than two seconds away puts the message off (DeferJobError) instead of
 * holding the caller. A message attempted before (its earlier attempt crashed, timed out or lost
 * its connection, so the vendor may have it) is first looked up at the vendor where the provider
 * can (`findSent`): found, it is recorded as sent with the vendor's id and not sent again.
 */
export class DeliveryAttempts {
  readonly #repo: DeliveryRepository
  readonly #tracking: DeliveryTracking
  readonly #resolver: ProviderResolver
  readonly #channelSettings: (tenantId: TenantId, channel: Channel) => Promise<ChannelProviderSettings | undefined>
  readonly #publicUrl: string | undefined
  readonly #readFile: ((tenantId: TenantId, key: string) => Promise<Buffer>) | undefined
  /** Per message id: an attempt concluded in this process (see `whenSettled`). */
  readonly #settled = new EventEmitter().setMaxListeners(0)

  constructor(deps: {
    repo: DeliveryRepository
    tracking: DeliveryTracking
    resolver: ProviderResolver
    channelSettings: (tenantId: TenantId, channel: Channel) => Promise<ChannelProviderSettings | undefined>
    publicUrl?: string | undefined
    readFile?: ((tenantId: TenantId, key: string) => Promise<Buffer>) | undefined
  }) {
    this.#repo = deps.repo
    this.#tracking = deps.tracking
    this.#resolver = deps.resolver
    this.#channelSettings = deps.channelSettings
    this.#publicUrl = deps.publicUrl
    this.#readFile = deps.readFile
  }

  /**
   * Attempt the messages: one outcome per item, undefined when it was sent or needs no attempt
   * (finished, gone, suppressed), else the error its job fails with — a DeferJobError (a sender's
   * rate limit), a PermanentJobError (the vendor refused it for good; the message is `failed`), or
   * the provider's error (retry; the message is back to `queued` with it). `claimed`: messages
   * the caller took for this attempt already (written `sending`).
   */
  async attempt(items: readonly AttemptItem[], claimed?: ReadonlyMap<string, OutboxMessage>): Promise<unknown[]> {
    const outcomes: unknown[] = items.map(() => undefined)
    const sent: Parameters<DeliveryTracking['recordSent']>[0][number][] = []
    try {
      // Messages already sent or failed, suppressed, or of a tenant that is gone are not taken.
      const taken = claimed ?? await this.#repo.startAttempts(items.map((j) => ({ tenantId: j.tenantId, id: j.messageId })))
      // Each batch resolves a tenant's channel settings once.
      const settings = new Map<string, Promise<ChannelProviderSettings | undefined>>()
      let next = 0
      const lane = async () => {
        for (let n = next++; n < items.length; n = next++) {
          const { tenantId, messageId, signal } = items[n]!
          const message = taken.get(messageId)
          if (!message || message.status !== 'sending') continue
          let provider: string | null = null
          try {
            const key = `${tenantId} ${message.channel}`
            if (!settings.has(key)) settings.set(key, this.#channelSettings(tenantId, message.channel))
            const p = this.#resolver.resolve(message.channel, await settings.get(key)!)
            provider = p.id
            const files = storedFiles(message.data)
            const outbound: ProviderMessage = {
              id: message.id, channel: message.channel, to: message.to, from: message.from ?? undefined,
              subject: message.subject ?? undefined, body: message.body, data: message.data,
              ...(files.length > 0 ? { attachments: await this.#files(tenantId, files) } : {}),
              // Our id in the URL lets a report that overtakes recordSent find its message.
              statusCallbackUrl: this.#publicUrl ? `${this.#publicUrl}/webhooks/${encodeURIComponent(p.id)}/${tenantId}/status?message=${message.id}` : undefined,
            }
            // An earlier attempt may have reached the vendor (it crashed before recording, timed
            // out, or lost its connection after writing): ask the vendor before sending again.
            if (message.attempts > 1 && p.findSent) {
              const found = await this.#reconcile(message, p.id, await p.findSent(outbound, new Date(message.createdAt.getTime() - RECONCILE_SKEW_MS)))
              if (found) {
                sent.push({ tenantId, messageId, provider: p.id, providerMessageId: found.providerMessageId, status: found.status, channel: message.channel, body: message.body })
                continue
              }
            }
            const rate = p.sendRate?.(message.from ?? undefined)
            if (rate) {
              const slot = await this.#tracking.reserveSlot(tenantId, message.channel, rate.sender, rate.perSecond)
              if ('deferMs' in slot) {
                await this.#tracking.releaseAttempt(tenantId, messageId)
                // Spread the put-off messages over the backlog instead of waking them all at the same slot.
                throw new DeferJobError(new Date(Date.now() + slot.deferMs + Math.random() * slot.deferMs), `sender ${rate.sender} is at its rate limit`)
              }
              await sleep(slot.waitMs, signal)
              // A STOP that arrived while this attempt waited for its slot still wins.
              if (slot.waitMs > 0 && (await this.#repo.suppressIfListed(tenantId, messageId))) continue
            }
            const result = await p.send(outbound)
            sent.push({ tenantId, messageId, provider: p.id, providerMessageId: result.providerMessageId, status: result.status, channel: message.channel, body: message.body })
          } catch (err) {
            outcomes[n] = await this.#failure(tenantId, messageId, provider, err)
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(SEND_LANES, items.length) }, lane))
      await this.#tracking.recordSent(sent)
      return outcomes
    } finally {
      // A caller in this process waiting for these messages (deliverNow) re-reads them now.
      for (const j of items) this.#settled.emit(j.messageId)
    }
  }

  /**
   * The vendor's message an earlier attempt made, among those the lookup found: the oldest one no
   * other outbox message of the tenant holds (the same text to the same person twice is two messages).
   */
  async #reconcile(message: OutboxMessage, provider: string, found: readonly ProviderAccepted[]): Promise<ProviderAccepted | undefined> {
    if (found.length === 0) return undefined
    const held = await this.#repo.providerIdsHeld(message.tenantId, provider, found.map((f) => f.providerMessageId), message.id)
    return found.find((f) => !held.has(f.providerMessageId))
  }

  /** The bytes of a message's stored files, read at this attempt (MissingFileError when one cannot be). */
  async #files(tenantId: TenantId, files: readonly StoredFileRef[]): Promise<MessageAttachmentFile[]> {
    const out: MessageAttachmentFile[] = []
    for (const f of files) {
      if (!this.#readFile) throw new MissingFileError(`attachment ${f.filename}: no file store to read it from`)
      let content: Buffer
      try {
        content = await this.#readFile(tenantId, f.key)
      } catch (err) {
        // A store that is down is a passing failure; a file that is not there never comes back.
        if ((err as { code?: string }).code === 'file_not_found') throw new MissingFileError(`attachment ${f.filename} is no longer stored`)
        throw err
      }
      out.push({ filename: f.filename, contentType: f.contentType, content })
    }
    return out
  }

  /** What a failed attempt becomes: the message records the error; the job retries, or dies at once for a refusal. */
  async #failure(tenantId: TenantId, messageId: string, provider: string | null, err: unknown): Promise<unknown> {
    if (err instanceof DeferJobError) return err
    const error = err instanceof Error ? err.message : String(err)
    const final = err instanceof MissingFileError || this.#resolver.isFinal(err)
    if (final) await this.#repo.markFailed(tenantId, messageId, provider, error)
    else await this.#repo.recordAttemptError(tenantId, messageId, provider, error)
    const code = err instanceof MissingFileError ? 'attachment_missing' : this.#resolver.errorCode?.(err) ?? 'rejected'
    return final ? new PermanentJobError(code, error, { cause: err }) : err
  }

  /**
   * Resolves when an attempt on the message concludes in this process, or after `ms` at the latest
   * (the attempt may run in another process).
   */
  whenSettled(messageId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#settled.off(messageId, done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#settled.once(messageId, done)
    })
  }
}
