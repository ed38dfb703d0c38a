import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The webhook signature of ccai.md §1.12: `base64(HMAC-SHA256(secret, timestamp + raw body))`,
 * once per secret, sent as `X-Signature: primary=<b64> secondary=<b64>` (only `primary=` with one
 * secret) beside `X-Signature-Timestamp: <timestamp>`. Pure; shared by the sender, the test peer
 * and the README's recipe.
 */

/** The signature headers' names. */
export const SIGNATURE_HEADER = 'X-Signature'
export const TIMESTAMP_HEADER = 'X-Signature-Timestamp'

const LABELS = ['primary', 'secondary'] as const

function hmac(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(timestamp, 'utf8').update(body).digest()
}

/**
 * The `X-Signature` value for `body` (the exact bytes sent) at `timestamp` (the exact
 * `X-Signature-Timestamp` value) under one or two secrets, primary first.
 */
export function signWebhook(body: string | Uint8Array, timestamp: string, secrets: readonly string[]): string {
  if (secrets.length < 1 || secrets.length > 2) throw new TypeError('a webhook is signed with one or two secrets')
  if (secrets.some((s) => typeof s !== 'string' || s.length === 0)) throw new TypeError('a webhook secret may not be empty')
  return secrets.map((secret, i) => `${LABELS[i]}=${hmac(secret, timestamp, body).toString('base64')}`).join(' ')
}

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /**
   * Refuse a timestamp (Unix seconds) further than this from `now` (replay protection). Default:
   * no check.
   */
  readonly toleranceSeconds?: number
  readonly now?: Date
}

/**
 * Whether `signatureHeader` (the `X-Signature` value) holds a valid signature of `body` at
 * `timestamp` under any of `secrets` (a consumer's current secrets, one or two): every signature
 * given is compared, in constant time, with each secret's. False for a malformed header.
 */
export function verifyWebhook(body: string | Uint8Array, timestamp: string, signatureHeader: string, secrets: readonly string[], options: VerifyWebhookOptions = {}): boolean {
  if (typeof signatureHeader !== 'string' || typeof timestamp !== 'string' || timestamp === '') return false
  if (options.toleranceSeconds !== undefined) {
    const at = Number(timestamp)
    const now = (options.now ?? new Date()).getTime() / 1000
    if (!Number.isFinite(at) || Math.abs(now - at) > options.toleranceSeconds) return false
  }
  const given: Buffer[] = []
  for (const part of signatureHeader.trim().split(/\s+/)) {
    const m = /^(primary|secondary)=([A-Za-z0-9+/]+={0,2})$/.exec(part)
    if (m) given.push(Buffer.from(m[2]!, 'base64'))
  }
  let ok = false
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length === 0) continue
    const expected = hmac(secret, timestamp, body)
    // Compare against every signature without stopping early, so timing says nothing about which matched.
    for (const g of given) if (g.length === expected.length && timingSafeEqual(g, expected)) ok = true
  }
  return ok
}
