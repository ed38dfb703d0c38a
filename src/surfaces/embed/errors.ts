import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, AuthError, NotFoundError, ValidationError } from '../../core/errors.ts'
import { pageHeaders, renderEmbedError } from './page.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Render errors of this route as a friendly HTML page instead of JSON. */
    embedHtml?: boolean
  }
}

/** A request over a rate limit (429 with Retry-After). */
export class RateLimitedError extends AppError<{ retryAfter: number }> {}

/** Page parameter → what the friendly page says about a bad value. */
const PARAM_TEXT: Record<string, string> = {
  auth_code: 'The chat link has no auth_code. Ask the organisation for its embed code.',
  color: 'The color parameter must be a hex colour without “#”, like 228fb1.',
  avatar: 'The avatar parameter must be an http or https address of an image.',
  is_rounded: 'is_rounded must be true or false.',
  show_header: 'show_header must be true or false.',
}

function validationParam(err: FastifyError): string | undefined {
  const first = err.validation?.[0]
  if (!first) return undefined
  if (first.keyword === 'required') return String((first.params as { missingProperty?: string }).missingProperty)
  if (first.keyword === 'additionalProperties') return String((first.params as { additionalProperty?: string }).additionalProperty)
  return first.instancePath.replace(/^\//, '').split('/')[0]
}

/** A schema failure as one sentence: "text must NOT have more than 2000 characters". */
function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0]
  const param = validationParam(err)
  if (!first || !param) return 'Invalid request'
  if (first.keyword === 'required') return `${param} is required`
  if (first.keyword === 'additionalProperties') return `Unknown parameter ${param}`
  return `${param} ${first.message ?? 'is invalid'}`
}

interface Mapped { status: number; message: string; title: string; text: string }

function mapError(err: FastifyError | AppError | Error): Mapped | undefined {
  const fe = err as FastifyError
  if (err instanceof RateLimitedError) return { status: 429, message: 'Too many requests; try again shortly', title: 'Please wait a moment', text: 'There were too many requests from your network. Try again in a minute.' }
  if (err instanceof AuthError) return { status: 401, message: err.message, title: 'Session expired', text: 'Reload the page to start again.' }
  if (err instanceof NotFoundError) {
    if (err.code === 'embed_not_found') return { status: 404, message: 'Unknown company or auth_code', title: 'Chat not available', text: 'This chat link is not valid: the company or its auth_code is wrong. Ask the organisation for a current link.' }
    if (err.code === 'person_not_found' || err.code === 'person_not_in_tenant') return { status: 404, message: 'Unknown personId', title: 'Chat not available', text: 'This chat link names a person this organisation does not know. Ask the organisation for a current link.' }
    return { status: 404, message: err.message, title: 'Not found', text: err.message }
  }
  if (err instanceof ValidationError) {
    if (err.code === 'thread_not_found') return { status: 400, message: `Unknown threadId ${String(err.details.threadName)}`, title: 'Chat not available', text: 'This chat link starts a conversation that does not exist (threadId). Ask the organisation for a current link.' }
    return { status: 400, message: err.message, title: 'Invalid chat link', text: err.message }
  }
  if (fe.validation) {
    const param = validationParam(fe) ?? ''
    return { status: 400, message: describeValidation(fe), title: 'Invalid chat link', text: (Object.hasOwn(PARAM_TEXT, param) ? PARAM_TEXT[param] : undefined) ?? `The chat link has an invalid ${param || 'parameter'}.` }
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, message: 'Request body is too large', title: 'Too large', text: 'The request is too large.' }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return { status: fe.statusCode, message: fe.message, title: 'Bad request', text: fe.message }
  return undefined
}

/** Errors of the embed: `{"message"}` for its JSON API, a friendly HTML page for the chat page. */
export function handleEmbedError(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  const mapped = mapError(err) ?? (() => {
    req.log.error({ err }, 'unhandled error')
    return { status: 500, message: 'Internal Server Error', title: 'Something went wrong', text: `Please try again later (error id ${req.id}).` }
  })()
  if (err instanceof RateLimitedError) reply.header('retry-after', String(err.details.retryAfter))
  if (req.routeOptions.config.embedHtml) {
    return reply.code(mapped.status).headers(pageHeaders()).send(renderEmbedError(mapped.status, mapped.title, mapped.text))
  }
  return reply.code(mapped.status).send(mapped.status === 500 ? { message: mapped.message, error_id: req.id } : { message: mapped.message })
}
