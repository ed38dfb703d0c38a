import { Type } from 'typebox'
import { ORG_PREFERENCE_NAMES, ORG_PREFERENCE_TYPES, type OrgPreference, type OrgPreferenceName } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { NullableTimestamp, Uuid } from '../schemas.ts'

const Name = Type.Enum(ORG_PREFERENCE_NAMES)
const PrefType = Type.Enum(ORG_PREFERENCE_TYPES)
const ValueJs = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])

const Attributes = Type.Object({
  'created-at': NullableTimestamp,
  explicit: Type.Boolean({ description: 'Set for this organisation (false: the default)' }),
  name: Name,
  'organization-id': Uuid,
  type: PrefType,
  value: Type.Union([Type.String(), Type.Null()]),
  'value-js': ValueJs,
})

const Create = Type.Object({
  name: Name,
  'organization-id': Uuid,
  type: Type.Optional(PrefType),
  value: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  'value-js': Type.Optional(ValueJs),
})

/** `org-preferences` (#82, #83): an organisation's preferences, defaults included; a POST sets one. */
export function orgPreferencesResource(services: Services) {
  return defineResource({
    type: 'org-preferences',
    path: '/v1/org-preferences/',
    tags: ['org-preferences'],
    attributes: Attributes,
    present: (p: OrgPreference) => ({
      id: p.id,
      attributes: {
        'created-at': p.createdAt?.toISOString() ?? null, explicit: p.explicit, name: p.name, 'organization-id': p.organizationId,
        type: p.type, value: p.value, 'value-js': p.valueJs,
      },
    }),
    list: {
      params: { 'organization-id': { schema: Uuid, required: true } },
      filters: { name: Name },
      run: async ({ tenant }, q) => {
        const name = q.filters.name as OrgPreferenceName | undefined
        const all = await services.orgPreferences.list(tenant, q.params['organization-id'] as string, name ? [name] : undefined)
        return { items: all.slice(q.offset, q.offset + q.limit), total: all.length }
      },
    },
    create: {
      summary: 'Set an organisation preference (a second set of the same name replaces it)',
      attributes: Create,
      run: async ({ tenant }, a) => services.orgPreferences.set(tenant, {
        organizationId: a['organization-id'], name: a.name, ...(a.type !== undefined ? { type: a.type } : {}),
        ...(a.value !== undefined ? { value: a.value } : {}), ...(a['value-js'] !== undefined ? { valueJs: a['value-js'] } : {}),
      }),
    },
  })
}
