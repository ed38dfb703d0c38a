import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ValidationError } from '../../core/errors.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import type { ReportedStatus } from '../../core/delivery/index.ts'
import type { Services } from '../../services.ts'
import { toE164 } from '../../lib/phone.ts'
import { verifyTwilioSignature } from '../../lib/twilio-signature.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { webhookErrorShape } from '../../http/webhook-errors.ts'

/** Twilio's answer to a webhook that wants no reply: empty TwiML. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Twilio's status words, onto the outbox's; `read` (WhatsApp) counts as delivered. */
const STATUS: Readonly<Record<string, ReportedStatus>> = {
  accepted: 'sent', scheduled: 'sent', queued: 'sent', sending: 'sent', sent: 'sent',
  delivered: 'delivered', read: 'delivered', undelivered: 'undelivered', failed: 'failed',
}

class ForbiddenError extends AppError {}

function form(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {}
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v
  return out
}

const strip = (address: string) => (address.startsWith('whatsapp:') ? address.slice(9) : address)

/**
 * Twilio's webhooks (`/webhooks/twilio/{tenant id}/sms` and `/status`): inbound SMS and WhatsApp
 * messages and delivery-status callbacks, as form posts signed with `X-Twilio-Signature` under the
 * tenant's Twilio auth token. The tenant id in the path is not a secret; the signature is the
 * authentication, checked against the public URL (`SWITCHBOARD_PUBLIC_URL` + the path and query).
 * An unknown tenant, a tenant without Twilio settings and a wrong signature all answer 403 alike.
 */
export async function twilioWebhooks(app: FastifyInstance, { services }: { services: Services }) {
  const { delivery, tracking, tenants, config } = services

  registerErrorHandling(app, webhookErrorShape())

  /** The tenant, after the request's signature checked out under its Twilio auth token. */
  async function verified(req: FastifyRequest<{ Params: { tenantId: string } }>, params: Record<string, string>): Promise<Tenant> {
    const tenant = UUID.test(req.params.tenantId) ? await tenants.findById(req.params.tenantId.toLowerCase()) : undefined
    if (!tenant) throw new ForbiddenError('forbidden', 'unknown tenant')
    const channel = (params.From ?? params.To ?? '').startsWith('whatsapp:') ? 'whatsapp' : 'sms'
    // The signing token is the account's: the channel's settings, else the other channel's.
    const settings = [await delivery.channelSettings(tenant.id, channel), await delivery.channelSettings(tenant.id, channel === 'sms' ? 'whatsapp' : 'sms')]
      .find((s) => s?.provider === 'twilio' && typeof s.authToken === 'string')
    const header = req.headers['x-twilio-signature']
    const signature = Array.isArray(header) ? header[0] : header
    if (!settings || !verifyTwilioSignature(String(settings.authToken), config.publicUrl + req.url, params, signature)) {
      req.log.warn({ tenantId: tenant.id }, 'twilio webhook with a wrong or missing signature')
      throw new ForbiddenError('forbidden', 'bad signature')
    }
    req.log = req.log.child({ tenantId: tenant.id })
    return tenant
  }

  function twiml(reply: FastifyReply) {
    return reply.code(200).type('text/xml; charset=utf-8').send(EMPTY_TWIML)
  }

  app.post<{ Params: { tenantId: string } }>('/:tenantId/sms', async (req, reply) => {
    const params = form(req.body)
    const tenant = await verified(req, params)
    const from = params.From
    const sid = params.MessageSid ?? params.SmsSid
    if (!from || !sid) throw new ValidationError('invalid_webhook', 'From and MessageSid are required')
    const channel = from.startsWith('whatsapp:') ? 'whatsapp' : 'sms'
    const media: Array<{ url: string; content_type: string | null }> = []
    const numMedia = Math.min(Number(params.NumMedia ?? '0') || 0, 10)
    for (let i = 0; i < numMedia; i++) {
      const url = params[`MediaUrl${i}`]
      if (url) media.push({ url, content_type: params[`MediaContentType${i}`] ?? null })
    }
    const body = params.Body ?? ''
    // A picture with no caption is still a message.
    const text = body.trim() === '' && media.length > 0 ? '[media]' : body
    const phone = toE164(strip(from))
    if (phone) await tracking.admitSender(tenant, channel, phone)
    await delivery.receive(tenant, {
      channel, from: strip(from), to: params.To ? strip(params.To) : undefined, body: text, provider: 'twilio', providerMessageId: sid,
      data: { ...(media.length > 0 ? { media } : {}), ...(params.ProfileName ? { profile_name: params.ProfileName } : {}) },
    })
    return twiml(reply)
  })

  app.post<{ Params: { tenantId: string } }>('/:tenantId/status', async (req, reply) => {
    const params = form(req.body)
    const tenant = await verified(req, params)
    const sid = params.MessageSid ?? params.SmsSid
    const word = (params.MessageStatus ?? params.SmsStatus ?? '').toLowerCase()
    if (!sid || !word) throw new ValidationError('invalid_webhook', 'MessageSid and MessageStatus are required')
    const status = Object.hasOwn(STATUS, word) ? STATUS[word] : undefined
    // A status word we do not know is acknowledged and ignored, so Twilio does not retry it.
    if (status) {
      const ours = (req.query as Record<string, unknown> | undefined)?.message
      await tracking.recordStatus(tenant, {
        provider: 'twilio', providerMessageId: sid, status, providerStatus: word, errorCode: params.ErrorCode || undefined,
        messageId: typeof ours === 'string' ? ours : undefined,
      })
    }
    return twiml(reply)
  })
}
