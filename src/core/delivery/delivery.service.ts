import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { DeferJobError, PermanentJobError, type JobQueue } from '../../jobs/index.ts'
import { GroupCommit } from '../../lib/group-commit.ts'
import { toE164 } from '../../lib/phone.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleExecutor, PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import { DeliveryAttempts } from './delivery-attempts.ts'
import type { DeliveryTracking } from './delivery-tracking.ts'
import { DeliveryRepository } from './delivery.repository.ts'
import { INBOUND_MESSAGE_JOB, SEND_BATCH_JOB, SEND_BATCH_MAX, SEND_MESSAGE_JOB } from './delivery.jobs.ts'
import {
  CHANNELS, type Channel, type ChannelProviderSettings, type InboundHandler, type InboundMessage, type InboundPhase, type ListMessagesOptions,
  type OutboxMessage, type ProviderResolver, type ConsentGate, type ReceiveMessageInput, type SendMessageInput,
} from './delivery.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { UUID } from '../../lib/uuid.ts'

/** A tenant as delivery needs it: its id. */
export type TenantRef = Pick<Tenant, 'id'>

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE_CHANNELS: ReadonlySet<Channel> = new Set(['sms', 'whatsapp', 'voice'])
const MAX_BODY = 20_000
const MAX_SUBJECT = 500
const MAX_ADDRESS = 500
const MAX_DATA_BYTES = 16_384
const MAX_KEY = 200

/** Postgres text cannot hold NUL; refusing it here keeps a bad request a 400 instead of a 500. */
function hasNul(text: string): boolean {
  return text.includes('\u0000')
}

function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value)
}

/** What `send` answers: the message, and whether this call made it (false: the key was used before). */
export interface SendAnswer {
  readonly message: OutboxMessage
  readonly created: boolean
}

/** A send checked and normalised: an outbox row but for the person and suppression lookups. */
interface CheckedSend {
  readonly channel: Channel
  readonly to: string
  readonly from: string | null
  readonly body: string
  readonly subject: string | null
  readonly data: Record<string, unknown>
  readonly idempotencyKey: string
  readonly sendAt: Date
  readonly personId: string | null
  readonly complianceReply: boolean
  readonly promotional: boolean
}

/** A send of its own transaction, waiting to be written with the others (see `send`). */
interface PendingSend {
  readonly tenant: TenantRef
  readonly row: CheckedSend
}

/** Options of `send` and `sendMany`. */
export interface SendOptions {
  /** Write in the caller's transaction (the queue must be started). */
  readonly trx?: Transaction<DB> | undefined
  /**
   * The caller hands the messages to `deliverNow` right after its commit: they are written
   * `sending` with their first attempt counted, and their jobs are held back (DELIVER_NOW_HOLD_MS)
   * as the safety net should it not get there.
   */
  readonly deliverNow?: boolean | undefined
  /** The caller found every `personId` in `trx` already (the bot): they are not looked up again. */
  readonly peopleChecked?: boolean | undefined
  /**
   * A fan-out's batch (a multicast): the messages due now go under `delivery.send-batch` jobs of up
   * to SEND_BATCH_MAX messages each instead of a `delivery.send` job each (scheduled ones keep
   * theirs). Each message keeps its idempotency key and outbox state; a message the batch job
   * cannot send for a passing reason is retried with the job.
   */
  readonly batched?: boolean | undefined
}

/** What `deliverNow` says: every message went to its provider, or the first failure. */
export type DeliveryOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string }

/** How soon a message whose immediate attempt failed for a passing reason is tried again by its job. */
const RETRY_AFTER_FAILED_ATTEMPT_MS = 10_000

/**
 * How long the jobs of messages written for `deliverNow` are held back while the caller attempts
 * them itself: well past any caller's timeout and the providers' own, so the job (the safety net
 * for a crash in between) never races the attempt.
 */
const DELIVER_NOW_HOLD_MS = 60_000

