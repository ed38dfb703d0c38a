import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import { fitsDeclaredType, normalizeMediaType, SNIFF_BYTES, THUMBNAIL_TYPES, type FilesService } from '../files/index.ts'
import type { Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import type { MessageAttachment } from './messages.ts'

type Executor = Kysely<DB> | Transaction<DB>
type AttachmentRow = Selectable<DB['msg_attachments']>
type Where = { pointer?: string; parameter?: string }

/**
 * How long after its upload ticket expired a pending attachment is kept (an upload finished just
 * in time can still be processed), before the periodic cleanup removes it with its bytes.
 */
export const PENDING_UPLOAD_GRACE_MS = 60 * 60 * 1000

/** Key purposes of the file store: the attachment's bytes and its thumbnail. */
const FILE_PURPOSE = 'messaging-attachment'
const THUMBNAIL_PURPOSE = 'messaging-thumbnail'

/**
 * Makes a thumbnail of an image (the composition root adapts sharp): the thumbnail's bytes and
 * type, or undefined when the bytes are no readable image.
 */
export type Thumbnailer = (image: Buffer) => Promise<{ bytes: Buffer; contentType: string } | undefined>

/** An attachment of a message as the messaging API reads it. */
export interface Attachment {
  readonly id: string
  readonly messageId: string
  readonly contentType: string
  readonly filename: string
  /** The stored size once processed; 0 while pending. */
  readonly contentSize: number
  readonly createdAt: Date
  readonly removed: boolean
  /** Not processed yet (#32 has not accepted an upload). */
  readonly pending: boolean
  /** A signed, expiring download URL of the file (null while pending and once removed). */
  readonly url: string | null
  /** A signed, expiring download URL of the thumbnail (images only; null otherwise). */
  readonly thumbnail: string | null
}

/** A new attachment and where its bytes go (#29). */
export interface AttachmentTicket extends Attachment {
  readonly ticket: { readonly url: string; readonly fields: Readonly<Record<string, string>>; readonly expiresAt: Date }
}

/** A file of a bulk message (#36–#39); every message the bulk message posts carries a copy. */
export interface BulkAttachment {
  readonly id: string
  readonly bulkMessageId: string
  readonly contentType: string
  readonly filename: string
  /** The stored size once processed; 0 while pending. */
  readonly contentSize: number
  readonly createdAt: Date
  readonly pending: boolean
  readonly url: string | null
  readonly thumbnail: string | null
}

/** A new bulk attachment and where its bytes go (#37). */
export interface BulkAttachmentTicket extends BulkAttachment {
  readonly ticket: AttachmentTicket['ticket']
}

export interface CreateBulkAttachment {
  readonly bulkMessageId: string
  readonly contentType: string
  readonly filename?: string
  readonly contentSize?: number
}

export interface CreateAttachment {
  readonly messageId: string
  readonly contentType: string
  readonly filename?: string
  /** The exact size the upload must have (bounds the upload URL too). */
  readonly contentSize?: number
  /** The acting individual: the message's author. Absent: the organisation. */
  readonly individualId?: string
}

export interface AttachmentQuery {
  readonly messageId: string
  readonly individualId?: string
  readonly includePending: boolean
  readonly limit: number
  readonly offset: number
}

/**
 * Attachments of messages (#28–#32), in two steps: a create answers an upload ticket for core's
 * file store (signed, expiring; the local directory or an S3-compatible bucket), `processUpload`
 * checks the stored bytes against the declared type (magic bytes) and size and makes a thumbnail
 * of an image, and removal is soft (the row stays as removed, the bytes are deleted). Only the
 * message's channel's subscribers (and the organisation) see them: to anyone else, and to another
 * tenant, an attachment or its message is not found.
 */
export class AttachmentsService {
  readonly #db: Kysely<DB>
  readonly #files: FilesService
  readonly #channels: ChannelsService
  readonly #thumbnail: Thumbnailer

  constructor(deps: { db: Kysely<DB>; files: FilesService; channels: ChannelsService; thumbnailer: Thumbnailer }) {
    this.#db = deps.db
    this.#files = deps.files
    this.#channels = deps.channels
    this.#thumbnail = deps.thumbnailer
  }

  /** #29: a pending attachment of a message and its upload ticket. */
  async create(tenant: Tenant, input: CreateAttachment): Promise<AttachmentTicket> {
    const contentType = this.#contentType(input.contentType, input.contentSize)
    const acting = await this.#acting(this.#db, tenant.id, input.individualId, { pointer: '/data/attributes/individual-id' })
    const message = await this.#message(this.#db, tenant.id, input.messageId, acting, { pointer: '/data/attributes/message-id' })
    if (acting && message.author_id !== acting.id) throw new ForbiddenError('not_the_author', 'only the author of the message attaches files to it', { pointer: '/data/attributes/individual-id' })
    const ticket = this.#files.createFormUpload(tenant.id, { purpose: FILE_PURPOSE, contentType, maxBytes: input.contentSize })
    const row = await this.#db.insertInto('msg_attachments').values({
      tenant_id: tenant.id, message_id: message.id, content_type: contentType, filename: input.filename ?? '',
      declared_size: input.contentSize ?? null, file_key: ticket.key, created_by: acting?.id ?? null, upload_expires_at: ticket.expiresAt,
    }).returningAll().executeTakeFirstOrThrow()
    return { ...this.#present(tenant.id, row), ticket: { url: ticket.url, fields: ticket.fields, expiresAt: ticket.expiresAt } }
  }

  /** #30: one attachment, pending or not, for the organisation or a subscriber of its channel. */
  async get(tenant: Tenant, id: string, individualId?: string): Promise<Attachment> {
    const acting = await this.#acting(this.#db, tenant.id, individualId, { parameter: 'individual-id' })
    return this.#present(tenant.id, await this.#attachment(this.#db, tenant.id, id, acting))
  }

  /** #28: a message's attachments, oldest first; pending ones only with `includePending`. */
  async list(tenant: Tenant, q: AttachmentQuery): Promise<{ items: Attachment[]; total: number }> {
    const acting = await this.#acting(this.#db, tenant.id, q.individualId, { parameter: 'individual-id' })
    await this.#message(this.#db, tenant.id, q.messageId, acting, { parameter: 'message-id' }, 'hide')
    let query = this.#db.selectFrom('msg_attachments').where('tenant_id', '=', tenant.id).where('message_id', '=', q.messageId)
    if (!q.includePending) query = query.where('processed_at', 'is not', null)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map((r) => this.#present(tenant.id, r)), total: Number(total.n) }
  }

  /**
   * #31: `removed: true` removes the attachment (soft: it stays, listed as removed, without its
   * bytes, which are deleted). A removed attachment cannot come back (`attachment_removed`).
   */
  async update(tenant: Tenant, id: string, input: { removed?: boolean; individualId?: string }): Promise<Attachment> {
    const keys = await this.#db.transaction().execute(async (trx) => {
      const acting = await this.#acting(trx, tenant.id, input.individualId, { pointer: '/data/attributes/individual-id' })
      const row = await this.#attachment(trx, tenant.id, id, acting, 'write', { pointer: '/data/attributes/individual-id' })
      if (acting) await this.#author(trx, tenant.id, row.message_id, acting)
      if (row.removed && input.removed === false) throw new ValidationError('attachment_removed', 'a removed attachment cannot come back', { pointer: '/data/attributes/removed' })
      if (input.removed !== true || row.removed) return []
      await trx.updateTable('msg_attachments').set({ removed: true, last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
      return [row.file_key, ...(row.thumbnail_key ? [row.thumbnail_key] : [])]
    })
    // After the commit: a failed delete leaves an unreachable file, never a listed one without bytes.
    // Bytes another attachment still shares (the copies of a bulk message's files) stay.
    for (const key of keys) if (!(await this.#shared(tenant.id, key))) await this.#files.delete(tenant.id, key)
    return this.get(tenant, id, input.individualId)
  }

  /**
   * #32: accept the uploaded bytes. They must be there (`upload_missing`), not empty, of the
   * declared size if one was declared and within the limit (`upload_size_mismatch`), and their
   * magic bytes must fit the declared content type (`upload_type_mismatch`; an image must also
   * decode). Refused bytes are deleted and the attachment stays pending, so the client may upload
   * again while its ticket lasts. An image gets a thumbnail. Processing twice changes nothing.
   */
  async processUpload(tenant: Tenant, id: string, individualId?: string): Promise<Attachment> {
    const acting = await this.#acting(this.#db, tenant.id, individualId, { pointer: '/individual-id' })
    const row = await this.#attachment(this.#db, tenant.id, id, acting, 'write', { pointer: '/individual-id' })
    if (acting) await this.#author(this.#db, tenant.id, row.message_id, acting, '/individual-id')
    if (row.removed) throw new ValidationError('attachment_removed', 'the attachment was removed', { pointer: '' })
    if (row.processed_at) return this.#present(tenant.id, row)
    const { size, thumbnailKey } = await this.#accept(tenant.id, row)
    const done = await this.#db.updateTable('msg_attachments')
      .set({ processed_at: sql`now()`, content_size: size, thumbnail_key: thumbnailKey, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).where('processed_at', 'is', null).where('removed', '=', false)
      .executeTakeFirst()
    // Another call processed (or removed) it meanwhile: its result stands, this thumbnail goes.
    if (Number(done.numUpdatedRows) === 0 && thumbnailKey) await this.#files.delete(tenant.id, thumbnailKey)
    return this.get(tenant, id, individualId)
  }

  /**
   * The processed attachments of messages (removed ones included), oldest first, for the messages'
   * `attachments` attribute; the visibility of the messages is their caller's.
   */
  async forMessages(db: Executor, tenantId: TenantId, messageIds: readonly string[], thumbnails: boolean): Promise<Map<string, MessageAttachment[]>> {
    const out = new Map<string, MessageAttachment[]>()
    if (messageIds.length === 0) return out
    const rows = await db.selectFrom('msg_attachments').selectAll().where('tenant_id', '=', tenantId).where('message_id', 'in', [...messageIds])
      .where('processed_at', 'is not', null).orderBy('created_at').orderBy('id').execute()
    for (const r of rows) {
      const a = this.#present(tenantId, r)
      const list = out.get(r.message_id) ?? []
      list.push({ id: a.id, contentSize: a.contentSize, contentType: a.contentType, filename: a.filename, removed: a.removed, thumbnail: thumbnails ? a.thumbnail : null })
      out.set(r.message_id, list)
    }
    return out
  }

  /**
   * The checks of process-upload (#32, #39) on stored bytes: there (`upload_missing`), not empty, of
   * the declared size and within the limit (`upload_size_mismatch`), fitting the declared type
   * (`upload_type_mismatch`; an image must decode). Refused bytes are deleted. An image gets a
   * thumbnail. Answers the size and the thumbnail's key.
   */
  async #accept(tenantId: TenantId, row: { file_key: string; declared_size: string | null; content_type: string }): Promise<{ size: number; thumbnailKey: string | null }> {
    const info = await this.#files.stat(tenantId, row.file_key)
    if (!info) throw new ValidationError('upload_missing', 'Nothing was uploaded for this attachment yet: send the file to the upload-url of its ticket first', { pointer: '' })
    const refuse = async (err: ValidationError) => {
      await this.#files.delete(tenantId, row.file_key)
      throw err
    }
    const max = this.#files.maxBytes
    const declared = row.declared_size === null ? undefined : Number(row.declared_size)
    if (info.size === 0 || info.size > max || (declared !== undefined && info.size !== declared)) {
      const want = declared !== undefined ? `${declared} bytes, as declared` : `from 1 to ${max} bytes`
      return refuse(new ValidationError('upload_size_mismatch', `The upload is ${info.size} bytes; it must be ${want}`, { pointer: '', size: info.size }))
    }
    const image = THUMBNAIL_TYPES.has(row.content_type)
    const bytes = await this.#files.readHead(tenantId, row.file_key, image ? max : SNIFF_BYTES)
    const fit = fitsDeclaredType(row.content_type, bytes.subarray(0, SNIFF_BYTES))
    if (!fit.ok) {
      const what = fit.detected ? `a ${fit.detected} file` : 'of no known type'
      return refuse(new ValidationError('upload_type_mismatch', `The uploaded bytes are ${what}, not ${row.content_type} as declared`, { pointer: '', ...(fit.detected ? { detected: fit.detected } : {}) }))
    }
    let thumbnailKey: string | null = null
    if (image) {
      const thumb = await this.#thumbnail(bytes)
      if (!thumb) return refuse(new ValidationError('upload_type_mismatch', `The uploaded bytes are not a readable ${row.content_type} image`, { pointer: '' }))
      thumbnailKey = (await this.#files.put(tenantId, { purpose: THUMBNAIL_PURPOSE, contentType: thumb.contentType, bytes: thumb.bytes })).key
    }
    return { size: info.size, thumbnailKey }
  }


  // Bulk attachments (#36–#39): the same two steps and checks, owned by a bulk message.

  /** #37: a pending attachment of a draft bulk message and its upload ticket. */
  async createForBulk(tenant: Tenant, input: CreateBulkAttachment): Promise<BulkAttachmentTicket> {
    const contentType = this.#contentType(input.contentType, input.contentSize)
    await this.#draftBulk(this.#db, tenant.id, input.bulkMessageId, { pointer: '/data/attributes/bulk-message-id' })
    const ticket = this.#files.createFormUpload(tenant.id, { purpose: FILE_PURPOSE, contentType, maxBytes: input.contentSize })
    const row = await this.#db.insertInto('msg_bulk_attachments').values({
      tenant_id: tenant.id, bulk_message_id: input.bulkMessageId, content_type: contentType, filename: input.filename ?? '',
      declared_size: input.contentSize ?? null, file_key: ticket.key, upload_expires_at: ticket.expiresAt,
    }).returningAll().executeTakeFirstOrThrow()
    return { ...this.#presentBulk(tenant.id, row), ticket: { url: ticket.url, fields: ticket.fields, expiresAt: ticket.expiresAt } }
  }

  /** #38: one bulk attachment, pending or not. */
  async getBulk(tenant: Tenant, id: string): Promise<BulkAttachment> {
    return this.#presentBulk(tenant.id, await this.#bulkAttachment(tenant.id, id))
  }

  /** #36: a bulk message's attachments, oldest first; pending ones only with `includePending`. */
  async listBulk(tenant: Tenant, q: { bulkMessageId: string; includePending: boolean; limit: number; offset: number }): Promise<{ items: BulkAttachment[]; total: number }> {
    await this.#bulk(this.#db, tenant.id, q.bulkMessageId, { parameter: 'bulk-message-id' })
    let query = this.#db.selectFrom('msg_bulk_attachments').where('tenant_id', '=', tenant.id).where('bulk_message_id', '=', q.bulkMessageId)
    if (!q.includePending) query = query.where('processed_at', 'is not', null)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map((r) => this.#presentBulk(tenant.id, r)), total: Number(total.n) }
  }

  /** #39: accept the uploaded bytes with the checks of #32, while the bulk message is a draft. */
  async processBulkUpload(tenant: Tenant, id: string): Promise<BulkAttachment> {
    const row = await this.#bulkAttachment(tenant.id, id)
    if (row.processed_at) return this.#presentBulk(tenant.id, row)
    await this.#draftBulk(this.#db, tenant.id, row.bulk_message_id, { pointer: '' })
    const { size, thumbnailKey } = await this.#accept(tenant.id, row)
    const done = await this.#db.updateTable('msg_bulk_attachments')
      .set({ processed_at: sql`now()`, content_size: size, thumbnail_key: thumbnailKey, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).where('processed_at', 'is', null).executeTakeFirst()
    if (Number(done.numUpdatedRows) === 0 && thumbnailKey) await this.#files.delete(tenant.id, thumbnailKey)
    return this.getBulk(tenant, id)
  }

  /**
   * Give a message the processed attachments of a bulk message, in the caller's transaction (the
   * post of the message): rows of its own that share the stored bytes and thumbnails.
   */
  async copyBulkToMessage(trx: Transaction<DB>, tenantId: TenantId, bulkMessageId: string, messageId: string, createdBy: string | null): Promise<number> {
    const r = await trx.insertInto('msg_attachments')
      .columns(['tenant_id', 'message_id', 'content_type', 'filename', 'declared_size', 'content_size', 'file_key', 'thumbnail_key', 'created_by', 'processed_at'])
      .expression((eb) => eb.selectFrom('msg_bulk_attachments').select([
        'tenant_id', sql<string>`${messageId}::uuid`.as('message_id'), 'content_type', 'filename', 'declared_size', 'content_size', 'file_key', 'thumbnail_key',
        sql<string | null>`${createdBy}::uuid`.as('created_by'), sql<Date>`now()`.as('processed_at'),
      ]).where('tenant_id', '=', tenantId).where('bulk_message_id', '=', bulkMessageId).where('processed_at', 'is not', null).orderBy('created_at').orderBy('id'))
      .executeTakeFirst()
    return Number(r.numInsertedOrUpdatedRows ?? 0)
  }

  /** `copyBulkToMessage` for many messages of one bulk message in one statement (each message's rows in the same order). */
  async copyBulkToMessages(trx: Transaction<DB>, tenantId: TenantId, bulkMessageId: string, messageIds: readonly string[], createdBy: string | null): Promise<number> {
    if (messageIds.length === 0) return 0
    const r = await sql`INSERT INTO msg_attachments (tenant_id, message_id, content_type, filename, declared_size, content_size, file_key, thumbnail_key, created_by, processed_at)
      SELECT b.tenant_id, m.id, b.content_type, b.filename, b.declared_size, b.content_size, b.file_key, b.thumbnail_key, ${createdBy}::uuid, now()
      FROM unnest(${messageIds}::uuid[]) WITH ORDINALITY AS m(id, n)
      CROSS JOIN msg_bulk_attachments b
      WHERE b.tenant_id = ${tenantId} AND b.bulk_message_id = ${bulkMessageId} AND b.processed_at IS NOT NULL
      ORDER BY m.n, b.created_at, b.id`.execute(trx)
    return Number(r.numAffectedRows ?? 0)
  }

  /**
   * Remove up to `limit` attachments and bulk attachments of every tenant whose upload never
   * completed: still pending `PENDING_UPLOAD_GRACE_MS` after their ticket expired at `now`. Their
   * rows go, then any bytes that were uploaded (unless a live attachment shares them). Processed
   * attachments are never touched. Answers how many rows went (the periodic job calls it until 0).
   */
  async prunePending(now: Date, limit = 500): Promise<number> {
    const cutoff = new Date(now.getTime() - PENDING_UPLOAD_GRACE_MS)
    const gone = await this.#db.transaction().execute(async (trx) => {
      const messages = await trx.deleteFrom('msg_attachments')
        .where('id', 'in', (eb) => eb.selectFrom('msg_attachments').select('id').where('processed_at', 'is', null).where('upload_expires_at', '<', cutoff)
          .orderBy('upload_expires_at').limit(limit).forUpdate().skipLocked())
        .where('processed_at', 'is', null).returning(['tenant_id', 'file_key']).execute()
      const bulk = await trx.deleteFrom('msg_bulk_attachments')
        .where('id', 'in', (eb) => eb.selectFrom('msg_bulk_attachments').select('id').where('processed_at', 'is', null).where('upload_expires_at', '<', cutoff)
          .orderBy('upload_expires_at').limit(limit).forUpdate().skipLocked())
        .where('processed_at', 'is', null).returning(['tenant_id', 'file_key']).execute()
      return [...messages, ...bulk]
    })
    // After the commit, as on removal: a failed delete leaves an unreachable file, never a row without bytes.
    for (const r of gone) if (!(await this.#shared(r.tenant_id, r.file_key))) await this.#files.delete(r.tenant_id, r.file_key)
    return gone.length
  }

  /** A normalised media type and a checked declared size (#29, #37). */
  #contentType(declared: string, contentSize: number | undefined): string {
    const contentType = normalizeMediaType(declared)
    if (!contentType) throw new ValidationError('invalid_content_type', `content-type ${JSON.stringify(declared.slice(0, 100))} is not a media type like image/png`, { pointer: '/data/attributes/content-type' })
    const max = this.#files.maxBytes
    if (contentSize !== undefined && (!Number.isSafeInteger(contentSize) || contentSize < 1 || contentSize > max)) {
      throw new ValidationError('upload_size_mismatch', `content-size must be from 1 to ${max} bytes`, { pointer: '/data/attributes/content-size' })
    }
    return contentType
  }

  /** The tenant's bulk message (NotFoundError at `where` otherwise). */
  async #bulk(db: Executor, tenantId: TenantId, id: string, where: Where): Promise<{ id: string; state: string }> {
    const row = await db.selectFrom('msg_bulk_messages').select(['id', 'state']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-bulk-messages with id ${id}`, { type: 'messaging-bulk-messages', id, ...where })
    return row
  }

  /** The bulk message, which must still be a draft: its files are fixed once it is posted. */
  async #draftBulk(db: Executor, tenantId: TenantId, id: string, where: Where): Promise<void> {
    const row = await this.#bulk(db, tenantId, id, where)
    if (row.state !== 'draft') throw new ValidationError('bulk_message_posted', 'files are attached to a bulk message while it is a draft; this one is posted', { pointer: where.pointer ?? '' })
  }

  async #bulkAttachment(tenantId: TenantId, id: string): Promise<Selectable<DB['msg_bulk_attachments']>> {
    const row = await this.#db.selectFrom('msg_bulk_attachments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-bulk-attachments with id ${id}`, { type: 'messaging-bulk-attachments', id })
    return row
  }

  #presentBulk(tenantId: TenantId, r: Selectable<DB['msg_bulk_attachments']>): BulkAttachment {
    const pending = r.processed_at === null
    return {
      id: r.id, bulkMessageId: r.bulk_message_id, contentType: r.content_type, filename: r.filename, contentSize: Number(r.content_size),
      createdAt: r.created_at, pending,
      url: pending ? null : this.#files.signedDownload(tenantId, r.file_key).url,
      thumbnail: !pending && r.thumbnail_key ? this.#files.signedDownload(tenantId, r.thumbnail_key).url : null,
    }
  }

  /** Whether a live attachment (of a message or a bulk message) still uses the stored file `key`. */
  async #shared(tenantId: TenantId, key: string): Promise<boolean> {
    const used = await this.#db.selectFrom('msg_attachments').select('id').where('tenant_id', '=', tenantId).where('removed', '=', false)
      .where((eb) => eb.or([eb('file_key', '=', key), eb('thumbnail_key', '=', key)]))
      .union(this.#db.selectFrom('msg_bulk_attachments').select('id').where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('file_key', '=', key), eb('thumbnail_key', '=', key)])))
      .executeTakeFirst()
    return used !== undefined
  }

  async #acting(db: Executor, tenantId: TenantId, individualId: string | undefined, where: Where): Promise<Person | undefined> {
    return individualId ? this.#channels.individual(db, tenantId, individualId, where) : undefined
  }

  /**
   * The message, seen by `acting` (or the organisation): a draft only by its author, and only by a
   * subscriber of its channel. `hide`: a non-subscriber gets the 404 of the message (reads);
   * otherwise ForbiddenError `not_a_subscriber` at the acting individual (writes).
   */
  async #message(db: Executor, tenantId: TenantId, id: string, acting: Person | undefined, where: Where, mode: 'hide' | 'write' = 'write') {
    const row = await db.selectFrom('msg_messages').select(['id', 'channel_id', 'author_id', 'draft']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    const missing = () => new NotFoundError('resource_not_found', `No messaging-messages with id ${id}`, { type: 'messaging-messages', id, ...where })
    if (!row || (row.draft && row.author_id !== (acting?.id ?? null))) throw missing()
    if (acting && !(await this.#subscribes(db, tenantId, row.channel_id, acting))) {
      if (mode === 'hide') throw missing()
      throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to the channel of this message', where.pointer !== undefined ? { pointer: '/data/attributes/individual-id' } : { parameter: 'individual-id' })
    }
    return row
  }

  /** The attachment by id, as `acting` sees it (404 when not the tenant's or not visible to them). */
  async #attachment(db: Executor, tenantId: TenantId, id: string, acting: Person | undefined, mode: 'hide' | 'write' = 'hide', actingWhere: Where = { parameter: 'individual-id' }): Promise<AttachmentRow> {
    const missing = () => new NotFoundError('resource_not_found', `No messaging-attachments with id ${id}`, { type: 'messaging-attachments', id })
    const row = await db.selectFrom('msg_attachments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw missing()
    const message = await db.selectFrom('msg_messages').select(['channel_id', 'author_id', 'draft']).where('tenant_id', '=', tenantId).where('id', '=', row.message_id).executeTakeFirstOrThrow()
    if (message.draft && message.author_id !== (acting?.id ?? null)) throw missing()
    if (acting && !(await this.#subscribes(db, tenantId, message.channel_id, acting))) {
      if (mode === 'hide') throw missing()
      throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to the channel of this attachment', actingWhere)
    }
    return row
  }

  /** ForbiddenError `not_the_author` unless `acting` wrote the message. */
  async #author(db: Executor, tenantId: TenantId, messageId: string, acting: Person, pointer = '/data/attributes/individual-id'): Promise<void> {
    const m = await db.selectFrom('msg_messages').select('author_id').where('tenant_id', '=', tenantId).where('id', '=', messageId).executeTakeFirstOrThrow()
    if (m.author_id !== acting.id) throw new ForbiddenError('not_the_author', 'only the author of the message changes its attachments', { pointer })
  }

  async #subscribes(db: Executor, tenantId: TenantId, channelId: string, who: Person): Promise<boolean> {
    const row = await db.selectFrom('msg_channel_subscribers').select('individual_id')
      .where('tenant_id', '=', tenantId).where('channel_id', '=', channelId).where('individual_id', '=', who.id).executeTakeFirst()
    return row !== undefined
  }

  #present(tenantId: TenantId, r: AttachmentRow): Attachment {
    const pending = r.processed_at === null
    const live = !pending && !r.removed
    return {
      id: r.id, messageId: r.message_id, contentType: r.content_type, filename: r.filename, contentSize: Number(r.content_size),
      createdAt: r.created_at, removed: r.removed, pending,
      url: live ? this.#files.signedDownload(tenantId, r.file_key).url : null,
      thumbnail: live && r.thumbnail_key ? this.#files.signedDownload(tenantId, r.thumbnail_key).url : null,
    }
  }
}
