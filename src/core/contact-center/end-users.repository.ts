import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { CcEndUsersTable, DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { nextNums } from './setup.repository.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** An end user of the contact center (§3.6): an identity of a core person. */
export interface EndUser {
  readonly id: string
  readonly tenantId: TenantId
  /** The Apps API id. */
  readonly num: number
  /** External unique id; null for an end user an SMS or a call created. */
  readonly identifier: string | null
  readonly name: string | null
  readonly email: string | null
  /** E.164. */
  readonly phone: string | null
  /** CRM contact id (no CRM integration yet: null). */
  readonly outContactId: string | null
  /** The core person this end user is. */
  readonly personId: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

type Row = Selectable<CcEndUsersTable>

function toEndUser(r: Row): EndUser {
  return {
    id: r.id, tenantId: r.tenant_id, num: Number(r.num), identifier: r.identifier, name: r.name, email: r.email, phone: r.phone,
    outContactId: r.out_contact_id, personId: r.person_id, createdAt: r.created_at, updatedAt: r.updated_at,
  }
}

/** Data access of end users and mid-session authentication requests; every method takes the tenant first. */
export class EndUsersRepository {
  /** Serialise the writers of one key (an identifier, a phone) of a tenant until the transaction ends. */
  async lockKey(trx: Transaction<DB>, tenantId: TenantId, key: string): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtext('switchboard.cc_end_user'), hashtext(${tenantId + ':' + key}))`.execute(trx)
  }

  async byNum(db: Executor, tenantId: TenantId, num: number): Promise<EndUser | undefined> {
    const r = await db.selectFrom('cc_end_users').selectAll().where('tenant_id', '=', tenantId).where('num', '=', num).executeTakeFirst()
    return r && toEndUser(r)
  }

  async byIdentifier(db: Executor, tenantId: TenantId, identifier: string): Promise<EndUser | undefined> {
    const r = await db.selectFrom('cc_end_users').selectAll().where('tenant_id', '=', tenantId).where('identifier', '=', identifier).executeTakeFirst()
    return r && toEndUser(r)
  }

  /** The tenant's first end user (lowest id) with this E.164 phone. */
  async firstByPhone(db: Executor, tenantId: TenantId, phone: string): Promise<EndUser | undefined> {
    const r = await db.selectFrom('cc_end_users').selectAll().where('tenant_id', '=', tenantId).where('phone', '=', phone).orderBy('num').limit(1).executeTakeFirst()
    return r && toEndUser(r)
  }

  async insert(trx: Transaction<DB>, tenantId: TenantId, v: { identifier: string | null; name: string | null; email: string | null; phone: string | null; personId: string }): Promise<EndUser> {
    const [num] = await nextNums(trx, tenantId, 'end_user')
    const r = await trx.insertInto('cc_end_users').values({
      tenant_id: tenantId, num: num!, identifier: v.identifier, name: v.name, email: v.email, phone: v.phone, person_id: v.personId, out_contact_id: null,
    }).returningAll().executeTakeFirstOrThrow()
    return toEndUser(r)
  }

  async update(trx: Transaction<DB>, tenantId: TenantId, id: string, changes: { identifier?: string; name?: string; email?: string; phone?: string; personId?: string; outContactId?: string }): Promise<EndUser> {
    const r = await trx.updateTable('cc_end_users').set({
      ...(changes.identifier !== undefined ? { identifier: changes.identifier } : {}),
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.email !== undefined ? { email: changes.email } : {}),
      ...(changes.phone !== undefined ? { phone: changes.phone } : {}),
      ...(changes.personId !== undefined ? { person_id: changes.personId } : {}),
      ...(changes.outContactId !== undefined ? { out_contact_id: changes.outContactId } : {}),
      updated_at: new Date(),
    }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    return toEndUser(r)
  }

  /**
   * Record a mid-session authentication request of a session unless one was recorded less than
   * `coolDownSeconds` ago; whether it was recorded (false: a duplicate within the interval).
   */
  async recordAuthRequest(trx: Transaction<DB>, tenantId: TenantId, sessionNum: number, coolDownSeconds: number): Promise<boolean> {
    const r = await sql<{ session_num: number }>`
      INSERT INTO cc_session_auth_requests AS a (tenant_id, session_num, requested_at) VALUES (${tenantId}, ${sessionNum}, now())
      ON CONFLICT (tenant_id, session_num) DO UPDATE SET requested_at = now()
        WHERE a.requested_at <= now() - make_interval(secs => ${coolDownSeconds}::double precision)
      RETURNING session_num`.execute(trx)
    return r.rows.length > 0
  }
}
