import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { AgentsService, QueuesService, QueueState } from '../contact-center/index.ts'
import { ValidationError } from '../errors.ts'

/** The service-level target when none is asked: a session answered within 60 seconds of queueing. */
export const DEFAULT_SERVICE_LEVEL_SECONDS = 60
/** How far back the service level and the longest answered wait look: the last 24 hours. */
export const SERVICE_LEVEL_WINDOW_HOURS = 24
/** The longest date range the charts take. */
export const MAX_CHART_DAYS = 92

/** One leaf queue now, as a supervisor watches it. */
export interface SupervisedQueue {
  readonly state: QueueState
  /** Sessions waiting now (every channel). */
  readonly waiting: number
  /** How long the oldest waiting session has waited, in seconds (0 when none waits). */
  readonly longestWaitSeconds: number
  /** The estimated wait of a session joining now: the longest over the queue's channels; null when unbounded (nobody signed in). */
  readonly estimatedWaitSeconds: number | null
  /** Sessions of the window that were answered (assigned to an agent), and of them within the target. */
  readonly answered: number
  readonly answeredWithinTarget: number
  /** Sessions of the window that left the queue unanswered (abandoned, timed out, …). */
  readonly unanswered: number
}

export interface ChartRange { readonly from: Date; readonly to: Date }

export interface SupervisorCharts {
  readonly bucket: 'hour' | 'day'
  /** Contact-center sessions (chat, call) and outbound messages (sms, email, …) per bucket and channel. */
  readonly volume: ReadonlyArray<{ readonly at: Date; readonly channel: string; readonly count: number }>
  /** Outbound messages per provider and status. */
  readonly delivery: ReadonlyArray<{ readonly provider: string; readonly status: string; readonly count: number }>
  /** Chats per bucket: how long from the session's start to the first agent message (seconds). */
  readonly firstResponse: ReadonlyArray<{ readonly at: Date; readonly sessions: number; readonly averageSeconds: number; readonly medianSeconds: number; readonly p90Seconds: number }>
}

/**
 * The console's supervisor view (issue 11, item 4): queues now with their service level, agents
 * by status, and the charts' aggregates over a date range — a tenant's own numbers only (every
 * query takes the tenant first).
 */
export class SupervisorService {
  readonly #db: Kysely<DB>
  readonly #queues: QueuesService
  readonly #agents: AgentsService
  readonly #now: () => Date

  constructor(deps: { db: Kysely<DB>; queues: QueuesService; agents: AgentsService; now?: () => Date }) {
    this.#db = deps.db
    this.#queues = deps.queues
    this.#agents = deps.agents
    this.#now = deps.now ?? (() => new Date())
  }

  /**
   * Every leaf queue now, with the waits and the service level of the last 24 hours: the share of
   * the sessions queued in the window that were answered within `targetSeconds` of queueing
   * (answered later or never count against it). Throws `contact_center_not_set_up`.
   */
  async queues(tenantId: TenantId, targetSeconds = DEFAULT_SERVICE_LEVEL_SECONDS): Promise<SupervisedQueue[]> {
    const states = await this.#queues.current(tenantId)
    if (states.length === 0) return []
    const now = this.#now()
    const since = new Date(now.getTime() - SERVICE_LEVEL_WINDOW_HOURS * 3600_000)
    const rows = await this.#db.selectFrom('cc_sessions')
      .select((eb) => [
        'menu_id',
        sql<string>`count(*) FILTER (WHERE status = 'queued')`.as('waiting'),
        sql<Date | string | null>`min(coalesce(queued_at, created_at)) FILTER (WHERE status = 'queued')`.as('oldest'),
        sql<string>`count(*) FILTER (WHERE assigned_at IS NOT NULL AND coalesce(queued_at, created_at) >= ${since})`.as('answered'),
        sql<string>`count(*) FILTER (WHERE assigned_at IS NOT NULL AND coalesce(queued_at, created_at) >= ${since} AND assigned_at - coalesce(queued_at, created_at) <= make_interval(secs => ${targetSeconds}))`.as('within'),
        sql<string>`count(*) FILTER (WHERE assigned_at IS NULL AND status <> 'queued' AND coalesce(queued_at, created_at) >= ${since})`.as('unanswered'),
        eb.fn.countAll<string>().as('n'),
      ])
      .where('tenant_id', '=', tenantId)
      .where('menu_id', 'in', states.map((s) => s.menu.id))
      .where((eb) => eb.or([eb('status', '=', 'queued'), eb('created_at', '>=', since)]))
      .groupBy('menu_id')
      .execute()
    const byMenu = new Map(rows.map((r) => [r.menu_id, r]))
    return states.map((state) => {
      const r = byMenu.get(state.menu.id)
      const oldest = r?.oldest ? new Date(r.oldest) : null
      const estimates = state.channels.map((c) => c.estimate.seconds)
      return {
        state,
        waiting: Number(r?.waiting ?? 0),
        longestWaitSeconds: oldest ? Math.max(0, Math.floor((now.getTime() - oldest.getTime()) / 1000)) : 0,
        estimatedWaitSeconds: estimates.some((s) => s === null) ? null : Math.ceil(Math.max(0, ...estimates as number[])),
        answered: Number(r?.answered ?? 0),
        answeredWithinTarget: Number(r?.within ?? 0),
        unanswered: Number(r?.unanswered ?? 0),
      }
    })
  }

