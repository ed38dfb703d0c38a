import http2 from 'node:http2'
import { vendorHttp, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import {
  assertChannel, badSettings, baseUrl, customPushData, networkError, optionalInteger, optionalString, privateKey, requiredString, signJwt,
  DEFAULT_TIMEOUT_MS,
} from '../support.ts'
import { ProviderError, type OutboundMessage, type PushProvider, type SendResult } from '../types.ts'

const VENDOR = 'apns'
const HOSTS = { production: 'https://api.push.apple.com', sandbox: 'https://api.sandbox.push.apple.com' } as const
/** Apple refuses tokens older than an hour and throttles refreshes more often than every 20 minutes. */
const TOKEN_REFRESH_MS = 50 * 60_000
const MAX_PAYLOAD_BYTES = 4096
const PUSH_TYPES = new Set(['alert', 'background', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'location', 'pushtotalk'])

/** APNs `reason`s that mean the device token is no good for this app: drop it, do not retry. */
const GONE_REASONS = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic', 'Unregistered', 'ExpiredToken'])

function invalidMessage(message: string): ProviderError {
  return new ProviderError('invalid_message', `apns: ${message}`, { retryable: false })
}

/** An APNs error answer as a ProviderError (Apple's documented status codes and reasons). */
export function apnsError(status: number, reason: string | undefined, retryAfter?: number): ProviderError {
  const text = `apns: ${status} ${reason ?? 'no reason given'}`
  if (status === 410 || (reason !== undefined && GONE_REASONS.has(reason))) {
    return new ProviderError(status === 410 ? 'unregistered' : 'invalid_recipient', text, { retryable: false, status })
  }
  if (status === 403 && reason === 'ExpiredProviderToken') return new ProviderError('token_expired', text, { retryable: true, status })
  if (status === 403) return new ProviderError('auth_failed', text, { retryable: false, status })
  if (status === 429) return new ProviderError('rate_limited', text, { retryable: true, status, retryAfterMs: retryAfter })
  if (status >= 500) return new ProviderError('unavailable', text, { retryable: true, status, retryAfterMs: retryAfter })
  return new ProviderError('rejected', text, { retryable: false, status })
}

/**
 * Apple Push Notification service over HTTP/2 with token-based (JWT, ES256) authentication; one
 * HTTP/2 connection per configuration, multiplexing every push, and a token reused for 50 minutes.
 * Settings: `teamId`, `keyId`, `privateKey` (the .p8 PEM), `topic` (the app's bundle id),
 * `environment` (`production` | `sandbox`), `baseUrl` (instead of Apple's host), `ca` (PEM of a
 * private CA), `timeoutMs`.
 * The message: `to` is the device token (hex), `subject` the alert title, `body` the alert body;
 * `data.badge`, `data.sound`, `data.threadId`, `data.category`, `data.mutableContent`,
 * `data.pushType` (default `alert`; `background` sends `content-available`), `data.priority`
 * (10, or 5 for background), `data.expiration` (UNIX seconds) or `data.ttl` (seconds),
 * `data.collapseId`; every other `data` key is custom payload next to `aps`.
 */
export function createApnsProvider(channel: 'push', settings: ChannelSettings, options: ProviderOptions = {}): PushProvider {
  assertChannel(VENDOR, channel, 'push')
  const teamId = requiredString(VENDOR, settings, 'teamId')
  const keyId = requiredString(VENDOR, settings, 'keyId')
  const key = privateKey(VENDOR, requiredString(VENDOR, settings, 'privateKey'), 'privateKey')
  if (key.asymmetricKeyType !== 'ec') throw badSettings(VENDOR, 'setting "privateKey" must be the EC (P-256) key Apple issued')
  const topic = requiredString(VENDOR, settings, 'topic')
  const environment = optionalString(VENDOR, settings, 'environment') ?? 'production'
  if (environment !== 'production' && environment !== 'sandbox') throw badSettings(VENDOR, 'setting "environment" must be production or sandbox')
  const origin = baseUrl(VENDOR, settings, 'baseUrl', HOSTS[environment])
  const ca = optionalString(VENDOR, settings, 'ca')
  // The base URL is the tenant's to set: the HTTP/2 connection is checked as it is made (the
  // guarded client's lookup), a literal address or reserved name before.
  const guard = vendorHttp(VENDOR, options)
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 300_000) ?? DEFAULT_TIMEOUT_MS

  let token: { jwt: string; at: number } | undefined
  const bearer = (): string => {
    const now = Date.now()
    if (!token || now - token.at >= TOKEN_REFRESH_MS) {
      token = { jwt: signJwt('ES256', key, { iss: teamId, iat: Math.floor(now / 1000) }, { kid: keyId }), at: now }
    }
    return token.jwt
  }

  let session: http2.ClientHttp2Session | undefined
  const refused = new WeakMap<http2.ClientHttp2Session, ProviderError>()
  const connect = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session
    guard.check(origin)
    // Pushes are small frames answered by small frames: without TCP_NODELAY (passed on to the TLS
    // socket), Nagle's algorithm holds each behind the previous one's delayed ACK.
    const s = http2.connect(origin, { ...(ca ? { ca } : {}), lookup: guard.lookup, noDelay: true } as http2.SecureClientSessionOptions)
    // A dropped or refused connection fails the pushes on it (they retry, unless the address was
    // refused); the next push reconnects.
    s.on('error', (err) => {
      if (err instanceof ProviderError) refused.set(s, err)
    })
    const forget = () => {
      if (session === s) session = undefined
    }
    s.on('close', forget)
    s.on('goaway', forget)
    session = s
    return s
  }

  const request = (path: string, headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      let req: http2.ClientHttp2Stream
      let s: http2.ClientHttp2Session
      try {
        s = connect()
        req = s.request({ ':method': 'POST', ':path': path, ...headers })
      } catch (err) {
        reject(networkError(VENDOR, err))
        return
      }
      let status = 0
      let responseHeaders: http2.IncomingHttpHeaders = {}
      const chunks: Buffer[] = []
      req.setTimeout(timeoutMs, () => {
        req.close(http2.constants.NGHTTP2_CANCEL)
        reject(new ProviderError('timeout', 'apns: no answer in time', { retryable: true }))
      })
      req.on('response', (h) => {
        status = Number(h[':status'])
        responseHeaders = h
      })
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') }))
      req.on('error', (err) => reject(refused.get(s) ?? ((err as { cause?: unknown }).cause instanceof ProviderError ? (err as { cause: ProviderError }).cause : networkError(VENDOR, err))))
      req.end(body)
    })

  return {
    id: VENDOR,
    channel: 'push',
    async send(message: OutboundMessage & { readonly channel: 'push' }): Promise<SendResult> {
      if (!/^[0-9a-fA-F]{32,200}$/.test(message.to)) {
        throw new ProviderError('invalid_recipient', 'apns: the recipient is not a device token (hex)', { retryable: false })
      }
      const data = message.data ?? {}
      const pushType = data.pushType ?? 'alert'
      if (typeof pushType !== 'string' || !PUSH_TYPES.has(pushType)) throw invalidMessage(`unknown data.pushType ${String(pushType)}`)
      const background = pushType === 'background'
      const aps: Record<string, unknown> = {}
      if (background) aps['content-available'] = 1
      else aps.alert = message.subject ? { title: message.subject, body: message.body } : { body: message.body }
      if (data.badge !== undefined) {
        if (!Number.isInteger(data.badge)) throw invalidMessage('data.badge must be an integer')
        aps.badge = data.badge
      }
      if (data.sound !== undefined) aps.sound = data.sound
      if (typeof data.threadId === 'string') aps['thread-id'] = data.threadId
      if (typeof data.category === 'string') aps.category = data.category
      if (data.mutableContent === true) aps['mutable-content'] = 1
      if (data.contentAvailable === true) aps['content-available'] = 1
      const payload = JSON.stringify({ ...customPushData(data), aps })
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
        throw new ProviderError('payload_too_large', `apns: the payload is over ${MAX_PAYLOAD_BYTES} bytes`, { retryable: false, status: 413 })
      }

      const priority = data.priority ?? (background ? 5 : 10)
      if (priority !== 10 && priority !== 5 && priority !== 1) throw invalidMessage('data.priority must be 10, 5 or 1')
      const headers: Record<string, string> = {
        authorization: `bearer ${bearer()}`,
        'apns-topic': topic,
        'apns-push-type': pushType,
        'apns-priority': String(priority),
        'content-type': 'application/json',
      }
      // Our message id (a UUID) as the notification's id: Apple echoes it and reports by it.
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(message.id)) headers['apns-id'] = message.id
      if (data.expiration !== undefined) {
        if (!Number.isInteger(data.expiration) || (data.expiration as number) < 0) throw invalidMessage('data.expiration must be UNIX seconds')
        headers['apns-expiration'] = String(data.expiration)
      } else if (data.ttl !== undefined) {
        if (!Number.isInteger(data.ttl) || (data.ttl as number) < 0) throw invalidMessage('data.ttl must be seconds')
        headers['apns-expiration'] = String(data.ttl === 0 ? 0 : Math.floor(Date.now() / 1000) + (data.ttl as number))
      }
      if (data.collapseId !== undefined) {
        if (typeof data.collapseId !== 'string' || Buffer.byteLength(data.collapseId) > 64) throw invalidMessage('data.collapseId must be at most 64 bytes')
        headers['apns-collapse-id'] = data.collapseId
      }

      const res = await request(`/3/device/${message.to}`, headers, payload)
      if (res.status === 200) {
        const apnsId = res.headers['apns-id']
        return { providerMessageId: typeof apnsId === 'string' ? apnsId : message.id, status: 'sent' }
      }
      let reason: string | undefined
      try {
        reason = (JSON.parse(res.body) as { reason?: string }).reason
      } catch {
        reason = undefined
      }
      // A token Apple calls expired is signed afresh for the retry.
      if (res.status === 403 && reason === 'ExpiredProviderToken') token = undefined
      const retryAfter = res.headers['retry-after']
      throw apnsError(res.status, reason, typeof retryAfter === 'string' && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined)
    },
    async close() {
      const s = session
      session = undefined
      if (s && !s.closed && !s.destroyed) await new Promise<void>((resolve) => s.close(() => resolve()))
    },
  }
}
