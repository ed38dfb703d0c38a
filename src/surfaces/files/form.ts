import type { Readable } from 'node:stream'
import { ValidationError } from '../../core/errors.ts'

/** A parsed `multipart/form-data` upload: the text fields (names lowercased) and the file. */
export interface UploadForm {
  readonly fields: ReadonlyMap<string, string>
  readonly file: Buffer
}

/** Room for the form's text fields and part headers beyond the file itself. */
export const FORM_OVERHEAD = 64 * 1024
const MAX_PARTS = 20

const bad = (why: string, field?: string) => new ValidationError('invalid_upload_form', why, field !== undefined ? { field } : {})

/** The boundary of a `multipart/form-data` Content-Type, or a refusal. */
export function boundaryOf(contentType: string | undefined): string {
  const m = contentType ? /^\s*multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType) : null
  const boundary = m?.[1] ?? m?.[2]
  if (!boundary) throw bad('The upload must be multipart/form-data with a boundary (curl -F key=value … -F file=@name), or a PUT of the bytes to /files/<key>')
  return boundary
}

/** Read a request body into memory, refusing (`file_too_large`, a 413) past `limit` bytes. */
export async function readLimited(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) throw new ValidationError('file_too_large', `The upload is larger than the limit of ${limit - FORM_OVERHEAD} bytes`, { maxBytes: limit - FORM_OVERHEAD })
    chunks.push(buf)
  }
  return Buffer.concat(chunks, size)
}

/**
 * Parse a `multipart/form-data` body as S3's presigned POST takes it: text fields, then the file
 * in the field `file` (fields after it are ignored, as S3 does). Field names are matched without
 * regard to case; a field given twice is refused.
 */
export function parseUploadForm(body: Buffer, boundary: string): UploadForm {
  const delimiter = Buffer.from(`--${boundary}`)
  const fields = new Map<string, string>()
  let pos = body.indexOf(delimiter)
  if (pos < 0) throw bad('The form has no part with its boundary')
  for (let parts = 0; parts < MAX_PARTS; parts++) {
    pos += delimiter.length
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break // `--`: the closing delimiter
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw bad('A form boundary is not followed by a line break')
    pos += 2
    const headerEnd = body.indexOf('\r\n\r\n', pos)
    if (headerEnd < 0 || headerEnd - pos > 4096) throw bad('A form part has no end of its headers')
    const headers = body.subarray(pos, headerEnd).toString('latin1')
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1]
    const name = disposition ? /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] : undefined
    if (name === undefined) throw bad('A form part has no Content-Disposition: form-data; name="…"')
    const start = headerEnd + 4
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start)
    if (next < 0) throw bad('A form part has no closing boundary (the body was cut short?)', name)
    const value = body.subarray(start, next)
    const key = name.toLowerCase()
    if (key === 'file') return { fields, file: value }
    if (fields.has(key)) throw bad(`The form field ${name} is given twice`, name)
    if (value.length > 2048) throw bad(`The form field ${name} is too long`, name)
    fields.set(key, value.toString('utf8'))
    pos = next + 2
  }
  throw bad('The form has no file: add it last, as the field "file" (curl -F file=@name)', 'file')
}
