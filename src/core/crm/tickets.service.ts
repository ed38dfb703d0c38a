import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import type { ContactUpdate, CrmAdapter, CrmTicket, StoredTicket } from './crm.types.ts'
import { TicketsRepository, type TicketRow, type TicketValues } from './tickets.repository.ts'

/** A ticket id: letters, digits, `.`, `_`, `:` and `-`, starting with a letter or digit (it is a URL path segment). */
export const TICKET_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'
const TICKET_ID = new RegExp(TICKET_ID_PATTERN)
const EMAIL = /^[^\s@]+@[^\s@]+$/
/** A phone as the Apps API takes it (§1.8, as `end_user_number`): spaces, dashes, dots and parentheses stripped, then E.164. */
function dialable(raw: string): string | undefined {
  const text = raw.replace(/[\s\-.()]/g, '')
  return /^\+[1-9][0-9]{7,14}$/.test(text) ? text : undefined
}
export const MAX_SUBJECT = 500
export const MAX_CONTACT_NAME = 200
export const MAX_CONTACT_ID = 100

/** A ticket's contact as written (admin API, setup file): absent keeps (or defaults), null clears. */
export interface ContactInput {
  readonly id?: unknown
  readonly name?: unknown
  readonly phone?: unknown
  readonly email?: unknown
}

/** A ticket as written; `ticketId` is required on create. */
export interface TicketInput {
  readonly ticketId?: unknown
  readonly subject?: unknown
  readonly contact?: ContactInput | null | undefined
}

const invalid = (field: string, text: string) => new ValidationError('ticket_invalid', text, { field })

/** A nullable text field: undefined keeps, null or "" clears; NUL or too long is refused. */
function optionalText(v: unknown, field: string, max: number): string | null | undefined {
  if (v === undefined) return undefined
  if (v === null) return null
  if (typeof v !== 'string') throw invalid(field, `${field} must be a string or null`)
  const t = v.trim()
  if (t.includes('\u0000')) throw invalid(field, `${field} must not contain NUL`)
  if (t.length > max) throw invalid(field, `${field} must be at most ${max} characters`)
  return t === '' ? null : t
}

