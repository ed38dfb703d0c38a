import type { FastifyError } from 'fastify'

/**
 * The `pattern` of a text parameter that must not hold NUL: PostgreSQL text cannot, and no stored
 * name, code or token does, so a NUL is refused at the edge instead of failing in the database.
 */
export const NO_NUL = '^[^\\u0000]*$'

/** Whether a schema failure is the NUL pattern's. */
export function isNulPattern(err: FastifyError): boolean {
  const first = err.validation?.[0]
  return first?.keyword === 'pattern' && (first.params as { pattern?: string }).pattern === NO_NUL
}

/**
 * A request-schema failure as one sentence for the client: "Unknown parameter foo",
 * "vendor is required", "first_name must be string". `patternMessage` words a `pattern` failure
 * (the regex itself means nothing to a caller), e.g. "must not contain NUL characters".
 */
export function describeValidation(err: FastifyError, options: { patternMessage?: string } = {}): string {
  const first = err.validation?.[0]
  if (!first) return 'Invalid request'
  if (first.keyword === 'additionalProperties') {
    return `Unknown parameter ${String((first.params as { additionalProperty?: string }).additionalProperty)}`
  }
  if (first.keyword === 'required') return `${String((first.params as { missingProperty?: string }).missingProperty)} is required`
  const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const where = err.validationContext === 'querystring' ? 'query string' : err.validationContext ?? 'request'
  if (field === '') return `Invalid ${where}: ${first.message ?? 'invalid'}`
  if (first.keyword === 'pattern' && options.patternMessage) return `${field} ${options.patternMessage}`
  return `${field} ${first.message ?? 'is invalid'}`
}
