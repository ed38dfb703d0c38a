import type { FastifyError, FastifyRequest } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import { byKind, type ErrorMapping, type ErrorShape, type FrameworkProblem, type Rendered } from '../errors.ts'
import { describeValidation } from '../validation.ts'

/** Where an error points: a JSON pointer into the body, or a query parameter (`spec/courier.md` §1.7). */
export type ErrorSource = { pointer: string } | { parameter: string }

/** One error object of §1.7: an integer `status`, our code, a sentence, where, and `meta`. */
export interface JsonApiErrorObject {
  status: number
  code: string
  detail: string
  source?: ErrorSource
  meta: Record<string, unknown>
}

/**
 * An answer of the JSON:API layer's own checks (a scoping parameter missing, a `type` that is not
 * the collection's, an `id` that is not the URL's): thrown by the layer, rendered as one error object.
 */
export class JsonApiError extends Error {
  readonly status: number
  readonly code: string
  readonly source: ErrorSource | undefined
  constructor(status: number, code: string, detail: string, source?: ErrorSource) {
    super(detail)
    this.name = 'JsonApiError'
    this.status = status
    this.code = code
    this.source = source
  }
}

/** `{"errors": [ … ]}` with `status` as the HTTP status. */
export function errorDocument(status: number, code: string, detail: string, source?: ErrorSource, headers?: Record<string, string>): Rendered {
  const error: JsonApiErrorObject = { status, code, detail, ...(source ? { source } : {}), meta: {} }
  return { status, body: { errors: [error] }, ...(headers ? { headers } : {}) }
}

/** Core's details that say where the problem is: `{pointer}` or `{parameter}` when a service names it. */
function sourceOf(err: AppError): ErrorSource | undefined {
  const d = err.details as { pointer?: unknown; parameter?: unknown }
  if (typeof d.pointer === 'string') return { pointer: d.pointer }
  if (typeof d.parameter === 'string') return { parameter: d.parameter }
  return undefined
}

const given = (status: number) => (err: AppError) => errorDocument(status, err.code, err.message, sourceOf(err))

/** Every catalog code as a JSON:API error object with its family's status. */
export const JSONAPI_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: () => errorDocument(401, 'unauthorized', 'Missing or invalid credentials: send Authorization: Bearer <api key> or X-Api-Key', undefined, { 'www-authenticate': 'Bearer realm="Switchboard messaging"' }),
  forbidden: given(403),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err) => errorDocument(429, err.code, err.message, undefined, { 'retry-after': String(err.details.retryAfter) }),
  upstream_failed: given(502),
})

/**
 * Where a schema failure points: the body member (`/data/attributes/name`, the missing or unknown
 * one included) or the query parameter (`page[limit]`).
 */
export function validationSource(err: FastifyError): ErrorSource | undefined {
  const first = err.validation?.[0]
  if (!first) return undefined
  const params = first.params as { missingProperty?: string; additionalProperty?: string }
  const member = params.missingProperty ?? params.additionalProperty
  const path = first.instancePath + (member !== undefined ? `/${member.replace(/~/g, '~0').replace(/\//g, '~1')}` : '')
  if (err.validationContext === 'querystring') return { parameter: path.replace(/^\//, '').split('/')[0] ?? '' }
  if (err.validationContext === 'body') return { pointer: path }
  return undefined
}

/** A framework error as one error object; a schema failure points at its member or parameter. */
function framework(p: FrameworkProblem): Rendered {
  if (p.validation) return errorDocument(p.status, 'invalid', describeValidation(p.validation), validationSource(p.validation))
  if (p.code === 'invalid_json' || p.code === 'invalid_utf8' || p.code === 'invalid_body' || p.code === 'too_deep' || p.code === 'invalid_form') {
    return errorDocument(p.status, p.code, p.message, { pointer: '' })
  }
  return errorDocument(p.status, p.code, p.message)
}

/** The error shape of a JSON:API surface: every error is `{"errors": [error object]}`. */
export const JSONAPI_ERROR_SHAPE: ErrorShape = {
  codes: JSONAPI_ERRORS,
  framework: (p: FrameworkProblem, _req: FastifyRequest) => framework(p),
  internal: (errorId) => ({ status: 500, body: { errors: [{ status: 500, code: 'internal', detail: 'Internal Server Error', meta: { 'error-id': errorId } }] } }),
  local: (err) => (err instanceof JsonApiError ? errorDocument(err.status, err.code, err.message, err.source) : undefined),
}
