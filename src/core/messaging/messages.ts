import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups, Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import type { DirectoryViewer } from './directory.service.ts'

type Executor = Kysely<DB> | Transaction<DB>
type MessageRow = Selectable<DB['msg_messages']>

/** The reactions of §1.9. */
export const REACTION_TYPES = ['dislike', 'like', 'lol', 'love', 'sad', 'wow'] as const
export type ReactionType = (typeof REACTION_TYPES)[number]

/** A read receipt (#62): who read the message (their marker is at or past it), when. */
export interface Receipt {
  readonly individualId: string
  readonly person: Person
  readonly ackAt: Date | null
}

/** A message of a channel as the messaging API reads it, for an optional acting individual. */
export interface Message {
  readonly id: string
  readonly channelId: string
  readonly seq: number
  /** The author (an individual), or null when the organisation posted it. */
  readonly author: Person | null
  readonly message: string
  readonly draft: boolean
  readonly removed: boolean
  readonly source: string
  readonly postedAt: Date
  readonly lastModifiedAt: Date
  readonly reactions: readonly { individualId: string; person: Person; type: ReactionType }[]
  /** Whether the acting individual has read it (its own messages count as read); null without one. */
  readonly acked: boolean | null
  /** With `include-read-receipts`: the subscribers who read it. */
  readonly readReceipts?: readonly Receipt[]
  /** Its processed attachments, removed ones included (#28–#32). */
  readonly attachments: readonly MessageAttachment[]
  /** The directory user (care-team member) the author is, if any. */
  readonly authorUser: { id: string; username: string | null } | null
}

/** #23: counts of an individual's (or the tenant's) communication. */
export interface CommunicationSummary {
  readonly messages: number
  readonly messageSenders: readonly { individualId: string; count: number }[]
  readonly messageTypes: readonly { messageType: string; count: number }[]
  readonly providerMessages: number
  readonly notifications: number
  readonly videoChannels: number
}

/** An attachment as a message shows it; `thumbnail` (a signed URL) only when asked for. */
export interface MessageAttachment {
  readonly id: string
  readonly contentSize: number
  readonly contentType: string
  readonly filename: string
  readonly removed: boolean
  readonly thumbnail: string | null
}

/** The processed attachments of messages, by message id (AttachmentsService.forMessages). */
export type MessageAttachments = (db: Executor, tenantId: TenantId, messageIds: readonly string[], thumbnails: boolean) => Promise<ReadonlyMap<string, readonly MessageAttachment[]>>

export interface PostMessage {
  readonly channelId: string
  readonly message: string
  readonly draft?: boolean
  /** The author (a subscriber of the channel); absent: the organisation posts. */
  readonly individualId?: string
  /** `"true"`: the author's read marker moves to this message (all before it read too). */
  readonly autoAck?: string
  readonly includeDestinations?: readonly string[]
  /** Who produced it (the message's `source`); default `participant`. Responders post `auto-responder`. */
  readonly source?: string
  /**
   * Run inside the post's transaction once the message is written: a caller's bookkeeping that must
   * commit or roll back with it (bulk messages' per-recipient keys). Throwing undoes the post.
   */
  readonly inTransaction?: (trx: Transaction<DB>, message: { id: string; seq: number }) => Promise<void>
}

export interface MessageQuery {
  readonly channelId: string
  readonly individualId?: string
  /** Messages posted by this directory user (through their individual). */
  readonly userId?: string
  readonly acknowledged?: boolean
  readonly text?: string
  readonly posted?: (at: Date) => boolean
  readonly modified?: (at: Date) => boolean
  readonly readReceipts?: boolean
  /** `thumbnail`: attachments carry their thumbnail's URL. */
  readonly thumbnails?: boolean
  readonly limit: number
  readonly offset: number
}

const TRUTHY = new Set(['true', '1', 'yes'])

