import type { FastifyRequest } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import type { ErrorMapping, ErrorShape, Rendered } from '../../http/errors.ts'
import { htmlPageHeaders } from '../../http/security-headers.ts'
import { REALM } from './auth.ts'
import { PAGE_STYLES, renderError } from './page.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Render errors of this route as a small HTML page instead of JSON. */
    sandboxHtml?: boolean
  }
}

/** `{"message"}` for the JSON API, a small HTML page for the page's routes. */
function render(status: number, message: string, req: FastifyRequest): Rendered {
  // The challenge makes a browser prompt for the tenant's client and token.
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` } : {}
  if (req.routeOptions.config.sandboxHtml) {
    return { status, type: 'text/html; charset=utf-8', headers: { ...headers, ...htmlPageHeaders({ styles: PAGE_STYLES }), 'cache-control': 'no-store' }, body: renderError(status, message) }
  }
  return { status, headers, body: { message } }
}

const given = (status: number) => (err: AppError, req: FastifyRequest) => render(status, err.message, req)
const unauthorized = (_err: AppError, req: FastifyRequest) => render(401, 'Unauthorized', req)

/** Every catalog code on the sandbox, with its documented status. */
export const SANDBOX_ERRORS = {
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
  rate_limited: (err, req) => {
    const r = render(429, err.message, req)
    return { ...r, headers: { ...r.headers, 'retry-after': String(err.details.retryAfter) } }
  },
  delivery_failed: given(502),
} satisfies ErrorMapping

/** Errors of the sandbox: `{"message": ...}` (or a small HTML page for the page's routes), never internals. */
export const SANDBOX_ERROR_SHAPE: ErrorShape = {
  codes: SANDBOX_ERRORS,
  framework: (p, req) => render(p.status, p.code === 'unsupported_media_type' ? 'Unsupported Media Type' : p.message, req),
  internal: (errorId, req) => req.routeOptions.config.sandboxHtml
    ? render(500, `Internal Server Error (error id ${errorId})`, req)
    : { status: 500, body: { message: 'Internal Server Error', error_id: errorId } },
}
