import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB, NewPersonRow, PersonUpdateRow } from '../../db/schema.ts'
import type { Person, Protocol } from './people.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** The columns of a `Person` (people `p` joined with their Cass identity `i`); shared with people.lookups.ts. */
export const PERSON_COLUMNS = [
  'p.id', 'p.tenant_id', 'p.first_name', 'p.last_name', 'p.phone', 'p.external_id', 'p.external_username',
  'p.external_org', 'p.external_data_1', 'p.external_data_2', 'p.external_data_3', 'p.protocol',
  'p.language_type', 'p.gender', 'p.timezone', 'p.created_at', 'p.updated_at',
  'i.public_id as cass_id', 'i.legacy_id',
] as const

interface JoinedRow {
  id: string; tenant_id: TenantId; first_name: string | null; last_name: string | null; phone: string | null
  external_id: string | null; external_username: string | null; external_org: string | null
  external_data_1: string | null; external_data_2: string | null; external_data_3: string | null
  protocol: string; language_type: string | null; gender: string | null; timezone: string | null
  created_at: Date; updated_at: Date; cass_id: string; legacy_id: string | null
}

/** A row of PERSON_COLUMNS as the core person. */
export function toPerson(r: JoinedRow): Person {
  return {
    id: r.id, tenantId: r.tenant_id, cassId: r.cass_id, legacyId: r.legacy_id ?? '',
    firstName: r.first_name, lastName: r.last_name, phone: r.phone, externalId: r.external_id,
    externalUsername: r.external_username, externalOrg: r.external_org,
    externalData1: r.external_data_1, externalData2: r.external_data_2, externalData3: r.external_data_3,
    protocol: r.protocol as Protocol, languageType: r.language_type, gender: r.gender, timezone: r.timezone,
    createdAt: r.created_at, updatedAt: r.updated_at,
  }
}

/**
 * The text columns a new person's row may set (all but the tenant, the protocol, which defaults to
 * sms, and what the database fills in: id and timestamps).
 */
const INSERT_COLUMNS = [
  'first_name', 'last_name', 'phone', 'email', 'external_id', 'external_username', 'external_org',
  'external_data_1', 'external_data_2', 'external_data_3', 'language_type', 'gender', 'timezone',
] as const satisfies ReadonlyArray<keyof NewPersonRow>

/** How a batch of new people tells its rows apart: by external id where given, else by phone. */
function identifierKey(tenantId: TenantId, externalId: string | null, phone: string | null): string {
  return externalId !== null ? `${tenantId}\u0000e\u0000${externalId}` : `${tenantId}\u0000p\u0000${phone ?? ''}`
}

