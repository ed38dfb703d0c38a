import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { KeyObject } from 'node:crypto'
import { verifyJwt } from './jwt.ts'
import { selfSignedCertificate } from './tls.ts'

/** One push the peer accepted. */
export interface ApnsPush {
  deviceToken: string
  headers: Record<string, string>
  payload: Record<string, unknown>
  jwt: string
}

/**
 * A local APNs (HTTP/2 over TLS, self-signed): checks `POST /3/device/{token}` the way Apple does —
 * a bearer JWT signed ES256 with the team's key (`kid`, `iss`, `iat` under an hour old), the topic,
 * the push type, a JSON payload with `aps` of at most 4 KB — and answers with Apple's statuses and
 * `{"reason"}` bodies. Tokens in `unregistered` answer 410, in `bad` 400 BadDeviceToken; `failNext`
 * queues answers (429, 500…) before recovering.
 */
export class ApnsPeer {
  readonly cert = selfSignedCertificate()
  readonly pushes: ApnsPush[] = []
  readonly unregistered = new Set<string>()
  readonly bad = new Set<string>()
  readonly failNext: Array<{ status: number; reason: string }> = []
  /** Every request, accepted or not. */
  requests = 0
  /** HTTP/2 sessions (TLS connections) opened: pushes share one. */
  sessions = 0
  readonly #server: http2.Http2SecureServer
  readonly #opts: { teamId: string; keyId: string; topic: string; publicKey: KeyObject }
  url = ''

  constructor(opts: { teamId: string; keyId: string; topic: string; publicKey: KeyObject }) {
    this.#opts = opts
    this.#server = http2.createSecureServer({ key: this.cert.key, cert: this.cert.cert })
    this.#server.on('session', () => this.sessions++)
    this.#server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => this.#answer(stream, headers, Buffer.concat(chunks)))
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #answer(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) {
    this.requests++
    const reply = (status: number, reason?: string, extra: Record<string, string> = {}) => {
      const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : '00000000-0000-4000-8000-000000000000'
      stream.respond({ ':status': status, 'apns-id': apnsId, ...extra })
      stream.end(reason ? JSON.stringify({ reason, ...(status === 410 ? { timestamp: Date.now() } : {}) }) : undefined)
    }
    const path = String(headers[':path'] ?? '')
    const match = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(path)
    if (headers[':method'] !== 'POST' || !match) return reply(404, 'BadPath')
    const auth = String(headers.authorization ?? '')
    if (!auth.startsWith('bearer ')) return reply(403, 'MissingProviderToken')
    const jwt = verifyJwt(auth.slice(7), 'ES256', this.#opts.publicKey)
    if ('error' in jwt || jwt.header.kid !== this.#opts.keyId || jwt.claims.iss !== this.#opts.teamId) return reply(403, 'InvalidProviderToken')
    const iat = Number(jwt.claims.iat)
    if (!Number.isInteger(iat) || Date.now() / 1000 - iat > 3600) return reply(403, 'ExpiredProviderToken')
    if (headers['apns-topic'] !== this.#opts.topic) return reply(400, headers['apns-topic'] ? 'DeviceTokenNotForTopic' : 'MissingTopic')
    if (!headers['apns-push-type']) return reply(400, 'InvalidPushType')
    const priority = headers['apns-priority']
    if (priority !== undefined && !['10', '5', '1'].includes(String(priority))) return reply(400, 'BadPriority')
    if (body.length === 0) return reply(400, 'PayloadEmpty')
    if (body.length > 4096) return reply(413, 'PayloadTooLarge')
    let payload: Record<string, unknown>
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch {
      return reply(400, 'BadPayload')
    }
    if (!payload.aps || typeof payload.aps !== 'object') return reply(400, 'BadPayload')
    const deviceToken = match[1]!
    const fault = this.failNext.shift()
    if (fault) return reply(fault.status, fault.reason, fault.status === 429 ? { 'retry-after': '1' } : {})
    if (this.bad.has(deviceToken)) return reply(400, 'BadDeviceToken')
    if (this.unregistered.has(deviceToken)) return reply(410, 'Unregistered')
    const plain: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && typeof v === 'string') plain[k] = v
    this.pushes.push({ deviceToken, headers: plain, payload, jwt: auth.slice(7) })
    reply(200)
  }
}
