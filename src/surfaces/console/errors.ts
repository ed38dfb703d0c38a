import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'
import type { AppError } from '../../core/errors.ts'

const body = (status: number, code: string, message: string, headers?: Record<string, string>): Rendered => ({ status, body: { message, code }, ...(headers ? { headers } : {}) })
const given = (status: number) => (err: AppError) => body(status, err.code, err.message)

/** Every catalog code on the console API: `{"message", "code"}` with the family's status. */
export const CONSOLE_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: (err) => body(401, err.code, err.code === 'console_sign_in_failed' ? 'Wrong email or password' : 'Sign in again'),
  forbidden: (err) => body(403, err.code, err.code === 'console_csrf_failed' ? 'Missing or wrong CSRF token' : err.message),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err) => body(429, err.code, 'Too many failed sign-ins; try again later', { 'retry-after': String(err.details.retryAfter) }),
  upstream_failed: given(502),
})

/** Errors of the console API: `{"message", "code"}`; never internals. */
export const CONSOLE_ERROR_SHAPE: ErrorShape = {
  codes: CONSOLE_ERRORS,
  framework: (p) => body(p.status, p.code, p.message),
  internal: (errorId) => ({ status: 500, body: { message: 'Internal Server Error', code: 'internal', error_id: errorId } }),
}