/** Check a ticket id (as a client sent it); ValidationError `ticket_invalid`. */
export function checkTicketId(v: unknown): string {
  const t = typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : undefined
  if (t === undefined || t === '') throw invalid('ticket_id', 'ticket_id is required')
  if (!TICKET_ID.test(t)) throw invalid('ticket_id', "ticket_id must be 1-100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
  return t
}

/**
 * The checked fields of a ticket input over `base` (the stored ticket, or nothing on create).
 * Throws ValidationError `ticket_invalid` naming the field.
 */
export function ticketValues(input: TicketInput, base: TicketValues | undefined, ticketId: string, source: 'admin' | 'setup'): TicketValues {
  if (input.contact !== undefined && input.contact !== null && (typeof input.contact !== 'object' || Array.isArray(input.contact))) throw invalid('contact', 'contact must be an object')
  const c: ContactInput = input.contact ?? {}
  const subject = optionalText(input.subject, 'subject', MAX_SUBJECT)
  const name = optionalText(c.name, 'contact.name', MAX_CONTACT_NAME)
  const rawPhone = optionalText(c.phone, 'contact.phone', 40)
  const phone = rawPhone ? dialable(rawPhone) : rawPhone
  if (rawPhone && !phone) throw invalid('contact.phone', 'contact.phone is not a phone number with its country code (+ and 8-15 digits)')
  const email = optionalText(c.email, 'contact.email', 254)
  if (email && !EMAIL.test(email)) throw invalid('contact.email', 'contact.email is not an e-mail address')
  const contactId = optionalText(c.id, 'contact.id', MAX_CONTACT_ID)
  return {
    ticketId, source,
    subject: subject === undefined ? (base?.subject ?? null) : subject,
    contactId: contactId ?? base?.contactId ?? `contact-${randomUUID()}`,
    contactName: name === undefined ? (base?.contactName ?? null) : name,
    contactPhone: phone === undefined ? (base?.contactPhone ?? null) : phone,
    contactEmail: email === undefined ? (base?.contactEmail ?? null) : email?.toLowerCase() ?? null,
  }
}

const valuesOf = (r: TicketRow): TicketValues => ({
  ticketId: r.ticket_id, subject: r.subject, contactId: r.contact_id, contactName: r.contact_name, contactPhone: r.contact_phone, contactEmail: r.contact_email,
  source: r.source === 'setup' ? 'setup' : 'admin',
})

/**
 * The built-in CRM adapter (issue 12, item 3): tickets with a contact kept in Switchboard, written
 * through the admin API and the contact-center setup file. `ticket_id` on calls resolves here
 * (`findTicket`), and mid-session authentication updates the contact (`linkContact`). A ticket's
 * URL is `<publicUrl>/admin/tickets/<ticket_id>` (the admin API's read of it).
 */
export class TicketsService implements CrmAdapter {
  readonly id = 'builtin'
  readonly #db: Kysely<DB>
  readonly #publicUrl: string
  readonly #repo = new TicketsRepository()

  constructor(deps: { db: Kysely<DB>; publicUrl: string }) {
    this.#db = deps.db
    this.#publicUrl = deps.publicUrl.replace(/\/+$/, '')
  }

  /** The ticket's URL (`out_ticket_url`). */
  urlOf(ticketId: string): string {
    return `${this.#publicUrl}/admin/tickets/${encodeURIComponent(ticketId)}`
  }

  /** `ticket_id` of C1–C4: the ticket and its contact, or undefined. */
  async findTicket(tenantId: TenantId, ticketId: string): Promise<CrmTicket | undefined> {
    if (!TICKET_ID.test(ticketId)) return undefined
    const row = await this.#repo.byTicketId(this.#db, tenantId, ticketId)
    return row ? this.#present(row) : undefined
  }

  /** C5/H18: name and email set when given, phone only when the contact has none; the contact's id. */
  async linkContact(trx: Transaction<DB>, tenantId: TenantId, ticketId: string, update: ContactUpdate): Promise<{ contactId: string } | undefined> {
    const row = await this.#repo.byTicketId(trx, tenantId, ticketId, true)
    if (!row) return undefined
    const v = valuesOf(row)
    await this.#repo.update(trx, tenantId, ticketId, {
      ...v,
      contactName: update.name !== undefined && update.name.trim() !== '' ? update.name.trim().slice(0, MAX_CONTACT_NAME) : v.contactName,
      contactEmail: update.email !== undefined && EMAIL.test(update.email.trim()) ? update.email.trim().toLowerCase() : v.contactEmail,
      contactPhone: v.contactPhone ?? update.phone ?? null,
    })
    return { contactId: row.contact_id }
  }

  /** The tenant's tickets in ticket id order, `limit` at most, after `after` (a ticket id). */
  async list(tenantId: TenantId, opts: { limit: number; after?: string | undefined }): Promise<StoredTicket[]> {
    return (await this.#repo.list(this.#db, tenantId, opts)).map((r) => this.#present(r))
  }

  /** One ticket; NotFoundError `ticket_not_found`. */
  async get(tenantId: TenantId, ticketId: string): Promise<StoredTicket> {
    const row = TICKET_ID.test(ticketId) ? await this.#repo.byTicketId(this.#db, tenantId, ticketId) : undefined
    if (!row) throw new NotFoundError('ticket_not_found', `no ticket ${ticketId}`, { ticketId })
    return this.#present(row)
  }

  /** A new ticket; ValidationError `ticket_invalid`, ConflictError `ticket_exists`. */
  async create(tenantId: TenantId, input: TicketInput): Promise<StoredTicket> {
    const ticketId = checkTicketId(input.ticketId)
    const row = await this.#repo.insert(this.#db, tenantId, ticketValues(input, undefined, ticketId, 'admin'))
    if (!row) throw new ConflictError('ticket_exists', `ticket ${ticketId} already exists`, { ticketId })
    return this.#present(row)
  }

  /** Change the given fields of a ticket (null clears); NotFoundError `ticket_not_found`, ValidationError `ticket_invalid`. */
  async update(tenantId: TenantId, ticketId: string, input: TicketInput): Promise<StoredTicket> {
    return this.#db.transaction().execute(async (trx) => {
      const row = TICKET_ID.test(ticketId) ? await this.#repo.byTicketId(trx, tenantId, ticketId, true) : undefined
      if (!row) throw new NotFoundError('ticket_not_found', `no ticket ${ticketId}`, { ticketId })
      const updated = await this.#repo.update(trx, tenantId, ticketId, ticketValues(input, valuesOf(row), ticketId, 'admin'))
      return this.#present(updated!)
    })
  }

  /** Delete a ticket; NotFoundError `ticket_not_found`. Calls placed for it keep their `out_ticket_id`. */
  async remove(tenantId: TenantId, ticketId: string): Promise<void> {
    if (!TICKET_ID.test(ticketId) || !(await this.#repo.remove(this.#db, tenantId, ticketId))) throw new NotFoundError('ticket_not_found', `no ticket ${ticketId}`, { ticketId })
  }

  #present(r: TicketRow): StoredTicket {
    return {
      id: r.ticket_id, url: this.urlOf(r.ticket_id), subject: r.subject, source: r.source === 'setup' ? 'setup' : 'admin', createdAt: r.created_at, updatedAt: r.updated_at,
      contact: { id: r.contact_id, name: r.contact_name, phone: r.contact_phone, email: r.contact_email },
    }
  }
}

/**
 * The setup file's tickets, in the load's transaction: each written by its ticket id (created, or
 * replaced with the file's fields; a contact id the file leaves out is kept). Tickets not in the
 * file are left alone (they may have been made through the admin API).
 */
export async function syncSetupTickets(trx: Transaction<DB>, tenantId: TenantId, tickets: readonly TicketInput[]): Promise<number> {
  const repo = new TicketsRepository()
  for (const t of tickets) {
    const ticketId = checkTicketId(t.ticketId)
    const existing = await repo.byTicketId(trx, tenantId, ticketId, true)
    const c = t.contact ?? {}
    // The file is the whole ticket: a field it leaves out is cleared, except the contact id.
    const full: TicketInput = { ticketId, subject: t.subject ?? null, contact: { name: c.name ?? null, phone: c.phone ?? null, email: c.email ?? null, ...(c.id !== undefined ? { id: c.id } : {}) } }
    await repo.upsert(trx, tenantId, ticketValues(full, existing ? valuesOf(existing) : undefined, ticketId, 'setup'))
  }
  return tickets.length
}
