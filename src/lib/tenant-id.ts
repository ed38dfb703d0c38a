import { Type } from 'typebox'

/**
 * A tenant's id, branded so that the compiler tells it from any other string. The database schema
 * types every `tenant_id` column with it and repository methods take it first, so a query written
 * without a tenant — or with some other id in its place — does not type-check. Ids come from an
 * authenticated tenant (`Tenant.id`), from a row read back, or from `asTenantId` where a trusted id
 * arrives as a plain string (a job payload validated at pick-up, a CLI argument resolved by name).
 */
export type TenantId = string & { readonly __brand: 'TenantId' }

/** A trusted tenant id that arrived as a plain string (job payload, test setup). */
export function asTenantId(id: string): TenantId {
  return id as TenantId
}

/**
 * The schema of a tenant id inside a job payload or other internal message: a UUID, typed as
 * `TenantId` once the payload has been validated at pick-up.
 */
export const TenantIdSchema = Type.Unsafe<TenantId>(Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }))
