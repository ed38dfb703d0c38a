import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

/** The comm types of the generic route (§2.1 C5, §2.8 H18), and the session channel each names. */
const COMM_TYPES: Readonly<Record<string, 'call' | 'chat'>> = { calls: 'call', chats: 'chat' }
/** §2.1 C5: "use a configurable 10 s" between two requests of one session. */
export const MID_SESSION_COOL_DOWN_SECONDS = 10

/** Mid-session authentication (C5 for calls, H18 for chats): one handler, parameterised by comm type. */
export async function midSessionRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/:comm_type/:id/end_user', {
    schema: {
      tags: ['calls', 'chats'], summary: 'Mid-session authentication: set the end user of an active call or chat',
      description: '`comm_type` is `calls` (C5) or `chats` (H18); any other is 404. The session’s end user becomes the one with `identifier` (created when new; `name`, `email` set, `phone` only if it has none). 202 `{"message": "accepted"}`. A second request for the same session within 10 s: 400 "Duplicate request: Please wait for the interval to expire".',
      params: Type.Object({ comm_type: Type.String({ description: '`calls` or `chats`' }), id: Type.String({ description: 'Call or chat id' }) }),
      body: Type.Object({
        identifier: Type.Optional(Type.Unknown({ description: 'External unique id of the end user (string; a number is taken as its digits)' })),
        name: Type.Optional(Type.Unknown()), email: Type.Optional(Type.Unknown()), phone: Type.Optional(Type.Unknown({ description: 'Ignored when the end user already has a phone' })),
      }, { additionalProperties: true }),
      response: { 202: Message, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const channel = COMM_TYPES[req.params.comm_type]
    const num = toId(req.params.id)
    if (!channel || num === undefined) throw new CcaiError(404, 'Not Found')
    const b = req.body ?? {}
    const raw = typeof b.identifier === 'string' || typeof b.identifier === 'number' ? String(b.identifier).trim() : ''
    if (raw === '') throw paramMissing('identifier')
    const str = (v: unknown, name: string): string | undefined => {
      if (v === undefined || v === null) return undefined
      if (typeof v !== 'string' || v.length > 255 || v.includes('\u0000')) throw new CcaiError(400, `${name} is invalid`)
      return v
    }
    if (raw.length > 255 || raw.includes('\u0000')) throw new CcaiError(400, 'identifier is invalid')
    const name = str(b.name, 'name')
    const email = str(b.email, 'email')
    const phone = str(b.phone, 'phone')
    await services.endUsers.authenticateSession(tenantOf(req).id, channel, num, {
      identifier: raw, ...(name !== undefined ? { name } : {}), ...(email !== undefined ? { email } : {}), ...(phone !== undefined ? { phone } : {}),
    }, MID_SESSION_COOL_DOWN_SECONDS)
    return reply.code(202).send({ message: 'accepted' })
  })
}
