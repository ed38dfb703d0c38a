import { Type } from 'typebox'
import { AGGREGATION_COLUMNS, MAX_AGGREGATION_ENTRIES, type AggregationRequest } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { NullableTimestamp, Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Entry = Type.Object({
  column: Type.String({ maxLength: 255, description: `One of ${AGGREGATION_COLUMNS.join(', ')}` }),
  'individual-id': Uuid,
}, { additionalProperties: false })
const Result = Type.Object({ column: Type.String(), 'individual-id': Type.String(), value: Type.Union([Type.Number(), Type.String(), Type.Null()]) })

/** What a read answers (inferred, README): the request's state and, once computed, its results. */
const Attributes = Type.Object({
  'completed-at': NullableTimestamp,
  'created-at': Timestamp,
  entries: Type.Array(Type.Object({ column: Type.String(), 'individual-id': Type.String() })),
  error: Type.Union([Type.String(), Type.Null()]),
  results: Type.Union([Type.Array(Result), Type.Null()]),
  status: Type.String({ description: 'pending, completed or failed' }),
})
const Create = Type.Object({ entries: Type.Array(Entry, { maxItems: MAX_AGGREGATION_ENTRIES }) })
/** #1 answers the created resource with empty attributes (the sample), identified only by its id. */
const Created = Type.Object({
  data: Type.Object({ attributes: Type.Object({}), id: Type.String(), type: Type.Literal('aggregation-requests') }),
  meta: Type.Object({}, { additionalProperties: true }),
})

/** `aggregation-requests` (#1 and the inferred read): per-individual columns computed by a job. */
export function aggregationRequestsResource(services: Services) {
  const aggregations = services.aggregations
  return defineResource({
    type: 'aggregation-requests',
    path: '/v1/aggregation-requests/',
    tags: ['aggregation-requests'],
    attributes: Attributes,
    present: (r: AggregationRequest) => ({
      id: r.id,
      attributes: {
        'completed-at': r.completedAt?.toISOString() ?? null, 'created-at': r.createdAt.toISOString(),
        entries: r.entries.map((e) => ({ column: e.column, 'individual-id': e.individualId })), error: r.error,
        results: r.results?.map((x) => ({ column: x.column, 'individual-id': x.individualId, value: x.value })) ?? null, status: r.status,
      },
    }),
    create: {
      summary: `Asks for columns (${AGGREGATION_COLUMNS.join(', ')}) per individual, computed by a job; read the results by id`,
      attributes: Create,
      payload: { schema: Created, render: (r) => ({ data: { attributes: {}, id: r.id, type: 'aggregation-requests' }, meta: {} }) },
      run: async ({ tenant, req }, a) => {
        const viewer = viewerOf(req)
        const me = viewer.kind === 'user' ? await services.channels.actingIndividual(tenant, viewer, undefined, {}) : undefined
        return aggregations.create(tenant, a.entries.map((e) => ({ column: e.column, individualId: e['individual-id'] })), viewer.kind === 'user' ? viewer.userId : tenant.id, me)
      },
    },
    read: {
      summary: 'Returns an aggregation request: its status and, once completed, one result per entry (inferred)',
      run: async ({ tenant, req }, id) => {
        const viewer = viewerOf(req)
        return aggregations.get(tenant, id, viewer.kind === 'user' ? viewer.userId : undefined)
      },
    },
  })
}
