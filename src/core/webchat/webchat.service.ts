import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { Notifier } from '../../db/notifier.ts'
import { AppError, AuthError, NotFoundError, ValidationError } from '../errors.ts'
import type { BotService, ThreadsService } from '../bot/index.ts'
import type { PeopleLookups, PeopleService, Person } from '../people/index.ts'
import type { Tenant, TenantsService } from '../tenants/index.ts'
import { LiveChannel, type LiveSubscriber } from '../live.ts'
import { WebchatRepository, type WebchatRow } from './webchat.repository.ts'
import type { WebchatHistory, WebchatMessage, WebchatPerson, WebchatSession, WebchatSubscription } from './webchat.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'


/** The channel migrations/0009 announces web chat changes on: payload `<tenant id>:<person id>`. */
const WEBCHAT_CHANNEL = 'switchboard_webchat'

const UUID_REF = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface WebchatServiceDeps {
  readonly db: Kysely<DB>
  readonly notifier: Notifier
  readonly tenants: TenantsService
  readonly people: PeopleService
  readonly peopleLookups: PeopleLookups
  readonly threads: ThreadsService
  readonly bot: BotService
  /** The server's secret key: session tokens are HMACs under it. */
  readonly secretKey: Buffer
}

/** Longest message a person can write in the web chat. */
export const MAX_WEBCHAT_TEXT = 2000
/** Most messages the history returns. */
export const MAX_HISTORY = 500
const BATCH = 100
const EMBED_CACHE_MS = 5_000
const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/

/** The person as a chat session names them. */
function chatPerson(p: Person): WebchatPerson {
  return { id: p.id, cassId: p.cassId, protocol: p.protocol }
}

/** Whether a transcript row is shown, skipped (never sent: suppressed, failed) or waited for (not sent yet). */
function classify(row: WebchatRow): 'show' | 'skip' | 'wait' {
  if (row.direction === 'in' || row.outbox_message_id === null) return 'show'
  if (row.status === 'sent' || row.status === 'delivered') return 'show'
  if (row.status === 'queued' || row.status === 'sending') return 'wait'
  return 'skip'
}

function toMessage(row: WebchatRow): WebchatMessage {
  const replies = row.payload?.quick_replies
  return {
    id: (row.direction === 'in' ? row.inbound_message_id : row.outbox_message_id) ?? row.id,
    cursor: row.seq,
    direction: row.direction,
    text: row.text,
    quickReplies: Array.isArray(replies) ? replies.filter((r): r is string => typeof r === 'string') : [],
    createdAt: row.created_at,
    pending: false,
  }
}

/**
 * Rows in order up to the first one not sent yet: the messages to show and the cursor after them.
 * The chat shows the bot's answers in the order it wrote them, each once it was handed to the
 * delivery provider; an answer that will never be sent (suppressed, failed) is passed over.
 */
function takeVisible(rows: readonly WebchatRow[], cursor: string): { messages: WebchatMessage[]; cursor: string; blocked: boolean } {
  const messages: WebchatMessage[] = []
  for (const row of rows) {
    const kind = classify(row)
    if (kind === 'wait') return { messages, cursor, blocked: true }
    if (kind === 'show') messages.push(toMessage(row))
    cursor = row.seq
  }
  return { messages, cursor, blocked: false }
}

/**
 * The web chat: embed codes, anonymous and identified sessions with signed tokens, the chat's
 * history and its live stream. What a person writes goes to the bot as an inbound `webchat`
 * message; what the bot answers a `web` person goes through the delivery outbox on channel
 * `webchat` and reaches the page once sent, announced across processes by the database
 * (migrations/0009) so any API process can serve any page.
 */
export class WebchatService {
  readonly #deps: WebchatServiceDeps
  readonly #repo: WebchatRepository
  readonly #live: LiveChannel
  readonly #embeds = new Map<string, { tenantId: TenantId; embedCode: string; at: number }>()

  constructor(deps: WebchatServiceDeps) {
    this.#deps = deps
    this.#repo = new WebchatRepository(deps.db)
    this.#live = new LiveChannel(deps.notifier, WEBCHAT_CHANNEL)
  }

  /** Live subscriptions open in this process. */
  get liveSubscriptions(): number {
    return this.#live.size
  }

