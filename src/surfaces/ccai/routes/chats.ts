import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentChat, presentEscalation, presentMessage } from '../presenters.ts'
import { COMMON_ERRORS, IdInput, Message } from '../schemas.ts'

const tags = ['chats']
const Id = Type.Object({ id: Type.String({ description: 'Chat id' }) })
// The chat object is the union of two documented shapes and grows (§1.4): documented loosely.
const ChatOut = Type.Object({ id: Type.Integer(), status: Type.String() }, { additionalProperties: true, description: 'Chat (§3.2)' })
const MessageOut = Type.Object({
  id: Type.Integer(), chat_id: Type.Integer(), from_user_id: Type.Union([Type.Integer(), Type.Null()]), from_agent_id: Type.Union([Type.Integer(), Type.Null()]),
  type: Type.String(), content: Type.Union([Type.String(), Type.Null()]), media_id: Type.Union([Type.String(), Type.Null()]), created_at: Type.Union([Type.String(), Type.Null()]),
})

const EscalationOut = Type.Object({
  id: Type.Integer(), chat_id: Type.Integer(), reason: Type.Union([Type.String(), Type.Null()]), force_escalate: Type.Boolean(), status: Type.String(),
  deflection_channels: Type.Array(Type.String()), deflection_channel: Type.Union([Type.String(), Type.Null()]), created_at: Type.Union([Type.String(), Type.Null()]),
}, { description: 'Escalation (§3.16)' })

