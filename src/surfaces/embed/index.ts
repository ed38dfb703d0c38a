import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { EMBED_ERROR_SHAPE } from './errors.ts'
import { embedApiRoutes, type EmbedRateLimits } from './routes/api.ts'
import { embedPageRoutes } from './routes/page.ts'

export { DEFAULT_RATE_LIMITS, type EmbedRateLimits } from './routes/api.ts'

/**
 * The web chat embed (`/embed`): the chat page `/embed/1/{company}`, the one-line popup script
 * `/embed/popup.js`, the page's assets, and the JSON API and live stream the page calls. Public:
 * authenticated by the tenant's embed code and a signed session token, rate limited. Its API is
 * documented in the Cass surface's OpenAPI document (tag `embed`).
 */
export async function embedSurface(app: FastifyInstance, { services, limits }: { services: Services; limits?: EmbedRateLimits }) {
  declareSurface(app, 'cass')
  registerErrorHandling(app, EMBED_ERROR_SHAPE)
  await app.register(embedPageRoutes, { services })
  await app.register(embedApiRoutes, { services, ...(limits ? { limits } : {}) })
}
