import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FileContent, FileInfo } from '../../core/files/index.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import type { Services } from '../../services.ts'
import { FILES_ERROR_SHAPE } from './errors.ts'
import { boundaryOf, FORM_OVERHEAD, parseUploadForm, readLimited } from './form.ts'

/** Media a browser may show in place; anything else downloads, so an uploaded page never runs on our origin. */
const INLINE = /^(image\/(?!svg)|video\/|audio\/)/

/** The upload's answer: what was stored. */
export function presentStored(file: FileInfo) {
  return { key: file.key, size: file.size, content_type: file.contentType }
}

/**
 * The files surface (`/files/<key>`): the local store's signed URLs. `PUT` takes the bytes of an
 * upload URL, `GET` serves a download URL. No credentials: the signature is the authorisation,
 * and the key it covers names the tenant. The key is read from the raw path, so a %-escaped
 * slash or dot never becomes part of a key.
 */
export async function filesSurface(app: FastifyInstance, { services }: { services: Services }) {
  registerErrorHandling(app, FILES_ERROR_SHAPE, { notFound: true })
  // The body is the file: streamed by the route into the store, whatever its type and size (the
  // store enforces the URL's limit), never buffered by a parser.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_req, _payload, done) => done(null))
  const prefix = app.prefix

  const keyOf = (req: FastifyRequest) => req.url.split('?')[0]!.slice(prefix.length + 1)
  const param = (req: FastifyRequest, name: string) => {
    const value = (req.query as Record<string, unknown>)[name]
    return typeof value === 'string' ? value : ''
  }

  app.put('/*', async (req, reply) => {
    const length = req.headers['content-length']
    const stored = await services.files.acceptUpload({
      key: keyOf(req), expires: param(req, 'expires'), maxBytes: param(req, 'max'), signature: param(req, 'signature'),
      contentType: req.headers['content-type'], contentLength: length === undefined ? undefined : Number(length),
      body: req.raw,
    })
    return reply.code(200).send(presentStored(stored))
  })

  // A form upload (the messaging API's upload tickets), as S3's presigned POST: the ticket's fields,
  // then the file as `file`. Held in memory up to the limit, then checked exactly as a PUT is.
  app.post('/', async (req, reply) => {
    const boundary = boundaryOf(req.headers['content-type'])
    const form = parseUploadForm(await readLimited(req.raw, services.files.maxBytes + FORM_OVERHEAD), boundary)
    const field = (name: string) => form.fields.get(name) ?? ''
    const stored = await services.files.acceptUpload({
      key: field('key'), expires: field('expires'), maxBytes: field('max'), signature: field('signature'),
      contentType: form.fields.get('content-type'), contentLength: form.file.length, body: Readable.from([form.file]),
    })
    return reply.code(201).send(presentStored(stored))
  })

  app.get('/*', async (req, reply) => {
    const file = await services.files.openDownload({ key: keyOf(req), expires: param(req, 'expires'), signature: param(req, 'signature') })
    return sendFile(reply, file, Number(param(req, 'expires')))
  })
}

function sendFile(reply: FastifyReply, file: FileContent, expires: number) {
  const maxAge = Math.max(0, Math.floor(expires - Date.now() / 1000))
  return reply
    .header('content-type', file.contentType)
    .header('content-length', String(file.size))
    .header('content-disposition', INLINE.test(file.contentType) ? 'inline' : 'attachment')
    // Whatever the file is, it runs nothing and loads nothing if a browser renders it anyway.
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', `private, max-age=${maxAge}`)
    .send(file.stream)
}
