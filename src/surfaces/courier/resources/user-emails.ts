import { Type } from 'typebox'
import { MAX_MESSAGE, MAX_MESSAGE_HTML, MAX_RECIPIENTS, MAX_SUBJECT, type UserEmail, type UserEmailAttachment, type UserEmailAttachmentTicket } from '../../../core/emails/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Nullable = (s: ReturnType<typeof Type.String>) => Type.Union([s, Type.Null()])
const Address = Type.String({ minLength: 3, maxLength: 320, description: 'An e-mail address' })

const EmailAttributes = Type.Object({
  'created-at': Timestamp,
  'created-by': Type.String({ description: 'The organisation (API key) or the care-team user (user token) that created it' }),
  'individual-id': Type.String(),
  'last-modified-at': Timestamp,
  message: Type.String(),
  'message-html': Type.String(),
  result: Type.String({ description: 'Each recipient\'s outcome, "address: outcome" joined by "; " (empty while a draft)' }),
  'sender-organization-id': Type.String(),
  status: Type.String({ description: 'draft, queued, sent, failed or suppressed' }),
  subject: Type.String(),
  'task-id': Nullable(Type.String({ description: 'The send\'s id (null while a draft)' })),
  to: Type.Array(Type.String()),
  'user-id': Nullable(Type.String({ description: 'The care-team user linked to the individual, if any' })),
})
const CreateEmail = Type.Object({
  'auto-send': Type.Optional(Type.Boolean({ default: false, description: 'Send at once (otherwise a draft, sent by the send action)' })),
  'individual-id': Uuid,
  message: Type.Optional(Type.String({ maxLength: MAX_MESSAGE, description: 'The plain-text body' })),
  'message-html': Type.Optional(Type.String({ maxLength: MAX_MESSAGE_HTML, description: 'The HTML body' })),
  'sender-organization-id': Type.Optional(Uuid),
  subject: Type.String({ minLength: 1, maxLength: MAX_SUBJECT }),
  to: Type.Optional(Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: MAX_RECIPIENTS })], { description: 'One address or a list; default: the individual\'s own e-mail address' })),
})

/** `user-emails` (#125–#128): e-mails about an individual, sent through delivery on the tenant's e-mail provider. */
export function userEmailsResource(services: Services) {
  const emails = services.userEmails
  return defineResource({
    type: 'user-emails',
    path: '/v1/user-emails/',
    tags: ['user-emails'],
    attributes: EmailAttributes,
    present: (e: UserEmail) => ({
      id: e.id,
      attributes: {
        'created-at': e.createdAt.toISOString(), 'created-by': e.createdBy, 'individual-id': e.individualId, 'last-modified-at': e.lastModifiedAt.toISOString(),
        message: e.message, 'message-html': e.messageHtml, result: e.result, 'sender-organization-id': e.senderOrganizationId, status: e.status,
        subject: e.subject, 'task-id': e.taskId, to: [...e.to], 'user-id': e.userId,
      },
    }),
    list: {
      summary: 'The emails about an individual, oldest first',
      params: { 'individual-id': { schema: Uuid, required: true } },
      run: async ({ tenant, req }, q) => emails.list(tenant, { individualId: q.params['individual-id'] as string, limit: q.limit, offset: q.offset }, viewerOf(req)),
    },
    create: {
      summary: 'Creates an email: a draft, or sent at once with auto-send',
      attributes: CreateEmail,
      run: async ({ tenant, req }, a) => emails.create(tenant, {
        individualId: a['individual-id'], senderOrganizationId: a['sender-organization-id'], to: a.to, subject: a.subject,
        message: a.message, messageHtml: a['message-html'], autoSend: a['auto-send'],
      }, viewerOf(req)),
    },
    read: {
      summary: 'Returns an email with its delivery status',
      run: async ({ tenant, req }, id) => emails.get(tenant, id, viewerOf(req)),
    },
    actions: [{
      name: 'send', method: 'POST', summary: 'Sends a draft (with its ready attachments); an email sent already is refused',
      run: async ({ tenant, req }, id) => ({ resource: await emails.send(tenant, id, viewerOf(req)) }),
    }],
  })
}

const AttachmentAttributes = Type.Object({
  'content-type': Type.String(),
  'created-at': Timestamp,
  'download-link': Nullable(Type.String({ description: 'A signed, expiring URL of the file, with with-link=true once ready; else null' })),
  filename: Type.String(),
  'ready-to-use': Type.Boolean(),
  size: Type.Integer(),
})
const CreateAttachment = Type.Object({
  'content-type': Type.String({ minLength: 1, maxLength: 255 }),
  'email-id': Uuid,
  filename: Type.Optional(Type.String({ maxLength: 255, default: '' })),
})
/** The upload ticket of #122 (§1.10): its four keys at the top level, not under `data`. */
const Ticket = Type.Object({
  'expiration-time': Type.Integer({ description: 'When the upload URL expires, in seconds since the Unix epoch' }),
  id: Uuid,
  'upload-data': Type.Record(Type.String(), Type.String(), { description: 'Form fields to send with the file (multipart/form-data, the file last as "file")' }),
  'upload-url': Type.String(),
})

/** `user-email-attachments` (#121–#124): files of a draft email, uploaded with a ticket and processed before it is sent. */
export function userEmailAttachmentsResource(services: Services) {
  const emails = services.userEmails
  return defineResource({
    type: 'user-email-attachments',
    path: '/v1/user-email-attachments/',
    tags: ['user-email-attachments'],
    attributes: AttachmentAttributes,
    present: (a: UserEmailAttachment) => ({
      id: a.id,
      attributes: {
        'content-type': a.contentType, 'created-at': a.createdAt.toISOString(), 'download-link': a.downloadLink, filename: a.filename, 'ready-to-use': a.readyToUse, size: a.size,
      },
    }),
    list: {
      summary: 'The attachments of an email, oldest first (pending ones with ready-to-use false)',
      params: { 'email-id': { schema: Uuid, required: true } },
      run: async ({ tenant, req }, q) => emails.listAttachments(tenant, { emailId: q.params['email-id'] as string, limit: q.limit, offset: q.offset }, viewerOf(req)),
    },
    create: {
      summary: 'Creates a pending attachment of a draft email and answers its upload ticket (top-level, not under data): POST upload-data as form fields with the file last ("file") to upload-url, then call process-upload',
      attributes: CreateAttachment,
      run: async ({ tenant, req }, a) => emails.createAttachment(tenant, { emailId: a['email-id'], contentType: a['content-type'], filename: a.filename }, viewerOf(req)),
      payload: {
        schema: Ticket,
        render: (t) => {
          const a = t as UserEmailAttachmentTicket
          return { 'expiration-time': Math.floor(a.ticket.expiresAt.getTime() / 1000), id: a.id, 'upload-data': a.ticket.fields, 'upload-url': a.ticket.url }
        },
      },
    },
    read: {
      summary: 'Returns an attachment; with-link=true adds its download-link once ready',
      params: { 'with-link': { schema: Type.Boolean({ default: false }) } },
      run: async ({ tenant, req }, id, q) => emails.getAttachment(tenant, id, q.params['with-link'] === true, viewerOf(req)),
    },
    actions: [{
      name: 'process-upload', method: 'POST', summary: 'Checks the uploaded bytes against the declared content type and size; the attachment is then ready-to-use',
      run: async ({ tenant, req }, id) => ({ resource: await emails.processUpload(tenant, id, viewerOf(req)) }),
    }],
  })
}
