import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** A random URL-safe secret of `bytes` bytes of entropy. */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * SHA-256 of an API secret. Secrets are random with ≥ 128 bits of entropy, so a slow password hash
 * would add nothing but latency to every request.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** AES-256-GCM encryption of provider credentials: `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.')
}

/** Inverse of `encrypt`; throws when the key is wrong or the data was altered. */
export function decrypt(key: Buffer, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.')
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('unrecognised sealed secret')
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
}

/** A sealed secret that cannot be opened: the master key is not the one it was sealed with, or the text was altered. */
export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SealedSecretError'
  }
}

/**
 * Seal a secret that must be recoverable (the ccai company secret that verifies HS256, a webhook
 * signing secret) with `encrypt`, bound to `context` (say `company_secret:<tenant id>`): the sealed
 * text opens only for the same context, so a value copied to another tenant's row or another
 * purpose is refused instead of being used as theirs.
 */
export function sealSecret(key: Buffer, context: string, plaintext: string): string {
  return encrypt(key, JSON.stringify({ c: context, s: plaintext }))
}

/**
 * Inverse of `sealSecret`. Throws SealedSecretError when the key is wrong, the text was altered or
 * it was sealed for another context; the message names `what` and never the secret.
 */
export function openSecret(key: Buffer, context: string, sealed: string, what = 'a sealed secret'): string {
  let opened: { c?: unknown; s?: unknown }
  try {
    opened = JSON.parse(decrypt(key, sealed)) as { c?: unknown; s?: unknown }
  } catch {
    throw new SealedSecretError(`${what} cannot be decrypted (was SWITCHBOARD_SECRET_KEY changed?)`)
  }
  if (opened.c !== context || typeof opened.s !== 'string') throw new SealedSecretError(`${what} was sealed for another tenant or purpose`)
  return opened.s
}

/**
 * A 32-byte key for one purpose (`files-url-v1`, …), derived from the master key with HKDF-SHA256.
 * Each use of the master key beyond sealing gets its own key, so a signature made for one purpose
 * can never be replayed as another's, and no second secret has to be stored.
 */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `switchboard:${purpose}`, 32))
}
