import type { AppError } from '../../core/errors.ts'
import type { ErrorMapping, ErrorShape, Rendered } from '../../http/errors.ts'

/** The realm a client is told to authenticate in. */
export const REALM = 'Switchboard admin'

const body = (status: number, code: string, message: string): Rendered => ({ status, body: { message, code } })
/** The code and core's sentence, with the family's status. */
const given = (status: number) => (err: AppError) => body(status, err.code, err.message)
// The challenge makes a client prompt for the tenant's client and token.
const unauthorized = (): Rendered => ({ ...body(401, 'unauthorized', 'Unauthorized'), headers: { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` } })

/** Every catalog code on the admin API: `{"message", "code"}` with the documented status. */
export const ADMIN_ERRORS = {
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
  bad_secret: unauthorized, bad_signature: unauthorized, bad_verify_token: unauthorized, invalid_session: unauthorized,
  missing_client: unauthorized, missing_credentials: unauthorized, unknown_client: unauthorized,
  bad_form_token: given(403), forbidden: given(403),
  embed_not_found: given(404), message_not_found: given(404), person_not_found: given(404), person_not_in_tenant: given(404),
  suppression_not_found: given(404), webhook_not_configured: given(404),
  external_id_taken: given(409), phone_taken: given(409), tenant_name_taken: given(409),
  rate_limited: (err) => ({ ...given(429)(err), headers: { 'retry-after': String(err.details.retryAfter) } }),
  delivery_failed: given(502),
} satisfies ErrorMapping

/** Errors of the admin API: `{"message", "code"}` with a documented status; never internals. */
export const ADMIN_ERROR_SHAPE: ErrorShape = {
  codes: ADMIN_ERRORS,
  framework: (p) => {
    switch (p.code) {
      case 'invalid_request': return body(400, 'invalid_request', p.message)
      case 'body_too_large': return body(413, 'body_too_large', p.message)
      case 'unsupported_media_type': return body(415, 'unsupported_media_type', 'Content-Type must be application/json')
      case 'not_found': return body(404, 'not_found', p.message)
      default: return body(p.status, 'invalid_request', p.message)
    }
  },
  internal: (errorId) => ({ status: 500, body: { message: 'Internal Server Error', error_id: errorId } }),
}
