import { Type } from 'typebox'
import { SUBSCRIPTION_TYPES, type Channel, type ChannelGroup, type Subscriber, type SubscriptionType } from '../../../core/messaging/index.ts'
import type { FastifyInstance } from 'fastify'
import { defineResource, ErrorDocument, type ActionSpec } from '../../../http/jsonapi/resource.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { inWindow } from '../../../http/jsonapi/query.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Obj = Type.Record(Type.String(), Type.Unknown())
const NullableUuid = Type.Union([Uuid, Type.Null()])
const Subscriber = Type.Object({
  admin: Type.Boolean(), 'auto-sign-up': Type.Boolean(), 'birth-date': Type.Union([Type.String(), Type.Null()]), 'communication-preferences': Obj,
  email: Type.Union([Type.String(), Type.Null()]), 'email-verified': Type.Boolean(), 'first-name': Type.Union([Type.String(), Type.Null()]), id: Uuid,
  'last-name': Type.Union([Type.String(), Type.Null()]), 'phone-number': Type.Union([Type.String(), Type.Null()]), 'phone-number-unsubscribed': Type.Boolean(),
  'phone-number-verified': Type.Boolean(), pinned: Type.Boolean(),
})
const Attributes = Type.Object({
  archived: Type.Boolean(),
  bookmark: Type.Union([Type.Object({ id: Uuid, 'message-id': Uuid }), Type.Null()]),
  'caller-has-new-message': Type.Boolean(),
  'caller-new-message-count': Type.Integer(),
  'can-enable-sms': Type.Boolean(),
  'created-at': Timestamp,
  'created-by': NullableUuid,
  'event-settings': Obj,
  floating: Type.Boolean(),
  'group-provider-ack': Type.Boolean(),
  'individual-group': Type.Union([Obj, Type.Null()]),
  'individual-group-id': NullableUuid,
  label: Type.Union([Type.String(), Type.Null()]),
  'last-message': Type.Union([Type.Object({ id: Uuid, message: Type.String(), 'posted-time': Timestamp, removed: Type.Boolean() }), Type.Null()]),
  'last-modified-time': Timestamp,
  name: Type.String(),
  'observation-id': NullableUuid,
  'org-id': Uuid,
  'owner-first-name': Type.Union([Type.String(), Type.Null()]),
  'owner-id': NullableUuid,
  'owner-last-name': Type.Union([Type.String(), Type.Null()]),
  subscribers: Type.Array(Subscriber),
  'subscription-type': Type.Enum(SUBSCRIPTION_TYPES),
  'text-number': Type.Union([Type.Object({ id: Uuid }), Type.Null()]),
  'with-sms': Type.Boolean(),
})

const Create = Type.Object({
  'event-settings': Type.Optional(Obj),
  floating: Type.Optional(Type.Boolean({ default: false })),
  'individual-group-id': Type.Optional(NullableUuid),
  'individual-ids': Type.Optional(Type.Array(Uuid, { maxItems: 1000 })),
  'individual-id': Type.Optional(Uuid),
  label: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  'organization-id': Uuid,
  'subscription-type': Type.Optional(Type.Enum(SUBSCRIPTION_TYPES)),
  'text-number-id': Type.Optional(NullableUuid),
})
const PatchOps = Type.Array(Type.Object({ op: Type.String(), path: Type.String(), value: Type.Optional(Type.Unknown()) }, { additionalProperties: false }), { minItems: 1, maxItems: 50 })
const IndividualIds = Type.Object({ 'individual-ids': Type.Array(Uuid, { maxItems: 1000 }) }, { additionalProperties: false })

function subscriber(s: Subscriber) {
  return {
    admin: s.admin, 'auto-sign-up': false, 'birth-date': null, 'communication-preferences': s.preferences, email: null, 'email-verified': false,
    'first-name': s.person.firstName, id: s.individualId, 'last-name': s.person.lastName, 'phone-number': s.person.phone,
    'phone-number-unsubscribed': false, 'phone-number-verified': false, pinned: s.pinned,
  }
}

