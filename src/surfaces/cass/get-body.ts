import type { FastifyRequest } from 'fastify'
import { BODY_MEDIA_TYPES, BodyError, isFormBody, JSON_PARAMS, markParams, parseBody, type BodyMediaType } from '../../http/body-parsers.ts'

function readRaw(req: FastifyRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return reject(new BodyError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413))
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      req.raw.removeListener('data', onData)
      req.raw.removeListener('end', onEnd)
      req.raw.removeListener('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        stop()
        reject(new BodyError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413))
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => {
      stop()
      reject(new BodyError('invalid_body', err.message))
    }
    req.raw.on('data', onData)
    req.raw.on('end', onEnd)
    req.raw.on('error', onError)
    req.raw.resume()
  })
}

/** A GET that announces a body (a length above zero, or chunked). */
export function hasGetBody(req: FastifyRequest): boolean {
  if (req.method !== 'GET') return false
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Fastify does not parse the body of a GET, but Cass callers may send their parameters as a JSON or
 * form body on GET too ("GET or POST", `Content-Type: application/json`). Read it with the same
 * rules as other bodies (UTF-8, size limit, JSON, form or JSON-as-text) and merge its fields over the
 * query string, so that the route's query schema validates them and credentials in it count.
 * A body without a content type is ignored; one of another type is refused (415).
 */
export async function mergeGetBody(req: FastifyRequest): Promise<void> {
  if (!hasGetBody(req)) return
  const buf = await readRaw(req, req.routeOptions.bodyLimit ?? 1024 * 1024)
  const contentType = req.headers['content-type']
  if (buf.length === 0 || contentType === undefined) return
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase()
  if (!(BODY_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw new BodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type', 415)
  }
  const body = parseBody(mediaType as BodyMediaType, buf)
  if (body === undefined) return
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BodyError('invalid_body', 'Invalid body: must be object')
  // Spread defines own properties, so a "__proto__" key stays a plain (unknown) parameter.
  const merged = { ...(req.query as object), ...(body as object) }
  // JSON values are validated as they are (no coercion); a form's are texts like the query's.
  req.query = isFormBody(body) ? merged : markParams(merged, JSON_PARAMS)
}
