import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Tenant } from '../../../core/tenants/index.ts'
import { REACTION_TYPES, type Message, type ReactionType, type Receipt } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import { inWindow } from '../../../http/jsonapi/query.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Str = Type.Union([Type.String(), Type.Null()])
const ReceiptSchema = Type.Object({ 'ack-time': Type.Union([Timestamp, Type.Null()]), 'ack-user-time': Type.Union([Timestamp, Type.Null()]), 'individual-first-name': Str, 'individual-id': Uuid, 'individual-last-name': Str })
const Attributes = Type.Object({
  ack: Type.Union([Type.Boolean(), Type.Null()]),
  attachments: Type.Array(Type.Object({
    'content-size': Type.Integer(), 'content-type': Type.String(), filename: Type.String(), id: Uuid, removed: Type.Boolean(), thumbnail: Type.Union([Type.String(), Type.Null()]),
  })),
  'channel-id': Uuid,
  destination: Type.Record(Type.String(), Type.Unknown()),
  draft: Type.Boolean(),
  'first-name': Str,
  'individual-id': Type.Union([Uuid, Type.Null()]),
  'last-modified-time': Timestamp,
  'last-name': Str,
  message: Type.String(),
  phrases: Type.Record(Type.String(), Type.Unknown()),
  'posted-time': Timestamp,
  'preferred-name': Str,
  reactions: Type.Array(Type.Object({ 'first-name': Str, 'individual-id': Uuid, 'last-name': Str, 'reaction-type': Type.Enum(REACTION_TYPES), 'user-name': Str })),
  'read-receipts': Type.Array(ReceiptSchema),
  removed: Type.Boolean(),
  sentiment: Str,
  source: Type.String(),
  'user-id': Type.Union([Uuid, Type.Null()]),
  'user-name': Str,
  'user-type': Type.String(),
})
const Create = Type.Object({
  'auto-ack': Type.Optional(Type.String({ maxLength: 16, default: '' })),
  'channel-id': Uuid,
  draft: Type.Optional(Type.Boolean({ default: false })),
  'include-destinations': Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
  'individual-id': Type.Optional(Uuid),
  message: Type.String({ maxLength: 10_000 }),
})
const Update = Type.Object({ draft: Type.Boolean(), 'individual-id': Uuid, message: Type.String({ maxLength: 10_000 }), removed: Type.Boolean() })
const Reaction = Type.Object({ 'reaction-type': Type.Enum(REACTION_TYPES), 'individual-id': Type.Optional(Uuid) }, { additionalProperties: false })

const receipt = (r: Receipt) => ({
  'ack-time': r.ackAt?.toISOString() ?? null, 'ack-user-time': r.ackAt?.toISOString() ?? null,
  'individual-first-name': r.person.firstName, 'individual-id': r.individualId, 'individual-last-name': r.person.lastName,
})

