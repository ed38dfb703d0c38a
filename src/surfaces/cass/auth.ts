import type { FastifyRequest } from 'fastify'
import { AuthError } from '../../core/errors.ts'
import type { Tenant, TenantsService } from '../../core/tenants/index.ts'

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant | null
  }
}

function field(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined
  const value = (source as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined
}

/** `client:token` from an `Authorization: Basic` header, or undefined for none/another scheme. */
export function parseBasic(header: string | undefined): { client: string; token: string } | undefined {
  if (!header) return undefined
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header)
  if (!m) return undefined
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? { client: decoded, token: '' } : { client: decoded.slice(0, colon), token: decoded.slice(colon + 1) }
}

/**
 * The client and token a Cass request presents, by the Basic header, URL parameters or body fields
 * (in that order of precedence). Throws AuthError `missing_client`, or `unknown_client` for a name
 * no client can have.
 */
export function cassCredentials(req: FastifyRequest): { client: string; token: string | undefined } {
  const basic = parseBasic(req.headers.authorization)
  const client = basic?.client ?? field(req.query, 'client') ?? field(req.body, 'client')
  const token = basic?.token ?? field(req.query, 'auth') ?? field(req.body, 'auth')
  if (client === undefined || client === '') throw new AuthError('missing_client', 'no client given')
  // No client name holds a NUL (and PostgreSQL text cannot), so do not ask the database.
  if (client.includes('\u0000')) throw new AuthError('unknown_client', 'no such client', { auth: token ?? null })
  return { client, token }
}

/**
 * Authenticate a Cass request by any of its three documented ways: the Basic header, `client` and
 * `auth` URL parameters (v1), or `client`/`auth` in the body (PATCH payloads).
 * Throws AuthError `missing_client`, `unknown_client` or `bad_secret` (with the presented `auth`).
 */
export async function authenticateCass(req: FastifyRequest, tenants: TenantsService): Promise<Tenant> {
  const { client, token } = cassCredentials(req)
  try {
    return await tenants.authenticate('cass', 'token', client, token ?? '')
  } catch (err) {
    // `auth` is echoed as presented, null when none was (add_external_person's 401 body).
    if (err instanceof AuthError) throw new AuthError(err.code, err.message, { auth: token ?? null })
    throw err
  }
}