/** Transactions of waiting sends in flight at once (each carries every send waiting when it began). */
const MAX_WRITES = 4
/** Sends one such transaction carries at most. */
const MAX_GROUP = 500

export interface DeliveryServiceOptions {
  /** The vendors (the provider registry, wired in src/services.ts): the port delivery attempts through. */
  providers: ProviderResolver
  /**
   * A tenant's decrypted provider settings for a channel. Until tenants carry provider settings,
   * none: every channel uses the sandbox.
   */
  channelSettings?: ((tenantId: TenantId, channel: Channel) => Promise<ChannelProviderSettings | undefined>) | undefined
  /** Status callbacks, segment counts, per-sender send slots, unknown senders (the one of src/services.ts). */
  tracking: DeliveryTracking
  /** The people directory: messages are matched to people by id, phone or e-mail through it. */
  people: PeopleLookups
  /**
   * Reads a stored file of the tenant (core's file store), for the files an outbox message lists
   * in `data.files`; without it such a message fails (`attachment_missing`).
   */
  readFile?: ((tenantId: TenantId, key: string) => Promise<Buffer>) | undefined
  /** Public base URL: status callbacks go to `<publicUrl>/webhooks/<vendor>/<tenant id>/status?message=<our id>`. */
  publicUrl?: string | undefined
}

/**
 * Delivery: every outbound message of every channel is an outbox row plus a `delivery.send` job
 * (keyed by the message), written in one transaction; a worker (src/jobs/send-message.job.ts)
 * hands it to the tenant's provider for the channel and reports back here. Messages people send
 * in are stored, matched to a person by phone or e-mail, and handed to the registered inbound
 * handlers by a `delivery.inbound` job.
 */
