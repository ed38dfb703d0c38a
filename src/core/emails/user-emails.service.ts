import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { DeliveryService, OutboxStatus, SendMessageInput, StoredFileRef } from '../delivery/index.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import { fitsDeclaredType, normalizeMediaType, SNIFF_BYTES, type FilesService } from '../files/index.ts'
import type { DirectoryViewer } from '../messaging/directory.service.ts'
import { PENDING_UPLOAD_GRACE_MS } from '../messaging/index.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'

type Executor = Kysely<DB> | Transaction<DB>
type EmailRow = Selectable<DB['user_emails']>
type AttachmentRow = Selectable<DB['user_email_attachments']>
type Where = { pointer?: string; parameter?: string }

/** Recipients one email has at most. */
export const MAX_RECIPIENTS = 10
/** Files one email carries at most (the SMTP adapter's limit). */
export const MAX_EMAIL_ATTACHMENTS = 10
/** The longest subject (the outbox's). */
export const MAX_SUBJECT = 500
/** The longest plain body (the outbox's). */
export const MAX_MESSAGE = 20_000
/** The longest HTML body: it travels in the outbox message's data, which holds 16 KB of JSON. */
export const MAX_MESSAGE_HTML = 10_000
/** Bytes of JSON the HTML body and the file list may take in an outbox message's data (its limit). */
const MAX_DATA_BYTES = 16_384

/** The file store's key purpose of an email attachment's bytes. */
const FILE_PURPOSE = 'user-email-attachment'
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/**
 * Where an email is: `draft` until sent; then `queued` while any recipient's message is still on
 * its way to the provider, `sent` once every one went out (a suppressed recipient aside), `failed`
 * when the provider refused one (or gave up), `suppressed` when every recipient is on the
 * suppression list.
 */
export type UserEmailStatus = 'draft' | 'queued' | 'sent' | 'failed' | 'suppressed'

/** A user email (#125–#128). */
export interface UserEmail {
  readonly id: string
  /** The individual's id (the Cass person id). */
  readonly individualId: string
  readonly senderOrganizationId: string
  /** The organisation's id (API key) or the care-team user's (user token) that created it. */
  readonly createdBy: string
  /** The care-team user of the individual, if one is linked to them. */
  readonly userId: string | null
  readonly to: readonly string[]
  readonly subject: string
  readonly message: string
  readonly messageHtml: string
  readonly status: UserEmailStatus
  /** The send's id (its outbox messages' idempotency keys start `user-email:<task id>:`); null while a draft. */
  readonly taskId: string | null
  /** Each recipient's outcome, `address: outcome` joined by `; ` (empty while a draft). */
  readonly result: string
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface CreateUserEmail {
  readonly individualId: string
  readonly senderOrganizationId?: string | undefined
  /** One address or several; absent: the individual's own e-mail address. */
  readonly to?: string | readonly string[] | undefined
  readonly subject: string
  readonly message?: string | undefined
  readonly messageHtml?: string | undefined
  readonly autoSend?: boolean | undefined
}

/** A file of a user email (#121–#124). */
export interface UserEmailAttachment {
  readonly id: string
  readonly emailId: string
  readonly contentType: string
  readonly filename: string
  /** The stored size once processed; 0 while pending. */
  readonly size: number
  readonly readyToUse: boolean
  readonly createdAt: Date
  /** A signed, expiring download URL, when asked for (`with-link`) and the file is ready; else null. */
  readonly downloadLink: string | null
}

/** A new attachment and where its bytes go (#122). */
export interface UserEmailAttachmentTicket extends UserEmailAttachment {
  readonly ticket: { readonly url: string; readonly fields: Readonly<Record<string, string>>; readonly expiresAt: Date }
}

const at = (member: string): Where => ({ pointer: `/data/attributes/${member}` })
const invalid = (why: string, where: Where) => new ValidationError('invalid_user_email', why, where)
const emailNotFound = (id: string, where: Where = {}) => new NotFoundError('resource_not_found', `No user-emails with id ${id}`, { type: 'user-emails', id, ...where })
const attachmentNotFound = (id: string) => new NotFoundError('resource_not_found', `No user-email-attachments with id ${id}`, { type: 'user-email-attachments', id })
const hasNul = (text: string) => text.includes('\u0000')

/** One recipient's outbox message as the email reads it. */
interface Delivery {
  readonly status: OutboxStatus
  readonly lastError: string | null
  readonly suppressedReason: string | null
  readonly updatedAt: Date
}

/**
 * User emails: e-mails an organisation sends about an individual, with a plain and an HTML body
 * and files, sent through the delivery pipeline on the tenant's e-mail provider (the sandbox by
 * default, SMTP when configured): one outbox message per recipient, written in the transaction that
 * sends the email, so the suppression list, retries and the provider's outcome are delivery's. The
 * email's `status` and `result` are read from those messages. Attachments are uploaded with a
 * ticket to core's file store and processed (type and size checked) before the email is sent; the
 * ready ones go out with it. The organisation key sees every email of the tenant; a user token
 * only those about its own individual.
 */
export class UserEmailsService {
  readonly #db: Kysely<DB>
  readonly #delivery: DeliveryService
  readonly #files: FilesService
  readonly #people: PeopleLookups
  readonly #orgs: Organizations

