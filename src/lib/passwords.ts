import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

// People choose passwords (agents sign in with them), so unlike API secrets they get a slow,
// salted hash: scrypt with N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 32 MiB per hash.
const N = 2 ** 15
const R = 8
const P = 1
const KEY_LENGTH = 32

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))))
}

/** A salted scrypt hash of a password: `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, { N, r: R, p: P })
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Whether `hash` has the shape `hashPassword` writes (its parameters within sane bounds). */
export function isPasswordHash(hash: string): boolean {
  const parts = hash.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  return Number.isInteger(Math.log2(n)) && n >= 2 ** 14 && n <= 2 ** 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16
    && /^[A-Za-z0-9_-]{16,}$/.test(parts[4]!) && /^[A-Za-z0-9_-]{32,}$/.test(parts[5]!)
}

/** Constant-time check of a password against a `hashPassword` hash; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!isPasswordHash(hash)) return false
  const [, n, r, p, salt, expected] = hash.split('$') as [string, string, string, string, string, string]
  const want = Buffer.from(expected, 'base64url')
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) })
  return key.length === want.length && timingSafeEqual(key, want)
}

/** A password a person can type: 4 groups of 4 letters and digits without look-alikes (≈ 80 bits). */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789'
  const bytes = randomBytes(16)
  let out = ''
  for (let i = 0; i < 16; i++) out += (i > 0 && i % 4 === 0 ? '-' : '') + alphabet[bytes[i]! % alphabet.length]
  return out
}
