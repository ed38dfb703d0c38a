import { Type } from 'typebox'
import { NotFoundError, ValidationError } from '../../../core/errors.ts'
import { validateMulticastParams, type DirectoryUser } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'
import { multicastToIndividual } from './multicasts.ts'

const Notification = Type.Enum(['email', 'sms', 'push'])
const Attributes = Type.Object({
  'auto-sign-up': Type.Boolean(),
  'communication-preferences': Type.Object({}, { additionalProperties: true }),
  email: Type.String(),
  'email-verified': Type.Boolean(),
  'first-name': Type.Union([Type.String(), Type.Null()]),
  'last-name': Type.Union([Type.String(), Type.Null()]),
  'last-sync-time': Type.String(),
  locale: Type.Union([Type.String(), Type.Null()]),
  'locale-explicit': Type.Boolean(),
  notifications: Type.Array(Type.String()),
  phone: Type.Union([Type.String(), Type.Null()]),
  'phone-unsubscribed': Type.Boolean(),
  'phone-verified': Type.Boolean(),
  'primary-individual-id': Type.Union([Uuid, Type.Null()]),
  'sms-mode': Type.String(),
  state: Type.String(),
  tz: Type.Union([Type.String(), Type.Null()]),
  'tz-explicit': Type.Boolean(),
  username: Type.Union([Type.String(), Type.Null()]),
})

/** #139's body: every member required (`spec/courier.md`). */
const ValidateMulticastParams = Type.Object({
  data: Type.Object({}, { additionalProperties: true, description: 'The template data' }),
  'individual-id': Uuid,
  'organization-id': Uuid,
  'template-id': Type.String({ maxLength: 255, description: 'The template (README "Templates")' }),
}, { additionalProperties: false })

/** #138's body: a template, its data, and the individual (the user's own when left out). */
const UserMulticast = Type.Object({
  'template-id': Type.String({ maxLength: 255, description: 'The template (README "Templates")' }),
  data: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The template data (default {})' })),
  'individual-id': Type.Optional(Uuid),
  'organization-id': Type.Optional(Uuid),
}, { additionalProperties: false })

const Update = Type.Object({
  notifications: Type.Array(Notification, { uniqueItems: true, maxItems: 3, description: 'How the user is told of new messages' }),
})

/** `users` (#135–#137): care-team members (imported, keyed by email); a user token sees only itself. */
export function usersResource(services: Services) {
  return defineResource({
    type: 'users',
    path: '/v1/users/',
    tags: ['users'],
    attributes: Attributes,
    present: (u: DirectoryUser) => ({
      id: u.id,
      attributes: {
        // The directory's users come from the operator's system: signed up by it, their email and
        // phone taken as verified there; locale and zone explicit when the directory gives them.
        'auto-sign-up': true, 'communication-preferences': {}, email: u.email, 'email-verified': true,
        'first-name': u.firstName, 'last-name': u.lastName, 'last-sync-time': u.lastSyncAt.toISOString(),
        locale: u.locale, 'locale-explicit': u.locale !== null, notifications: [...u.notifications], phone: u.phone,
        'phone-unsubscribed': false, 'phone-verified': u.phone !== null, 'primary-individual-id': u.primaryIndividualId,
        'sms-mode': u.smsMode, state: u.state, tz: u.tz, 'tz-explicit': u.tz !== null, username: u.username,
      },
    }),
    list: {
      filters: { email: Type.String({ format: 'email', maxLength: 320 }), 'individual-id': Uuid, username: Type.String({ maxLength: 255 }) },
      run: async ({ tenant, req }, q) => {
        const f = q.filters as { email?: string; 'individual-id'?: string; username?: string }
        return services.directory.users(tenant, {
          ...(f.email !== undefined ? { email: f.email } : {}), ...(f['individual-id'] !== undefined ? { individualId: f['individual-id'] } : {}),
          ...(f.username !== undefined ? { username: f.username } : {}),
        }, { limit: q.limit, offset: q.offset }, viewerOf(req))
      },
    },
    read: { run: async ({ tenant, req }, id) => services.directory.user(tenant, id, viewerOf(req)) },
    update: {
      summary: 'Set the user’s notifications (deprecated)',
      attributes: Update,
      run: async ({ tenant, req }, id, a) => {
        if (a.notifications === undefined) return services.directory.user(tenant, id, viewerOf(req))
        return services.directory.setNotifications(tenant, id, a.notifications, viewerOf(req))
      },
    },
    actions: [{
      name: 'validate-multicast-params',
      method: 'POST',
      summary: 'Check a multicast’s template data and render every part for the individual, sending nothing (201 {info, success})',
      body: ValidateMulticastParams,
      run: async ({ tenant, req }, id, body) => {
        const b = body as { data: Record<string, unknown>; 'individual-id': string; 'organization-id': string; 'template-id': string }
        const payload = await validateMulticastParams(services, tenant, id, {
          templateId: b['template-id'], data: b.data, individualId: b['individual-id'], organizationId: b['organization-id'],
        }, viewerOf(req))
        return { payload: { info: payload.info, success: payload.success } }
      },
    }, {
      name: 'multicast',
      method: 'POST',
      summary: 'Sends a template from the user to an individual (the user’s own individual when individual-id is left out), by a job (201 {message-data, task-id})',
      body: UserMulticast,
      run: async ({ tenant, req }, id, body) => {
        const b = body as { 'template-id': string; data?: Record<string, unknown>; 'individual-id'?: string; 'organization-id'?: string }
        const viewer = viewerOf(req)
        const user = await services.directory.user(tenant, id, viewer)
        let individualId = b['individual-id']
        if (individualId !== undefined) {
          await services.directory.individual(tenant, individualId, viewer).catch((err: unknown) => {
            if (err instanceof NotFoundError) throw new NotFoundError('resource_not_found', `No individuals with id ${individualId}`, { type: 'individuals', id: individualId!, pointer: '/individual-id' })
            throw err
          })
        } else {
          individualId = user.primaryIndividualId ?? undefined
          if (individualId === undefined) throw new ValidationError('recipients_required', 'the user has no individual: name one in individual-id', { pointer: '/individual-id' })
        }
        return {
          payload: await multicastToIndividual(services, tenant, viewer, {
            kind: 'user', createdBy: user.id, individualId, templateId: b['template-id'], data: b.data ?? {}, organizationId: b['organization-id'],
            pointers: { templateId: '/template-id', data: '/data', organizationId: '/organization-id', individualId: '/individual-id' },
          }),
        }
      },
    }],
  })
}
