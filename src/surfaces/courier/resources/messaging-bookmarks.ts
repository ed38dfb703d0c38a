import { Type } from 'typebox'
import type { Bookmark } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'

const Ref = Type.Object({ id: Uuid })
const Attributes = Type.Object({
  channel: Ref,
  'created-at': Timestamp,
  'created-by': Ref,
  message: Ref,
  'organization-id': Uuid,
})
const Create = Type.Object({
  'allow-multi-message': Type.Optional(Type.Boolean({ default: false, description: 'true: the bookmark joins the channel\'s others; false: it replaces them' })),
  'channel-id': Uuid,
  'message-id': Uuid,
  'individual-id': Type.Optional(Uuid),
})

/** `messaging-bookmarks` (#33–#35): messages pinned in channels; a channel echoes its newest. */
export function messagingBookmarksResource(services: Services) {
  const bookmarks = services.bookmarks
  return defineResource({
    type: 'messaging-bookmarks',
    path: '/v1/messaging-bookmarks/',
    tags: ['messaging-bookmarks'],
    attributes: Attributes,
    present: (b: Bookmark) => ({
      id: b.id,
      attributes: { channel: { id: b.channelId }, 'created-at': b.createdAt.toISOString(), 'created-by': { id: b.createdBy }, message: { id: b.messageId }, 'organization-id': b.organizationId },
    }),
    list: {
      summary: 'The bookmarks of an organisation, newest first',
      params: { 'organization-id': { schema: Uuid, required: true } },
      filters: { 'channel-id': Uuid },
      run: async ({ tenant }, q) => bookmarks.list(tenant, {
        organizationId: q.params['organization-id'] as string, limit: q.limit, offset: q.offset,
        ...(q.filters['channel-id'] !== undefined ? { channelId: q.filters['channel-id'] as string } : {}),
      }),
    },
    create: {
      summary: 'Bookmarks a message of a channel (individual-id: the acting subscriber; absent: the organisation)',
      attributes: Create,
      run: async ({ tenant }, a) => bookmarks.create(tenant, {
        channelId: a['channel-id'], messageId: a['message-id'], allowMultiMessage: a['allow-multi-message'] ?? false,
        ...(a['individual-id'] !== undefined ? { individualId: a['individual-id'] } : {}),
      }),
    },
    read: {
      summary: 'Returns a bookmark',
      run: async ({ tenant }, id) => bookmarks.get(tenant, id),
    },
  })
}
