import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ERROR_CODES, kindOf, type CodeOfKind, type ErrorCode, type ErrorKind } from '../core/errors.ts'
import { describeValidation } from './validation.ts'

/** What a surface answers: status, body (an object, or a string sent as it is), extra headers. */
export interface Rendered {
  status: number
  body: unknown
  /** Content type when the body is not JSON (an HTML page); JSON otherwise. */
  type?: string
  headers?: Record<string, string>
}

/**
 * A surface's answer to every code of the catalog. Declare a surface's mapping with
 * `satisfies ErrorMapping<…>`: a code without an entry fails the build.
 */
export type ErrorMapping<R = Rendered> = { readonly [C in ErrorCode]: (err: AppError<C>, req: FastifyRequest) => R }

/** How a surface renders each family of the catalog (every family must have an entry). */
export type KindMapping<R = Rendered> = { readonly [K in ErrorKind]: (err: AppError<CodeOfKind<K>>, req: FastifyRequest) => R }

/**
 * A complete mapping from families: every code renders as its family does, unless `overrides`
 * names it. For a surface whose statuses follow the family (admin, sandbox, webhooks); a vendor
 * surface whose texts and statuses differ code by code declares every code instead.
 */
export function byKind<R = Rendered>(kinds: KindMapping<R>, overrides: Partial<ErrorMapping<R>> = {}): ErrorMapping<R> {
  const mapping: Partial<Record<ErrorCode, unknown>> = {}
  for (const code of ERROR_CODES) mapping[code] = overrides[code] ?? kinds[kindOf(code)]
  return mapping as ErrorMapping<R>
}

/** The errors the framework raises (not core's), named once for every surface. */
export type FrameworkCode =
  | 'invalid_request' // the request schema refused the input
  | 'body_too_large' // over the body limit (413)
  | 'unsupported_media_type' // a body of a type the route does not take (415)
  | 'invalid_json' | 'invalid_utf8' | 'invalid_form' | 'invalid_body' | 'too_deep' // a body the parsers refused (400)
  | 'not_found' // no such route (404)
  | 'bad_request' // any other 4xx the framework raised (a broken %-escape, a bad Content-Length)

/** A framework error in plain terms: the status, our code and a sentence for the client. */
export interface FrameworkProblem {
  status: number
  code: FrameworkCode
  message: string
  /** For `invalid_request`: the schema failure, for surfaces that word it themselves. */
  validation?: FastifyError
}

/** How one surface renders errors: every catalog code, the framework's errors and the unknown. */
export interface ErrorShape {
  /** Every catalog code (declared `satisfies ErrorMapping`, or built complete by `byKind`). */
  codes: ErrorMapping
  /** A framework error. */
  framework(problem: FrameworkProblem, req: FastifyRequest): Rendered
  /** An error nobody expected: 500 with the request id as error id (the log has the stack). */
  internal(errorId: string, req: FastifyRequest): Rendered
  /** Errors of the surface's own that are not in the catalog (checked first). */
  local?(err: Error, req: FastifyRequest): Rendered | undefined
  /** How a schema failure is worded (default `describeValidation`). */
  describeValidation?(err: FastifyError): string
}

/** The parsers' own codes (src/http/body-parsers.ts): bodies refused with a 400. */
const BODY_CODES = new Set<FrameworkCode>(['invalid_json', 'invalid_utf8', 'invalid_form', 'invalid_body', 'too_deep'])

/**
 * The database's data exceptions that only a client's value can cause (a NUL in text, a number
 * past a column's range, text that is not a uuid): a 400 with a plain sentence, never a 500. Each
 * surface validates what it knows; this is the net under every field it did not think of. The
 * statement failed, so its transaction rolled back and nothing was written.
 */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22021': 'Text must not contain NUL characters',
  '22P05': 'Text must not contain NUL characters',
  '22003': 'A number is out of range',
  '22P02': 'A value is not in the expected format',
}

