/**
 * The error catalog: every code core (and a surface's own checks) throws, its family, and the
 * details it carries. Each surface renders every code in its documented shape through a mapping
 * declared as `satisfies ErrorMapping<…>` (src/http/errors.ts), so adding a code here fails the
 * build until every surface says how it answers it. Core knows nothing of HTTP: a family says what
 * went wrong, not which status a surface gives it.
 */

/** What went wrong, in words every surface can map to its own status. */
export type ErrorKind =
  | 'invalid' // the input broke a rule (bad phone, missing field)
  | 'unauthenticated' // credentials are missing or wrong
  | 'forbidden' // the caller is known but may not do this
  | 'not_found' // the thing asked for does not exist for this tenant
  | 'conflict' // the change collides with existing data
  | 'rate_limited' // too many requests; try again later
  | 'upstream_failed' // a provider refused or did not answer

/** A typed placeholder that carries a code's details type in the catalog (no value at run time). */
const details = <D extends object = Record<never, never>>() => undefined as unknown as D

/** Credentials problems carry the presented `auth` (Cass echoes it) and the key looked up. */
type AuthDetails = { auth?: string | null; key?: string }
/** Checks of one message of a `sendMany` batch carry the message's `index` and the bad field. */
type SendDetails = { index?: number; [field: string]: unknown }

