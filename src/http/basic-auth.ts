import type { FastifyRequest } from 'fastify'
import { AuthError } from '../core/errors.ts'
import type { Tenant, TenantsService } from '../core/tenants/index.ts'

/**
 * `client:token` from an `Authorization: Basic` header, or undefined for none/another scheme. The
 * decoded text is taken as UTF-8; a client or token that holds a NUL is refused here (`nul: true`),
 * since no credential can hold one and PostgreSQL text cannot store it.
 */
export function parseBasic(header: string | undefined): { client: string; token: string } | undefined {
  if (!header) return undefined
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header)
  if (!m) return undefined
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? { client: decoded, token: '' } : { client: decoded.slice(0, colon), token: decoded.slice(colon + 1) }
}

/** Whether a credential holds a character no stored credential can (NUL): refuse it without a lookup. */
export function impossibleCredential(value: string | undefined): boolean {
  return value !== undefined && value.includes('\u0000')
}

/**
 * The tenant whose Cass credentials (`client:token`) are in the Basic header: the admin API and the
 * sandbox use the person API's credentials. Throws AuthError `missing_credentials`,
 * `unknown_client` (also for a client no tenant can have) or `bad_secret`.
 */
export async function authenticateBasic(req: FastifyRequest, tenants: TenantsService): Promise<Tenant> {
  const basic = parseBasic(req.headers.authorization)
  if (!basic || basic.client === '') throw new AuthError('missing_credentials', 'no Basic credentials')
  if (impossibleCredential(basic.client)) throw new AuthError('unknown_client', 'no such client')
  if (impossibleCredential(basic.token)) throw new AuthError('bad_secret', 'wrong secret')
  return tenants.authenticate('cass', 'token', basic.client, basic.token)
}
