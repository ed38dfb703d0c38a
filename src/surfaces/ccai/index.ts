import type { FastifyInstance } from 'fastify'
import { SECURITY } from '../../http/params.ts'
import { RateLimiter } from '../../http/rate-limit.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { setTenant } from '../../http/tenant.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { Services } from '../../services.ts'
import { authenticateCcai } from './auth.ts'
import { CCAI_ERROR_SHAPE } from './errors.ts'
import { agentStatusRoutes } from './routes/agent-statuses.ts'
import { chatRoutes } from './routes/chats.ts'
import { chatMediaRoutes } from './routes/chat-media.ts'
import { chatProfileRoutes } from './routes/chat-profile.ts'
import { queueRoutes } from './routes/queues.ts'
import { smsRoutes } from './routes/sms.ts'
import { usersRoutes } from './routes/users.ts'
import { endUserRoutes } from './routes/end-users.ts'
import { dncRoutes } from './routes/dnc.ts'
import { campaignRoutes } from './routes/campaigns.ts'
import { callRoutes } from './routes/calls.ts'
import { midSessionRoutes } from './routes/mid-session.ts'

/** The default of §1.6 when a tenant has no contact-center settings yet. */
const DEFAULT_RATE = 10
const RATE_CACHE_MS = 5000

/**
 * The contact-center Apps API (`spec/ccai.md`), mounted at `/apps/api/v1`. Every request is
 * authenticated (Basic `subdomain:api_token`, §1.2) before its body is read, then counted against
 * the tenant's rate limit (§1.6: per subdomain across all endpoints, default 10 per second, 429 with
 * `Retry-After: 1`). Errors are `{"message": …}`; an unknown route is 404 "Not Found".
 */
export async function ccaiSurface(app: FastifyInstance, { services }: { services: Services }) {
  declareSurface(app, 'ccai')
  // Every operation is documented with Basic auth (subdomain:api_token).
  app.addHook('onRoute', (route) => {
    if (route.schema && !route.schema.security) route.schema.security = SECURITY.basic
  })
  registerErrorHandling(app, CCAI_ERROR_SHAPE, { notFound: true })
  const limiter = new RateLimiter(Number.MAX_SAFE_INTEGER, 1000)
  const rates = new Map<TenantId, { limit: number; at: number }>()
  const rateOf = async (tenantId: TenantId): Promise<number> => {
    const hit = rates.get(tenantId)
    if (hit && Date.now() - hit.at < RATE_CACHE_MS) return hit.limit
    const limit = (await services.ccSetup.settings(tenantId))?.rateLimitPerSecond ?? DEFAULT_RATE
    if (rates.size > 10_000) rates.clear()
    rates.set(tenantId, { limit, at: Date.now() })
    return limit
  }
  app.addHook('onRequest', async (req) => {
    const tenant = await authenticateCcai(req, services.tenants, { domain: services.config.ccaiDomain, tokenOnly: req.url.split('?')[0]!.includes('/bulk/users') })
    setTenant(req, tenant)
    limiter.take(tenant.id, Date.now(), await rateOf(tenant.id))
  })
  await app.register(usersRoutes, { services })
  await app.register(agentStatusRoutes, { services })
  await app.register(chatRoutes, { services })
  await app.register(queueRoutes, { services })
  await app.register(smsRoutes, { services })
  await app.register(endUserRoutes, { services })
  await app.register(chatMediaRoutes, { services })
  await app.register(chatProfileRoutes, { services })
  await app.register(dncRoutes, { services })
  await app.register(campaignRoutes, { services })
  await app.register(callRoutes, { services })
  await app.register(midSessionRoutes, { services })
}
