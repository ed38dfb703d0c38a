import type { Kysely, Selectable, Transaction } from 'kysely'
import type { DB, SuppressionsTable } from '../../db/schema.ts'
import type { Channel } from '../delivery/index.ts'
import type { Suppression, SuppressionReason, SuppressionScope } from './suppression.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

function toSuppression(row: Selectable<SuppressionsTable>): Suppression {
  return { id: row.id, tenantId: row.tenant_id, scope: row.scope, address: row.address, reason: row.reason, source: row.source, createdAt: row.created_at }
}

/** Data access for the suppression list; every method takes the tenant first. */
export class SuppressionRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** Insert unless the tenant has an entry for this scope and address; undefined then. */
  async insert(db: Executor, tenantId: TenantId, row: { scope: SuppressionScope; address: string; reason: SuppressionReason; source: string }): Promise<Suppression | undefined> {
    const inserted = await db.insertInto('suppressions')
      .values({ tenant_id: tenantId, scope: row.scope, address: row.address, reason: row.reason, source: row.source })
      .onConflict((oc) => oc.columns(['tenant_id', 'address', 'scope']).doNothing())
      .returningAll()
      .executeTakeFirst()
    return inserted ? toSuppression(inserted) : undefined
  }

  async find(db: Executor, tenantId: TenantId, scope: SuppressionScope, address: string): Promise<Suppression | undefined> {
    const row = await db.selectFrom('suppressions').selectAll()
      .where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', '=', scope)
      .executeTakeFirst()
    return row ? toSuppression(row) : undefined
  }

  /** The entry holding back sends on `channel` to `address` (its own scope first, then `all`). */
  async findFor(db: Executor, tenantId: TenantId, channel: Channel, address: string): Promise<Suppression | undefined> {
    const rows = await db.selectFrom('suppressions').selectAll()
      .where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', 'in', [channel, 'all'])
      .execute()
    const row = rows.find((r) => r.scope === channel) ?? rows[0]
    return row ? toSuppression(row) : undefined
  }

  async delete(db: Executor, tenantId: TenantId, scope: SuppressionScope, address: string, reasons?: readonly SuppressionReason[]): Promise<Suppression | undefined> {
    let q = db.deleteFrom('suppressions').where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', '=', scope)
    if (reasons) q = q.where('reason', 'in', [...reasons])
    const row = await q.returningAll().executeTakeFirst()
    return row ? toSuppression(row) : undefined
  }

  /** Newest first. */
  async list(tenantId: TenantId, opts: { scope?: SuppressionScope | undefined; address?: string | undefined; limit: number }): Promise<Suppression[]> {
    let q = this.#db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId)
    if (opts.scope) q = q.where('scope', '=', opts.scope)
    if (opts.address) q = q.where('address', '=', opts.address)
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
    return rows.map(toSuppression)
  }
}
