/**
 * A failure the caller can act on. Core throws these with a stable `code`; each surface maps the
 * code to its documented status and text. Core knows nothing of HTTP.
 */
export class AppError<D extends Record<string, unknown> = Record<string, unknown>> extends Error {
  readonly code: string
  readonly details: D
  constructor(code: string, message: string, details: D = {} as D) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = details
  }
}

/** The input broke a rule (bad phone, missing field). */
export class ValidationError<D extends Record<string, unknown> = Record<string, unknown>> extends AppError<D> {}
/** The thing asked for does not exist for this tenant. */
export class NotFoundError<D extends Record<string, unknown> = Record<string, unknown>> extends AppError<D> {}
/** The change collides with existing data (a taken phone or external id). */
export class ConflictError<D extends Record<string, unknown> = Record<string, unknown>> extends AppError<D> {}
/** Credentials are missing or wrong. */
export class AuthError<D extends Record<string, unknown> = Record<string, unknown>> extends AppError<D> {}

/** A Postgres unique-violation, with the constraint that fired. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string }
  return e && e.code === '23505' ? (e.constraint ?? '') : undefined
}
