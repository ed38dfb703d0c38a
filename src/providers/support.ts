/**
 * What the HTTP-speaking adapters (APNs, FCM, Web Push, Messenger) share: reading settings,
 * signing JWTs, calling a vendor with a timeout (through the guarded client of `http.ts`), and
 * turning what went wrong into a ProviderError.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto'
import type { ChannelSettings } from './registry.ts'
import { ProviderError, type Channel } from './types.ts'

/** Default bound on one vendor call; settings `timeoutMs` override it. */
export const DEFAULT_TIMEOUT_MS = 10_000

/** A settings problem: a retry cannot fix configuration. */
export function badSettings(vendor: string, message: string): ProviderError {
  return new ProviderError('invalid_settings', `${vendor}: ${message}`, { retryable: false })
}

/** Refuse a channel the vendor does not serve. */
export function assertChannel(vendor: string, channel: Channel, allowed: Channel): void {
  if (channel !== allowed) throw new ProviderError('unsupported_channel', `${vendor} does not send ${channel}`, { retryable: false })
}

/** A required non-empty string option. */
export function requiredString(vendor: string, settings: ChannelSettings, key: string): string {
  const value = settings[key]
  if (typeof value !== 'string' || value.trim() === '') throw badSettings(vendor, `setting "${key}" is required`)
  return value
}

/** An optional string option. */
export function optionalString(vendor: string, settings: ChannelSettings, key: string): string | undefined {
  const value = settings[key]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw badSettings(vendor, `setting "${key}" must be a string`)
  return value
}

/** An optional boolean option; CLI options arrive as the strings "true"/"false". */
export function optionalBoolean(vendor: string, settings: ChannelSettings, key: string): boolean | undefined {
  const value = settings[key]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'boolean') return value
  if (value === 'true') return true
  if (value === 'false') return false
  throw badSettings(vendor, `setting "${key}" must be true or false`)
}

/** An optional positive integer option (numbers may arrive as strings from the CLI). */
export function optionalInteger(vendor: string, settings: ChannelSettings, key: string, min: number, max: number): number | undefined {
  const value = settings[key]
  if (value === undefined || value === null || value === '') return undefined
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw badSettings(vendor, `setting "${key}" must be an integer ${min}-${max}`)
  return n
}

/** An http(s) base URL without a trailing slash. */
export function baseUrl(vendor: string, settings: ChannelSettings, key: string, fallback: string): string {
  const raw = optionalString(vendor, settings, key) ?? fallback
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw badSettings(vendor, `setting "${key}" is not a URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badSettings(vendor, `setting "${key}" must be an http(s) URL`)
  return url.toString().replace(/\/+$/, '')
}

/** A PEM private key; throws invalid_settings when it does not parse. */
export function privateKey(vendor: string, pem: string, key: string): KeyObject {
  try {
    return createPrivateKey(pem.includes('\\n') && !pem.includes('\n') ? pem.replace(/\\n/g, '\n') : pem)
  } catch {
    throw badSettings(vendor, `setting "${key}" is not a PEM private key`)
  }
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

/**
 * A compact JWS: ES256 (signature as JOSE's raw r‖s, not DER) or RS256, with `header` merged
 * over `{alg, typ: 'JWT'}`.
 */
export function signJwt(alg: 'ES256' | 'RS256', key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64url(JSON.stringify(claims))}`
  const signature = createSign('SHA256').update(input).sign(alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key)
  return `${input}.${b64url(signature)}`
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), when present and sane. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined
  const trimmed = header.trim()
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, 24 * 3_600_000)
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.min(at - now, 24 * 3_600_000))
}

export { networkError, post } from './http.ts'

/** The response body as JSON, or undefined when it is not JSON. */
export async function readJson(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '')
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** An answer without a vendor error code: 429/5xx retry, other 4xx do not. */
export function statusError(vendor: string, status: number, message: string, retryAfter?: number): ProviderError {
  const retryable = status === 429 || status >= 500 || status === 408
  const code = status === 429 ? 'rate_limited' : status >= 500 ? 'unavailable' : 'rejected'
  return new ProviderError(code, `${vendor}: ${message}`, { retryable, status, retryAfterMs: retryAfter })
}

/**
 * Push `data` keys that steer the vendor rather than travel to the app. Every other key of a push
 * message's `data` is the app's own payload.
 */
export const PUSH_CONTROL_KEYS = new Set([
  'badge', 'sound', 'pushType', 'priority', 'expiration', 'ttl', 'collapseId', 'threadId', 'category', 'contentAvailable', 'mutableContent', 'urgency', 'topic', 'keys', 'subscription',
])

/** The app's own payload of a push message: `data` without the control keys. */
export function customPushData(data: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(data ?? {})) if (!PUSH_CONTROL_KEYS.has(k)) out[k] = v
  return out
}
