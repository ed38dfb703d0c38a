import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { Type } from 'typebox'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups, Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { AttachmentsService } from './attachments.ts'
import type { ChannelsService } from './channels.ts'
import type { DirectoryService } from './directory.service.ts'
import type { MessagesService, PostedMany } from './messages.ts'

type BulkRow = Selectable<DB['msg_bulk_messages']>
type Where = { pointer?: string; parameter?: string }

/** Payload of `messaging.bulk_post`: which bulk message of which tenant to fan out. */
export const BulkMessagePayload = Type.Object({ tenantId: TenantIdSchema, bulkMessageId: Type.String({ minLength: 36, maxLength: 36 }) }, { additionalProperties: false })
/** The fan-out job of a posted bulk message (handler in src/jobs/bulk-message.job.ts). */
export const BULK_MESSAGE_JOB = { name: 'messaging.bulk_post', payload: BulkMessagePayload } as const satisfies JobType

/** A bulk message (#40–#43) and how far its fan-out has come. */
export interface BulkMessage {
  readonly id: string
  readonly organizationId: string
  readonly createdBy: string
  readonly draft: boolean
  readonly message: string
  readonly messageJs: Readonly<Record<string, string>>
  readonly individualIds: readonly string[]
  readonly individualGroupIds: readonly string[]
  readonly senderIndividualId: string | null
  readonly senderIndividualGroupId: string | null
  readonly autoCreateChannel: boolean
  /** `draft`, `sending` (the job is posting), `posted` (every recipient posted or skipped). */
  readonly state: 'draft' | 'sending' | 'posted'
  readonly createdAt: Date
  readonly postedAt: Date | null
  readonly lastModifiedAt: Date
  readonly progress: {
    readonly recipients: number
    readonly posted: number
    readonly skipped: number
    readonly pending: number
    /** Recipients skipped for want of a channel (Cass person ids). */
    readonly skippedIndividualIds: readonly string[]
  }
}

export interface CreateBulkMessage {
  /** Who creates it: the user of a user token, else the organisation. */
  readonly createdBy: string
  readonly draft?: boolean
  readonly message?: string
  readonly messageJs?: Readonly<Record<string, string>>
  readonly individualIds?: readonly string[]
  readonly individualGroupIds?: readonly string[]
  readonly senderIndividualId?: string
  readonly senderIndividualGroupId?: string
  readonly autoAck?: string
  readonly autoCreateChannel?: boolean
}

/** Test and tuning hooks of a run (the job definition passes them). */
export interface BulkRunHooks {
  /** Called after each recipient is done (posted or skipped, its batch committed) with how many this run has done. */
  readonly afterRecipient?: (done: number) => void | Promise<void>
  /** Batches (transactions) in flight at once (default 2). */
  readonly concurrency?: number
  /** Recipients per batch, one transaction each (default 500). */
  readonly batchSize?: number
}

/** Recipients per batch (one transaction: their channels, messages and worklist rows). */
const BATCH = 500
/** Rows per INSERT of the worklist (4 parameters each, well under the 65,535 of one statement). */
const INSERT_CHUNK = 5000

const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  english: 'en', spanish: 'es', 'español': 'es', espanol: 'es', french: 'fr', 'français': 'fr', german: 'de', deutsch: 'de',
  portuguese: 'pt', chinese: 'zh', vietnamese: 'vi', korean: 'ko', russian: 'ru', arabic: 'ar', tagalog: 'tl', italian: 'it', japanese: 'ja',
}

/**
 * The text of a bulk message for one recipient's language (`language_type` of the person): the
 * `message-js` entry of that locale (`es_US` for `es-US`, `es_us`), else of that language (`es`,
 * `Spanish`), else the plain `message`, else `en_US`, else the first entry of `message-js`.
 */
export function localize(message: string, messageJs: Readonly<Record<string, string>>, language: string | null): string {
  const entries = Object.entries(messageJs).filter(([, v]) => typeof v === 'string' && v !== '')
  const norm = (k: string) => k.trim().toLowerCase().replace(/-/g, '_')
  if (language && language.trim() !== '') {
    const want = norm(language)
    const lang = LANGUAGE_NAMES[want] ?? want.split('_')[0]!
    const exact = entries.find(([k]) => norm(k) === want)
    if (exact) return exact[1]
    const same = entries.find(([k]) => norm(k).split('_')[0] === lang)
    if (same) return same[1]
  }
  if (message !== '') return message
  return entries.find(([k]) => norm(k) === 'en_us')?.[1] ?? entries[0]?.[1] ?? ''
}