/** A channel as presented: with the read's `use-group-name` and `include-individual-group` answers. */
type ChannelView = Channel & { readonly useGroupName?: boolean; readonly embeddedGroup?: ChannelGroup | null }

/** The embedded `individual-group` (§3 `messaging-channels`, the shape of `multicasts`'). */
export function embedGroup(g: ChannelGroup) {
  return {
    'individual-ids': g.individuals.map((i) => i.person.cassId),
    individuals: g.individuals.map((i) => ({
      'birth-date': i.birthDate, 'first-name': i.person.firstName, id: i.person.cassId, 'last-name': i.person.lastName,
      name: [i.person.firstName, i.person.lastName].filter(Boolean).join(' '), owner: { id: i.ownerId, type: 'organization' },
      'preferred-name': i.preferredName, verified: true,
    })),
    'individuals-count': g.individuals.length, 'leader-ids': g.leaders.map((l) => l.id),
    leaders: g.leaders.map((l) => ({ 'first-name': l.firstName, id: l.id, 'last-name': l.lastName })), name: g.name, 'organization-id': g.organizationId,
  }
}

/** A channel's title: its name, else (with `use-group-name`, the default) its group's name, else its subscribers' names. */
function title(c: ChannelView): string {
  if (c.name) return c.name
  if (c.useGroupName !== false && c.groupName) return c.groupName
  return c.subscribers.map((s) => [s.person.firstName, s.person.lastName].filter(Boolean).join(' ')).filter(Boolean).join(', ')
}