  /**
   * The tenant whose Cass client is `company` and whose public embed code is `authCode`.
   * Throws NotFoundError `embed_not_found` (either does not match: the same answer, so a wrong
   * code tells nothing about the company).
   */
  async resolveEmbed(company: string, authCode: string): Promise<Tenant> {
    const notFound = () => new NotFoundError('embed_not_found', 'no web chat for this company and code')
    let hit = this.#embeds.get(company)
    if (!hit || Date.now() - hit.at > EMBED_CACHE_MS) {
      const found = await this.#repo.findEmbedTenant(company)
      if (!found) throw notFound()
      if (this.#embeds.size > 10_000) this.#embeds.clear()
      hit = { tenantId: found.id, embedCode: found.embedCode, at: Date.now() }
      this.#embeds.set(company, hit)
    }
    const a = Buffer.from(authCode)
    const b = Buffer.from(hit.embedCode)
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw notFound()
    const tenant = await this.#deps.tenants.findById(hit.tenantId)
    if (!tenant) throw notFound()
    return tenant
  }

  /**
   * Check an embed's person and initial thread before serving its page. Throws NotFoundError
   * `person_not_found` / `person_not_in_tenant`, ValidationError `thread_not_found`.
   */
  async checkEmbed(tenant: Tenant, opts: { personRef?: string | undefined; threadName?: string | undefined }): Promise<void> {
    // Only the UUID identifies a person on this public page: legacy integer ids are sequential,
    // so anyone holding the (public) embed code could walk them and open other people's chats.
    if (opts.personRef !== undefined && !UUID_REF.test(opts.personRef.trim())) {
      throw new NotFoundError('person_not_found', `unknown person ${opts.personRef}`, { personId: opts.personRef })
    }
    if (opts.personRef !== undefined) await this.#deps.people.getByRef(tenant, opts.personRef)
    if (opts.threadName !== undefined) {
      const set = await this.#deps.threads.current(tenant)
      if (!set.thread(opts.threadName)) throw new ValidationError('thread_not_found', `no thread ${opts.threadName}`, { threadName: opts.threadName })
    }
  }

  /**
   * Start (or resume) a chat. With `personRef` the session is that person's (identified); else the
   * person a valid `token` names (a returning anonymous visitor); else a new anonymous `web` person.
   * A person who never talked with the bot is sent into `threadName`, else the tenant's default
   * thread, once. Throws the `checkEmbed` errors.
   */
  async startSession(tenant: Tenant, opts: { token?: string | undefined; personRef?: string | undefined; threadName?: string | undefined }): Promise<WebchatSession> {
    await this.checkEmbed(tenant, opts)
    let person: WebchatPerson | undefined
    let created = false
    if (opts.personRef !== undefined) {
      const p = await this.#deps.people.getByRef(tenant, opts.personRef)
      person = chatPerson(p)
    } else {
      const id = opts.token !== undefined ? this.#verify(tenant, opts.token) : undefined
      const found = id !== undefined ? await this.#deps.peopleLookups.findById(this.#deps.db, tenant.id, id) : undefined
      person = found ? chatPerson(found) : undefined
      if (!person) {
        const p = await this.#deps.people.createAnonymous(tenant)
        person = chatPerson(p)
        created = true
      }
    }
    const startedThread = await this.#startFirstThread(tenant, person, opts.threadName)
    return { person, token: this.#sign(tenant, person.id), anonymous: opts.personRef === undefined, created, startedThread }
  }

  /** The person a session token names. Throws AuthError `invalid_session`. */
  async authenticate(tenant: Tenant, token: string): Promise<WebchatPerson> {
    const id = this.#verify(tenant, token)
    const person = id !== undefined ? await this.#deps.peopleLookups.findById(this.#deps.db, tenant.id, id) : undefined
    if (!person) throw new AuthError('invalid_session', 'the chat session is not valid; reload the page')
    return chatPerson(person)
  }

  /** The newest `limit` (default 100) messages of the person's web chat, oldest first, and the cursor to stream after. */
  async history(tenant: Pick<Tenant, 'id'>, person: WebchatPerson, opts: { limit?: number } = {}): Promise<WebchatHistory> {
    const limit = opts.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY) throw new ValidationError('invalid_limit', `limit must be an integer 1-${MAX_HISTORY}`)
    const rows = await this.#repo.listLatest(tenant.id, person.id, limit)
    const before = rows.length > 0 ? String(BigInt(rows[0]!.seq) - 1n) : '0'
    const { messages, cursor } = takeVisible(rows, before)
    const pending = await this.#repo.listPendingInbound(tenant.id, person.id)
    return {
      messages: [...messages, ...pending.map((n): WebchatMessage => ({
        id: n.id, cursor, direction: 'in', text: n.body, quickReplies: [], createdAt: n.received_at, pending: true,
      }))],
      cursor,
    }
  }

  /**
   * What the person wrote: stored as an inbound `webchat` message and handed to the bot by the
   * inbound worker. Throws ValidationError `invalid_text`.
   */
  async send(tenant: Tenant, person: WebchatPerson, text: string): Promise<WebchatMessage> {
    if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_WEBCHAT_TEXT || text.includes('\u0000')) {
      throw new ValidationError('invalid_text', `text must be 1-${MAX_WEBCHAT_TEXT} characters`)
    }
    const message = await this.#deps.bot.receive(tenant, person.cassId, text)
    return { id: message.id, cursor: '', direction: 'in', text: message.body, quickReplies: [], createdAt: message.receivedAt, pending: true }
  }

