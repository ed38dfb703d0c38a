import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB, SuppressionsTable } from '../../db/schema.ts'
import type { Channel } from '../delivery/index.ts'
import type { Suppression, SuppressionReason, SuppressionScope } from './suppression.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

function toSuppression(row: Selectable<SuppressionsTable>): Suppression {
  return {
    id: row.id, tenantId: row.tenant_id, scope: row.scope, address: row.address, reason: row.reason, source: row.source,
    createdAt: row.created_at, expiresAt: row.expires_at,
  }
}

/** An entry that still holds: permanent, or expiring later than now (an expired one is absent). */
const live = (eb: ExpressionBuilder<DB, 'suppressions'>) => eb.or([eb('suppressions.expires_at', 'is', null), eb('suppressions.expires_at', '>', sql<Date>`now()`)])
const isLive = (row: { expires_at: Date | null }, now = Date.now()) => row.expires_at === null || row.expires_at.getTime() > now

/** The scopes that reach a phone number: what the company Do-Not-Call list shows. */
const PHONE_REACHING: SuppressionScope[] = ['all', 'voice', 'sms', 'whatsapp']
/** What D2 removes: the organisation's own entries for calls; a person's STOP stays theirs to lift. */
const DNC_REMOVABLE = { scopes: ['all', 'voice'] as SuppressionScope[], reasons: ['dnc', 'manual'] as SuppressionReason[] }

