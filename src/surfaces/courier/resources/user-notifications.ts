import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { ValidationError } from '../../../core/errors.ts'
import { checkCategory, NOTIFICATION_CATEGORY_MAX, type UserNotification } from '../../../core/push/index.ts'
import { defineResource, ErrorDocument } from '../../../http/jsonapi/resource.ts'
import { listQuerySchema, parseListQuery, type ListSpec } from '../../../http/jsonapi/query.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Nullable = (s: ReturnType<typeof Type.String>) => Type.Union([s, Type.Null()])
const Free = Type.Object({}, { additionalProperties: true })
const Attributes = Type.Object({
  acknowledged: Type.Boolean(),
  active: Type.Boolean({ description: 'False when nothing reached the individual (no push, SMS, e-mail or in-app part)' }),
  'created-at': Timestamp,
  data: Type.Object({
    apn: Free, fcm: Free, sms: Type.Object({ bodies: Type.Array(Type.String()) }), web: Free,
  }, { description: 'What went out: apn/fcm/web {title, body, category, data} when pushed, sms.bodies the texts' }),
  'individual-id': Type.String(),
  'organization-id': Type.String(),
  'user-first-name': Nullable(Type.String()),
  'user-id': Nullable(Type.String({ description: 'The individual\'s user, null when it is no user' })),
  'user-last-name': Nullable(Type.String()),
})

/** `user-notifications` (#132–#134): what each individual was sent, acknowledged singly or with the older ones. */
export function userNotificationsResource(services: Services) {
  const notifications = services.userNotifications
  return defineResource({
    type: 'user-notifications',
    path: '/v1/user-notifications/',
    tags: ['user-notifications'],
    attributes: Attributes,
    present: (n: UserNotification) => ({
      id: n.id,
      attributes: {
        acknowledged: n.acknowledged, active: n.active, 'created-at': n.createdAt.toISOString(), data: n.data as never,
        'individual-id': n.individualId, 'organization-id': n.organizationId, 'user-first-name': n.userFirstName, 'user-id': n.userId, 'user-last-name': n.userLastName,
      },
    }),
    list: {
      summary: 'Returns user notifications, oldest first (inactive ones with include[inactive]; a user token: its own)',
      params: { acknowledged: { schema: Type.Boolean() }, 'individual-id': { schema: Uuid }, 'organization-id': { schema: Uuid } },
      filters: { category: Type.String({ maxLength: NOTIFICATION_CATEGORY_MAX }) },
      flags: ['include[inactive]'],
      run: async ({ tenant, req }, q) => {
        const category = q.filters.category as string | undefined
        checkCategory(category)
        return notifications.list(tenant, {
          acknowledged: q.params.acknowledged as boolean | undefined, category, includeInactive: q.flags['include[inactive]'] === true,
          individualId: q.params['individual-id'] as string | undefined, organizationId: q.params['organization-id'] as string | undefined, limit: q.limit, offset: q.offset,
        }, viewerOf(req))
      },
    },
    read: {
      summary: 'Returns one user notification',
      run: async ({ tenant, req }, id) => notifications.get(tenant, id, viewerOf(req)),
    },
    actions: [{
      name: 'ack',
      method: 'POST',
      summary: 'Acknowledges the notification (and with ack-previous every older one of its individual)',
      body: Type.Object({ 'ack-previous': Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
      run: async ({ tenant, req }, id, body) => ({ resource: await notifications.ack(tenant, id, (body as { 'ack-previous'?: boolean })['ack-previous'] === true, viewerOf(req)) }),
    }],
  })
}

const COUNTS: ListSpec<unknown> = { page: { min: 0, max: 1000, default: 500 }, windows: ['created-at'], run: async () => ({ items: [], total: 0 }) }
const CountObject = Type.Object({
  attributes: Type.Object({ count: Type.Integer(), 'daily-for-date': Type.String({ description: 'YYYY-MM-DD (UTC)' }), 'user-id': Type.String({ description: 'The user, or the individual when it is no user' }) }),
  type: Type.Literal('notification-counts'),
})

/** #131 `GET /v1/user-notification-counts/`: notifications per UTC day and individual; objects without `id`. */
export function registerNotificationCounts(scope: FastifyInstance, services: Services): void {
  scope.get('/user-notification-counts/', {
    schema: {
      tags: ['user-notification-counts'], summary: 'Counts user notifications per day (newest day first)',
      querystring: listQuerySchema(COUNTS),
      response: { 200: Type.Object({ data: Type.Array(CountObject), meta: Type.Object({}, { additionalProperties: true }) }), '4XX': ErrorDocument },
    },
  }, async (req) => {
    const q = parseListQuery(COUNTS, req.query as Record<string, unknown>)
    const bounds = (q.windows['created-at'] ?? []).map((b) => {
      if (b.op !== '<=' && b.op !== '>=') throw new ValidationError('invalid_user_notification', 'filter[cmp-created-at] takes the comparators <= and >=', { parameter: 'filter[cmp-created-at]' })
      return { op: b.op, at: b.at }
    })
    const page = await services.userNotifications.counts(tenantOf(req), { bounds, limit: q.limit, offset: q.offset }, viewerOf(req))
    return {
      data: page.items.map((c) => ({ attributes: { count: c.count, 'daily-for-date': c.day, 'user-id': c.userId }, type: 'notification-counts' })),
      meta: { 'page[limit]': q.limit, 'page[offset]': q.offset, 'page[total]': page.total },
    }
  })
}