/** `messaging-messages` (#55–#62): posts, drafts, edits and removal, acks, reactions and receipts. */
export function messagingMessagesResource(services: Services) {
  const messages = services.messages
  /** The individual acting on message `id` the viewer sees (a user token: its own; 404 for a channel it does not subscribe to). */
  const actingOn = async (tenant: Tenant, req: FastifyRequest, id: string, given: string | undefined, where: { pointer: string } | { parameter: string }) => {
    const viewer = viewerOf(req)
    await messages.assertVisible(tenant, id, viewer)
    return services.channels.actingIndividual(tenant, viewer, given, where)
  }
  return defineResource({
    type: 'messaging-messages',
    path: '/v1/messaging-messages/',
    tags: ['messaging-messages'],
    attributes: Attributes,
    present: (m: Message) => ({
      id: m.id,
      attributes: {
        ack: m.acked,
        attachments: m.attachments.map((x) => ({ 'content-size': x.contentSize, 'content-type': x.contentType, filename: x.filename, id: x.id, removed: x.removed, thumbnail: x.thumbnail })), 'channel-id': m.channelId, destination: {}, draft: m.draft, 'first-name': m.author?.firstName ?? null,
        'individual-id': m.author?.cassId ?? null, 'last-modified-time': m.lastModifiedAt.toISOString(), 'last-name': m.author?.lastName ?? null,
        message: m.message, phrases: {}, 'posted-time': m.postedAt.toISOString(), 'preferred-name': m.author?.firstName ?? null,
        reactions: m.reactions.map((r) => ({ 'first-name': r.person.firstName, 'individual-id': r.individualId, 'last-name': r.person.lastName, 'reaction-type': r.type, 'user-name': null })),
        'read-receipts': (m.readReceipts ?? []).map(receipt), removed: m.removed, sentiment: null, source: m.source,
        'user-id': m.authorUser?.id ?? null, 'user-name': m.authorUser?.username ?? null, 'user-type': m.author ? 'participant' : 'organization',
      },
    }),
    list: {
      summary: 'Returns the messages of a channel, in posting order',
      params: { 'channel-id': { schema: Uuid, required: true }, acknowledged: { schema: Type.Boolean() }, 'individual-id': { schema: Uuid }, 'user-id': { schema: Uuid } },
      filters: { text: Type.String({ maxLength: 255 }) },
      windows: ['last-modified-time', 'posted-time'],
      flags: ['include-phrases', 'include-read-receipts', 'thumbnail'],
      run: async ({ tenant, req }, q) => {
        const viewer = viewerOf(req)
        await services.channels.assertVisible(tenant, q.params['channel-id'] as string, viewer, { parameter: 'channel-id' })
        const acting = await services.channels.actingIndividual(tenant, viewer, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' })
        return messages.list(tenant, {
        channelId: q.params['channel-id'] as string, limit: q.limit, offset: q.offset, readReceipts: q.flags['include-read-receipts'] ?? false, thumbnails: q.flags.thumbnail ?? false,
        ...(acting !== undefined ? { individualId: acting } : {}),
        ...(q.params['user-id'] !== undefined ? { userId: q.params['user-id'] as string } : {}),
        ...(q.params.acknowledged !== undefined ? { acknowledged: q.params.acknowledged as boolean } : {}),
        ...(q.filters.text !== undefined ? { text: q.filters.text as string } : {}),
        ...(q.windows['posted-time'] ? { posted: (at: Date) => inWindow(at, q.windows['posted-time']) } : {}),
        ...(q.windows['last-modified-time'] ? { modified: (at: Date) => inWindow(at, q.windows['last-modified-time']) } : {}),
        })
      },
    },
    create: {
      summary: 'Posts a new message (individual-id: the author, a subscriber; absent: the organisation)',
      attributes: Create,
      run: async ({ tenant, req }, a) => {
        const viewer = viewerOf(req)
        await services.channels.assertVisible(tenant, a['channel-id'], viewer, { pointer: '/data/attributes/channel-id' })
        const author = await services.channels.actingIndividual(tenant, viewer, a['individual-id'], { pointer: '/data/attributes/individual-id' })
        return messages.post(tenant, {
          channelId: a['channel-id'], message: a.message, ...(a.draft !== undefined ? { draft: a.draft } : {}),
          ...(author !== undefined ? { individualId: author } : {}), ...(a['auto-ack'] !== undefined ? { autoAck: a['auto-ack'] } : {}),
          ...(a['include-destinations'] !== undefined ? { includeDestinations: a['include-destinations'] } : {}),
        })
      },
    },
    read: {
      summary: 'Returns a single message from the given id',
      params: { 'individual-id': { schema: Uuid } },
      flags: ['include-phrases', 'thumbnail', 'include-read-receipts'],
      run: async ({ tenant, req }, id, q) => {
        const viewer = viewerOf(req)
        await messages.assertVisible(tenant, id, viewer)
        const acting = await services.channels.actingIndividual(tenant, viewer, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' })
        return messages.get(tenant, id, acting, { readReceipts: q.flags['include-read-receipts'] ?? false, thumbnails: q.flags.thumbnail ?? false })
      },
    },
    update: {
      summary: 'Modifies an existing message (the author edits, posts a draft or removes it)',
      attributes: Update,
      run: async ({ tenant, req }, id, a) => {
        const viewer = viewerOf(req)
        await messages.assertVisible(tenant, id, viewer)
        const acting = await services.channels.actingIndividual(tenant, viewer, a['individual-id'], { pointer: '/data/attributes/individual-id' })
        return messages.update(tenant, id, {
          ...(acting !== undefined ? { individualId: acting } : {}), ...(a.message !== undefined ? { message: a.message } : {}),
          ...(a.draft !== undefined ? { draft: a.draft } : {}), ...(a.removed !== undefined ? { removed: a.removed } : {}),
        })
      },
    },
    actions: [
      {
        name: 'ack', method: 'POST', summary: 'Acknowledge a message, and all messages before this',
        body: Type.Object({ 'allow-past': Type.Optional(Type.Boolean({ default: false })), 'individual-id': Type.Optional(Uuid) }, { additionalProperties: false }),
        run: async ({ tenant, req }, id, body) => {
          const b = body as { 'allow-past'?: boolean; 'individual-id'?: string }
          const acting = await actingOn(tenant, req, id, b['individual-id'], { pointer: '/individual-id' })
          return { resource: await messages.ack(tenant, id, { ...(acting !== undefined ? { individualId: acting } : {}), allowPast: b['allow-past'] ?? false }) }
        },
      },
      {
        name: 'add-reaction', method: 'POST', summary: 'add a user-reaction to a message', body: Reaction,
        run: async ({ tenant, req }, id, body) => {
          const b = body as { 'reaction-type': ReactionType; 'individual-id'?: string }
          const acting = await actingOn(tenant, req, id, b['individual-id'], { pointer: '/individual-id' })
          return { resource: await messages.react(tenant, id, { type: b['reaction-type'], add: true, ...(acting !== undefined ? { individualId: acting } : {}) }) }
        },
      },
      {
        name: 'delete-reaction', method: 'POST', summary: 'delete a user-reaction from a message', body: Reaction,
        run: async ({ tenant, req }, id, body) => {
          const b = body as { 'reaction-type': ReactionType; 'individual-id'?: string }
          const acting = await actingOn(tenant, req, id, b['individual-id'], { pointer: '/individual-id' })
          return { resource: await messages.react(tenant, id, { type: b['reaction-type'], add: false, ...(acting !== undefined ? { individualId: acting } : {}) }) }
        },
      },
      {
        name: 'get-receipts', method: 'GET', summary: 'get receipts of this message', params: { 'individual-id': { schema: Uuid } },
        run: async ({ tenant, req }, id, _body, q) => {
          const r = await messages.receipts(tenant, id, await actingOn(tenant, req, id, q.params['individual-id'] as string | undefined, { parameter: 'individual-id' }))
          return { payload: { read: r.read.map(receipt), unread: r.unread.map(receipt) } }
        },
      },
    ],
  })
}
