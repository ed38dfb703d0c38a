import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Tenant } from '../../core/tenants/index.ts'

/** The realm browsers show when they prompt for the sandbox's credentials. */
export const REALM = 'Switchboard sandbox'

/**
 * The token the page's forms carry. Browsers re-send cached Basic credentials with any form post,
 * even one made from another site, so a post is only trusted with a value that other sites cannot
 * know: an HMAC of the tenant id under the server's secret key.
 */
export function csrfToken(secretKey: Buffer, tenant: Pick<Tenant, 'id'>): string {
  return createHmac('sha256', secretKey).update(`sandbox-form:${tenant.id}`).digest('base64url')
}

/** Whether `given` is the tenant's form token. */
export function csrfMatches(secretKey: Buffer, tenant: Pick<Tenant, 'id'>, given: string): boolean {
  const expected = Buffer.from(csrfToken(secretKey, tenant))
  const actual = Buffer.from(given)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