/** Data access for the suppression list; every method takes the tenant first. */
export class SuppressionRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /**
   * Insert unless the tenant has a live entry for this scope and address; undefined then. An
   * expired entry there is replaced (new reason, source, expiry and creation time): it was absent.
   */
  async insert(db: Executor, tenantId: TenantId, row: { scope: SuppressionScope; address: string; reason: SuppressionReason; source: string; expiresAt: Date | null }): Promise<Suppression | undefined> {
    const inserted = await db.insertInto('suppressions')
      .values({ tenant_id: tenantId, scope: row.scope, address: row.address, reason: row.reason, source: row.source, expires_at: row.expiresAt })
      .onConflict((oc) => oc.columns(['tenant_id', 'address', 'scope'])
        .doUpdateSet((eb) => ({
          reason: eb.ref('excluded.reason'), source: eb.ref('excluded.source'), expires_at: eb.ref('excluded.expires_at'), created_at: sql<Date>`now()`,
        }))
        .where('suppressions.expires_at', '<=', sql<Date>`now()`))
      .returningAll()
      .executeTakeFirst()
    return inserted ? toSuppression(inserted) : undefined
  }

  /** The live entry for this scope and address. */
  async find(db: Executor, tenantId: TenantId, scope: SuppressionScope, address: string): Promise<Suppression | undefined> {
    const row = await db.selectFrom('suppressions').selectAll()
      .where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', '=', scope).where(live)
      .executeTakeFirst()
    return row ? toSuppression(row) : undefined
  }

  /** The live entry holding back sends on `channel` to `address` (its own scope first, then `all`). */
  async findFor(db: Executor, tenantId: TenantId, channel: Channel, address: string): Promise<Suppression | undefined> {
    const rows = await db.selectFrom('suppressions').selectAll()
      .where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', 'in', [channel, 'all']).where(live)
      .execute()
    const row = rows.find((r) => r.scope === channel) ?? rows[0]
    return row ? toSuppression(row) : undefined
  }

  /** Delete the entry for this scope and address; answers it when it was live (an expired one was absent). */
  async delete(db: Executor, tenantId: TenantId, scope: SuppressionScope, address: string, reasons?: readonly SuppressionReason[]): Promise<Suppression | undefined> {
    let q = db.deleteFrom('suppressions').where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', '=', scope)
    if (reasons) q = q.where('reason', 'in', [...reasons])
    const row = await q.returningAll().executeTakeFirst()
    return row && isLive(row) ? toSuppression(row) : undefined
  }

  /**
   * Put a phone on the company DNC list (scope `all`, reason `dnc`) or change the expiry of the
   * live `all` entry it has: `created` or `updated`. An expired entry is replaced (`created`). One
   * statement; two transactions adding one new number at once both answer `created`.
   */
  async upsertDnc(db: Executor, tenantId: TenantId, address: string, expiresAt: Date | null, source: string): Promise<'created' | 'updated'> {
    const result = await sql<{ was_live: boolean }>`
      WITH prior AS (
        SELECT expires_at FROM suppressions WHERE tenant_id = ${tenantId} AND address = ${address} AND scope = 'all'
      ), written AS (
        INSERT INTO suppressions (tenant_id, scope, address, reason, source, expires_at)
        VALUES (${tenantId}, 'all', ${address}, 'dnc', ${source}, ${expiresAt})
        ON CONFLICT (tenant_id, address, scope) DO UPDATE SET
          -- Expired (absent): the entry starts over as this DNC entry. Live: only the expiry changes.
          reason = CASE WHEN suppressions.expires_at <= now() THEN excluded.reason ELSE suppressions.reason END,
          source = CASE WHEN suppressions.expires_at <= now() THEN excluded.source ELSE suppressions.source END,
          created_at = CASE WHEN suppressions.expires_at <= now() THEN now() ELSE suppressions.created_at END,
          expires_at = excluded.expires_at
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM prior WHERE expires_at IS NULL OR expires_at > now()) AS was_live FROM written`.execute(db)
    return result.rows[0]?.was_live ? 'updated' : 'created'
  }

  /**
   * Take a phone off the company DNC list: its `all` and `voice` entries the organisation made
   * (`dnc`, `manual`). True when one of them was live.
   */
  async removeDnc(db: Executor, tenantId: TenantId, address: string): Promise<boolean> {
    const rows = await db.deleteFrom('suppressions').returning('expires_at')
      .where('tenant_id', '=', tenantId).where('address', '=', address)
      .where('scope', 'in', DNC_REMOVABLE.scopes).where('reason', 'in', DNC_REMOVABLE.reasons)
      .execute()
    const now = Date.now()
    return rows.some((r) => isLive(r, now))
  }

  /**
   * Whether a phone is on the company DNC list now: any live entry of a scope that reaches it
   * (`all`, `voice`, `sms`, `whatsapp` — a STOP reply included). Answers when it lapses (null:
   * never, as long as one entry is permanent), or undefined when it is not listed. One index
   * lookup on (tenant_id, address, scope).
   */
  async checkDnc(db: Executor, tenantId: TenantId, address: string): Promise<{ expiresAt: Date | null } | undefined> {
    const rows = await db.selectFrom('suppressions').select('expires_at')
      .where('tenant_id', '=', tenantId).where('address', '=', address).where('scope', 'in', PHONE_REACHING).where(live)
      .execute()
    if (rows.length === 0) return undefined
    if (rows.some((r) => r.expires_at === null)) return { expiresAt: null }
    return { expiresAt: new Date(Math.max(...rows.map((r) => r.expires_at!.getTime()))) }
  }

  /** Which of `addresses` (normalized) a live entry reaching a phone holds back: one statement for a batch. */
  async listedDnc(db: Executor, tenantId: TenantId, addresses: readonly string[]): Promise<Set<string>> {
    if (addresses.length === 0) return new Set()
    const rows = await db.selectFrom('suppressions').select('address').distinct()
      .where('tenant_id', '=', tenantId).where('address', 'in', [...addresses]).where('scope', 'in', PHONE_REACHING).where(live)
      .execute()
    return new Set(rows.map((r) => r.address))
  }

  /** Newest first. */
  async list(tenantId: TenantId, opts: { scope?: SuppressionScope | undefined; address?: string | undefined; limit: number }): Promise<Suppression[]> {
    let q = this.#db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where(live)
    if (opts.scope) q = q.where('scope', '=', opts.scope)
    if (opts.address) q = q.where('address', '=', opts.address)
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
    return rows.map(toSuppression)
  }
}