  constructor(deps: { db: Kysely<DB>; delivery: DeliveryService; files: FilesService; peopleLookups: PeopleLookups; organizations: Organizations }) {
    this.#db = deps.db
    this.#delivery = deps.delivery
    this.#files = deps.files
    this.#people = deps.peopleLookups
    this.#orgs = deps.organizations
  }

  /** #126: a draft, or with `autoSend` an email sent at once. */
  async create(tenant: Tenant, input: CreateUserEmail, viewer: DirectoryViewer): Promise<UserEmail> {
    const subject = input.subject.trim()
    if (subject.length === 0 || input.subject.length > MAX_SUBJECT || hasNul(input.subject)) throw invalid(`subject must be 1 to ${MAX_SUBJECT} characters`, at('subject'))
    const message = input.message ?? ''
    const html = input.messageHtml ?? ''
    if (message.length > MAX_MESSAGE || hasNul(message)) throw invalid(`message must be at most ${MAX_MESSAGE} characters`, at('message'))
    if (html.length > MAX_MESSAGE_HTML || hasNul(html)) throw invalid(`message-html must be at most ${MAX_MESSAGE_HTML} characters`, at('message-html'))
    if (message.trim() === '' && htmlText(html) === '') throw invalid('an email needs a body: message, message-html or both', at('message'))
    if (Buffer.byteLength(JSON.stringify({ html })) > MAX_DATA_BYTES / 2) throw invalid('message-html is too long once encoded (at most 8 KB of JSON)', at('message-html'))
    const person = await this.#people.findByCassId(this.#db, tenant.id, input.individualId)
    if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${input.individualId}`, { type: 'individuals', id: input.individualId, ...at('individual-id') })
    const creator = viewer.kind === 'user' ? viewer.userId : tenant.id
    if (viewer.kind === 'user' && (await this.#ownPerson(tenant.id, viewer)) !== person.id) {
      throw new ForbiddenError('not_your_individual', 'a user token sends emails about its own individual only', at('individual-id'))
    }
    const org = await this.#orgs.find(tenant, input.senderOrganizationId ?? tenant.id, at('sender-organization-id'))
    const to = input.to === undefined ? await this.#ownAddress(tenant.id, person.id) : recipients(input.to)
    const id = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('user_emails').values({
        tenant_id: tenant.id, person_id: person.id, sender_organization_id: org.id, created_by: creator, recipients: to, subject: input.subject, message, message_html: html,
      }).returningAll().executeTakeFirstOrThrow()
      if (input.autoSend === true) await this.#send(trx, tenant, row)
      return row.id
    })
    if (input.autoSend === true) this.#delivery.wake()
    return this.get(tenant, id, viewer)
  }

  /** #127: one email. */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<UserEmail> {
    const row = await this.#email(this.#db, tenant.id, id, viewer)
    return (await this.#present(tenant.id, [row]))[0]!
  }

  /** #125: the emails about an individual, oldest first. */
  async list(tenant: Tenant, q: { individualId: string; limit: number; offset: number }, viewer: DirectoryViewer): Promise<{ items: UserEmail[]; total: number }> {
    const person = await this.#people.findByCassId(this.#db, tenant.id, q.individualId)
    if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${q.individualId}`, { type: 'individuals', id: q.individualId, parameter: 'individual-id' })
    if (viewer.kind === 'user' && (await this.#ownPerson(tenant.id, viewer)) !== person.id) {
      throw new ForbiddenError('not_your_individual', 'a user token lists the emails of its own individual only', { parameter: 'individual-id' })
    }
    const query = this.#db.selectFrom('user_emails').where('tenant_id', '=', tenant.id).where('person_id', '=', person.id)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: await this.#present(tenant.id, rows), total: Number(total.n) }
  }

