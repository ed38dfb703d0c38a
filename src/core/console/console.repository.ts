import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { ConsoleRole, ConsoleUser } from './console.types.ts'

type Executor = Kysely<DB> | Transaction<DB>

interface UserRow { id: string; tenant_id: TenantId; email: string; name: string | null; role: ConsoleRole; created_at: Date }
const USER_COLUMNS = ['u.id', 'u.tenant_id', 'u.email', 'u.name', 'u.role', 'u.created_at'] as const
const toUser = (r: UserRow): ConsoleUser => ({ id: r.id, tenantId: r.tenant_id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at })

/** The console's tables: users, sessions, failed sign-ins. */
export class ConsoleRepository {
  readonly #db: Kysely<DB>

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async insertUser(db: Executor, tenantId: TenantId, row: { email: string; name: string | null; role: ConsoleRole; passwordHash: string; createdBy: string | null }): Promise<ConsoleUser> {
    const r = await db.insertInto('console_users')
      .values({ tenant_id: tenantId, email: row.email, name: row.name, role: row.role, password_hash: row.passwordHash, created_by: row.createdBy })
      .returning(['id', 'tenant_id', 'email', 'name', 'role', 'created_at']).executeTakeFirstOrThrow()
    return toUser(r)
  }

  async listUsers(tenantId: TenantId): Promise<ConsoleUser[]> {
    const rows = await this.#db.selectFrom('console_users as u').select(USER_COLUMNS)
      .where('u.tenant_id', '=', tenantId).where('u.disabled_at', 'is', null).orderBy('u.created_at').orderBy('u.id').execute()
    return rows.map(toUser)
  }

  /** Every enabled user with this email, of any tenant, with their password hash and tenant's name. */
  async usersByEmail(email: string): Promise<Array<{ user: ConsoleUser; passwordHash: string; tenantName: string }>> {
    const rows = await this.#db.selectFrom('console_users as u').innerJoin('tenants as t', 't.id', 'u.tenant_id')
      .select([...USER_COLUMNS, 'u.password_hash', 't.name as tenant_name'])
      .where(sql`lower(u.email)`, '=', email.toLowerCase()).where('u.disabled_at', 'is', null)
      .orderBy('u.created_at').limit(20).execute()
    return rows.map((r) => ({ user: toUser(r), passwordHash: r.password_hash, tenantName: r.tenant_name }))
  }

  /** A new session; the user's expired sessions go (so the table holds only live ones and the last few). */
  /**
   * The console user of a contact-center agent (role `agent`, `passwordHash` the marker of "no
   * console password"), made the first time; undefined when the email is a console user of another kind.
   */
  async agentUser(tenantId: TenantId, email: string, name: string | null, passwordHash: string): Promise<{ user: ConsoleUser; tenantName: string } | undefined> {
    await this.#db.insertInto('console_users').values({ tenant_id: tenantId, email, name, role: 'agent', password_hash: passwordHash, created_by: null })
      .onConflict((oc) => oc.doNothing()).execute()
    const r = await this.#db.selectFrom('console_users as u').innerJoin('tenants as t', 't.id', 'u.tenant_id')
      .select([...USER_COLUMNS, 'u.password_hash', 't.name as tenant_name'])
      .where('u.tenant_id', '=', tenantId).where(sql`lower(u.email)`, '=', email.toLowerCase()).where('u.disabled_at', 'is', null).executeTakeFirst()
    if (!r || r.role !== 'agent' || r.password_hash !== passwordHash) return undefined
    return { user: toUser(r), tenantName: r.tenant_name }
  }

  async insertSession(tenantId: TenantId, userId: string, tokenHash: string, address: string | null, expiresAt: Date, agentTokenSealed: string | null = null): Promise<string> {
    await this.#db.deleteFrom('console_sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('expires_at', '<', sql<Date>`now()`).execute()
    const r = await this.#db.insertInto('console_sessions')
      .values({ tenant_id: tenantId, user_id: userId, token_hash: tokenHash, address, expires_at: expiresAt, agent_token_sealed: agentTokenSealed })
      .returning('id').executeTakeFirstOrThrow()
    return r.id
  }

  /** The live session with this token hash, with its (enabled) user and the tenant's name. */
  async findSession(tokenHash: string): Promise<{ id: string; expiresAt: Date; user: ConsoleUser; tenantName: string; agentTokenSealed: string | null } | undefined> {
    const r = await this.#db.selectFrom('console_sessions as s')
      .innerJoin('console_users as u', (j) => j.onRef('u.tenant_id', '=', 's.tenant_id').onRef('u.id', '=', 's.user_id'))
      .innerJoin('tenants as t', 't.id', 's.tenant_id')
      .select([...USER_COLUMNS, 's.id as session_id', 's.expires_at', 't.name as tenant_name', 's.agent_token_sealed'])
      .where('s.token_hash', '=', tokenHash).where('s.expires_at', '>', sql<Date>`now()`).where('u.disabled_at', 'is', null)
      .executeTakeFirst()
    return r ? { id: r.session_id, expiresAt: r.expires_at, user: toUser(r), tenantName: r.tenant_name, agentTokenSealed: r.agent_token_sealed } : undefined
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.#db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute()
  }

  /** How many failures `key` has within `windowMs`, and when the oldest of them was. */
  async recentFailures(keys: readonly string[], windowMs: number): Promise<Map<string, { count: number; oldest: Date }>> {
    const rows = await this.#db.selectFrom('console_sign_in_failures')
      .select(['key', sql<string>`count(*)`.as('count'), sql<Date>`min(failed_at)`.as('oldest')])
      .where('key', 'in', [...keys]).where('failed_at', '>', sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`)
      .groupBy('key').execute()
    return new Map(rows.map((r) => [r.key, { count: Number(r.count), oldest: new Date(r.oldest) }]))
  }

  /**
   * Record one failure under each key, and forget every failure older than the window (the table
   * holds only the last window's failures, so this stays small).
   */
  async addFailures(keys: readonly string[], windowMs: number): Promise<void> {
    await this.#db.insertInto('console_sign_in_failures').values(keys.map((key) => ({ key }))).execute()
    await this.#db.deleteFrom('console_sign_in_failures')
      .where('failed_at', '<', sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`).execute()
  }

  async clearFailures(key: string): Promise<void> {
    await this.#db.deleteFrom('console_sign_in_failures').where('key', '=', key).execute()
  }
}