/** Every error code, with its family and details. Keep sorted by family, then name. */
export const ERROR_CATALOG = {
  // invalid: the people directory
  identifier_required: { kind: 'invalid', details: details() },
  invalid_phone: { kind: 'invalid', details: details<{ phone?: string | null }>() },
  invalid_protocol: { kind: 'invalid', details: details<{ protocol?: string }>() },
  invalid_timezone: { kind: 'invalid', details: details<{ timezone?: string }>() },
  person_id_required: { kind: 'invalid', details: details() },
  phone_required: { kind: 'invalid', details: details<{ protocol?: string }>() },
  // invalid: the messaging API
  invalid_preference: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: sniffers (#89)
  invalid_sniffer: { kind: 'invalid', details: details<{ pointer?: string }>() },
  invalid_patch: { kind: 'invalid', details: details<{ pointer?: string }>() },
  individual_required: { kind: 'invalid', details: details<{ pointer?: string }>() },
  message_removed: { kind: 'invalid', details: details<{ pointer?: string }>() },
  message_posted: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: a messaging channel's SMS path (#51; branch msgchan)
  sms_unavailable: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: messaging plugins and responders
  invalid_plugin: { kind: 'invalid', details: details<{ pointer?: string }>() },
  invalid_responder: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  // invalid: messaging operations (#63–#65)
  invalid_operation: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: purge-data (#86)
  invalid_purge: { kind: 'invalid', details: details<{ pointer?: string }>() },
  /** A directory file's problems, each `path: problem` (the import wrote nothing). */
  invalid_directory: { kind: 'invalid', details: details<{ errors: string[] }>() },
  // invalid: the bot and its content
  invalid_placeholders: { kind: 'invalid', details: details<{ key?: string }>() },
  invalid_threads: { kind: 'invalid', details: details<{ errors: string[] }>() },
  missing_placeholder: { kind: 'invalid', details: details<{ placeholder: string }>() },
  no_notifications: { kind: 'invalid', details: details<{ personId: string }>() },
  person_unreachable: { kind: 'invalid', details: details<{ protocol: string }>() },
  thread_name_required: { kind: 'invalid', details: details() },
  thread_not_found: { kind: 'invalid', details: details<{ threadName: string }>() },
  invalid_due_at: { kind: 'invalid', details: details() },
  // invalid: the contact center (its setup file, agents, statuses, queues)
  invalid_contact_center: { kind: 'invalid', details: details<{ errors: string[] }>() },
  agent_status_not_found: { kind: 'invalid', details: details<{ status: string }>() },
  agent_status_not_settable: { kind: 'invalid', details: details<{ status: string }>() },
  menu_not_found: { kind: 'invalid', details: details<{ menuId: string | number }>() },
  contact_center_not_set_up: { kind: 'invalid', details: details() },
  company_required: { kind: 'invalid', details: details() },
  language_not_available: { kind: 'invalid', details: details<{ lang: string }>() },
  language_not_found: { kind: 'invalid', details: details<{ lang: string }>() },
  menu_after_hours: { kind: 'invalid', details: details<{ menuId: number }>() },
  not_a_participant: { kind: 'invalid', details: details() },
  chat_ended: { kind: 'invalid', details: details<{ chatId?: number }>() },
  chat_dismissed: { kind: 'invalid', details: details() },
  chat_not_dismissed: { kind: 'invalid', details: details() },
  chat_not_with_virtual_agent: { kind: 'invalid', details: details() },
  chat_not_queued: { kind: 'invalid', details: details() },
  // invalid: SMS sessions (Apps API S1)
  sms_not_enabled: { kind: 'invalid', details: details() },
  outbound_sms_not_enabled: { kind: 'invalid', details: details() },
  outbound_number_not_found: { kind: 'invalid', details: details<{ number: string }>() },
  sms_agent_not_found: { kind: 'invalid', details: details() },
  sms_session_active: { kind: 'invalid', details: details() },
  sms_recipient_opted_out: { kind: 'invalid', details: details() },
  // invalid: contact-center end users (E1/E2, a chat's end user, mid-session authentication)
  end_user_phone_invalid: { kind: 'invalid', details: details<{ phone: string }>() },
  end_user_unknown: { kind: 'invalid', details: details<{ endUserId: number }>() },
  auth_request_duplicate: { kind: 'invalid', details: details<{ chatId: number }>() },
  crm_unsupported: { kind: 'invalid', details: details() },
  // invalid: the chat lifecycle (escalations, deflection, resume, transfers, wrap-up)
  chat_not_assigned: { kind: 'invalid', details: details() },
  invalid_deflection_channel: { kind: 'invalid', details: details<{ channel?: string }>() },
  chat_resume_after_hours: { kind: 'invalid', details: details<{ message: string }>() },
  invalid_transfer: { kind: 'invalid', details: details() },
  transfer_target_unavailable: { kind: 'invalid', details: details<{ agentId: number }>() },
  transfer_target_full: { kind: 'invalid', details: details<{ agentId: number }>() },
  transfer_pending: { kind: 'invalid', details: details() },
  not_in_wrap_up: { kind: 'invalid', details: details() },
  disposition_not_found: { kind: 'invalid', details: details<{ disposition: string }>() },
  // invalid: chat media (H6–H11, H3 with media), customer flags and custom data (H14–H17)
  media_upload_unknown: { kind: 'invalid', details: details<{ s3Path: string }>() },
  media_already_attached: { kind: 'invalid', details: details<{ s3Path: string }>() },
  media_not_uploaded: { kind: 'invalid', details: details<{ s3Path: string }>() },
  media_wrong_type: { kind: 'invalid', details: details<{ kind: string }>() },
  media_id_not_found: { kind: 'invalid', details: details<{ mediaId: string }>() },
  invalid_custom_data: { kind: 'invalid', details: details() },
  invalid_signed_data: { kind: 'invalid', details: details() },
  signed_data_expired: { kind: 'invalid', details: details() },
  // invalid: delivery (a message to send, a received one, a webhook)
  invalid_body: { kind: 'invalid', details: details<SendDetails>() },
  invalid_channel: { kind: 'invalid', details: details<SendDetails>() },
  invalid_data: { kind: 'invalid', details: details<SendDetails>() },
  invalid_key: { kind: 'invalid', details: details<SendDetails>() },
  invalid_person_id: { kind: 'invalid', details: details<SendDetails>() },
  invalid_recipient: { kind: 'invalid', details: details<SendDetails>() },
  invalid_send_at: { kind: 'invalid', details: details<SendDetails>() },
  invalid_sender: { kind: 'invalid', details: details<SendDetails>() },
  invalid_subject: { kind: 'invalid', details: details<SendDetails>() },
  invalid_limit: { kind: 'invalid', details: details() },
  invalid_webhook: { kind: 'invalid', details: details() },
  // invalid: suppression list, web chat, tenants and their settings
  invalid_address: { kind: 'invalid', details: details<{ address?: unknown }>() },
  invalid_reason: { kind: 'invalid', details: details<{ reason?: unknown }>() },
  invalid_scope: { kind: 'invalid', details: details<{ scope?: unknown }>() },
  invalid_source: { kind: 'invalid', details: details() },
  /** A suppression's expiry that is not a time in the future. */
  invalid_expiry: { kind: 'invalid', details: details<{ expiresAt?: unknown }>() },
  invalid_avatar: { kind: 'invalid', details: details() },
  invalid_cursor: { kind: 'invalid', details: details() },
  invalid_text: { kind: 'invalid', details: details() },
  invalid_help_text: { kind: 'invalid', details: details() },
  invalid_provider_options: { kind: 'invalid', details: details<{ vendor?: string; channel?: string }>() },
  invalid_tenant_name: { kind: 'invalid', details: details() },
  unknown_vendor: { kind: 'invalid', details: details<{ vendor?: unknown }>() },
  unsafe_url: { kind: 'invalid', details: details<{ option: string; reason: string }>() },
  // invalid: files (attachments); the files surface answers an upload over its limit with 413
  file_too_large: { kind: 'invalid', details: details<{ maxBytes: number }>() },
  invalid_file_key: { kind: 'invalid', details: details<{ key?: string }>() },
  invalid_file_options: { kind: 'invalid', details: details<{ field: string }>() },
  // invalid: messaging attachments (#29, #31, #32) and bookmarks (#34)
  invalid_content_type: { kind: 'invalid', details: details<{ pointer?: string }>() },
  upload_missing: { kind: 'invalid', details: details<{ pointer?: string }>() },
  upload_type_mismatch: { kind: 'invalid', details: details<{ pointer?: string; detected?: string }>() },
  upload_size_mismatch: { kind: 'invalid', details: details<{ pointer?: string; size?: number }>() },
  attachment_removed: { kind: 'invalid', details: details<{ pointer?: string }>() },
  message_not_in_channel: { kind: 'invalid', details: details<{ pointer?: string }>() },
  /** A files-surface form upload (multipart/form-data, as S3's presigned POST) that is not one. */
  invalid_upload_form: { kind: 'invalid', details: details<{ field?: string }>() },
  // invalid: messaging bulk messages and bulk attachments (#36–#43)
  bulk_message_posted: { kind: 'invalid', details: details<{ pointer?: string }>() },
  message_required: { kind: 'invalid', details: details<{ pointer?: string }>() },
  recipients_required: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: messaging announcers (#2–#5) and aggregation requests (#1)
  invalid_announcer: { kind: 'invalid', details: details<{ pointer?: string }>() },
  invalid_aggregation: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: message templates (issue 13): the template file, and data or a rendering a template refuses
  /** A template file's problems, each `path: problem` (nothing was loaded). */
  invalid_templates: { kind: 'invalid', details: details<{ errors: string[] }>() },
  invalid_template_data: { kind: 'invalid', details: details<{ templateId: string; errors: string[]; pointer?: string }>() },
  template_render_failed: { kind: 'invalid', details: details<{ templateId: string; errors: string[]; pointer?: string }>() },
  // invalid: multicasts (#80, #130): a filter-type or filter-value that names no audience
  invalid_audience: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // invalid: command line only (never reached over HTTP; mapped all the same)
  invalid_arguments: { kind: 'invalid', details: details() },
  tenant_not_found: { kind: 'invalid', details: details() },
  tenant_required: { kind: 'invalid', details: details() },
  // unauthenticated
  bad_secret: { kind: 'unauthenticated', details: details<AuthDetails>() },
  bad_signature: { kind: 'unauthenticated', details: details<AuthDetails>() },
  bad_verify_token: { kind: 'unauthenticated', details: details<AuthDetails>() },
  invalid_session: { kind: 'unauthenticated', details: details<AuthDetails>() },
  agent_sign_in_failed: { kind: 'unauthenticated', details: details<AuthDetails>() },
  missing_client: { kind: 'unauthenticated', details: details<AuthDetails>() },
  missing_credentials: { kind: 'unauthenticated', details: details<AuthDetails>() },
  unknown_client: { kind: 'unauthenticated', details: details<AuthDetails>() },
  // forbidden
  bad_file_signature: { kind: 'forbidden', details: details() },
  bad_form_token: { kind: 'forbidden', details: details() },
  file_url_expired: { kind: 'forbidden', details: details<{ expiredAt: string }>() },
  forbidden: { kind: 'forbidden', details: details() },
  not_a_subscriber: { kind: 'forbidden', details: details<{ pointer?: string; parameter?: string }>() },
  not_the_author: { kind: 'forbidden', details: details<{ pointer?: string }>() },
  // forbidden: messaging channels with a user token (branch msgchan)
  not_your_individual: { kind: 'forbidden', details: details<{ pointer?: string; parameter?: string }>() },
  user_without_individual: { kind: 'forbidden', details: details() },
  // forbidden: messaging announcers are the organisation's (a user token may not touch them)
  organization_key_required: { kind: 'forbidden', details: details() },
  // not found
  embed_not_found: { kind: 'not_found', details: details() },
  agent_not_found: { kind: 'not_found', details: details<{ agentId: string | number }>() },
  chat_not_found: { kind: 'not_found', details: details<{ chatId: number }>() },
  end_user_not_found: { kind: 'not_found', details: details() },
  offer_not_found: { kind: 'not_found', details: details() },
  escalation_not_found: { kind: 'not_found', details: details<{ escalationId: number }>() },
  file_not_found: { kind: 'not_found', details: details<{ key: string }>() },
  media_not_found: { kind: 'not_found', details: details<{ mediaId: number }>() },
  message_not_found: { kind: 'not_found', details: details<{ messageId: string }>() },
  person_not_found: { kind: 'not_found', details: details<{ personId?: string | null; externalId?: string; index?: number }>() },
  person_not_in_tenant: { kind: 'not_found', details: details<{ personId: string }>() },
  /** A JSON:API resource of `type` with this `id` (or a scoping parameter naming one) is not the tenant's. */
  resource_not_found: { kind: 'not_found', details: details<{ type: string; id: string; parameter?: string; pointer?: string }>() },
  template_not_found: { kind: 'not_found', details: details<{ templateId: string; pointer?: string }>() },
  suppression_not_found: { kind: 'not_found', details: details() },
  webhook_not_configured: { kind: 'not_found', details: details<{ channel: string }>() },
  // conflict
  external_id_taken: { kind: 'conflict', details: details<{ externalId?: string }>() },
  phone_taken: { kind: 'conflict', details: details<{ phone?: string }>() },
  tenant_name_taken: { kind: 'conflict', details: details<{ name: string }>() },
  // conflict: messaging plugins
  plugin_name_taken: { kind: 'conflict', details: details<{ pointer?: string }>() },
  plugin_disabled: { kind: 'conflict', details: details<{ pointer?: string }>() },
  // conflict: purge-data (#86), a request id used for another purge
  purge_request_conflict: { kind: 'conflict', details: details<{ pointer?: string }>() },
  // rate limited
  rate_limited: { kind: 'rate_limited', details: details<{ retryAfter: number }>() },
  // upstream failed
  delivery_failed: { kind: 'upstream_failed', details: details<{ error: string }>() },
  // the web console's users and sessions (issue 11)
  invalid_console_user: { kind: 'invalid', details: details<{ field?: string }>() },
  invalid_query: { kind: 'invalid', details: details() },
  console_sign_in_failed: { kind: 'unauthenticated', details: details<AuthDetails>() },
  console_csrf_failed: { kind: 'forbidden', details: details() },
  console_user_email_taken: { kind: 'conflict', details: details<{ email: string }>() },
  // push: app credentials, user devices, badge counts (issue 13, item 3)
  invalid_app_credential: { kind: 'invalid', details: details<{ pointer?: string }>() },
  invalid_user_device: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  invalid_badge_count: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // the console's person actions (issue 11, second slice)
  invalid_person_action: { kind: 'invalid', details: details<{ field?: string }>() },
  suppression_needs_consent: { kind: 'conflict', details: details<{ reason: string }>() },
  // user emails and their attachments (issue 13, item 6)
  invalid_user_email: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  /** The email was sent already: it cannot be sent again, nor take attachments. */
  user_email_sent: { kind: 'invalid', details: details<{ pointer?: string }>() },
  // outbound campaigns and their contacts (issue 12 item 5: Apps API K1-K7)
  campaign_not_found: { kind: 'not_found', details: details() },
  campaign_contact_not_found: { kind: 'not_found', details: details() },
  campaign_contact_invalid: { kind: 'invalid', details: details<{ field: string }>() },
  campaign_phone_taken: { kind: 'conflict', details: details() },
  campaign_contact_busy: { kind: 'conflict', details: details<{ status: string }>() },
  // texts and numbers (issue 13, item 4)
  invalid_text_account: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  invalid_text_number: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  invalid_text_message: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  /** No number is on offer in the area code asked for (or every one is the tenant's already). */
  no_number_available: { kind: 'invalid', details: details<{ pointer?: string }>() },
  text_number_taken: { kind: 'conflict', details: details<{ pointer?: string }>() },
  /** The tenant's SMS vendor refused or did not answer an account, number or lookup request. */
  sms_provider_failed: { kind: 'upstream_failed', details: details<{ error: string }>() },
  // user consents and user notifications (issue 13, items 5 and 3)
  invalid_user_consent: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  /** The user has no phone to ask for an SMS consent. */
  user_without_phone: { kind: 'invalid', details: details<{ pointer?: string }>() },
  /** The user's phone is on the suppression list for SMS: no consent request goes to it. */
  consent_target_suppressed: { kind: 'conflict', details: details<{ pointer?: string; reason: string }>() },
  invalid_user_notification: { kind: 'invalid', details: details<{ pointer?: string; parameter?: string }>() },
  // Calls (issue 12, items 1–2; spec/ccai.md §2.1): the Apps API's texts, verbatim, are the messages.
  call_invalid: { kind: 'invalid', details: details() },
  call_ended: { kind: 'invalid', details: details<{ callId: number }>() },
  call_not_live: { kind: 'invalid', details: details<{ callId: number }>() },
  call_not_found: { kind: 'not_found', details: details<{ callId: number }>() },
  // CRM tickets of the built-in CRM adapter (issue 12, item 3): the admin API's tickets.
  ticket_invalid: { kind: 'invalid', details: details<{ field: string }>() },
  ticket_not_found: { kind: 'not_found', details: details<{ ticketId: string }>() },
  ticket_exists: { kind: 'conflict', details: details<{ ticketId: string }>() },
  // The console's supervisor view (issue 11, item 4)
  /** A chart range whose end is not after its start, or longer than allowed. */
  invalid_date_range: { kind: 'invalid', details: details<{ from?: string; to?: string }>() },
  // The dialer's preview mode (issue 12, item 5): an agent's offered contact
  preview_offer_not_found: { kind: 'not_found', details: details() },
  /** The offer lapsed, or was dialled, skipped or withdrawn already. */
  preview_offer_closed: { kind: 'conflict', details: details<{ result: string }>() },
  /** The agent is on a call already (or the contact is no longer dialable). */
  preview_offer_busy: { kind: 'conflict', details: details<{ reason: string }>() },
} as const satisfies Record<string, { kind: ErrorKind; details: object }>

/** One code of the catalog. */
export type ErrorCode = keyof typeof ERROR_CATALOG
/** The details an error of `code` carries. */
export type ErrorDetails<C extends ErrorCode> = (typeof ERROR_CATALOG)[C]['details']
/** The codes of one family. */
export type CodeOfKind<K extends ErrorKind> = { [C in ErrorCode]: (typeof ERROR_CATALOG)[C]['kind'] extends K ? C : never }[ErrorCode]

/** Every code, in catalog order (for tests that walk the catalog). */
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[]

/** The family of a code. */
export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CATALOG[code].kind
}

/** Details are optional where every field of the code's details is. */
type DetailsArg<C extends ErrorCode> = Record<never, never> extends ErrorDetails<C> ? [details?: ErrorDetails<C>] : [details: ErrorDetails<C>]

/**
 * A failure the caller can act on, with a code from the catalog and that code's details. Core
 * throws these; each surface maps the code to its documented status and text.
 */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C
  readonly details: ErrorDetails<C>
  constructor(code: C, message: string, ...[details]: DetailsArg<C>) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = (details ?? {}) as ErrorDetails<C>
  }

  /** The code's family. */
  get kind(): ErrorKind {
    return kindOf(this.code)
  }
}

/** The input broke a rule (bad phone, missing field). */
export class ValidationError<C extends CodeOfKind<'invalid'> = CodeOfKind<'invalid'>> extends AppError<C> {}
/** The thing asked for does not exist for this tenant. */
export class NotFoundError<C extends CodeOfKind<'not_found'> = CodeOfKind<'not_found'>> extends AppError<C> {}
/** The change collides with existing data (a taken phone or external id). */
export class ConflictError<C extends CodeOfKind<'conflict'> = CodeOfKind<'conflict'>> extends AppError<C> {}
/** Credentials are missing or wrong. */
export class AuthError<C extends CodeOfKind<'unauthenticated'> = CodeOfKind<'unauthenticated'>> extends AppError<C> {}
/** The caller is known but may not do this. */
export class ForbiddenError<C extends CodeOfKind<'forbidden'> = CodeOfKind<'forbidden'>> extends AppError<C> {}
/** Too many requests (details: seconds until a retry may succeed). */
export class RateLimitedError extends AppError<'rate_limited'> {}

/** A Postgres unique-violation, with the constraint that fired. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string }
  return e && e.code === '23505' ? (e.constraint ?? '') : undefined
}
