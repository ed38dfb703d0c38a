import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentChat, presentMessage } from '../presenters.ts'
import { COMMON_ERRORS, IdInput, Message } from '../schemas.ts'

const tags = ['chats']
const Id = Type.Object({ id: Type.String({ description: 'Chat id' }) })
// The chat object is the union of two documented shapes and grows (§1.4): documented loosely.
const ChatOut = Type.Object({ id: Type.Integer(), status: Type.String() }, { additionalProperties: true, description: 'Chat (§3.2)' })
const MessageOut = Type.Object({
  id: Type.Integer(), chat_id: Type.Integer(), from_user_id: Type.Union([Type.Integer(), Type.Null()]), from_agent_id: Type.Union([Type.Integer(), Type.Null()]),
  type: Type.String(), content: Type.Union([Type.String(), Type.Null()]), media_id: Type.Union([Type.String(), Type.Null()]), created_at: Type.Union([Type.String(), Type.Null()]),
})

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
        message: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), content: Type.Optional(Type.String({ maxLength: 10_000 })), media_id: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: true })),
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
    if (type !== 'text' && (typeof message.media_id !== 'string' || message.media_id === '')) throw new CcaiError(400, 'media_id is required')
    const fromUserNum = toId(from) ?? (() => { throw new CcaiError(400, 'from_user_id is invalid') })()
    const m = await chats.endUserMessage(tenantOf(req).id, num, {
      fromUserNum, type, content: typeof message.content === 'string' ? message.content : null, mediaId: typeof message.media_id === 'string' ? message.media_id : null,
    })
    return reply.code(201).send(presentMessage(m))
  })

  app.patch('/chats/:id', {
    schema: {
      tags, summary: 'Update a chat: end it',
      description: '`{"chat": {"status": "finished"}, "finished_by_user_id": <end user>}` ends the chat (only `finished` is settable).',
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
    if (chat.status === undefined) throw new CcaiError(400, 'Invalid status')
    if (chat.status !== 'finished') throw new CcaiError(400, 'Invalid status')
    const tenantId = tenantOf(req).id
    await chats.get(tenantId, num)
    return presentChat(await chats.end(tenantId, num, 'end_user'))
  })
}
