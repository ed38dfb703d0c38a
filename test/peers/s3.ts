/**
 * A local S3: a real HTTP server speaking the object API path-style (`/<bucket>/<key>`: PUT, GET,
 * HEAD, DELETE), keeping objects in memory and checking requests the way S3 does — Signature
 * Version 4 in the Authorization header (with `x-amz-date` within 15 minutes and the body's
 * `x-amz-content-sha256`) or in the query string of a presigned URL (`X-Amz-Expires` honoured,
 * seven days at most) — answering with S3's XML errors (`SignatureDoesNotMatch`, `AccessDenied`
 * "Request has expired", `NoSuchKey`, …). Its own SigV4 code, written from AWS's documentation and
 * not shared with the client, so the two check each other; `verifySigV4` is exported to be tested
 * against AWS's published examples.
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { closeNow, listenLocal } from './listen.ts'

export interface S3PeerOptions {
  bucket?: string
  region?: string
  accessKeyId?: string
  secretAccessKey?: string
  /** The peer's clock (tests move it to expire presigned URLs). */
  now?: () => Date
}

/** One stored object. */
export interface PeerObject {
  body: Buffer
  contentType: string
}

/** A request as SigV4 sees it. */
export interface SignedRequestParts {
  method: string
  /** The path as sent (still %-encoded). */
  path: string
  /** The query string as sent, without `?`. */
  query: string
  /** Lowercase header names. */
  headers: Record<string, string | undefined>
}

/** Why a request is refused, as S3 says it; undefined when the signature holds. */
export interface SigV4Failure { status: number; code: string; message: string }

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()
const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
const parseAmzDate = (s: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined
}

/**
 * Check a request's SigV4 signature (header or query form) against `secrets` (access key id →
 * secret) at time `now`; `bodyHash` is the hex SHA-256 of the body received.
 */
