import { Type } from 'typebox'
import { ANNOUNCER_EVENTS, ANNOUNCER_TYPES, requireOrganizationKey, type Announcer } from '../../../core/messaging/index.ts'
import { defineResource, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Obj = Type.Record(Type.String(), Type.Unknown())
const NullableUuid = Type.Union([Uuid, Type.Null()])
const Name = Type.String({ minLength: 1, maxLength: 255 })
const Event = Type.String({ maxLength: 255, description: `One of ${ANNOUNCER_EVENTS.join(', ')}` })
const AnnouncerType = Type.String({ maxLength: 255, description: `One of ${ANNOUNCER_TYPES.join(', ')}; webhook takes args {url, secret} (secret 16..200 characters, served masked)` })
const Args = Type.Record(Type.String(), Type.Unknown(), { description: 'webhook: {url, secret}; on update the secret may be left out or given masked to keep it' })

const Attributes = Type.Object({
  args: Obj,
  'created-at': Timestamp,
  'created-by': NullableUuid,
  event: Type.String(),
  'last-modified-at': Timestamp,
  'last-modified-by': NullableUuid,
  name: Type.String(),
  'organization-id': Uuid,
  type: Type.String(),
})
const Create = Type.Object({ args: Args, event: Event, name: Name, 'organization-id': Uuid, type: AnnouncerType })
const Update = Type.Object({ args: Args, event: Event, name: Name, type: AnnouncerType })

/** The organisation key only (a user token: 403); the actor is the organisation. */
const actor = ({ tenant, req }: JsonApiContext): string => {
  requireOrganizationKey(viewerOf(req))
  return tenant.id
}

/** `announcers` (#2–#5): an organisation's event hooks, fired as signed webhooks. */
export function announcersResource(services: Services) {
  const announcers = services.announcers
  return defineResource({
    type: 'announcers',
    path: '/v1/announcers/',
    tags: ['announcers'],
    attributes: Attributes,
    present: (a: Announcer) => ({
      id: a.id,
      attributes: {
        args: a.args, 'created-at': a.createdAt.toISOString(), 'created-by': a.createdBy, event: a.event, 'last-modified-at': a.lastModifiedAt.toISOString(),
        'last-modified-by': a.lastModifiedBy, name: a.name, 'organization-id': a.organizationId, type: a.type,
      },
    }),
    list: {
      summary: 'Returns announcers',
      params: { 'organization-id': { schema: Uuid } },
      filters: { name: Type.String({ maxLength: 255 }) },
      run: async (ctx, q) => {
        actor(ctx)
        return announcers.list(ctx.tenant, {
          limit: q.limit, offset: q.offset,
          ...(q.params['organization-id'] !== undefined ? { organizationId: q.params['organization-id'] as string } : {}),
          ...(q.filters.name !== undefined ? { name: q.filters.name as string } : {}),
        })
      },
    },
    create: {
      summary: `Creates a new announcer (event ${ANNOUNCER_EVENTS.join(' or ')}; type webhook with args {url, secret})`,
      attributes: Create,
      run: async (ctx, a) => announcers.create(ctx.tenant, { organizationId: a['organization-id'], name: a.name, type: a.type, event: a.event, args: a.args }, actor(ctx)),
    },
    read: {
      summary: 'Returns specific announcer',
      run: async (ctx, id) => {
        actor(ctx)
        return announcers.get(ctx.tenant, id)
      },
    },
    update: {
      summary: 'Modifies an existing announcer',
      attributes: Update,
      run: async (ctx, id, a) => announcers.update(ctx.tenant, id, {
        ...(a.name !== undefined ? { name: a.name } : {}), ...(a.type !== undefined ? { type: a.type } : {}),
        ...(a.event !== undefined ? { event: a.event } : {}), ...(a.args !== undefined ? { args: a.args } : {}),
      }, actor(ctx)),
    },
  })
}
