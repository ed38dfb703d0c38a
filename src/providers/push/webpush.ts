import webpush from 'web-push'
import type { GuardedResponse } from '../../lib/url-safety.ts'
import { vendorHttp, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { assertChannel, badSettings, customPushData, networkError, optionalInteger, requiredString, retryAfterMs, DEFAULT_TIMEOUT_MS } from '../support.ts'
import { ProviderError, type OutboundMessage, type PushProvider, type SendResult } from '../types.ts'

const VENDOR = 'webpush'
/** Four weeks, the longest push services keep a message. */
const DEFAULT_TTL = 2_419_200
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high'])

/** A browser's push subscription (PushSubscription.toJSON()). */
export interface PushSubscriptionJson {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

function invalidRecipient(message: string): ProviderError {
  return new ProviderError('invalid_recipient', `webpush: ${message}`, { retryable: false })
}

/**
 * The subscription a message goes to: `to` is the subscription JSON (`{endpoint, keys: {p256dh,
 * auth}}`), or `to` is the endpoint URL and `data.keys` holds `{p256dh, auth}`.
 */
export function subscriptionOf(message: Pick<OutboundMessage, 'to' | 'data'>): PushSubscriptionJson {
  let sub: unknown
  const to = message.to.trim()
  if (to.startsWith('{')) {
    try {
      sub = JSON.parse(to)
    } catch {
      throw invalidRecipient('the recipient is not a subscription JSON')
    }
  } else {
    sub = { endpoint: to, keys: message.data?.keys }
  }
  const s = sub as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } }
  if (typeof s?.endpoint !== 'string' || !/^https?:\/\//.test(s.endpoint)) throw invalidRecipient('the subscription has no http(s) endpoint')
  const p256dh = s.keys?.p256dh
  const auth = s.keys?.auth
  if (typeof p256dh !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(p256dh) || Buffer.from(p256dh, 'base64url').length !== 65) {
    throw invalidRecipient('keys.p256dh must be the base64url P-256 public key of the subscription')
  }
  if (typeof auth !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(auth) || Buffer.from(auth, 'base64url').length < 16) {
    throw invalidRecipient('keys.auth must be the base64url 16-byte auth secret of the subscription')
  }
  return { endpoint: s.endpoint, keys: { p256dh, auth } }
}

/** A push service's error answer as a ProviderError: 404/410 mean the subscription is gone. */
export function webPushError(status: number, body: string, retryAfter?: number): ProviderError {
  const text = `webpush ${status}: ${body.slice(0, 200) || 'no details'}`
  if (status === 404 || status === 410) return new ProviderError('unregistered', text, { retryable: false, status })
  if (status === 429) return new ProviderError('rate_limited', text, { retryable: true, status, retryAfterMs: retryAfter })
  if (status >= 500) return new ProviderError('unavailable', text, { retryable: true, status, retryAfterMs: retryAfter })
  if (status === 401 || status === 403) return new ProviderError('auth_failed', text, { retryable: false, status })
  if (status === 413) return new ProviderError('payload_too_large', text, { retryable: false, status })
  return new ProviderError('rejected', text, { retryable: false, status })
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and the `aes128gcm` payload encryption of RFC 8291,
 * through the `web-push` library's request builder; the request itself goes out through the
 * guarded HTTP client (`vendorHttp`), since subscription endpoints come from browsers.
 * Settings: `vapidPublicKey`, `vapidPrivateKey` (base64url, as `npx web-push generate-vapid-keys`
 * prints them), `subject` (`mailto:` or `https:` contact), `timeoutMs`.
 * The message: the subscription as `to` (see `subscriptionOf`); the encrypted payload is the JSON
 * `{title: subject, body, data, category?}` with `data` the message's custom keys and `category`
 * `data.category` when set; `data.ttl` (seconds,
 * default 4 weeks), `data.urgency` (very-low | low | normal | high), `data.collapseId` → `Topic`.
 */
export function createWebPushProvider(channel: 'push', settings: ChannelSettings, options: ProviderOptions = {}): PushProvider {
  assertChannel(VENDOR, channel, 'push')
  const publicKey = requiredString(VENDOR, settings, 'vapidPublicKey')
  const privateKey = requiredString(VENDOR, settings, 'vapidPrivateKey')
  const subject = requiredString(VENDOR, settings, 'subject')
  const vapidDetails = { subject, publicKey, privateKey }
  try {
    webpush.getVapidHeaders('https://push.example/', subject, publicKey, privateKey, 'aes128gcm')
  } catch (err) {
    throw badSettings(VENDOR, (err as Error).message)
  }
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 300_000) ?? DEFAULT_TIMEOUT_MS
  // Subscription endpoints come from browsers: every connection is checked as it is made.
  const http = vendorHttp(VENDOR, options)

  return {
    id: VENDOR,
    channel: 'push',
    async send(message: OutboundMessage & { readonly channel: 'push' }): Promise<SendResult> {
      const subscription = subscriptionOf(message)
      const data = message.data ?? {}
      const ttl = data.ttl ?? DEFAULT_TTL
      if (!Number.isInteger(ttl) || (ttl as number) < 0) throw new ProviderError('invalid_message', 'webpush: data.ttl must be seconds', { retryable: false })
      const urgency = data.urgency ?? 'normal'
      if (typeof urgency !== 'string' || !URGENCIES.has(urgency)) throw new ProviderError('invalid_message', 'webpush: data.urgency must be very-low, low, normal or high', { retryable: false })
      const topic = data.collapseId
      if (topic !== undefined && (typeof topic !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(topic))) {
        throw new ProviderError('invalid_message', 'webpush: data.collapseId must be 1-32 base64url characters', { retryable: false })
      }
      // The category travels beside the app's data, for the service worker to pick the
      // notification's actions (the Notification API has no category of its own).
      const payload = JSON.stringify({
        title: message.subject ?? '', body: message.body, data: customPushData(data),
        ...(typeof data.category === 'string' ? { category: data.category } : {}),
      })
      let details: ReturnType<typeof webpush.generateRequestDetails>
      try {
        details = webpush.generateRequestDetails(subscription, payload, {
          vapidDetails, TTL: ttl as number, urgency: urgency as webpush.Urgency, contentEncoding: 'aes128gcm', ...(topic ? { topic } : {}),
        })
      } catch (err) {
        throw new ProviderError('invalid_message', `webpush: ${(err as Error).message}`, { retryable: false })
      }
      let res: GuardedResponse
      try {
        res = await http.request(details.endpoint, {
          method: 'POST',
          headers: details.headers as Record<string, string>,
          ...(details.body ? { body: details.body } : {}),
          timeoutMs,
          maxBodyBytes: 64 * 1024,
        })
      } catch (err) {
        throw networkError(VENDOR, err)
      }
      if (res.status === 201 || res.status === 200 || res.status === 202) {
        const location = res.headers.location
        return { providerMessageId: typeof location === 'string' && location !== '' ? location : message.id, status: 'sent' }
      }
      const retryAfter = res.headers['retry-after']
      throw webPushError(res.status, res.body.toString('utf8'), retryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined))
    },
    async close() {
      http.close()
    },
  }
}