/** A thrown thing that is not ours: the framework's error in plain terms, or undefined for a 500. */
export function frameworkProblem(err: FastifyError | Error, describe: (e: FastifyError) => string = (e) => describeValidation(e)): FrameworkProblem | undefined {
  const fe = err as FastifyError & { statusCode?: number; code?: string }
  if (fe.validation) return { status: 400, code: 'invalid_request', message: describe(fe), validation: fe }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, code: 'body_too_large', message: 'Request body is too large' }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, code: 'unsupported_media_type', message: 'Unsupported Media Type' }
  if (typeof fe.code === 'string' && BODY_CODES.has(fe.code as FrameworkCode)) return { status: 400, code: fe.code as FrameworkCode, message: fe.message }
  const data = typeof fe.code === 'string' ? DATA_EXCEPTIONS[fe.code] : undefined
  if (data && 'severity' in err) return { status: 400, code: 'bad_request', message: data }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: fe.statusCode === 404 ? 'not_found' : 'bad_request', message: fe.message }
  }
  return undefined
}

/** The rendering of any error on a surface: catalog code, local error, framework error, or a 500. */
export function renderError(shape: ErrorShape, err: FastifyError | Error, req: FastifyRequest): Rendered {
  if (err instanceof AppError) {
    const render = shape.codes[err.code as ErrorCode] as ((e: AppError, r: FastifyRequest) => Rendered) | undefined
    // Only a code forced past the compiler has no entry: a bug, answered as one.
    if (render) return render(err, req)
  }
  const local = shape.local?.(err, req)
  if (local) return local
  const problem = frameworkProblem(err, shape.describeValidation)
  if (problem) return shape.framework(problem, req)
  req.log.error({ err }, 'unhandled error')
  return shape.internal(req.id, req)
}

/** Send a rendered error. Strings go as they are (pre-serialised JSON keeps its key order). */
export function sendRendered(reply: FastifyReply, r: Rendered) {
  if (r.headers) reply.headers(r.headers)
  reply.code(r.status)
  if (r.type) return reply.type(r.type).send(r.body)
  if (typeof r.body === 'string') return reply.type('application/json; charset=utf-8').send(r.body)
  return reply.send(r.body)
}

/**
 * Install a surface's error rendering on its plugin context: every error a route throws, and a 404
 * for unknown routes under the context's prefix when `notFound` is set. The one place the
 * framework errors (validation, 413, 415, bad JSON or UTF-8, unknown → 500 with an error id) are
 * told apart; surfaces only say how their answers look.
 */
export function registerErrorHandling(app: FastifyInstance, shape: ErrorShape, opts: { notFound?: boolean } = {}): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => sendRendered(reply, renderError(shape, err, req)))
  if (opts.notFound) {
    app.setNotFoundHandler((req, reply) => sendRendered(reply, shape.framework(notFoundProblem(req), req)))
  }
}

/** The 404 of an unknown route (the path without its query string, which may hold credentials). */
export function notFoundProblem(req: FastifyRequest): FrameworkProblem {
  return { status: 404, code: 'not_found', message: `Route ${req.method}:${req.url.split('?')[0]} not found` }
}

/** A problem as `{"message"}`: the common shape of the Cass-style surfaces. */
export function messageBody(problem: { status: number; message: string }): Rendered {
  return { status: problem.status, body: { message: problem.message } }
}

/** The 500 as `{"message", "error_id"}`. */
export function internalMessage(errorId: string): Rendered {
  return { status: 500, body: { message: 'Internal Server Error', error_id: errorId } }
}

/**
 * The `frameworkErrors` option of Fastify (errors before routing, e.g. a path with a broken
 * %-escape), rendered with a surface's shape.
 */
export function frameworkErrorsWith(shape: ErrorShape) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const problem = frameworkProblem(err) ?? { status: 400, code: 'bad_request' as const, message: err.message }
    void sendRendered(reply, shape.framework(problem, req))
  }
}