  /**
   * Every message of the person's web chat after `after` (a cursor), in order, now and as they come:
   * `onMessage` gets each once per subscription. Resuming with the last message's cursor loses
   * nothing and repeats nothing. Throws ValidationError `invalid_cursor`.
   */
  async subscribe(tenant: Pick<Tenant, 'id'>, person: WebchatPerson, after: string, onMessage: (m: WebchatMessage) => void): Promise<WebchatSubscription> {
    if (!/^(0|[1-9][0-9]{0,18})$/.test(after)) throw new ValidationError('invalid_cursor', 'the cursor must be a message position from this chat')
    const repo = this.#repo
    let cursor = after
    let running = false
    let again = false
    let closed = false
    const run = async () => {
      if (running) {
        again = true
        return
      }
      running = true
      try {
        do {
          again = false
          for (;;) {
            const rows = await repo.listAfter(tenant.id, person.id, cursor, BATCH)
            if (closed) return
            const taken = takeVisible(rows, cursor)
            cursor = taken.cursor
            for (const m of taken.messages) onMessage(m)
            if (taken.blocked || rows.length < BATCH) break
          }
        } while (again && !closed)
      } catch {
        // The database is away for a moment: the live hub pokes again (its periodic look included).
      } finally {
        running = false
      }
    }
    const sub: LiveSubscriber = { key: `${tenant.id}:${person.id}`, poke: () => void run() }
    await this.#live.add(sub)
    await run()
    return {
      close: () => {
        closed = true
        this.#live.remove(sub)
      },
    }
  }

  async #startFirstThread(tenant: Tenant, person: WebchatPerson, threadName: string | undefined): Promise<string | null> {
    if (await this.#repo.hadConversation(tenant.id, person.id)) return null
    const set = await this.#deps.threads.current(tenant)
    const name = threadName ?? set.document.default_thread
    if (name === undefined || !set.thread(name)) return null
    try {
      // One first thread per person, however many pages open at once. The content is read before
      // the transaction: on the embedded store nothing inside it may use another connection.
      const started = await this.#deps.db.transaction().execute((trx) =>
        this.#deps.bot.startThread(trx, tenant, person.id, name, { startedBy: 'web', startKey: `web:${person.id}`, threads: set }))
      if (!started) return null
      this.#deps.bot.wakeDelivery()
      return name
    } catch (err) {
      // A person the bot cannot reach (an sms person without a phone) simply gets no opening.
      if (err instanceof AppError && err.code === 'person_unreachable') return null
      throw err
    }
  }

  #sign(tenant: Pick<Tenant, 'id'>, personId: string): string {
    const mac = createHmac('sha256', this.#deps.secretKey).update(`webchat-session:${tenant.id}:${personId}`).digest('base64url')
    return `${personId}.${mac}`
  }

  /** The core person id a token names, when its signature is this tenant's. */
  #verify(tenant: Pick<Tenant, 'id'>, token: string): string | undefined {
    const m = TOKEN.exec(token)
    if (!m) return undefined
    const expected = Buffer.from(this.#sign(tenant, m[1]!))
    const given = Buffer.from(token)
    return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : undefined
  }
}