/** Data access for people and their surface identities. Every method takes the tenant first. */
export class PeopleRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  #select(db: Executor) {
    return db.selectFrom('people as p')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'p.id').on('i.surface', '=', 'cass'))
      .select(PERSON_COLUMNS)
  }

  /**
   * Insert people (skipping any whose phone or external id is taken) with their Cass identity; the
   * new rows. The rows travel as one array per column (`unnest`), so the statement's text is the
   * same for one person or a hundred: small to send, cheap to build and to parse.
   */
  async #insert(rows: ReadonlyArray<NewPersonRow>): Promise<JoinedRow[]> {
    const columns = INSERT_COLUMNS.map((c) => sql`${rows.map((r) => r[c] ?? null)}::text[]`)
    const result = await sql<JoinedRow>`
      WITH p AS (
        INSERT INTO people (tenant_id, ${sql.join(INSERT_COLUMNS.map((c) => sql.id(c)))}, protocol)
        SELECT v.tenant_id, ${sql.join(INSERT_COLUMNS.map((c) => sql`v.${sql.id(c)}`))}, coalesce(v.protocol, 'sms')
        FROM unnest(${rows.map((r) => r.tenant_id)}::uuid[], ${sql.join(columns)}, ${rows.map((r) => r.protocol ?? null)}::text[])
          AS v (tenant_id, ${sql.join(INSERT_COLUMNS.map((c) => sql.id(c)))}, protocol)
        ON CONFLICT DO NOTHING
        RETURNING *
      ), i AS (
        INSERT INTO person_identities (tenant_id, person_id, surface, public_id, legacy_id)
        SELECT p.tenant_id, p.id, 'cass', gen_random_uuid()::text, nextval('person_legacy_id_seq') FROM p
        RETURNING person_id, public_id, legacy_id
      )
      SELECT p.id, p.tenant_id, p.first_name, p.last_name, p.phone, p.external_id, p.external_username,
        p.external_org, p.external_data_1, p.external_data_2, p.external_data_3, p.protocol,
        p.language_type, p.gender, p.timezone, p.created_at, p.updated_at, i.public_id AS cass_id, i.legacy_id
      FROM p JOIN i ON i.person_id = p.id`.execute(this.#db)
    return result.rows
  }

  /**
   * Insert the person and their Cass identity (a fresh UUID and the next legacy integer id) in one
   * statement, unless the tenant's phone or external_id is taken: then undefined. One round trip,
   * atomic without an explicit transaction.
   */
  async insertIfAbsent(tenantId: TenantId, row: Omit<NewPersonRow, 'tenant_id'>): Promise<Person | undefined> {
    const [inserted] = await this.#insert([{ ...row, tenant_id: tenantId }])
    return inserted ? toPerson(inserted) : undefined
  }

  /**
   * `insertIfAbsent` for many people in one statement (tenants may differ): answers, in order, the
   * new person, or undefined where the tenant's phone or external_id was taken. Every row must
   * have an external id or a phone, and no two rows of a tenant may share one (they are told apart
   * by them).
   */
  async insertManyIfAbsent(rows: ReadonlyArray<NewPersonRow>): Promise<Array<Person | undefined>> {
    if (rows.length === 1) return [await this.insertIfAbsent(rows[0]!.tenant_id, rows[0]!)]
    const inserted = await this.#insert(rows)
    const byIdentifier = new Map<string, Person>()
    for (const r of inserted) {
      const person = toPerson(r)
      byIdentifier.set(identifierKey(person.tenantId, person.externalId, person.phone), person)
    }
    return rows.map((r) => byIdentifier.get(identifierKey(r.tenant_id, r.external_id ?? null, r.phone ?? null)))
  }

  /**
   * Apply changes to many people of one tenant, found by their Cass id (all UUIDs or all legacy
   * ids), in one statement; every item changes the same `columns`. Answers, in order, the updated
   * person, or undefined where the tenant has no such person. No two items may name one person.
   */
  async updateManyByCassRef(tenantId: TenantId, by: 'uuid' | 'legacy', columns: ReadonlyArray<keyof PersonUpdateRow & string>, items: ReadonlyArray<{ ref: string; changes: PersonUpdateRow }>): Promise<Array<Person | undefined>> {
    const values = sql.join(items.map((it, n) => sql`(${n}::int, ${it.ref}::text${sql.join(columns.map((c) => sql`, ${it.changes[c] ?? null}::text`), sql``)})`))
    const names = sql.join(columns.map((c) => sql.id(c)))
    const set = sql.join(columns.map((c) => sql`${sql.id(c)} = t.${sql.id(c)}`))
    const match = by === 'uuid' ? sql`i.public_id = v.ref` : sql`i.legacy_id = v.ref::bigint`
    // Each id is resolved on its own through the identities' unique index (LATERAL … LIMIT 1), and
    // the people then found by primary key. Planned as one join, a table whose statistics are stale
    // (many people added since the last ANALYZE) was scanned whole for every item: 1.5 s for 50.
    const result = await sql<JoinedRow & { n: number }>`
      WITH v (n, ref, ${names}) AS MATERIALIZED (VALUES ${values}),
      t AS MATERIALIZED (
        SELECT v.*, i.identity_tenant_id, i.identity_person_id, i.identity_public_id, i.identity_legacy_id
        FROM v CROSS JOIN LATERAL (
          SELECT i.tenant_id AS identity_tenant_id, i.person_id AS identity_person_id, i.public_id AS identity_public_id, i.legacy_id AS identity_legacy_id
          FROM person_identities i WHERE ${match} AND i.surface = 'cass' LIMIT 1
        ) i
        WHERE i.identity_tenant_id = ${tenantId}
      )
      UPDATE people p SET ${set}, updated_at = now()
      FROM t
      WHERE p.id = t.identity_person_id AND p.tenant_id = t.identity_tenant_id
      RETURNING p.id, p.tenant_id, p.first_name, p.last_name, p.phone, p.external_id, p.external_username,
        p.external_org, p.external_data_1, p.external_data_2, p.external_data_3, p.protocol,
        p.language_type, p.gender, p.timezone, p.created_at, p.updated_at, t.identity_public_id AS cass_id, t.identity_legacy_id AS legacy_id, t.n`.execute(this.#db)
    const out: Array<Person | undefined> = items.map(() => undefined)
    for (const r of result.rows) out[r.n] = toPerson(r)
    return out
  }

  /** The tenant's person with this external id or phone, external id first. */
  async findExisting(db: Executor, tenantId: TenantId, externalId: string | null, phone: string | null): Promise<Person | undefined> {
    if (externalId !== null) {
      const row = await this.#select(db).where('p.tenant_id', '=', tenantId).where('p.external_id', '=', externalId).executeTakeFirst()
      if (row) return toPerson(row)
    }
    if (phone !== null) {
      const row = await this.#select(db).where('p.tenant_id', '=', tenantId).where('p.phone', '=', phone).executeTakeFirst()
      if (row) return toPerson(row)
    }
    return undefined
  }

  async findByExternalId(tenantId: TenantId, externalId: string): Promise<Person | undefined> {
    return this.findExisting(this.#db, tenantId, externalId, null)
  }

  /**
   * Resolve a Cass person id (UUID or legacy integer) across all tenants, so the caller can tell
   * "unknown" from "belongs to another client". Returns the owning tenant id and, when it is the
   * asking tenant's, the person. One round trip: this is the hottest read of the surface.
   */
  async findByCassRef(tenantId: TenantId, ref: { uuid: string } | { legacy: string }): Promise<{ ownerTenantId: string; person?: Person } | undefined> {
    let q = this.#db.selectFrom('person_identities as i')
      .innerJoin('people as p', 'p.id', 'i.person_id')
      .select(PERSON_COLUMNS)
      .where('i.surface', '=', 'cass')
    q = 'uuid' in ref ? q.where('i.public_id', '=', ref.uuid) : q.where('i.legacy_id', '=', ref.legacy)
    const row = await q.executeTakeFirst()
    if (!row) return undefined
    if (row.tenant_id !== tenantId) return { ownerTenantId: row.tenant_id }
    return { ownerTenantId: tenantId, person: toPerson(row) }
  }

  /**
   * Apply `changes` and return the updated person, in one statement; undefined when the person is
   * gone. The database enforces the rules a concurrent writer could race: unique phone and
   * external_id per tenant, and the immutability of a set external_id (a trigger).
   */
  async update(tenantId: TenantId, id: string, changes: PersonUpdateRow): Promise<Person | undefined> {
    const row = await this.#db.updateTable('people as p')
      .from('person_identities as i')
      .set({ ...changes, updated_at: sql<Date>`now()` })
      .whereRef('i.person_id', '=', 'p.id')
      .where('i.surface', '=', 'cass')
      .where('p.tenant_id', '=', tenantId)
      .where('p.id', '=', id)
      .returning(PERSON_COLUMNS)
      .executeTakeFirst()
    return row ? toPerson(row) : undefined
  }
}
