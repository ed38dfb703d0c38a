import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { CallKind } from '../../../core/calls/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentCall } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['calls']

/** §1.11: current display values and their deprecated aliases. */
const CALL_TYPE_KINDS: Readonly<Record<string, CallKind>> = {
  'Voice Outbound (API)': 'outbound', OutboundCall: 'outbound',
  'Voice Inbound (API)': 'incoming', IncomingCall: 'incoming',
  'Voice Scheduled (API)': 'scheduled', ScheduledCall: 'scheduled',
}
const field = (description: string) => Type.Optional(Type.Unknown({ description }))
const CreateCallBody = Type.Object({
  call_type: field('"Voice Outbound (API)" (or "OutboundCall"), "Voice Inbound (API)" ("IncomingCall"), "Voice Scheduled (API)" ("ScheduledCall")'),
  agent_email: field('Outbound: the agent who places the call'),
  end_user_number: field('The end user’s phone (human formats accepted); required unless `ticket_id` resolves'),
  ticket_id: field('CRM ticket whose contact is called; wins over end_user_number'),
  outbound_number: field('Caller id: one of the tenant’s voice numbers; the tenant default otherwise'),
  menu_id: field('Queue (menu) id: incoming calls IVR or web menus, scheduled calls mobile or web menus'),
  call_id: field('Scheduled: the previous call, the new call’s parent_id'),
  scheduled_at: field('Scheduled: ISO 8601 time in the future'),
  lang: field('Language (default en)'),
  recording_permission: field('recording_permission_not_asked (default), recording_permission_denied, recording_permission_granted'),
}, { additionalProperties: true })
const CallOut = Type.Object({ id: Type.Integer(), status: Type.String(), call_type: Type.String() }, { additionalProperties: true, description: 'Call (§3.1)' })

/** Calls (§2.1 C1–C4): `POST /calls`, dispatched on `call_type`. */
export async function callRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { calls } = services

  app.post('/calls', {
    schema: {
      tags, summary: 'Create a call (outbound, incoming or scheduled)',
      description: 'C1/C2 outbound for an agent (`assigned`, the agent In-call, the platform dials both legs; `202` instead when the contact center’s `confirm_outbound_calls` is set: the call waits for the agent to confirm it in the agent API before it is dialled), C3 incoming (`queued` on the menu; the platform dials the end user when an agent accepts), C4 scheduled (`scheduled`, queued at `scheduled_at`). Errors are the spec’s texts, checked in its order (README "Calls").',
      body: CreateCallBody, response: { 201: CallOut, 202: CallOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const b = req.body ?? {}
    const kind = typeof b.call_type === 'string' ? CALL_TYPE_KINDS[b.call_type] : undefined
    if (!kind) throw new CcaiError(400, 'Invalid call type')
    const call = await calls.create(tenantOf(req).id, {
      kind, agentEmail: b.agent_email, endUserNumber: b.end_user_number, ticketId: b.ticket_id, outboundNumber: b.outbound_number,
      menuId: b.menu_id, callId: b.call_id, scheduledAt: b.scheduled_at, lang: b.lang, recordingPermission: b.recording_permission,
    })
    // §2.1 C1: 202 "accepted, but manual intervention is required inside of the widget": the agent confirms it.
    return reply.code(call.confirmBy ? 202 : 201).send(presentCall(call))
  })

  app.post('/crm/contact_data', {
    schema: {
      tags, summary: 'Push the outbound dialer’s contact data for a call (W2)',
      description: 'Stored on the call (`contact_data`) and shown to its agent. `call_id` and `agent_id` required; `contact` a map of strings. 200 `{"message": "success"}`; 404 for an unknown call.',
      body: Type.Object({
        call_id: field('The call'), agent_id: field('The agent the dialer handed it to'), lcm_key: field('Dialer list key'), dnis: field('Dialled number'),
        org_id: field('Tenant/org label'), contact: field('Free-form string map (first_name, last_name, account_no …)'), pacing_mode: field('e.g. "Predictive"'), call_type: field('e.g. "OB_Regular"'),
      }, { additionalProperties: true }),
      response: { 200: Message, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const b = req.body ?? {}
    const scalar = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && !v.includes('\u0000') && v.length <= 255) || (typeof v === 'number' && Number.isFinite(v))
    if (b.call_id === undefined || b.call_id === null || b.call_id === '') throw paramMissing('call_id')
    if (b.agent_id === undefined || b.agent_id === null || b.agent_id === '') throw paramMissing('agent_id')
    if (!scalar(b.agent_id)) throw new CcaiError(400, 'agent_id is invalid')
    const num = toId(String(b.call_id))
    if (num === undefined) throw new CcaiError(404, 'Not Found')
    const data: Record<string, unknown> = { agent_id: b.agent_id }
    for (const key of ['lcm_key', 'dnis', 'org_id', 'pacing_mode', 'call_type'] as const) {
      const v = b[key]
      if (v === undefined || v === null) continue
      if (!scalar(v)) throw new CcaiError(400, `${key} is invalid`)
      data[key] = v
    }
    if (b.contact !== undefined && b.contact !== null) {
      const c = b.contact
      const ok = typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length <= 100 && Object.entries(c).every(([k, v]) => k.length <= 100 && !k.includes('\u0000') && k !== '__proto__' && (v === null || scalar(v) || v === ''))
      if (!ok) throw new CcaiError(400, 'contact is invalid')
      data.contact = c
    }
    await calls.setContactData(tenantOf(req).id, num, data)
    return { message: 'success' }
  })
}
