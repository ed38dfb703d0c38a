import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ValidationError } from '../../../core/errors.ts'
import type { Call } from '../../../core/calls/index.ts'
import { SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { Message } from '../schemas.ts'

const security = SECURITY.basic
const tags = ['sandbox']
const CallIdParams = Type.Object({ id: Type.String({ pattern: '^\\d{1,9}$', description: 'Call id' }) })
const SandboxCall = Type.Object({
  id: Type.Integer(), status: Type.String(), call_type: Type.String(), end_user_number: Type.Union([Type.String(), Type.Null()]),
  agent: Type.Union([Type.String(), Type.Null()]), voip_provider: Type.Union([Type.String(), Type.Null()]), fail_reason: Type.String(),
  ringing: Type.Boolean({ description: 'The person’s phone rings now: pick up or decline' }), answered: Type.Boolean({ description: 'The person is on the line: hang up' }),
  created_at: Type.String(),
})

/** The sandbox voice phone: the tenant's latest calls, and the person's side of them (pick up, decline, hang up). */
export async function sandboxCallRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { calls } = services
  const present = async (c: Call) => {
    const leg = await calls.endUserLeg(c.tenantId, c.num)
    return {
      id: c.num, status: c.status, call_type: c.callType, end_user_number: c.endUserPhone, agent: c.agent ? `${c.agent.firstName} ${c.agent.lastName}` : null,
      voip_provider: c.voipProvider, fail_reason: c.failReason, ringing: !!leg?.providerCallId && !leg.answered, answered: !!leg?.answered, created_at: c.createdAt.toISOString(),
    }
  }

  app.get('/api/calls', {
    schema: { tags, summary: 'The latest calls, newest first (the sandbox voice phone)', security, response: { 200: Type.Object({ data: Type.Array(SandboxCall) }), 401: Message } },
  }, async (req) => ({ data: await Promise.all((await calls.recent(tenantOf(req).id)).map(present)) }))

  /** The person acts on their phone: the event reaches the call exactly as a provider's callback would. */
  const act = (action: 'pick-up' | 'decline' | 'hang-up' | 'voicemail', summary: string) => app.post(`/api/calls/:id/${action}`, {
    schema: { tags, summary, security, params: CallIdParams, response: { 200: Type.Object({ data: SandboxCall }), 400: Message, 401: Message, 404: Message } },
  }, async (req) => {
    const tenantId = tenantOf(req).id
    const num = Number(req.params.id)
    const leg = await calls.endUserLeg(tenantId, num)
    const onLine = action === 'hang-up' || action === 'voicemail'
    const ok = leg?.providerCallId && (onLine ? leg.answered : !leg.answered) && (action !== 'voicemail' || (await calls.get(tenantId, num)).status === 'voicemail')
    if (!leg || !ok) throw new ValidationError('call_not_live', action === 'voicemail' ? 'the person is not recording a voicemail on this call' : onLine ? 'the person is not on this call' : 'the person’s phone is not ringing for this call', { callId: num })
    await calls.applyLegEvent(tenantId, {
      providerCallId: leg.providerCallId!, legId: leg.legId, status: action === 'pick-up' ? 'answered' : action === 'decline' ? 'busy' : 'completed',
      // The sandbox provider's (never served) recording URL, as its `sandboxVoicemailUrl` makes it.
      ...(action === 'voicemail' ? { recordingUrl: `https://voicemail.sandbox.invalid/${leg.legId}.wav` } : {}),
    })
    return { data: await present(await calls.get(tenantId, num)) }
  })
  act('pick-up', 'Pick up the ringing phone as the person')
  act('decline', 'Decline the ringing phone as the person (the call fails as busy)')
  act('hang-up', 'Hang up as the person')
  act('voicemail', 'Leave the voicemail as the person (on a deflected call picked up with answer: manual): the call becomes voicemail_received with its recording_url')
}
