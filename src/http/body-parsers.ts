import type { FastifyInstance } from 'fastify'
import { jsonTooDeep, MAX_BODY_DEPTH } from './nesting.ts'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** An error a parser raises for a body it cannot accept; surfaces render it in their shape. */
export class BodyError extends Error {
  readonly statusCode: number
  readonly code: string
  constructor(code: string, message: string, statusCode = 400) {
    super(message)
    this.code = code
    this.statusCode = statusCode
  }
}

function decode(body: Buffer): string {
  try {
    return utf8.decode(body)
  } catch {
    throw new BodyError('invalid_utf8', 'Request body is not valid UTF-8')
  }
}

/** A `%` not followed by two hex digits, or %-escapes that do not decode to UTF-8. */
function badEscapes(text: string): boolean {
  if (!text.includes('%')) return false
  try {
    decodeURIComponent(text.replace(/\+/g, ' '))
    return false
  } catch {
    return true
  }
}

/**
 * Marks a body parsed from a form: its values are all texts, so the request schema may coerce
 * them (`"5"` → 5) as it does a query string's. A JSON body has no mark and is taken as typed.
 */
export const FORM_BODY: unique symbol = Symbol('form body')

/**
 * Marks query parameters that a JSON body was merged into (a Cass GET with a JSON body): validated
 * without coercion like any JSON body.
 */
export const JSON_PARAMS: unique symbol = Symbol('json params')

/** Mark an object of parameters (see FORM_BODY, JSON_PARAMS). */
export function markParams<T extends object>(params: T, mark: typeof FORM_BODY | typeof JSON_PARAMS): T {
  Object.defineProperty(params, mark, { value: true, enumerable: false })
  return params
}

/** Whether parameters carry JSON values (see JSON_PARAMS). */
export function hasJsonParams(params: unknown): boolean {
  return params !== null && typeof params === 'object' && (params as { [JSON_PARAMS]?: true })[JSON_PARAMS] === true
}

/** Whether a parsed body came from a form (see FORM_BODY). */
export function isFormBody(body: unknown): boolean {
  return body !== null && typeof body === 'object' && (body as { [FORM_BODY]?: true })[FORM_BODY] === true
}

/**
 * Parse `application/x-www-form-urlencoded` into a flat object; a repeated key keeps its last
 * value. Broken %-escapes are refused rather than stored as U+FFFD.
 */
export function parseForm(text: string): Record<string, string> {
  if (badEscapes(text)) throw new BodyError('invalid_form', 'Malformed form body: invalid percent-encoding')
  const out: Record<string, string> = Object.create(null)
  for (const [k, v] of new URLSearchParams(text)) out[k] = v
  return markParams({ ...out }, FORM_BODY)
}

/** The media types whose bodies the APIs accept. */
export const BODY_MEDIA_TYPES = ['application/json', 'application/vnd.api+json', 'application/x-www-form-urlencoded', 'text/plain'] as const
export type BodyMediaType = (typeof BODY_MEDIA_TYPES)[number]

/**
 * Parse a request body of one of the accepted media types: UTF-8 strictly; JSON (text/plain too:
 * some legacy clients post JSON so); forms strictly %-decoded. An empty body is no body (undefined).
 * Throws BodyError `invalid_utf8`, `invalid_json`, `too_deep` or `invalid_form`.
 */
export function parseBody(mediaType: BodyMediaType, buf: Buffer): unknown {
  if (buf.length === 0) return undefined
  const text = decode(buf)
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(text)
  if (mediaType === 'text/plain' && text.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new BodyError('invalid_json', 'Malformed JSON body')
  }
  // Checked on valid JSON only (the scan trusts its quoting), before anything recursive touches it.
  if (jsonTooDeep(text)) throw new BodyError('too_deep', `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`)
  return parsed
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain'])
  for (const mediaType of BODY_MEDIA_TYPES) {
    app.addContentTypeParser(mediaType, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, parseBody(mediaType, body as Buffer))
      } catch (err) {
        done(err as Error, undefined)
      }
    })
  }
}
