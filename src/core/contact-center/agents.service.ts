import { createHash } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue } from '../../jobs/index.ts'
import { verifyPassword } from '../../lib/passwords.ts'
import { randomSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { AuthError, NotFoundError, ValidationError } from '../errors.ts'
import { AgentsRepository, type AgentFilter } from './agents.repository.ts'
import { FORCE_LOGOUT_JOB } from './contact-center.jobs.ts'
import type { Agent, AgentStatus } from './contact-center.types.ts'
import { nextNums, SetupRepository } from './setup.repository.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'

/** One agent's outcome of a status change or a force logout (the Apps API's AgentStatusResult). */
export interface AgentStatusResult {
  readonly agent: Agent
  readonly previousStatus: string
  readonly currentStatus: string
  /** Set when the change was refused or deferred. */
  readonly message?: string
}

/** A selection of agents by address: one address, a CIDR block, or an inclusive range. */
export type IpSelector = { kind: 'address'; address: string } | { kind: 'cidr'; cidr: string } | { kind: 'range'; from: string; to: string }

/** A force-logout job (A4): a selection too large to answer at once. */
export interface ForceLogoutJob {
  readonly num: number
  readonly status: 'in_progress' | 'finished'
  readonly total: number
  readonly processed: number
  readonly results: readonly AgentStatusResult[]
}

/** Where a status change goes next: routing offers waiting sessions to an agent that became available. */
export interface AgentEventsPort {
  agentAvailable(tenantId: TenantId, agentId: string): void
}

export const BUSY_STATUSES: readonly string[] = [SYSTEM_STATUSES.inChat, SYSTEM_STATUSES.inCall, SYSTEM_STATUSES.wrapUp]
/** A selection larger than this is logged out by a background job (A2 → 202, polled with A4). */
export const FORCE_LOGOUT_SYNC_LIMIT = 100
const SESSION_DAYS = 30
const DEFERRED = 'Agent will be logged out after the current interaction'

const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex')

/**
 * Agents at work: signing in and out (agent API bearer tokens, the login address kept for force
 * logout), their status (chosen by them or set through the Apps API, system statuses set only by
 * the system), the user list of the Apps API, and force logout.
 */
export class AgentsService {
  readonly #db: Kysely<DB>
  readonly #repo: AgentsRepository
  readonly #setup: SetupRepository
  readonly #jobs: JobQueue
  #events: AgentEventsPort = { agentAvailable: () => {} }

  constructor(db: Kysely<DB>, jobs: JobQueue) {
    this.#db = db
    this.#jobs = jobs
    this.#repo = new AgentsRepository(db)
    this.#setup = new SetupRepository(db)
  }

  /** Who hears of agents becoming available (routing); set once at wiring. */
  onEvents(events: AgentEventsPort): void {
    this.#events = events
  }

  /** The Apps API's user list (agents, deactivated ones included), in id order. */
  async list(tenantId: TenantId, filter: AgentFilter): Promise<Agent[]> {
    return this.#repo.list(this.#db, tenantId, filter)
  }

  /** How many users (agents, deactivated ones included) the tenant has. */
  async count(tenantId: TenantId): Promise<number> {
    const r = await this.#db.selectFrom('cc_agents').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
    return Number(r.n)
  }

  async get(tenantId: TenantId, agentId: string): Promise<Agent> {
    const agent = await this.#repo.findById(this.#db, tenantId, agentId)
    if (!agent) throw new NotFoundError('agent_not_found', 'no such agent', { agentId })
    return agent
  }

  /** The tenant's statuses (system and custom). */
  async statuses(tenantId: TenantId): Promise<AgentStatus[]> {
    return this.#setup.statuses(this.#db, tenantId)
  }

  /**
   * Sign an agent in by email and password: a bearer token (shown once, stored hashed) for the
   * agent API; the address is kept for force logout by IP. `company` (the tenant's Apps API
   * subdomain) picks the tenant; without it the email and password must match in one tenant only
   * (ValidationError `company_required` otherwise). Signing in makes an Offline agent Unavailable
   * (they choose Available themselves). Throws AuthError `agent_sign_in_failed` with the same
   * answer for an unknown email, a wrong password or a deactivated agent.
   */
  async signIn(email: string, password: string, ip: string | null, company?: string): Promise<{ token: string; agent: Agent; expiresAt: Date }> {
    const candidates = await this.#repo.findForLogin(email, company)
    const matches: typeof candidates = []
    for (const c of candidates) {
      if (!c.deactivated && c.passwordHash && await verifyPassword(password, c.passwordHash)) matches.push(c)
    }
    // The same work for an unknown email as for a wrong password: no timing tells them apart.
    if (candidates.length === 0) await verifyPassword(password, DUMMY_HASH)
    if (matches.length > 1) throw new ValidationError('company_required', 'this email signs in to several organisations: give company (the Apps API subdomain)')
    const match = matches[0]
    if (!match) throw new AuthError('agent_sign_in_failed', 'wrong email or password')
    const token = `sbat_${randomSecret(32)}`
    const expiresAt = new Date(Date.now() + SESSION_DAYS * 86_400_000)
    const { tenantId: tid, id } = match
    await this.#db.transaction().execute(async (trx) => {
      await this.#repo.insertSession(trx, tid, id, tokenHash(token), ip, expiresAt)
      await this.#repo.recordLogin(trx, tid, id, ip)
      await this.#repo.lockAgents(trx, tid, [id])
      const statuses = await this.#statusMap(trx, tid)
      const agent = (await this.#repo.findById(trx, tid, id))!
      if (agent.status.name === SYSTEM_STATUSES.offline) {
        const unavailable = statuses.get(SYSTEM_STATUSES.unavailable.toLowerCase())!
        await this.#repo.setStatus(trx, tid, id, unavailable.id, { idleSince: null, chosenStatusId: unavailable.id })
      }
    })
    return { token, agent: await this.get(tid, id), expiresAt }
  }

  /** The agent and sign-in of a bearer token; AuthError `invalid_session` when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<{ agent: Agent; sessionId: string }> {
    const session = token.startsWith('sbat_') ? await this.#repo.findSession(tokenHash(token)) : undefined
    if (!session) throw new AuthError('invalid_session', 'sign in again')
    const agent = await this.#repo.findById(this.#db, session.tenantId, session.agentId)
    if (!agent) throw new AuthError('invalid_session', 'sign in again')
    return { agent, sessionId: session.id }
  }

  /**
   * Sign out one session. When it was the agent's last one and they are not in an interaction,
   * they go Offline; in one, they go Offline when it ends.
   */
  async signOut(agent: Agent, sessionId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await this.#repo.revokeSession(trx, agent.tenantId, sessionId)
      const open = await trx.selectFrom('cc_agent_sessions').select('id').where('tenant_id', '=', agent.tenantId).where('agent_id', '=', agent.id)
        .where('revoked_at', 'is', null).where('expires_at', '>', new Date()).limit(1).executeTakeFirst()
      if (open) return
      await this.#logOut(trx, agent.tenantId, [agent.id])
    })
  }

  /** An agent sets their own status (Available, Unavailable or a custom one). */
  async setOwnStatus(agent: Agent, statusName: string): Promise<Agent> {
    const [result] = await this.changeStatus(agent.tenantId, statusName, { agentIds: [agent.id] })
    if (result?.message) throw new ValidationError('agent_status_not_settable', result.message, { status: statusName })
    return this.get(agent.tenantId, agent.id)
  }

  /**
   * Change agents' status (A1): the agents named and every member of the teams named, active ones
   * only. An agent in a system status (In-call, In-chat, Wrap-up, Offline) keeps it, with a message.
   * Throws ValidationError `agent_status_not_found` for an unknown status name and
   * `agent_status_not_settable` for a system status.
   */
  async changeStatus(tenantId: TenantId, statusName: string, who: { agentNums?: readonly number[]; teamNums?: readonly number[]; agentIds?: readonly string[] }): Promise<AgentStatusResult[]> {
    const available: string[] = []
    const results = await this.#db.transaction().execute(async (trx) => {
      const statuses = await this.#statusMap(trx, tenantId)
      const target = statuses.get(statusName.trim().toLowerCase())
      if (!target) throw new ValidationError('agent_status_not_found', 'Status not found', { status: statusName })
      if (target.kind === 'system') throw new ValidationError('agent_status_not_settable', `Status '${target.name}' is set by the system and can't be set`, { status: target.name })
      const agents = await this.#select(trx, tenantId, who)
      await this.#repo.lockAgents(trx, tenantId, agents.map((a) => a.id))
      const out: AgentStatusResult[] = []
      for (const stale of agents) {
        const agent = (await this.#repo.findById(trx, tenantId, stale.id))!
        const previous = agent.status.name
        if (agent.status.kind === 'system') {
          out.push({ agent, previousStatus: previous, currentStatus: previous, message: `Agent can't be changed from system status '${previous}'` })
          continue
        }
        const becomesAvailable = target.kind === 'available'
        await this.#repo.setStatus(trx, tenantId, agent.id, target.id, {
          idleSince: becomesAvailable ? (agent.status.kind === 'available' ? undefined : new Date()) : null, chosenStatusId: target.id,
        })
        if (becomesAvailable) available.push(agent.id)
        out.push({ agent, previousStatus: previous, currentStatus: target.name })
      }
      return out
    })
    for (const id of available) this.#events.agentAvailable(tenantId, id)
    return results
  }

  /**
   * Force logout (A2/A3): every signed-in agent (not Offline) among the agents named, the teams'
   * members and the agents whose sign-in address matches. Idle agents go Offline at once and their
   * sessions end; an agent in an interaction is marked and logged out when it ends. A selection of
   * more than FORCE_LOGOUT_SYNC_LIMIT agents becomes a job (`enqueueJob` runs it).
   */
  async forceLogout(tenantId: TenantId, who: { agentNums: readonly number[]; teamNums: readonly number[]; ips: readonly IpSelector[] }): Promise<{ results: AgentStatusResult[] } | { job: ForceLogoutJob }> {
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const ids = await this.#selectOnline(trx, tenantId, who)
      if (ids.length > FORCE_LOGOUT_SYNC_LIMIT) {
        const [num] = await nextNums(trx, tenantId, 'job')
        await trx.insertInto('cc_jobs').values({ tenant_id: tenantId, num: num!, kind: 'force_logout', status: 'in_progress', input: JSON.stringify({ agentIds: ids }), total: ids.length }).execute()
        await this.#jobs.enqueue(trx, FORCE_LOGOUT_JOB, { tenantId, jobNum: num! }, { key: `force_logout:${tenantId}:${num}`, tenantId })
        return { job: { num: num!, status: 'in_progress' as const, total: ids.length, processed: 0, results: [] } }
      }
      return { results: await this.#logOut(trx, tenantId, ids) }
    })
    if ('job' in outcome) this.#jobs.wake(FORCE_LOGOUT_JOB)
    return outcome
  }

  /** Run a force-logout job in chunks (the job handler; safe to run again after a crash). */
  async runForceLogoutJob(tenantId: TenantId, jobNum: number, chunk = 50): Promise<void> {
    for (;;) {
      const done = await this.#db.transaction().execute(async (trx) => {
        const job = await trx.selectFrom('cc_jobs').selectAll().where('tenant_id', '=', tenantId).where('num', '=', jobNum).forNoKeyUpdate().executeTakeFirst()
        if (!job || job.status === 'finished') return true
        const ids = (job.input as { agentIds: string[] }).agentIds.slice(job.processed, job.processed + chunk)
        const results = await this.#logOut(trx, tenantId, ids)
        const processed = job.processed + ids.length
        const finished = processed >= job.total
        await trx.updateTable('cc_jobs').set({
          processed, results: JSON.stringify([...job.results, ...results.map(storedResult)]), status: finished ? 'finished' : 'in_progress',
          ...(finished ? { finished_at: new Date() } : {}),
        }).where('tenant_id', '=', tenantId).where('num', '=', jobNum).execute()
        return finished
      })
      if (done) return
    }
  }

  /** A force-logout job (A4); NotFoundError `agent_not_found`-free: undefined when there is none. */
  async forceLogoutJob(tenantId: TenantId, jobNum: number): Promise<ForceLogoutJob | undefined> {
    const job = await this.#db.selectFrom('cc_jobs').selectAll().where('tenant_id', '=', tenantId).where('num', '=', jobNum).where('kind', '=', 'force_logout').executeTakeFirst()
    if (!job) return undefined
    const stored = job.results as StoredResult[]
    const agents = new Map((await this.#repo.list(this.#db, tenantId, { kind: 'ids', nums: stored.map((r) => r.agentNum) })).map((a) => [a.num, a]))
    return {
      num: job.num, status: job.status, total: job.total, processed: job.processed,
      results: stored.flatMap((r) => {
        const agent = agents.get(r.agentNum)
        return agent ? [{ agent, previousStatus: r.previousStatus, currentStatus: r.currentStatus, ...(r.message ? { message: r.message } : {}) }] : []
      }),
    }
  }

  /** Log agents out now, or mark those in an interaction; their results. */
  async #logOut(trx: Transaction<DB>, tenantId: TenantId, ids: readonly string[]): Promise<AgentStatusResult[]> {
    if (ids.length === 0) return []
    await this.#repo.lockAgents(trx, tenantId, ids)
    const statuses = await this.#statusMap(trx, tenantId)
    const offline = statuses.get(SYSTEM_STATUSES.offline.toLowerCase())!
    const out: AgentStatusResult[] = []
    const gone: string[] = []
    for (const id of ids) {
      const agent = (await this.#repo.findById(trx, tenantId, id))!
      const previous = agent.status.name
      if (previous === SYSTEM_STATUSES.offline) {
        out.push({ agent, previousStatus: previous, currentStatus: previous })
      } else if (BUSY_STATUSES.includes(previous)) {
        await this.#repo.setLogoutPending(trx, tenantId, id, true)
        out.push({ agent, previousStatus: previous, currentStatus: previous, message: DEFERRED })
      } else {
        await this.#repo.setStatus(trx, tenantId, id, offline.id, { idleSince: null, chosenStatusId: null, logoutPending: false })
        gone.push(id)
        out.push({ agent, previousStatus: previous, currentStatus: offline.name })
      }
    }
    await this.#repo.revokeSessionsOf(trx, tenantId, gone)
    return out
  }

  async #statusMap(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId): Promise<Map<string, AgentStatus>> {
    const statuses = await this.#setup.statuses(db, tenantId)
    if (statuses.length === 0) throw new ValidationError('contact_center_not_set_up', 'the contact center is not set up (load a setup file first)')
    return new Map(statuses.map((s) => [s.name.toLowerCase(), s]))
  }

  async #select(trx: Transaction<DB>, tenantId: TenantId, who: { agentNums?: readonly number[]; teamNums?: readonly number[]; agentIds?: readonly string[] }): Promise<Agent[]> {
    if (who.agentIds) {
      const found = await Promise.all(who.agentIds.map((id) => this.#repo.findById(trx, tenantId, id)))
      return found.filter((a): a is Agent => a !== undefined && a.deactivatedAt === null)
    }
    return this.#repo.selectMembers(trx, tenantId, who.agentNums ?? [], who.teamNums ?? [])
  }

  /** Ids of signed-in agents (not Offline) that any selector matches, in id order. */
  async #selectOnline(trx: Transaction<DB>, tenantId: TenantId, who: { agentNums: readonly number[]; teamNums: readonly number[]; ips: readonly IpSelector[] }): Promise<string[]> {
    const rows = await trx.selectFrom('cc_agents as a')
      .innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
      .select(['a.id'])
      .where('a.tenant_id', '=', tenantId).where('s.name', '<>', SYSTEM_STATUSES.offline).where('a.deactivated_at', 'is', null)
      .where((eb) => eb.or([
        ...(who.agentNums.length ? [eb('a.num', 'in', [...who.agentNums])] : []),
        ...(who.teamNums.length ? [eb.exists(eb.selectFrom('cc_agent_teams as at')
          .innerJoin('cc_teams as t', (j) => j.onRef('t.tenant_id', '=', 'at.tenant_id').onRef('t.id', '=', 'at.team_id'))
          .select(sql`1`.as('one')).whereRef('at.tenant_id', '=', 'a.tenant_id').whereRef('at.agent_id', '=', 'a.id')
          .where('t.num', 'in', [...who.teamNums]).where('t.deleted_at', 'is', null))] : []),
        ...who.ips.map((ip) => ip.kind === 'address' ? sql<boolean>`a.login_ip = ${ip.address}::inet`
          : ip.kind === 'cidr' ? sql<boolean>`a.login_ip <<= ${ip.cidr}::inet`
            : sql<boolean>`(family(a.login_ip) = family(${ip.from}::inet) AND a.login_ip BETWEEN ${ip.from}::inet AND ${ip.to}::inet)`),
        sql<boolean>`false`,
      ]))
      .orderBy('a.num').execute()
    return rows.map((r) => r.id)
  }
}

interface StoredResult { agentNum: number; previousStatus: string; currentStatus: string; message?: string }
function storedResult(r: AgentStatusResult): StoredResult {
  return { agentNum: r.agent.num, previousStatus: r.previousStatus, currentStatus: r.currentStatus, ...(r.message ? { message: r.message } : {}) }
}

// A valid hash of a random password: verifying against it costs what a real check costs.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
