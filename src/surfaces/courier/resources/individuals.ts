import { Type } from 'typebox'
import type { Individual } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Attributes = Type.Object({
  'account-type': Type.String({ description: 'patient unless the directory says otherwise' }),
  'birth-date': Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  'first-name': Type.Union([Type.String(), Type.Null()]),
  'last-modified-time': Type.String(),
  'last-name': Type.Union([Type.String(), Type.Null()]),
  'owner-id': Uuid,
  'preferred-name': Type.Union([Type.String(), Type.Null()]),
})

const present = (i: Individual) => ({
  id: i.id,
  attributes: {
    'account-type': i.accountType, 'birth-date': i.birthDate, 'first-name': i.firstName, 'last-modified-time': i.lastModifiedAt.toISOString(),
    'last-name': i.lastName, 'owner-id': i.ownerId, 'preferred-name': i.preferredName,
  },
})

/**
 * `individuals` (#25, #27): the people the care teams serve — core persons, read-only here (the
 * directory import writes them). The id is the person's Cass `person_id`.
 */
export function individualsResource(services: Services) {
  return defineResource({
    type: 'individuals',
    path: '/v1/individuals/',
    tags: ['individuals'],
    attributes: Attributes,
    present,
    read: { run: async ({ tenant, req }, id) => services.directory.individual(tenant, id, viewerOf(req)) },
    actions: [{
      name: 'recalculate-communication-summary',
      method: 'POST',
      summary: 'Recompute the individual’s communication summary (answers the individual)',
      run: async ({ tenant, req }, id) => ({ resource: await services.directory.recalculateSummary(tenant, id, viewerOf(req)) }),
    }],
  })
}
