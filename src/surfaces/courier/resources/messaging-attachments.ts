import { Type } from 'typebox'
import type { Attachment, AttachmentTicket } from '../../../core/messaging/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'

const NullableUrl = Type.Union([Type.String(), Type.Null()])
const Attributes = Type.Object({
  'content-size': Type.Integer(),
  'content-type': Type.String(),
  'created-at': Timestamp,
  filename: Type.String(),
  'message-id': Uuid,
  removed: Type.Boolean(),
  thumbnail: NullableUrl,
  url: NullableUrl,
})
const Create = Type.Object({
  'content-type': Type.String({ minLength: 1, maxLength: 255 }),
  filename: Type.Optional(Type.String({ maxLength: 255, default: '' })),
  'message-id': Uuid,
  'content-size': Type.Optional(Type.Integer({ minimum: 1, description: 'The exact size of the file to upload, in bytes (optional; process-upload checks it)' })),
  'individual-id': Type.Optional(Uuid),
})
const Update = Type.Object({ removed: Type.Boolean(), 'individual-id': Uuid })
/** The upload ticket of #29 and #37 (§1.10): not a resource object. */
const Ticket = Type.Object({
  data: Type.Object({
    'expiration-time': Type.Integer({ description: 'When the upload URL expires, in seconds since the Unix epoch' }),
    id: Uuid,
    'upload-data': Type.Record(Type.String(), Type.String(), { description: 'Form fields to send with the file (multipart/form-data, the file last as "file")' }),
    'upload-url': Type.String(),
  }),
})

/** A create's answer of #29 and #37: the upload ticket of the new attachment. */
export const uploadTicketPayload = {
  schema: Ticket,
  render: (a: { id: string; ticket: { expiresAt: Date; fields: Record<string, string>; url: string } }) =>
    ({ data: { 'expiration-time': Math.floor(a.ticket.expiresAt.getTime() / 1000), id: a.id, 'upload-data': a.ticket.fields, 'upload-url': a.ticket.url } }),
}

/** `messaging-attachments` (#28–#32): files of messages, uploaded in two steps, soft-removed. */
export function messagingAttachmentsResource(services: Services) {
  const attachments = services.attachments
  return defineResource({
    type: 'messaging-attachments',
    path: '/v1/messaging-attachments/',
    tags: ['messaging-attachments'],
    attributes: Attributes,
    present: (a: Attachment) => ({
      id: a.id,
      attributes: {
        'content-size': a.contentSize, 'content-type': a.contentType, 'created-at': a.createdAt.toISOString(), filename: a.filename,
        'message-id': a.messageId, removed: a.removed, thumbnail: a.thumbnail, url: a.url,
      },
    }),
    list: {
      summary: 'The attachments of a message (pending ones only with filter[include-pending]=true)',
      params: { 'message-id': { schema: Uuid, required: true }, 'individual-id': { schema: Uuid } },
      filters: { 'include-pending': Type.Boolean({ default: false }) },
      run: async ({ tenant }, q) => attachments.list(tenant, {
        messageId: q.params['message-id'] as string, includePending: q.filters['include-pending'] === true, limit: q.limit, offset: q.offset,
        ...(q.params['individual-id'] !== undefined ? { individualId: q.params['individual-id'] as string } : {}),
      }),
    },
    create: {
      summary: 'Creates a pending attachment and answers its upload ticket: POST upload-data as form fields with the file last ("file") to upload-url, then call process-upload',
      attributes: Create,
      run: async ({ tenant }, a) => attachments.create(tenant, {
        messageId: a['message-id'], contentType: a['content-type'], ...(a.filename !== undefined ? { filename: a.filename } : {}),
        ...(a['content-size'] !== undefined ? { contentSize: a['content-size'] } : {}), ...(a['individual-id'] !== undefined ? { individualId: a['individual-id'] } : {}),
      }),
      payload: { schema: uploadTicketPayload.schema, render: (a) => uploadTicketPayload.render(a as AttachmentTicket) },
    },
    read: {
      summary: 'Returns an attachment',
      params: { 'individual-id': { schema: Uuid } },
      run: async ({ tenant }, id, q) => attachments.get(tenant, id, q.params['individual-id'] as string | undefined),
    },
    update: {
      summary: 'Removes an attachment (removed: true; soft: it stays, listed as removed, and its bytes are deleted)',
      attributes: Update,
      run: async ({ tenant }, id, a) => attachments.update(tenant, id, {
        ...(a.removed !== undefined ? { removed: a.removed } : {}), ...(a['individual-id'] !== undefined ? { individualId: a['individual-id'] } : {}),
      }),
    },
    actions: [
      {
        name: 'process-upload', method: 'POST', summary: 'Checks the uploaded bytes against the declared content type and size, makes a thumbnail of an image, and answers the attachment',
        body: Type.Object({ 'individual-id': Type.Optional(Uuid) }, { additionalProperties: false }),
        run: async ({ tenant }, id, body) => ({ resource: await attachments.processUpload(tenant, id, (body as { 'individual-id'?: string })['individual-id']) }),
      },
    ],
  })
}
