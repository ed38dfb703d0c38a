import type { FastifyError, FastifyRequest } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import type { ErrorMapping, ErrorShape, Rendered } from '../../http/errors.ts'
import { isNulPattern } from '../../http/validation.ts'
import { pageHeaders, renderEmbedError } from './page.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Render errors of this route as a friendly HTML page instead of JSON. */
    embedHtml?: boolean
  }
}

/** Page parameter → what the friendly page says about a bad value. */
const PARAM_TEXT: Record<string, string> = {
  auth_code: 'The chat link has no auth_code. Ask the organisation for its embed code.',
  color: 'The color parameter must be a hex colour without “#”, like 228fb1.',
  avatar: 'The avatar parameter must be an http or https address of an image.',
  is_rounded: 'is_rounded must be true or false.',
  show_header: 'show_header must be true or false.',
}

function validationParam(err: FastifyError): string | undefined {
  const first = err.validation?.[0]
  if (!first) return undefined
  if (first.keyword === 'required') return String((first.params as { missingProperty?: string }).missingProperty)
  if (first.keyword === 'additionalProperties') return String((first.params as { additionalProperty?: string }).additionalProperty)
  return first.instancePath.replace(/^\//, '').split('/')[0]
}

/** A schema failure as one sentence: "text must NOT have more than 2000 characters". */
function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0]
  const param = validationParam(err)
  if (!first || !param) return 'Invalid request'
  if (first.keyword === 'required') return `${param} is required`
  if (first.keyword === 'additionalProperties') return `Unknown parameter ${param}`
  if (isNulPattern(err)) return `${param} must not contain NUL characters`
  return `${param} ${first.message ?? 'is invalid'}`
}

/** What the embed says: `message` for its JSON API; `title` and `text` on the friendly page. */
interface Said { status: number; message: string; title: string; text: string; headers?: Record<string, string> }

function render(s: Said, req: FastifyRequest): Rendered {
  if (req.routeOptions.config.embedHtml) {
    return { status: s.status, type: 'text/html; charset=utf-8', headers: { ...pageHeaders(), ...s.headers }, body: renderEmbedError(s.status, s.title, s.text) }
  }
  return { status: s.status, ...(s.headers ? { headers: s.headers } : {}), body: { message: s.message } }
}

const said = (f: (err: AppError) => Said) => (err: AppError, req: FastifyRequest) => render(f(err), req)
const invalid = said((err) => ({ status: 400, message: err.message, title: 'Invalid chat link', text: err.message }))
const unauthorized = said((err) => ({ status: 401, message: err.message, title: 'Session expired', text: 'Reload the page to start again.' }))
const forbidden = said((err) => ({ status: 403, message: err.message, title: 'Not allowed', text: err.message }))
const notFound = said((err) => ({ status: 404, message: err.message, title: 'Not found', text: err.message }))
const unknownPerson = said(() => ({ status: 404, message: 'Unknown personId', title: 'Chat not available', text: 'This chat link names a person this organisation does not know. Ask the organisation for a current link.' }))
const conflict = said((err) => ({ status: 409, message: err.message, title: 'Not possible', text: err.message }))

/** Every catalog code on the embed, with its documented status. */
export const EMBED_ERRORS = {
  identifier_required: invalid, invalid_phone: invalid, invalid_protocol: invalid, invalid_timezone: invalid,
  person_id_required: invalid, phone_required: invalid,
  invalid_placeholders: invalid, invalid_threads: invalid, missing_placeholder: invalid, no_notifications: invalid,
  person_unreachable: invalid, thread_name_required: invalid, invalid_due_at: invalid,
  thread_not_found: (err, req) => render({ status: 400, message: `Unknown threadId ${err.details.threadName}`, title: 'Chat not available', text: 'This chat link starts a conversation that does not exist (threadId). Ask the organisation for a current link.' }, req),
  invalid_body: invalid, invalid_channel: invalid, invalid_data: invalid, invalid_key: invalid, invalid_person_id: invalid,
  invalid_recipient: invalid, invalid_send_at: invalid, invalid_sender: invalid, invalid_subject: invalid,
  invalid_limit: invalid, invalid_webhook: invalid,
  invalid_address: invalid, invalid_reason: invalid, invalid_scope: invalid, invalid_source: invalid,
  invalid_avatar: invalid, invalid_cursor: invalid, invalid_text: invalid, invalid_help_text: invalid,
  invalid_provider_options: invalid, invalid_tenant_name: invalid, unknown_vendor: invalid, unsafe_url: invalid,
  invalid_arguments: invalid, tenant_not_found: invalid, tenant_required: invalid,
  invalid_file_key: invalid, invalid_file_options: invalid, file_too_large: invalid,
  bad_secret: unauthorized, bad_signature: unauthorized, bad_verify_token: unauthorized, invalid_session: unauthorized,
  missing_client: unauthorized, missing_credentials: unauthorized, unknown_client: unauthorized,
  bad_form_token: forbidden, forbidden, bad_file_signature: forbidden, file_url_expired: forbidden,
  embed_not_found: said(() => ({ status: 404, message: 'Unknown company or auth_code', title: 'Chat not available', text: 'This chat link is not valid: the company or its auth_code is wrong. Ask the organisation for a current link.' })),
  person_not_found: unknownPerson, person_not_in_tenant: unknownPerson,
  message_not_found: notFound, file_not_found: notFound, suppression_not_found: notFound, webhook_not_configured: notFound,
  external_id_taken: conflict, phone_taken: conflict, tenant_name_taken: conflict,
  rate_limited: (err, req) => render({
    status: 429, message: 'Too many requests; try again shortly', title: 'Please wait a moment', text: 'There were too many requests from your network. Try again in a minute.',
    headers: { 'retry-after': String(err.details.retryAfter) },
  }, req),
  delivery_failed: said((err) => ({ status: 502, message: err.message, title: 'Something went wrong', text: 'The message could not be delivered. Try again later.' })),
} satisfies ErrorMapping

/** Errors of the embed: `{"message"}` for its JSON API, a friendly HTML page for the chat page. */
export const EMBED_ERROR_SHAPE: ErrorShape = {
  codes: EMBED_ERRORS,
  describeValidation,
  framework: (p, req) => {
    if (p.code === 'invalid_request' && p.validation) {
      const param = validationParam(p.validation) ?? ''
      return render({ status: 400, message: p.message, title: 'Invalid chat link', text: (Object.hasOwn(PARAM_TEXT, param) ? PARAM_TEXT[param] : undefined) ?? `The chat link has an invalid ${param || 'parameter'}.` }, req)
    }
    if (p.code === 'body_too_large') return render({ status: 413, message: p.message, title: 'Too large', text: 'The request is too large.' }, req)
    return render({ status: p.status, message: p.message, title: p.status === 404 ? 'Not found' : 'Bad request', text: p.message }, req)
  },
  internal: (errorId, req) => req.routeOptions.config.embedHtml
    ? render({ status: 500, message: 'Internal Server Error', title: 'Something went wrong', text: `Please try again later (error id ${errorId}).` }, req)
    : { status: 500, body: { message: 'Internal Server Error', error_id: errorId } },
}
