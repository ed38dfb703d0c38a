import type { Kysely, Selectable, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>
export type TicketRow = Selectable<DB['crm_tickets']>

/** The values a ticket is written with (every field; the service fills defaults). */
export interface TicketValues {
  readonly ticketId: string
  readonly subject: string | null
  readonly contactId: string
  readonly contactName: string | null
  readonly contactPhone: string | null
  readonly contactEmail: string | null
  readonly source: 'admin' | 'setup'
}

const columns = (v: TicketValues) => ({
  subject: v.subject, contact_id: v.contactId, contact_name: v.contactName, contact_phone: v.contactPhone, contact_email: v.contactEmail, source: v.source,
})

/** The built-in CRM's tickets (`crm_tickets`); every method takes the tenant first. */
export class TicketsRepository {
  async byTicketId(db: Executor, tenantId: TenantId, ticketId: string, lock = false): Promise<TicketRow | undefined> {
    const q = db.selectFrom('crm_tickets').selectAll().where('tenant_id', '=', tenantId).where('ticket_id', '=', ticketId)
    return (lock ? q.forUpdate() : q).executeTakeFirst()
  }

  async list(db: Executor, tenantId: TenantId, opts: { limit: number; after?: string | undefined }): Promise<TicketRow[]> {
    let q = db.selectFrom('crm_tickets').selectAll().where('tenant_id', '=', tenantId)
    if (opts.after !== undefined) q = q.where('ticket_id', '>', opts.after)
    return q.orderBy('ticket_id').limit(opts.limit).execute()
  }

  /** Insert; undefined when the tenant already has a ticket of that id. */
  async insert(db: Executor, tenantId: TenantId, v: TicketValues): Promise<TicketRow | undefined> {
    return db.insertInto('crm_tickets').values({ tenant_id: tenantId, ticket_id: v.ticketId, ...columns(v) })
      .onConflict((oc) => oc.columns(['tenant_id', 'ticket_id']).doNothing()).returningAll().executeTakeFirst()
  }

  /** Insert or replace by ticket id (the setup file's tickets). */
  async upsert(db: Executor, tenantId: TenantId, v: TicketValues): Promise<TicketRow> {
    return db.insertInto('crm_tickets').values({ tenant_id: tenantId, ticket_id: v.ticketId, ...columns(v) })
      .onConflict((oc) => oc.columns(['tenant_id', 'ticket_id']).doUpdateSet({ ...columns(v), updated_at: new Date() })).returningAll().executeTakeFirstOrThrow()
  }

  async update(db: Executor, tenantId: TenantId, ticketId: string, v: TicketValues): Promise<TicketRow | undefined> {
    return db.updateTable('crm_tickets').set({ ...columns(v), updated_at: new Date() }).where('tenant_id', '=', tenantId).where('ticket_id', '=', ticketId).returningAll().executeTakeFirst()
  }

  async remove(db: Executor, tenantId: TenantId, ticketId: string): Promise<boolean> {
    const r = await db.deleteFrom('crm_tickets').where('tenant_id', '=', tenantId).where('ticket_id', '=', ticketId).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }
}
