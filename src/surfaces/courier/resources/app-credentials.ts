import { Type } from 'typebox'
import { requireOrganizationKey } from '../../../core/messaging/index.ts'
import { APP_CREDENTIAL_TYPES, type AppCredential } from '../../../core/push/index.ts'
import { defineResource, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Obj = Type.Record(Type.String(), Type.Unknown())
const Text = Type.String({ maxLength: 255 })
const Data = Type.Record(Type.String(), Type.Unknown(), {
  description: 'apn: {key-id, team-id, p8 (the .p8 PEM)}; fcm: the service account JSON (project_id, client_email, private_key…). The key is served as "****"; on update it may be left out or given as "****" to keep it',
})

const Attributes = Type.Object({
  'app-name': Type.String(),
  archived: Type.Boolean(),
  'created-at': Timestamp,
  data: Obj,
  'display-name': Type.String(),
  'last-modified-at': Timestamp,
  'organization-id': Uuid,
  'store-id': Type.String(),
  'test-mode': Type.Boolean(),
  type: Type.String(),
})
const Create = Type.Object({
  'app-name': Type.String({ minLength: 1, maxLength: 64 }), data: Data, 'display-name': Type.Optional(Text), 'organization-id': Uuid,
  'store-id': Type.Optional(Type.String({ maxLength: 255, description: 'apn: the bundle id (the APNs topic), required; fcm: free (e.g. the Android package)' })),
  'test-mode': Type.Optional(Type.Boolean({ default: false, description: 'apn: push through the APNs sandbox' })),
  type: Type.Union(APP_CREDENTIAL_TYPES.map((t) => Type.Literal(t))),
})
const Update = Type.Object({
  'app-name': Type.String({ minLength: 1, maxLength: 64 }), archived: Type.Boolean(), data: Data, 'display-name': Text, 'organization-id': Uuid,
  'store-id': Type.String({ maxLength: 255 }), 'test-mode': Type.Boolean(),
})

/** The organisation key only (a user token: 403). */
const orgOnly = ({ req }: JsonApiContext): void => requireOrganizationKey(viewerOf(req))

/** `app-credentials` (#6–#9): an organisation's APNs and FCM credentials, sealed at rest, served masked, archived by PATCH. */
export function appCredentialsResource(services: Services) {
  const credentials = services.appCredentials
  return defineResource({
    guard: orgOnly,
    type: 'app-credentials',
    path: '/v1/app-credentials/',
    tags: ['app-credentials'],
    attributes: Attributes,
    present: (c: AppCredential) => ({
      id: c.id,
      attributes: {
        'app-name': c.appName, archived: c.archived, 'created-at': c.createdAt.toISOString(), data: c.data, 'display-name': c.displayName,
        'last-modified-at': c.lastModifiedAt.toISOString(), 'organization-id': c.organizationId, 'store-id': c.storeId, 'test-mode': c.testMode, type: c.type,
      },
    }),
    list: {
      summary: 'Returns app credentials (archived ones with include[archived]=true)',
      filters: { 'app-name': Type.String({ maxLength: 64 }), type: Type.Union(APP_CREDENTIAL_TYPES.map((t) => Type.Literal(t))) },
      flags: ['include[archived]'],
      run: async (ctx, q) => {
        return credentials.list(ctx.tenant, {
          limit: q.limit, offset: q.offset, includeArchived: q.flags['include[archived]'] === true,
          ...(q.filters['app-name'] !== undefined ? { appName: q.filters['app-name'] as string } : {}),
          ...(q.filters.type !== undefined ? { type: q.filters.type as string } : {}),
        })
      },
    },
    create: {
      summary: 'Creates app credentials (apn: a token key; fcm: a service account), checked and sealed',
      attributes: Create,
      run: async (ctx, a) => {
        return credentials.create(ctx.tenant, {
          organizationId: a['organization-id'], type: a.type, appName: a['app-name'], displayName: a['display-name'], storeId: a['store-id'], testMode: a['test-mode'], data: a.data,
        })
      },
    },
    read: {
      summary: 'Returns specific app credentials',
      run: async (ctx, id) => {
        return credentials.get(ctx.tenant, id)
      },
    },
    update: {
      summary: 'Modifies app credentials; archived: true archives them (type is not updatable)',
      attributes: Update,
      run: async (ctx, id, a) => {
        return credentials.update(ctx.tenant, id, {
          organizationId: a['organization-id'], appName: a['app-name'], displayName: a['display-name'], storeId: a['store-id'], testMode: a['test-mode'], archived: a.archived, data: a.data,
        })
      },
    },
  })
}
