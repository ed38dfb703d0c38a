import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { handleEmbedError } from './errors.ts'
import { embedApiRoutes, type EmbedRateLimits } from './routes/api.ts'
import { embedPageRoutes } from './routes/page.ts'

export { DEFAULT_RATE_LIMITS, type EmbedRateLimits } from './routes/api.ts'

/**
 * The web chat embed (`/embed`): the chat page `/embed/1/{company}`, the one-line popup script
 * `/embed/popup.js`, the page's assets, and the JSON API and live stream the page calls. Public:
 * authenticated by the tenant's embed code and a signed session token, rate limited.
 */
export async function embedSurface(app: FastifyInstance, { services, limits }: { services: Services; limits?: EmbedRateLimits }) {
  app.setErrorHandler(handleEmbedError)
  await app.register(embedPageRoutes, { services })
  await app.register(embedApiRoutes, { services, ...(limits ? { limits } : {}) })
}
