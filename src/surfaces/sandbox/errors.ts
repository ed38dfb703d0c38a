import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { describeValidation } from '../../http/validation.ts'
import { AppError, AuthError, ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts'
import { REALM } from './auth.ts'
import { renderError } from './page.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Render errors of this route as a small HTML page instead of JSON. */
    sandboxHtml?: boolean
  }
}


function statusOf(err: FastifyError | AppError | Error): [number, string] | undefined {
  if (err instanceof AuthError) return [401, 'Unauthorized']
  if (err instanceof ValidationError) return [400, err.message]
  if (err instanceof NotFoundError) return [404, err.message]
  if (err instanceof ConflictError) return [409, err.message]
  if (err instanceof AppError && err.code === 'bad_form_token') return [403, err.message]
  const fe = err as FastifyError
  if (fe.validation) return [400, describeValidation(fe)]
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return [413, 'Request body is too large']
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return [415, 'Unsupported Media Type']
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return [fe.statusCode, fe.message]
  return undefined
}

/** Errors of the sandbox: `{"message": ...}` (or a small HTML page for the page's routes), never internals. */
export function handleSandboxError(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  let mapped = statusOf(err)
  if (!mapped) {
    req.log.error({ err }, 'unhandled error')
    mapped = [500, `Internal Server Error (error id ${req.id})`]
  }
  const [status, message] = mapped
  // The challenge makes a browser prompt for the tenant's client and token.
  if (status === 401) reply.header('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
  if (req.routeOptions.config.sandboxHtml) {
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderError(status, message))
  }
  return reply.code(status).send(status === 500 ? { message: 'Internal Server Error', error_id: req.id } : { message })
}
