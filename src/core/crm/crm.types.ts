import type { Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** A ticket's contact: the person the ticket's calls dial (§2.1 `ticket_id`). */
export interface CrmContact {
  /** The contact's CRM id (an end user's `out_contact_id` once C5 links them). */
  readonly id: string
  readonly name: string | null
  /** E.164, or null: the ticket has no dialable contact ("Contact not found"). */
  readonly phone: string | null
  readonly email: string | null
}

/** A CRM ticket as the CRM adapter finds it. */
export interface CrmTicket {
  /** The id the Apps API names it by (`ticket_id`, `out_ticket_id`). */
  readonly id: string
  /** Where a person opens the ticket (`out_ticket_url`). */
  readonly url: string | null
  readonly contact: CrmContact
}

/** A ticket of the built-in adapter, with what the admin API shows. */
export interface StoredTicket extends CrmTicket {
  readonly subject: string | null
  /** `admin` (the admin API) or `setup` (the contact-center setup file): where it was last written. */
  readonly source: 'admin' | 'setup'
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** What mid-session authentication (C5/H18) tells the CRM about the authenticated end user. */
export interface ContactUpdate {
  readonly name?: string | undefined
  readonly email?: string | undefined
  /** E.164; the contact keeps a phone it has. */
  readonly phone?: string | undefined
}

/**
 * A CRM adapter: how `ticket_id` is resolved and how the contact linked to a ticket is updated.
 * The built-in adapter (`TicketsService`) keeps tickets in Switchboard; an external CRM would be
 * another implementation. `linkContact` is optional: an adapter without it cannot link contacts,
 * and C5 on a call with a ticket answers "Unsupported CRM request".
 */
export interface CrmAdapter {
  readonly id: string
  findTicket(tenantId: TenantId, ticketId: string): Promise<CrmTicket | undefined>
  /**
   * Update the contact of the ticket with what the end user said (name and email set when given,
   * phone only when the contact has none), in the caller's transaction; the contact's id, or
   * undefined when the ticket is not (or no longer) there to link.
   */
  linkContact?(trx: Transaction<DB>, tenantId: TenantId, ticketId: string, update: ContactUpdate): Promise<{ contactId: string } | undefined>
}
