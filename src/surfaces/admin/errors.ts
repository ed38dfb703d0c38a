import type { AppError } from '../../core/errors.ts'
import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'

/** The realm a client is told to authenticate in. */
export const REALM = 'Switchboard admin'

const body = (status: number, code: string, message: string): Rendered => ({ status, body: { message, code } })
/** The code and core's sentence, with the family's status. */
const given = (status: number) => (err: AppError) => body(status, err.code, err.message)
// The challenge makes a client prompt for the tenant's client and token.
const unauthorized = (): Rendered => ({ ...body(401, 'unauthorized', 'Unauthorized'), headers: { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` } })

/** Every catalog code on the admin API: `{"message", "code"}` with the documented status. */
export const ADMIN_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: unauthorized,
  forbidden: given(403),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err) => ({ ...given(429)(err), headers: { 'retry-after': String(err.details.retryAfter) } }),
  upstream_failed: given(502),
}, {
  // A setup file's problems, every one at its path.
  invalid_contact_center: (err) => ({ status: 400, body: { message: err.message, code: err.code, errors: err.details.errors } }),
  invalid_directory: (err) => ({ status: 400, body: { message: err.message, code: err.code, errors: err.details.errors } }),
  invalid_templates: (err) => ({ status: 400, body: { message: err.message, code: err.code, errors: err.details.errors } }),
})

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
