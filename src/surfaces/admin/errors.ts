import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { describeValidation } from '../../http/validation.ts'
import { AppError, AuthError, ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts'

/** The realm a client is told to authenticate in. */
export const REALM = 'Switchboard admin'


function statusOf(err: FastifyError | AppError | Error): [number, string, string] | undefined {
  if (err instanceof AuthError) return [401, 'unauthorized', 'Unauthorized']
  if (err instanceof ValidationError) return [400, err.code, err.message]
  if (err instanceof NotFoundError) return [404, err.code, err.message]
  if (err instanceof ConflictError) return [409, err.code, err.message]
  const fe = err as FastifyError
  if (fe.validation) return [400, 'invalid_request', describeValidation(fe)]
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return [413, 'body_too_large', 'Request body is too large']
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return [415, 'unsupported_media_type', 'Content-Type must be application/json']
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return [fe.statusCode, 'invalid_request', fe.message]
  return undefined
}

/** Errors of the admin API: `{"message", "code"}` with a documented status; never internals. */
export function handleAdminError(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  const mapped = statusOf(err)
  if (!mapped) {
    req.log.error({ err }, 'unhandled error')
    return reply.code(500).send({ message: 'Internal Server Error', error_id: req.id })
  }
  const [status, code, message] = mapped
  if (status === 401) reply.header('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
  return reply.code(status).send({ message, code })
}
