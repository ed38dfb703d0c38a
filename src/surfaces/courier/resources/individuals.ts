import { Type } from 'typebox'
import type { Individual } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'
import { multicastToIndividual, senderOf } from './multicasts.ts'

/** #26's body: a template and its data, for this individual. */
const IndividualMulticast = Type.Object({
  'template-id': Type.String({ maxLength: 255, description: 'The template (README "Templates")' }),
  'template-data': Type.Object({}, { additionalProperties: true, description: 'The template data' }),
  'organization-id': Type.Optional(Uuid),
}, { additionalProperties: false })

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
    }, {
      name: 'multicast',
      method: 'POST',
      summary: 'Sends a template to the individual, rendered for them, by a job (201 {message-data, task-id})',
      body: IndividualMulticast,
      run: async ({ tenant, req }, id, body) => {
        const b = body as { 'template-id': string; 'template-data': Record<string, unknown>; 'organization-id'?: string }
        const viewer = viewerOf(req)
        await services.directory.individual(tenant, id, viewer)
        return {
          payload: await multicastToIndividual(services, tenant, viewer, {
            kind: 'individual', createdBy: senderOf(tenant, viewer), individualId: id, templateId: b['template-id'], data: b['template-data'], organizationId: b['organization-id'],
            pointers: { templateId: '/template-id', data: '/template-data', organizationId: '/organization-id', individualId: '' },
          }),
        }
      },
    }],
  })
}
