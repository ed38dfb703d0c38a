import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { GroupCommit } from '../../lib/group-commit.ts'
import { AppError, NotFoundError, ValidationError } from '../errors.ts'
import type { DeliveryService, InboundMessage, OutboxMessage } from '../delivery/index.ts'
import type { PeopleLookups, PeopleService, Person } from '../people/index.ts'
import { computeDueAt, parseDuration, type SchedulingService } from '../scheduling/index.ts'
import type { Tenant } from '../tenants/index.ts'
import { BotRepository, type ConversationRow, type SavedState } from './bot.repository.ts'
import type { BotAddress, ConversationSummary, PingInput, TranscriptEntry } from './bot.types.ts'
import { choiceLabel } from './match.ts'
import { personValues, THREAD_PERSON_FIELDS } from './person-fields.ts'
import { PERSON_PLACEHOLDERS, placeholdersIn } from './render.ts'
import { answerConversation, currentAsk, startConversation, type ConversationState, type RunResult, type StartOptions } from './runtime.ts'
import type { ThreadSet, ThreadsService } from './threads.service.ts'
import type { Thread } from './threads.schema.ts'

type TenantRef = Pick<Tenant, 'id'>

/** Delivery failed while a synchronous ping waited for it (the Cass surface answers 502). */
export class DeliveryFailedError extends AppError<'delivery_failed'> {}

export interface BotServiceDeps {
  readonly db: Kysely<DB>
  readonly threads: ThreadsService
  readonly delivery: DeliveryService
  readonly scheduling: SchedulingService
  readonly people: PeopleService
  /** The directory read (and stored answers written) in the bot's own transactions. */
  readonly peopleLookups: PeopleLookups
}

/** How long a synchronous ping waits for its messages to reach the provider. */
const SYNC_WAIT_MS = 10_000
const DEFAULT_TIME_ZONE = 'UTC'

/** How the bot reaches a person: sms and WhatsApp by phone, Messenger by page-scoped id, web chat by Cass person id. */
export function addressFor(person: Pick<Person, 'protocol' | 'phone' | 'externalId' | 'cassId'>): BotAddress | undefined {
  switch (person.protocol) {
    case 'sms': return person.phone ? { channel: 'sms', to: person.phone } : undefined
    case 'WHATSAPP': return person.phone ? { channel: 'whatsapp', to: person.phone } : undefined
    // A Messenger person's page-scoped id is their external_id (what the page webhook sends); else
    // their phone (Messenger's customer matching).
    case 'facebook': return person.externalId ? { channel: 'messenger', to: person.externalId } : person.phone ? { channel: 'messenger', to: person.phone } : undefined
    // The sandbox protocol talks like the web chat: no phone needed, visible in the sandbox outbox.
    case 'sandbox':
    case 'web': return { channel: 'webchat', to: person.cassId }
    default: return undefined
  }
}

function stateOf(row: ConversationRow): ConversationState {
  return {
    threadName: row.thread_name, step: row.step, awaiting: row.awaiting, reprompts: row.reprompts, variables: row.variables ?? {},
    placeholders: row.placeholders ?? {}, thenThread: row.then_thread, autoping: row.autoping, status: 'active',
  }
}

/** Variables a thread's steps may set (`store: {var}`, choice `set`): placeholders those may fill. */
function variablesSetBy(thread: Thread): Set<string> {
  const out = new Set<string>()
  for (const step of thread.steps) {
    if ('ask' in step) {
      if (step.store && 'var' in step.store) out.add(step.store.var.toUpperCase())
      for (const c of step.choices ?? []) for (const k of Object.keys(c.set ?? {})) out.add(k.toUpperCase())
    }
  }
  return out
}

function textsOf(thread: Thread): string[] {
  const out: string[] = []
  for (const step of thread.steps) {
    if ('say' in step) out.push(step.say)
    else if ('ask' in step) {
      out.push(step.ask)
      for (const t of [step.otherwise, step.confirm, step.if_set, step.fallback?.say]) if (t) out.push(t)
      for (const c of step.choices ?? []) if (c.say) out.push(c.say)
    } else if ('end' in step && typeof step.end === 'string') out.push(step.end)
  }
  return out
}

