import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB, OfferEventRow } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'

/**
 * An agent event to record (and stream) in the caller's transaction. The agent's row is locked
 * first (until the caller commits), so one agent's events get their ids in the order they commit:
 * a stream that read up to an id never misses an event that takes a smaller id but commits later.
 */
export async function recordAgentEvent(trx: Kysely<DB> | Transaction<DB>, tenantId: TenantId, agentId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await trx.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).where('id', '=', agentId).forNoKeyUpdate().execute()
  await trx.insertInto('cc_agent_events').values({ tenant_id: tenantId, agent_id: agentId, type, data: JSON.stringify(data) }).execute()
}

export interface RoutingOptions {
  /** Offers made per tenant per pass (a pass repeats until none is made). */
  batch?: number
  /** Report a failed pass (the sweep tries again). */
  onError?: (err: unknown) => void
}

/**
 * Routing, exactly once: waiting sessions are offered per queue in order (priority, then longest
 * waiting) to available agents of the queue's teams with free capacity, the longest-idle agent
 * first. A declined or expired offer goes to the next agent (cascade), each appended to
 * `offer_events`. Correct with any number of processes on one PostgreSQL: sessions and agents are
 * claimed with `FOR UPDATE SKIP LOCKED`, and the database holds at most one pending offer per
 * session (a unique index), so a session is never offered to two agents at once; nothing is lost,
 * since a session stays `queued` until an agent accepts and the sweep looks again.
 */
export class RoutingService {
  readonly #db: Kysely<DB>
  readonly #batch: number
  readonly #onError: (err: unknown) => void
  readonly #running = new Map<TenantId, Promise<void>>()
  readonly #again = new Set<TenantId>()
  #sweeper: NodeJS.Timeout | undefined
  #offerTimeoutSeconds: (tenantId: TenantId, trx: Transaction<DB>) => Promise<number> = async () => 30

  constructor(db: Kysely<DB>, options: RoutingOptions = {}) {
    this.#db = db
    // Small passes: a pass's offers reach the agents when it commits, so the first offer of an
    // agent who just became available does not wait for twenty sessions' worth of candidate queries.
    this.#batch = options.batch ?? 5
    this.#onError = options.onError ?? (() => {})
  }

  /** Where offers learn their timeout (the tenant's settings); set once at wiring. */
  useOfferTimeout(timeout: (tenantId: TenantId, trx: Transaction<DB>) => Promise<number>): void {
    this.#offerTimeoutSeconds = timeout
  }