/** What `postMany` wrote, for `afterPostMany` once its transaction has committed. */
export interface PostedMany {
  readonly messages: readonly { id: string; seq: number; channelId: string }[]
  /** Whether SMS were queued (the senders are woken after the commit). */
  readonly queued: boolean
  /** The posting ports that queued something (woken after the commit). */
  readonly announced: readonly MessagePostedPort[]
  readonly authorCassId: string | undefined
}

/** Told of every message posted (not a draft), in the post's transaction: the channel's SMS path. */
export interface MessagePostedPort {
  /** Queue what the posted message causes; true when something was queued (then `wake` after the commit). */
  posted(trx: Transaction<DB>, tenantId: TenantId, m: { id: string; channelId: string; authorId: string | null; message: string }): Promise<boolean>
  /** Whether `posted` could queue anything for the tenant at all: asked once per batch of `postMany`, which skips the port when not. */
  listening?(trx: Transaction<DB>, tenantId: TenantId): Promise<boolean>
  wake(): void
}

/**
 * Messages of channels (#55–#62): posted by a subscriber (or the organisation), drafts seen only by
 * their author, edits and soft removal by the author, acks that mark this and every earlier message
 * read (`allow-past` moves the marker back), reactions, and receipts that split the subscribers
 * into read and unread.
 */
export class MessagesService {
  readonly #db: Kysely<DB>
  readonly #people: PeopleLookups
  readonly #channels: ChannelsService
  readonly #attachments: MessageAttachments | undefined

  readonly #sms: MessagePostedPort | undefined

  constructor(deps: { db: Kysely<DB>; peopleLookups: PeopleLookups; channels: ChannelsService; attachments?: MessageAttachments; sms?: MessagePostedPort }) {
    this.#db = deps.db
    this.#people = deps.peopleLookups
    this.#channels = deps.channels
    this.#attachments = deps.attachments
    this.#sms = deps.sms
  }

