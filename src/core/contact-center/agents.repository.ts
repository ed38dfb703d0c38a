import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { Agent, StatusKind } from './contact-center.types.ts'
import { nextNums } from './setup.repository.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** An agent's profile as a setup file declares it. */
export interface AgentProfile {
  email: string
  firstName: string
  lastName: string
  agentNumber: string | null
  location: string | null
  roles: string[]
  permissions: string[]
  chatCapacity: number
  phoneNumbers: string[]
  active: boolean
}

/** Which agents a user list returns: everyone, one page, or one filter of the Apps API. */
export type AgentFilter =
  | { kind: 'all' }
  | { kind: 'page'; offset: number; limit: number }
  | { kind: 'ids'; nums: number[] }
  | { kind: 'agent_numbers'; values: string[] }
  | { kind: 'status_ids'; nums: number[] }
  | { kind: 'online'; values: boolean[] }
  | { kind: 'wrap_up'; values: boolean[] }
  | { kind: 'locations'; values: string[] }
  | { kind: 'last_login'; from?: Date; to?: Date }
  | { kind: 'status_updated'; from?: Date; to?: Date }

const AGENT_COLUMNS = [
  'a.id', 'a.tenant_id', 'a.num', 'a.email', 'a.first_name', 'a.last_name', 'a.agent_number', 'a.location', 'a.roles', 'a.permissions',
  'a.chat_capacity', 'a.phone_numbers', 'a.deactivated_at', 'a.status_updated_at', 'a.last_login_at', 'a.login_ip', 'a.logout_pending',
  's.id as status_id', 's.num as status_num', 's.name as status_name', 's.kind as status_kind',
] as const

interface AgentRow {
  id: string; tenant_id: TenantId; num: number; email: string; first_name: string; last_name: string; agent_number: string | null
  location: string | null; roles: string[]; permissions: string[]; chat_capacity: number; phone_numbers: string[]
  deactivated_at: Date | null; status_updated_at: Date; last_login_at: Date | null; login_ip: string | null; logout_pending: boolean
  status_id: string; status_num: number; status_name: string; status_kind: StatusKind
  teams: Array<{ id: string; num: number; name: string }>
}

function toAgent(r: AgentRow): Agent {
  return {
    id: r.id, tenantId: r.tenant_id, num: Number(r.num), email: r.email, firstName: r.first_name, lastName: r.last_name,
    agentNumber: r.agent_number, location: r.location, roles: r.roles, permissions: r.permissions, chatCapacity: r.chat_capacity,
    phoneNumbers: r.phone_numbers, teams: r.teams.map((t) => ({ id: t.id, num: Number(t.num), name: t.name })),
    deactivatedAt: r.deactivated_at, statusUpdatedAt: r.status_updated_at, lastLoginAt: r.last_login_at, loginIp: r.login_ip,
    logoutPending: r.logout_pending,
    status: { id: r.status_id, num: Number(r.status_num), name: r.status_name, kind: r.status_kind },
  }
}

