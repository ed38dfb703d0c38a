import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { authenticateBasic } from '../../http/basic-auth.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { setTenant } from '../../http/tenant.ts'
import { SANDBOX_ERROR_SHAPE } from './errors.ts'
import { sandboxApiRoutes } from './routes/api.ts'
import { sandboxPageRoutes } from './routes/page.ts'
import { sandboxCallRoutes } from './routes/calls.ts'

/**
 * The sandbox (`/sandbox`): the outbox of the sandbox provider and "answer as the person", as an
 * HTML page and a JSON API. Authenticated with the tenant's Cass credentials as Basic auth, checked
 * before the body is even parsed; a browser gets the prompt.
 */
export async function sandboxSurface(app: FastifyInstance, { services }: { services: Services }) {
  declareSurface(app, 'sandbox')
  registerErrorHandling(app, SANDBOX_ERROR_SHAPE)
  app.addHook('onRequest', async (req) => setTenant(req, await authenticateBasic(req, services.tenants)))
  await app.register(sandboxPageRoutes, { services })
  await app.register(sandboxApiRoutes, { services })
  await app.register(sandboxCallRoutes, { services })
}
