import type { FastifyRequest } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import { internalMessage, messageBody, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'
import { describeValidation } from '../../http/validation.ts'

/**
 * Which documented wording an endpoint uses: the legacy `add_external_person` (`{"auth": ...}` on
 * 401, field-tagged phone errors), person creation on `/external_person`, or everything else.
 */
export type ErrorVariant = 'add' | 'create' | 'default' | 'notifications'

declare module 'fastify' {
  interface FastifyContextConfig {
    cassErrors?: ErrorVariant
  }
}

type Body = Record<string, unknown> & { message: string }

const variantOf = (req: FastifyRequest): ErrorVariant => req.routeOptions.config.cassErrors ?? 'default'
// Sent pre-serialised so the keys keep the documented order ({"auth": ..., "message": ...}).
const json = (status: number, body: Body): Rendered => ({ status, body: JSON.stringify(body) })
/** Core's sentence as the Cass surface words its messages: capitalised. */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)
/** A code the Cass spec does not name: its status family, core's sentence as the message. */
const plain = (status: number) => (err: AppError) => json(status, { message: sentence(err.message) })
/** A message to send that delivery refused (a rendered bot message too long, …). */
const invalidMessage = (err: AppError) => json(400, { message: `Invalid message: ${err.message}` })
const unauthorized = (err: AppError<'bad_secret' | 'unknown_client' | 'missing_credentials' | 'invalid_session' | 'bad_signature' | 'bad_verify_token'>, req: FastifyRequest) =>
  variantOf(req) === 'add' ? json(401, { auth: err.details.auth ?? null, message: 'Unauthorized' }) : json(401, { message: 'Unauthorized' })

/** Status and body of every catalog code on the Cass surface, byte-for-byte as `spec/cass.md` lists them where it does. */
export const CASS_ERRORS = {
  // Documented by spec/cass.md.
  missing_client: () => json(400, { message: 'No client parameter specified' }),
  unknown_client: () => json(404, { message: 'Client Not Found' }),
  bad_secret: unauthorized,
  person_not_found: (err) => json(404, { message: `Unknown person with id : ${String(err.details.personId ?? err.details.externalId ?? '')}` }),
  // The Notification API's text has a colon the other endpoints' lack.
  person_not_in_tenant: (_err, req) => {
    const client = req.tenant?.cassClient ?? ''
    return json(404, { message: variantOf(req) === 'notifications' ? `Person is not registered to : ${client}` : `Person is not registered to ${client}` })
  },
  no_notifications: (err) => json(400, { message: `No notification scheduled for person : ${err.details.personId}` }),
  invalid_phone: (err, req) => variantOf(req) === 'default'
    ? json(400, { message: `Invalid phone number ${String(err.details.phone)}` })
    : json(400, { phone: err.details.phone ?? null, message: 'Invalid phone number' }),
  phone_required: () => json(400, { phone: null, message: 'phone parameter is required' }),
  identifier_required: () => json(400, { external_id: null, message: 'external_id parameter is required' }),
  person_id_required: () => json(400, { message: 'person_id parameter is required' }),
  invalid_protocol: (err) => json(400, { message: `Invalid protocol ${String(err.details.protocol)}` }),
  invalid_timezone: (err) => json(400, { timezone: err.details.timezone ?? null, message: `Invalid timezone ${String(err.details.timezone)}` }),
  thread_not_found: (err) => json(400, { thread_name: err.details.threadName ?? null, message: 'Thread name Not Found' }),
  external_id_taken: () => json(400, { message: 'External_id already exist' }),
  phone_taken: () => json(409, { message: 'Phone number already exist' }),
  // The bot (/ping_person, /v2/ping_person, /admin/threads): our documented texts.
  thread_name_required: () => json(400, { thread_name: null, message: 'thread_name parameter is required' }),
  missing_placeholder: (err) => json(400, { message: `Missing placeholder ${err.details.placeholder}` }),
  invalid_placeholders: () => json(400, { message: 'placeholders must be an object of texts' }),
  person_unreachable: (err) => json(400, { message: `Person has no address for protocol ${err.details.protocol}` }),
  delivery_failed: (err) => json(502, { message: `Message delivery failed: ${err.details.error}` }),
  invalid_threads: (err) => json(400, { message: err.message, errors: err.details.errors ?? [] }),
  // What a ping hands to delivery and delivery refuses: the bot's messages as rendered.
  invalid_body: invalidMessage,
  invalid_channel: invalidMessage,
  invalid_data: invalidMessage,
  invalid_key: invalidMessage,
  invalid_person_id: invalidMessage,
  invalid_recipient: invalidMessage,
  invalid_send_at: invalidMessage,
  invalid_sender: invalidMessage,
  invalid_subject: invalidMessage,
  // Codes of other surfaces and of core checks no Cass route reaches today: the status family,
  // with core's sentence. Never a 500.
  invalid_due_at: plain(400),
  invalid_limit: plain(400),
  invalid_webhook: plain(400),
  invalid_address: plain(400),
  invalid_reason: plain(400),
  invalid_scope: plain(400),
  invalid_source: plain(400),
  invalid_avatar: plain(400),
  invalid_cursor: plain(400),
  invalid_text: plain(400),
  invalid_help_text: plain(400),
  invalid_provider_options: plain(400),
  invalid_tenant_name: plain(400),
  unknown_vendor: plain(400),
  unsafe_url: plain(400),
  invalid_file_key: plain(400),
  invalid_file_options: plain(400),
  file_too_large: plain(400),
  invalid_arguments: plain(400),
  tenant_not_found: plain(400),
  tenant_required: plain(400),
  bad_signature: unauthorized,
  bad_verify_token: unauthorized,
  invalid_session: unauthorized,
  missing_credentials: unauthorized,
  bad_form_token: plain(403),
  bad_file_signature: plain(403),
  file_url_expired: plain(403),
  forbidden: plain(403),
  embed_not_found: plain(404),
  file_not_found: plain(404),
  message_not_found: plain(404),
  suppression_not_found: plain(404),
  webhook_not_configured: plain(404),
  tenant_name_taken: plain(409),
  rate_limited: (err) => ({ ...json(429, { message: 'Too many requests; try again shortly' }), headers: { 'retry-after': String(err.details.retryAfter) } }),
} satisfies ErrorMapping

/** The Cass surface's errors: `{"message": ...}` (some with a documented field first), never internals. */
export const CASS_ERROR_SHAPE: ErrorShape = {
  codes: CASS_ERRORS,
  describeValidation: (err) => describeValidation(err, { patternMessage: 'must not contain NUL characters' }),
  framework: (problem) => messageBody(problem),
  internal: internalMessage,
}
