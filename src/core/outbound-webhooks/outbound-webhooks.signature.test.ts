import { describe, expect, it } from 'vitest'
import { signWebhook, verifyWebhook } from './index.ts'

// The §1.12 recipe as pure functions. The expected values were computed outside our code:
//   printf '%s' '1700000000{"type":"chat_ended","chat_id":1}' | openssl dgst -sha256 -hmac <secret> -binary | base64
const BODY = '{"type":"chat_ended","chat_id":1}'
const TS = '1700000000'
const PRIMARY = 'Pu0H70+A75YEPPx5Ade4oSwmeICYMwBtQly+DwKlBnw='
const SECONDARY = 'zqTKUBlDHkwwezrmeaXn/WAOmqPCZd7g5TyVZS+C8m0='

describe('signWebhook', () => {
  it('signs timestamp + raw body with each secret, primary first', () => {
    expect(signWebhook(BODY, TS, ['whsec_primary'])).toBe(`primary=${PRIMARY}`)
    expect(signWebhook(BODY, TS, ['whsec_primary', 'whsec_secondary'])).toBe(`primary=${PRIMARY} secondary=${SECONDARY}`)
    expect(signWebhook(Buffer.from(BODY), TS, ['whsec_primary'])).toBe(`primary=${PRIMARY}`)
  })

  it('refuses no secret, three secrets or an empty one', () => {
    expect(() => signWebhook(BODY, TS, [])).toThrow(TypeError)
    expect(() => signWebhook(BODY, TS, ['a', 'b', 'c'])).toThrow(TypeError)
    expect(() => signWebhook(BODY, TS, ['a', ''])).toThrow(TypeError)
  })
})

describe('verifyWebhook', () => {
  const header = `primary=${PRIMARY} secondary=${SECONDARY}`

  it('accepts a signature made with either of the consumer’s secrets', () => {
    expect(verifyWebhook(BODY, TS, header, ['whsec_primary'])).toBe(true)
    expect(verifyWebhook(BODY, TS, header, ['whsec_secondary'])).toBe(true)
    expect(verifyWebhook(BODY, TS, `primary=${PRIMARY}`, ['other', 'whsec_primary'])).toBe(true)
    expect(verifyWebhook(BODY, TS, `primary=${SECONDARY}`, ['whsec_secondary'])).toBe(true)
  })

  it('refuses a changed body or timestamp, a wrong secret and malformed headers', () => {
    expect(verifyWebhook(BODY.replace('1', '2'), TS, header, ['whsec_primary'])).toBe(false)
    expect(verifyWebhook(BODY, '1700000001', header, ['whsec_primary'])).toBe(false)
    expect(verifyWebhook(BODY, TS, header, ['whsec_wrong'])).toBe(false)
    expect(verifyWebhook(BODY, TS, header, [])).toBe(false)
    expect(verifyWebhook(BODY, TS, '', ['whsec_primary'])).toBe(false)
    expect(verifyWebhook(BODY, TS, PRIMARY, ['whsec_primary'])).toBe(false)
    expect(verifyWebhook(BODY, TS, `primary=${PRIMARY.slice(0, -4)}`, ['whsec_primary'])).toBe(false)
    expect(verifyWebhook(BODY, '', header, ['whsec_primary'])).toBe(false)
  })

  it('checks the timestamp’s age when asked', () => {
    const now = new Date(1_700_000_000_000 + 200_000)
    expect(verifyWebhook(BODY, TS, header, ['whsec_primary'], { toleranceSeconds: 300, now })).toBe(true)
    expect(verifyWebhook(BODY, TS, header, ['whsec_primary'], { toleranceSeconds: 100, now })).toBe(false)
    expect(verifyWebhook(BODY, 'soon', header, ['whsec_primary'], { toleranceSeconds: 100, now })).toBe(false)
  })
})
