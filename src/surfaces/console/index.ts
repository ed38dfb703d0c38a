import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { consoleApi } from './api.ts'
import { CONSOLE_ERROR_SHAPE } from './errors.ts'
import { consolePages } from './pages.ts'

export { CONSOLE_CSP, CONSOLE_DIST } from './pages.ts'
export { SESSION_COOKIE } from './api.ts'

/**
 * The web console (issue 11): its pages at `/console` (the Vite build of web/console) and its
 * small API at `/console/api`, documented in its own OpenAPI document (`/openapi/console.json`).
 */
export async function consoleSurface(app: FastifyInstance, { services, dist }: { services: Services; dist?: string }) {
  declareSurface(app, 'console')
  await app.register(async (api) => {
    registerErrorHandling(api, CONSOLE_ERROR_SHAPE, { notFound: true })
    await api.register(consoleApi, { services })
  }, { prefix: '/console/api' })
  await app.register(consolePages, dist ? { dist } : {})
}
