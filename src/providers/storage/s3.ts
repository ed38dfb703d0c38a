import { createHash, createHmac } from 'node:crypto'
import { Readable } from 'node:stream'

/**
 * An S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …) as a file store, over node's fetch with
 * Signature Version 4 of our own (no SDK): server-side PUT, GET, HEAD and DELETE, and presigned
 * PUT and GET URLs a client uses directly. Knows nothing of core; the composition root adapts it
 * to core's `FileStore` port.
 */

/** Where the bucket is and how to sign for it. */
export interface S3Options {
  /** Base URL of the service, e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio:9000`. */
  readonly endpoint: string
  readonly region: string
  readonly bucket: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** `<endpoint>/<bucket>/<key>` (MinIO and most self-hosted services) instead of `<bucket>.<endpoint host>/<key>`. */
  readonly pathStyle: boolean
  /** Temporary credentials' session token, if any. */
  readonly sessionToken?: string | undefined
  /** The clock (tests move it). */
  readonly now?: () => Date
}

/** An object's facts. */
export interface S3ObjectInfo {
  readonly key: string
  readonly size: number
  readonly contentType: string
}

/** A body refused because it is longer than the limit; nothing was sent to the bucket. */
export class S3ObjectTooLargeError extends Error {
  readonly maxBytes: number
  constructor(maxBytes: number) {
    super(`the object is larger than ${maxBytes} bytes`)
    this.name = 'S3ObjectTooLargeError'
    this.maxBytes = maxBytes
  }
}

/** The service refused a request: its HTTP status and S3 error code (`SignatureDoesNotMatch`, …). */
export class S3Error extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(`S3 ${status} ${code}: ${message}`)
    this.name = 'S3Error'
    this.status = status
    this.code = code
  }
}

const UNSIGNED = 'UNSIGNED-PAYLOAD'
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex')
/** Presigned URLs live at most seven days (SigV4's limit). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600

/** A request to sign: method, URL and the headers to sign (host is added). */
export interface SigV4Request {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string
}

/** Credentials and scope of a signature. */
export interface SigV4Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly region: string
  readonly service: string
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, `/` kept in paths. */
export function awsEncode(text: string, keepSlash = false): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) => {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) return c
    return '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }).join('')
}

const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest()
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
/** `20130524T000000Z`. */
const amzDate = (at: Date) => at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')

/**
 * The signature of a request (Signature Version 4): canonical request → string to sign → HMAC
 * with the key derived from the secret, date, region and service. `url` carries its query string
 * as it will be sent (for presigned URLs: every `X-Amz-*` parameter but the signature).
 */
export function sigV4Signature(req: SigV4Request, creds: SigV4Credentials, at: Date): { signature: string; signedHeaders: string; scope: string } {
  const date = amzDate(at)
  const scope = `${date.slice(0, 8)}/${creds.region}/${creds.service}/aws4_request`
  const headers: Record<string, string> = { host: req.url.host }
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value.trim().replace(/\s+/g, ' ')
  const names = Object.keys(headers).sort()
  const signedHeaders = names.join(';')
  const query = [...req.url.searchParams].map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&')
  const canonical = [
    req.method,
    // The path as sent: keys are encoded once when the URL is built (S3 does not double-encode).
    req.url.pathname,
    query,
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    signedHeaders,
    req.payloadHash,
  ].join('\n')
  const toSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonical)].join('\n')
  let key = hmac(`AWS4${creds.secretAccessKey}`, date.slice(0, 8))
  for (const part of [creds.region, creds.service, 'aws4_request']) key = hmac(key, part)
  return { signature: createHmac('sha256', key).update(toSign, 'utf8').digest('hex'), signedHeaders, scope }
}

/** A URL signed in its query string (a presigned URL), valid `expiresSeconds` from `at`. */
export function presignUrl(method: string, url: URL, creds: SigV4Credentials & { sessionToken?: string | undefined }, at: Date, expiresSeconds: number, headers: Record<string, string> = {}): string {
  const signed = new URL(url)
  const names = ['host', ...Object.keys(headers).map((h) => h.toLowerCase())].sort().join(';')
  signed.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256')
  signed.searchParams.set('X-Amz-Credential', `${creds.accessKeyId}/${amzDate(at).slice(0, 8)}/${creds.region}/${creds.service}/aws4_request`)
  signed.searchParams.set('X-Amz-Date', amzDate(at))
  signed.searchParams.set('X-Amz-Expires', String(expiresSeconds))
  if (creds.sessionToken) signed.searchParams.set('X-Amz-Security-Token', creds.sessionToken)
  signed.searchParams.set('X-Amz-SignedHeaders', names)
  const { signature } = sigV4Signature({ method, url: signed, headers, payloadHash: UNSIGNED }, creds, at)
  signed.searchParams.set('X-Amz-Signature', signature)
  return signed.toString()
}

