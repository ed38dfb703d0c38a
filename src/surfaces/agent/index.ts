import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Agent, AgentStatus } from '../../core/contact-center/index.ts'
import { AuthError } from '../../core/errors.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { requireJson } from '../../http/params.ts'
import { RateLimiter } from '../../http/rate-limit.ts'
import type { Services } from '../../services.ts'
import { AGENT_ERROR_SHAPE } from './errors.ts'
import { LoginAnswer, LoginBody, Me, Message, StatusBody } from './schemas.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in agent and session of an agent API request (set by the bearer hook). */
    agentSession: { agent: Agent; sessionId: string } | null
  }
}

const security = [{ bearer: [] }]
const tags = ['agent']

function presentMe(agent: Agent, statuses: readonly AgentStatus[]) {
  const status = (s: AgentStatus) => ({ id: s.num, name: s.name, kind: s.kind })
  return {
    id: agent.num, email: agent.email, first_name: agent.firstName, last_name: agent.lastName, agent_number: agent.agentNumber,
    teams: agent.teams.map((t) => ({ id: t.num, name: t.name })), roles: [...agent.roles], permissions: [...agent.permissions],
    chat_capacity: agent.chatCapacity, status: status(agent.status), statuses: statuses.filter((s) => s.kind !== 'system').map(status),
    logout_pending: agent.logoutPending,
  }
}

function sessionOf(req: FastifyRequest): { agent: Agent; sessionId: string } {
  if (!req.agentSession) throw new Error('agent API route read the session before authenticating it')
  return req.agentSession
}

/**
 * The agent API (`/agent/v1`): what an agent workspace needs. `POST /login` trades an email and
 * password for a bearer token (the sign-in address is kept for force logout by IP); every other
 * call carries `Authorization: Bearer <token>`.
 */
export async function agentSurface(fastify: FastifyInstance, { services }: { services: Services }) {
  declareSurface(fastify, 'agent')
  registerErrorHandling(fastify, AGENT_ERROR_SHAPE, { notFound: true })
  fastify.decorateRequest('agentSession', null)
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { agents } = services
  // Password guessing: ten sign-ins a minute per address and per email.
  const attempts = new RateLimiter(10, 60_000)

  app.post('/login', {
    schema: { tags, summary: 'Sign in', description: 'Email and password of an agent of the contact-center setup; answers a bearer token (30 days) and the agent. Signing in makes an Offline agent Unavailable.', body: LoginBody, response: { 200: LoginAnswer, 400: Message, 401: Message, 415: Message, 429: Message } },
    preValidation: requireJson,
  }, async (req) => {
    attempts.take(`ip:${req.ip}`)
    attempts.take(`email:${req.body.email.trim().toLowerCase()}`)
    const { token, agent, expiresAt } = await agents.signIn(req.body.email, req.body.password, req.ip, req.body.company)
    return { token, expires_at: expiresAt.toISOString(), agent: presentMe(agent, await agents.statuses(agent.tenantId)) }
  })

  await app.register(async (authed) => {
    authed.addHook('onRequest', async (req) => {
      const m = /^\s*bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
      if (!m) throw new AuthError('missing_credentials', 'no bearer token')
      req.agentSession = await agents.authenticate(m[1]!)
      req.log = req.log.child({ tenantId: req.agentSession.agent.tenantId, agentId: req.agentSession.agent.id })
    })
    const a = authed.withTypeProvider<TypeBoxTypeProvider>()

    a.post('/logout', {
      schema: { tags, summary: 'Sign out', description: 'Ends this token. The agent goes Offline when no other sign-in is left (after the current interaction, if in one).', security, response: { 204: { type: 'null' }, 401: Message } },
    }, async (req, reply) => {
      const { agent, sessionId } = sessionOf(req)
      await agents.signOut(agent, sessionId)
      return reply.code(204).send(null)
    })

    a.get('/me', {
      schema: { tags, summary: 'The signed-in agent', security, response: { 200: Me, 401: Message } },
    }, async (req) => {
      const { agent } = sessionOf(req)
      return presentMe(agent, await agents.statuses(agent.tenantId))
    })

    a.put('/status', {
      schema: {
        tags, summary: 'Set my status',
        description: 'Available (takes offers), Unavailable or a custom status. System statuses (In-chat, In-call, Wrap-up, Offline) are set by the system: 400 while in one, or when asked for one.',
        security, body: StatusBody, response: { 200: Me, 400: Message, 401: Message, 415: Message },
      },
      preValidation: requireJson,
    }, async (req) => {
      const { agent } = sessionOf(req)
      const updated = await agents.setOwnStatus(agent, req.body.status)
      return presentMe(updated, await agents.statuses(agent.tenantId))
    })
  })
}
