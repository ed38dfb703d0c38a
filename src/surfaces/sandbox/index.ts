import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { authenticateSandbox } from './auth.ts'
import { handleSandboxError } from './errors.ts'
import { sandboxApiRoutes } from './routes/api.ts'
import { sandboxPageRoutes } from './routes/page.ts'

/**
 * The sandbox (`/sandbox`): the outbox of the sandbox provider and "answer as the person", as an
 * HTML page and a JSON API. Authenticated with the tenant's Cass credentials as Basic auth, checked
 * before the body is even parsed; a browser gets the prompt.
 */
export async function sandboxSurface(app: FastifyInstance, { services }: { services: Services }) {
  app.setErrorHandler(handleSandboxError)
  app.addHook('onRequest', async (req) => {
    req.tenant = await authenticateSandbox(req, services.tenants)
    req.log = req.log.child({ tenantId: req.tenant.id })
  })
  await app.register(sandboxPageRoutes, { services })
  await app.register(sandboxApiRoutes, { services })
}
