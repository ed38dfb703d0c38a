import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decrypt, encrypt, openSecret, sealSecret, SealedSecretError } from './secrets.ts'

const key = randomBytes(32)

describe('sealed secrets', () => {
  it('open what they sealed, for the same context, and the sealed text does not hold the secret', () => {
    const secret = 'whsec_' + randomBytes(24).toString('base64url')
    const sealed = sealSecret(key, 'chat_webhook_primary:t1', secret)
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(sealed).not.toContain(secret)
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'))
    expect(openSecret(key, 'chat_webhook_primary:t1', sealed)).toBe(secret)
    // Fresh IV each time: sealing twice gives two texts.
    expect(sealSecret(key, 'chat_webhook_primary:t1', secret)).not.toBe(sealed)
  })

  it('refuse another master key, another context, and an altered text, naming what failed and not the secret', () => {
    const secret = 'the-secret-value-1234'
    const sealed = sealSecret(key, 'company_secret:t1', secret)
    const attempts: Array<[() => string, RegExp]> = [
      [() => openSecret(randomBytes(32), 'company_secret:t1', sealed, 'the company secret of tenant t1'), /^the company secret of tenant t1 cannot be decrypted \(was SWITCHBOARD_SECRET_KEY changed\?\)$/],
      [() => openSecret(key, 'company_secret:t2', sealed), /^a sealed secret was sealed for another tenant or purpose$/],
      [() => openSecret(key, 'company_secret:t1', sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA')), /cannot be decrypted/],
      [() => openSecret(key, 'company_secret:t1', 'plain-text'), /cannot be decrypted/],
      // A value sealed by plain `encrypt` (no context) is not a sealed secret.
      [() => openSecret(key, 'company_secret:t1', encrypt(key, JSON.stringify({ s: secret }))), /another tenant or purpose/],
    ]
    for (const [attempt, message] of attempts) {
      let err: unknown
      try {
        attempt()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(SealedSecretError)
      expect((err as Error).message).toMatch(message)
      expect((err as Error).message).not.toContain(secret)
    }
  })

  it('are encrypt/decrypt underneath (the same v1 AES-256-GCM format as provider settings)', () => {
    const sealed = sealSecret(key, 'c', 's3cret')
    expect(JSON.parse(decrypt(key, sealed))).toEqual({ c: 'c', s: 's3cret' })
  })
})
