import { createVerify, type KeyObject } from 'node:crypto'

/** A verified JWT's parts, or a reason it failed. Checks the signature the way the vendors do. */
export function verifyJwt(token: string, alg: 'ES256' | 'RS256', publicKey: KeyObject): { header: Record<string, unknown>; claims: Record<string, unknown> } | { error: string } {
  const parts = token.split('.')
  if (parts.length !== 3) return { error: 'not a compact JWS' }
  const [h, c, s] = parts as [string, string, string]
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'))
  } catch {
    return { error: 'undecodable' }
  }
  if (header.alg !== alg) return { error: `alg ${String(header.alg)}` }
  const ok = createVerify('SHA256').update(`${h}.${c}`).verify(alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, Buffer.from(s, 'base64url'))
  return ok ? { header, claims } : { error: 'bad signature' }
}
