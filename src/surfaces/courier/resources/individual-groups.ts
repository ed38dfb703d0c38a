import { Type } from 'typebox'
import type { IndividualGroup } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Ref = Type.Object({ id: Uuid })
const Attributes = Type.Object({
  individuals: Type.Array(Ref, { description: 'The member individuals' }),
  'last-sync-time': Type.String(),
  leaders: Type.Array(Ref, { description: 'The member users (the care team), by user id' }),
  name: Type.String(),
  'organization-id': Uuid,
  'parent-id': Type.Union([Uuid, Type.Null()]),
})

/** `individual-groups` (#24): care teams with their individuals and leaders, read-only (imported). */
export function individualGroupsResource(services: Services) {
  return defineResource({
    type: 'individual-groups',
    path: '/v1/individual-groups/',
    tags: ['individual-groups'],
    attributes: Attributes,
    present: (g: IndividualGroup) => ({
      id: g.id,
      attributes: {
        individuals: g.individualIds.map((id) => ({ id })), 'last-sync-time': g.lastSyncAt.toISOString(), leaders: g.leaderIds.map((id) => ({ id })),
        name: g.name, 'organization-id': g.organizationId, 'parent-id': g.parentId,
      },
    }),
    read: { run: async ({ tenant, req }, id) => services.directory.group(tenant, id, viewerOf(req)) },
  })
}
