import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { MAX_SMS_MESSAGE } from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { phoneCountry, toE164 } from '../../../lib/phone.ts'
import type { Services } from '../../../services.ts'
import { CcaiError } from '../errors.ts'
import { toId } from '../params.ts'
import { presentChat } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

/** `"Messaging (API)"` (documented) and `"SMS"` (deprecated) start the same session as `"Messaging (SMS)"` (§1.11). */
const SMS_CHAT_TYPES = new Set(['Messaging (SMS)', 'Messaging (API)', 'SMS'])
const MAX_TICKET_ID = 255

const ChatOut = Type.Object({ id: Type.Integer(), status: Type.String() }, { additionalProperties: true, description: 'Chat (§3.2), SMS shape' })
const SmsBody = Type.Object({
  chat_type: Type.Optional(Type.Unknown({ description: '"Messaging (SMS)"; "Messaging (API)" and "SMS" are accepted and answered as "Messaging (SMS)"' })),
  end_user_number: Type.Optional(Type.Unknown({ description: 'The consumer’s phone, with its country code ("+1 760-867-5309")' })),
  outbound_number: Type.Optional(Type.Unknown({ description: 'A US, SMS-enabled number of the contact center (its setup file)' })),
  message: Type.Optional(Type.Unknown({ description: `The first message (1-${MAX_SMS_MESSAGE} characters)` })),
  ticket_id: Type.Optional(Type.Unknown({ description: 'CRM ticket of the session (out_ticket_id)' })),
  agent_id: Type.Optional(Type.Unknown({ description: 'Assign to this agent (also agentId)' })),
  agentId: Type.Optional(Type.Unknown()),
  agent_email: Type.Optional(Type.Unknown({ description: 'Assign to the agent with this email (also agentEmail)' })),
  agentEmail: Type.Optional(Type.Unknown()),
}, { additionalProperties: true })

const given = (v: unknown): boolean => v !== undefined && v !== null && v !== ''

/** §1.8: spaces, dashes, dots and parentheses stripped, then E.164 (a leading +, 8-15 digits) of a real number. */
function phone(raw: unknown, name: string): string {
  if (typeof raw !== 'string') throw new CcaiError(400, `${name} is invalid`)
  const stripped = raw.replace(/[\s\-.()]/g, '')
  const e164 = /^\+\d{8,15}$/.test(stripped) ? toE164(stripped) : undefined
  if (!e164) throw new CcaiError(400, `${name} is invalid`)
  return e164
}

/** The agent named by `agent_id`/`agentId` or `agent_email`/`agentEmail` (an id wins); an id that is no id is nobody. */
function agentRef(body: Record<string, unknown>): { num: number } | { email: string } | undefined {
  const id = given(body.agent_id) ? body.agent_id : body.agentId
  if (given(id)) return { num: toId(id) ?? 0 }
  const email = given(body.agent_email) ? body.agent_email : body.agentEmail
  if (given(email)) {
    const text = String(email)
    // Nobody has an address like this; looking it up would only trouble the database.
    return text.length > 254 || text.includes('\u0000') ? { num: 0 } : { email: text }
  }
  return undefined
}

/** S1 `POST /sms` (§2.2): start an outbound SMS session and send its first message. */
export async function smsRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { smsSessions } = services

  app.post('/sms', {
    schema: {
      tags: ['sms'], summary: 'Start an outbound SMS session',
      description: 'Creates a "Messaging (SMS)" chat and sends `message` to `end_user_number` from `outbound_number` through the tenant’s SMS provider. `200` with the chat: `selecting` until the consumer replies (then queued and routed), or `assigned` to the agent named by `agent_id`/`agentId`/`agent_email`/`agentEmail`. Errors in the documented order; a consumer who replied STOP is refused with 400 "Outbound SMS failed. Consumer has opted out of SMS (replied STOP)."',
      body: SmsBody,
      response: { 200: ChatOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const body = req.body as Record<string, unknown>
    const tenantId = tenantOf(req).id
    if (!given(body.chat_type)) throw new CcaiError(400, 'chat_type needs to be provided')
    if (typeof body.chat_type !== 'string' || !SMS_CHAT_TYPES.has(body.chat_type)) throw new CcaiError(400, 'valid chat type needs to be provided')
    await smsSessions.assertEnabled(tenantId)
    if (!given(body.end_user_number)) throw new CcaiError(400, 'end_user_number is required')
    const endUserPhone = phone(body.end_user_number, 'end_user_number')
    if (!given(body.outbound_number)) throw new CcaiError(400, 'outbound_number is required')
    const outboundNumber = phone(body.outbound_number, 'outbound_number')
    if (phoneCountry(outboundNumber) !== 'US') throw new CcaiError(400, 'Non-US phone number not allowed')
    await smsSessions.assertOutboundNumber(tenantId, outboundNumber)
    if (!given(body.message) || (typeof body.message === 'string' && body.message.trim() === '')) throw new CcaiError(400, 'message is required')
    if (typeof body.message !== 'string' || body.message.length > MAX_SMS_MESSAGE || body.message.includes('\u0000')) throw new CcaiError(400, 'message is invalid')
    let ticketId: string | null = null
    if (given(body.ticket_id)) {
      if ((typeof body.ticket_id !== 'string' && typeof body.ticket_id !== 'number') || String(body.ticket_id).length > MAX_TICKET_ID || String(body.ticket_id).includes('\u0000')) throw new CcaiError(400, 'ticket_id is invalid')
      ticketId = String(body.ticket_id)
    }
    const agent = agentRef(body)
    const chat = await smsSessions.start(tenantId, { endUserPhone, outboundNumber, message: body.message, ticketId, ...(agent ? { agent } : {}) })
    return presentChat(chat)
  })
}
