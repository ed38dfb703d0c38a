import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import { authenticateCass, cassCredentials } from './auth.ts'
import { CASS_ERROR_SHAPE } from './errors.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { declareSurface } from '../../http/openapi.ts'
import { setTenant } from '../../http/tenant.ts'
import { hasJsonParams, isFormBody } from '../../http/body-parsers.ts'
import { jsonNumbersAsText } from '../../http/params.ts'
import { hasGetBody, mergeGetBody } from './get-body.ts'
import { peopleRoutes } from './routes/people.ts'
import { pingRoutes } from './routes/ping.ts'
import { threadsRoutes } from './routes/threads.ts'
import { notificationRoutes } from './routes/notifications.ts'

/**
 * The person & bot API (`spec/cass.md`), mounted at the server root. Every route authenticates by
 * Basic header, URL parameters or body fields before its schema is checked, so a caller without
 * credentials learns nothing about the shape of the request. A GET may carry its parameters in a
 * body as well, as the Cass docs allow.
 */
export async function cassSurface(app: FastifyInstance, { services }: { services: Services }) {
  declareSurface(app, 'cass')
  registerErrorHandling(app, CASS_ERROR_SHAPE)
  // Callback-style on purpose: a request with recently verified credentials and no GET body passes
  // without a promise or a database round trip (this hook runs on every request of the surface).
  app.addHook('preValidation', (req, _reply, done) => {
    const accept = (tenant: Tenant) => {
      setTenant(req, tenant)
      done()
    }
    const authenticate = () => {
      let hit: Tenant | undefined
      try {
        const { client, token } = cassCredentials(req)
        hit = services.tenants.authenticateCached('cass', 'token', client, token ?? '')
      } catch (err) {
        return done(err as Error)
      }
      if (hit) return accept(hit)
      authenticateCass(req, services.tenants).then(accept, done)
    }
    // JSON values are validated as they are, except the documented numbers-as-text (see jsonNumbersAsText).
    const lenient = () => {
      const schema = req.routeOptions.schema
      if (req.body !== undefined && !isFormBody(req.body)) jsonNumbersAsText(req.body, schema?.body)
      if (hasJsonParams(req.query)) jsonNumbersAsText(req.query, schema?.querystring)
      authenticate()
    }
    if (hasGetBody(req)) mergeGetBody(req).then(lenient, done)
    else lenient()
  })
  await app.register(peopleRoutes, { services })
  await app.register(pingRoutes, { services })
  await app.register(threadsRoutes, { services })
  await app.register(notificationRoutes, { services })
}
