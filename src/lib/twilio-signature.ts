import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1, under the account's auth token, of the full URL Twilio
 * requested followed by every POST parameter's name and value, sorted by name.
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string | readonly string[]>>): string {
  let data = url
  for (const name of Object.keys(params).sort()) {
    const value = params[name]!
    // A repeated parameter contributes each of its values, in sorted order.
    for (const v of typeof value === 'string' ? [value] : [...value].sort()) data += name + v
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

/** Whether `signature` is Twilio's signature of the request (constant-time compare). */
export function verifyTwilioSignature(authToken: string, url: string, params: Readonly<Record<string, string | readonly string[]>>, signature: string | undefined): boolean {
  if (!signature) return false
  const expected = Buffer.from(twilioSignature(authToken, url, params))
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
