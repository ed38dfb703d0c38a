import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AuthError } from '../../core/errors.ts'
import type { Services } from '../../services.ts'
import { parseBasic } from '../cass/auth.ts'
import { handleAdminError } from './errors.ts'
import { adminRoutes } from './routes/admin.ts'

/**
 * The tenant's admin API (`/admin`): provider settings per channel, the suppression list, and
 * messaging settings. Authenticated with the tenant's Cass credentials as Basic auth, checked
 * before the body is read; errors are `{"message", "code"}`.
 */
export async function adminSurface(app: FastifyInstance, { services }: { services: Services }) {
  app.setErrorHandler(handleAdminError)
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const basic = parseBasic(req.headers.authorization)
    if (!basic || basic.client === '') throw new AuthError('missing_credentials', 'no Basic credentials')
    req.tenant = await services.tenants.authenticate('cass', 'token', basic.client, basic.token)
    req.log = req.log.child({ tenantId: req.tenant.id })
  })
  await app.register(adminRoutes, { services })
}
