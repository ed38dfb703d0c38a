import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** A person as a directory import declares them: keyed by external id, every field given (null = empty). */
export interface BulkPersonRow {
  readonly externalId: string
  readonly firstName: string | null
  readonly lastName: string | null
  /** E.164, already normalised by the caller. */
  readonly phone: string | null
  readonly timezone: string | null
}

/** What a bulk upsert did with one row. */
export interface BulkPersonResult {
  readonly externalId: string
  readonly personId: string
  /** The Cass person id: the individual id of the messaging API. */
  readonly cassId: string
  readonly outcome: 'created' | 'updated' | 'unchanged'
}

/** A row whose phone belongs to another person of the tenant (another external id). */
export interface BulkPhoneConflict {
  readonly externalId: string
  readonly phone: string
}

interface ExistingRow {
  id: string
  external_id: string | null
  first_name: string | null
  last_name: string | null
  phone: string | null
  timezone: string | null
  cass_id: string
}

const same = (r: BulkPersonRow, e: ExistingRow) =>
  e.external_id === r.externalId && e.first_name === r.firstName && e.last_name === r.lastName && e.phone === r.phone && e.timezone === r.timezone

/**
 * Many people of one tenant written at once by external id, inside the caller's transaction (the
 * directory import): a batch is one SELECT, one multi-row INSERT (person and Cass identity in one
 * statement) and one UPDATE … FROM unnest. The single-person paths of PeopleService stay as they are.
 * A person registered without an external id (the person API) whose phone a row carries is adopted:
 * the row's external id is set on it, so one human stays one person.
 */
export class PeopleBulk {
  /**
   * The rows' phones that belong to another person of the tenant: one with another external id.
   * Rows must have distinct external ids and distinct phones (the caller checks its file).
   */
  async phoneConflicts(db: Executor, tenantId: TenantId, rows: readonly BulkPersonRow[]): Promise<BulkPhoneConflict[]> {
    const withPhone = rows.filter((r) => r.phone !== null)
    if (withPhone.length === 0) return []
    const owners = await db.selectFrom('people').select(['phone', 'external_id'])
      .where('tenant_id', '=', tenantId).where('phone', 'in', withPhone.map((r) => r.phone!)).execute()
    const ownerOf = new Map(owners.map((o) => [o.phone!, o.external_id]))
    return withPhone.filter((r) => {
      const owner = ownerOf.get(r.phone!)
      return owner !== undefined && owner !== null && owner !== r.externalId
    }).map((r) => ({ externalId: r.externalId, phone: r.phone! }))
  }

