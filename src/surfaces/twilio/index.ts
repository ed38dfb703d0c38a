import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AuthError, ForbiddenError, NotFoundError } from '../../core/errors.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import type { Services } from '../../services.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { webhookErrorShape } from '../../http/webhook-errors.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { registerTwilioVoiceRoutes } from './voice.ts'
import { UUID } from '../../lib/uuid.ts'

/** Twilio's answer to a webhook that wants no reply: empty TwiML. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
/** The tenant's Twilio account signs for both channels: the SMS settings first, then WhatsApp's. */
const TWILIO = { channels: ['sms', 'whatsapp'], vendor: 'twilio' } as const

/**
 * Twilio's webhooks (`/webhooks/twilio/{tenant id}/sms` and `/status`): inbound SMS and WhatsApp
 * messages and delivery-status callbacks, as form posts signed with `X-Twilio-Signature` under the
 * tenant's Twilio auth token. The tenant id in the path is not a secret; the signature is the
 * authentication, checked against the public URL (`SWITCHBOARD_PUBLIC_URL` + the path and query).
 * An unknown tenant, a tenant without Twilio settings and a wrong signature all answer 403 alike.
 * This surface only translates: the request goes to core's webhook pipeline (`DeliveryWebhooks`),
 * where the tenant's Twilio provider checks the signature and reads the events.
 */
export async function twilioWebhooks(app: FastifyInstance, { services }: { services: Services }) {
  const { tenants, webhooks, config } = services

  registerErrorHandling(app, webhookErrorShape())

  async function tenantOf(req: FastifyRequest<{ Params: { tenantId: TenantId } }>): Promise<Tenant> {
    const tenant = UUID.test(req.params.tenantId) ? await tenants.findById(req.params.tenantId.toLowerCase()) : undefined
    if (!tenant) throw new ForbiddenError('forbidden', 'unknown tenant')
    return tenant
  }

  async function handle(req: FastifyRequest<{ Params: { tenantId: TenantId } }>, reply: FastifyReply) {
    const tenant = await tenantOf(req)
    req.log = req.log.child({ tenantId: tenant.id })
    try {
      const outcome = await webhooks.handle(tenant, TWILIO, {
        method: req.method, url: config.publicUrl + req.url, headers: req.headers, body: req.body,
      })
      req.log.debug(outcome, 'twilio webhook')
    } catch (err) {
      // No Twilio settings that can check a signature, or a wrong one: refused alike.
      if (err instanceof AuthError || err instanceof NotFoundError) {
        req.log.warn({ reason: err.code }, 'twilio webhook with a wrong or missing signature')
        throw new ForbiddenError('forbidden', 'bad signature')
      }
      throw err
    }
    return reply.code(200).type('text/xml; charset=utf-8').send(EMPTY_TWIML)
  }

  app.post<{ Params: { tenantId: TenantId } }>('/:tenantId/sms', handle)
  app.post<{ Params: { tenantId: TenantId } }>('/:tenantId/status', handle)

  // Programmable Voice (issue 12): the TwiML of a leg that answered and the legs' status callbacks,
  // read by the tenant's Twilio call control and applied to the call by core's calls domain.
  registerTwilioVoiceRoutes(app, {
    publicUrl: config.publicUrl,
    findTenant: (id) => tenants.findById(id),
    reader: (tenant) => services.voiceVendor(tenant.id, 'twilio'),
    onEvents: async (tenant, events) => {
      for (const event of events) await services.calls.applyLegEvent(tenant.id, event)
    },
    answer: async (tenant, legId) => {
      const leg = await services.calls.answeringLeg(tenant.id, legId)
      const control = leg ? await services.voiceVendor(tenant.id, 'twilio') : undefined
      return leg && control ? control.answerDocument(leg) : undefined
    },
    // A deflection choice (`Digits`), or a voicemail recording that ended (no choice to make: hang up).
    input: async (tenant, legId, digits) => {
      const leg = await services.calls.answeringLeg(tenant.id, legId)
      const control = leg ? await services.voiceVendor(tenant.id, 'twilio') : undefined
      if (!leg || !control || leg.step.kind !== 'deflection') return undefined
      if (digits === undefined) return control.answerDocument(leg)
      const { step } = await services.calls.pressDigits(tenant.id, legId, digits)
      return step.kind === 'hangup' ? undefined : control.answerDocument({ ...leg, step })
    },
  })
}
