import { randomUUID } from 'node:crypto'
import type { TenantId } from '../tenants/index.ts'
import type { FileKey, FilePurpose } from './files.types.ts'

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const PURPOSE = '[a-z][a-z0-9-]{0,31}'
const EXT = '[a-z0-9]{1,10}'

/**
 * A key: `<tenant uuid>/<purpose>/<uuid>[.<ext>]`, nothing else. Only lowercase letters, digits,
 * dashes, two slashes and at most one dot after the uuid can appear, so no key names `..`, an
 * absolute path, a %-escape or a backslash: a key maps to a path under the store's root by itself.
 */
const KEY = new RegExp(`^(${UUID})/(${PURPOSE})/${UUID}(?:\\.${EXT})?$`)
const PURPOSE_ONLY = new RegExp(`^${PURPOSE}$`)

/** A media type without parameters (`image/png`), lowercase, as stored and signed. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/

/** The extension a new key gets for a media type, so a downloaded file opens with the right program. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/heic': 'heic',
  'video/mp4': 'mp4', 'video/quicktime': 'mov', 'video/webm': 'webm', 'video/3gpp': '3gp',
  'audio/mpeg': 'mp3', 'audio/ogg': 'ogg', 'audio/wav': 'wav', 'audio/mp4': 'm4a',
  'application/pdf': 'pdf', 'text/plain': 'txt', 'text/csv': 'csv',
}

/** Whether `key` is a well-formed file key (of any tenant). */
export function isFileKey(key: string): boolean {
  return KEY.test(key)
}

/** The tenant a well-formed key belongs to, or undefined for anything else. */
export function tenantOfKey(key: string): TenantId | undefined {
  return KEY.exec(key)?.[1] as TenantId | undefined
}

/** Whether `purpose` may name a key's middle segment. */
export function isFilePurpose(purpose: string): boolean {
  return PURPOSE_ONLY.test(purpose)
}

/** A media type as stored: parameters dropped, lowercase; undefined when it is not one. */
export function normalizeMediaType(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  const type = raw.split(';')[0]!.trim().toLowerCase()
  return MEDIA_TYPE.test(type) ? type : undefined
}

/** A new, unguessable key (122 random bits) for a file of `tenantId`. */
export function newFileKey(tenantId: TenantId, purpose: FilePurpose, contentType: string | undefined): FileKey {
  const ext = contentType === undefined ? undefined : EXTENSIONS[contentType]
  return `${tenantId.toLowerCase()}/${purpose}/${randomUUID()}${ext ? `.${ext}` : ''}`
}
