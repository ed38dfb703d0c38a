import { Type } from 'typebox'
import { FILTER_TYPES, type Channel, type ChannelGroup, type DirectoryViewer, type Multicast, type MulticastKind, type UserMulticast } from '../../../core/messaging/index.ts'
import type { Tenant } from '../../../core/tenants/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { NullableTimestamp, Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'
import { embedGroup } from './messaging-channels.ts'

const Obj = Type.Object({}, { additionalProperties: true })
const NullableUuid = Type.Union([Uuid, Type.Null()])
const NullableString = Type.Union([Type.String(), Type.Null()])
const TemplateId = Type.String({ maxLength: 255, description: 'The template (README "Templates")' })
const TemplateData = Type.Object({}, { additionalProperties: true, description: 'The template data (checked against the template’s data-schema)' })

const Attributes = Type.Object({
  'created-at': Timestamp,
  'created-by': Uuid,
  data: Obj,
  'first-name': NullableString,
  'individual-group': Type.Union([Obj, Type.Null()], { description: 'The audience’s group (filter-type individual-group), with include-individual-group' }),
  'individual-group-id': NullableUuid,
  'individual-id': NullableUuid,
  'individual-ids': Type.Union([Type.Array(Uuid), Type.Null()], { description: 'Every recipient, with include-individual-ids' }),
  'last-name': NullableString,
  status: Type.Union([Type.Literal('sending'), Type.Literal('sent')], { description: 'sending (the job runs); sent (every recipient sent or skipped)' }),
  'template-args': Obj,
  'template-id': Type.String(),
  'user-name': NullableString,
  // Beyond the spec's sample: the audience and the job's progress (README "Multicasts").
  'organization-id': Uuid,
  'filter-type': Type.String(),
  'filter-value': Obj,
  kind: Type.String({ description: 'Which operation sent it: multicast (#80), individual (#26), user-multicast (#130), user (#138)' }),
  'task-id': Uuid,
  'recipient-count': Type.Integer(),
  'sent-count': Type.Integer(),
  'skipped-count': Type.Integer(),
  'pending-count': Type.Integer(),
  'finished-at': NullableTimestamp,
})

const Create = Type.Object({
  data: TemplateData,
  'filter-type': Type.String({ enum: [...FILTER_TYPES], description: 'all-participants; individual-group ({individual-group-id}); channel-participants ({channel-id}); individuals ({individual-ids, individual-group-ids})' }),
  'filter-value': Type.Object({}, { additionalProperties: true, description: 'What the filter-type needs (README "Multicasts")' }),
  'organization-id': Uuid,
  'template-id': TemplateId,
})

/** The §1.10 multicast task result (#26, #130, #138). */
export const TaskResult = Type.Object({ 'message-data': Obj, 'task-id': Uuid })

/** A multicast as presented, with what the include flags asked for. */
type MulticastView = Multicast & { readonly group?: ChannelGroup | null; readonly recipients?: readonly string[] | null }

/** The task result of a multicast: its id is the job's key (the `task-id`), `message-data` how many it goes to. */
export function taskResult(m: Multicast) {
  return { 'message-data': { 'recipient-count': m.progress.recipients, status: m.status }, 'task-id': m.id }
}

/** The organisation, or the user of a user token, as the multicast's sender. */
export function senderOf(tenant: Tenant, viewer: DirectoryViewer): string {
  return viewer.kind === 'user' ? viewer.userId : tenant.id
}

/** A multicast to one individual (#26, #138), from the task-result operations. */
export async function multicastToIndividual(services: Services, tenant: Tenant, viewer: DirectoryViewer, input: {
  kind: MulticastKind; createdBy: string; individualId: string; templateId: string; data: Record<string, unknown>; organizationId?: string | undefined
  pointers: { templateId: string; data: string; organizationId: string; individualId: string }
}) {
  const m = await services.multicasts.create(tenant, {
    kind: input.kind, createdBy: input.createdBy, organizationId: input.organizationId ?? tenant.id, templateId: input.templateId, data: input.data,
    filterType: 'individuals', filterValue: { 'individual-ids': [input.individualId.toLowerCase()] }, individualId: input.individualId,
    pointers: { ...input.pointers, filterType: input.pointers.individualId, filterValue: input.pointers.individualId },
    audiencePointers: { individualIds: input.pointers.individualId, individualGroupIds: input.pointers.individualId },
  }, viewer)
  return taskResult(m)
}

