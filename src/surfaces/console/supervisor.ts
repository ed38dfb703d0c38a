import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { ConsoleSession } from '../../core/console/index.ts'
import type { Agent, AgentStatusResult } from '../../core/contact-center/index.ts'
import { ForbiddenError, NotFoundError } from '../../core/errors.ts'
import { DEFAULT_SERVICE_LEVEL_SECONDS, SERVICE_LEVEL_WINDOW_HOURS } from '../../core/supervisor/index.ts'
import { requireJson } from '../../http/params.ts'
import type { Services } from '../../services.ts'
import { AgentNum, ChangeStatusBody, ChartsQuery, QueuesQuery, SupervisorActionResult, SupervisorAgents, SupervisorCharts, SupervisorQueues } from './supervisor.schemas.ts'
import { Message } from './schemas.ts'

const security = [{ consoleCookie: [] }]
const tags = ['console']
/** Who sees the supervisor view and acts on agents. */
export const SUPERVISOR_ROLES: ReadonlySet<string> = new Set(['owner', 'admin', 'supervisor'])
const DAY = 86_400_000

const presentAgent = (a: Agent) => ({
  id: a.num, name: `${a.firstName} ${a.lastName}`.trim(), email: a.email,
  status: a.status.name, status_kind: a.status.kind, status_since: a.statusUpdatedAt.toISOString(),
  teams: a.teams.map((t) => t.name), logout_pending: a.logoutPending,
})
const presentResult = (r: AgentStatusResult) => ({ agent: presentAgent(r.agent), previous_status: r.previousStatus, current_status: r.currentStatus, message: r.message ?? null })

/**
 * The supervisor view's console API (`/console/api/supervisor/…`): queues now, agents by status,
 * their status change and force-logout (through the agents service, as the Apps API's A1/A2), and
 * the charts' aggregates. Owners, admins and supervisors; others 403 `forbidden`.
 */