export class DeliveryService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #repo: DeliveryRepository
  readonly #channelSettings: NonNullable<DeliveryServiceOptions['channelSettings']>
  readonly #inboundHandlers: Record<InboundPhase, Set<InboundHandler>> = { consent: new Set(), compliance: new Set(), conversation: new Set() }
  #consentGate: ConsentGate | undefined
  readonly #attempts: DeliveryAttempts
  readonly #people: PeopleLookups
  /**
   * Sends of their own transaction are written together with whatever other sends are waiting
   * (group commit): one transaction for many callers instead of one each, one per idempotency key.
   */
  readonly #sends = new GroupCommit<PendingSend, SendAnswer>({
    groupKey: (w) => w.tenant.id,
    memberKey: (w) => w.row.idempotencyKey,
    maxInFlight: MAX_WRITES,
    maxGroup: MAX_GROUP,
    write: (group) => this.#commit(group[0]!.tenant, group.map((w) => w.row)),
  })

  constructor(db: Kysely<DB>, jobs: JobQueue, options: DeliveryServiceOptions) {
    this.#db = db
    this.#jobs = jobs
    this.#repo = new DeliveryRepository(db)
    this.#channelSettings = options.channelSettings ?? (async () => undefined)
    this.#people = options.people
    this.#attempts = new DeliveryAttempts({
      repo: this.#repo, tracking: options.tracking, resolver: options.providers,
      channelSettings: this.#channelSettings, publicUrl: options.publicUrl, readFile: options.readFile,
    })
  }

  /**
   * Queue a message for delivery: the outbox row and its job, in `trx` when given (so the message
   * exists exactly when the caller's change commits; the queue must be started), else in a
   * transaction of its own. A repeated idempotency key returns the first message, `created: false`.
   * Throws ValidationError `invalid_channel`, `invalid_recipient`, `invalid_sender`, `invalid_body`,
   * `invalid_subject`, `invalid_data`, `invalid_key`, `invalid_send_at`, `invalid_person_id`;
   * NotFoundError `person_not_found`. Nothing is written when it throws.
   */
  async send(tenant: TenantRef, input: SendMessageInput, opts: SendOptions = {}): Promise<SendAnswer> {
    if (opts.trx) return (await this.sendMany(tenant, [input], opts))[0]!
    return this.#sends.submit({ tenant, row: this.#checkSend(input) })
  }

  /**
   * `send` for many messages of one tenant at once: every message is checked first (the first
   * invalid one throws, with its `index` in the error's details, and nothing is written), then the
   * people, the suppression list, the outbox rows and the jobs take one statement each, whatever
   * the count. Answers in the order given. An idempotency key given twice in one call is refused.
   */
  async sendMany(tenant: TenantRef, inputs: readonly SendMessageInput[], opts: SendOptions = {}): Promise<SendAnswer[]> {
    const rows = inputs.map((input, index) => {
      try {
        return this.#checkSend(input)
      } catch (err) {
        if (inputs.length > 1 && err instanceof ValidationError) throw new ValidationError(err.code, `message ${index}: ${err.message}`, { ...err.details, index })
        throw err
      }
    })
    const keys = new Set<string>()
    for (const [index, row] of rows.entries()) {
      if (keys.has(row.idempotencyKey)) throw new ValidationError('invalid_key', `message ${index}: the idempotency key ${row.idempotencyKey} is given twice`, { index })
      keys.add(row.idempotencyKey)
    }
    if (rows.length === 0) return []
    if (opts.trx) return (await this.#write(opts.trx, tenant, rows, opts)).answers
    return this.#commit(tenant, rows)
  }

  /**
   * The tenant's people reachable at these addresses, keyed `channel address`: by E.164 phone for
   * phone channels, by e-mail (case-insensitively; the oldest person of an address) for e-mail.
   * Other channels' addresses are not in the directory. One statement per kind of address.
   */
  async #peopleAt(db: PeopleExecutor, tenantId: TenantId, wanted: ReadonlyArray<{ channel: Channel; address: string }>): Promise<Map<string, string>> {
    const phones = [...new Set(wanted.filter((w) => PHONE_CHANNELS.has(w.channel)).map((w) => w.address))]
    const emails = wanted.filter((w) => w.channel === 'email').map((w) => w.address)
    const byPhone = await this.#people.idsByPhones(db, tenantId, phones)
    const byEmail = await this.#people.idsByEmails(db, tenantId, emails)
    const found = new Map<string, string>()
    for (const w of wanted) {
      const id = w.channel === 'email' ? byEmail.get(w.address.toLowerCase()) : PHONE_CHANNELS.has(w.channel) ? byPhone.get(w.address) : undefined
      if (id) found.set(`${w.channel} ${w.address}`, id)
    }
    return found
  }

  /** Write checked sends in a transaction of their own, then wake a worker (the queue is started at wiring). */
  async #commit(tenant: TenantRef, rows: readonly CheckedSend[]): Promise<SendAnswer[]> {
    const { answers, enqueued } = await this.#db.transaction().execute((trx) => this.#write(trx, tenant, rows))
    if (enqueued) this.wake()
    return answers
  }

  /** The outbox rows and their jobs for checked sends: one statement per step, whatever the count. */
  async #write(trx: Transaction<DB>, tenant: TenantRef, rows: readonly CheckedSend[], opts: Pick<SendOptions, 'deliverNow' | 'peopleChecked' | 'batched'> = {}): Promise<{ answers: SendAnswer[]; enqueued: boolean }> {
    const holdJobMs = opts.deliverNow ? DELIVER_NOW_HOLD_MS : 0
    const named = [...new Set(rows.map((r) => r.personId).filter((id): id is string => id !== null))]
    const existing = opts.peopleChecked ? new Set(named) : await this.#people.existingIds(trx, tenant.id, named)
    const unknown = rows.findIndex((r) => r.personId !== null && !existing.has(r.personId))
    if (unknown >= 0) {
      const personId = rows[unknown]!.personId
      throw new NotFoundError('person_not_found', `${rows.length > 1 ? `message ${unknown}: ` : ''}unknown person ${personId}`, { personId, ...(rows.length > 1 ? { index: unknown } : {}) })
    }
    const addressed = rows.filter((r) => r.personId === null).map((r) => ({ channel: r.channel, address: r.to }))
    const people = await this.#peopleAt(trx, tenant.id, addressed)
    // The cheap check at enqueue: a recipient suppressed now gets its typed outcome at once and no
    // job. The send job checks again right before the provider, so a later STOP still wins.
    const suppressions = await this.#repo.findSuppressions(trx, tenant.id, rows.filter((r) => !r.complianceReply).map((r) => ({ channel: r.channel, address: r.to })))
    // A promotional SMS needs the number's accepted consent when the tenant requires one (README "Consent").
    const promo = [...new Set(rows.filter((r) => r.promotional && r.channel === 'sms' && !r.complianceReply).map((r) => r.to))]
    const unconsented = promo.length > 0 && this.#consentGate ? await this.#consentGate(trx, tenant.id, promo) : new Set<string>()
    const full = rows.map((r) => ({
      ...r,
      personId: r.personId ?? people.get(`${r.channel} ${r.to}`) ?? null,
      suppressedReason: r.complianceReply ? undefined
        : suppressions.get(`${r.channel} ${r.to}`) ?? (r.promotional && r.channel === 'sms' && unconsented.has(r.to) ? 'consent_required' as const : undefined),
      claimed: holdJobMs > 0,
    }))
    const inserted = await this.#repo.insertOutboxMany(trx, tenant.id, full)
    const repeated = full.filter((r) => !inserted.has(r.idempotencyKey)).map((r) => r.idempotencyKey)
    const earlier = await this.#repo.findOutboxByKeys(trx, tenant.id, repeated)
    const toQueue = [...inserted.values()].filter((m) => m.status !== 'suppressed')
    const now = Date.now()
    const inBatch = opts.batched && holdJobMs === 0 ? toQueue.filter((m) => m.sendAt.getTime() <= now) : []
    for (let i = 0; i < inBatch.length; i += SEND_BATCH_MAX) {
      const ids = inBatch.slice(i, i + SEND_BATCH_MAX).map((m) => m.id)
      // Its first message was made in this transaction, so the key is new.
      await this.#jobs.enqueue(trx, SEND_BATCH_JOB, { tenantId: tenant.id, messageIds: ids }, { key: `outbox-batch:${ids[0]!}`, tenantId: tenant.id })
    }
    const batchedIds = new Set(inBatch.map((m) => m.id))
    await this.#jobs.enqueueMany(trx, SEND_MESSAGE_JOB, toQueue.filter((m) => !batchedIds.has(m.id)).map((m) => ({
      payload: { tenantId: tenant.id, messageId: m.id }, key: `outbox:${m.id}`, tenantId: tenant.id,
      runAt: holdJobMs > 0 ? new Date(Math.max(m.sendAt.getTime(), Date.now() + holdJobMs)) : m.sendAt,
    })))
    const answers = full.map((r) => {
      const made = inserted.get(r.idempotencyKey)
      if (made) return { message: made, created: true }
      const first = earlier.get(r.idempotencyKey)
      if (!first) throw new Error('outbox key conflicted but no message has it')
      return { message: first, created: false }
    })
    return { answers, enqueued: toQueue.length > 0 }
  }

  /** One message to send, checked and normalised: an outbox row but for the lookups. */
  #checkSend(input: SendMessageInput): CheckedSend {
    const channel = this.#channel(input.channel)
    const to = this.#address(channel, input.to, 'invalid_recipient', 'to')
    const from = input.from === undefined || input.from === '' ? null : this.#address(channel, input.from, 'invalid_sender', 'from')
    const body = this.#body(input.body)
    const subject = this.#subject(input.subject)
    const data = this.#data(input.data)
    const key = input.idempotencyKey ?? randomUUID()
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY || hasNul(key)) {
      throw new ValidationError('invalid_key', `the idempotency key must be 1-${MAX_KEY} characters`)
    }
    const sendAt = input.sendAt ?? new Date()
    if (!(sendAt instanceof Date) || Number.isNaN(sendAt.getTime())) throw new ValidationError('invalid_send_at', 'send_at is not a valid time')
    if (input.personId !== undefined && !UUID.test(input.personId)) {
      throw new ValidationError('invalid_person_id', `invalid person id ${input.personId}`, { personId: input.personId })
    }
    return { channel, to, from, body, subject, data, idempotencyKey: key, sendAt, personId: input.personId ?? null, complianceReply: input.complianceReply === true, promotional: input.promotional === true }
  }

  /** Wake this process's send workers (after a transaction that queued messages commits). */
  wake(): void {
    this.#jobs.wake(SEND_MESSAGE_JOB)
    this.#jobs.wake(SEND_BATCH_JOB)
  }

  /**
   * Send the tenant's messages now, in this process, and answer how it went: for a caller that
   * must answer with the outcome (a synchronous ping), after it committed them with `deliverNow`.
   * Answers the first failure: a suppressed recipient, a provider's refusal or outage (a passing
   * one is still retried by the message's job, from RETRY_AFTER_FAILED_ATTEMPT_MS on), or no
   * provider answer within `timeoutMs`. A message put off (a sender's rate limit) or still queued
   * is waited for until `timeoutMs`. Each message's held job stays the safety net; a job that runs
   * for a message already sent does nothing.
   */
  async deliverNow(tenant: TenantRef, messages: readonly OutboxMessage[], opts: { timeoutMs: number }): Promise<DeliveryOutcome> {
    if (messages.length === 0) return { ok: true }
    const suppressed = messages.find((m) => m.status === 'suppressed')
    if (suppressed) return { ok: false, error: `the recipient is on the suppression list (${suppressed.suppressedReason ?? 'suppressed'})` }
    const deadline = Date.now() + opts.timeoutMs
    const release = (id: string, at: Date) => this.#jobs.reschedule(SEND_MESSAGE_JOB, `outbox:${id}`, at)
    // Only messages written for an attempt (`deliverNow`); one still queued is its job's to send, now.
    const mine = messages.filter((m) => m.tenantId === tenant.id && m.status === 'sending')
    let pending: string[] = []
    for (const m of messages.filter((x) => x.status === 'queued')) {
      await release(m.id, new Date())
      pending.push(m.id)
    }
    if (pending.length > 0) this.wake()
    const signal = AbortSignal.timeout(opts.timeoutMs)
    const results = mine.length === 0 ? [] : await this.#attempts.attempt(mine.map((m) => ({ tenantId: m.tenantId, messageId: m.id, signal })), new Map(mine.map((m) => [m.id, m])))
    let failed: string | undefined
    for (const [i, m] of mine.entries()) {
      const err = results[i]
      if (err === undefined) continue
      if (err instanceof DeferJobError) {
        await release(m.id, err.until)
        pending.push(m.id)
      } else {
        if (!(err instanceof PermanentJobError)) await release(m.id, new Date(Date.now() + RETRY_AFTER_FAILED_ATTEMPT_MS))
        failed ??= err instanceof Error ? err.message : String(err)
      }
    }
    if (failed !== undefined) return { ok: false, error: failed }
    // What is left is some worker's to send: re-read when an attempt here concludes, else on a
    // short, growing beat (the attempt may run in another process).
    let pause = 5
    while (pending.length > 0) {
      // Listen before reading, so an attempt that concludes in between is not missed.
      const settled = this.#attempts.whenSettled(pending[0]!, pause)
      const still: string[] = []
      for (const id of pending) {
        const m = await this.#repo.findOutbox(this.#db, tenant.id, id)
        if (!m || m.status === 'sent' || m.status === 'delivered') continue
        if (m.status === 'suppressed') return { ok: false, error: `the recipient is on the suppression list (${m.suppressedReason ?? 'suppressed'})` }
        if (m.status === 'failed' || (m.attempts > 0 && m.lastError !== null)) return { ok: false, error: m.lastError ?? 'delivery failed' }
        still.push(id)
      }
      pending = still
      if (pending.length === 0) break
      if (Date.now() > deadline) return { ok: false, error: 'the provider did not confirm in time' }
      await settled
      pause = Math.min(pause * 2, 100)
    }
    return { ok: true }
  }

  /**
   * Attempt messages of `delivery.send` jobs (the send job's handler): one outcome per item,
   * undefined when sent or nothing is to be done, else the error the job fails with (see
   * DeliveryAttempts.attempt).
   */
  attemptQueued(items: ReadonlyArray<{ tenantId: TenantId; messageId: string; signal: AbortSignal }>): Promise<unknown[]> {
    return this.#attempts.attempt(items)
  }

  /**
   * `delivery.send-batch`'s attempt: the tenant's messages handed to their providers (those already
   * sent, failed or suppressed are passed over). Resolves when none is left to retry; else throws
   * what the job fails with: the first passing failure (the job is retried, and with it only the
   * messages still queued), or, when every failure is a sender's rate limit, a DeferJobError to the
   * earliest slot. A message the vendor refused for good is `failed` and not retried.
   */
  async attemptBatch(tenantId: TenantId, messageIds: readonly string[], signal: AbortSignal): Promise<void> {
    const outcomes = await this.#attempts.attempt(messageIds.map((messageId) => ({ tenantId, messageId, signal })))
    const open = outcomes.filter((o) => o !== undefined && !(o instanceof PermanentJobError))
    if (open.length === 0) return
    const passing = open.find((o) => !(o instanceof DeferJobError))
    if (passing !== undefined) throw passing
    const until = Math.min(...open.map((o) => (o as DeferJobError).until.getTime()))
    throw new DeferJobError(new Date(until), `${open.length} of ${messageIds.length} messages wait for their sender's rate limit`)
  }

  /** `giveUp` for each message of a dead `delivery.send-batch` job (those not sent by then). */
  async giveUpMany(tenantId: TenantId, messageIds: readonly string[], error: string): Promise<void> {
    for (const id of messageIds) await this.#repo.markFailed(tenantId, id, null, error)
  }

  /** The tenant's outbox message sent with this idempotency key, if any. */
  findOutboxByKey(tenant: TenantRef, key: string): Promise<OutboxMessage | undefined> {
    return this.#repo.findOutboxByKey(this.#db, tenant.id, key)
  }

  /** The tenant's outbox, newest first. Throws ValidationError `invalid_channel`. */
  async listOutbox(tenant: TenantRef, opts: ListMessagesOptions = {}): Promise<OutboxMessage[]> {
    return this.#repo.listOutbox(tenant.id, { limit: this.#limit(opts.limit), channel: opts.channel === undefined ? undefined : this.#channel(opts.channel) })
  }

  /** One outbox message; NotFoundError `message_not_found` when the tenant has none with this id. */
  async getOutbox(tenant: TenantRef, id: string): Promise<OutboxMessage> {
    const message = UUID.test(id) ? await this.#repo.findOutbox(this.#db, tenant.id, id) : undefined
    if (!message) throw new NotFoundError('message_not_found', `unknown message ${id}`, { messageId: id })
    return message
  }

  /**
   * Store a message a person sent in, matched to the tenant's person by phone (E.164) or e-mail,
   * and queue the inbound handlers for it. A provider message id already stored returns that
   * message, `created: false`. Throws ValidationError `invalid_channel`, `invalid_sender`,
   * `invalid_recipient`, `invalid_body`, `invalid_data`.
   */
  async receive(tenant: TenantRef, input: ReceiveMessageInput): Promise<{ message: InboundMessage; created: boolean }> {
    const channel = this.#channel(input.channel)
    const from = this.#address(channel, input.from, 'invalid_sender', 'from')
    // The number or address it was sent to is informative (which of the tenant's numbers), so it is
    // kept as written when it does not parse.
    const to = input.to === undefined || input.to === '' ? null : this.#plain(input.to, 'invalid_recipient', 'to')
    const body = this.#body(input.body)
    const data = this.#data(input.data)
    const providerMessageId = input.providerMessageId === undefined || input.providerMessageId === '' ? null : this.#plain(input.providerMessageId, 'invalid_data', 'provider message id')
    const result = await this.#db.transaction().execute(async (trx) => {
      const personId = (await this.#peopleAt(trx, tenant.id, [{ channel, address: from }])).get(`${channel} ${from}`) ?? null
      const message = await this.#repo.insertInbound(trx, tenant.id, { channel, personId, from, to, body, data, provider: input.provider, providerMessageId })
      if (!message) {
        const existing = await this.#repo.findInboundByProviderId(trx, tenant.id, input.provider, providerMessageId!)
        if (!existing) throw new Error('inbound message conflicted but none has its provider id')
        return { message: existing, created: false }
      }
      await this.#jobs.enqueue(trx, INBOUND_MESSAGE_JOB, { tenantId: tenant.id, messageId: message.id }, { key: `inbound:${message.id}`, tenantId: tenant.id })
      return { message, created: true }
    })
    if (result.created) this.#jobs.wake(INBOUND_MESSAGE_JOB)
    return result
  }

  /** The tenant's inbound messages, newest first. Throws ValidationError `invalid_channel`. */
  async listInbound(tenant: TenantRef, opts: ListMessagesOptions = {}): Promise<InboundMessage[]> {
    return this.#repo.listInbound(tenant.id, { limit: this.#limit(opts.limit), channel: opts.channel === undefined ? undefined : this.#channel(opts.channel) })
  }

  /**
   * The hook for "an inbound message was received": `handler` runs in a worker for every message
   * stored from now on (and for any still waiting), retried with the job until it succeeds, so it
   * must be idempotent. The order is explicit: every `compliance` handler (the suppression list's
   * STOP/START/HELP keywords) runs before any `conversation` handler (the default: the bot, agents),
   * and a handler that answers `consumed` hides the message from every handler after it.
   * Returns a function that removes it.
   */
  onInbound(handler: InboundHandler, options: { phase?: InboundPhase } = {}): () => void {
    const set = this.#inboundHandlers[options.phase ?? 'conversation']
    set.add(handler)
    return () => set.delete(handler)
  }

  /**
   * Install the check of the tenant's consent requirement (the consents service's, wired in
   * src/services.ts): a promotional SMS (`promotional: true`) to a phone it names is written
   * `suppressed` with reason `consent_required` and never queued.
   */
  setConsentGate(gate: ConsentGate): void {
    this.#consentGate = gate
  }

  // --- the worker side (called by the delivery jobs in src/jobs) ---

  /** The tenant's provider settings for a channel; undefined means the sandbox. */
  channelSettings(tenantId: TenantId, channel: Channel): Promise<ChannelProviderSettings | undefined> {
    return this.#channelSettings(tenantId, channel)
  }

  /**
   * Take an outbox message for a delivery attempt: `queued` (or `sending`, after a crashed
   * attempt) becomes `sending` and counts the attempt. Undefined when the message is finished,
   * gone, or now `suppressed` (its recipient is on the suppression list), so the attempt must not
   * send: this is the check the job makes before acting.
   */
  async beginAttempt(tenantId: TenantId, messageId: string): Promise<OutboxMessage | undefined> {
    return (await this.beginAttempts([{ tenantId, messageId }])).get(messageId)
  }

  /** `beginAttempt` for many messages in one statement: the messages to send now, by id. */
  async beginAttempts(messages: ReadonlyArray<{ tenantId: TenantId; messageId: string }>): Promise<Map<string, OutboxMessage>> {
    // The suppression list (STOP, DNC, withdrawn consent) is checked in the same statement that
    // claims the attempt: a suppressed recipient's message ends `suppressed` and nothing leaves.
    const taken = await this.#repo.startAttempts(messages.map((m) => ({ tenantId: m.tenantId, id: m.messageId })))
    return new Map([...taken].filter(([, m]) => m.status === 'sending'))
  }

  /**
   * Check the suppression list once more for a message in its attempt, when time passed since
   * `beginAttempt` (a rate-limit wait): true when the recipient was suppressed meanwhile — the
   * message is now `suppressed` and the attempt must not send.
   */
  suppressedMeanwhile(tenantId: TenantId, messageId: string): Promise<boolean> {
    return this.#repo.suppressIfListed(tenantId, messageId)
  }

  /** The delivery job gave up (retries exhausted): the message is `failed` with the last error. */
  async giveUp(tenantId: TenantId, messageId: string, error: string): Promise<void> {
    await this.#repo.markFailed(tenantId, messageId, null, error)
  }

  /** Run every inbound handler on a stored inbound message, then mark it processed. */
  async processInbound(tenantId: TenantId, messageId: string): Promise<void> {
    const message = await this.#repo.findInbound(this.#db, tenantId, messageId)
    if (!message || message.status === 'processed') return
    const handlers = [...this.#inboundHandlers.consent, ...this.#inboundHandlers.compliance, ...this.#inboundHandlers.conversation]
    for (const handler of handlers) {
      if ((await handler(message)) === 'consumed') break
    }
    await this.#repo.markInboundProcessed(tenantId, messageId)
  }

  // --- validation ---

  #channel(raw: string): Channel {
    if (!isChannel(raw)) throw new ValidationError('invalid_channel', `unknown channel ${String(raw)}`, { channel: raw })
    return raw
  }

  /** A phone in E.164 for phone channels, an e-mail address for e-mail, else an opaque id. */
  #address(channel: Channel, raw: string, code: 'invalid_recipient' | 'invalid_sender', field: string): string {
    if (typeof raw !== 'string') throw new ValidationError(code, `${field} is required`, { [field]: raw })
    if (PHONE_CHANNELS.has(channel)) {
      const phone = toE164(raw)
      if (!phone) throw new ValidationError(code, `invalid phone number ${raw}`, { [field]: raw })
      return phone
    }
    const text = this.#plain(raw, code, field)
    if (channel === 'email' && (!EMAIL.test(text) || text.length > 320)) {
      throw new ValidationError(code, `invalid e-mail address ${raw}`, { [field]: raw })
    }
    return text
  }

  #plain(raw: string, code: 'invalid_recipient' | 'invalid_sender' | 'invalid_data', field: string): string {
    const text = typeof raw === 'string' ? raw.trim() : ''
    if (text.length === 0 || text.length > MAX_ADDRESS || hasNul(text)) {
      throw new ValidationError(code, `${field} must be 1-${MAX_ADDRESS} characters`, { [field]: raw })
    }
    return text
  }

  #body(raw: string): string {
    if (typeof raw !== 'string' || raw.trim().length === 0 || raw.length > MAX_BODY || hasNul(raw)) {
      throw new ValidationError('invalid_body', `body must be 1-${MAX_BODY} characters`)
    }
    return raw
  }

  #subject(raw: string | undefined): string | null {
    if (raw === undefined || raw === '') return null
    if (typeof raw !== 'string' || raw.length > MAX_SUBJECT || hasNul(raw)) {
      throw new ValidationError('invalid_subject', `subject must be at most ${MAX_SUBJECT} characters`)
    }
    return raw
  }

  #data(raw: Record<string, unknown> | undefined): Record<string, unknown> {
    if (raw === undefined) return {}
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('invalid_data', 'data must be an object')
    const json = JSON.stringify(raw)
    if (Buffer.byteLength(json) > MAX_DATA_BYTES || json.includes('\\u0000')) {
      throw new ValidationError('invalid_data', `data must be at most ${MAX_DATA_BYTES} bytes of JSON without NUL characters`)
    }
    return JSON.parse(json) as Record<string, unknown>
  }

  #limit(raw: number | undefined): number {
    if (raw === undefined) return 50
    if (!Number.isInteger(raw) || raw < 1 || raw > 200) throw new ValidationError('invalid_limit', 'limit must be an integer 1-200')
    return raw
  }
}