/** `messaging-channels` (#44–#48, #50, #52–#54): channels of an organisation and their subscribers. */
export function messagingChannelsResource(services: Services) {
  const channels = services.channels
  /** An action on a channel the viewer sees (a user token: one it subscribes to; 404 otherwise). */
  const visible = (run: ActionSpec['run']): ActionSpec['run'] => async (ctx, id, body, q) => {
    await channels.assertVisible(ctx.tenant, id, viewerOf(ctx.req))
    return run(ctx, id, body, q)
  }
  return defineResource({
    type: 'messaging-channels',
    path: '/v1/messaging-channels/',
    tags: ['messaging-channels'],
    attributes: Attributes,
    present: (c: ChannelView) => ({
      id: c.id,
      attributes: {
        archived: c.archived, bookmark: c.bookmark ? { id: c.bookmark.id, 'message-id': c.bookmark.messageId } : null, 'caller-has-new-message': (c.callerUnread ?? 0) > 0, 'caller-new-message-count': c.callerUnread ?? 0,
        'can-enable-sms': c.subscribers.some((s) => s.person.phone !== null && s.userId === null), 'created-at': c.createdAt.toISOString(), 'created-by': c.createdBy?.cassId ?? null,
        'event-settings': c.eventSettings, floating: c.floating, 'group-provider-ack': c.groupProviderAck, 'individual-group': c.embeddedGroup ? embedGroup(c.embeddedGroup) : null,
        'individual-group-id': c.individualGroupId, label: c.label,
        'last-message': c.lastMessage ? { id: c.lastMessage.id, message: c.lastMessage.message, 'posted-time': c.lastMessage.postedAt.toISOString(), removed: c.lastMessage.removed } : null,
        'last-modified-time': c.lastModifiedAt.toISOString(), name: title(c), 'observation-id': null, 'org-id': c.organizationId,
        'owner-first-name': c.createdBy?.firstName ?? null, 'owner-id': c.createdBy?.cassId ?? null, 'owner-last-name': c.createdBy?.lastName ?? null,
        subscribers: c.subscribers.map(subscriber), 'subscription-type': c.subscriptionType,
        'text-number': c.textNumberId ? { id: c.textNumberId } : null, 'with-sms': c.smsActive,
      },
    }),
    list: {
      summary: 'Returns channels',
      page: { max: 50, default: 50 },
      params: { 'individual-id': { schema: Uuid }, 'organization-id': { schema: Uuid }, 'participant-id': { schema: Uuid }, 'use-group-name': { schema: Type.Boolean({ default: true }) } },
      filters: { archived: Type.Boolean(), floating: Type.Boolean(), 'individual-group-id': Uuid },
      windows: ['last-modified-time'],
      run: async ({ tenant, req }, q) => {
        const viewer = viewerOf(req)
        const acting = await channels.actingIndividual(tenant, viewer, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' })
        const page = await channels.list(tenant, {
        limit: q.limit, offset: q.offset, viewer,
        ...(q.params['organization-id'] !== undefined ? { organizationId: q.params['organization-id'] as string } : {}),
        ...(acting !== undefined ? { individualId: acting } : {}),
        ...(q.params['participant-id'] !== undefined ? { participantId: q.params['participant-id'] as string } : {}),
        ...(q.filters.archived !== undefined ? { archived: q.filters.archived as boolean } : {}),
        ...(q.filters.floating !== undefined ? { floating: q.filters.floating as boolean } : {}),
        ...(q.filters['individual-group-id'] !== undefined ? { individualGroupId: q.filters['individual-group-id'] as string } : {}),
        ...(q.windows['last-modified-time'] ? { modified: (at: Date) => inWindow(at, q.windows['last-modified-time']) } : {}),
        })
        return { items: page.items.map((c): ChannelView => ({ ...c, useGroupName: q.params['use-group-name'] !== false })), total: page.total }
      },
    },
    create: {
      summary: 'Creates a new channel (individual-id, when given, is the acting individual and becomes an admin subscriber)',
      attributes: Create,
      run: async ({ tenant, req }, a) => channels.create(tenant, {
        organizationId: a['organization-id'], viewer: viewerOf(req),
        ...(a.name !== undefined ? { name: a.name } : {}), ...(a.label !== undefined ? { label: a.label } : {}),
        ...(a['subscription-type'] !== undefined ? { subscriptionType: a['subscription-type'] } : {}),
        ...(a.floating !== undefined ? { floating: a.floating } : {}), ...(a['event-settings'] !== undefined ? { eventSettings: a['event-settings'] } : {}),
        ...(a['individual-group-id'] !== undefined ? { individualGroupId: a['individual-group-id'] } : {}),
        ...(a['text-number-id'] !== undefined ? { textNumberId: a['text-number-id'] } : {}),
        ...(a['individual-ids'] !== undefined ? { individualIds: a['individual-ids'] } : {}),
        ...await (async () => {
          const acting = await channels.actingIndividual(tenant, viewerOf(req), a['individual-id'], { pointer: '/data/attributes/individual-id' })
          return acting !== undefined ? { actingIndividualId: acting } : {}
        })(),
      }),
    },
    read: {
      summary: 'Returns specific channel',
      params: { 'individual-id': { schema: Uuid }, 'use-group-name': { schema: Type.Boolean({ default: true }) } },
      flags: ['include-individual-group'],
      run: async ({ tenant, req }, id, q): Promise<ChannelView> => {
        const viewer = viewerOf(req)
        await channels.assertVisible(tenant, id, viewer)
        const c = await channels.get(tenant, id, await channels.actingIndividual(tenant, viewer, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' }))
        return { ...c, useGroupName: q.params['use-group-name'] !== false, embeddedGroup: q.flags['include-individual-group'] ? await channels.group(tenant, c) : null }
      },
    },
    update: {
      summary: 'Modifies an existing channel: data.attributes is an array of JSON-Patch operations (replace /name, /label, /floating, /subscription-type, /event-settings, /event-settings/enabled, /text-number-id)',
      attributes: PatchOps,
      partial: false,
      run: async ({ tenant, req }, id, ops) => {
        await channels.assertVisible(tenant, id, viewerOf(req))
        return channels.patch(tenant, id, ops)
      },
    },
    actions: [
      { name: 'archive', method: 'POST', summary: 'Archive a channel', run: visible(async ({ tenant }, id) => ({ resource: await channels.setArchived(tenant, id, true) })) },
      { name: 'unarchive', method: 'POST', summary: 'Unarchive a channel', run: visible(async ({ tenant }, id) => ({ resource: await channels.setArchived(tenant, id, false) })) },
      {
        name: 'preferences', method: 'POST', summary: 'Modify channel preferences (of the individual, or of every subscriber)',
        body: Type.Object({ values: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), value: Type.Unknown() }, { additionalProperties: false }), { maxItems: 50 }), 'individual-id': Type.Optional(Uuid) }, { additionalProperties: false }),
        run: visible(async ({ tenant, req }, id, body) => {
          const b = body as { values: { name: string; value: unknown }[]; 'individual-id'?: string }
          return { resource: await channels.setPreferences(tenant, id, b.values, await channels.actingIndividual(tenant, viewerOf(req), b['individual-id'], { pointer: '/individual-id' })) }
        }),
      },
      {
        name: 'sms', method: 'POST', summary: 'Enable/disable SMS path for this messaging channel (its SMS recipients: subscribers with a phone who are not care-team users)',
        body: Type.Object({
          active: Type.Boolean(),
          'initial-message': Type.Optional(Type.String({ maxLength: 1024 })),
          'initial-message-js': Type.Optional(Type.Record(Type.String({ maxLength: 16 }), Type.String({ maxLength: 1024 }), { maxProperties: 20 })),
        }, { additionalProperties: false }),
        run: visible(async ({ tenant }, id, body) => {
          const b = body as { active: boolean; 'initial-message'?: string; 'initial-message-js'?: Record<string, string> }
          return {
            resource: await services.channelSms.set(tenant, id, {
              active: b.active, ...(b['initial-message'] !== undefined ? { initialMessage: b['initial-message'] } : {}),
              ...(b['initial-message-js'] !== undefined ? { initialMessageJs: b['initial-message-js'] } : {}),
            }),
          }
        }),
      },
      {
        name: 'subscribe', method: 'POST', summary: 'Add subscribers to the channel', body: IndividualIds,
        run: visible(async ({ tenant }, id, body) => ({ resource: await channels.subscribe(tenant, id, (body as { 'individual-ids': string[] })['individual-ids'], true) })),
      },
      {
        name: 'unsubscribe', method: 'POST', summary: 'Remove subscribers from the channel', body: IndividualIds,
        run: visible(async ({ tenant }, id, body) => ({ resource: await channels.subscribe(tenant, id, (body as { 'individual-ids': string[] })['individual-ids'], false) })),
      },
      // #49: a member's profile as another member sees it (both must subscribe to the channel).
      {
        name: 'get-profile', method: 'GET', summary: 'Returns the profile (individual-profiles: photo) of a channel member, as the acting individual, also a member, sees it',
        params: { 'individual-id': { schema: Uuid, required: true }, 'profile-individual-id': { schema: Uuid, required: true } },
        run: async ({ tenant, req }, id, _body, q) => {
          const p = await services.profiles.get(tenant, id, q.params['individual-id'] as string, q.params['profile-individual-id'] as string, viewerOf(req))
          return { payload: { data: { attributes: { photo: p.photo }, id: p.id, type: 'individual-profiles' } } }
        },
      },
    ],
  })
}