  /** #56: post into a channel. The author must subscribe to it (ForbiddenError `not_a_subscriber`). */
  async post(tenant: Tenant, input: PostMessage): Promise<Message> {
    let queued = false
    let announced: MessagePostedPort[] = []
    const done = await this.#db.transaction().execute(async (trx) => {
      // A post (not a draft) touches the channel's modification time: that update is also the
      // channel's existence check, and says whether its SMS path is active (one statement).
      const channel = input.draft
        ? await this.#channel(trx, tenant.id, input.channelId, { pointer: '/data/attributes/channel-id' })
        : await this.#touchChannel(trx, tenant.id, input.channelId, { pointer: '/data/attributes/channel-id' })
      const author = input.individualId ? await this.#channels.individual(trx, tenant.id, input.individualId, { pointer: '/data/attributes/individual-id' }) : undefined
      if (author) await this.#subscriber(trx, tenant.id, input.channelId, author, { pointer: '/data/attributes/individual-id' })
      const row = await trx.insertInto('msg_messages').values({
        tenant_id: tenant.id, channel_id: input.channelId, author_id: author?.id ?? null, message: input.message, draft: input.draft ?? false,
        auto_ack: input.autoAck ?? '', include_destinations: JSON.stringify(input.includeDestinations ?? []),
        ...(input.source !== undefined ? { source: input.source } : {}),
      }).returningAll().executeTakeFirstOrThrow()
      if (!input.draft) {
        if (author && TRUTHY.has((input.autoAck ?? '').toLowerCase())) await this.#mark(trx, tenant.id, input.channelId, author.id, Number(row.seq), false)
        // The SMS path only acts on channels where it is active (it answers false for the others).
        if (channel.smsActive) queued = (await this.#sms?.posted(trx, tenant.id, { id: row.id, channelId: input.channelId, authorId: author?.id ?? null, message: input.message })) ?? false
        announced = await this.#announcePosted(trx, tenant.id, { id: row.id, channelId: input.channelId, authorId: author?.id ?? null, message: input.message })
      }
      if (input.inTransaction) await input.inTransaction(trx, { id: row.id, seq: Number(row.seq) })
      return { row, author }
    })
    if (queued) this.#sms?.wake()
    for (const port of announced) port.wake()
    // Presented from what the post wrote and read (no re-read): a message just posted has no
    // reactions yet, and its author has read it; attachments added in `inTransaction` are read.
    const [posted] = await this.#present(this.#db, tenant.id, [done.row], done.author, false, false, { fresh: true, attachments: input.inTransaction !== undefined, known: done.author ? [done.author] : [] })
    if (!posted!.draft) await this.#notifyPosted(tenant, posted!)
    return posted!
  }

  /**
   * Post many messages by one author (or the organisation) in the caller's transaction — bulk
   * messages' fan-out, one message per channel: what `post` writes for each (not drafts), in a few
   * multi-row statements. Every channel must be the tenant's (NotFoundError) and the author a
   * subscriber of each (ForbiddenError `not_a_subscriber`). Answers the messages in the order
   * given; after the commit, pass the answer to `afterPostMany`.
   */
  async postMany(trx: Transaction<DB>, tenant: Tenant, input: { author?: Person; autoAck?: string; source?: string }, posts: readonly { channelId: string; message: string }[]): Promise<PostedMany> {
    if (posts.length === 0) return { messages: [], queued: false, announced: [], authorCassId: input.author?.cassId }
    const channelIds = [...new Set(posts.map((p) => p.channelId))]
    const channels = await trx.selectFrom('msg_channels').select(['id', 'sms_active']).where('tenant_id', '=', tenant.id).where('id', 'in', channelIds).execute()
    const missing = channelIds.find((id) => !channels.some((c) => c.id === id))
    if (missing) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${missing}`, { type: 'messaging-channels', id: missing, pointer: '/data/attributes/channel-id' })
    const author = input.author
    if (author) {
      const subscribed = new Set((await trx.selectFrom('msg_channel_subscribers').select('channel_id').where('tenant_id', '=', tenant.id)
        .where('channel_id', 'in', channelIds).where('individual_id', '=', author.id).execute()).map((r) => r.channel_id))
      if (channelIds.some((id) => !subscribed.has(id))) throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to this channel', { pointer: '/data/attributes/individual-id' })
    }
    const messages: { id: string; seq: number; channelId: string; message: string }[] = []
    // 8 parameters a row: 1,000 rows a statement.
    for (let i = 0; i < posts.length; i += 1000) {
      const chunk = posts.slice(i, i + 1000).map((p) => ({ ...p, id: randomUUID() }))
      const rows = await trx.insertInto('msg_messages').values(chunk.map((p) => ({
        id: p.id, tenant_id: tenant.id, channel_id: p.channelId, author_id: author?.id ?? null, message: p.message, draft: false,
        auto_ack: input.autoAck ?? '', include_destinations: JSON.stringify([]), ...(input.source !== undefined ? { source: input.source } : {}),
      }))).returning(['id', 'seq']).execute()
      const seqs = new Map(rows.map((r) => [r.id, Number(r.seq)]))
      for (const p of chunk) messages.push({ id: p.id, seq: seqs.get(p.id)!, channelId: p.channelId, message: p.message })
    }
    await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', 'in', channelIds).execute()
    if (author && TRUTHY.has((input.autoAck ?? '').toLowerCase())) {
      // #mark for each message: the author's marker moves up to it (never back).
      await sql`UPDATE msg_channel_subscribers s SET ack_seq = greatest(s.ack_seq, v.seq), ack_at = now()
        FROM (SELECT channel_id, max(seq) AS seq FROM unnest(${messages.map((m) => m.channelId)}::uuid[], ${messages.map((m) => String(m.seq))}::bigint[]) AS x(channel_id, seq) GROUP BY channel_id) v
        WHERE s.tenant_id = ${tenant.id} AND s.channel_id = v.channel_id AND s.individual_id = ${author.id} AND s.ack_seq < v.seq`.execute(trx)
    }
    // The SMS path only acts on channels where it is active (it answers false for the others).
    let queued = false
    const sms = new Set(channels.filter((c) => c.sms_active).map((c) => c.id))
    for (const m of messages) {
      if (sms.has(m.channelId)) queued = ((await this.#sms?.posted(trx, tenant.id, { id: m.id, channelId: m.channelId, authorId: author?.id ?? null, message: m.message })) ?? false) || queued
    }
    const announced = new Set<MessagePostedPort>()
    // A port with nothing listening in the tenant is asked once for the batch, not once per message.
    const ports = (await Promise.all(this.#postedPorts.map(async (p) => (!p.listening || await p.listening(trx, tenant.id) ? p : undefined)))).filter((p) => p !== undefined)
    for (const m of ports.length > 0 ? messages : []) {
      for (const port of await this.#announcePosted(trx, tenant.id, { id: m.id, channelId: m.channelId, authorId: author?.id ?? null, message: m.message }, ports)) announced.add(port)
    }
    return { messages: messages.map((m) => ({ id: m.id, seq: m.seq, channelId: m.channelId })), queued, announced: [...announced], authorCassId: author?.cassId }
  }

  /** After the commit of `postMany`: wake the SMS senders and tell the posting hook of each message, as `post` does. */
  async afterPostMany(tenant: Tenant, posted: PostedMany): Promise<void> {
    if (posted.queued) this.#sms?.wake()
    for (const port of posted.announced) port.wake()
    if (posted.messages.length === 0 || this.#postedListeners.length === 0) return
    const acting = posted.authorCassId ? await this.#channels.individual(this.#db, tenant.id, posted.authorCassId, { parameter: 'individual-id' }) : undefined
    const rows = await this.#db.selectFrom('msg_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', 'in', posted.messages.map((m) => m.id)).orderBy('seq').execute()
    const messages = await this.#present(this.#db, tenant.id, rows, acting, false)
    for (const [i, listener] of this.#postedListeners.entries()) {
      const many = this.#postedManyListeners[i]
      if (many) await many(tenant, messages)
      else for (const m of messages) await listener(tenant, m)
    }
  }

  // ── Posting hook (messaging responders) ──
  readonly #postedListeners: Array<(tenant: Tenant, message: Message) => Promise<void>> = []
  readonly #postedManyListeners: Array<((tenant: Tenant, messages: readonly Message[]) => Promise<void>) | undefined> = []

  /**
   * Call `listener` after each message is posted (not a draft), once its transaction has committed
   * and before `post` answers. Listeners handle their own failures (responders report and go on).
   * `many`, if given, is called instead with all the messages of one `postMany`, in posting order.
   */
  onPosted(listener: (tenant: Tenant, message: Message) => Promise<void>, many?: (tenant: Tenant, messages: readonly Message[]) => Promise<void>): void {
    this.#postedListeners.push(listener)
    this.#postedManyListeners.push(many)
  }

  async #notifyPosted(tenant: Tenant, message: Message): Promise<void> {
    for (const listener of this.#postedListeners) await listener(tenant, message)
  }
  // ── end of the posting hook ──

  // ── In-transaction posting ports (announcers' message-posted events) ──
  readonly #postedPorts: MessagePostedPort[] = []

  /**
   * Tell `port` of every message posted (not a draft; a draft once un-drafted) inside the post's
   * transaction, so what it queues commits or rolls back with the message; `wake` is called after the commit.
   */
  addPostedPort(port: MessagePostedPort): void {
    this.#postedPorts.push(port)
  }

  /** The ports that queued something (to wake after the commit). */
  async #announcePosted(trx: Transaction<DB>, tenantId: TenantId, m: { id: string; channelId: string; authorId: string | null; message: string }, ports: readonly MessagePostedPort[] = this.#postedPorts): Promise<MessagePostedPort[]> {
    const queued: MessagePostedPort[] = []
    for (const port of ports) if (await port.posted(trx, tenantId, m)) queued.push(port)
    return queued
  }
  // ── end of the in-transaction posting ports ──

  /** #57: one message; a draft only for its author. */
  async get(tenant: Tenant, id: string, individualId?: string, opts: { readReceipts?: boolean; thumbnails?: boolean } = {}): Promise<Message> {
    const acting = individualId ? await this.#channels.individual(this.#db, tenant.id, individualId, { parameter: 'individual-id' }) : undefined
    const row = await this.#db.selectFrom('msg_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row || (row.draft && row.author_id !== acting?.id)) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, { type: 'messaging-messages', id })
    const [m] = await this.#present(this.#db, tenant.id, [row], acting, opts.readReceipts ?? false, opts.thumbnails ?? false)
    return m!
  }

  /** #55: the channel's messages in posting order, filtered; drafts only the acting individual's own. */
  async list(tenant: Tenant, q: MessageQuery): Promise<{ items: Message[]; total: number }> {
    await this.#channel(this.#db, tenant.id, q.channelId, { parameter: 'channel-id' })
    const acting = q.individualId ? await this.#channels.individual(this.#db, tenant.id, q.individualId, { parameter: 'individual-id' }) : undefined
    let query = this.#db.selectFrom('msg_messages').selectAll().where('tenant_id', '=', tenant.id).where('channel_id', '=', q.channelId)
      .where((eb) => eb.or([eb('draft', '=', false), ...(acting ? [eb('author_id', '=', acting.id)] : [])]))
    if (q.userId !== undefined) {
      const user = await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenant.id).where('id', '=', q.userId.toLowerCase()).executeTakeFirst()
      if (!user) throw new NotFoundError('resource_not_found', `No users with id ${q.userId}`, { type: 'users', id: q.userId, parameter: 'user-id' })
      if (!user.person_id) return { items: [], total: 0 }
      query = query.where('author_id', '=', user.person_id)
    }
    if (q.text !== undefined) query = query.where('removed', '=', false).where(sql<boolean>`strpos(lower(message), lower(${q.text})) > 0`)
    const rows = (await query.orderBy('seq').execute())
      .filter((r) => (!q.posted || q.posted(r.posted_at)) && (!q.modified || q.modified(r.last_modified_at)))
    let items = await this.#present(this.#db, tenant.id, rows, acting, q.readReceipts ?? false, q.thumbnails ?? false)
    if (q.acknowledged !== undefined && acting) items = items.filter((m) => m.acked === q.acknowledged)
    return { items: items.slice(q.offset, q.offset + q.limit), total: items.length }
  }

  /**
   * #58: the author edits, un-drafts or removes their message (removal is soft: the text is gone,
   * the message stays as removed). Another individual: ForbiddenError `not_the_author`.
   */
  async update(tenant: Tenant, id: string, input: { individualId?: string; message?: string; draft?: boolean; removed?: boolean }): Promise<Message> {
    let queued = false
    let announced: MessagePostedPort[] = []
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('msg_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).forUpdate().executeTakeFirst()
      const acting = input.individualId ? await this.#channels.individual(trx, tenant.id, input.individualId, { pointer: '/data/attributes/individual-id' }) : undefined
      if (!row || (row.draft && row.author_id !== acting?.id)) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, { type: 'messaging-messages', id })
      if (acting && row.author_id !== acting.id) throw new ForbiddenError('not_the_author', 'only the author changes a message', { pointer: '/data/attributes/individual-id' })
      if (row.removed && (input.message !== undefined || input.removed === false)) throw new ValidationError('message_removed', 'a removed message cannot be changed', { pointer: '/data/attributes/removed' })
      if (input.draft === true && !row.draft) throw new ValidationError('message_posted', 'a posted message cannot become a draft again', { pointer: '/data/attributes/draft' })
      const set: Record<string, unknown> = {}
      if (input.message !== undefined) set.message = input.message
      if (input.removed === true) Object.assign(set, { removed: true, message: '' })
      if (input.draft === false && row.draft) Object.assign(set, { draft: false, posted_at: sql`now()` })
      if (Object.keys(set).length === 0) return
      await trx.updateTable('msg_messages').set({ ...set, last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
      await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', row.channel_id).execute()
      // A draft posted now is a posted message: its SMS go out (not for a removal).
      if (input.draft === false && row.draft && input.removed !== true) {
        queued = (await this.#sms?.posted(trx, tenant.id, { id, channelId: row.channel_id, authorId: row.author_id, message: input.message ?? row.message })) ?? false
        announced = await this.#announcePosted(trx, tenant.id, { id, channelId: row.channel_id, authorId: row.author_id, message: input.message ?? row.message })
      }
    })
    if (queued) this.#sms?.wake()
    for (const port of announced) port.wake()
    return this.get(tenant, id, input.individualId)
  }

  /**
   * #59: the individual has read this message and every one before it: their marker moves up to it
   * (never back, unless `allowPast`). Without an individual, every subscriber's marker moves.
   */
  async ack(tenant: Tenant, id: string, input: { individualId?: string; allowPast?: boolean }): Promise<Message> {
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('msg_messages').select(['channel_id', 'seq', 'draft', 'author_id']).where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
      const acting = input.individualId ? await this.#channels.individual(trx, tenant.id, input.individualId, { pointer: '/individual-id' }) : undefined
      if (!row || (row.draft && row.author_id !== acting?.id)) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, { type: 'messaging-messages', id })
      if (acting) await this.#subscriber(trx, tenant.id, row.channel_id, acting, { pointer: '/individual-id' })
      await this.#mark(trx, tenant.id, row.channel_id, acting?.id, Number(row.seq), input.allowPast ?? false)
    })
    return this.get(tenant, id, input.individualId)
  }

  /** #60, #61: add or remove the individual's reaction (adding twice or removing none changes nothing). */
  async react(tenant: Tenant, id: string, input: { individualId?: string; type: ReactionType; add: boolean }): Promise<Message> {
    if (!input.individualId) throw new ValidationError('individual_required', 'individual-id is required to react', { pointer: '/individual-id' })
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('msg_messages').select(['channel_id', 'draft', 'author_id']).where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
      const acting = await this.#channels.individual(trx, tenant.id, input.individualId!, { pointer: '/individual-id' })
      if (!row || row.draft) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, { type: 'messaging-messages', id })
      await this.#subscriber(trx, tenant.id, row.channel_id, acting, { pointer: '/individual-id' })
      if (input.add) {
        await trx.insertInto('msg_reactions').values({ tenant_id: tenant.id, message_id: id, individual_id: acting.id, reaction_type: input.type })
          .onConflict((oc) => oc.columns(['tenant_id', 'message_id', 'individual_id', 'reaction_type']).doNothing()).execute()
      } else {
        await trx.deleteFrom('msg_reactions').where('tenant_id', '=', tenant.id).where('message_id', '=', id).where('individual_id', '=', acting.id).where('reaction_type', '=', input.type).execute()
      }
      await trx.updateTable('msg_messages').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
    })
    return this.get(tenant, id, input.individualId)
  }

  /** #62: the channel's subscribers (but the author) split by whether their marker reached the message. */
  async receipts(tenant: Tenant, id: string, individualId?: string): Promise<{ read: Receipt[]; unread: Receipt[] }> {
    const m = await this.get(tenant, id, individualId)
    const channel = await this.#channels.get(tenant, m.channelId)
    const others = channel.subscribers.filter((s) => s.person.id !== m.author?.id)
    const receipt = (s: (typeof others)[number]): Receipt => ({ individualId: s.individualId, person: s.person, ackAt: s.ackSeq >= m.seq ? s.ackAt : null })
    return { read: others.filter((s) => s.ackSeq >= m.seq).map(receipt), unread: others.filter((s) => s.ackSeq < m.seq).map(receipt) }
  }

  /**
   * #23: what an individual's timeline holds (or the whole tenant's, without one): posted channel
   * messages (`messages`; per author with `senders`; per kind — `group-messages` in a channel of
   * more than two subscribers, else `direct-messages`), the SMS the channels' SMS paths sent them
   * (`provider-messages`), the bot's fired check-ins and autopings (`notifications`), and
   * `video-channels` (none: there is no video yet). Computed when asked, so always current.
   */
  async summary(tenant: Tenant, individualId: string | undefined, senders: boolean): Promise<CommunicationSummary> {
    const who = individualId ? await this.#channels.individual(this.#db, tenant.id, individualId, { parameter: 'individual-id' }) : undefined
    let q = this.#db.selectFrom('msg_messages as m').where('m.tenant_id', '=', tenant.id).where('m.draft', '=', false).where('m.removed', '=', false)
    if (who) {
      q = q.where((eb) => eb.or([eb('m.author_id', '=', who.id), eb.exists(eb.selectFrom('msg_channel_subscribers as s').select('s.individual_id')
        .whereRef('s.tenant_id', '=', 'm.tenant_id').whereRef('s.channel_id', '=', 'm.channel_id').where('s.individual_id', '=', who.id))]))
    }
    const byAuthor = await q.select(['m.author_id', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('m.author_id').execute()
    const byKind = await q.select([
      sql<string>`CASE WHEN (SELECT count(*) FROM msg_channel_subscribers s WHERE s.tenant_id = m.tenant_id AND s.channel_id = m.channel_id) > 2 THEN 'group-messages' ELSE 'direct-messages' END`.as('kind'),
      (eb) => eb.fn.countAll<string>().as('n'),
    ]).groupBy('kind').orderBy('kind').execute()
    let sms = this.#db.selectFrom('msg_channel_sms').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id)
    if (who) sms = sms.where('person_id', '=', who.id)
    let fired = this.#db.selectFrom('scheduled_notifications').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).where('status', '=', 'fired')
    if (who) fired = fired.where('person_id', '=', who.id)
    const authors = await this.#people.findMany(this.#db, tenant.id, byAuthor.flatMap((r) => (r.author_id ? [r.author_id] : [])))
    return {
      messages: byAuthor.reduce((n, r) => n + Number(r.n), 0),
      messageSenders: senders ? byAuthor.filter((r) => r.author_id && authors.has(r.author_id)).map((r) => ({ individualId: authors.get(r.author_id!)!.cassId, count: Number(r.n) }))
        .sort((x, y) => y.count - x.count || x.individualId.localeCompare(y.individualId)) : [],
      messageTypes: byKind.map((r) => ({ messageType: r.kind, count: Number(r.n) })),
      providerMessages: Number((await sms.executeTakeFirstOrThrow()).n),
      notifications: Number((await fired.executeTakeFirstOrThrow()).n),
      videoChannels: 0,
    }
  }

  /** NotFoundError unless the viewer sees the message's channel (a user token: one it subscribes to). */
  async assertVisible(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<void> {
    const row = await this.#db.selectFrom('msg_messages').select('channel_id').where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    const notFound = { type: 'messaging-messages', id }
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, notFound)
    await this.#channels.assertVisible(tenant, row.channel_id, viewer, {}, notFound)
  }

  async #channel(db: Executor, tenantId: TenantId, id: string, where: { pointer?: string; parameter?: string }): Promise<{ smsActive: boolean }> {
    const row = await db.selectFrom('msg_channels').select('sms_active').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${id}`, { type: 'messaging-channels', id, ...where })
    return { smsActive: row.sms_active }
  }

  /** The channel's modification time set to now (a message was posted), or NotFoundError at `where`. */
  async #touchChannel(trx: Transaction<DB>, tenantId: TenantId, id: string, where: { pointer?: string; parameter?: string }): Promise<{ smsActive: boolean }> {
    const row = await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', id).returning('sms_active').executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${id}`, { type: 'messaging-channels', id, ...where })
    return { smsActive: row.sms_active }
  }

  async #subscriber(db: Executor, tenantId: TenantId, channelId: string, who: Person, where: { pointer?: string; parameter?: string }): Promise<void> {
    const row = await db.selectFrom('msg_channel_subscribers').select('individual_id').where('tenant_id', '=', tenantId).where('channel_id', '=', channelId).where('individual_id', '=', who.id).executeTakeFirst()
    if (!row) throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to this channel', where)
  }

  /** Move read markers (one subscriber's, or all when `personId` is undefined) to `seq`. */
  async #mark(trx: Transaction<DB>, tenantId: TenantId, channelId: string, personId: string | undefined, seq: number, allowPast: boolean): Promise<void> {
    let q = trx.updateTable('msg_channel_subscribers')
      .set({ ack_seq: allowPast ? seq : sql`greatest(ack_seq, ${seq})`, ack_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('channel_id', '=', channelId)
    if (!allowPast) q = q.where('ack_seq', '<', String(seq))
    if (personId) q = q.where('individual_id', '=', personId)
    await q.execute()
  }

  /**
   * Messages as the surface shows them. `fresh`: the rows were just inserted by `acting` (or the
   * organisation), so there are no reactions and no one else's markers to read; `known`: people
   * already read, not looked up again.
   */
  async #present(db: Executor, tenantId: TenantId, rows: readonly MessageRow[], acting: Person | undefined, withReceipts: boolean, thumbnails = false, opts: { fresh?: boolean; attachments?: boolean; known?: readonly Person[] } = {}): Promise<Message[]> {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const channels = [...new Set(rows.map((r) => r.channel_id))]
    const attachments = this.#attachments && opts.attachments !== false ? await this.#attachments(db, tenantId, ids, thumbnails) : new Map<string, readonly MessageAttachment[]>()
    const [reactions, subs] = opts.fresh === true && !withReceipts ? [[], []] : await Promise.all([
      db.selectFrom('msg_reactions').selectAll().where('tenant_id', '=', tenantId).where('message_id', 'in', ids).orderBy('created_at').execute(),
      db.selectFrom('msg_channel_subscribers').select(['channel_id', 'individual_id', 'ack_seq', 'ack_at']).where('tenant_id', '=', tenantId).where('channel_id', 'in', channels).execute(),
    ])
    const wanted = [...new Set([
      ...rows.flatMap((r) => (r.author_id ? [r.author_id] : [])), ...reactions.map((r) => r.individual_id), ...(withReceipts ? subs.map((s) => s.individual_id) : []),
    ])]
    const known = new Map((opts.known ?? []).map((p) => [p.id, p]))
    const people = wanted.every((id) => known.has(id)) ? known : await this.#people.findMany(db, tenantId, wanted)
    const authors = [...new Set(rows.flatMap((r) => (r.author_id ? [r.author_id] : [])))]
    const users = authors.length === 0 ? [] : await db.selectFrom('msg_users').select(['id', 'username', 'person_id']).where('tenant_id', '=', tenantId).where('person_id', 'in', authors).execute()
    const marker = (channelId: string, personId: string) => subs.find((s) => s.channel_id === channelId && s.individual_id === personId)
    return rows.map((r): Message => {
      const seq = Number(r.seq)
      const mine = acting ? marker(r.channel_id, acting.id) : undefined
      return {
        id: r.id, channelId: r.channel_id, seq, author: r.author_id ? people.get(r.author_id) ?? null : null, message: r.removed ? '' : r.message,
        draft: r.draft, removed: r.removed, source: r.source, postedAt: r.posted_at, lastModifiedAt: r.last_modified_at,
        authorUser: ((u) => (u ? { id: u.id, username: u.username } : null))(users.find((u) => r.author_id !== null && u.person_id === r.author_id)),
        reactions: reactions.filter((x) => x.message_id === r.id && people.has(x.individual_id))
          .map((x) => ({ individualId: people.get(x.individual_id)!.cassId, person: people.get(x.individual_id)!, type: x.reaction_type as ReactionType })),
        attachments: attachments.get(r.id) ?? [],
        acked: acting ? r.author_id === acting.id || (mine !== undefined && Number(mine.ack_seq) >= seq) : null,
        ...(withReceipts ? {
          readReceipts: subs.filter((s) => s.channel_id === r.channel_id && s.individual_id !== r.author_id && Number(s.ack_seq) >= seq && people.has(s.individual_id))
            .map((s) => ({ individualId: people.get(s.individual_id)!.cassId, person: people.get(s.individual_id)!, ackAt: s.ack_at })),
        } : {}),
      }
    })
  }
}
