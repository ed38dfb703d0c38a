import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { describeValidation } from '../../http/validation.ts'
import { AppError } from '../../core/errors.ts'

/**
 * Which documented wording an endpoint uses: the legacy `add_external_person` (`{"auth": ...}` on
 * 401, field-tagged phone errors), person creation on `/external_person`, or everything else.
 */
export type ErrorVariant = 'add' | 'create' | 'default' | 'notifications'

declare module 'fastify' {
  interface FastifyContextConfig {
    cassErrors?: ErrorVariant
  }
}

type Body = Record<string, unknown> & { message: string }

/** Status and body of a core error on the Cass surface, byte-for-byte as `spec/cass.md` lists them. */
export function cassErrorFor(err: AppError, variant: ErrorVariant, client: string): [number, Body] | undefined {
  const d = err.details as Record<string, unknown>
  switch (err.code) {
    case 'missing_client': return [400, { message: 'No client parameter specified' }]
    case 'unknown_client': return [404, { message: 'Client Not Found' }]
    case 'bad_secret':
      return variant === 'add' ? [401, { auth: d.auth ?? null, message: 'Unauthorized' }] : [401, { message: 'Unauthorized' }]
    case 'person_not_found':
      return [404, { message: `Unknown person with id : ${String(d.personId ?? d.externalId ?? '')}` }]
    case 'person_not_in_tenant':
      // The Notification API's text has a colon the other endpoints' lack.
      return [404, { message: variant === 'notifications' ? `Person is not registered to : ${client}` : `Person is not registered to ${client}` }]
    case 'no_notifications': return [400, { message: `No notification scheduled for person : ${String(d.personId ?? '')}` }]
    case 'invalid_phone':
      return variant === 'default'
        ? [400, { message: `Invalid phone number ${String(d.phone)}` }]
        : [400, { phone: d.phone ?? null, message: 'Invalid phone number' }]
    case 'phone_required': return [400, { phone: null, message: 'phone parameter is required' }]
    case 'identifier_required': return [400, { external_id: null, message: 'external_id parameter is required' }]
    case 'person_id_required': return [400, { message: 'person_id parameter is required' }]
    case 'invalid_protocol': return [400, { message: `Invalid protocol ${String(d.protocol)}` }]
    case 'invalid_timezone': return [400, { timezone: d.timezone ?? null, message: `Invalid timezone ${String(d.timezone)}` }]
    case 'thread_not_found': return [400, { thread_name: d.threadName ?? null, message: 'Thread name Not Found' }]
    case 'external_id_taken': return [400, { message: 'External_id already exist' }]
    case 'phone_taken': return [409, { message: 'Phone number already exist' }]
    // The bot (/ping_person, /v2/ping_person, /admin/threads).
    case 'thread_name_required': return [400, { thread_name: null, message: 'thread_name parameter is required' }]
    case 'missing_placeholder': return [400, { message: `Missing placeholder ${String(d.placeholder)}` }]
    case 'invalid_placeholders': return [400, { message: 'placeholders must be an object of texts' }]
    case 'person_unreachable': return [400, { message: `Person has no address for protocol ${String(d.protocol)}` }]
    case 'delivery_failed': return [502, { message: `Message delivery failed: ${String(d.error)}` }]
    case 'invalid_threads': return [400, { message: err.message, errors: d.errors ?? [] }]
    default: return undefined
  }
}


/** Render any error thrown while serving a Cass route: documented shapes, never internals. */
export function handleCassError(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  const variant = req.routeOptions.config.cassErrors ?? 'default'
  if (err instanceof AppError) {
    const mapped = cassErrorFor(err, variant, req.tenant?.cassClient ?? '')
    // Sent pre-serialised so the keys keep the documented order ({"auth": ..., "message": ...}).
    if (mapped) return reply.code(mapped[0]).type('application/json; charset=utf-8').send(JSON.stringify(mapped[1]))
  }
  const fe = err as FastifyError
  if (fe.validation) return reply.code(400).send({ message: describeValidation(fe, { patternMessage: 'must not contain NUL characters' }) })
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ message: 'Request body is too large' })
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ message: 'Unsupported Media Type' })
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send({ message: fe.message })
  }
  req.log.error({ err }, 'unhandled error')
  return reply.code(500).send({ message: 'Internal Server Error', error_id: req.id })
}
