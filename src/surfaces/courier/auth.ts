import type { FastifyRequest } from 'fastify'
import { AuthError } from '../../core/errors.ts'
import type { Tenant, TenantsService } from '../../core/tenants/index.ts'
import { impossibleCredential } from '../../http/basic-auth.ts'
import { USER_TOKEN_PREFIX, type DirectoryService } from '../../core/messaging/index.ts'
import { setViewer } from './viewer.ts'

/**
 * The tenant of a messaging API request (`spec/courier.md` §0): the organisation API key as
 * `Authorization: Bearer <key>` or `X-Api-Key: <key>`; with `directory`, a user token
 * (`Bearer sbu_…`) too, which acts as that user (`viewerOf`). Throws the catalog's auth errors (401).
 */
export async function authenticateCourier(req: FastifyRequest, tenants: TenantsService, directory?: DirectoryService): Promise<Tenant> {
  const header = req.headers.authorization
  const bearer = header ? /^\s*bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
  const xKey = req.headers['x-api-key']
  const key = bearer ?? (typeof xKey === 'string' ? xKey.trim() : undefined)
  if (!key || impossibleCredential(key)) throw new AuthError('missing_credentials', 'no messaging API key')
  if (directory && key.startsWith(USER_TOKEN_PREFIX)) {
    const { tenantId, userId } = await directory.authenticateUserToken(key)
    const tenant = await tenants.findById(tenantId)
    if (!tenant) throw new AuthError('bad_secret', 'no such user token')
    setViewer(req, { kind: 'user', userId })
    return tenant
  }
  return tenants.authenticateSecret('courier', 'api_key', key)
}