/** Data access of agents: their profiles (from the setup), sign-ins and live status. */
export class AgentsRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  #select(db: Executor, tenantId: TenantId) {
    return db.selectFrom('cc_agents as a')
      .innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
      .select(AGENT_COLUMNS)
      .select(sql<AgentRow['teams']>`coalesce((SELECT json_agg(json_build_object('id', t.id, 'num', t.num, 'name', t.name) ORDER BY t.num)
        FROM cc_agent_teams at JOIN cc_teams t ON t.tenant_id = at.tenant_id AND t.id = at.team_id AND t.deleted_at IS NULL
        WHERE at.tenant_id = a.tenant_id AND at.agent_id = a.id), '[]'::json)`.as('teams'))
      .where('a.tenant_id', '=', tenantId)
  }

  async findById(db: Executor, tenantId: TenantId, id: string): Promise<Agent | undefined> {
    const row = await this.#select(db, tenantId).where('a.id', '=', id).executeTakeFirst()
    return row ? toAgent(row as unknown as AgentRow) : undefined
  }

  async findByNum(db: Executor, tenantId: TenantId, num: number): Promise<Agent | undefined> {
    const row = await this.#select(db, tenantId).where('a.num', '=', num).executeTakeFirst()
    return row ? toAgent(row as unknown as AgentRow) : undefined
  }

  /**
   * The agents signing in by email (case-insensitive), with their password hashes, deactivated ones
   * too: of the tenant whose Apps API subdomain is `company` when given, else of every tenant.
   */
  async findForLogin(email: string, company?: string): Promise<Array<{ id: string; tenantId: TenantId; passwordHash: string | null; deactivated: boolean }>> {
    let q = this.#db.selectFrom('cc_agents as a').select(['a.id', 'a.tenant_id', 'a.password_hash', 'a.deactivated_at']).where(sql`lower(a.email)`, '=', email.trim().toLowerCase())
    if (company !== undefined) {
      q = q.where((eb) => eb.exists(eb.selectFrom('tenant_credentials as c').select(sql`1`.as('one')).whereRef('c.tenant_id', '=', 'a.tenant_id')
        .where('c.surface', '=', 'ccai').where('c.kind', '=', 'token').where(sql`lower(c.key)`, '=', company.trim().toLowerCase()).where('c.revoked_at', 'is', null)))
    }
    const rows = await q.limit(20).execute()
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, passwordHash: r.password_hash, deactivated: r.deactivated_at !== null }))
  }

  /** Agents of a user list (active and deactivated), in id order. */
  async list(db: Executor, tenantId: TenantId, filter: AgentFilter): Promise<Agent[]> {
    let q = this.#select(db, tenantId) as unknown as SelectQueryBuilder<DB & { a: DB['cc_agents']; s: DB['cc_statuses'] }, 'a' | 's', AgentRow>
    switch (filter.kind) {
      case 'all': break
      case 'page': q = q.offset(filter.offset).limit(filter.limit); break
      case 'ids': q = filter.nums.length ? q.where('a.num', 'in', filter.nums) : q.where(sql<boolean>`false`); break
      case 'agent_numbers': q = filter.values.length ? q.where('a.agent_number', 'in', filter.values) : q.where(sql<boolean>`false`); break
      case 'status_ids': q = filter.nums.length ? q.where('s.num', 'in', filter.nums) : q.where(sql<boolean>`false`); break
      case 'online': q = q.where(sql<boolean>`(s.name <> 'Offline')`, 'in', filter.values); break
      case 'wrap_up': q = q.where(sql<boolean>`(s.name = 'Wrap-up')`, 'in', filter.values); break
      case 'locations': q = filter.values.length ? q.where('a.location', 'in', filter.values) : q.where(sql<boolean>`false`); break
      case 'last_login':
        if (filter.from) q = q.where('a.last_login_at', '>', filter.from)
        if (filter.to) q = q.where('a.last_login_at', '<', filter.to)
        break
      case 'status_updated':
        if (filter.from) q = q.where('a.status_updated_at', '>', filter.from)
        if (filter.to) q = q.where('a.status_updated_at', '<', filter.to)
        break
    }
    const rows = await q.orderBy('a.num').execute()
    return rows.map((r) => toAgent(r as unknown as AgentRow))
  }

  /** Agents by Apps API id or by team id (members), in id order; deactivated ones left out. */
  async selectMembers(db: Executor, tenantId: TenantId, agentNums: readonly number[], teamNums: readonly number[]): Promise<Agent[]> {
    const rows = await this.#select(db, tenantId).where('a.deactivated_at', 'is', null).where((eb) => eb.or([
      eb('a.num', 'in', agentNums.length ? [...agentNums] : [-1]),
      eb.exists(eb.selectFrom('cc_agent_teams as at').innerJoin('cc_teams as t', (j) => j.onRef('t.tenant_id', '=', 'at.tenant_id').onRef('t.id', '=', 'at.team_id'))
        .select(sql`1`.as('one')).whereRef('at.tenant_id', '=', 'a.tenant_id').whereRef('at.agent_id', '=', 'a.id')
        .where('t.num', 'in', teamNums.length ? [...teamNums] : [-1]).where('t.deleted_at', 'is', null)),
    ])).orderBy('a.num').execute()
    return rows.map((r) => toAgent(r as unknown as AgentRow))
  }

  /** Email (lower case) → id and whether it has a password, for every agent of the tenant. */
  async existingByEmail(trx: Transaction<DB>, tenantId: TenantId): Promise<Map<string, { id: string; passwordHash: string | null }>> {
    const rows = await trx.selectFrom('cc_agents').select(['id', 'email', 'password_hash']).where('tenant_id', '=', tenantId).execute()
    return new Map(rows.map((r) => [r.email.toLowerCase(), { id: r.id, passwordHash: r.password_hash }]))
  }

  /** Insert new agents (Offline) and update existing ones by email; ids by lower-case email. */
  async upsertProfiles(trx: Transaction<DB>, tenantId: TenantId, profiles: readonly AgentProfile[], offlineStatusId: string, existing: ReadonlyMap<string, { id: string }>): Promise<Map<string, string>> {
    const ids = new Map<string, string>()
    const fresh = profiles.filter((p) => !existing.has(p.email.toLowerCase()))
    const nums = await nextNums(trx, tenantId, 'agent', fresh.length)
    const now = new Date()
    if (fresh.length) {
      const rows = await trx.insertInto('cc_agents').values(fresh.map((p, i) => ({
        tenant_id: tenantId, num: nums[i]!, email: p.email, first_name: p.firstName, last_name: p.lastName, agent_number: p.agentNumber,
        location: p.location, roles: p.roles, permissions: p.permissions, chat_capacity: p.chatCapacity, phone_numbers: p.phoneNumbers,
        deactivated_at: p.active ? null : now, status_id: offlineStatusId, status_updated_at: now,
      }))).returning(['id', 'email']).execute()
      for (const r of rows) ids.set(r.email.toLowerCase(), r.id)
    }
    for (const p of profiles) {
      const hit = existing.get(p.email.toLowerCase())
      if (!hit) continue
      ids.set(p.email.toLowerCase(), hit.id)
      await trx.updateTable('cc_agents').set({
        email: p.email, first_name: p.firstName, last_name: p.lastName, agent_number: p.agentNumber, location: p.location, roles: p.roles,
        permissions: p.permissions, chat_capacity: p.chatCapacity, phone_numbers: p.phoneNumbers, updated_at: now,
        deactivated_at: p.active ? null : sql<Date>`coalesce(deactivated_at, ${now})`,
      }).where('tenant_id', '=', tenantId).where('id', '=', hit.id).execute()
    }
    return ids
  }

  async setPasswordHash(trx: Executor, tenantId: TenantId, agentId: string, hash: string): Promise<void> {
    await trx.updateTable('cc_agents').set({ password_hash: hash }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  }

  /** Agents not among `keep` (ids) are deactivated; the ids deactivated now. */
  async deactivateOthers(trx: Transaction<DB>, tenantId: TenantId, keep: readonly string[]): Promise<string[]> {
    let q = trx.updateTable('cc_agents').set({ deactivated_at: new Date() }).where('tenant_id', '=', tenantId).where('deactivated_at', 'is', null)
    if (keep.length) q = q.where('id', 'not in', [...keep])
    return (await q.returning('id').execute()).map((r) => r.id)
  }

  /** Replace the team memberships of the tenant's agents. */
  async setAgentTeams(trx: Transaction<DB>, tenantId: TenantId, links: ReadonlyArray<{ agentId: string; teamId: string }>): Promise<void> {
    await trx.deleteFrom('cc_agent_teams').where('tenant_id', '=', tenantId).execute()
    if (links.length) await trx.insertInto('cc_agent_teams').values(links.map((l) => ({ tenant_id: tenantId, agent_id: l.agentId, team_id: l.teamId }))).execute()
  }

  /** Deactivated agents that are still signed in or not Offline: signed out and set Offline. */
  async signOutDeactivated(trx: Transaction<DB>, tenantId: TenantId, offlineStatusId: string): Promise<void> {
    const gone = trx.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).where('deactivated_at', 'is not', null)
    await trx.updateTable('cc_agent_sessions').set({ revoked_at: new Date() }).where('tenant_id', '=', tenantId).where('revoked_at', 'is', null)
      .where('agent_id', 'in', gone).execute()
    await trx.updateTable('cc_agents').set({ status_id: offlineStatusId, status_updated_at: new Date(), idle_since: null, logout_pending: false })
      .where('tenant_id', '=', tenantId).where('deactivated_at', 'is not', null).where('status_id', '<>', offlineStatusId).execute()
  }

  async countActive(db: Executor, tenantId: TenantId): Promise<number> {
    const r = await db.selectFrom('cc_agents').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).where('deactivated_at', 'is', null).executeTakeFirstOrThrow()
    return Number(r.n)
  }

  // Sign-ins

  async insertSession(db: Executor, tenantId: TenantId, agentId: string, tokenHash: string, ip: string | null, expiresAt: Date): Promise<void> {
    await db.insertInto('cc_agent_sessions').values({ tenant_id: tenantId, agent_id: agentId, token_hash: tokenHash, ip, expires_at: expiresAt }).execute()
  }

  async findSession(tokenHash: string): Promise<{ id: string; tenantId: TenantId; agentId: string } | undefined> {
    const r = await this.#db.selectFrom('cc_agent_sessions as s')
      .innerJoin('cc_agents as a', (j) => j.onRef('a.tenant_id', '=', 's.tenant_id').onRef('a.id', '=', 's.agent_id'))
      .select(['s.id', 's.tenant_id', 's.agent_id'])
      .where('s.token_hash', '=', tokenHash).where('s.revoked_at', 'is', null).where('s.expires_at', '>', new Date()).where('a.deactivated_at', 'is', null)
      .executeTakeFirst()
    return r && { id: r.id, tenantId: r.tenant_id, agentId: r.agent_id }
  }

  async revokeSession(db: Executor, tenantId: TenantId, sessionId: string): Promise<void> {
    await db.updateTable('cc_agent_sessions').set({ revoked_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', sessionId).execute()
  }

  async revokeSessionsOf(db: Executor, tenantId: TenantId, agentIds: readonly string[]): Promise<void> {
    if (agentIds.length === 0) return
    await db.updateTable('cc_agent_sessions').set({ revoked_at: new Date() }).where('tenant_id', '=', tenantId).where('agent_id', 'in', [...agentIds]).where('revoked_at', 'is', null).execute()
  }

  /** Record a sign-in: time and address. */
  async recordLogin(db: Executor, tenantId: TenantId, agentId: string, ip: string | null): Promise<void> {
    await db.updateTable('cc_agents').set({ last_login_at: new Date(), login_ip: ip }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  }

  /** Lock agents for a status change (in id order, so concurrent changes never deadlock). */
  async lockAgents(trx: Transaction<DB>, tenantId: TenantId, agentIds: readonly string[]): Promise<void> {
    if (agentIds.length === 0) return
    await trx.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...agentIds]).orderBy('id').forNoKeyUpdate().execute()
  }

  /**
   * Set an agent's status. `idleSince`: since when it is free to take offers (null: not available;
   * undefined: unchanged). `chosenStatusId`: the status it returns to after a system one (undefined: unchanged).
   */
  async setStatus(trx: Executor, tenantId: TenantId, agentId: string, statusId: string, opts: { idleSince?: Date | null | undefined; chosenStatusId?: string | null; logoutPending?: boolean }): Promise<void> {
    await trx.updateTable('cc_agents').set({
      status_id: statusId, status_updated_at: new Date(),
      ...(opts.idleSince !== undefined ? { idle_since: opts.idleSince } : {}),
      ...(opts.chosenStatusId !== undefined ? { chosen_status_id: opts.chosenStatusId } : {}),
      ...(opts.logoutPending !== undefined ? { logout_pending: opts.logoutPending } : {}),
    }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  }

  async setLogoutPending(trx: Executor, tenantId: TenantId, agentId: string, pending: boolean): Promise<void> {
    await trx.updateTable('cc_agents').set({ logout_pending: pending }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  }
}
