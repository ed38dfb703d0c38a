import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Tenant } from '../../../core/tenants/index.ts'
import type { WebchatPerson, WebchatSubscription } from '../../../core/webchat/index.ts'
import type { Services } from '../../../services.ts'
import { RateLimitedError } from '../../../core/errors.ts'
import { presentMessage, presentSession } from '../presenters.ts'
import { RateLimiter } from '../../../http/rate-limit.ts'
import { CompanyParams, EventsQuery, HistoryQuery, HistoryResponse, Message, SendBody, SendResponse, SessionBody, SessionResponse } from '../schemas.ts'

const errors = { 400: Message, 404: Message, 429: Message }
const authed = { ...errors, 401: Message }
/** Keep-alive comment on an idle stream, below common proxy idle timeouts. */
const HEARTBEAT_MS = 20_000
/** Open streams one person may have (tabs), and one process in all. */
const MAX_STREAMS_PER_PERSON = 10
const MAX_STREAMS = 5_000

/** Limits of the public endpoints (per process): generous for people, tight for scripts. */
export interface EmbedRateLimits {
  sessionsPerIpPerMinute: number
  messagesPerSessionPerMinute: number
  readsPerIpPerMinute: number
}
export const DEFAULT_RATE_LIMITS: EmbedRateLimits = { sessionsPerIpPerMinute: 60, messagesPerSessionPerMinute: 30, readsPerIpPerMinute: 300 }

/**
 * The chat page's JSON API and live stream under `/embed/1/{company}/api`. Every call names the
 * tenant's public embed code (`auth_code`); all but `session` also the session token.
 */
export async function embedApiRoutes(fastify: FastifyInstance, { services, limits = DEFAULT_RATE_LIMITS }: { services: Services; limits?: EmbedRateLimits }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { webchat } = services
  const sessions = new RateLimiter(limits.sessionsPerIpPerMinute, 60_000)
  const sends = new RateLimiter(limits.messagesPerSessionPerMinute, 60_000)
  const reads = new RateLimiter(limits.readsPerIpPerMinute, 60_000)
  const limit = (limiter: RateLimiter, key: string) => limiter.take(key)
  const session = async (req: FastifyRequest, company: string, authCode: string, token: string): Promise<{ tenant: Tenant; person: WebchatPerson }> => {
    const tenant = await webchat.resolveEmbed(company, authCode)
    req.log = req.log.child({ tenantId: tenant.id })
    return { tenant, person: await webchat.authenticate(tenant, token) }
  }

  // Streams still open when the server closes are ended, so the close does not wait for them.
  const streams = new Set<() => void>()
  const perPerson = new Map<string, number>()
  fastify.addHook('preClose', async () => {
    for (const end of [...streams]) end()
  })

  app.post('/1/:company/api/session', {
    schema: {
      tags: ['embed'], summary: 'Start or resume a chat session',
      description: 'With `person_id`, the session of that identified person. Otherwise an anonymous session: the person a `token` from an earlier session names, or a new anonymous `web` person. A person who never talked with the bot is sent into `thread_id`, else the tenant\'s default thread, once.',
      params: CompanyParams, body: SessionBody, response: { 200: SessionResponse, ...errors },
    },
  }, async (req) => {
    limit(sessions, req.ip)
    const b = req.body
    const tenant = await webchat.resolveEmbed(req.params.company, b.auth_code)
    req.log = req.log.child({ tenantId: tenant.id })
    const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())
    const s = await webchat.startSession(tenant, { token: nonEmpty(b.token), personRef: nonEmpty(b.person_id), threadName: nonEmpty(b.thread_id) })
    return presentSession(s)
  })

  app.get('/1/:company/api/messages', {
    schema: {
      tags: ['embed'], summary: 'The chat so far',
      description: 'The newest messages of the person\'s web chat, oldest first, and the cursor to stream after. The bot\'s answers appear once delivered, in the order it wrote them.',
      params: CompanyParams, querystring: HistoryQuery, response: { 200: HistoryResponse, ...authed },
    },
  }, async (req, reply) => {
    limit(reads, req.ip)
    const { tenant, person } = await session(req, req.params.company, req.query.auth_code, req.query.token)
    const history = await webchat.history(tenant, person, { limit: req.query.limit })
    reply.header('cache-control', 'no-store')
    return { messages: history.messages.map(presentMessage), cursor: history.cursor }
  })

  app.post('/1/:company/api/messages', {
    schema: {
      tags: ['embed'], summary: 'Write to the bot',
      description: 'Stores what the person wrote; the bot answers through the live stream. 202: accepted, the bot takes it in a moment.',
      params: CompanyParams, body: SendBody, response: { 202: SendResponse, ...authed },
    },
  }, async (req, reply) => {
    const { tenant, person } = await session(req, req.params.company, req.body.auth_code, req.body.token)
    limit(sends, `${tenant.id}:${person.id}`)
    const message = await webchat.send(tenant, person, req.body.text)
    return reply.code(202).send({ message: presentMessage(message) })
  })

  app.get('/1/:company/api/events', {
    schema: {
      tags: ['embed'], summary: 'Live stream of the chat (Server-Sent Events)',
      description: '`text/event-stream`: one `message` event per chat message after `after` (or the `Last-Event-ID` header), `id` = its cursor, `data` = the message as JSON. Works with any number of API processes: changes are announced through the database. A reconnecting EventSource resumes where it stopped, losing and repeating nothing.',
      params: CompanyParams, querystring: EventsQuery, response: { ...authed, 503: Message },
    },
  }, async (req, reply) => {
    limit(reads, req.ip)
    const { tenant, person } = await session(req, req.params.company, req.query.auth_code, req.query.token)
    const lastEventId = req.headers['last-event-id']
    const after = typeof lastEventId === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(lastEventId) ? lastEventId : req.query.after ?? '0'
    if (streams.size >= MAX_STREAMS) return reply.code(503).header('retry-after', '5').send({ message: 'Too many open chats; try again shortly' })
    const key = `${tenant.id}:${person.id}`
    const open = perPerson.get(key) ?? 0
    if (open >= MAX_STREAMS_PER_PERSON) throw new RateLimitedError('rate_limited', 'too many open streams', { retryAfter: 5 })

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no',
      'x-request-id': req.id,
    })
    res.write('retry: 2000\n\n')
    perPerson.set(key, open + 1)
    let sub: WebchatSubscription | undefined
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      clearInterval(heartbeat)
      sub?.close()
      streams.delete(end)
      const n = (perPerson.get(key) ?? 1) - 1
      if (n <= 0) perPerson.delete(key)
      else perPerson.set(key, n)
      res.end()
    }
    streams.add(end)
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS)
    req.raw.on('close', end)
    try {
      sub = await webchat.subscribe(tenant, person, after, (m) => {
        if (!ended) res.write(`id: ${m.cursor}\nevent: message\ndata: ${JSON.stringify(presentMessage(m))}\n\n`)
      })
      if (ended) sub.close()
    } catch (err) {
      req.log.error({ err }, 'web chat stream failed')
      end()
    }
  })
}