export async function supervisorApi(fastify: FastifyInstance, { services, sessionOf }: { services: Services; sessionOf: (req: FastifyRequest) => { session: ConsoleSession } }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tenantOf = (req: FastifyRequest) => {
    const { user } = sessionOf(req).session
    if (!SUPERVISOR_ROLES.has(user.role)) throw new ForbiddenError('forbidden', 'only owners, admins and supervisors see the supervisor view')
    return user.tenantId
  }
  const agentOf = async (tenantId: Parameters<Services['agents']['list']>[0], num: number) => {
    const agent = (await services.agents.list(tenantId, { kind: 'all' })).find((a) => a.num === num && a.deactivatedAt === null)
    if (!agent) throw new NotFoundError('agent_not_found', 'no such agent', { agentId: num })
    return agent
  }

  app.get('/supervisor/queues', {
    schema: {
      tags, summary: 'Queues now', security, querystring: QueuesQuery,
      description: `Every leaf queue: sessions waiting, the estimated wait of a session joining now, the longest current wait, agents signed in and available, and the service level of the last ${SERVICE_LEVEL_WINDOW_HOURS} hours — of the sessions queued in that window, the share answered (assigned to an agent) within \`target_seconds\` (default ${DEFAULT_SERVICE_LEVEL_SECONDS}) of queueing; null when none was answered or abandoned. Owners, admins and supervisors.`,
      response: { 200: SupervisorQueues, 400: Message, 401: Message, 403: Message },
    },
  }, async (req) => {
    const tenantId = tenantOf(req)
    const target = req.query.target_seconds ?? DEFAULT_SERVICE_LEVEL_SECONDS
    const queues = await services.supervisor.queues(tenantId, target)
    return {
      target_seconds: target, window_hours: SERVICE_LEVEL_WINDOW_HOURS,
      queues: queues.map((q) => {
        const decided = q.answered + q.unanswered
        return {
          id: q.state.menu.num, name: q.state.menu.name, channels: q.state.channels.map((c) => c.channel),
          waiting: q.waiting, estimated_wait_seconds: q.estimatedWaitSeconds, longest_wait_seconds: q.longestWaitSeconds,
          logged_in_agents: q.state.loggedInAgents, available_agents: q.state.availableAgents, after_hours: q.state.afterHours,
          answered: q.answered, answered_within_target: q.answeredWithinTarget, unanswered: q.unanswered,
          service_level: decided === 0 ? null : Math.round((q.answeredWithinTarget / decided) * 1000) / 1000,
        }
      }),
    }
  })

  app.get('/supervisor/agents', {
    schema: {
      tags, summary: 'Agents by status', security,
      description: 'The organisation’s active agents (Apps API user ids) with their status and since when, and the statuses a supervisor may set (not the system ones). Owners, admins and supervisors.',
      response: { 200: SupervisorAgents, 401: Message, 403: Message },
    },
  }, async (req) => {
    const { agents, statuses } = await services.supervisor.agents(tenantOf(req))
    return { agents: agents.map(presentAgent), statuses: statuses.filter((s) => s.kind !== 'system').map((s) => s.name) }
  })

  app.post('/supervisor/agents/:id/status', {
    schema: {
      tags, summary: 'Change an agent’s status', security, params: AgentNum, body: ChangeStatusBody,
      description: 'As the Apps API’s A1 for one agent: an agent in a system status (In-chat, In-call, Wrap-up, Offline) keeps it and the answer says so in `message`. 400 `agent_status_not_found` / `agent_status_not_settable`; 404 `agent_not_found`. Needs `X-CSRF-Token`.',
      response: { 200: SupervisorActionResult, 400: Message, 401: Message, 403: Message, 404: Message, 415: Message },
    },
    preValidation: requireJson,
  }, async (req) => {
    const tenantId = tenantOf(req)
    const agent = await agentOf(tenantId, req.params.id)
    const [result] = await services.agents.changeStatus(tenantId, req.body.status, { agentIds: [agent.id] })
    const after = await services.agents.get(tenantId, agent.id)
    return { ...presentResult(result!), agent: presentAgent(after) }
  })

  app.post('/supervisor/agents/:id/force_logout', {
    schema: {
      tags, summary: 'Force an agent to log out', security, params: AgentNum,
      description: 'As the Apps API’s A2 for one agent: an idle agent goes Offline at once and their sessions end; an agent in a chat or call is logged out when it ends (`logout_pending`). An agent already Offline is answered unchanged. 404 `agent_not_found`. Needs `X-CSRF-Token`.',
      response: { 200: SupervisorActionResult, 401: Message, 403: Message, 404: Message },
    },
  }, async (req) => {
    const tenantId = tenantOf(req)
    const agent = await agentOf(tenantId, req.params.id)
    const outcome = await services.agents.forceLogout(tenantId, { agentNums: [agent.num], teamNums: [], ips: [] })
    const after = await services.agents.get(tenantId, agent.id)
    const result = 'results' in outcome ? outcome.results[0] : undefined
    return { agent: presentAgent(after), previous_status: result?.previousStatus ?? agent.status.name, current_status: after.status.name, message: result?.message ?? (result ? null : 'Agent is not signed in') }
  })

  app.get('/supervisor/charts', {
    schema: {
      tags, summary: 'Chart aggregates over a date range', security, querystring: ChartsQuery,
      description: '[`from`, `to`) (default: the last 7 days; at most 92 days): `volume` — contact-center sessions (chat, call) and outbound messages (sms, email, …) per bucket and channel; `delivery` — outbound messages per provider (`none` before one was chosen) and status; `first_response` — chats per bucket with the seconds from the session’s start to the first agent message (average, median, 90th percentile; chats never answered are left out). Buckets are UTC hours for a range of up to two days, UTC days otherwise. 400 `invalid_date_range`.',
      response: { 200: SupervisorCharts, 400: Message, 401: Message, 403: Message },
    },
  }, async (req) => {
    const tenantId = tenantOf(req)
    const to = req.query.to ? new Date(req.query.to) : new Date()
    const from = req.query.from ? new Date(req.query.from) : new Date(to.getTime() - 7 * DAY)
    const charts = await services.supervisor.charts(tenantId, { from, to })
    return {
      from: from.toISOString(), to: to.toISOString(), bucket: charts.bucket,
      volume: charts.volume.map((v) => ({ at: v.at.toISOString(), channel: v.channel, count: v.count })),
      delivery: charts.delivery.map((d) => ({ ...d })),
      first_response: charts.firstResponse.map((f) => ({ at: f.at.toISOString(), sessions: f.sessions, average_seconds: f.averageSeconds, median_seconds: f.medianSeconds, p90_seconds: f.p90Seconds })),
    }
  })
}