  /** #128: send a draft. ValidationError `user_email_sent` when it was sent already. */
  async send(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<UserEmail> {
    await this.#email(this.#db, tenant.id, id, viewer)
    await this.#db.transaction().execute(async (trx) => {
      // The row lock makes two sends of one draft take turns: the second finds it sent.
      const row = await trx.selectFrom('user_emails').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).forUpdate().executeTakeFirstOrThrow()
      if (row.task_id !== null) throw new ValidationError('user_email_sent', 'this email was sent already', { pointer: '' })
      await this.#send(trx, tenant, row)
    })
    this.#delivery.wake()
    return this.get(tenant, id, viewer)
  }

  // --- attachments (#121–#124) ---

  /** #122: a pending attachment of a draft and its upload ticket. */
  async createAttachment(tenant: Tenant, input: { emailId: string; contentType: string; filename?: string | undefined }, viewer: DirectoryViewer): Promise<UserEmailAttachmentTicket> {
    const contentType = normalizeMediaType(input.contentType)
    if (!contentType) throw new ValidationError('invalid_content_type', `content-type ${JSON.stringify(input.contentType.slice(0, 100))} is not a media type like application/pdf`, at('content-type'))
    const filename = input.filename ?? ''
    if (filename.length > 255 || hasNul(filename) || /[\r\n/\\]/.test(filename)) throw invalid('filename must be at most 255 characters, without line breaks or slashes', at('filename'))
    return this.#db.transaction().execute(async (trx) => {
      const email = await this.#email(trx, tenant.id, input.emailId, viewer, at('email-id'), true)
      if (email.task_id !== null) throw new ValidationError('user_email_sent', 'files are attached to an email before it is sent; this one was sent', at('email-id'))
      const count = await trx.selectFrom('user_email_attachments').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).where('email_id', '=', email.id).executeTakeFirstOrThrow()
      if (Number(count.n) >= MAX_EMAIL_ATTACHMENTS) throw invalid(`an email carries at most ${MAX_EMAIL_ATTACHMENTS} files`, at('email-id'))
      const ticket = this.#files.createFormUpload(tenant.id, { purpose: FILE_PURPOSE, contentType })
      const row = await trx.insertInto('user_email_attachments').values({
        tenant_id: tenant.id, email_id: email.id, content_type: contentType, filename, file_key: ticket.key, upload_expires_at: ticket.expiresAt,
      }).returningAll().executeTakeFirstOrThrow()
      return { ...this.#presentAttachment(tenant.id, row, false), ticket: { url: ticket.url, fields: ticket.fields, expiresAt: ticket.expiresAt } }
    })
  }

  /** #123: one attachment; `withLink` adds its download URL (once ready). */
  async getAttachment(tenant: Tenant, id: string, withLink: boolean, viewer: DirectoryViewer): Promise<UserEmailAttachment> {
    return this.#presentAttachment(tenant.id, await this.#attachment(tenant.id, id, viewer), withLink)
  }

  /** #121: an email's attachments, oldest first (pending ones too, `ready-to-use: false`). */
  async listAttachments(tenant: Tenant, q: { emailId: string; limit: number; offset: number }, viewer: DirectoryViewer): Promise<{ items: UserEmailAttachment[]; total: number }> {
    await this.#email(this.#db, tenant.id, q.emailId, viewer, { parameter: 'email-id' })
    const query = this.#db.selectFrom('user_email_attachments').where('tenant_id', '=', tenant.id).where('email_id', '=', q.emailId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map((r) => this.#presentAttachment(tenant.id, r, false)), total: Number(total.n) }
  }

  /**
   * #124: accept the uploaded bytes: there (`upload_missing`), not empty and within the limit
   * (`upload_size_mismatch`), fitting the declared type by their magic bytes (`upload_type_mismatch`).
   * Refused bytes are deleted and the attachment stays pending. Processing twice changes nothing;
   * a pending attachment of an email sent meanwhile is refused (`user_email_sent`).
   */
  async processUpload(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<UserEmailAttachment> {
    const row = await this.#attachment(tenant.id, id, viewer)
    if (row.processed_at) return this.#presentAttachment(tenant.id, row, false)
    const email = await this.#db.selectFrom('user_emails').select('task_id').where('tenant_id', '=', tenant.id).where('id', '=', row.email_id).executeTakeFirstOrThrow()
    if (email.task_id !== null) throw new ValidationError('user_email_sent', 'the email was sent without this file', { pointer: '' })
    const info = await this.#files.stat(tenant.id, row.file_key)
    if (!info) throw new ValidationError('upload_missing', 'Nothing was uploaded for this attachment yet: send the file to the upload-url of its ticket first', { pointer: '' })
    const refuse = async (err: ValidationError): Promise<never> => {
      await this.#files.delete(tenant.id, row.file_key)
      throw err
    }
    const max = this.#files.maxBytes
    if (info.size === 0 || info.size > max) await refuse(new ValidationError('upload_size_mismatch', `The upload is ${info.size} bytes; it must be from 1 to ${max} bytes`, { pointer: '', size: info.size }))
    const head = await this.#files.readHead(tenant.id, row.file_key, SNIFF_BYTES)
    const fit = fitsDeclaredType(row.content_type, head)
    if (!fit.ok) {
      const what = fit.detected ? `a ${fit.detected} file` : 'of no known type'
      await refuse(new ValidationError('upload_type_mismatch', `The uploaded bytes are ${what}, not ${row.content_type} as declared`, { pointer: '', ...(fit.detected ? { detected: fit.detected } : {}) }))
    }
    await this.#db.transaction().execute(async (trx) => {
      // A send of the email takes its row FOR UPDATE: this waits for it, and then finds it sent
      // (the file did not go with it, so it may not look ready to go).
      const current = await trx.selectFrom('user_emails').select('task_id').where('tenant_id', '=', tenant.id).where('id', '=', row.email_id).forShare().executeTakeFirstOrThrow()
      if (current.task_id !== null) throw new ValidationError('user_email_sent', 'the email was sent without this file', { pointer: '' })
      await trx.updateTable('user_email_attachments').set({ processed_at: sql`now()`, content_size: info.size })
        .where('tenant_id', '=', tenant.id).where('id', '=', id).where('processed_at', 'is', null).execute()
    })
    return this.getAttachment(tenant, id, false, viewer)
  }

  /**
   * Remove up to `limit` attachments of every tenant whose upload never completed: still pending
   * `PENDING_UPLOAD_GRACE_MS` after their ticket expired at `now` (as messaging attachments). Their
   * rows go, then any bytes that were uploaded. Answers how many went (the job calls it until 0).
   */
  async prunePending(now: Date, limit = 500): Promise<number> {
    const cutoff = new Date(now.getTime() - PENDING_UPLOAD_GRACE_MS)
    const gone = await this.#db.deleteFrom('user_email_attachments')
      .where('id', 'in', (eb) => eb.selectFrom('user_email_attachments').select('id').where('processed_at', 'is', null).where('upload_expires_at', '<', cutoff)
        .orderBy('upload_expires_at').limit(limit).forUpdate().skipLocked())
      .where('processed_at', 'is', null).returning(['tenant_id', 'file_key']).execute()
    // After the commit: a failed delete leaves an unreachable file, never a row without bytes.
    for (const r of gone) await this.#files.delete(r.tenant_id, r.file_key)
    return gone.length
  }

  // --- internals ---

  /**
   * Send `row` in `trx`: one outbox message per recipient (the HTML body and the ready files in its
   * data), the task id and the messages recorded on the email. Pending attachments stay behind.
   */
  async #send(trx: Transaction<DB>, tenant: Tenant, row: EmailRow): Promise<void> {
    const files = await trx.selectFrom('user_email_attachments').selectAll().where('tenant_id', '=', tenant.id).where('email_id', '=', row.id)
      .where('processed_at', 'is not', null).orderBy('created_at').orderBy('id').execute()
    const refs: StoredFileRef[] = files.map((f, i) => ({ key: f.file_key, filename: f.filename || `attachment-${i + 1}`, contentType: f.content_type }))
    const taskId = randomUUID()
    const body = row.message.trim() !== '' ? row.message : htmlText(row.message_html)
    const data = { ...(row.message_html !== '' ? { html: row.message_html } : {}), ...(refs.length > 0 ? { files: refs } : {}), userEmailId: row.id }
    const inputs: SendMessageInput[] = row.recipients.map((to, i) => ({
      channel: 'email', to, subject: row.subject, body, data, personId: row.person_id, idempotencyKey: `user-email:${taskId}:${i}`,
    }))
    const sent = await this.#delivery.sendMany(tenant, inputs, { trx })
    await trx.updateTable('user_emails').set({ task_id: taskId, outbox_ids: sent.map((s) => s.message.id), sent_at: sql`now()`, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', row.id).execute()
  }

  /** The individual's own e-mail address as the only recipient; `invalid_user_email` when they have none. */
  async #ownAddress(tenantId: TenantId, personId: string): Promise<string[]> {
    const address = (await this.#people.addressesOf(this.#db, tenantId, personId)).find((a) => a.includes('@'))
    if (!address) throw invalid('the individual has no e-mail address on record: give to', at('to'))
    return [address]
  }

  /**
   * The email by id as the viewer sees it: a user token only those about its own individual (404
   * for any other). `where`: the 404's source when the id came as a reference (`email-id`).
   */
  async #email(db: Executor, tenantId: TenantId, id: string, viewer: DirectoryViewer, where: Where = {}, lock = false): Promise<EmailRow> {
    let query = db.selectFrom('user_emails').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id)
    if (lock) query = query.forUpdate()
    const row = await query.executeTakeFirst()
    if (!row) throw emailNotFound(id, where)
    if (viewer.kind === 'user' && (await this.#ownPerson(tenantId, viewer).catch(() => undefined)) !== row.person_id) throw emailNotFound(id, where)
    return row
  }

  async #attachment(tenantId: TenantId, id: string, viewer: DirectoryViewer): Promise<AttachmentRow> {
    const row = await this.#db.selectFrom('user_email_attachments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw attachmentNotFound(id)
    try {
      await this.#email(this.#db, tenantId, row.email_id, viewer)
    } catch (err) {
      if (err instanceof NotFoundError) throw attachmentNotFound(id)
      throw err
    }
    return row
  }

  /** A user token's own individual (person id); ForbiddenError `user_without_individual` when it has none. */
  async #ownPerson(tenantId: TenantId, viewer: Extract<DirectoryViewer, { kind: 'user' }>): Promise<string> {
    const u = await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenantId).where('id', '=', viewer.userId).executeTakeFirst()
    if (!u?.person_id) throw new ForbiddenError('user_without_individual', 'this user has no individual of its own')
    return u.person_id
  }

  async #present(tenantId: TenantId, rows: readonly EmailRow[]): Promise<UserEmail[]> {
    if (rows.length === 0) return []
    const people = await this.#people.findMany(this.#db, tenantId, [...new Set(rows.map((r) => r.person_id))])
    const users = await this.#db.selectFrom('msg_users').select(['id', 'person_id']).where('tenant_id', '=', tenantId)
      .where('person_id', 'in', [...new Set(rows.map((r) => r.person_id))]).orderBy('created_at').execute()
    const userOf = new Map<string, string>()
    for (const u of users) if (u.person_id && !userOf.has(u.person_id)) userOf.set(u.person_id, u.id)
    const outboxIds = rows.flatMap((r) => r.outbox_ids ?? [])
    const deliveries = new Map<string, Delivery>()
    if (outboxIds.length > 0) {
      const found = await this.#db.selectFrom('outbox_messages').select(['id', 'status', 'last_error', 'suppressed_reason', 'updated_at'])
        .where('tenant_id', '=', tenantId).where('id', 'in', outboxIds).execute()
      for (const o of found) deliveries.set(o.id, { status: o.status as OutboxStatus, lastError: o.last_error, suppressedReason: o.suppressed_reason, updatedAt: o.updated_at })
    }
    return rows.map((r) => {
      const outcome = r.outbox_ids ? summarize(r.recipients, r.outbox_ids.map((id) => deliveries.get(id))) : { status: 'draft' as const, result: '', updatedAt: undefined }
      const lastModifiedAt = outcome.updatedAt && outcome.updatedAt > r.last_modified_at ? outcome.updatedAt : r.last_modified_at
      return {
        id: r.id, individualId: people.get(r.person_id)?.cassId ?? '', senderOrganizationId: r.sender_organization_id, createdBy: r.created_by,
        userId: userOf.get(r.person_id) ?? null, to: r.recipients, subject: r.subject, message: r.message, messageHtml: r.message_html,
        status: outcome.status, taskId: r.task_id, result: outcome.result, createdAt: r.created_at, lastModifiedAt,
      }
    })
  }

  #presentAttachment(tenantId: TenantId, r: AttachmentRow, withLink: boolean): UserEmailAttachment {
    const ready = r.processed_at !== null
    return {
      id: r.id, emailId: r.email_id, contentType: r.content_type, filename: r.filename, size: Number(r.content_size), readyToUse: ready, createdAt: r.created_at,
      downloadLink: ready && withLink ? this.#files.signedDownload(tenantId, r.file_key).url : null,
    }
  }
}

