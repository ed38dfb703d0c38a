import { Type } from 'typebox'
import { BADGE_TYPE_MAX, MAX_BULK_BADGE_COUNTS, type BadgeCount } from '../../../core/push/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Value = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  'individual-id': Uuid,
  'organization-id': Uuid,
  timestamp: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; an older timestamp than the stored one does not overwrite it' })),
  type: Type.String({ minLength: 1, maxLength: BADGE_TYPE_MAX, description: 'The category, e.g. appointment' }),
}, { additionalProperties: false })

const Attributes = Type.Object({
  count: Type.Integer(),
  'individual-id': Uuid,
  'last-modified-at': Timestamp,
  'organization-id': Uuid,
  timestamp: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
})

const toInput = (v: { count: number; 'individual-id': string; 'organization-id': string; timestamp?: string | undefined; type: string }) => ({
  count: v.count, individualId: v['individual-id'], organizationId: v['organization-id'], timestamp: v.timestamp, type: v.type,
})

/** `badge-counts` (#18–#20): an individual's unread counter per organisation and category; setting one replaces it. */
export function badgeCountsResource(services: Services) {
  const badges = services.badgeCounts
  return defineResource({
    type: 'badge-counts',
    path: '/v1/badge-counts/',
    tags: ['badge-counts'],
    attributes: Attributes,
    present: (b: BadgeCount) => ({
      id: b.id,
      attributes: {
        count: b.count, 'individual-id': b.individualId, 'last-modified-at': b.lastModifiedAt.toISOString(), 'organization-id': b.organizationId,
        timestamp: b.timestamp ? b.timestamp.toISOString() : null, type: b.type,
      },
    }),
    list: {
      summary: 'Returns the badge counts of an individual',
      params: { 'individual-id': { schema: Uuid, required: true }, 'organization-id': { schema: Uuid } },
      run: async ({ tenant, req }, q) => {
        const all = await badges.list(tenant, { individualId: q.params['individual-id'] as string, organizationId: q.params['organization-id'] as string | undefined }, viewerOf(req))
        return { items: all.items.slice(q.offset, q.offset + q.limit), total: all.total }
      },
    },
    create: {
      summary: 'Sets a badge count (one per individual, organisation and type)',
      attributes: Value,
      run: async ({ tenant, req }, a) => badges.set(tenant, toInput(a), viewerOf(req)),
    },
    read: {
      summary: 'Returns specific badge count',
      run: async ({ tenant, req }, id) => badges.get(tenant, id, viewerOf(req)),
    },
  })
}

/** `bulk-badge-counts` (#21): many badge counts set at once, all or none; 201 with a `null` body. */
export function bulkBadgeCountsResource(services: Services) {
  return defineResource({
    type: 'bulk-badge-counts',
    path: '/v1/bulk-badge-counts/',
    tags: ['badge-counts'],
    attributes: Type.Object({}),
    present: () => ({ id: '', attributes: {} }),
    create: {
      summary: `Sets up to ${MAX_BULK_BADGE_COUNTS} badge counts at once (all or none)`,
      attributes: Type.Object({ values: Type.Array(Value, { maxItems: MAX_BULK_BADGE_COUNTS }) }),
      payload: { schema: Type.Null(), render: () => null },
      run: async ({ tenant, req }, a) => {
        await services.badgeCounts.setMany(tenant, a.values.map(toInput), viewerOf(req))
        return null
      },
    },
  })
}
