import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { verifyJwt } from './jwt.ts'
import { closeNow, listenLocal } from './listen.ts'


/** A browser-side subscription the peer holds the private key of. */
export interface PeerSubscription {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

/** One push the peer decrypted. */
export interface DecryptedPush {
  id: string
  payload: string
  ttl: string | undefined
  urgency: string | undefined
  topic: string | undefined
  vapid: Record<string, unknown>
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest()

/**
 * A local push service (RFC 8030) standing in for the browser's: it makes subscriptions (a P-256
 * key pair and auth secret per subscription, as a browser does), checks each push's VAPID
 * `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292: ES256 signature by `k`, `aud` = this origin,
 * `exp` within 24 h, `sub` a contact) and DECRYPTS the `aes128gcm` body (RFC 8291) with the
 * subscription's private key. Subscriptions in `gone` answer 410.
 */
export class WebPushPeer {
  readonly pushes: DecryptedPush[] = []
  readonly gone = new Set<string>()
  readonly #subs = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer }>()
  readonly #server: Server
  readonly #vapidPublicKey: string
  url = ''

  constructor(opts: { vapidPublicKey: string }) {
    this.#vapidPublicKey = opts.vapidPublicKey
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks)))
    })
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    await closeNow(this.#server)
  }

  /** A new subscription, as `PushSubscription.toJSON()` gives it. */
  subscribe(): PeerSubscription {
    const id = randomUUID()
    const ecdh = createECDH('prime256v1')
    ecdh.generateKeys()
    const auth = randomBytes(16)
    this.#subs.set(id, { ecdh, auth })
    return { endpoint: `${this.url}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } }
  }

  #handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const fail = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text)
    const m = /^\/push\/([0-9a-f-]+)$/.exec(req.url ?? '')
    const sub = m ? this.#subs.get(m[1]!) : undefined
    if (req.method !== 'POST' || !m || !sub) return fail(404, 'no such subscription')
    if (this.gone.has(m[1]!)) return fail(410, 'subscription expired')
    // VAPID (RFC 8292)
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ''))
    if (!auth) return fail(401, 'missing VAPID authorization')
    if (auth[2] !== this.#vapidPublicKey) return fail(403, 'k is not the application server key')
    const point = Buffer.from(auth[2]!, 'base64url')
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' })
    const jwt = verifyJwt(auth[1]!, 'ES256', key)
    if ('error' in jwt) return fail(403, `VAPID JWT: ${jwt.error}`)
    const now = Date.now() / 1000
    if (jwt.claims.aud !== this.url || typeof jwt.claims.exp !== 'number' || jwt.claims.exp < now || jwt.claims.exp > now + 86_400) return fail(403, 'VAPID claims')
    if (typeof jwt.claims.sub !== 'string' || !/^(mailto:|https:)/.test(jwt.claims.sub)) return fail(403, 'VAPID sub')
    if (req.headers['content-encoding'] !== 'aes128gcm') return fail(415, 'content-encoding must be aes128gcm')
    if (req.headers.ttl === undefined) return fail(400, 'TTL required')
    // aes128gcm (RFC 8188 header, RFC 8291 keys)
    const salt = body.subarray(0, 16)
    const rs = body.readUInt32BE(16)
    const idlen = body[20]!
    const asPublic = body.subarray(21, 21 + idlen)
    const record = body.subarray(21 + idlen)
    if (idlen !== 65 || record.length > rs) return fail(400, 'bad aes128gcm header')
    let plain: Buffer
    try {
      const secret = sub.ecdh.computeSecret(asPublic)
      const prkKey = hmac(sub.auth, secret)
      const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), sub.ecdh.getPublicKey(), asPublic, Buffer.from([1])]))
      const prk = hmac(salt, ikm)
      const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16)
      const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12)
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
      decipher.setAuthTag(record.subarray(record.length - 16))
      const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()])
      let end = padded.length - 1
      while (end >= 0 && padded[end] === 0) end--
      if (padded[end] !== 2) throw new Error('no last-record delimiter')
      plain = padded.subarray(0, end)
    } catch (err) {
      return fail(400, `cannot decrypt: ${(err as Error).message}`)
    }
    const id = randomUUID()
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
    this.pushes.push({ id, payload: plain.toString('utf8'), ttl: header('ttl'), urgency: header('urgency'), topic: header('topic'), vapid: jwt.claims })
    res.writeHead(201, { location: `${this.url}/message/${id}` }).end()
  }
}