/** One conversation to start (`startThreads`). */
export interface ThreadStart {
  readonly personId: string
  readonly threadName: string
  readonly startedBy: string
  /** A key used before starts nothing; null for none (a ping). */
  readonly startKey: string | null
  readonly options?: StartOptions
  /** The person as the caller just read them; else read here. */
  readonly person?: Person
}

/** A ping to be written together with the others (see `ping`). */
interface PendingPing {
  readonly tenant: Tenant
  readonly set: ThreadSet
  readonly start: ThreadStart
  readonly sync: boolean
}

/** Postgres: a unique index refused the row (here: a second active conversation of a person). */
function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505'
}

/** Transactions of waiting pings in flight at once. */
const MAX_PING_WRITES = 4
/** Pings one such transaction carries at most. */
const MAX_PING_GROUP = 100

/** A message a run sends, numbered within its conversation. */
type PendingSend = Extract<RunResult['effects'][number], { type: 'send' }> & { seq: number }

/** What a conversation saves after a run that leaves its message count at `seq`. */
function stateAfter(run: RunResult, seq: number): SavedState {
  const s = run.state
  const ended = s.status === 'ended'
  return {
    threadName: s.threadName, step: s.step, awaiting: ended ? 'none' : s.awaiting, reprompts: s.reprompts, variables: { ...s.variables },
    placeholders: { ...s.placeholders }, thenThread: s.thenThread, autoping: s.autoping, seq, ended,
  }
}

/**
 * The bot runtime: starts conversations (pings, check-ins, the tenant's default thread), advances
 * them with what people write (any channel's inbound messages, the web chat), and keeps the
 * transcript. Each event is one transaction that saves the conversation, queues its messages in
 * the delivery outbox (idempotency key `bot:<conversation>:<n>`), records check-ins and autopings
 * and writes the transcript, so nothing is half-done and a retried event sends nothing twice.
 */
