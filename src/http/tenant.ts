import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Tenant } from '../core/tenants/index.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated tenant; null until a surface's authentication hook set it. Read it with `tenantOf`. */
    tenant: Tenant | null
  }
}

/** Make `req.tenant` exist (null) on every request of the app. */
export function decorateTenant(app: FastifyInstance): void {
  app.decorateRequest('tenant', null)
}

/**
 * The tenant a surface's authentication hook put on the request. Routes behind such a hook read it
 * here instead of `req.tenant!`; on a route without one it throws (a programming error, a 500).
 */
export function tenantOf(req: FastifyRequest): Tenant {
  const tenant = req.tenant
  if (!tenant) throw new Error(`route ${req.routeOptions.url ?? req.url.split('?')[0]} read the tenant before authenticating it`)
  return tenant
}

/** Put the authenticated tenant on the request and its log lines. */
export function setTenant(req: FastifyRequest, tenant: Tenant): void {
  req.tenant = tenant
  // The request's logger is already its own child, shared with the reply: bind rather than make
  // another child (a disabled logger has no bindings to set).
  const log = req.log as typeof req.log & { setBindings?: (b: Record<string, unknown>) => void }
  if (log.setBindings) log.setBindings({ tenantId: tenant.id })
  else req.log = req.log.child({ tenantId: tenant.id })
}
