import { Type } from 'typebox'
import type { Replicator, Sniffer, SnifferLog } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { viewerOf } from '../viewer.ts'

/** `replicators` (#87, #88): the tenant's import/sync workers and their last run. */
export function replicatorsResource(services: Services) {
  return defineResource({
    type: 'replicators',
    path: '/v1/replicators/',
    tags: ['replicators'],
    attributes: Type.Object({ classpath: Type.String(), 'created-time': Type.String(), 'last-poll-time': Type.String() }),
    present: (r: Replicator) => ({ id: r.id, attributes: { classpath: r.classpath, 'created-time': r.createdAt.toISOString(), 'last-poll-time': r.lastPollAt.toISOString() } }),
    list: {
      summary: 'List the import/sync workers (replicators) and their last run',
      run: async ({ tenant }, q) => {
        const all = await services.replicators.list(tenant.id)
        return { items: all.slice(q.offset, q.offset + q.limit), total: all.length }
      },
    },
    read: { run: async ({ tenant }, id) => services.replicators.find(tenant.id, id) },
  })
}

const presentLog = (l: SnifferLog) => ({
  type: 'sniffer-logs', id: l.id,
  attributes: {
    body: l.body, content_type: l.contentType, 'created-time': l.createdAt.toISOString(), message: l.message, method: l.method, path: l.path,
    'query-string': l.queryString, 'request-id': l.requestId, response: l.response, 'status-code': l.statusCode, 'trace-id': l.traceId, 'user-agent': l.userAgent,
  },
})

/** `sniffers` (#89–#91): time-limited capture of one user's requests; `get-logs` pages through them. */
export function sniffersResource(services: Services) {
  return defineResource({
    type: 'sniffers',
    path: '/v1/sniffers/',
    tags: ['sniffers'],
    attributes: Type.Object({ 'created-time': Type.String(), 'user-id': Type.String(), 'valid-until': Type.String() }),
    present: (s: Sniffer) => ({ id: s.id, attributes: { 'created-time': s.createdAt.toISOString(), 'user-id': s.userId, 'valid-until': s.validUntil.toISOString() } }),
    create: {
      summary: 'Capture a user\'s API requests until valid-until (organisation key only; at most 7 days)',
      attributes: Type.Object({ 'user-id': Type.String({ maxLength: 64 }), 'valid-until': Type.String({ maxLength: 40 }) }),
      run: async ({ tenant, req }, a) => services.sniffers.create(tenant.id, viewerOf(req), { userId: a['user-id'], validUntil: a['valid-until'] }),
    },
    read: { run: async ({ tenant }, id) => services.sniffers.find(tenant.id, id) },
    actions: [{
      name: 'get-logs',
      method: 'GET',
      summary: 'The captured requests (sniffer-logs), oldest first, paged',
      params: {
        'page[limit]': { schema: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (1..1000)' }) },
        'page[offset]': { schema: Type.Integer({ minimum: 0, default: 0, description: 'Items to skip' }) },
      },
      run: async ({ tenant }, id, _body, q) => {
        const limit = (q.params['page[limit]'] as number | undefined) ?? 100
        const offset = (q.params['page[offset]'] as number | undefined) ?? 0
        const page = await services.sniffers.logs(tenant.id, id, { offset, limit })
        return { payload: { data: page.items.map(presentLog), meta: { 'page[limit]': limit, 'page[offset]': offset, 'page[total]': page.total } } }
      },
    }],
  })
}