/**
 * `communication-messages` (#22): an individual's channels as an inbox, answered as
 * `messaging-channels` resources (§1.2: the type differs from the path), sorted by `last-timestamp`
 * (newest first by default), `unread-count` or `ack-timestamp`.
 */
export function communicationMessagesResource(services: Services) {
  const channels = services.channels
  const base = messagingChannelsResource(services)
  return defineResource({
    type: 'messaging-channels',
    path: '/v1/communication-messages/',
    tags: ['communication-messages'],
    attributes: Attributes,
    present: base.present,
    list: {
      summary: 'An individual\'s channels as an inbox (messaging-channels resources)',
      page: { max: 100, default: 100 },
      params: { 'individual-id': { schema: Uuid }, 'organization-id': { schema: Uuid }, 'use-group-name': { schema: Type.Boolean({ default: true }) } },
      filters: { archived: Type.Boolean(), bookmarked: Type.Boolean(), 'individual-group-id': Uuid, text: Type.String({ maxLength: 512 }), type: Type.Enum(SUBSCRIPTION_TYPES) },
      windows: ['last-modified-time'],
      sort: { fields: ['ack-timestamp', 'last-timestamp', 'unread-count'], default: ['-last-timestamp'] },
      run: async ({ tenant, req }, q) => {
        const viewer = viewerOf(req)
        const acting = await channels.actingIndividual(tenant, viewer, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' })
        const page = await channels.inbox(tenant, {
          limit: q.limit, offset: q.offset, viewer, sort: q.sort,
          ...(q.params['organization-id'] !== undefined ? { organizationId: q.params['organization-id'] as string } : {}),
          ...(acting !== undefined ? { individualId: acting } : {}),
          ...(q.filters.archived !== undefined ? { archived: q.filters.archived as boolean } : {}),
          ...(q.filters.bookmarked !== undefined ? { bookmarked: q.filters.bookmarked as boolean } : {}),
          ...(q.filters['individual-group-id'] !== undefined ? { individualGroupId: q.filters['individual-group-id'] as string } : {}),
          ...(q.filters.text !== undefined ? { text: q.filters.text as string } : {}),
          ...(q.filters.type !== undefined ? { type: q.filters.type as SubscriptionType } : {}),
          ...(q.windows['last-modified-time'] ? { modified: (at: Date) => inWindow(at, q.windows['last-modified-time']) } : {}),
        })
        return { items: page.items.map((c): ChannelView => ({ ...c, useGroupName: q.params['use-group-name'] !== false })), total: page.total }
      },
    },
  })
}

const Count = Type.Integer({ minimum: 0 })
const Summary = Type.Object({
  summary: Type.Object({
    'message-senders': Type.Array(Type.Object({ count: Count, 'individual-id': Uuid })),
    'message-types': Type.Array(Type.Object({ count: Count, 'message-type': Type.String() })),
    messages: Count, notifications: Count, 'provider-messages': Count, 'video-channels': Count,
  }),
})

/**
 * `communication-summaries` (#23): not JSON:API (§1.10) — `{summary: {…}}` of an individual (a user
 * token: its own) or, without `individual-id`, of the organisation. Registered in the `/v1` scope.
 */
export function registerCommunicationSummaries(scope: FastifyInstance, services: Services): void {
  scope.get('/communication-summaries/', {
    schema: {
      tags: ['communication-summaries'], summary: 'Counts of an individual\'s communication (message-senders with include-senders)',
      querystring: Type.Object({ 'include-senders': Type.Optional(Type.Boolean({ default: false })), 'individual-id': Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 200: Summary, '4XX': ErrorDocument },
    },
  }, async (req) => {
    const tenant = tenantOf(req)
    const q = req.query as { 'include-senders'?: boolean; 'individual-id'?: string }
    const viewer = viewerOf(req)
    const who = await services.channels.actingIndividual(tenant, viewer, q['individual-id'], { parameter: 'individual-id' })
    const s = await services.messages.summary(tenant, who, q['include-senders'] === true)
    return {
      summary: {
        'message-senders': s.messageSenders.map((x) => ({ count: x.count, 'individual-id': x.individualId })),
        'message-types': s.messageTypes.map((x) => ({ count: x.count, 'message-type': x.messageType })),
        messages: s.messages, notifications: s.notifications, 'provider-messages': s.providerMessages, 'video-channels': s.videoChannels,
      },
    }
  })
}
