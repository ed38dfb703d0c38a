import { Type } from 'typebox'
import type { BulkMessage } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { NullableTimestamp, Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

/** `message-js`: texts by locale (`en_US`, `es_US`; §1.3 keeps these keys as they are). */
const MessageJs = Type.Record(Type.String({ pattern: '^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$' }), Type.String({ maxLength: 10_000 }), { maxProperties: 50, additionalProperties: false })
const NullableUuid = Type.Union([Uuid, Type.Null()])
const Attributes = Type.Object({
  'created-at': Timestamp,
  'created-by': Uuid,
  draft: Type.Boolean(),
  'individual-group-ids': Type.Array(Uuid),
  'individual-ids': Type.Array(Uuid),
  message: Type.String(),
  'message-js': MessageJs,
  'organization-id': Uuid,
  'posted-time': NullableTimestamp,
  'sender-individual-group-id': NullableUuid,
  'sender-individual-id': NullableUuid,
  state: Type.Union([Type.Literal('draft'), Type.Literal('sending'), Type.Literal('posted')], { description: 'draft; sending (the fan-out runs); posted (every recipient posted or skipped)' }),
  'recipient-count': Type.Integer({ description: 'Individuals it goes to: those listed and the members of the listed groups, each once, the sender never' }),
  'posted-count': Type.Integer(),
  'skipped-count': Type.Integer(),
  'skipped-individual-ids': Type.Array(Uuid, { description: 'Recipients without a channel (auto-create-channel false)' }),
})
const Create = Type.Object({
  'auto-ack': Type.Optional(Type.String({ maxLength: 16, default: '' })),
  'auto-create-channel': Type.Optional(Type.Boolean({ default: false })),
  draft: Type.Optional(Type.Boolean({ default: false })),
  'individual-group-ids': Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  'individual-ids': Type.Optional(Type.Array(Uuid, { maxItems: 10_000 })),
  message: Type.Optional(Type.String({ maxLength: 10_000 })),
  'message-js': Type.Optional(MessageJs),
  'sender-individual-group-id': Type.Optional(Uuid),
  'sender-individual-id': Type.Optional(Uuid),
})
const Update = Type.Object({ draft: Type.Boolean(), message: Type.String({ maxLength: 10_000 }), 'message-js': MessageJs })

/** `messaging-bulk-messages` (#40–#43): one message to many individuals, posted by a resumable job. */
export function messagingBulkMessagesResource(services: Services) {
  const bulk = services.bulkMessages
  return defineResource({
    type: 'messaging-bulk-messages',
    path: '/v1/messaging-bulk-messages/',
    tags: ['messaging-bulk-messages'],
    attributes: Attributes,
    present: (b: BulkMessage) => ({
      id: b.id,
      attributes: {
        'created-at': b.createdAt.toISOString(), 'created-by': b.createdBy, draft: b.draft, 'individual-group-ids': [...b.individualGroupIds],
        'individual-ids': [...b.individualIds], message: b.message, 'message-js': { ...b.messageJs }, 'organization-id': b.organizationId,
        'posted-time': b.postedAt?.toISOString() ?? null, 'sender-individual-group-id': b.senderIndividualGroupId, 'sender-individual-id': b.senderIndividualId,
        state: b.state, 'recipient-count': b.progress.recipients, 'posted-count': b.progress.posted, 'skipped-count': b.progress.skipped,
        'skipped-individual-ids': [...b.progress.skippedIndividualIds],
      },
    }),
    list: {
      summary: 'Returns bulk messages, newest first (posted ones only with include-posted=true)',
      filters: { 'created-by': Uuid },
      flags: ['include-posted'],
      run: async ({ tenant }, q) => bulk.list(tenant, {
        includePosted: q.flags['include-posted'] ?? false, limit: q.limit, offset: q.offset,
        ...(q.filters['created-by'] !== undefined ? { createdBy: q.filters['created-by'] as string } : {}),
      }),
    },
    create: {
      summary: 'Posts a new message to many channels',
      attributes: Create,
      run: async ({ tenant, req }, a) => {
        const viewer = viewerOf(req)
        return bulk.create(tenant, {
          createdBy: viewer.kind === 'user' ? viewer.userId : tenant.id,
          ...(a.draft !== undefined ? { draft: a.draft } : {}), ...(a.message !== undefined ? { message: a.message } : {}),
          ...(a['message-js'] !== undefined ? { messageJs: a['message-js'] } : {}), ...(a['individual-ids'] !== undefined ? { individualIds: a['individual-ids'] } : {}),
          ...(a['individual-group-ids'] !== undefined ? { individualGroupIds: a['individual-group-ids'] } : {}),
          ...(a['sender-individual-id'] !== undefined ? { senderIndividualId: a['sender-individual-id'] } : {}),
          ...(a['sender-individual-group-id'] !== undefined ? { senderIndividualGroupId: a['sender-individual-group-id'] } : {}),
          ...(a['auto-ack'] !== undefined ? { autoAck: a['auto-ack'] } : {}), ...(a['auto-create-channel'] !== undefined ? { autoCreateChannel: a['auto-create-channel'] } : {}),
        })
      },
    },
    read: {
      summary: 'Returns a bulk message and how far its posting has come',
      run: async ({ tenant }, id) => bulk.get(tenant, id),
    },
    update: {
      summary: 'Changes a draft bulk message (message, message-js) or posts it (draft: false)',
      attributes: Update,
      run: async ({ tenant }, id, a) => bulk.update(tenant, id, {
        ...(a.draft !== undefined ? { draft: a.draft } : {}), ...(a.message !== undefined ? { message: a.message } : {}),
        ...(a['message-js'] !== undefined ? { messageJs: a['message-js'] } : {}),
      }),
    },
  })
}