export function verifySigV4(req: SignedRequestParts, secrets: Record<string, string>, region: string, now: Date, bodyHash: string): SigV4Failure | undefined {
  const params = new URLSearchParams(req.query)
  const presigned = params.has('X-Amz-Signature')
  let credential: string, signedHeaders: string, signature: string, date: string, payloadHash: string
  if (presigned) {
    if (params.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { status: 400, code: 'AuthorizationQueryParametersError', message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"' }
    credential = params.get('X-Amz-Credential') ?? ''
    signedHeaders = params.get('X-Amz-SignedHeaders') ?? ''
    signature = params.get('X-Amz-Signature') ?? ''
    date = params.get('X-Amz-Date') ?? ''
    payloadHash = 'UNSIGNED-PAYLOAD'
    const expires = Number(params.get('X-Amz-Expires'))
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) return { status: 400, code: 'AuthorizationQueryParametersError', message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800' }
    const start = parseAmzDate(date)
    if (!start) return { status: 400, code: 'AuthorizationQueryParametersError', message: 'X-Amz-Date must be in the ISO8601 Long Format' }
    if (now.getTime() > start.getTime() + expires * 1000) return { status: 403, code: 'AccessDenied', message: 'Request has expired' }
  } else {
    const auth = req.headers.authorization
    if (!auth) return { status: 403, code: 'AccessDenied', message: 'Access Denied' }
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) return { status: 400, code: 'AuthorizationHeaderMalformed', message: 'The authorization header is malformed' }
    ;[, credential, signedHeaders, signature] = m as unknown as [string, string, string, string]
    date = req.headers['x-amz-date'] ?? ''
    payloadHash = req.headers['x-amz-content-sha256'] ?? ''
    const at = parseAmzDate(date)
    if (!at) return { status: 403, code: 'AccessDenied', message: 'AWS authentication requires a valid Date or x-amz-date header' }
    if (Math.abs(now.getTime() - at.getTime()) > 15 * 60_000) return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' }
    if (!payloadHash) return { status: 400, code: 'InvalidRequest', message: 'Missing required header for this request: x-amz-content-sha256' }
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== bodyHash) return { status: 400, code: 'XAmzContentSHA256Mismatch', message: 'The provided \'x-amz-content-sha256\' header does not match what was computed.' }
  }
  const [keyId, day, credRegion, service, terminator] = credential.split('/')
  const secret = keyId === undefined ? undefined : secrets[keyId]
  if (secret === undefined) return { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' }
  if (day !== date.slice(0, 8) || credRegion !== region || service !== 's3' || terminator !== 'aws4_request') {
    return { status: 400, code: 'AuthorizationHeaderMalformed', message: `The authorization header is malformed; the region '${credRegion}' is wrong; expecting '${region}'` }
  }
  const names = signedHeaders.split(';')
  if (!names.includes('host')) return { status: 400, code: 'AuthorizationHeaderMalformed', message: 'host must be a signed header' }
  // Every header S3 requires to be signed must be: the date and the content hash in header form.
  if (!presigned && (!names.includes('x-amz-date') || !names.includes('x-amz-content-sha256'))) return { status: 403, code: 'SignatureDoesNotMatch', message: 'x-amz-date and x-amz-content-sha256 must be signed' }
  const canonicalQuery = [...params].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&')
  const canonicalHeaders = names.map((n) => `${n}:${(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('')
  const canonicalRequest = [req.method, req.path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n')
  const stringToSign = ['AWS4-HMAC-SHA256', date, `${day}/${region}/s3/aws4_request`, hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, day!), region), 's3'), 'aws4_request')
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex')
  if (expected !== signature) return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' }
  return undefined
}

function xmlError(res: ServerResponse, status: number, code: string, message: string, method: string) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>peer</RequestId></Error>`
  res.writeHead(status, { 'content-type': 'application/xml' })
  res.end(method === 'HEAD' ? undefined : body)
}

/** The local S3 server; `url` is its endpoint (path-style). */
export class S3Peer {
  readonly bucket: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** The bucket's objects by key. */
  readonly objects = new Map<string, PeerObject>()
  /** Every request received: method, key and the answer's status. */
  readonly requests: Array<{ method: string; key: string; status: number }> = []
  url = ''
  readonly #server: Server
  readonly #now: () => Date

  constructor(options: S3PeerOptions = {}) {
    this.bucket = options.bucket ?? 'switchboard-test'
    this.region = options.region ?? 'eu-central-1'
    this.accessKeyId = options.accessKeyId ?? 'AKIDPEER0000EXAMPLE'
    this.secretAccessKey = options.secretAccessKey ?? 'peer/secret/key/EXAMPLEKEY0123456789abcd'
    this.#now = options.now ?? (() => new Date())
    this.#server = createServer((req, res) => void this.#handle(req, res))
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    await closeNow(this.#server)
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET'
    const [rawPath = '/', query = ''] = (req.url ?? '/').split('?', 2) as [string, string?]
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const segments = rawPath.split('/')
    const bucket = decodeURIComponent(segments[1] ?? '')
    const key = segments.slice(2).map(decodeURIComponent).join('/')
    const answer = (status: number) => this.requests.push({ method, key, status })
    if (bucket !== this.bucket) {
      answer(404)
      return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', method)
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]))
    const failure = verifySigV4({ method, path: rawPath, query, headers }, { [this.accessKeyId]: this.secretAccessKey }, this.region, this.#now(), hex(body))
    if (failure) {
      answer(failure.status)
      return xmlError(res, failure.status, failure.code, failure.message, method)
    }
    const stored = this.objects.get(key)
    switch (method) {
      case 'PUT':
        this.objects.set(key, { body, contentType: req.headers['content-type'] ?? 'binary/octet-stream' })
        answer(200)
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` })
        return res.end()
      case 'GET':
      case 'HEAD':
        if (!stored) {
          answer(404)
          return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.', method)
        }
        answer(200)
        res.writeHead(200, { 'content-type': stored.contentType, 'content-length': String(stored.body.length) })
        return res.end(method === 'GET' ? stored.body : undefined)
      case 'DELETE':
        this.objects.delete(key)
        answer(204)
        res.writeHead(204)
        return res.end()
      default:
        answer(405)
        return xmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', method)
    }
  }
}
