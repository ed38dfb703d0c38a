import type { FastifyRequest } from 'fastify'
import type { AppError } from '../core/errors.ts'
import { byKind, internalMessage, messageBody, type ErrorMapping, type ErrorShape, type Rendered } from './errors.ts'

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
export const WEBHOOK_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: refused,
  forbidden: refused,
  // The tenant in the path is not a secret, but what it has (a vendor configured, a person, a
  // message) is nobody's business: every "not found" is refused alike.
  not_found: refused,
  conflict: given(409),
  rate_limited: (err) => ({ ...given(429)(err), headers: { 'retry-after': String(err.details.retryAfter) } }),
  upstream_failed: given(502),
})

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
