import type { FastifyRequest } from 'fastify'
import { AuthError } from '../../core/errors.ts'
import type { Tenant, TenantsService } from '../../core/tenants/index.ts'
import { impossibleCredential, parseBasic } from '../../http/basic-auth.ts'

function field(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined
  const value = (source as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined
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
  if (impossibleCredential(client)) throw new AuthError('unknown_client', 'no such client', { auth: token ?? null })
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
