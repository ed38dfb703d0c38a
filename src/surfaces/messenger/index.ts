import type { FastifyInstance } from 'fastify'
import type { Tenant } from '../../core/tenants/index.ts'
import type { Services } from '../../services.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { webhookErrorShape } from '../../http/webhook-errors.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { UUID } from '../../lib/uuid.ts'

/** Meta asks webhooks to answer quickly with a 200; this is the text its samples answer. */
const RECEIVED = 'EVENT_RECEIVED'
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Why a webhook was refused: 403 for everything about who is calling, so nothing is revealed. */
class Forbidden extends Error {}

/**
 * Facebook Messenger Platform webhooks (`/webhooks/messenger/{tenant id}`), for the tenant's
 * `facebook` provider settings: `GET` is the subscription handshake (`hub.mode=subscribe`,
 * `hub.verify_token` = the `verifyToken` setting → `hub.challenge` echoed as text); `POST` carries
 * events signed with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under the `appSecret`
 * setting). Messages and postbacks become inbound messages (channel `messenger`, from the PSID),
 * delivery and read receipts mark our messages `delivered`. An unknown tenant, a tenant without
 * Messenger settings, a wrong verify token and a wrong signature all answer 403 alike.
 */
export async function messengerWebhooks(app: FastifyInstance, { services }: { services: Services }) {
  const { tenants, webhooks, config } = services

  // The signature covers the exact bytes, so this context keeps the body as received and decodes
  // it itself (after the signature checked out).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  registerErrorHandling(app, webhookErrorShape({ refuse: (err) => err instanceof Forbidden }))

  async function tenantOf(id: string): Promise<Tenant> {
    const tenant = UUID.test(id) ? await tenants.findById(id.toLowerCase()) : undefined
    if (!tenant) throw new Forbidden('unknown tenant')
    return tenant
  }

  app.get<{ Params: { tenantId: TenantId }; Querystring: Record<string, string | undefined> }>('/:tenantId', async (req, reply) => {
    const tenant = await tenantOf(req.params.tenantId)
    const query: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(req.query ?? {})) query[k] = Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v)
    const challenge = await webhooks.subscribe(tenant, 'messenger', query)
    return reply.code(200).type('text/plain; charset=utf-8').send(challenge)
  })

  app.post<{ Params: { tenantId: TenantId } }>('/:tenantId', async (req, reply) => {
    const tenant = await tenantOf(req.params.tenantId)
    req.log = req.log.child({ tenantId: tenant.id })
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    let body: unknown
    try {
      body = JSON.parse(utf8.decode(raw))
    } catch {
      // Refused as invalid only once the signature proved the sender: see DeliveryWebhooks.handle.
      body = undefined
    }
    const outcome = await webhooks.handle(tenant, 'messenger', {
      method: req.method, url: config.publicUrl + req.url, headers: req.headers, body, rawBody: raw,
    })
    req.log.info(outcome, 'messenger webhook')
    return reply.code(200).type('text/plain; charset=utf-8').send(RECEIVED)
  })
}