/**
 * Bulk messages (#40–#43): one message to many individuals — those listed and the members of the
 * listed individual groups, each once, the sender never — posted into each recipient's channel
 * with the sender (a new one when `auto-create-channel`, else the recipient is skipped and counted
 * as such), in the recipient's language. Posting fixes the recipients as a worklist
 * (`msg_bulk_recipients`) and enqueues `messaging.bulk_post` in the same transaction; the job posts
 * a batch of recipients per transaction (ChannelsService.createMany, MessagesService.postMany),
 * marking them done in it, so a run that crashes, is retried or runs twice at once never posts to
 * anyone twice nor skips anyone.
 */
export class BulkMessagesService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #channels: ChannelsService
  readonly #messages: MessagesService
  readonly #directory: DirectoryService
  readonly #attachments: AttachmentsService
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; channels: ChannelsService; messages: MessagesService; directory: DirectoryService; attachments: AttachmentsService; people: PeopleLookups }) {
    this.#people = deps.people
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#channels = deps.channels
    this.#messages = deps.messages
    this.#directory = deps.directory
    this.#attachments = deps.attachments
  }

  /** #41: a new bulk message; unless a draft, posted at once (its fan-out job enqueued). */
  async create(tenant: Tenant, input: CreateBulkMessage): Promise<BulkMessage> {
    const individualIds = dedupe(input.individualIds ?? [])
    const groupIds = dedupe(input.individualGroupIds ?? [])
    await this.#channels.individuals(this.#db, tenant.id, individualIds, { pointer: '/data/attributes/individual-ids' })
    for (const [i, g] of groupIds.entries()) await this.#group(tenant, g, { pointer: `/data/attributes/individual-group-ids/${i}` })
    if (input.senderIndividualId) await this.#channels.individual(this.#db, tenant.id, input.senderIndividualId, { pointer: '/data/attributes/sender-individual-id' })
    if (input.senderIndividualGroupId) await this.#group(tenant, input.senderIndividualGroupId, { pointer: '/data/attributes/sender-individual-group-id' })
    const id = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('msg_bulk_messages').values({
        tenant_id: tenant.id, organization_id: tenant.id, created_by: input.createdBy, draft: input.draft ?? false,
        message: input.message ?? '', message_js: JSON.stringify(input.messageJs ?? {}),
        individual_ids: JSON.stringify(individualIds.map((x) => x.toLowerCase())), individual_group_ids: JSON.stringify(groupIds.map((x) => x.toLowerCase())),
        sender_individual_id: input.senderIndividualId?.toLowerCase() ?? null, sender_individual_group_id: input.senderIndividualGroupId?.toLowerCase() ?? null,
        auto_ack: input.autoAck ?? '', auto_create_channel: input.autoCreateChannel ?? false,
      }).returningAll().executeTakeFirstOrThrow()
      if (!row.draft) await this.#post(trx, tenant, row)
      return row.id
    })
    if (!(input.draft ?? false)) this.#jobs.wake(BULK_MESSAGE_JOB)
    return this.get(tenant, id)
  }

  /** #42: one bulk message with its progress. */
  async get(tenant: Tenant, id: string, where: Where = {}): Promise<BulkMessage> {
    const row = await this.#db.selectFrom('msg_bulk_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id, where)
    const [b] = await this.#present(tenant.id, [row])
    return b!
  }

  /** #40: the tenant's bulk messages, newest first; posted ones only with `includePosted`. */
  async list(tenant: Tenant, q: { createdBy?: string; includePosted: boolean; limit: number; offset: number }): Promise<{ items: BulkMessage[]; total: number }> {
    let query = this.#db.selectFrom('msg_bulk_messages').where('tenant_id', '=', tenant.id)
    if (q.createdBy !== undefined) query = query.where('created_by', '=', q.createdBy.toLowerCase())
    if (!q.includePosted) query = query.where('state', '!=', 'posted')
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: await this.#present(tenant.id, rows), total: Number(total.n) }
  }

  /**
   * #43: change a draft's `message`, `message-js`, or post it (`draft: false`). Once posted a bulk
   * message cannot change (ValidationError `bulk_message_posted`).
   */
  async update(tenant: Tenant, id: string, input: { draft?: boolean; message?: string; messageJs?: Readonly<Record<string, string>> }): Promise<BulkMessage> {
    const posting = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('msg_bulk_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).forUpdate().executeTakeFirst()
      if (!row) throw notFound(id, {})
      if (row.state !== 'draft') throw new ValidationError('bulk_message_posted', 'a bulk message that is posted (or being posted) cannot change', { pointer: '/data/attributes' })
      const set: Record<string, unknown> = {}
      if (input.message !== undefined) set.message = input.message
      if (input.messageJs !== undefined) set.message_js = JSON.stringify(input.messageJs)
      if (input.draft !== undefined) set.draft = input.draft
      if (Object.keys(set).length === 0) return false
      const updated = await trx.updateTable('msg_bulk_messages').set({ ...set, last_modified_at: sql`now()` })
        .where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      if (updated.draft) return false
      await this.#post(trx, tenant, updated)
      return true
    })
    if (posting) this.#jobs.wake(BULK_MESSAGE_JOB)
    return this.get(tenant, id)
  }

  /**
   * The fan-out (the job's handler): post to every pending recipient, in order, a batch at a time.
   * Each batch is one transaction: its recipients are locked (rows another run holds are skipped),
   * their missing channels made, their messages posted and the recipients marked done, all in a
   * few multi-row statements that commit or roll back together — so a run that dies, is retried or
   * runs twice at once never posts to anyone twice nor skips anyone. Marks the bulk message posted
   * when none is left.
   */
  async run(tenant: Tenant, id: string, hooks: BulkRunHooks = {}): Promise<void> {
    const bulk = await this.#db.selectFrom('msg_bulk_messages').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!bulk || bulk.state !== 'sending') return
    const sender = bulk.sender_individual_id
      ? (await this.#channels.individuals(this.#db, tenant.id, [bulk.sender_individual_id], { pointer: '' }).catch(() => []))[0]
      : undefined
    const size = hooks.batchSize ?? BATCH
    // Read before any batch's transaction is open (a read on another connection inside one could wait on it).
    const title = bulk.auto_create_channel ? await this.#channels.defaultTitle(tenant, bulk.organization_id) : ''
    let done = 0
    let failure: { err: unknown } | undefined
    // `concurrency` batches in flight; each loop keeps its own keyset over the worklist's order.
    const loop = async () => {
      let after = -1
      while (!failure) {
        try {
          const batch = await this.#db.transaction().execute((trx) => this.#batch(trx, tenant, bulk, sender, title, after, size))
          if (!batch) return
          after = batch.after
          batch.wake()
          await this.#messages.afterPostMany(tenant, batch.posted)
          for (let i = 0; i < batch.count; i++) {
            done += 1
            await hooks.afterRecipient?.(done)
          }
        } catch (err) {
          failure ??= { err }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, hooks.concurrency ?? 2) }, loop))
    if (failure) throw failure.err
    // Recipients whose person is gone (no identity) cannot be posted to: skipped.
    await this.#db.updateTable('msg_bulk_recipients').set({ state: 'skipped', reason: 'unknown_individual', done_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('bulk_message_id', '=', id).where('state', '=', 'pending')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('person_identities as i').select('i.person_id').whereRef('i.person_id', '=', 'msg_bulk_recipients.person_id').where('i.surface', '=', 'cass'))))
      .execute()
    await this.#db.updateTable('msg_bulk_messages').set({ state: 'posted', posted_at: sql`now()`, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).where('state', '=', 'sending')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('msg_bulk_recipients').select('person_id')
        .where('tenant_id', '=', tenant.id).where('bulk_message_id', '=', id).where('state', '=', 'pending'))))
      .execute()
  }

  /**
   * One batch in `trx`: the next pending recipients after `after` that no other run holds, locked;
   * each one's channel (found, or made with auto-create; else skipped), their messages posted in
   * their languages (with the bulk's files), and each marked done with its channel and message.
   * Null when none is left.
   */
  async #batch(trx: Transaction<DB>, tenant: Tenant, bulk: BulkRow, sender: Person | undefined, title: string, after: number, size: number): Promise<{ after: number; count: number; posted: PostedMany; wake: () => void } | null> {
    const batch = await trx.selectFrom('msg_bulk_recipients as r')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'r.person_id').on('i.surface', '=', 'cass'))
      .select(['r.person_id', 'r.position'])
      .where('r.tenant_id', '=', tenant.id).where('r.bulk_message_id', '=', bulk.id).where('r.state', '=', 'pending')
      .where('r.position', '>', after)
      .orderBy('r.position').limit(size).forUpdate('r').skipLocked().execute()
    if (batch.length === 0) return null
    const personIds = batch.map((r) => r.person_id)
    // Their languages through the people domain (its one set of queries and its cache).
    const persons = await this.#people.findMany(trx, tenant.id, personIds)
    const channels = await this.#channelsOf(trx, tenant.id, bulk.organization_id, personIds, sender)
    const missing = bulk.auto_create_channel ? personIds.filter((p) => !channels.has(p)) : []
    const made = await this.#channels.createMany(trx, tenant, bulk.organization_id, title, missing.map((p) => ({ memberIds: [p], ...(sender ? { actingId: sender.id } : {}) })))
    missing.forEach((p, i) => channels.set(p, made.ids[i]!))
    const skipped = personIds.filter((p) => !channels.has(p))
    if (skipped.length > 0) {
      await trx.updateTable('msg_bulk_recipients').set({ state: 'skipped', reason: 'no_channel', done_at: sql`now()` })
        .where('tenant_id', '=', tenant.id).where('bulk_message_id', '=', bulk.id).where('person_id', 'in', skipped).where('state', '=', 'pending').execute()
    }
    const to = personIds.filter((p) => channels.has(p))
    const messageJs = bulk.message_js as Record<string, string>
    const posted = await this.#messages.postMany(trx, tenant, { ...(sender ? { author: sender } : {}), autoAck: bulk.auto_ack },
      to.map((p) => ({ channelId: channels.get(p)!, message: localize(bulk.message, messageJs, persons.get(p)?.languageType ?? null) })))
    if (to.length > 0) {
      await sql`UPDATE msg_bulk_recipients r SET state = 'posted', channel_id = v.channel_id, message_id = v.message_id, done_at = now()
        FROM unnest(${to}::uuid[], ${posted.messages.map((m) => m.channelId)}::uuid[], ${posted.messages.map((m) => m.id)}::uuid[]) AS v(person_id, channel_id, message_id)
        WHERE r.tenant_id = ${tenant.id} AND r.bulk_message_id = ${bulk.id} AND r.person_id = v.person_id AND r.state = 'pending'`.execute(trx)
      await this.#attachments.copyBulkToMessages(trx, tenant.id, bulk.id, posted.messages.map((m) => m.id), sender?.id ?? null)
    }
    return { after: batch.at(-1)!.position, count: batch.length, posted, wake: made.wake }
  }

  /**
   * Each recipient's channel: the most recently active unarchived channel of the organisation they
   * subscribe to — together with the sender, when there is one.
   */
  async #channelsOf(db: Transaction<DB>, tenantId: TenantId, organizationId: string, personIds: readonly string[], sender: Person | undefined): Promise<Map<string, string>> {
    let q = db.selectFrom('msg_channel_subscribers as s')
      .innerJoin('msg_channels as c', (j) => j.onRef('c.tenant_id', '=', 's.tenant_id').onRef('c.id', '=', 's.channel_id'))
      .select(['s.individual_id', 'c.id']).distinctOn('s.individual_id')
      .where('s.tenant_id', '=', tenantId).where('s.individual_id', 'in', [...personIds]).where('c.organization_id', '=', organizationId)
      .where(sql<boolean>`c.archived_at IS NULL`)
    if (sender) {
      q = q.where((eb) => eb.exists(eb.selectFrom('msg_channel_subscribers as o').select('o.individual_id')
        .whereRef('o.tenant_id', '=', 's.tenant_id').whereRef('o.channel_id', '=', 's.channel_id').where('o.individual_id', '=', sender.id)))
    }
    const rows = await q.orderBy('s.individual_id').orderBy('c.last_modified_at', 'desc').orderBy('c.id').execute()
    return new Map(rows.map((r) => [r.individual_id, r.id]))
  }

  /**
   * Post a bulk message (in the caller's transaction): check it has a text, fix its recipients as
   * the worklist (listed individuals and group members, each once, without the sender), mark it
   * sending and enqueue its job.
   */
  async #post(trx: Transaction<DB>, tenant: Tenant, row: BulkRow): Promise<void> {
    if (localize(row.message, row.message_js as Record<string, string>, null) === '') {
      throw new ValidationError('message_required', 'a bulk message needs a message (or message-js) to be posted', { pointer: '/data/attributes/message' })
    }
    const listed = await this.#channels.individuals(trx, tenant.id, row.individual_ids, { pointer: '/data/attributes/individual-ids' })
    const members = row.individual_group_ids.length === 0 ? [] : await trx.selectFrom('msg_group_individuals').select('person_id')
      .where('tenant_id', '=', tenant.id).where('group_id', 'in', row.individual_group_ids).orderBy('group_id').orderBy('person_id').execute()
    const sender = row.sender_individual_id ? (await this.#channels.individuals(trx, tenant.id, [row.sender_individual_id], { pointer: '/data/attributes/sender-individual-id' }))[0] : undefined
    const people = [...new Set([...listed.map((p) => p.id), ...members.map((m) => m.person_id)])].filter((p) => p !== sender?.id)
    if (people.length === 0) throw new ValidationError('recipients_required', 'a bulk message needs at least one recipient (individual-ids, or individual-group-ids with members) to be posted', { pointer: '/data/attributes/individual-ids' })
    for (let i = 0; i < people.length; i += INSERT_CHUNK) {
      await trx.insertInto('msg_bulk_recipients')
        .values(people.slice(i, i + INSERT_CHUNK).map((personId, j) => ({ tenant_id: tenant.id, bulk_message_id: row.id, person_id: personId, position: i + j })))
        .onConflict((oc) => oc.doNothing()).execute()
    }
    await trx.updateTable('msg_bulk_messages').set({ state: 'sending', draft: false, sending_at: sql`now()`, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', row.id).execute()
    await this.#jobs.enqueue(trx, BULK_MESSAGE_JOB, { tenantId: tenant.id, bulkMessageId: row.id }, { key: `bulk_message:${row.id}`, tenantId: tenant.id })
  }

  async #group(tenant: Tenant, id: string, where: Where): Promise<void> {
    await this.#directory.group(tenant, id).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individual-groups with id ${id}`, { type: 'individual-groups', id, ...where }) : err
    })
  }

  async #present(tenantId: TenantId, rows: readonly BulkRow[]): Promise<BulkMessage[]> {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const [counts, skipped] = await Promise.all([
      this.#db.selectFrom('msg_bulk_recipients').select(['bulk_message_id', 'state', sql<string>`count(*)`.as('n')])
        .where('tenant_id', '=', tenantId).where('bulk_message_id', 'in', ids).groupBy(['bulk_message_id', 'state']).execute(),
      this.#db.selectFrom('msg_bulk_recipients as r')
        .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'r.person_id').on('i.surface', '=', 'cass'))
        .select(['r.bulk_message_id', 'i.public_id']).where('r.tenant_id', '=', tenantId).where('r.bulk_message_id', 'in', ids).where('r.state', '=', 'skipped')
        .orderBy('r.position').execute(),
    ])
    const count = (id: string, state: string) => Number(counts.find((c) => c.bulk_message_id === id && c.state === state)?.n ?? 0)
    return rows.map((r) => ({
      id: r.id, organizationId: r.organization_id, createdBy: r.created_by, draft: r.draft, message: r.message,
      messageJs: r.message_js as Record<string, string>, individualIds: r.individual_ids, individualGroupIds: r.individual_group_ids,
      senderIndividualId: r.sender_individual_id, senderIndividualGroupId: r.sender_individual_group_id, autoCreateChannel: r.auto_create_channel,
      state: r.state, createdAt: r.created_at, postedAt: r.posted_at, lastModifiedAt: r.last_modified_at,
      progress: {
        recipients: count(r.id, 'pending') + count(r.id, 'posted') + count(r.id, 'skipped'),
        posted: count(r.id, 'posted'), skipped: count(r.id, 'skipped'), pending: count(r.id, 'pending'),
        skippedIndividualIds: skipped.filter((s) => s.bulk_message_id === r.id).map((s) => s.public_id),
      },
    }))
  }
}

const notFound = (id: string, where: Where) => new NotFoundError('resource_not_found', `No messaging-bulk-messages with id ${id}`, { type: 'messaging-bulk-messages', id, ...where })

/** The ids in their first order, each once (case-insensitively). */
function dedupe(ids: readonly string[]): string[] {
  const seen = new Set<string>()
  return ids.filter((id) => {
    const k = id.toLowerCase()
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