/** The recipients given: one address or several, checked, duplicates (in any case) once. */
function recipients(raw: string | readonly string[]): string[] {
  const list = typeof raw === 'string' ? [raw] : [...raw]
  if (list.length === 0 || list.length > MAX_RECIPIENTS) throw invalid(`to is one e-mail address or a list of 1 to ${MAX_RECIPIENTS}`, at('to'))
  const out: string[] = []
  const seen = new Set<string>()
  for (const a of list) {
    const address = a.trim()
    if (!EMAIL.test(address) || address.length > 320 || hasNul(address)) throw invalid(`${JSON.stringify(a.slice(0, 100))} is not an e-mail address`, at('to'))
    if (seen.has(address.toLowerCase())) continue
    seen.add(address.toLowerCase())
    out.push(address)
  }
  return out
}

/** The text of an HTML body, for the plain part when only HTML was given. */
function htmlText(html: string): string {
  return html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim()
}

/** An email's status and result from its recipients' messages (see UserEmailStatus). */
function summarize(to: readonly string[], deliveries: ReadonlyArray<Delivery | undefined>): { status: UserEmailStatus; result: string; updatedAt: Date | undefined } {
  const parts: string[] = []
  let pending = false
  let failed = false
  let suppressed = 0
  let updatedAt: Date | undefined
  deliveries.forEach((d, i) => {
    const address = to[i] ?? ''
    if (!d) {
      parts.push(`${address}: no delivery record`)
      failed = true
      return
    }
    if (!updatedAt || d.updatedAt > updatedAt) updatedAt = d.updatedAt
    switch (d.status) {
      case 'queued':
      case 'sending':
        pending = true
        parts.push(`${address}: queued${d.lastError ? ` (last attempt: ${d.lastError})` : ''}`)
        break
      case 'sent':
      case 'delivered':
        parts.push(`${address}: ${d.status}`)
        break
      case 'suppressed':
        suppressed++
        parts.push(`${address}: suppressed (${d.suppressedReason ?? 'suppression list'})`)
        break
      default:
        failed = true
        parts.push(`${address}: failed${d.lastError ? ` (${d.lastError})` : ''}`)
    }
  })
  const status: UserEmailStatus = pending ? 'queued' : failed ? 'failed' : suppressed === deliveries.length ? 'suppressed' : 'sent'
  return { status, result: parts.join('; '), updatedAt }
}