/** `multicasts` (#79–#81): a template sent to an audience by a resumable job, read for its progress. */
export function multicastsResource(services: Services) {
  const multicasts = services.multicasts
  const view = async (tenant: Tenant, m: Multicast, flags: Readonly<Record<string, boolean>>): Promise<MulticastView> => ({
    ...m,
    group: flags['include-individual-group'] && m.individualGroupId ? await services.channels.group(tenant, { individualGroupId: m.individualGroupId } as Channel) : null,
    recipients: flags['include-individual-ids'] ? await multicasts.recipientIds(tenant, m.id) : null,
  })
  return defineResource({
    type: 'multicasts',
    path: '/v1/multicasts/',
    tags: ['multicasts'],
    attributes: Attributes,
    present: (m: MulticastView) => ({
      id: m.id,
      attributes: {
        'created-at': m.createdAt.toISOString(), 'created-by': m.createdBy, data: { ...m.data }, 'first-name': m.creator?.firstName ?? null,
        'individual-group': m.group ? embedGroup(m.group) : null, 'individual-group-id': m.individualGroupId, 'individual-id': m.individualId,
        'individual-ids': m.recipients ? [...m.recipients] : null, 'last-name': m.creator?.lastName ?? null, status: m.status,
        'template-args': { ...m.data }, 'template-id': m.templateId, 'user-name': m.creator?.username ?? null,
        'organization-id': m.organizationId, 'filter-type': m.filterType, 'filter-value': { ...m.filterValue }, kind: m.kind, 'task-id': m.id,
        'recipient-count': m.progress.recipients, 'sent-count': m.progress.sent, 'skipped-count': m.progress.skipped, 'pending-count': m.progress.pending,
        'finished-at': m.finishedAt?.toISOString() ?? null,
      },
    }),
    list: {
      summary: 'Returns multicasts, newest first',
      windows: ['created-at'],
      params: { 'individual-group-id': { schema: Uuid }, 'template-id': { schema: TemplateId } },
      flags: ['include-individual-group', 'include-individual-ids'],
      run: async ({ tenant, req }, q) => {
        const group = q.params['individual-group-id'] as string | undefined
        if (group !== undefined) await multicasts.checkGroup(tenant, group, viewerOf(req), { parameter: 'individual-group-id' })
        const page = await multicasts.list(tenant, {
          limit: q.limit, offset: q.offset, ...(q.windows['created-at'] ? { createdAt: q.windows['created-at'] } : {}),
          ...(q.params['individual-group-id'] !== undefined ? { individualGroupId: q.params['individual-group-id'] as string } : {}),
          ...(q.params['template-id'] !== undefined ? { templateId: q.params['template-id'] as string } : {}),
        })
        return { items: await Promise.all(page.items.map((m) => view(tenant, m, q.flags))), total: page.total }
      },
    },
    create: {
      summary: 'Sends a template to an audience (filter-type, filter-value), rendered per recipient, by a job',
      attributes: Create,
      run: async ({ tenant, req }, a) => {
        const viewer = viewerOf(req)
        const at = (m: string) => `/data/attributes/${m}`
        const m = await multicasts.create(tenant, {
          kind: 'multicast', createdBy: senderOf(tenant, viewer), organizationId: a['organization-id'], templateId: a['template-id'], data: a.data as Record<string, unknown>,
          filterType: a['filter-type'], filterValue: a['filter-value'] as Record<string, unknown>,
          pointers: { templateId: at('template-id'), data: at('data'), organizationId: at('organization-id'), filterType: at('filter-type'), filterValue: at('filter-value') },
        }, viewer)
        return view(tenant, m, {})
      },
    },
    read: {
      summary: 'Returns a multicast and how far its job has come (its id is the task-id)',
      flags: ['include-individual-group', 'include-individual-ids'],
      run: async ({ tenant }, id, q) => view(tenant, await multicasts.get(tenant, id), q.flags),
    },
  })
}

const UserMulticastAttributes = Type.Object({
  'created-at': Timestamp,
  'individual-id': Uuid,
  'organization-id': Uuid,
  'template-data': Obj,
  'template-id': Type.String(),
  // Beyond the spec's sample: the multicast, the channels it went on, the in-app part (README "Multicasts").
  'multicast-id': Uuid,
  channels: Type.Array(Type.String()),
  language: NullableString,
  'in-app': Type.Union([Type.Object({ title: Type.String(), body: Type.String() }), Type.Null()]),
})

const CreateUserMulticast = Type.Object({
  'template-id': TemplateId,
  'template-data': TemplateData,
  'individual-group-ids': Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 100 })),
  'individual-ids': Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 10_000 })),
  'organization-id': Type.Optional(Uuid),
})

/** `user-multicasts` (#129, #130): what each individual was sent; a multicast to listed individuals and groups. */
export function userMulticastsResource(services: Services) {
  return defineResource({
    type: 'user-multicasts',
    path: '/v1/user-multicasts/',
    tags: ['multicasts'],
    attributes: UserMulticastAttributes,
    present: (u: UserMulticast) => ({
      id: u.id,
      attributes: {
        'created-at': u.createdAt.toISOString(), 'individual-id': u.individualId, 'organization-id': u.organizationId, 'template-data': { ...u.templateData },
        'template-id': u.templateId, 'multicast-id': u.multicastId, channels: [...u.channels], language: u.language, 'in-app': u.inApp ? { ...u.inApp } : null,
      },
    }),
    list: {
      summary: 'Returns what the individual was sent by multicasts, newest first',
      params: { 'individual-id': { schema: Uuid, required: true } },
      run: async ({ tenant, req }, q) => services.multicasts.sentTo(tenant, q.params['individual-id'] as string, { limit: q.limit, offset: q.offset }, viewerOf(req)),
    },
    create: {
      summary: 'Sends a template to the listed individuals and the members of the listed groups (201 {message-data, task-id})',
      attributes: CreateUserMulticast,
      plain: true,
      payload: { schema: TaskResult, render: (m: UserMulticast | Multicast) => taskResult(m as Multicast) },
      run: async ({ tenant, req }, a) => {
        const viewer = viewerOf(req)
        return services.multicasts.create(tenant, {
          kind: 'user-multicast', createdBy: senderOf(tenant, viewer), organizationId: a['organization-id'] ?? tenant.id, templateId: a['template-id'], data: a['template-data'] as Record<string, unknown>,
          filterType: 'individuals', filterValue: { ...(a['individual-ids'] ? { 'individual-ids': a['individual-ids'] } : {}), ...(a['individual-group-ids'] ? { 'individual-group-ids': a['individual-group-ids'] } : {}) },
          pointers: { templateId: '/template-id', data: '/template-data', organizationId: '/organization-id', filterType: '/individual-ids', filterValue: '/individual-ids' },
          audiencePointers: { individualIds: '/individual-ids', individualGroupIds: '/individual-group-ids' },
        }, viewer) as unknown as UserMulticast
      },
    },
  })
}
