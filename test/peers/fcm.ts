import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomUUID, type KeyObject } from 'node:crypto'
import { verifyJwt } from './jwt.ts'
import { closeNow, listenLocal } from './listen.ts'

/** One message the peer accepted. */
export interface FcmMessage {
  project: string
  message: Record<string, unknown>
}

/**
 * A local Google OAuth token endpoint plus FCM HTTP v1: `POST /token` takes the JWT bearer grant,
 * verifies the assertion's RS256 signature with the service account's public key and its claims
 * (iss, scope, aud = this token URI, exp), and issues an access token; `POST
 * /v1/projects/{p}/messages:send` checks the bearer token and the message shape (a token,
 * notification, string-only data) and answers `{name}` or Google's error JSON with an FcmError
 * `errorCode`. Tokens in `unregistered` answer 404 UNREGISTERED; `failNext` queues errors.
 */
export class FcmPeer {
  readonly messages: FcmMessage[] = []
  readonly unregistered = new Set<string>()
  readonly failNext: Array<{ status: number; errorCode: string; retryAfter?: string }> = []
  tokensIssued = 0
  readonly #tokens = new Set<string>()
  readonly #server: Server
  readonly #opts: { clientEmail: string; publicKey: KeyObject; project: string }
  url = ''

  constructor(opts: { clientEmail: string; publicKey: KeyObject; project: string }) {
    this.#opts = opts
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks).toString('utf8')))
    })
  }

  get tokenUri(): string {
    return `${this.url}/token`
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    await closeNow(this.#server)
  }

  /** Forget issued access tokens (as if they were revoked). */
  revokeTokens(): void {
    this.#tokens.clear()
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body))
  }

  #error(res: ServerResponse, status: number, errorCode: string, message: string, headers: Record<string, string> = {}) {
    const googleStatus: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' }
    this.#json(res, status, {
      error: { code: status, message, status: googleStatus[status] ?? 'UNKNOWN', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] },
    }, headers)
  }

  #handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? '/', this.url)
    if (req.method === 'POST' && url.pathname === '/token') {
      const form = new URLSearchParams(body)
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return this.#json(res, 400, { error: 'unsupported_grant_type' })
      const jwt = verifyJwt(form.get('assertion') ?? '', 'RS256', this.#opts.publicKey)
      if ('error' in jwt) return this.#json(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT Signature (${jwt.error})` })
      const { claims } = jwt
      const now = Date.now() / 1000
      if (claims.iss !== this.#opts.clientEmail || claims.aud !== this.tokenUri || typeof claims.scope !== 'string' || !claims.scope.split(' ').includes('https://www.googleapis.com/auth/firebase.messaging')) {
        return this.#json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT claims' })
      }
      if (typeof claims.exp !== 'number' || claims.exp < now || (claims.exp as number) - (claims.iat as number) > 3600) return this.#json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: expired or too long' })
      const token = `ya29.${randomUUID()}`
      this.#tokens.add(token)
      this.tokensIssued++
      return this.#json(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' })
    }
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname)
    if (req.method !== 'POST' || !send) return this.#error(res, 404, 'UNSPECIFIED_ERROR', 'not found')
    const auth = req.headers.authorization ?? ''
    if (!auth.startsWith('Bearer ') || !this.#tokens.has(auth.slice(7))) return this.#error(res, 401, 'THIRD_PARTY_AUTH_ERROR', 'Request had invalid authentication credentials.')
    if (decodeURIComponent(send[1]!) !== this.#opts.project) return this.#error(res, 403, 'SENDER_ID_MISMATCH', 'wrong project')
    let parsed: { message?: Record<string, unknown> }
    try {
      parsed = JSON.parse(body)
    } catch {
      return this.#error(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')
    }
    const message = parsed.message
    if (!message || typeof message.token !== 'string') return this.#error(res, 400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token')
    const data = message.data as Record<string, unknown> | undefined
    if (data && Object.values(data).some((v) => typeof v !== 'string')) return this.#error(res, 400, 'INVALID_ARGUMENT', 'Invalid value at \'message.data\': expected string')
    const fault = this.failNext.shift()
    if (fault) return this.#error(res, fault.status, fault.errorCode, 'injected', fault.retryAfter ? { 'retry-after': fault.retryAfter } : {})
    if (this.unregistered.has(message.token)) return this.#error(res, 404, 'UNREGISTERED', 'Requested entity was not found.')
    this.messages.push({ project: send[1]!, message })
    this.#json(res, 200, { name: `projects/${send[1]}/messages/${randomUUID()}` })
  }
}
