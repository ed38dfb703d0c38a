// User emails (#125–#128) and their attachments (#121–#124): e-mails about an individual, sent through delivery.
export {
  UserEmailsService, MAX_RECIPIENTS, MAX_EMAIL_ATTACHMENTS, MAX_SUBJECT, MAX_MESSAGE, MAX_MESSAGE_HTML,
  type UserEmail, type UserEmailStatus, type CreateUserEmail, type UserEmailAttachment, type UserEmailAttachmentTicket,
} from './user-emails.service.ts'
