import type { FastifyRequest } from 'fastify'
import type { AppError } from '../core/errors.ts'
import { internalMessage, messageBody, type ErrorMapping, type ErrorShape, type Rendered } from './errors.ts'

/**
 * Vendor webhooks (Twilio, Messenger) answer `{"message"}`. Everything about who is calling — an
 * unknown tenant, missing settings, a wrong signature or verify token — and anything not found is
 * one 403 `Forbidden`, so a caller learns nothing; a signed body we cannot read is a 400.
 */
const refused = (err: AppError, req: FastifyRequest): Rendered => {
  req.log.warn({ reason: err.message, code: err.code }, 'webhook refused')
  return { status: 403, body: { message: 'Forbidden' } }
}
const given = (status: number) => (err: AppError): Rendered => ({ status, body: { message: err.message } })

/** Every catalog code on the vendor webhook surfaces. */
export const WEBHOOK_ERRORS = {
  identifier_required: given(400), invalid_phone: given(400), invalid_protocol: given(400), invalid_timezone: given(400),
  person_id_required: given(400), phone_required: given(400),
  invalid_placeholders: given(400), invalid_threads: given(400), missing_placeholder: given(400), no_notifications: given(400),
  person_unreachable: given(400), thread_name_required: given(400), thread_not_found: given(400), invalid_due_at: given(400),
  invalid_body: given(400), invalid_channel: given(400), invalid_data: given(400), invalid_key: given(400), invalid_person_id: given(400),
  invalid_recipient: given(400), invalid_send_at: given(400), invalid_sender: given(400), invalid_subject: given(400),
  invalid_limit: given(400), invalid_webhook: given(400),
  invalid_address: given(400), invalid_reason: given(400), invalid_scope: given(400), invalid_source: given(400),
  invalid_avatar: given(400), invalid_cursor: given(400), invalid_text: given(400), invalid_help_text: given(400),
  invalid_provider_options: given(400), invalid_tenant_name: given(400), unknown_vendor: given(400), unsafe_url: given(400),
  invalid_arguments: given(400), tenant_not_found: given(400), tenant_required: given(400),
  bad_secret: refused, bad_signature: refused, bad_verify_token: refused, invalid_session: refused,
  missing_client: refused, missing_credentials: refused, unknown_client: refused,
  bad_form_token: refused, forbidden: refused,
  // The tenant in the path is not a secret, but what it has (a vendor configured, a person, a
  // message) is nobody's business: every "not found" is refused alike.
  webhook_not_configured: refused, embed_not_found: refused,
  message_not_found: refused, person_not_found: refused, person_not_in_tenant: refused, suppression_not_found: refused,
  external_id_taken: given(409), phone_taken: given(409), tenant_name_taken: given(409),
  rate_limited: (err) => ({ ...given(429)(err), headers: { 'retry-after': String(err.details.retryAfter) } }),
  delivery_failed: given(502),
} satisfies ErrorMapping

/**
 * The webhook surfaces' error shape. `refuse` names errors of the surface's own (not in the
 * catalog) that mean "refused": answered 403 like the catalog's.
 */
export function webhookErrorShape(opts: { refuse?: (err: Error) => boolean } = {}): ErrorShape {
  return {
    codes: WEBHOOK_ERRORS,
    local: (err, req) => {
      if (!opts.refuse?.(err)) return undefined
      req.log.warn({ reason: err.message }, 'webhook refused')
      return { status: 403, body: { message: 'Forbidden' } }
    },
    framework: (p) => messageBody(p),
    internal: internalMessage,
  }
}
