import type { FastifyRequest } from 'fastify'
import { AuthError, type AppError } from '../../core/errors.ts'
import type { Tenant, TenantsService } from '../../core/tenants/index.ts'
import { impossibleCredential, parseBasic } from '../../http/basic-auth.ts'
import { CcaiError } from './errors.ts'

/** §1.1: the answer to a host whose subdomain names no tenant, or another tenant than the credentials'. */
export const SUBDOMAIN_NOT_FOUND = 'Resource not found - Please check your subdomain'

/** The subdomain of `{subdomain}.{domain}` hosts, or undefined for any other host (localhost, an IP, one shared name). */
export function hostSubdomain(hostname: string, domain: string | undefined): string | undefined {
  if (!domain) return undefined
  const host = hostname.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
  if (!host.endsWith(`.${domain}`)) return undefined
  const label = host.slice(0, -(domain.length + 1))
  return /^[a-z0-9-]+$/.test(label) ? label : undefined
}

/**
 * The tenant of an Apps API request (§1.1, §1.2): Basic `subdomain:api_token` (the company secret
 * is accepted as the password too, except where `tokenOnly`), or `Bearer <api token>` with the
 * subdomain taken from the host. On a `{subdomain}.{domain}` host the subdomain must be the
 * credentials' tenant, else 404 with the documented text. Throws the catalog's auth errors (401).
 */
export async function authenticateCcai(req: FastifyRequest, tenants: TenantsService, opts: { domain: string | undefined; tokenOnly?: boolean }): Promise<Tenant> {
  const fromHost = hostSubdomain(req.hostname, opts.domain)
  const header = req.headers.authorization
  const basic = parseBasic(header)
  const bearer = !basic && header ? /^\s*bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
  const user = basic?.client ?? fromHost
  const secret = basic?.token ?? bearer
  if (fromHost !== undefined && basic && basic.client.toLowerCase() !== fromHost) throw new CcaiError(404, SUBDOMAIN_NOT_FOUND)
  if (!user || !secret || impossibleCredential(user) || impossibleCredential(secret)) {
    throw new AuthError('missing_credentials', 'no Apps API credentials')
  }
  try {
    return await tenants.authenticate('ccai', 'token', user, secret)
  } catch (err) {
    const code = (err as AppError).code
    if (code === 'unknown_client' && fromHost !== undefined) throw new CcaiError(404, SUBDOMAIN_NOT_FOUND)
    if (code !== 'bad_secret' || opts.tokenOnly) throw err
  }
  return tenants.authenticate('ccai', 'company_secret', user, secret)
}
