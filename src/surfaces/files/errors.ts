import type { AppError } from '../../core/errors.ts'
import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'

const body = (status: number, code: string, message: string): Rendered => ({ status, body: { message, code } })
/** The code and core's sentence, with the family's status. */
const given = (status: number) => (err: AppError) => body(status, err.code, err.message)

/**
 * Every catalog code on the files surface: `{"message", "code"}` with the family's status; an
 * upload over its limit is a 413, as HTTP clients and S3 tools expect.
 */
export const FILES_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: given(401),
  forbidden: given(403),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err) => ({ ...given(429)(err), headers: { 'retry-after': String(err.details.retryAfter) } }),
  upstream_failed: given(502),
}, {
  // The rest of the refused body is not read: the connection closes after the answer.
  file_too_large: (err) => ({ ...given(413)(err), headers: { connection: 'close' } }),
})

/** Errors of the files surface: `{"message", "code"}`; never internals. */
export const FILES_ERROR_SHAPE: ErrorShape = {
  codes: FILES_ERRORS,
  framework: (p) => body(p.status, p.code, p.message),
  internal: (errorId) => ({ status: 500, body: { message: 'Internal Server Error', error_id: errorId } }),
}
