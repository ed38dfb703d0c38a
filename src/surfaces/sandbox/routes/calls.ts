import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ValidationError } from '../../../core/errors.ts'
import type { Call, CallsService } from '../../../core/calls/index.ts'
import { SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { TenantId } from '../../../lib/tenant-id.ts'
import type { Services } from '../../../services.ts'
import { Message } from '../schemas.ts'

const security = SECURITY.basic
const tags = ['sandbox']
const CallIdParams = Type.Object({ id: Type.String({ pattern: '^\\d{1,9}$', description: 'Call id' }) })
const PressBody = Type.Object({ digits: Type.String({ pattern: '^[0-9*#]{1,20}$', description: 'The key(s) the person presses: 1 leaves a voicemail, 2 schedules a call back' }) }, { additionalProperties: false })
const SandboxCall = Type.Object({
  id: Type.Integer(), status: Type.String(), call_type: Type.String(), end_user_number: Type.Union([Type.String(), Type.Null()]),
  agent: Type.Union([Type.String(), Type.Null()]), voip_provider: Type.Union([Type.String(), Type.Null()]), fail_reason: Type.String(),
  ringing: Type.Boolean({ description: 'The person’s phone rings now: pick up or decline' }), answered: Type.Boolean({ description: 'The person is on the line: hang up' }),
  choosing: Type.Boolean({ description: 'A deflected call asks the person to choose: press 1 (voicemail) or 2 (schedule a call)' }),
  created_at: Type.String(),
})

/** What the person can do on their sandbox phone. */
export type PhoneAction = 'pick-up' | 'decline' | 'hang-up' | 'voicemail' | 'press'

/** A call as the sandbox phone shows it (the JSON API and the page). */
export interface PhoneCall {
  readonly id: number
  readonly status: string
  readonly call_type: string
  readonly end_user_number: string | null
  readonly agent: string | null
  readonly voip_provider: string | null
  readonly fail_reason: string
  readonly ringing: boolean
  readonly answered: boolean
  readonly choosing: boolean
  readonly created_at: string
}

/** A call with the person's side of it: ringing, on the line, asked to choose. */
export async function presentPhoneCall(calls: CallsService, c: Call): Promise<PhoneCall> {
  const leg = await calls.endUserLeg(c.tenantId, c.num)
  const answered = !!leg?.answered
  return {
    id: c.num, status: c.status, call_type: c.callType, end_user_number: c.endUserPhone, agent: c.agent ? `${c.agent.firstName} ${c.agent.lastName}` : null,
    voip_provider: c.voipProvider, fail_reason: c.failReason, ringing: !!leg?.providerCallId && !answered, answered, choosing: answered && c.status === 'deflected',
    created_at: c.createdAt.toISOString(),
  }
}

/**
 * The person acts on their phone: the event reaches the call exactly as a provider's callback
 * would. ValidationError `call_not_live` when the phone is not in a state for it.
 */
export async function actAsPerson(calls: CallsService, tenantId: TenantId, num: number, action: PhoneAction, digits?: string): Promise<Call> {
  const leg = await calls.endUserLeg(tenantId, num)
  const onLine = action === 'hang-up' || action === 'voicemail' || action === 'press'
  const status = (await calls.get(tenantId, num)).status
  const ok = leg?.providerCallId && (onLine ? leg.answered : !leg.answered)
    && (action !== 'voicemail' || status === 'voicemail') && (action !== 'press' || status === 'deflected')
  if (!leg || !ok) {
    const why = action === 'voicemail' ? 'the person is not recording a voicemail on this call'
      : action === 'press' ? 'the person is not asked to choose on this call'
        : onLine ? 'the person is not on this call' : 'the person’s phone is not ringing for this call'
    throw new ValidationError('call_not_live', why, { callId: num })
  }
  if (action === 'press') {
    const { changed } = await calls.pressDigits(tenantId, leg.legId, digits ?? '')
    if (!changed) throw new ValidationError('call_not_live', 'that key is not one of the choices offered (1 voicemail, 2 schedule a call)', { callId: num })
    return calls.get(tenantId, num)
  }
  await calls.applyLegEvent(tenantId, {
    providerCallId: leg.providerCallId!, legId: leg.legId, status: action === 'pick-up' ? 'answered' : action === 'decline' ? 'busy' : 'completed',
    // The sandbox provider's (never served) recording URL, as its `sandboxVoicemailUrl` makes it.
    ...(action === 'voicemail' ? { recordingUrl: `https://voicemail.sandbox.invalid/${leg.legId}.wav` } : {}),
  })
  return calls.get(tenantId, num)
}

/** The sandbox voice phone: the tenant's latest calls, and the person's side of them (pick up, decline, hang up, choose). */
export async function sandboxCallRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { calls } = services
  const present = (c: Call) => presentPhoneCall(calls, c)

  app.get('/api/calls', {
    schema: { tags, summary: 'The latest calls, newest first (the sandbox voice phone)', security, response: { 200: Type.Object({ data: Type.Array(SandboxCall) }), 401: Message } },
  }, async (req) => ({ data: await Promise.all((await calls.recent(tenantOf(req).id)).map(present)) }))

  const act = (action: Exclude<PhoneAction, 'press'>, summary: string) => app.post(`/api/calls/:id/${action}`, {
    schema: { tags, summary, security, params: CallIdParams, response: { 200: Type.Object({ data: SandboxCall }), 400: Message, 401: Message, 404: Message } },
  }, async (req) => ({ data: await present(await actAsPerson(calls, tenantOf(req).id, Number(req.params.id), action)) }))
  act('pick-up', 'Pick up the ringing phone as the person')
  act('decline', 'Decline the ringing phone as the person (the call fails as busy)')
  act('hang-up', 'Hang up as the person')
  act('voicemail', 'Leave the voicemail as the person (on a deflected call picked up with answer: manual): the call becomes voicemail_received with its recording_url')
  app.post('/api/calls/:id/press', {
    schema: {
      tags, summary: 'Press keys as the person: the choice a deflected call asks for',
      description: 'On a `deflected` call the person picked up: `1` leaves a voicemail (the call becomes `voicemail`; then `/voicemail` leaves it), `2` schedules a call back at the queue’s next open time (a new `scheduled` call whose `parent_id` is this one; this one stays `deflected`). A key not offered: 400.',
      security, params: CallIdParams, body: PressBody, response: { 200: Type.Object({ data: SandboxCall }), 400: Message, 401: Message, 404: Message },
    },
  }, async (req) => ({ data: await present(await actAsPerson(calls, tenantOf(req).id, Number(req.params.id), 'press', req.body.digits)) }))
}
