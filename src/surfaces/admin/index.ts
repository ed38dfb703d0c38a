import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import { authenticateBasic } from '../../http/basic-auth.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { setTenant } from '../../http/tenant.ts'
import { ADMIN_ERROR_SHAPE } from './errors.ts'
import { adminRoutes } from './routes/admin.ts'
import { contactCenterRoutes } from './routes/contact-center.ts'
import { directoryRoutes } from './routes/directory.ts'
import { templatesRoutes } from './routes/templates.ts'
import { ticketsRoutes } from './routes/tickets.ts'

/**
 * The tenant's admin API (`/admin`): provider settings per channel, the suppression list,
 * messaging settings and the contact-center setup. Authenticated with the tenant's Cass credentials as Basic auth, checked
 * before the body is read; errors are `{"message", "code"}`.
 */
export async function adminSurface(app: FastifyInstance, { services }: { services: Services }) {
  declareSurface(app, 'admin')
  registerErrorHandling(app, ADMIN_ERROR_SHAPE)
  app.addHook('onRequest', async (req) => setTenant(req, await authenticateBasic(req, services.tenants)))
  await app.register(adminRoutes, { services })
  await app.register(contactCenterRoutes, { services })
  await app.register(directoryRoutes, { services })
  await app.register(templatesRoutes, { services })
  await app.register(ticketsRoutes, { services })
}
