import { isIP } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { IpSelector } from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { idList, toId } from '../params.ts'
import { presentForceLogoutJob, presentStatusResult } from '../presenters.ts'
import { AgentStatusesBody, AgentStatusResult, COMMON_ERRORS, ForceLogoutBody, ForceLogoutJob, JobParams, Message } from '../schemas.ts'

const tags = ['agent statuses']

/** One `ip_addrs` entry (§2.6 A2): a CIDR block, one address, or an inclusive IPv4/IPv6 range. */
export function parseIpSelector(raw: string): IpSelector | undefined {
  const text = raw.trim()
  const slash = text.indexOf('/')
  if (slash > 0) {
    const [addr, bits] = [text.slice(0, slash), text.slice(slash + 1)]
    const family = isIP(addr)
    const max = family === 4 ? 32 : 128
    if (!family || !/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined
    return { kind: 'cidr', cidr: `${addr}/${Number(bits)}` }
  }
  const dash = text.indexOf('-')
  if (dash > 0) {
    const [from, to] = [text.slice(0, dash).trim(), text.slice(dash + 1).trim()]
    const family = isIP(from)
    if (!family || isIP(to) !== family) return undefined
    return { kind: 'range', from, to }
  }
  return isIP(text) ? { kind: 'address', address: text } : undefined
}

/** A1–A4: agents' statuses and force logout. */
export async function agentStatusRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { agents } = services

  app.post('/agent_statuses', {
    schema: {
      tags, summary: 'Change agents’ status',
      description: 'Sets `status` (Available, Unavailable or a custom status) for the agents of `agent_ids` and every member of `team_ids`. Agents in a system status (In-call, In-chat, Wrap-up, Offline) keep it: their item carries a `message`. 200 with one result per agent.',
      body: AgentStatusesBody, response: { 200: Type.Array(AgentStatusResult), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const body = req.body
    if (typeof body.status !== 'string' || body.status.trim() === '') throw paramMissing('status')
    const agentNums = idList(body.agent_ids, 'agent_ids')
    const teamNums = idList(body.team_ids, 'team_ids')
    if (agentNums.length === 0 && teamNums.length === 0) throw new CcaiError(400, 'agent_ids or team_ids required')
    const results = await agents.changeStatus(tenantOf(req).id, body.status, { agentNums, teamNums })
    return results.map(presentStatusResult)
  })

  app.post('/agent_statuses/force_logout', {
    schema: {
      tags, summary: 'Force-logout agents',
      description: 'Logs out signed-in agents selected by `agent_ids`, `team_ids` and `ip_addrs` (their union). Idle agents go Offline at once; an agent in a call or chat is logged out when it ends (its item says so). '
        + 'More than 100 agents: `202` with a job to poll at `GET /agent_statuses/force_logout/{id}`.',
      body: ForceLogoutBody, response: { 200: Type.Array(AgentStatusResult), 202: Type.Object({ id: Type.Integer(), status: Type.Literal('in_progress') }), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const body = req.body
    const agentNums = idList(body.agent_ids, 'agent_ids')
    const teamNums = idList(body.team_ids, 'team_ids')
    const rawIps = body.ip_addrs === undefined ? [] : Array.isArray(body.ip_addrs) ? body.ip_addrs : [body.ip_addrs]
    const ips = rawIps.map((raw) => parseIpSelector(raw) ?? (() => { throw new CcaiError(400, `ip_addrs contains an invalid address: ${raw}`) })())
    if (agentNums.length === 0 && teamNums.length === 0 && ips.length === 0) throw new CcaiError(400, 'agent_ids, team_ids or ip_addrs required')
    const tenantId = tenantOf(req).id
    const outcome = await agents.forceLogout(tenantId, { agentNums, teamNums, ips })
    if ('job' in outcome) return reply.code(202).send({ id: outcome.job.num, status: 'in_progress' as const })
    return outcome.results.map(presentStatusResult)
  })

  app.get('/agent_statuses/force_logout/:id', {
    schema: {
      tags, summary: 'A force-logout job',
      params: JobParams, response: { 200: ForceLogoutJob, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const num = toId(req.params.id)
    const job = num === undefined ? undefined : await agents.forceLogoutJob(tenantOf(req).id, num)
    if (!job) throw new CcaiError(404, 'Not Found')
    return presentForceLogoutJob(job)
  })
}
