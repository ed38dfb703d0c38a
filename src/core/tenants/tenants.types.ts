import type { TenantId } from '../../lib/tenant-id.ts'

export type { TenantId } from '../../lib/tenant-id.ts'
export { asTenantId } from '../../lib/tenant-id.ts'

/** An organisation using Switchboard. Every tenant-owned row carries its id. */
export interface Tenant {
  readonly id: TenantId
  readonly name: string
  /** Public code for the web chat embed (`auth_code`). */
  readonly embedCode: string
  /** The Cass client name (the `client` of Basic auth), shown in Cass error texts. */
  readonly cassClient: string
  readonly createdAt: Date
}

export type Surface = 'cass' | 'ccai' | 'courier'
export type CredentialKind = 'token' | 'company_secret' | 'api_key'

/** Credentials issued when a tenant is created; the secrets are shown once and stored hashed. */
export interface IssuedCredentials {
  cass: { client: string; token: string }
  ccai: { subdomain: string; token: string; company_secret: string }
  courier: { organization_id: string; api_key: string }
}

/** How a tenant's messages answer the carrier keywords (in `tenants.settings`). */
export interface MessagingSettings {
  /** The answer to HELP / INFO; null: the default, naming the organisation and how to opt out. */
  readonly smsHelpText: string | null
  /**
   * Whether a promotional SMS (a multicast's) needs the number's accepted user consent (README
   * "Consent"); false unless set.
   */
  readonly smsConsentRequired?: boolean
}