const chatNum = (raw: string): number => toId(raw) ?? (() => { throw new CcaiError(404, 'Not Found') })()
const object = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The chat platform API (§2.8): H12 start, H13 read, H3 end-user messages, H1 end. */
export async function chatRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { chats } = services

  app.post('/chats', {
    schema: {
      tags, summary: 'Start a chat',
      description: 'On a leaf queue (`chat.menu_id`) for an end user (`chat.end_user_id`). `201` with the chat: `queued` (offered to the queue’s agents at once) or `va_assigned` when the queue starts with a virtual agent.',
      body: Type.Object({
        chat: Type.Optional(Type.Object({
          menu_id: Type.Optional(IdInput), end_user_id: Type.Optional(IdInput), lang: Type.Optional(Type.String({ maxLength: 20 })),
          email: Type.Optional(Type.String({ maxLength: 254 })), context: Type.Optional(Type.Object({}, { additionalProperties: true })),
          transcript: Type.Optional(Type.Unknown()),
        }, { additionalProperties: true })),
      }, { additionalProperties: true }),
      response: { 201: ChatOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const chat = req.body.chat
    if (!object(chat)) throw paramMissing('chat')
    if (chat.menu_id === undefined) throw paramMissing('menu_id')
    if (chat.end_user_id === undefined) throw paramMissing('end_user_id')
    const menuNum = toId(chat.menu_id)
    if (menuNum === undefined) throw new CcaiError(400, `menu_id ${String(chat.menu_id)} is not found`)
    const endUserNum = toId(chat.end_user_id)
    if (endUserNum === undefined) throw new CcaiError(400, 'end_user_id is invalid')
    const started = await chats.start(tenantOf(req).id, {
      menuNum, endUserNum, ...(chat.lang ? { lang: chat.lang } : {}), ...(chat.email ? { email: chat.email } : {}), ...(chat.context ? { context: chat.context as Record<string, unknown> } : {}),
    })
    return reply.code(201).send(presentChat(started))
  })

  app.get('/chats/:id', {
    schema: { tags, summary: 'A chat', params: Id, response: { 200: ChatOut, ...COMMON_ERRORS } },
  }, async (req) => presentChat(await chats.get(tenantOf(req).id, chatNum(req.params.id))))

  app.post('/chats/:id/message', {
    schema: {
      tags, summary: 'An end-user message into the chat',
      description: 'Text (`message.type` `text` with `content`) or media (`photo`, `video`, `file` with `media_id`). It reaches the agent’s workspace at once. 400 "Chat is already ended" on an ended chat.',
      params: Id,
      body: Type.Object({
        from_user_id: Type.Optional(IdInput),
        message: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), content: Type.Optional(Type.String({ maxLength: 10_000 })), media_id: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Integer()])) }, { additionalProperties: true })),
      }, { additionalProperties: true }),
      response: { 201: MessageOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const num = chatNum(req.params.id)
    const { from_user_id: from, message } = req.body
    if (from === undefined) throw paramMissing('from_user_id')
    if (!object(message)) throw paramMissing('message')
    if (typeof message.type !== 'string' || message.type === '') throw paramMissing('type')
    const type = message.type
    if (!['text', 'photo', 'video', 'file'].includes(type)) throw new CcaiError(400, 'type is invalid')
    if (type === 'text' && (typeof message.content !== 'string' || message.content.trim() === '')) throw new CcaiError(400, 'content is required')
    const mediaId = typeof message.media_id === 'number' ? String(message.media_id) : message.media_id
    if (type !== 'text' && (typeof mediaId !== 'string' || mediaId === '')) throw new CcaiError(400, 'media_id is required')
    const fromUserNum = toId(from) ?? (() => { throw new CcaiError(400, 'from_user_id is invalid') })()
    // A media message names media attached to this chat (H6/H9, or an agent's file).
    if (type !== 'text') await services.chatMedia.requireAttached(tenantOf(req).id, num, type as 'photo' | 'video' | 'file', mediaId!)
    const m = await chats.endUserMessage(tenantOf(req).id, num, {
      fromUserNum, type, content: typeof message.content === 'string' ? message.content : null, mediaId: type !== 'text' && typeof mediaId === 'string' ? mediaId.trim() : null,
    })
    return reply.code(201).send(presentMessage(m))
  })

  app.patch('/chats/:id', {
    schema: {
      tags, summary: 'Update a chat: end it, or pick a deflection option of an escalation',
      description: '`{"chat": {"status": "finished"}, "finished_by_user_id": <end user>}` ends the chat (only `finished` is settable). `{"chat": {"deflection_channel": "sms", "escalation_id": 1}}` picks an option the escalation offered (as H5): `stay` waits for a human (`queued`), `end` ends the chat, another channel deflects it (`deflected`).',
      params: Id,
      body: Type.Object({
        finished_by_user_id: Type.Optional(IdInput),
        chat: Type.Optional(Type.Object({ status: Type.Optional(Type.String()), deflection_channel: Type.Optional(Type.String()), escalation_id: Type.Optional(IdInput) }, { additionalProperties: true })),
      }, { additionalProperties: true }),
      response: { 200: ChatOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const num = chatNum(req.params.id)
    const chat = req.body.chat
    if (!object(chat)) throw paramMissing('chat')
    if (chat.deflection_channel !== undefined || chat.escalation_id !== undefined) {
      if (typeof chat.deflection_channel !== 'string' || chat.deflection_channel === '') throw paramMissing('deflection_channel')
      if (chat.escalation_id === undefined) throw paramMissing('escalation_id')
      const escalationNum = toId(chat.escalation_id) ?? (() => { throw new CcaiError(404, 'Not Found') })()
      return presentChat(await chats.chooseDeflection(tenantOf(req).id, num, escalationNum, chat.deflection_channel))
    }
    if (chat.status === undefined) throw new CcaiError(400, 'Invalid status')
    if (chat.status !== 'finished') throw new CcaiError(400, 'Invalid status')
    const tenantId = tenantOf(req).id
    await chats.get(tenantId, num)
    return presentChat(await chats.end(tenantId, num, 'end_user'))
  })

  app.patch('/chats/:id/resume', {
    schema: {
      tags, summary: 'Resume a dismissed chat',
      description: 'A chat dismissed for inactivity comes back with its history: `dismissed` → `queued` (its previous agent is offered it first), `va_dismissed` → `va_assigned`. 400 "This chat is not in dismissed state"; 400 with the queue’s after-hours text when it is closed.',
      params: Id, response: { 200: ChatOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => presentChat(await chats.resume(tenantOf(req).id, chatNum(req.params.id))))

  app.post('/chats/:id/escalations', {
    schema: {
      tags, summary: 'Escalate from the virtual agent to a human',
      description: '`201` with the escalation. To a queue after hours or over capacity, the queue’s deflection options are offered (`status` `deflection_offered`, `deflection_channels`) unless `force_escalate`; otherwise the chat is queued for an agent (`escalated`).',
      params: Id,
      body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })), force_escalate: Type.Optional(Type.Boolean()) }, { additionalProperties: true })),
      response: { 201: EscalationOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const num = chatNum(req.params.id)
    const e = await chats.escalate(tenantOf(req).id, num, { reason: req.body?.reason ?? null, force: req.body?.force_escalate === true })
    return reply.code(201).send(presentEscalation(e))
  })

  app.patch('/chats/:id/escalations/:escalation_id', {
    schema: {
      tags, summary: 'Pick the deflection channel of an escalation',
      description: '`deflection_channel` is one of the escalation’s `deflection_channels`: `stay` waits for a human, `end` ends the chat, another channel deflects it. 400 "Invalid deflection channel".',
      params: Type.Object({ id: Type.String({ description: 'Chat id' }), escalation_id: Type.String({ description: 'Escalation id' }) }),
      body: Type.Object({ deflection_channel: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: true }),
      response: { 200: EscalationOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const num = chatNum(req.params.id)
    const escalationNum = toId(req.params.escalation_id) ?? (() => { throw new CcaiError(404, 'Not Found') })()
    const channel = req.body.deflection_channel
    if (channel === undefined || channel === '') throw paramMissing('deflection_channel')
    const tenantId = tenantOf(req).id
    await chats.chooseDeflection(tenantId, num, escalationNum, channel)
    return presentEscalation(await chats.escalation(tenantId, num, escalationNum))
  })
}