/** The `<Code>` and `<Message>` of an S3 XML error body. */
function parseError(status: number, body: string): S3Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `Http${status}`
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? body.slice(0, 200)
  return new S3Error(status, code, message)
}

/** Read a stream into memory, refusing it beyond `maxBytes` (S3's PUT needs the length up front). */
async function readLimited(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
    size += buf.length
    if (size > maxBytes) throw new S3ObjectTooLargeError(maxBytes)
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

/** An S3-compatible bucket as a store of objects under the keys it is given. */
export class S3ObjectStore {
  readonly #o: S3Options
  readonly #creds: SigV4Credentials & { sessionToken?: string | undefined }
  readonly #now: () => Date

  constructor(options: S3Options) {
    this.#o = options
    this.#creds = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, region: options.region, service: 's3', sessionToken: options.sessionToken }
    this.#now = options.now ?? (() => new Date())
  }

  /** The object's URL (path-style or virtual-hosted), the key encoded once. */
  objectUrl(key: string): URL {
    const base = new URL(this.#o.endpoint)
    const path = awsEncode(key, true)
    if (this.#o.pathStyle) return new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}/${awsEncode(this.#o.bucket)}/${path}`)
    return new URL(`${base.protocol}//${this.#o.bucket}.${base.host}/${path}`)
  }

  /**
   * Store `body` (read into memory up to `maxBytes`: S3's PUT needs its length and hash before the
   * first byte) under `key`. A body over the limit is refused before anything is sent.
   */
  async put(key: string, body: Readable, options: { contentType: string; maxBytes: number }): Promise<S3ObjectInfo> {
    const bytes = await readLimited(body, options.maxBytes)
    const res = await this.#send('PUT', key, { 'content-type': options.contentType }, bytes)
    if (!res.ok) throw parseError(res.status, await res.text())
    await res.body?.cancel()
    return { key, size: bytes.length, contentType: options.contentType }
  }

  async head(key: string): Promise<S3ObjectInfo | undefined> {
    const res = await this.#send('HEAD', key)
    if (res.status === 404) return undefined
    if (!res.ok) throw new S3Error(res.status, `Http${res.status}`, 'HEAD refused')
    return { key, size: Number(res.headers.get('content-length') ?? 0), contentType: res.headers.get('content-type') ?? 'application/octet-stream' }
  }

  async get(key: string): Promise<(S3ObjectInfo & { stream: Readable }) | undefined> {
    const res = await this.#send('GET', key)
    if (res.status === 404) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok || !res.body) throw parseError(res.status, await res.text())
    return {
      key, size: Number(res.headers.get('content-length') ?? 0), contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
    }
  }

  /** Remove the object; false when there was none (S3's DELETE does not say, so HEAD asks first). */
  async delete(key: string): Promise<boolean> {
    if (!(await this.head(key))) return false
    const res = await this.#send('DELETE', key)
    await res.body?.cancel()
    if (!res.ok) throw new S3Error(res.status, `Http${res.status}`, 'DELETE refused')
    return true
  }

  /** A presigned PUT; the client must send `headers` (the signed Content-Type) with it. */
  presignPut(key: string, options: { contentType: string | undefined; expiresAt: Date }): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = options.contentType ? { 'content-type': options.contentType } : {}
    return { url: presignUrl('PUT', this.objectUrl(key), this.#creds, this.#now(), this.#lifetime(options.expiresAt), headers), headers }
  }

  /** A presigned GET. */
  presignGet(key: string, options: { expiresAt: Date }): string {
    return presignUrl('GET', this.objectUrl(key), this.#creds, this.#now(), this.#lifetime(options.expiresAt))
  }

  #lifetime(expiresAt: Date): number {
    return Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.ceil((expiresAt.getTime() - this.#now().getTime()) / 1000)))
  }

  async #send(method: string, key: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const url = this.objectUrl(key)
    const at = this.#now()
    const payloadHash = body ? sha256Hex(body) : EMPTY_SHA256
    const signedHeaders: Record<string, string> = { ...headers, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate(at) }
    if (this.#creds.sessionToken) signedHeaders['x-amz-security-token'] = this.#creds.sessionToken
    const sig = sigV4Signature({ method, url, headers: signedHeaders, payloadHash }, this.#creds, at)
    const authorization = `AWS4-HMAC-SHA256 Credential=${this.#creds.accessKeyId}/${sig.scope}, SignedHeaders=${sig.signedHeaders}, Signature=${sig.signature}`
    return fetch(url, { method, headers: { ...signedHeaders, authorization }, ...(body ? { body } : {}) })
  }
}