export class BotService {
  readonly #db: Kysely<DB>
  readonly #deps: BotServiceDeps
  readonly #repo: BotRepository
  /**
   * Concurrent pings are written together (group commit), each statement once for the group: pings
   * of one tenant, content version and kind (synchronous or not), one per person. A person's next
   * ping waits until the write of their previous one is over: it replaces that conversation, so it
   * must see it. A unique violation is a conversation another process started for the same person
   * meanwhile: the retry replaces it.
   */
  readonly #pings = new GroupCommit<PendingPing, { conversationId: string; messages: OutboxMessage[] }>({
    groupKey: (p) => `${p.tenant.id} ${p.set.version} ${p.sync}`,
    memberKey: (p) => p.start.personId,
    serializeMembers: true,
    maxInFlight: MAX_PING_WRITES,
    maxGroup: MAX_PING_GROUP,
    retryAlone: isUniqueViolation,
    write: async (pings) => {
      const head = pings[0]!
      const started = await this.#db.transaction().execute((trx) =>
        this.startThreads(trx, head.tenant, pings.map((p) => p.start), { threads: head.set, holdForAttempt: head.sync }))
      return started.map((s) => s!)
    },
  })

  constructor(deps: BotServiceDeps) {
    this.#deps = deps
    this.#db = deps.db
    this.#repo = new BotRepository(deps.db)
  }

  /** The delivery inbound handler: register with `delivery.onInbound(bot.inboundHandler)`. */
  readonly inboundHandler = (message: InboundMessage): Promise<void> => this.handleInbound(message)

  /**
   * Send a person into a thread (`/ping_person`). Their running conversation, if any, is replaced.
   * Throws NotFoundError `person_not_found` / `person_not_in_tenant`; ValidationError
   * `thread_not_found` (details.threadName), `missing_placeholder` (details.placeholder `<<X>>`),
   * `person_unreachable`; DeliveryFailedError `delivery_failed` when `wait` and the provider
   * refused a message. Nothing is written when it throws before delivery.
   */
  async ping(tenant: Tenant, input: PingInput): Promise<{ personId: string; conversationId: string; messages: OutboxMessage[] }> {
    const person = await this.#deps.people.getByRef(tenant, input.personRef)
    const { set, next, placeholders, messages } = await this.checkPing(tenant, input)
    const address = addressFor(person)
    if (!address) throw new ValidationError('person_unreachable', `person ${person.cassId} has no address for protocol ${person.protocol}`, { protocol: person.protocol })

    const start: ThreadStart = {
      personId: person.id, threadName: input.threadName, startedBy: 'ping', startKey: null,
      // The directory's copy is exact (its cache follows every change), so no re-read here.
      person,
      options: { messages, autoNext: input.autoNext === true, thenThread: next ?? null, placeholders },
    }
    const result = await this.#pings.submit({ tenant, set, start, sync: input.wait === true })
    if (input.wait) {
      // A synchronous ping answers with the outcome: its messages go to the provider from here.
      const outcome = await this.#deps.delivery.deliverNow(tenant, result.messages, { timeoutMs: SYNC_WAIT_MS })
      if (!outcome.ok) throw new DeliveryFailedError('delivery_failed', outcome.error, { error: outcome.error })
    } else if (result.messages.length > 0) this.wakeDelivery()
    return { personId: person.id, conversationId: result.conversationId, messages: result.messages }
  }

  /**
   * Check a ping without sending anything: the threads exist and every placeholder the messages or
   * the thread's texts use is a person field, supplied, or a variable the thread sets. Throws
   * ValidationError `thread_not_found` (details.threadName) or `missing_placeholder`
   * (details.placeholder `<<X>>`). Person creation with `ping=1` calls it before creating.
   */
  async checkPing(tenant: TenantRef, input: Pick<PingInput, 'threadName' | 'nextThreadName' | 'messages' | 'placeholders'>) {
    const set = await this.#deps.threads.current(tenant)
    const thread = set.thread(input.threadName)
    if (!thread) throw new ValidationError('thread_not_found', `no thread ${input.threadName}`, { threadName: input.threadName })
    const next = input.nextThreadName !== undefined && input.nextThreadName !== '' ? input.nextThreadName : undefined
    if (next !== undefined && !set.thread(next)) throw new ValidationError('thread_not_found', `no thread ${next}`, { threadName: next })
    const placeholders: Record<string, string> = {}
    for (const [k, v] of Object.entries(input.placeholders ?? {})) placeholders[k.toUpperCase()] = v
    const messages = (input.messages ?? []).filter((m) => m.trim() !== '')
    const known = new Set([...Object.keys(PERSON_PLACEHOLDERS), ...Object.keys(placeholders), ...variablesSetBy(thread)])
    for (const text of [...messages, ...textsOf(thread)]) {
      const missing = placeholdersIn(text).find((p) => !known.has(p))
      if (missing) throw new ValidationError('missing_placeholder', `missing placeholder <<${missing}>>`, { placeholder: `<<${missing}>>` })
    }
    return { set, thread, next, placeholders, messages }
  }

  /**
   * Start a thread for a person in the caller's transaction — what a fired check-in or autoping
   * does. With `startKey`, starting twice with the same key starts once (undefined the second
   * time). The person's running conversation is replaced. Messages are queued in `trx`; call
   * `wakeDelivery()` after commit for prompt sending in this process.
   * Throws ValidationError `thread_not_found`, `person_unreachable`; NotFoundError `person_not_found`.
   */
  async startThread(trx: Transaction<DB>, tenant: TenantRef, personId: string, threadName: string, opts: {
    startedBy: string; startKey?: string; placeholders?: Record<string, string>
    /**
     * The tenant's current content, read by the caller before its transaction (the scheduler): on
     * the embedded store nothing inside a transaction may read through another connection.
     */
    threads?: ThreadSet
  }): Promise<{ conversationId: string; messages: OutboxMessage[] } | undefined> {
    const set = opts.threads ?? await this.#deps.threads.current(tenant, trx)
    const [started] = await this.startThreads(trx, tenant, [{
      personId, threadName, startedBy: opts.startedBy, startKey: opts.startKey ?? null, options: { placeholders: opts.placeholders ?? {} },
    }], { threads: set })
    return started
  }

  /**
   * `startThread` for many people of one tenant at once (a batch of due check-ins): each statement
   * is made once for all of them. One start per person, each with a start key; a key used before
   * starts nothing (undefined in its place). Throws as `startThread` when any of them would, and
   * then nothing may be kept: the caller rolls back (and may start them one by one instead).
   */
  async startThreads(trx: Transaction<DB>, tenant: TenantRef, starts: ReadonlyArray<ThreadStart>, opts: {
    threads: ThreadSet
    /** The caller hands the messages to `DeliveryService.deliverNow` after its commit. */
    holdForAttempt?: boolean
  }): Promise<Array<{ conversationId: string; messages: OutboxMessage[] } | undefined>> {
    const set = opts.threads
    const ids = starts.map((s) => s.personId)
    if (new Set(ids).size !== ids.length) throw new Error('startThreads takes one start per person')
    for (const s of starts) {
      if (!set.thread(s.threadName)) throw new ValidationError('thread_not_found', `no thread ${s.threadName}`, { threadName: s.threadName })
    }
    const known = new Map(starts.flatMap((s) => (s.person ? [[s.personId, s.person] as const] : [])))
    const unknown = ids.filter((id) => !known.has(id))
    const people = new Map([...known, ...(await this.#deps.peopleLookups.findMany(trx, tenant.id, unknown))])
    for (const id of ids) {
      const person = people.get(id)
      if (!person) throw new NotFoundError('person_not_found', `unknown person ${id}`, { personId: id })
      if (!addressFor(person)) throw new ValidationError('person_unreachable', `person has no address for protocol ${person.protocol}`, { protocol: person.protocol })
    }
    const previous = await this.#repo.lockActiveMany(trx, tenant.id, ids)
    // A repeated start key (a check-in fired twice) starts nothing: checked before replacing.
    const taken = await this.#repo.takenStartKeys(trx, tenant.id, starts.flatMap((s) => (s.startKey ? [s.startKey] : [])))
    const live = starts.filter((s) => s.startKey === null || !taken.has(s.startKey))
    const replaced = live.flatMap((s) => { const p = previous.get(s.personId); return p ? [p.id] : [] })
    await this.#repo.markReplacedMany(trx, tenant.id, replaced)
    await this.#deps.scheduling.cancelAutopings(trx, tenant.id, replaced)
    const runs = live.map((s) => startConversation(s.threadName, { thread: set.thread, person: personValues(people.get(s.personId)!) }, s.options ?? { placeholders: {} }))
    const rows = await this.#repo.insertMany(trx, tenant.id, live.map((s, i) => ({
      personId: s.personId, threadName: s.threadName, threadVersion: set.version, startedBy: s.startedBy, startKey: s.startKey,
      state: stateAfter(runs[i]!, runs[i]!.effects.filter((e) => e.type === 'send').length),
    })))
    const batch: Array<{ start: (typeof starts)[number]; person: Person; conversationId: string; sends: PendingSend[] }> = []
    for (const [i, s] of live.entries()) {
      const row = rows.get(s.personId)
      if (!row) continue
      const person = people.get(s.personId)!
      // Its effects count their messages from the start (the row already holds the final count).
      const { sends } = await this.#effects(trx, tenant, person, { ...row, seq: 0 }, runs[i]!, true)
      batch.push({ start: s, person, conversationId: row.id, sends })
    }
    const queued = await this.#queue(trx, tenant, batch, opts.holdForAttempt === true)
    return starts.map((s) => {
      const i = batch.findIndex((b) => b.start === s)
      return i < 0 ? undefined : { conversationId: batch[i]!.conversationId, messages: queued[i]! }
    })
  }

  /** Wake this process's delivery workers (after a transaction that queued bot messages commits). */
  wakeDelivery(): void {
    this.#deps.delivery.wake()
  }

  /**
   * What a person wrote in the web chat: stored as an inbound `webchat` message (from the person's
   * Cass id) and handed to the bot by the inbound worker, like any channel's message.
   */
  async receive(tenant: Tenant, personRef: string, text: string): Promise<InboundMessage> {
    const person = await this.#deps.people.getByRef(tenant, personRef)
    const { message } = await this.#deps.delivery.receive(tenant, { channel: 'webchat', from: person.cassId, body: text, provider: 'webchat' })
    return message
  }

  /**
   * Advance the sender's conversation with an inbound message. Idempotent (a message is handled
   * once: its transcript row is the marker). A sender who is not one of the tenant's people gets
   * no answer; a person with no running conversation gets the tenant's `default_thread`, if the
   * content names one, else no answer.
   */
  async handleInbound(message: InboundMessage): Promise<void> {
    const tenant = { id: message.tenantId }
    const person = message.personId
      ? await this.#deps.peopleLookups.findById(this.#db, tenant.id, message.personId)
      : await this.#senderByChannelAddress(tenant, message.channel, message.from)
    if (!person) return
    const current = await this.#deps.threads.current(tenant)
    const queued = await this.#db.transaction().execute(async (trx) => {
      const active = await this.#repo.lockActive(trx, tenant.id, person.id)
      const first = await this.#repo.insertTranscript(trx, tenant.id, {
        personId: person.id, direction: 'in', channel: message.channel, text: message.body, conversationId: active?.id ?? null,
        threadName: active?.thread_name ?? null, step: active ? active.step : null, inboundMessageId: message.id,
      })
      if (!first) return []
      if (!active || active.awaiting === 'none') {
        const fallback = current.document.default_thread
        if (!fallback || !current.thread(fallback)) return []
        const [started] = await this.startThreads(trx, tenant, [{ personId: person.id, threadName: fallback, startedBy: 'inbound', startKey: `inbound:${message.id}` }], { threads: current })
        return started?.messages ?? []
      }
      const set = active.thread_version === current.version ? current : await this.#deps.threads.version(tenant, active.thread_version, trx)
      const state = stateOf(active)
      const fresh = await this.#deps.peopleLookups.findById(trx, tenant.id, person.id) ?? person
      let storeRejected: 'taken' | undefined
      const ask = currentAsk(state, set)
      if (ask?.store && 'field' in ask.store && ask.store.field === 'external_id' && fresh.externalId === null) {
        const value = message.body.trim().slice(0, 1000)
        if (value !== '' && await this.#deps.peopleLookups.externalIdTaken(trx, tenant.id, person.id, value)) storeRejected = 'taken'
      }
      const run = answerConversation(state, message.body, { thread: set.thread, person: personValues(fresh) }, storeRejected ? { storeRejected } : {})
      return this.#apply(trx, tenant, fresh, active, run)
    })
    if (queued.length > 0) this.wakeDelivery()
  }

  /**
   * The tenant's person behind an inbound address the delivery directory does not know: a web chat
   * message comes from the person's Cass id, a Messenger message from their page-scoped id (their
   * external_id).
   */
  async #senderByChannelAddress(tenant: TenantRef, channel: string, address: string): Promise<Person | undefined> {
    if (channel === 'webchat') return this.#deps.peopleLookups.findByCassId(this.#db, tenant.id, address)
    if (channel === 'messenger') return this.#deps.peopleLookups.findByExternalId(this.#db, tenant.id, address)
    return undefined
  }

  /** The person's transcript, oldest first (the newest `limit`, default 200, at most 1000). */
  async transcript(tenant: TenantRef, personId: string, opts: { limit?: number; since?: Date } = {}): Promise<TranscriptEntry[]> {
    const limit = opts.limit ?? 200
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('invalid_limit', 'limit must be an integer 1-1000')
    return this.#repo.listTranscript(tenant.id, personId, { limit, since: opts.since })
  }

  /** The person's running conversation (else their latest), with the quick replies it offers; undefined when they never had one. */
  async conversation(tenant: TenantRef, personId: string): Promise<ConversationSummary | undefined> {
    const row = (await this.#repo.findActive(tenant.id, personId)) ?? (await this.#repo.findLatest(tenant.id, personId))
    if (!row) return undefined
    const set = await this.#deps.threads.version(tenant, row.thread_version)
    const ask = row.status === 'active' ? currentAsk(stateOf(row), set) : undefined
    return {
      id: row.id, personId: row.person_id, threadName: row.thread_name, threadVersion: row.thread_version, step: row.step, status: row.status,
      awaiting: row.status === 'active' ? row.awaiting : 'none', quickReplies: ask?.choices?.map(choiceLabel) ?? [], updatedAt: row.updated_at,
    }
  }

  /** Carry out a run's effects and save its state, in `trx`. Returns the queued messages. */
  async #apply(trx: Transaction<DB>, tenant: TenantRef, person: Person, row: ConversationRow, run: RunResult): Promise<OutboxMessage[]> {
    const { sends, seq } = await this.#effects(trx, tenant, person, row, run, false)
    const [queued] = await this.#queue(trx, tenant, [{ person, conversationId: row.id, sends }], false)
    await this.#repo.save(trx, tenant.id, row.id, stateAfter(run, seq))
    return queued!
  }

  /**
   * A run's effects but its messages: stored fields, check-ins, the autoping. Answers the messages
   * to queue (numbered from the row's count) and the count after them.
   */
  async #effects(trx: Transaction<DB>, tenant: TenantRef, person: Person, row: ConversationRow, run: RunResult, fresh: boolean): Promise<{ sends: PendingSend[]; seq: number }> {
    const address = addressFor(person)
    // The run's messages are queued after its other effects (none of which changes the address),
    // together: one statement each for the outbox, the jobs and the transcript, however many.
    const sends: PendingSend[] = []
    let seq = row.seq
    for (const effect of run.effects) {
      if (effect.type === 'send') {
        if (!address) continue
        seq++
        sends.push({ ...effect, seq })
      } else if (effect.type === 'store_field') {
        await this.#deps.peopleLookups.storeAnswer(trx, tenant.id, person.id, THREAD_PERSON_FIELDS[effect.field], effect.value)
      } else if (effect.type === 'checkin') {
        const dueAt = computeDueAt({ now: new Date(), after: effect.after, at: effect.at, timeZone: person.timezone ?? DEFAULT_TIME_ZONE })
        await this.#deps.scheduling.schedule(trx, {
          tenantId: tenant.id, personId: person.id, type: 'checkin', threadName: effect.threadName, dueAt, conversationId: row.id,
          // One check-in per conversation, step and message count: a retried event records it once.
          idempotencyKey: `checkin:${row.id}:${effect.fromThread}:${effect.step}:${seq}`,
        })
      }
    }
    const s = run.state
    const ended = s.status === 'ended'
    // The person goes quiet from here: (re)schedule the conversation's autoping while it waits.
    const afterMs = s.autoping ? parseDuration(s.autoping.after) : undefined
    const waiting = !ended && s.awaiting !== 'none'
    const next = waiting && s.autoping && afterMs
      ? { personId: person.id, threadName: s.autoping.thread, dueAt: new Date(Date.now() + afterMs), idempotencyKey: `autoping:${row.id}:${seq}:${s.step}:${s.reprompts}` }
      : undefined
    // A fresh conversation has no autoping to cancel: only a new one to record.
    if (next || !fresh) await this.#deps.scheduling.replaceAutoping(trx, tenant.id, row.id, next, { fresh })
    return { sends, seq }
  }

  /**
   * Queue the messages of several conversations of one tenant: one `sendMany` and one transcript
   * insert for all of them. Answers each conversation's messages, in order.
   */
  async #queue(trx: Transaction<DB>, tenant: TenantRef, batch: ReadonlyArray<{ person: Person; conversationId: string; sends: readonly PendingSend[] }>, deliverNow: boolean): Promise<OutboxMessage[][]> {
    const flat = batch.flatMap((b) => {
      const address = addressFor(b.person)
      return address ? b.sends.map((effect) => ({ b, address, effect })) : []
    })
    const messages = flat.length === 0 ? [] : (await this.#deps.delivery.sendMany(tenant, flat.map(({ b, address, effect }) => ({
      channel: address.channel, to: address.to, body: effect.text, personId: b.person.id, idempotencyKey: `bot:${b.conversationId}:${effect.seq}`,
      ...(effect.quickReplies ? { data: { quick_replies: [...effect.quickReplies] } } : {}),
    })), { trx, deliverNow, peopleChecked: true })).map((r) => r.message)
    await this.#repo.insertTranscripts(trx, tenant.id, flat.map(({ b, address, effect }, i) => ({
      personId: b.person.id, channel: address.channel, text: effect.text, conversationId: b.conversationId,
      threadName: effect.threadName, step: effect.step, outboxMessageId: messages[i]!.id,
    })))
    return batch.map((b) => flat.flatMap((f, i) => (f.b === b ? [messages[i]!] : [])))
  }
}
