import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Agent, AgentStatus, PreviewOffer } from '../../core/contact-center/index.ts'
import { AuthError, NotFoundError, ValidationError } from '../../core/errors.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { requireJson } from '../../http/params.ts'
import { RateLimiter } from '../../http/rate-limit.ts'
import type { Services } from '../../services.ts'
import { presentCall, presentChat, presentMessage } from '../ccai/presenters.ts'
import { AGENT_ERROR_SHAPE } from './errors.ts'
import { LoginAnswer, LoginBody, Me, Message, StatusBody } from './schemas.ts'
import { TransferBody, WrapUpBody } from './schemas.ts'

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
  const { agents, chats } = services
  // Open event streams, ended when the server closes (a hijacked reply is not closed for us).
  const streams = new Set<() => void>()
  fastify.addHook('onClose', async () => {
    for (const end of [...streams]) end()
  })
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

    const ChatId = Type.Object({ id: Type.String({ description: 'Chat id' }) })
    const OfferId = Type.Object({ id: Type.String({ description: 'Offer id (from the `offer` event)' }) })
    const chatNum = (raw: string) => (/^\d{1,9}$/.test(raw) ? Number(raw) : -1)
    const ChatOut = Type.Object({ id: Type.Integer(), status: Type.String() }, { additionalProperties: true })

    a.get('/events', {
      schema: {
        tags, summary: 'The live event stream (Server-Sent Events)',
        description: '`text/event-stream` of `offer`, `offer_closed`, `chat_assigned`, `message`, `chat_closed` and `status` events, `data` JSON, `id` the cursor. Every tab of the agent, on any API process, gets the same events; a reconnecting EventSource (`Last-Event-ID`) resumes where it stopped.',
        security,
      },
    }, async (req, reply) => {
      const { agent } = sessionOf(req)
      const given = req.headers['last-event-id']
      const cursor = typeof given === 'string' && /^\d{1,18}$/.test(given) ? given : await services.agentEvents.head(agent.tenantId, agent.id)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': req.id })
      res.write('retry: 2000\n\n')
      let closed = false
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
      const sub = await services.agentEvents.subscribe(agent.tenantId, agent.id, cursor, (e) => {
        if (!closed) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`)
      })
      const end = () => {
        if (closed) return
        closed = true
        clearInterval(heartbeat)
        sub.close()
        streams.delete(end)
        res.end()
      }
      streams.add(end)
      req.raw.on('close', end)
    })

    a.get('/chats', {
      schema: { tags, summary: 'My chats (assigned to me now)', security, response: { 200: Type.Array(ChatOut), 401: Message } },
    }, async (req) => (await chats.forAgent(sessionOf(req).agent)).map(presentChat))

    a.get('/chats/:id/messages', {
      schema: { tags, summary: 'The messages of one of my chats', security, params: ChatId, response: { 200: Type.Array(Type.Object({}, { additionalProperties: true })), 401: Message, 404: Message } },
    }, async (req) => {
      const { agent } = sessionOf(req)
      const mine = (await chats.forAgent(agent)).some((c) => c.num === chatNum(req.params.id))
      if (!mine) throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: chatNum(req.params.id) })
      return (await chats.messages(agent.tenantId, chatNum(req.params.id))).map(presentMessage)
    })

    a.post('/offers/:id/accept', {
      schema: { tags, summary: 'Accept an offer', description: 'The chat becomes mine (`assigned`); 404 when the offer is gone (expired, withdrawn, taken).', security, params: OfferId, response: { 200: ChatOut, 401: Message, 404: Message } },
    }, async (req) => {
      // An offer of a call (issue 12) is the calls service's; a chat's the chats service's.
      const call = await services.calls.acceptOffer(sessionOf(req).agent, req.params.id)
      return call ? presentCall(call) : presentChat(await chats.accept(sessionOf(req).agent, req.params.id))
    })

    a.post('/offers/:id/decline', {
      schema: { tags, summary: 'Decline an offer', description: 'The chat is offered to the next agent.', security, params: OfferId, response: { 204: { type: 'null' }, 401: Message, 404: Message } },
    }, async (req, reply) => {
      if (!(await services.calls.declineOffer(sessionOf(req).agent, req.params.id))) await chats.decline(sessionOf(req).agent, req.params.id)
      return reply.code(204).send(null)
    })

    a.post('/chats/:id/messages', {
      schema: {
        tags, summary: 'Send a message into one of my chats', description: 'Delivered to the end user through the tenant’s chat webhook (`message_received`).', security, params: ChatId,
        body: Type.Object({ content: Type.String({ minLength: 1, maxLength: 10_000 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({}, { additionalProperties: true }), 400: Message, 401: Message, 404: Message, 415: Message },
      },
      preValidation: requireJson,
    }, async (req, reply) => {
      const m = await chats.agentMessage(sessionOf(req).agent, chatNum(req.params.id), { type: 'text', content: req.body.content, mediaId: null })
      return reply.code(201).send(presentMessage(m))
    })

    // Attachments: the body is the file, streamed into the files store (never buffered by a parser).
    await a.register(async (raw) => {
      raw.removeAllContentTypeParsers()
      raw.addContentTypeParser('*', (_req, _payload, done) => done(null))
      const r = raw.withTypeProvider<TypeBoxTypeProvider>()
      r.post('/chats/:id/attachments', {
        schema: {
          tags, summary: 'Send a file into one of my chats',
          description: 'The body is the file, `Content-Type` its media type (images, videos, documents), `?file_name=` its name (optional). It becomes an agent message of type `photo`, `video` or `file` with a `media_id`, delivered through the tenant’s chat webhook (`message_received`); the tenant downloads it with `GET /apps/api/v1/chats/:chat_id/media/:media_id`. 400 `file_too_large` over the files limit.',
          security, params: ChatId,
          querystring: Type.Object({ file_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: true }),
          response: { 201: Type.Object({}, { additionalProperties: true }), 400: Message, 401: Message, 404: Message },
        },
      }, async (req, reply) => {
        try {
          const contentType = req.headers['content-type']
          if (!contentType) throw new ValidationError('invalid_file_options', 'Content-Type must be the file’s media type', { field: 'contentType' })
          const { message } = await services.chatMedia.sendFromAgent(sessionOf(req).agent, chatNum(req.params.id), {
            contentType, stream: req.raw, fileName: req.query.file_name ?? null,
          })
          return await reply.code(201).send(presentMessage(message))
        } catch (err) {
          // Refused before the body was read: drain it, so the connection is not left half-read.
          if (!req.raw.readableEnded && !req.raw.destroyed) req.raw.resume()
          throw err
        }
      })
    })

    a.post('/chats/:id/end', {
      schema: { tags, summary: 'End one of my chats', security, params: ChatId, response: { 200: ChatOut, 400: Message, 401: Message, 404: Message } },
    }, async (req) => {
      const { agent } = sessionOf(req)
      return presentChat(await chats.end(agent.tenantId, chatNum(req.params.id), 'agent', agent.id))
    })

    a.post('/chats/:id/transfer', {
      schema: {
        tags, summary: 'Transfer one of my chats to another agent or to a queue',
        description: 'Exactly one of `agent_id` (the agent is offered the chat as an `offer` event with `transfer_from`; when they accept they join and I leave, when they decline or let it lapse I get `transfer_failed` and keep the chat) or `menu_id` (a leaf chat queue: the chat waits there for the next agent and I leave at once). The chat’s `transfers` list every attempt with its status.',
        security, params: ChatId, body: TransferBody,
        response: { 200: ChatOut, 400: Message, 401: Message, 404: Message, 415: Message },
      },
      preValidation: requireJson,
    }, async (req) => {
      const { agent } = sessionOf(req)
      const { agent_id: agentNum, menu_id: menuNum } = req.body
      if ((agentNum === undefined) === (menuNum === undefined)) throw new ValidationError('invalid_transfer', 'Give exactly one of agent_id and menu_id')
      return presentChat(await chats.transfer(agent, chatNum(req.params.id), agentNum !== undefined ? { agentNum } : { menuNum: menuNum! }))
    })

    a.post('/chats/:id/wrap-up', {
      schema: {
        tags, summary: 'Finish my wrap-up of a chat',
        description: 'After a chat ends I am in Wrap-up (no offers) for the setup’s `wrap_up_timeout`, or until I post the disposition here (one of the setup’s `dispositions` when it lists any); then back to the status I chose, or Offline when a force logout waited. Answers me.',
        security, params: ChatId, body: WrapUpBody, response: { 200: Me, 400: Message, 401: Message, 404: Message, 415: Message },
      },
      preValidation: requireJson,
    }, async (req) => {
      const { agent } = sessionOf(req)
      await chats.wrapUp(agent, chatNum(req.params.id), req.body.disposition)
      return presentMe(await agents.get(agent.tenantId, agent.id), await agents.statuses(agent.tenantId))
    })

    // ── Calls (issue 12): my calls and their controls; the platform's telephony follows ──
    const CallId = Type.Object({ id: Type.String({ description: 'Call id' }) })
    const CallOut = Type.Object({ id: Type.Integer(), status: Type.String() }, { additionalProperties: true, description: 'Call (§3.1), with custom_data, contact_data and the customer flags' })
    /** My call: the Call, and `confirm_by` while it waits for my confirmation (C1's 202; null otherwise). */
    const presentMyCall = (c: Parameters<typeof presentCall>[0]) => ({ ...presentCall(c), confirm_by: c.confirmBy ? c.confirmBy.toISOString() : null })
    a.get('/calls', {
      schema: { tags, summary: 'My calls (assigned to me, not ended)', description: 'Each with its customer flags (`verified`, `bad_actor`, `repeat_customer`), `custom_data` (CD1) and `contact_data` (W2).', security, response: { 200: Type.Array(CallOut), 401: Message } },
    }, async (req) => (await services.calls.forAgent(sessionOf(req).agent)).map(presentMyCall))
    a.post('/calls/:id/confirm', {
      schema: { tags, summary: 'Confirm one of my outbound calls waiting for me (C1’s 202)', description: 'The platform dials it as a 201 call: `assigned` → `connecting` → `connected`. 400 when it is not waiting for a confirmation (ended: "Call is already ended").', security, params: CallId, response: { 200: CallOut, 400: Message, 401: Message, 404: Message } },
    }, async (req) => presentMyCall(await services.calls.confirmOutbound(sessionOf(req).agent, chatNum(req.params.id))))
    a.post('/calls/:id/cancel', {
      schema: { tags, summary: 'Cancel one of my outbound calls waiting for me (C1’s 202)', description: 'Nothing is dialled: `failed`, `fail_reason` `canceled`, `disconnected_by_agent`; I go to wrap-up. 400 when it is not waiting for a confirmation.', security, params: CallId, response: { 200: CallOut, 400: Message, 401: Message, 404: Message } },
    }, async (req) => presentMyCall(await services.calls.cancelOutbound(sessionOf(req).agent, chatNum(req.params.id))))
    for (const [path, summary] of [['hold', 'Put one of my connected calls on hold'], ['resume', 'Take one of my calls off hold']] as const) {
      a.post(`/calls/:id/${path}`, {
        schema: { tags, summary, description: '`hold_duration` counts the time on hold. 400 when the call is not connected.', security, params: CallId, response: { 200: CallOut, 400: Message, 401: Message, 404: Message } },
      }, async (req) => presentCall(await services.calls.hold(sessionOf(req).agent, chatNum(req.params.id), path === 'hold')))
    }
    a.post('/calls/:id/hang-up', {
      schema: { tags, summary: 'Hang up one of my calls', description: 'Connected: `finished`, `disconnected_by_agent`; before it connected: `failed` (`canceled`). Every leg is hung up on the provider; I go to wrap-up.', security, params: CallId, response: { 200: CallOut, 400: Message, 401: Message, 404: Message } },
    }, async (req) => presentCall(await services.calls.hangUp(sessionOf(req).agent, chatNum(req.params.id))))
    a.get('/voicemails', {
      schema: { tags, summary: 'Voicemails of the queues my teams serve', description: 'Deflected calls whose end user left a message (`voicemail_received`, or `voicemail_read` once opened), newest first (at most 200), each with `recording_url`, `voicemail_reason` and `deflection`.', security, response: { 200: Type.Array(CallOut), 401: Message } },
    }, async (req) => (await services.calls.voicemails(sessionOf(req).agent)).map(presentCall))
    a.post('/voicemails/:id/open', {
      schema: { tags, summary: 'Open a voicemail', description: 'The call moves from `voicemail_received` to `voicemail_read` (opening it again changes nothing). 404 when it is no voicemail of my queues.', security, params: CallId, response: { 200: CallOut, 401: Message, 404: Message } },
    }, async (req) => presentCall(await services.calls.openVoicemail(sessionOf(req).agent, chatNum(req.params.id))))
    a.post('/calls/:id/transfer', {
      schema: {
        tags, summary: 'Transfer one of my connected calls to another agent or to a queue',
        description: 'Exactly one of `agent_id` (that agent) or `menu_id` (a leaf call queue: the agent routing picks there). The receiving agent gets an `offer` event (`channel` `call`, `transfer_from`) and accepts or declines it with the offer routes; on accept the platform dials their leg into the call and, once it answered, hangs up mine: the call stays `connected`, `agent_info` is theirs, I go to wrap-up. Declined, lapsed or a failed leg: the transfer is `failed`, I get `transfer_failed` and keep the call. The call’s `transfers` list every attempt.',
        security, params: CallId, body: TransferBody,
        response: { 200: CallOut, 400: Message, 401: Message, 404: Message, 415: Message },
      },
      preValidation: requireJson,
    }, async (req) => {
      const { agent } = sessionOf(req)
      const { agent_id: agentNum, menu_id: menuNum } = req.body
      if ((agentNum === undefined) === (menuNum === undefined)) throw new ValidationError('invalid_transfer', 'Give exactly one of agent_id and menu_id')
      return presentCall(await services.calls.transfer(agent, chatNum(req.params.id), agentNum !== undefined ? { agentNum } : { menuNum: menuNum! }))
    })

    // ── The dialer's preview mode (issue 12, item 5): contacts offered to me before they are dialled ──
    const PreviewOfferOut = Type.Object({
      id: Type.String({ description: 'Offer id' }),
      status: Type.String({ description: 'open, dialled, skipped, closed' }),
      created_at: Type.String({ format: 'date-time' }), expires_at: Type.String({ format: 'date-time' }),
      contact_status: Type.String({ description: 'The contact’s status (§4.3)' }),
      contact_data: Type.Object({}, { additionalProperties: true, description: 'W2: name, email, unique_id, phone_number, campaign_id, campaign_name, contact_id' }),
      call: Type.Optional(CallOut),
    }, { additionalProperties: false })
    const presentPreviewOffer = (o: PreviewOffer, status: string) => ({
      id: o.id, status, created_at: o.createdAt.toISOString(), expires_at: o.expiresAt.toISOString(), contact_status: o.contact.status,
      contact_data: { name: o.contact.name, email: o.contact.email, unique_id: o.contact.uniqueId, phone_number: o.contact.phone, campaign_id: o.campaign.num, campaign_name: o.campaign.name, contact_id: o.contact.num },
    })
    a.get('/preview-offers', {
      schema: { tags, summary: 'My open preview offers', description: 'Contacts of preview campaigns offered to me (at most one at a time), each until `expires_at`; a `preview_offer` event announces each.', security, response: { 200: Type.Array(PreviewOfferOut), 401: Message } },
    }, async (req) => (await services.dialer.previewOffers(sessionOf(req).agent)).map((o) => presentPreviewOffer(o, 'open')))
    const previewActions = [
      ['dial', 'dial', 'Dial the offered contact', 'Places the call with me on it (`call`): the contact is Dialing, then Connected when the person answers, Finished when the call ends; not answered, busy and the rest as for the other modes. 409 when I am in a conversation already.'],
      ['skip', 'skip', 'Skip the offered contact', 'The contact is Skipped and back in the pool: it is offered to another agent, and to me again only after the campaign’s `preview.repeat_after` (default 10 minutes).'],
      ['skip-and-close', 'skip_and_close', 'Skip and close the offered contact', 'The contact is Skipped & Closed: never offered or dialled again in this campaign.'],
    ] as const
    for (const [path, action, summary, description] of previewActions) {
      a.post(`/preview-offers/:id/${path}`, {
        schema: { tags, summary, description: `${description} 404 when the offer is not mine; 409 when it expired or was acted on already.`, security, params: OfferId, response: { 200: PreviewOfferOut, 401: Message, 404: Message, 409: Message } },
      }, async (req) => {
        const { agent } = sessionOf(req)
        const { offer, callNum } = await services.dialer.actOnPreviewOffer(agent, req.params.id, action)
        const out = presentPreviewOffer(offer, action === 'dial' ? 'dialled' : action === 'skip' ? 'skipped' : 'closed')
        return callNum === null ? out : { ...out, call: presentCall(await services.calls.get(agent.tenantId, callNum)) }
      })
    }

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