  /** The organisation's active agents with their status, by name. */
  async agents(tenantId: TenantId) {
    const [agents, statuses] = await Promise.all([this.#agents.list(tenantId, { kind: 'all' }), this.#agents.statuses(tenantId)])
    return {
      agents: agents.filter((a) => a.deactivatedAt === null).sort((x, y) => `${x.firstName} ${x.lastName}`.localeCompare(`${y.firstName} ${y.lastName}`) || x.num - y.num),
      statuses,
    }
  }

  /**
   * The charts over [from, to): hourly buckets for a range of up to two days, daily ones (UTC) for
   * longer. Throws `invalid_date_range` when `to` is not after `from` or the range is longer than
   * MAX_CHART_DAYS.
   */
  async charts(tenantId: TenantId, range: ChartRange): Promise<SupervisorCharts> {
    const { from, to } = range
    const span = to.getTime() - from.getTime()
    if (!(span > 0)) throw new ValidationError('invalid_date_range', '`to` must be after `from`', { from: from.toISOString(), to: to.toISOString() })
    if (span > MAX_CHART_DAYS * 86_400_000) throw new ValidationError('invalid_date_range', `The range may be at most ${MAX_CHART_DAYS} days`, { from: from.toISOString(), to: to.toISOString() })
    const bucket = span <= 2 * 86_400_000 ? 'hour' : 'day'
    const unit = sql.lit(bucket)
    const trunc = (col: string) => sql<Date | string>`(date_trunc(${unit}, ${sql.ref(col)} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`
    const [sessions, messages, delivery, first] = await Promise.all([
      this.#db.selectFrom('cc_sessions').select((eb) => [trunc('created_at').as('at'), 'channel', eb.fn.countAll<string>().as('n')])
        .where('tenant_id', '=', tenantId).where('created_at', '>=', from).where('created_at', '<', to)
        .groupBy([sql`1`, 'channel']).execute(),
      this.#db.selectFrom('outbox_messages').select((eb) => [trunc('created_at').as('at'), 'channel', eb.fn.countAll<string>().as('n')])
        .where('tenant_id', '=', tenantId).where('created_at', '>=', from).where('created_at', '<', to)
        .groupBy([sql`1`, 'channel']).execute(),
      this.#db.selectFrom('outbox_messages').select((eb) => [sql<string>`coalesce(provider, 'none')`.as('provider'), 'status', eb.fn.countAll<string>().as('n')])
        .where('tenant_id', '=', tenantId).where('created_at', '>=', from).where('created_at', '<', to)
        .groupBy([sql`1`, 'status']).execute(),
      this.#db.selectFrom('cc_sessions as s')
        .innerJoinLateral((eb) => eb.selectFrom('cc_messages as m').select((e) => e.fn.min('m.created_at').as('first_at'))
          .whereRef('m.tenant_id', '=', 's.tenant_id').whereRef('m.session_id', '=', 's.id').where('m.from_end_user', '=', false).where('m.agent_id', 'is not', null).as('f'), (join) => join.onTrue())
        .select([
          sql<Date | string>`(date_trunc(${unit}, s.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`.as('at'),
          sql<string>`count(*)`.as('n'),
          sql<number>`avg(extract(epoch FROM f.first_at - s.created_at))::float8`.as('avg'),
          sql<number>`percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.first_at - s.created_at))::float8`.as('p50'),
          sql<number>`percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM f.first_at - s.created_at))::float8`.as('p90'),
        ])
        .where('s.tenant_id', '=', tenantId).where('s.channel', '=', 'chat').where('s.created_at', '>=', from).where('s.created_at', '<', to)
        .where('f.first_at', 'is not', null)
        .groupBy(sql`1`).execute(),
    ])
    const utc = (v: Date | string) => new Date(v)
    const byTime = <T extends { at: Date }>(a: T, b: T) => a.at.getTime() - b.at.getTime()
    return {
      bucket,
      volume: [...sessions, ...messages].map((r) => ({ at: utc(r.at), channel: r.channel, count: Number(r.n) }))
        .sort((a, b) => byTime(a, b) || a.channel.localeCompare(b.channel)),
      delivery: delivery.map((r) => ({ provider: r.provider, status: r.status, count: Number(r.n) }))
        .sort((a, b) => a.provider.localeCompare(b.provider) || a.status.localeCompare(b.status)),
      firstResponse: first.map((r) => ({ at: utc(r.at), sessions: Number(r.n), averageSeconds: round(r.avg), medianSeconds: round(r.p50), p90Seconds: round(r.p90) })).sort(byTime),
    }
  }
}

const round = (n: number | string) => Math.round(Number(n) * 10) / 10
