import { Type } from 'typebox'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { readCsv } from '../../lib/csv.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import { dncPhoneOf, type DncService } from '../suppression/index.ts'
import { initialStatus, isEditable } from './campaign-contact.machine.ts'
import { nextNums } from './setup.repository.ts'

/** Payload of `cc.campaign_import`: which import (K3) of which tenant to run. */
export const CampaignImportPayload = Type.Object({ tenantId: TenantIdSchema, jobNum: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
/** The import of a campaign contact file (K3); handler in src/jobs/campaign-import.job.ts. */
export const CAMPAIGN_IMPORT_JOB = { name: 'cc.campaign_import', payload: CampaignImportPayload } as const satisfies JobType

/** Rows written per transaction by an import: round trips amortised, memory flat. */
export const CAMPAIGN_IMPORT_BATCH = 1000
/** Largest contact file K3 takes (about 500,000 contacts of CSV). */
export const MAX_CAMPAIGN_IMPORT_BYTES = 32 * 1024 * 1024
/** Per-row errors an import keeps (failed_rows counts them all). */
export const MAX_IMPORT_ERRORS = 1000

/** A campaign as the setup file declared it. */
export interface Campaign {
  readonly id: string
  readonly num: number
  readonly name: string
  readonly callerId: string
  readonly mode: 'preview' | 'progressive' | 'predictive'
}

/** One contact of a campaign (§3.8). */
export interface CampaignContact {
  readonly num: number
  readonly campaignNum: number
  readonly name: string
  readonly email: string | null
  readonly phone: string
  readonly outboundNumber: string | null
  readonly uniqueId: string | null
  readonly priority: number | null
  readonly status: string
  readonly assignedCallId: number | null
  readonly assignedParticipantId: number | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** An import of a contact file (K3-K5). */
export interface CampaignImport {
  readonly num: number
  readonly campaignNum: number
  readonly status: 'created' | 'in_progress' | 'finished' | 'failed'
  readonly filename: string
  readonly totalRows: number
  readonly importedRows: number
  readonly failedRows: number
  readonly errors: ReadonlyArray<{ row: number; message: string }>
  readonly createdAt: Date
  readonly finishedAt: Date | null
}

/** A contact's fields as given (K1, a file row), checked by `checkContact`. */
export interface ContactInput {
  readonly name?: string | undefined
  readonly email?: string | null | undefined
  readonly phone?: string | undefined
  readonly outboundNumber?: string | null | undefined
  readonly uniqueId?: string | null | undefined
}

type Executor = Kysely<DB> | Transaction<DB>

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined)
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/

/**
 * A contact's fields read from a request body or a file row (JSON object, or CSV by column name):
 * the name, `phone_number` (`phone` also taken), email, `outbound_number`, `external_unique_id`.
 * Undefined fields were not given. Throws ValidationError `campaign_contact_invalid` naming the field.
 */
export function readContact(raw: Record<string, unknown>): ContactInput {
  const bad = (field: string): never => {
    throw new ValidationError('campaign_contact_invalid', `${field} is invalid`, { field })
  }
  const out: { -readonly [K in keyof ContactInput]: ContactInput[K] } = {}
  const phoneRaw = raw.phone_number ?? raw.phone
  if (phoneRaw !== undefined && phoneRaw !== null && phoneRaw !== '') {
    const t = text(phoneRaw)
    out.phone = (t !== undefined && t.length <= 40 ? dncPhoneOf(t) : undefined) ?? bad('phone_number')
  }
  if (raw.name !== undefined && raw.name !== null) {
    const t = text(raw.name)
    if (t === undefined || t.length > 255) bad('name')
    out.name = t!.trim()
  }
  if (raw.email !== undefined) {
    const t = raw.email === null || raw.email === '' ? null : text(raw.email)
    if (t === undefined || (t !== null && !EMAIL.test(t.trim()))) bad('email')
    out.email = t === null ? null : t!.trim()
  }
  if (raw.outbound_number !== undefined) {
    const t = raw.outbound_number === null || raw.outbound_number === '' ? null : text(raw.outbound_number)
    const phone = t === null ? null : t !== undefined && t.length <= 40 ? dncPhoneOf(t) : undefined
    out.outboundNumber = phone === undefined ? bad('outbound_number') : phone
  }
  if (raw.external_unique_id !== undefined) {
    const t = raw.external_unique_id === null || raw.external_unique_id === '' ? null : text(raw.external_unique_id)
    if (t === undefined || (t !== null && t.length > 255)) bad('external_unique_id')
    out.uniqueId = t
  }
  return out
}

function toContact(r: Record<string, unknown>, campaignNum: number): CampaignContact {
  return {
    num: Number(r.num), campaignNum, name: r.name as string, email: r.email as string | null, phone: r.phone as string,
    outboundNumber: r.outbound_number as string | null, uniqueId: r.unique_id as string | null, priority: r.priority as number | null,
    status: r.status as string, assignedCallId: r.assigned_call_id as number | null, assignedParticipantId: r.assigned_participant_id as number | null,
    createdAt: r.created_at as Date, updatedAt: r.updated_at as Date,
  }
}

function toImport(r: DbImport, campaignNum: number): CampaignImport {
  return {
    num: r.num, campaignNum, status: r.status, filename: r.filename, totalRows: r.total_rows, importedRows: r.imported_rows,
    failedRows: r.failed_rows, errors: r.errors, createdAt: r.created_at, finishedAt: r.finished_at,
  }
}
type DbImport = {
  num: number; status: CampaignImport['status']; filename: string; total_rows: number; imported_rows: number; failed_rows: number
  errors: Array<{ row: number; message: string }>; created_at: Date; finished_at: Date | null
}
const IMPORT_COLUMNS = ['num', 'status', 'filename', 'total_rows', 'imported_rows', 'failed_rows', 'errors', 'created_at', 'finished_at'] as const

/** One row of a file: its number (1-based, header excluded) and its fields. */
interface FileRow { readonly row: number; readonly fields: Record<string, unknown> | undefined }

/**
 * Outbound campaigns' contacts (Apps API K1-K7): a campaign is declared in the setup file; its
 * contacts are added one by one or imported from a JSON or CSV file by a job, start `Upcoming`, or
 * `Do Not Call` when the company DNC list holds the number (§4.3). No dialling yet.
 */
export class CampaignsService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #dnc: DncService
  #onContacts: ((tenantId: TenantId, campaignId: string) => Promise<unknown>) | undefined

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; dnc: DncService }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#dnc = deps.dnc
  }

  /** Told after contacts were added to a campaign (K1, a K3 import): the dialer starts the campaign's runner. */
  onContactsAdded(listener: (tenantId: TenantId, campaignId: string) => Promise<unknown>): void {
    this.#onContacts = listener
  }

  /** A live campaign by its Apps API id. Throws NotFoundError `campaign_not_found`. */
  async campaign(tenantId: TenantId, num: number, db: Executor = this.#db): Promise<Campaign> {
    const r = await db.selectFrom('cc_campaigns').select(['id', 'num', 'name', 'caller_id', 'mode'])
      .where('tenant_id', '=', tenantId).where('num', '=', num).where('deleted', '=', false).executeTakeFirst()
    if (!r) throw new NotFoundError('campaign_not_found', `campaign ${num} not found`)
    return { id: r.id, num: r.num, name: r.name, callerId: r.caller_id, mode: r.mode }
  }

  /** The tenant's live campaigns, in id order. */
  async list(tenantId: TenantId): Promise<Campaign[]> {
    const rows = await this.#db.selectFrom('cc_campaigns').select(['id', 'num', 'name', 'caller_id', 'mode'])
      .where('tenant_id', '=', tenantId).where('deleted', '=', false).orderBy('num').execute()
    return rows.map((r) => ({ id: r.id, num: r.num, name: r.name, callerId: r.caller_id, mode: r.mode }))
  }

  /** K2: the campaign's contacts in id order. */
  async contacts(tenantId: TenantId, campaignNum: number): Promise<CampaignContact[]> {
    const c = await this.campaign(tenantId, campaignNum)
    const rows = await this.#db.selectFrom('cc_campaign_contacts').selectAll()
      .where('tenant_id', '=', tenantId).where('campaign_id', '=', c.id).orderBy('num').execute()
    return rows.map((r) => toContact(r, campaignNum))
  }

  /**
   * K1: add one contact (its phone required): `Upcoming`, or `Do Not Call` when listed. Throws
   * `campaign_not_found`, `campaign_contact_invalid`, `campaign_phone_taken`.
   */
  async addContact(tenantId: TenantId, campaignNum: number, input: ContactInput): Promise<CampaignContact> {
    if (input.phone === undefined) throw new ValidationError('campaign_contact_invalid', 'phone_number is invalid', { field: 'phone_number' })
    const phone = input.phone
    const added = await this.#db.transaction().execute(async (trx) => {
      const c = await this.campaign(tenantId, campaignNum, trx)
      const listed = await this.#dnc.listed({ id: tenantId }, [phone], trx)
      const [num] = await nextNums(trx, tenantId, 'campaign_contact')
      const row = await trx.insertInto('cc_campaign_contacts').values({
        tenant_id: tenantId, num: num!, campaign_id: c.id, name: input.name ?? '', email: input.email ?? null, phone,
        outbound_number: input.outboundNumber ?? null, unique_id: input.uniqueId ?? null, priority: null,
        status: initialStatus(listed.has(phone)), assigned_call_id: null, assigned_participant_id: null,
      }).onConflict((oc) => oc.columns(['tenant_id', 'campaign_id', 'phone']).doNothing()).returningAll().executeTakeFirst()
      if (!row) throw new ConflictError('campaign_phone_taken', 'phone_number has already been taken')
      return { contact: toContact(row, campaignNum), campaignId: c.id }
    })
    await this.#onContacts?.(tenantId, added.campaignId)
    return added.contact
  }

  /**
   * K6: change a contact's fields. A changed phone of a contact not yet dialled (`Upcoming`,
   * `Skipped`, `Do Not Call`) is checked against the DNC list again (a listed one becomes Do Not
   * Call; an unlisted Do Not Call one Upcoming). Throws `campaign_not_found`,
   * `campaign_contact_not_found`, `campaign_contact_busy` (Dialing, Queued, Connected),
   * `campaign_phone_taken`.
   */
  async updateContact(tenantId: TenantId, campaignNum: number, contactNum: number, input: ContactInput): Promise<CampaignContact> {
    return this.#db.transaction().execute(async (trx) => {
      const { c, row } = await this.#lockContact(trx, tenantId, campaignNum, contactNum)
      const phone = input.phone ?? row.phone
      let status = row.status
      if (phone !== row.phone) {
        const taken = await trx.selectFrom('cc_campaign_contacts').select('num').where('tenant_id', '=', tenantId)
          .where('campaign_id', '=', c.id).where('phone', '=', phone).executeTakeFirst()
        if (taken) throw new ConflictError('campaign_phone_taken', 'phone_number has already been taken')
        // Not dialled yet, or skipped back to the pool (preview): the new number is checked again.
        if (status === 'Upcoming' || status === 'Skipped' || status === 'Do Not Call') status = initialStatus((await this.#dnc.listed({ id: tenantId }, [phone], trx)).has(phone))
      }
      const updated = await trx.updateTable('cc_campaign_contacts').set({
        phone, status, updated_at: new Date(),
        ...(input.name !== undefined ? { name: input.name } : {}), ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.uniqueId !== undefined ? { unique_id: input.uniqueId } : {}), ...(input.outboundNumber !== undefined ? { outbound_number: input.outboundNumber } : {}),
      }).where('tenant_id', '=', tenantId).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow()
      return toContact(updated, campaignNum)
    })
  }

  /**
   * K7: remove a contact; `match` (phone, unique id), when given, must be the contact's too, else
   * it is not found. Returns the removed contact. Throws as `updateContact`.
   */
  async removeContact(tenantId: TenantId, campaignNum: number, contactNum: number, match: ContactInput): Promise<CampaignContact> {
    return this.#db.transaction().execute(async (trx) => {
      const { row } = await this.#lockContact(trx, tenantId, campaignNum, contactNum, match)
      await trx.deleteFrom('cc_campaign_contacts').where('tenant_id', '=', tenantId).where('id', '=', row.id).execute()
      return toContact(row, campaignNum)
    })
  }

  async #lockContact(trx: Transaction<DB>, tenantId: TenantId, campaignNum: number, contactNum: number, match: ContactInput = {}) {
    const c = await this.campaign(tenantId, campaignNum, trx)
    const row = await trx.selectFrom('cc_campaign_contacts').selectAll().where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', c.id).where('num', '=', contactNum).forUpdate().executeTakeFirst()
    const mismatch = row && ((match.phone !== undefined && match.phone !== row.phone) || (match.uniqueId !== undefined && match.uniqueId !== row.unique_id))
    if (!row || mismatch) throw new NotFoundError('campaign_contact_not_found', `contact ${contactNum} not found`)
    if (!isEditable(row.status)) throw new ConflictError('campaign_contact_busy', `Contact cannot be updated in status ${row.status}`, { status: row.status })
    return { c, row }
  }

  /**
   * K3: keep the file and enqueue its import (status `created`); the job reads it in batches. The
   * format is the file's: JSON (an array of contacts) or CSV with a header line. Throws `campaign_not_found`.
   */
  async startImport(tenantId: TenantId, campaignNum: number, file: { filename: string; bytes: Buffer }): Promise<CampaignImport> {
    const format = /^\s*[[{]/.test(file.bytes.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '')) ? 'json' : 'csv'
    const created = await this.#db.transaction().execute(async (trx) => {
      const c = await this.campaign(tenantId, campaignNum, trx)
      const [num] = await nextNums(trx, tenantId, 'campaign_import')
      const row = await trx.insertInto('cc_campaign_imports').values({
        tenant_id: tenantId, num: num!, campaign_id: c.id, status: 'created', filename: file.filename.slice(0, 255), format, file: file.bytes, finished_at: null,
      }).returning(IMPORT_COLUMNS).executeTakeFirstOrThrow()
      await this.#jobs.enqueue(trx, CAMPAIGN_IMPORT_JOB, { tenantId, jobNum: num! }, { key: `campaign_import:${tenantId}:${num}`, tenantId })
      return row
    })
    this.#jobs.wake(CAMPAIGN_IMPORT_JOB)
    return toImport(created as DbImport, campaignNum)
  }

  /** K4: one import of the campaign. Throws `campaign_not_found`, `campaign_contact_not_found` (no such import). */
  async importJob(tenantId: TenantId, campaignNum: number, jobNum: number): Promise<CampaignImport> {
    const c = await this.campaign(tenantId, campaignNum)
    const r = await this.#db.selectFrom('cc_campaign_imports').select(IMPORT_COLUMNS).where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', c.id).where('num', '=', jobNum).executeTakeFirst()
    if (!r) throw new NotFoundError('campaign_contact_not_found', `import ${jobNum} not found`)
    return toImport(r as DbImport, campaignNum)
  }

  /** K5: the campaign's imports, newest first. */
  async importJobs(tenantId: TenantId, campaignNum: number): Promise<CampaignImport[]> {
    const c = await this.campaign(tenantId, campaignNum)
    const rows = await this.#db.selectFrom('cc_campaign_imports').select(IMPORT_COLUMNS).where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', c.id).orderBy('num', 'desc').execute()
    return rows.map((r) => toImport(r as DbImport, campaignNum))
  }

  /**
   * Run an import (the job's handler): rows in batches of CAMPAIGN_IMPORT_BATCH, each batch one
   * transaction that also records the progress, so a retried job resumes after the last batch
   * written. A bad row is a per-row error; a file that cannot be read at all fails the job.
   */
  async runImport(tenantId: TenantId, jobNum: number): Promise<void> {
    const job = await this.#db.selectFrom('cc_campaign_imports').select(['id', 'campaign_id', 'status', 'format', 'file', 'total_rows'])
      .where('tenant_id', '=', tenantId).where('num', '=', jobNum).executeTakeFirst()
    if (!job || job.status === 'finished' || job.status === 'failed' || !job.file) return
    await this.#db.updateTable('cc_campaign_imports').set({ status: 'in_progress' }).where('id', '=', job.id).execute()
    const done = job.total_rows
    const fail = async (message: string) => {
      await this.#db.updateTable('cc_campaign_imports').set({ status: 'failed', file: null, finished_at: new Date(), errors: JSON.stringify([{ row: 0, message }]) })
        .where('id', '=', job.id).execute()
    }
    const rows = job.format === 'json' ? jsonRows(job.file) : csvRows(job.file)
    let batch: FileRow[] = []
    try {
      for await (const r of rows) {
        if (r.row <= done) continue
        batch.push(r)
        if (batch.length >= CAMPAIGN_IMPORT_BATCH) {
          await this.#importBatch(tenantId, job.id, job.campaign_id, batch, false)
          batch = []
        }
      }
    } catch (err) {
      if (err instanceof FileError) return fail(err.message)
      throw err
    }
    await this.#importBatch(tenantId, job.id, job.campaign_id, batch, true)
    await this.#onContacts?.(tenantId, job.campaign_id)
  }

  async #importBatch(tenantId: TenantId, importId: string, campaignId: string, batch: readonly FileRow[], last: boolean): Promise<void> {
    const errors: Array<{ row: number; message: string }> = []
    const valid: Array<{ row: number; c: ContactInput & { phone: string } }> = []
    for (const r of batch) {
      if (!r.fields) {
        errors.push({ row: r.row, message: 'row is not a contact object' })
        continue
      }
      try {
        const c = readContact(r.fields)
        if (c.phone === undefined) errors.push({ row: r.row, message: 'param is missing or the value is empty: phone_number' })
        else valid.push({ row: r.row, c: { ...c, phone: c.phone } })
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err
        errors.push({ row: r.row, message: err.message })
      }
    }
    await this.#db.transaction().execute(async (trx) => {
      let imported = 0
      if (valid.length > 0) {
        const listed = await this.#dnc.listed({ id: tenantId }, valid.map((v) => v.c.phone), trx)
        const nums = await nextNums(trx, tenantId, 'campaign_contact', valid.length)
        const inserted = await trx.insertInto('cc_campaign_contacts').values(valid.map((v, i) => ({
          tenant_id: tenantId, num: nums[i]!, campaign_id: campaignId, name: v.c.name ?? '', email: v.c.email ?? null, phone: v.c.phone,
          outbound_number: v.c.outboundNumber ?? null, unique_id: v.c.uniqueId ?? null, priority: null,
          status: initialStatus(listed.has(v.c.phone)), assigned_call_id: null, assigned_participant_id: null,
        }))).onConflict((oc) => oc.columns(['tenant_id', 'campaign_id', 'phone']).doNothing()).returning('num').execute()
        const kept = new Set(inserted.map((r) => r.num))
        imported = kept.size
        valid.forEach((v, i) => {
          if (!kept.has(nums[i]!)) errors.push({ row: v.row, message: 'phone_number has already been taken' })
        })
      }
      errors.sort((a, b) => a.row - b.row)
      const cur = await trx.selectFrom('cc_campaign_imports').select(['errors', 'failed_rows']).where('id', '=', importId).forUpdate().executeTakeFirstOrThrow()
      const kept = cur.errors.length >= MAX_IMPORT_ERRORS ? cur.errors : [...cur.errors, ...errors].slice(0, MAX_IMPORT_ERRORS)
      await trx.updateTable('cc_campaign_imports').set((eb) => ({
        total_rows: eb('total_rows', '+', batch.length), imported_rows: eb('imported_rows', '+', imported), failed_rows: eb('failed_rows', '+', errors.length),
        ...(kept !== cur.errors ? { errors: JSON.stringify(kept) } : {}),
        ...(last ? { status: 'finished' as const, file: null, finished_at: new Date() } : {}),
      })).where('id', '=', importId).execute()
    })
  }
}

