import { Type } from 'typebox'
import type { BulkAttachment, BulkAttachmentTicket } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { uploadTicketPayload } from './messaging-attachments.ts'

const NullableUrl = Type.Union([Type.String(), Type.Null()])
const Attributes = Type.Object({
  'bulk-message-id': Uuid,
  'content-size': Type.Integer(),
  'content-type': Type.String(),
  'created-at': Timestamp,
  filename: Type.String(),
  thumbnail: NullableUrl,
  url: NullableUrl,
})
const Create = Type.Object({
  'bulk-message-id': Uuid,
  'content-type': Type.String({ minLength: 1, maxLength: 255 }),
  filename: Type.Optional(Type.String({ maxLength: 255, default: '' })),
  'content-size': Type.Optional(Type.Integer({ minimum: 1, description: 'The exact size of the file to upload, in bytes (optional; process-upload checks it)' })),
})
/** `messaging-bulk-attachments` (#36–#39): files of a draft bulk message; every message it posts carries them. */
export function messagingBulkAttachmentsResource(services: Services) {
  const attachments = services.attachments
  return defineResource({
    type: 'messaging-bulk-attachments',
    path: '/v1/messaging-bulk-attachments/',
    tags: ['messaging-bulk-attachments'],
    attributes: Attributes,
    present: (a: BulkAttachment) => ({
      id: a.id,
      attributes: {
        'bulk-message-id': a.bulkMessageId, 'content-size': a.contentSize, 'content-type': a.contentType, 'created-at': a.createdAt.toISOString(),
        filename: a.filename, thumbnail: a.thumbnail, url: a.url,
      },
    }),
    list: {
      summary: 'The attachments of a bulk message (pending ones only with filter[include-pending]=true)',
      params: { 'bulk-message-id': { schema: Uuid, required: true } },
      filters: { 'include-pending': Type.Boolean({ default: false }) },
      run: async ({ tenant }, q) => attachments.listBulk(tenant, {
        bulkMessageId: q.params['bulk-message-id'] as string, includePending: q.filters['include-pending'] === true, limit: q.limit, offset: q.offset,
      }),
    },
    create: {
      summary: 'Creates a pending attachment of a draft bulk message and answers its upload ticket (as messaging-attachments)',
      attributes: Create,
      run: async ({ tenant }, a) => attachments.createForBulk(tenant, {
        bulkMessageId: a['bulk-message-id'], contentType: a['content-type'], ...(a.filename !== undefined ? { filename: a.filename } : {}),
        ...(a['content-size'] !== undefined ? { contentSize: a['content-size'] } : {}),
      }),
      payload: { schema: uploadTicketPayload.schema, render: (a) => uploadTicketPayload.render(a as BulkAttachmentTicket) },
    },
    read: {
      summary: 'Returns a bulk attachment',
      run: async ({ tenant }, id) => attachments.getBulk(tenant, id),
    },
    actions: [
      {
        name: 'process-upload', method: 'POST', summary: 'Checks the uploaded bytes as messaging-attachments process-upload does, and answers the attachment',
        run: async ({ tenant }, id) => ({ resource: await attachments.processBulkUpload(tenant, id) }),
      },
    ],
  })
}