  /**
   * Route the tenant's waiting sessions now, after the caller's commit (a session queued, an agent
   * available, capacity freed). Passes of one tenant never overlap in this process; a kick during a
   * pass runs one more.
   */
  kick(tenantId: TenantId): Promise<void> {
    const running = this.#running.get(tenantId)
    if (running) {
      this.#again.add(tenantId)
      return running
    }
    const run = (async () => {
      try {
        do {
          this.#again.delete(tenantId)
          while (await this.#pass(tenantId) > 0) { /* offers were made: look again */ }
        } while (this.#again.has(tenantId))
      } catch (err) {
        this.#onError(err)
      } finally {
        this.#running.delete(tenantId)
      }
    })()
    this.#running.set(tenantId, run)
    return run
  }

  /**
   * Every process with workers: expire offers past their time (to the next agent) and route every
   * tenant with a session waiting unoffered, each `everyMs` — the safety net for kicks another
   * process made or missed.
   */
  startSweeper(everyMs = 1000): void {
    if (this.#sweeper) return
    this.#sweeper = setInterval(() => {
      this.sweep().catch(this.#onError)
    }, everyMs)
    this.#sweeper.unref()
  }

  stopSweeper(): void {
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }

  /** One sweep: expire due offers, then route the tenants that have unoffered waiting sessions. */
  async sweep(now = new Date()): Promise<void> {
    const expired = await this.expireOffers(now)
    const waiting = await this.#db.selectFrom('cc_sessions as s').select('s.tenant_id').distinct()
      .where('s.status', '=', 'queued')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('cc_offers as o').select(sql`1`.as('one')).whereRef('o.tenant_id', '=', 's.tenant_id').whereRef('o.session_id', '=', 's.id').where('o.result', '=', 'pending'))))
      .limit(1000).execute()
    const tenants = new Set([...expired, ...waiting.map((r) => r.tenant_id)])
    await Promise.all([...tenants].map((t) => this.kick(t)))
  }

  /** Offers past their time become `timeout` (the session goes to the next agent); the tenants touched. */
  async expireOffers(now = new Date()): Promise<TenantId[]> {
    const tenants = await this.#db.transaction().execute(async (trx) => {
      const due = await trx.selectFrom('cc_offers').select(['id', 'tenant_id', 'session_id', 'agent_id']).where('result', '=', 'pending')
        .where('expires_at', '<=', now).orderBy('expires_at').limit(200).forNoKeyUpdate().skipLocked().execute()
      for (const o of due) await this.resolveOffer(trx, o.tenant_id, o, 'timeout')
      return due.map((o) => o.tenant_id)
    })
    return [...new Set(tenants)]
  }

  /**
   * Close a pending offer as accepted, rejected, timed out or withdrawn (the session is locked by the
   * caller): its `offer_events` item is updated, the agent's workspace is told.
   */
  async resolveOffer(trx: Transaction<DB>, tenantId: TenantId, offer: { id: string; session_id: string; agent_id: string }, result: 'accepted' | 'rejected' | 'timeout' | 'withdrawn'): Promise<void> {
    await trx.updateTable('cc_offers').set({ result, resolved_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', offer.id).execute()
    const session = await trx.selectFrom('cc_sessions').select(['num', 'offer_events']).where('tenant_id', '=', tenantId).where('id', '=', offer.session_id).executeTakeFirstOrThrow()
    const agent = await trx.selectFrom('cc_agents').select('num').where('tenant_id', '=', tenantId).where('id', '=', offer.agent_id).executeTakeFirstOrThrow()
    const events = [...session.offer_events]
    for (let i = events.length - 1; i >= 0; i--) {
      if (events[i]!.agent_id === agent.num && events[i]!.result === 'pending') {
        events[i] = { ...events[i]!, result }
        break
      }
    }
    await trx.updateTable('cc_sessions').set({ offer_events: JSON.stringify(events) }).where('tenant_id', '=', tenantId).where('id', '=', offer.session_id).execute()
    if (result !== 'accepted') await recordAgentEvent(trx, tenantId, offer.agent_id, 'offer_closed', { offer_id: offer.id, chat_id: session.num, result })
    if (result !== 'accepted') await this.#failTransfer(trx, tenantId, offer.id, session.num, result)
  }

  /** An agent transfer's offer was declined, expired or withdrawn: the transfer failed, and its agent is told (the chat stays theirs). */
  async #failTransfer(trx: Transaction<DB>, tenantId: TenantId, offerId: string, chatNum: number, result: 'rejected' | 'timeout' | 'withdrawn'): Promise<void> {
    const failed = await trx.updateTable('cc_transfers').set({ status: 'failed', fail_reason: result === 'rejected' ? 'declined' : result })
      .where('tenant_id', '=', tenantId).where('offer_id', '=', offerId).where('status', '=', 'transferring').returning(['num', 'from_agent_id']).executeTakeFirst()
    if (failed?.from_agent_id) await recordAgentEvent(trx, tenantId, failed.from_agent_id, 'transfer_failed', { chat_id: chatNum, transfer_id: failed.num, reason: result === 'rejected' ? 'declined' : result })
  }

  /** One pass: offers for up to `batch` waiting sessions of the tenant; how many were made. */
  async #pass(tenantId: TenantId): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const sessions = await trx.selectFrom('cc_sessions as s').select(['s.id', 's.num', 's.menu_id', 's.offer_events', 's.channel', 's.preferred_agent_id'])
        .where('s.tenant_id', '=', tenantId).where('s.status', '=', 'queued')
        .where((eb) => eb.not(eb.exists(eb.selectFrom('cc_offers as o').select(sql`1`.as('one')).whereRef('o.tenant_id', '=', 's.tenant_id').whereRef('o.session_id', '=', 's.id').where('o.result', '=', 'pending'))))
        .orderBy('s.priority', 'desc').orderBy('s.queued_at').orderBy('s.num')
        .limit(this.#batch).forNoKeyUpdate().skipLocked().execute()
      if (sessions.length === 0) return 0
      // Read again now that the rows are locked: this statement's snapshot is newer than the
      // select's, which may predate another router's commit of an offer for one of them (the lock
      // waits for that commit, but the re-check of a locked row does not see the new offer row).
      const offered = new Set((await trx.selectFrom('cc_offers').select('session_id').where('tenant_id', '=', tenantId)
        .where('session_id', 'in', sessions.map((s) => s.id)).where('result', '=', 'pending').execute()).map((r) => r.session_id))
      const timeout = await this.#offerTimeoutSeconds(tenantId, trx)
      let made = 0
      // Queues for which no agent at all was free in this pass (asked excluding nobody): later
      // sessions of the same queue would get none either (capacity only shrinks within the pass,
      // and a preferred agent only changes the order), so they are not asked again.
      const full = new Set<string>()
      for (const s of sessions) {
        if (!s.menu_id || full.has(s.menu_id) || offered.has(s.id)) continue
        const tried = s.offer_events.filter((e) => e.result === 'rejected' || e.result === 'timeout').map((e) => e.agent_id)
        const agent = await this.#candidate(trx, tenantId, s.menu_id, tried, s.preferred_agent_id)
        if (!agent) {
          if (tried.length === 0) full.add(s.menu_id)
          continue
        }
        const offeredAt = new Date()
        const expiresAt = new Date(offeredAt.getTime() + timeout * 1000)
        const offer = await trx.insertInto('cc_offers').values({ tenant_id: tenantId, session_id: s.id, agent_id: agent.id, offered_at: offeredAt, expires_at: expiresAt })
          .returning('id').executeTakeFirstOrThrow()
        const events: OfferEventRow[] = [...s.offer_events, { agent_id: agent.num, offered_at: offeredAt.toISOString(), result: 'pending' }]
        await trx.updateTable('cc_sessions').set({ offer_events: JSON.stringify(events), offer_type: 'cascade' }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
        await recordAgentEvent(trx, tenantId, agent.id, 'offer', { offer_id: offer.id, chat_id: s.num, channel: s.channel, expires_at: expiresAt.toISOString() })
        made++
      }
      return made
    })
  }

  /**
   * The agent to offer a session of `menuId` to: active, signed in and chose Available (Available or
   * already In-chat), not leaving, in a team serving the queue, with free capacity (assigned
   * sessions plus pending offers below their chat capacity), without an open preview offer, not
   * among those who declined or let the offer lapse; the preferred agent (a resumed chat's previous one), then the longest idle first. Locked, skipping agents another router holds.
   */
  /**
   * The agent routing would offer a session of queue `menuId` to now (locked in `trx`), passing over
   * `exclude` (agent nums); a call transferred to a queue is offered to this agent.
   */
  async candidateFor(trx: Transaction<DB>, tenantId: TenantId, menuId: string, exclude: readonly number[]): Promise<{ id: string; num: number } | undefined> {
    return this.#candidate(trx, tenantId, menuId, exclude)
  }

  async #candidate(trx: Transaction<DB>, tenantId: TenantId, menuId: string, tried: readonly number[], preferred: string | null = null): Promise<{ id: string; num: number } | undefined> {
    // The capacity test of the select ran on a snapshot that may predate another router's commit of
    // an offer to the agent it then locked (no row of cc_agents changed, so nothing is re-checked):
    // count again under the lock, which every offer to the agent takes first, and pass over an agent
    // found full.
    const full: string[] = []
    for (let tries = 0; tries < 20; tries++) {
      const row = await this.#lockCandidate(trx, tenantId, menuId, tried, preferred, full)
      if (!row) return undefined
      const load = await trx.selectFrom('cc_agents as a').select(sql<number>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = a.tenant_id AND x.agent_id = a.id AND x.status = 'assigned')
        + (SELECT count(*) FROM cc_offers o WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.id AND o.result = 'pending')`.as('n'))
        .where('a.tenant_id', '=', tenantId).where('a.id', '=', row.id).executeTakeFirstOrThrow()
      if (Number(load.n) < row.chat_capacity) return { id: row.id, num: row.num }
      full.push(row.id)
    }
    return undefined
  }

  async #lockCandidate(trx: Transaction<DB>, tenantId: TenantId, menuId: string, tried: readonly number[], preferred: string | null, full: readonly string[]): Promise<{ id: string; num: number; chat_capacity: number } | undefined> {
    let q = trx.selectFrom('cc_agents as a')
      .innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
      .innerJoin('cc_statuses as cs', (j) => j.onRef('cs.tenant_id', '=', 'a.tenant_id').onRef('cs.id', '=', 'a.chosen_status_id'))
      .select(['a.id', 'a.num', 'a.chat_capacity'])
      .where('a.tenant_id', '=', tenantId).where('a.deactivated_at', 'is', null).where('a.logout_pending', '=', false)
      .where('cs.kind', '=', 'available').where('s.name', 'in', [SYSTEM_STATUSES.available, SYSTEM_STATUSES.inChat])
      .where((eb) => eb.exists(eb.selectFrom('cc_agent_teams as at')
        .innerJoin('cc_menu_teams as mt', (j) => j.onRef('mt.tenant_id', '=', 'at.tenant_id').onRef('mt.team_id', '=', 'at.team_id'))
        .innerJoin('cc_teams as t', (j) => j.onRef('t.tenant_id', '=', 'at.tenant_id').onRef('t.id', '=', 'at.team_id'))
        .select(sql`1`.as('one')).whereRef('at.tenant_id', '=', 'a.tenant_id').whereRef('at.agent_id', '=', 'a.id')
        .where('mt.menu_id', '=', menuId).where('t.deleted_at', 'is', null)))
      .where(sql<boolean>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = a.tenant_id AND x.agent_id = a.id AND x.status = 'assigned')
        + (SELECT count(*) FROM cc_offers o WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.id AND o.result = 'pending') < a.chat_capacity`)
      // An agent looking at a preview campaign's contact (an open preview offer) is about to dial it.
      .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_preview_offers p WHERE p.tenant_id = a.tenant_id AND p.agent_id = a.id AND p.result = 'open')`)
    if (tried.length) q = q.where('a.num', 'not in', [...tried])
    if (full.length) q = q.where('a.id', 'not in', [...full])
    // A resumed chat goes to its previous agent first when they can take it.
    if (preferred) q = q.orderBy(sql`CASE WHEN a.id = ${preferred} THEN 0 ELSE 1 END`)
    const row = await q.orderBy(sql`a.idle_since ASC NULLS LAST`).orderBy('a.num').limit(1).forUpdate('a').skipLocked().executeTakeFirst()
    return row
  }
}
