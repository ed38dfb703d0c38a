import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'
import type { AppError } from '../../core/errors.ts'

const body = (status: number, code: string, message: string, headers?: Record<string, string>): Rendered => ({ status, body: { message, code }, ...(headers ? { headers } : {}) })
const given = (status: number) => (err: AppError) => body(status, err.code, err.message)

/** Every catalog code on the agent API: `{"message", "code"}` with the family's status. */
export const AGENT_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: (err) => body(401, err.code, err.code === 'agent_sign_in_failed' ? 'Wrong email or password' : 'Sign in again', { 'www-authenticate': 'Bearer realm="Switchboard agent"' }),
  forbidden: given(403),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err) => body(429, err.code, 'Too many attempts; try again shortly', { 'retry-after': String(err.details.retryAfter) }),
  upstream_failed: given(502),
})

/** Errors of the agent API: `{"message", "code"}`; never internals. */
export const AGENT_ERROR_SHAPE: ErrorShape = {
  codes: AGENT_ERRORS,
  framework: (p) => body(p.status, p.code, p.message),
  internal: (errorId) => ({ status: 500, body: { message: 'Internal Server Error', code: 'internal', error_id: errorId } }),
}
