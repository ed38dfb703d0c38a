import type { Tenant } from '../tenants/index.ts'
import { NotFoundError } from '../errors.ts'

/** An organisation of the messaging API (`spec/courier.md` #84, #85). */
export interface Organization {
  readonly id: string
  readonly name: string
  readonly displayName: string
  readonly classification: string
  readonly providerType: string
  readonly timezone: string
  readonly lastModifiedAt: Date
}

/** Where the tenant's sub-organisations (clinics, imported with the directory) come from. */
export type ClinicSource = (tenantId: Tenant['id']) => Promise<ReadonlyArray<{ id: string; name: string; displayName: string; timezone: string; updatedAt: Date }>>

/**
 * The organisations a tenant has: the tenant itself (`courier.organization_id` is the tenant's id;
 * README "Messaging: decisions") and its sub-organisations (clinics) of the directory import, which
 * `listAll`/`find` read; `list`/`get` know the tenant's own organisation only.
 */
export class Organizations {
  readonly #clinics: ClinicSource | undefined

  constructor(clinics?: ClinicSource) {
    this.#clinics = clinics
  }

  /** The tenant's organisation, then its clinics in name order. */
  async listAll(tenant: Tenant): Promise<Organization[]> {
    const clinics = this.#clinics ? await this.#clinics(tenant.id) : []
    return [root(tenant), ...clinics.map((c) => ({
      id: c.id, name: c.name, displayName: c.displayName, classification: 'clinic', providerType: 'care-provider', timezone: c.timezone, lastModifiedAt: c.updatedAt,
    }))]
  }

  /** One organisation of the tenant, a clinic included; NotFoundError `resource_not_found` for any other id. */
  async find(tenant: Tenant, id: string, where: { parameter?: string; pointer?: string } = {}): Promise<Organization> {
    const org = id === tenant.id ? root(tenant) : (await this.listAll(tenant)).find((o) => o.id === id)
    if (!org) throw new NotFoundError('resource_not_found', `No organizations with id ${id}`, { type: 'organizations', id, ...where })
    return org
  }

  /** The tenant's organisations, in name order. */
  list(tenant: Tenant): Organization[] {
    return [root(tenant)]
  }

  /** One organisation of the tenant; NotFoundError `resource_not_found` for any other id. */
  get(tenant: Tenant, id: string, where: { parameter?: string; pointer?: string } = {}): Organization {
    const org = this.list(tenant).find((o) => o.id === id)
    if (!org) throw new NotFoundError('resource_not_found', `No organizations with id ${id}`, { type: 'organizations', id, ...where })
    return org
  }
}

function root(tenant: Tenant): Organization {
  return {
    id: tenant.id, name: tenant.name, displayName: tenant.name, classification: 'organization', providerType: 'care-provider',
    timezone: 'UTC', lastModifiedAt: tenant.createdAt,
  }
}
