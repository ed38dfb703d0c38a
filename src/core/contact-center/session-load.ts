import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { AgentLoad, QueueChannelLoads, QueueLoad } from './queue-load.port.ts'
import type { CcChannel } from './setup.schema.ts'

/** How far back handle times and arrivals are read: the queue's recent sessions. */
export const RECENT_WINDOW_HOURS = 24

/**
 * The QueueLoad of live contact-center sessions (chats now, calls later: both are `cc_sessions`):
 * per queue and channel, the sessions waiting, the average handle time of sessions that ended in
 * the last 24 hours (assigned → ended) and the arrivals of the last hour; per agent, its assigned
 * sessions plus the offers pending with it, and whether it takes offers (the status it chose is
 * of kind available, even while the system shows In-chat). Two statements per read, whatever the
 * number of queues or agents.
 */
export class SessionQueueLoad implements QueueLoad {
  readonly #db: Kysely<DB>

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async load(tenantId: TenantId, menuIds: readonly string[]): Promise<Map<string, QueueChannelLoads>> {
    const out = new Map<string, QueueChannelLoads>()
    if (menuIds.length === 0) return out
    const rows = await this.#db.selectFrom('cc_sessions')
      .select([
        'menu_id', 'channel',
        sql<string>`count(*) FILTER (WHERE status = 'queued')`.as('queued'),
        sql<string | null>`avg(extract(epoch FROM ends_at - assigned_at)) FILTER (WHERE ends_at IS NOT NULL AND assigned_at IS NOT NULL)`.as('aht'),
        sql<string>`count(*) FILTER (WHERE created_at > now() - interval '1 hour')`.as('arrivals'),
      ])
      .where('tenant_id', '=', tenantId).where('menu_id', 'in', [...menuIds])
      .where((eb) => eb.or([eb('status', '=', 'queued'), eb('created_at', '>', sql<Date>`now() - make_interval(hours => ${RECENT_WINDOW_HOURS})`)]))
      .groupBy(['menu_id', 'channel']).execute()
    for (const r of rows) {
      if (!r.menu_id) continue
      const loads = out.get(r.menu_id) ?? {}
      const aht = r.aht === null ? null : Math.max(1, Math.round(Number(r.aht)))
      loads[r.channel as CcChannel] = { queued: Number(r.queued), ahtSeconds: aht, arrivalsPerHour: Number(r.arrivals) }
      out.set(r.menu_id, loads)
    }
    return out
  }

  async agents(tenantId: TenantId, agentIds: readonly string[]): Promise<Map<string, AgentLoad>> {
    const out = new Map<string, AgentLoad>()
    if (agentIds.length === 0) return out
    const rows = await this.#db.selectFrom('cc_agents as a')
      .leftJoin('cc_statuses as cs', (j) => j.onRef('cs.tenant_id', '=', 'a.tenant_id').onRef('cs.id', '=', 'a.chosen_status_id'))
      .select([
        'a.id',
        sql<string | null>`cs.kind`.as('chosen_kind'),
        sql<string>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = a.tenant_id AND x.agent_id = a.id AND x.status = 'assigned' AND x.channel = 'chat')
          + (SELECT count(*) FROM cc_offers o JOIN cc_sessions y ON y.tenant_id = o.tenant_id AND y.id = o.session_id
             WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.id AND o.result = 'pending' AND y.channel = 'chat')`.as('chats'),
        sql<string>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = a.tenant_id AND x.agent_id = a.id AND x.status = 'assigned' AND x.channel = 'call')
          + (SELECT count(*) FROM cc_offers o JOIN cc_sessions y ON y.tenant_id = o.tenant_id AND y.id = o.session_id
             WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.id AND o.result = 'pending' AND y.channel = 'call')`.as('calls'),
      ])
      .where('a.tenant_id', '=', tenantId).where('a.id', 'in', [...agentIds]).execute()
    for (const r of rows) {
      const load: AgentLoad = r.chosen_kind === null
        ? { chats: Number(r.chats), calls: Number(r.calls) }
        : { chats: Number(r.chats), calls: Number(r.calls), takesOffers: r.chosen_kind === 'available' }
      out.set(r.id, load)
    }
    return out
  }
}
