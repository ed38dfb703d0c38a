import { Type } from 'typebox'
import type { Plugin } from '../../../core/messaging/index.ts'
import { defineResource, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Obj = Type.Record(Type.String(), Type.Unknown())
const NullableUuid = Type.Union([Uuid, Type.Null()])
/** §1.8: plugin names are 4..15 lowercase letters and digits (#66's filter, applied to the name itself). */
const Name = Type.String({ minLength: 4, maxLength: 15, pattern: '^[a-z0-9]+$', description: '4..15 characters a-z, 0-9; unique in the organisation' })
const PluginType = Type.String({ maxLength: 255, description: 'snippet (args.text) or template (args.template with {{first-name}}, {{last-name}}, {{preferred-name}}, {{name}}, {{organization}})' })

const Attributes = Type.Object({
  args: Obj,
  'created-at': Timestamp,
  'created-by': NullableUuid,
  enabled: Type.Boolean(),
  'last-modified-at': Timestamp,
  'last-modified-by': NullableUuid,
  name: Type.String(),
  'organization-id': Uuid,
  type: Type.String(),
})
const Create = Type.Object({ args: Obj, name: Name, 'organization-id': Uuid, type: PluginType })
const Update = Type.Object({ args: Obj, name: Name, type: PluginType })

/** Who changes it: the user of a user token, else the organisation. */
const actor = ({ tenant, req }: JsonApiContext): string => {
  const v = viewerOf(req)
  return v.kind === 'user' ? v.userId : tenant.id
}

/** `messaging-plugins` (#66–#72): an organisation's snippets and templates, expanded for a channel. */
export function messagingPluginsResource(services: Services) {
  const plugins = services.messagingPlugins
  return defineResource({
    type: 'messaging-plugins',
    path: '/v1/messaging-plugins/',
    tags: ['messaging-plugins'],
    attributes: Attributes,
    present: (p: Plugin) => ({
      id: p.id,
      attributes: {
        args: p.args, 'created-at': p.createdAt.toISOString(), 'created-by': p.createdBy, enabled: p.enabled, 'last-modified-at': p.lastModifiedAt.toISOString(),
        'last-modified-by': p.lastModifiedBy, name: p.name, 'organization-id': p.organizationId, type: p.type,
      },
    }),
    list: {
      summary: 'Returns an organisation\'s plugins, by name',
      params: { 'organization-id': { schema: Uuid, required: true } },
      filters: { name: Name, type: Type.String({ maxLength: 255 }) },
      run: async ({ tenant }, q) => plugins.list(tenant, {
        organizationId: q.params['organization-id'] as string, limit: q.limit, offset: q.offset,
        ...(q.filters.name !== undefined ? { name: q.filters.name as string } : {}), ...(q.filters.type !== undefined ? { type: q.filters.type as string } : {}),
      }),
    },
    create: {
      summary: 'Creates a plugin (enabled); type snippet takes args {text}, template takes args {template}',
      attributes: Create,
      run: async (ctx, a) => plugins.create(ctx.tenant, { organizationId: a['organization-id'], name: a.name, type: a.type, args: a.args }, actor(ctx)),
    },
    read: { summary: 'Returns a plugin', run: async ({ tenant }, id) => plugins.get(tenant, id) },
    update: {
      summary: 'Modifies a plugin (args are checked against the resulting type)',
      attributes: Update,
      run: async (ctx, id, a) => plugins.update(ctx.tenant, id, {
        ...(a.name !== undefined ? { name: a.name } : {}), ...(a.type !== undefined ? { type: a.type } : {}), ...(a.args !== undefined ? { args: a.args } : {}),
      }, actor(ctx)),
    },
    actions: [
      { name: 'disable', method: 'POST', summary: 'Disable a plugin (expand refuses it)', run: async (ctx, id) => ({ resource: await plugins.setEnabled(ctx.tenant, id, false, actor(ctx)) }) },
      { name: 'enable', method: 'POST', summary: 'Enable a plugin', run: async (ctx, id) => ({ resource: await plugins.setEnabled(ctx.tenant, id, true, actor(ctx)) }) },
      {
        name: 'expand', method: 'POST', summary: 'The plugin\'s message for a channel: {"message": …} (placeholders from the channel\'s individual)',
        body: Type.Object({ 'channel-id': Uuid }, { additionalProperties: false }),
        run: async ({ tenant }, id, body) => ({ payload: await plugins.expand(tenant, id, (body as { 'channel-id': string })['channel-id']) }),
      },
    ],
  })
}
