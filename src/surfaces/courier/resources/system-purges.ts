import { Type } from 'typebox'
import type { Purge } from '../../../core/privacy/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { viewerOf } from '../viewer.ts'

const CallerId = Type.String({ minLength: 1, maxLength: 200 })

const present = (p: Purge) => ({
  id: p.requestId,
  attributes: {
    archive: p.archive, 'entity-id': p.entityId, 'entity-type': p.entityType, 'reference-id': p.referenceId, 'request-id': p.requestId,
    status: p.status, counts: { ...p.counts }, 'requested-by': p.requestedBy,
    'created-time': p.createdAt.toISOString(), 'completed-time': p.completedAt?.toISOString() ?? null,
  },
})

/**
 * `purge-data` (#86, type `system-purges`): erase an individual everywhere — or archive, with
 * `archive: true` — as a job. The create answers 201 with a `null` body, as the spec has it; the
 * read by request id (ours, marked inferred) is the audit record: status and counts per kind.
 */
export function systemPurgesResource(services: Services) {
  return defineResource({
    type: 'system-purges',
    path: '/v1/purge-data/',
    tags: ['purge-data'],
    // The item is addressed by the caller's request-id (any printable text without a slash).
    idPattern: /^[^\u0000-\u001f\u007f/]{1,200}$/,
    attributes: Type.Object({
      archive: Type.Boolean(),
      'entity-id': Type.String(),
      'entity-type': Type.String(),
      'reference-id': Type.Union([Type.String(), Type.Null()]),
      'request-id': Type.String(),
      status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
      counts: Type.Record(Type.String(), Type.Integer(), { description: 'Records erased (or archived) per kind' }),
      'requested-by': Type.String(),
      'created-time': Type.String(),
      'completed-time': Type.Union([Type.String(), Type.Null()]),
    }),
    present,
    create: {
      summary: 'Erase (or, with archive, archive) an individual everywhere, asynchronously; idempotent by request-id (organisation key only)',
      attributes: Type.Object({
        archive: Type.Optional(Type.Boolean({ default: false })),
        'entity-id': Type.String({ minLength: 1, maxLength: 64 }),
        'entity-type': Type.Literal('individual'),
        'reference-id': Type.Optional(CallerId),
        'request-id': CallerId,
      }),
      payload: { schema: Type.Null(), render: () => null },
      run: async ({ tenant, req }, a) => services.privacy.request(tenant, {
        entityType: a['entity-type'], entityId: a['entity-id'], requestId: a['request-id'], referenceId: a['reference-id'], archive: a.archive,
      }, viewerOf(req)),
    },
    read: {
      summary: 'The audit record of a purge by its request-id (inferred): status and counts per kind erased, no content',
      run: async ({ tenant, req }, id) => services.privacy.find(tenant, id, viewerOf(req)),
    },
  })
}
