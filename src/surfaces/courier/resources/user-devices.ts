import { Type } from 'typebox'
import { DEVICE_TOKEN_MAX, DEVICE_TYPES, type DeviceLog, type UserDevice } from '../../../core/push/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const DeviceType = Type.Union(DEVICE_TYPES.map((t) => Type.Literal(t)))
const Attributes = Type.Object({
  active: Type.Boolean(),
  'allow-notification': Type.Boolean(),
  'app-name': Type.String(),
  'app-version': Type.String(),
  'created-at': Timestamp,
  'individual-id': Type.String(),
  'last-modified-at': Timestamp,
  model: Type.String(),
  'os-version': Type.String(),
  sandbox: Type.Boolean(),
  token: Type.String(),
  topic: Type.String(),
  type: Type.String(),
})
const Create = Type.Object({
  'allow-notification': Type.Optional(Type.Boolean({ default: true })),
  'app-name': Type.Optional(Type.String({ maxLength: 64, description: 'Picks the app credential (apn, fcm) by its app-name' })),
  'app-version': Type.Optional(Type.String({ maxLength: 20 })),
  'individual-id': Uuid,
  model: Type.Optional(Type.String({ maxLength: 64 })),
  'os-version': Type.Optional(Type.String({ maxLength: 64 })),
  sandbox: Type.Optional(Type.Boolean({ default: false, description: 'apn: a development build (APNs sandbox)' })),
  token: Type.String({ minLength: 1, maxLength: DEVICE_TOKEN_MAX, description: 'apn: the device token (hex); fcm: the registration token; web: the PushSubscription JSON' }),
  topic: Type.Optional(Type.String({ maxLength: 255, description: 'apn: the topic, when not the credential\'s bundle id' })),
  type: DeviceType,
})

const presentLog = (l: DeviceLog) => ({
  type: 'user-device-logs', id: l.id,
  attributes: {
    'badge-count': l.badgeCount, body: l.body, category: l.category, 'created-at': l.createdAt.toISOString(), data: l.data, error: l.error, status: l.status, title: l.title,
  },
})

/** `user-devices` (#118–#120): push tokens of individuals; `get-logs` lists the pushes to one. */
export function userDevicesResource(services: Services) {
  const devices = services.userDevices
  return defineResource({
    type: 'user-devices',
    path: '/v1/user-devices/',
    tags: ['user-devices'],
    attributes: Attributes,
    present: (d: UserDevice) => ({
      id: d.id,
      attributes: {
        active: d.active, 'allow-notification': d.allowNotification, 'app-name': d.appName, 'app-version': d.appVersion, 'created-at': d.createdAt.toISOString(),
        'individual-id': d.individualId, 'last-modified-at': d.lastModifiedAt.toISOString(), model: d.model, 'os-version': d.osVersion, sandbox: d.sandbox,
        token: d.token, topic: d.topic, type: d.type,
      },
    }),
    list: {
      summary: 'Returns user devices (a user token: its own individual\'s)',
      params: { 'all-users': { schema: Type.Boolean({ default: false }) }, token: { schema: Type.String({ maxLength: 255 }) } },
      filters: {
        'app-name': Type.String({ maxLength: 64 }), 'app-version': Type.String({ maxLength: 20 }), 'individual-id': Uuid, model: Type.String({ maxLength: 64 }), type: DeviceType,
      },
      run: async ({ tenant, req }, q) => devices.list(tenant, {
        allUsers: q.params['all-users'] === true, limit: q.limit, offset: q.offset,
        appName: q.filters['app-name'] as string | undefined, appVersion: q.filters['app-version'] as string | undefined,
        individualId: q.filters['individual-id'] as string | undefined, model: q.filters.model as string | undefined,
        type: q.filters.type as string | undefined, token: q.params.token as string | undefined,
      }, viewerOf(req)),
    },
    create: {
      summary: 'Registers a device (the same token again updates and reactivates its device)',
      attributes: Create,
      run: async ({ tenant, req }, a) => devices.register(tenant, {
        individualId: a['individual-id'], type: a.type, token: a.token, appName: a['app-name'], appVersion: a['app-version'], model: a.model,
        osVersion: a['os-version'], topic: a.topic, sandbox: a.sandbox, allowNotification: a['allow-notification'],
      }, viewerOf(req)),
    },
    actions: [{
      name: 'get-logs',
      method: 'GET',
      summary: 'The pushes to this device and their outcome (user-device-logs), newest first, paged',
      params: {
        'page[limit]': { schema: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (1..1000)' }) },
        'page[offset]': { schema: Type.Integer({ minimum: 0, default: 0, description: 'Items to skip' }) },
      },
      run: async ({ tenant, req }, id, _body, q) => {
        const limit = (q.params['page[limit]'] as number | undefined) ?? 100
        const offset = (q.params['page[offset]'] as number | undefined) ?? 0
        const page = await devices.logs(tenant, id, { limit, offset }, viewerOf(req))
        return { payload: { data: page.items.map(presentLog), meta: { 'page[limit]': limit, 'page[offset]': offset, 'page[total]': page.total } } }
      },
    }],
  })
}
