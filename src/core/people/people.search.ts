import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ValidationError } from '../errors.ts'

/** A person as a directory search shows them: who, and how to reach them. */
export interface PersonSummary {
  readonly id: string
  readonly firstName: string | null
  readonly lastName: string | null
  readonly phone: string | null
  readonly email: string | null
  readonly externalId: string | null
  readonly createdAt: Date
}

/** One of a person's ids on a surface (`cass` person id, `ccai` end user, `courier` individual). */
export interface PersonIdentity {
  readonly surface: string
  readonly publicId: string
  readonly legacyId: string | null
  readonly createdAt: Date
}

const MAX_QUERY = 200
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * Reading the directory the way a person at a screen does (the console): search by name, phone,
 * external id, email or a surface id, and a person with their identities per surface.
 */
export class PeopleSearch {
  readonly #db: Kysely<DB>

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /**
   * The tenant's people matching `query` (case-insensitive): a part of the first, last or full name,
   * of the email or of the external id; the digits of a phone number (at least 4); or a surface id
   * exactly. Empty `query`: the newest people. At most `limit` (1-100, default 25), names first.
   * Throws ValidationError `invalid_limit`, or `invalid_query` for an over-long query.
   */
  async search(tenantId: TenantId, query: string, opts: { limit?: number } = {}): Promise<PersonSummary[]> {
    const limit = opts.limit ?? 25
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('invalid_limit', 'limit must be an integer 1-100')
    const q = query.trim()
    if (q.length > MAX_QUERY || q.includes('\u0000')) throw new ValidationError('invalid_query', `the search must be at most ${MAX_QUERY} characters`)
    let select = this.#db.selectFrom('people as p')
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.phone', 'p.email', 'p.external_id', 'p.created_at'])
      .where('p.tenant_id', '=', tenantId)
    if (q.length > 0) {
      const like = `%${escapeLike(q.toLowerCase())}%`
      const digits = q.replace(/\D/g, '')
      select = select.where((eb) => eb.or([
        eb(sql`lower(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, ''))`, 'like', like),
        eb(sql`lower(coalesce(p.last_name, '') || ' ' || coalesce(p.first_name, ''))`, 'like', like),
        eb(sql`lower(p.email)`, 'like', like),
        eb(sql`lower(p.external_id)`, 'like', like),
        ...(digits.length >= 4 && /^[\d\s()+.-]+$/.test(q) ? [eb('p.phone', 'like', `%${digits}%`)] : []),
        eb.exists(eb.selectFrom('person_identities as i').select(sql`1`.as('one'))
          .where('i.tenant_id', '=', tenantId).whereRef('i.person_id', '=', 'p.id').where('i.public_id', '=', q)),
      ]))
    }
    const rows = await select
      .orderBy(sql`lower(coalesce(p.last_name, p.first_name, p.email, p.external_id, p.phone, ''))`)
      .orderBy('p.created_at', 'desc').orderBy('p.id')
      .limit(limit).execute()
    return rows.map(toSummary)
  }

  /** One of the tenant's people by core id, or undefined (also for a string that is no UUID). */
  async find(tenantId: TenantId, personId: string): Promise<PersonSummary | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(personId)) return undefined
    const row = await this.#db.selectFrom('people as p')
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.phone', 'p.email', 'p.external_id', 'p.created_at'])
      .where('p.tenant_id', '=', tenantId).where('p.id', '=', personId).executeTakeFirst()
    return row ? toSummary(row) : undefined
  }

  /** The person's ids per surface, oldest first. */
  async identities(tenantId: TenantId, personId: string): Promise<PersonIdentity[]> {
    const rows = await this.#db.selectFrom('person_identities')
      .select(['surface', 'public_id', 'legacy_id', 'created_at'])
      .where('tenant_id', '=', tenantId).where('person_id', '=', personId)
      .orderBy('created_at').orderBy('surface').execute()
    return rows.map((r) => ({ surface: r.surface, publicId: r.public_id, legacyId: r.legacy_id ?? null, createdAt: r.created_at }))
  }
}

function toSummary(r: { id: string; first_name: string | null; last_name: string | null; phone: string | null; email: string | null; external_id: string | null; created_at: Date }): PersonSummary {
  return { id: r.id, firstName: r.first_name, lastName: r.last_name, phone: r.phone, email: r.email, externalId: r.external_id, createdAt: r.created_at }
}
