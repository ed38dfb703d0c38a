import type { FastifyError } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'

/**
 * An answer of the Apps API's own request checks (Rails-style parameter errors and the documented
 * per-endpoint texts, `spec/ccai.md`): a status and the exact message. Thrown by routes, rendered
 * `{"message": …}`.
 */
export class CcaiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'CcaiError'
    this.status = status
  }
}

/** `400 "param is missing or the value is empty: <name>"`, Rails' wording the Apps API keeps (§1.5). */
export function paramMissing(name: string): CcaiError {
  return new CcaiError(400, `param is missing or the value is empty: ${name}`)
}

const message = (status: number, text: string, headers?: Record<string, string>): Rendered => ({ status, body: { message: text }, ...(headers ? { headers } : {}) })
/** Core's sentence, capitalised as the Apps API's texts are. */
const sentence = (err: AppError) => err.message.charAt(0).toUpperCase() + err.message.slice(1)

/** §1.2: 401 with the Basic challenge of the vendor's realm. */
export const UNAUTHORIZED = message(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Application"' })

/**
 * Every catalog code on the Apps API. The documented ones byte-for-byte; the rest by family — the
 * vendor answers business-rule failures with 400 (not 409/422), unknown things with 404 "Not Found".
 */
export const CCAI_ERRORS: ErrorMapping = byKind({
  invalid: (err) => message(400, sentence(err)),
  unauthenticated: () => UNAUTHORIZED,
  forbidden: () => message(403, 'Forbidden'),
  not_found: () => message(404, 'Not Found'),
  conflict: (err) => message(400, sentence(err)),
  // The window is one second (§1.6), so this is `Retry-After: 1` in practice.
  rate_limited: (err) => message(429, 'Too Many Requests', { 'retry-after': String(err.details.retryAfter) }),
  upstream_failed: (err) => message(502, sentence(err)),
}, {
  agent_status_not_found: () => message(400, 'Status not found'),
  agent_status_not_settable: (err) => message(400, `Status '${err.details.status}' is set by the system and can't be set`),
  menu_not_found: (err) => message(400, `menu_id ${err.details.menuId} is not found`),
  contact_center_not_set_up: () => message(400, 'Contact center is not set up'),
  language_not_available: (err) => message(400, `Language '${err.details.lang}' is not available`),
  menu_after_hours: () => message(400, "Menu is in 'after hours' state, can't accept chats"),
  not_a_participant: () => message(400, 'from_user_id is invalid'),
  chat_ended: () => message(400, 'Chat is already ended'),
  chat_not_dismissed: () => message(400, 'This chat is not in dismissed state'),
  sms_not_enabled: () => message(400, 'SMS is not enabled'),
  outbound_sms_not_enabled: () => message(400, 'Outbound SMS is not enabled'),
  outbound_number_not_found: () => message(400, 'outbound_number is not found'),
  sms_agent_not_found: () => message(400, 'Agent not found'),
  sms_session_active: () => message(400, 'Outbound SMS failed. Consumer is already in an active SMS session.'),
  sms_recipient_opted_out: () => message(400, 'Outbound SMS failed. Consumer has opted out of SMS (replied STOP).'),
  end_user_phone_invalid: () => message(400, 'phone is invalid'),
  end_user_unknown: (err) => message(400, `end_user_id ${err.details.endUserId} is not found`),
  end_user_not_found: () => message(404, 'Not Found'),
  auth_request_duplicate: () => message(400, 'Duplicate request: Please wait for the interval to expire'),
  crm_unsupported: () => message(400, 'Unsupported CRM request'),
  chat_not_with_virtual_agent: () => message(400, 'Chat is not handled by a virtual agent'),
  invalid_deflection_channel: () => message(400, 'Invalid deflection channel'),
  // H2 after hours: the body is the tenant's configured after-hours text.
  chat_resume_after_hours: (err) => message(400, err.details.message),
  // Chat media and custom data: core's texts are the Apps API's, lower-case parameter names first.
  media_upload_unknown: (err) => message(400, err.message),
  media_already_attached: (err) => message(400, err.message),
  media_not_uploaded: (err) => message(400, err.message),
  media_wrong_type: (err) => message(400, err.message),
  media_id_not_found: (err) => message(400, err.message),
  invalid_custom_data: (err) => message(400, err.message),
  invalid_signed_data: () => message(400, 'Invalid signed_data'),
  signed_data_expired: () => message(400, 'signed_data has expired'),
  // Campaign contacts (K1-K7): the texts of spec §2.5.
  campaign_contact_invalid: (err) => message(400, `${err.details.field} is invalid`),
  campaign_phone_taken: () => message(400, 'phone_number has already been taken'),
  campaign_contact_busy: (err) => message(400, `Contact cannot be updated in status ${err.details.status}`),
  // Calls (C1–C8, CD1, W2): core's messages are the spec's texts.
  call_invalid: (err) => message(400, err.message),
  call_ended: () => message(400, 'Call is already ended'),
  call_not_live: (err) => message(400, err.message),
})

/** A schema failure in the vendor's words: a missing parameter as Rails says it, anything else `<name> is invalid`. */
function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0]
  if (!first) return 'Invalid request'
  const params = first.params as { missingProperty?: string }
  if (first.keyword === 'required' && params.missingProperty) return `param is missing or the value is empty: ${params.missingProperty}`
  // The innermost named member (array indexes skipped); the part of the request when the whole of it is at fault.
  const name = first.instancePath.split('/').filter((s) => s !== '' && !/^\d+$/.test(s)).pop() ?? err.validationContext ?? 'request'
  return `${name} is invalid`
}

/** Errors of the Apps API: `{"message": …}` with the documented status; never internals. */
export const CCAI_ERROR_SHAPE: ErrorShape = {
  codes: CCAI_ERRORS,
  local: (err) => (err instanceof CcaiError ? message(err.status, err.message) : undefined),
  describeValidation,
  framework: (p) => {
    switch (p.code) {
      case 'not_found': return message(404, 'Not Found')
      case 'body_too_large': return message(413, 'Request Entity Too Large')
      case 'unsupported_media_type': return message(415, 'Unsupported Media Type')
      default: return message(p.status, p.message)
    }
  },
  internal: (errorId) => ({ status: 500, body: { message: 'Internal Server Error', error_id: errorId } }),
}