  /**
   * Create or update the rows (call `phoneConflicts` first: a conflicting phone makes the statement
   * fail). Answers one result per row, in order.
   */
  async upsertByExternalId(db: Executor, tenantId: TenantId, rows: readonly BulkPersonRow[]): Promise<BulkPersonResult[]> {
    if (rows.length === 0) return []
    const existing = await db.selectFrom('people as p')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'p.id').on('i.surface', '=', 'cass'))
      .select(['p.id', 'p.external_id', 'p.first_name', 'p.last_name', 'p.phone', 'p.timezone', 'i.public_id as cass_id'])
      .where('p.tenant_id', '=', tenantId)
      .where((eb) => eb.or([
        eb('p.external_id', 'in', rows.map((r) => r.externalId)),
        ...(rows.some((r) => r.phone !== null)
          ? [eb.and([eb('p.external_id', 'is', null), eb('p.phone', 'in', rows.filter((r) => r.phone !== null).map((r) => r.phone!))])]
          : []),
      ]))
      .execute()
    const byExternal = new Map<string, ExistingRow>()
    const byPhone = new Map<string, ExistingRow>()
    for (const e of existing) {
      if (e.external_id !== null) byExternal.set(e.external_id, e)
      else if (e.phone !== null) byPhone.set(e.phone, e)
    }
    const results: BulkPersonResult[] = new Array(rows.length)
    const toInsert: Array<{ n: number; row: BulkPersonRow }> = []
    const toUpdate: Array<{ n: number; row: BulkPersonRow; found: ExistingRow }> = []
    rows.forEach((row, n) => {
      const found = byExternal.get(row.externalId) ?? (row.phone !== null ? byPhone.get(row.phone) : undefined)
      if (!found) toInsert.push({ n, row })
      else if (same(row, found)) results[n] = { externalId: row.externalId, personId: found.id, cassId: found.cass_id, outcome: 'unchanged' }
      else toUpdate.push({ n, row, found })
    })
    if (toInsert.length > 0) {
      const col = (f: (r: BulkPersonRow) => string | null) => toInsert.map((x) => f(x.row))
      const inserted = await sql<{ external_id: string; id: string; cass_id: string }>`
        WITH p AS (
          INSERT INTO people (tenant_id, external_id, first_name, last_name, phone, timezone, protocol)
          SELECT ${tenantId}::uuid, v.external_id, v.first_name, v.last_name, v.phone, v.timezone,
            CASE WHEN v.phone IS NULL THEN 'web' ELSE 'sms' END
          FROM unnest(${col((r) => r.externalId)}::text[], ${col((r) => r.firstName)}::text[], ${col((r) => r.lastName)}::text[],
            ${col((r) => r.phone)}::text[], ${col((r) => r.timezone)}::text[]) AS v(external_id, first_name, last_name, phone, timezone)
          RETURNING id, tenant_id, external_id
        ), i AS (
          INSERT INTO person_identities (tenant_id, person_id, surface, public_id, legacy_id)
          SELECT p.tenant_id, p.id, 'cass', gen_random_uuid()::text, nextval('person_legacy_id_seq') FROM p
          RETURNING person_id, public_id
        )
        SELECT p.external_id, p.id, i.public_id AS cass_id FROM p JOIN i ON i.person_id = p.id`.execute(db)
      const made = new Map(inserted.rows.map((r) => [r.external_id, r]))
      for (const { n, row } of toInsert) {
        const r = made.get(row.externalId)
        if (!r) throw new Error(`bulk insert lost the person ${row.externalId}`)
        results[n] = { externalId: row.externalId, personId: r.id, cassId: r.cass_id, outcome: 'created' }
      }
    }
    if (toUpdate.length > 0) {
      const col = (f: (x: { row: BulkPersonRow; found: ExistingRow }) => string | null) => toUpdate.map(f)
      await sql`
        UPDATE people p SET external_id = v.external_id, first_name = v.first_name, last_name = v.last_name,
          phone = v.phone, timezone = v.timezone, updated_at = now()
        FROM unnest(${col((x) => x.found.id)}::uuid[], ${col((x) => x.row.externalId)}::text[], ${col((x) => x.row.firstName)}::text[],
          ${col((x) => x.row.lastName)}::text[], ${col((x) => x.row.phone)}::text[], ${col((x) => x.row.timezone)}::text[])
          AS v(id, external_id, first_name, last_name, phone, timezone)
        WHERE p.id = v.id AND p.tenant_id = ${tenantId}::uuid`.execute(db)
      for (const { n, row, found } of toUpdate) results[n] = { externalId: row.externalId, personId: found.id, cassId: found.cass_id, outcome: 'updated' }
    }
    return results
  }

  /** The tenant's people with these external ids: external id → person id (looked up 1,000 at a time). */
  async idsByExternalId(db: Executor, tenantId: TenantId, refs: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (let i = 0; i < refs.length; i += 1000) {
      const rows = await db.selectFrom('people').select(['id', 'external_id']).where('tenant_id', '=', tenantId).where('external_id', 'in', refs.slice(i, i + 1000)).execute()
      for (const r of rows) out.set(r.external_id!, r.id)
    }
    return out
  }
}
