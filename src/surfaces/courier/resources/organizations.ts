import { Type } from 'typebox'
import type { Organization } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'

const Attributes = Type.Object({
  classification: Type.String(),
  'display-name': Type.String(),
  'last-modified-time': Type.String(),
  name: Type.String(),
  'provider-type': Type.String(),
  timezone: Type.String(),
})

/** `organizations` (#84, #85): the tenant's organisation (and, with the directory, its clinics). */
export function organizationsResource(services: Services) {
  return defineResource({
    type: 'organizations',
    path: '/v1/organizations/',
    tags: ['organizations'],
    attributes: Attributes,
    present: (o: Organization) => ({
      id: o.id,
      attributes: {
        classification: o.classification, 'display-name': o.displayName, 'last-modified-time': o.lastModifiedAt.toISOString(),
        name: o.name, 'provider-type': o.providerType, timezone: o.timezone,
      },
    }),
    list: {
      filters: { name: Type.String({ maxLength: 255 }) },
      run: async ({ tenant }, q) => {
        const name = q.filters.name as string | undefined
        const all = (await services.organizations.listAll(tenant)).filter((o) => name === undefined || o.name === name)
        return { items: all.slice(q.offset, q.offset + q.limit), total: all.length }
      },
    },
    read: { run: async ({ tenant }, id) => services.organizations.find(tenant, id) },
  })
}