/** A contact file that cannot be read as a whole (fails the job). */
class FileError extends Error {}

/** Rows of a JSON file: an array of contact objects (read whole: JSON has no row boundaries to stream on). */
async function* jsonRows(file: Buffer): AsyncGenerator<FileRow> {
  let parsed: unknown
  try {
    parsed = JSON.parse(file.toString('utf8').replace(/^\uFEFF/, ''))
  } catch {
    throw new FileError('file is not valid JSON')
  }
  if (!Array.isArray(parsed)) throw new FileError('file is not a JSON array of contacts')
  for (let i = 0; i < parsed.length; i++) {
    const item = parsed[i] as unknown
    yield { row: i + 1, fields: typeof item === 'object' && item !== null && !Array.isArray(item) ? item as Record<string, unknown> : undefined }
  }
}

/** Rows of a CSV file with a header line naming the columns (name, phone_number, email, outbound_number, external_unique_id). */
async function* csvRows(file: Buffer): AsyncGenerator<FileRow> {
  async function* chunks() {
    for (let i = 0; i < file.length; i += 64 * 1024) yield file.subarray(i, i + 64 * 1024)
  }
  let header: string[] | undefined
  let row = 0
  try {
    for await (const rec of readCsv(chunks())) {
      if (!header) {
        header = rec.fields.map((f) => f.trim().toLowerCase())
        if (!header.includes('phone_number') && !header.includes('phone')) throw new FileError('the CSV header names no phone_number column')
        continue
      }
      row++
      const fields: Record<string, unknown> = {}
      header.forEach((h, i) => {
        const v = rec.fields[i]
        if (h !== '' && v !== undefined && v.trim() !== '') fields[h] = v.trim()
      })
      yield { row, fields }
    }
  } catch (err) {
    if (err instanceof FileError) throw err
    throw new FileError(`file is not readable CSV (${(err as Error).message})`)
  }
  if (!header) throw new FileError('file is empty')
}
