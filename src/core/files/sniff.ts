/**
 * What a file's first bytes say it is (its "magic bytes"), for the checks of an upload against the
 * media type a client declared. Only formats with a reliable signature are named; a declared type
 * this does not know is taken on trust, except that text must not hold NUL bytes.
 */

/** How many leading bytes `sniffMediaType` reads. */
export const SNIFF_BYTES = 4096

const ascii = (head: Buffer, at: number, text: string) => head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text
const bytes = (head: Buffer, at: number, ...b: number[]) => head.length >= at + b.length && b.every((x, i) => head[at + i] === x)

/** The kind of an ISO base media file (`ftyp` box): its major brand. */
function isoBrand(head: Buffer): string | undefined {
  return ascii(head, 4, 'ftyp') ? head.toString('latin1', 8, 12) : undefined
}

/**
 * The media type the bytes are, or undefined when they match no known signature. The OLE2
 * compound file (old Word, Excel, PowerPoint) and ZIP (OOXML, OpenDocument) containers are named
 * by their container (`application/x-ole-storage`, `application/zip`).
 */
export function sniffMediaType(head: Buffer): string | undefined {
  if (bytes(head, 0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png'
  if (bytes(head, 0, 0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'image/gif'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'image/webp'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'audio/wav'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'AVI ')) return 'video/x-msvideo'
  if (ascii(head, 0, 'BM') && head.length >= 26) return 'image/bmp'
  if (bytes(head, 0, 0x49, 0x49, 0x2a, 0x00) || bytes(head, 0, 0x4d, 0x4d, 0x00, 0x2a)) return 'image/tiff'
  if (ascii(head, 0, '%PDF-')) return 'application/pdf'
  if (ascii(head, 0, '{\\rtf')) return 'application/rtf'
  if (bytes(head, 0, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return 'application/x-ole-storage'
  if (bytes(head, 0, 0x50, 0x4b, 0x03, 0x04) || bytes(head, 0, 0x50, 0x4b, 0x05, 0x06)) return 'application/zip'
  if (bytes(head, 0, 0x1f, 0x8b)) return 'application/gzip'
  if (ascii(head, 0, 'OggS')) return 'audio/ogg'
  if (ascii(head, 0, 'fLaC')) return 'audio/flac'
  if (ascii(head, 0, 'ID3') || (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) !== 0)) return 'audio/mpeg'
  if (bytes(head, 0, 0x1a, 0x45, 0xdf, 0xa3)) return 'video/webm'
  const brand = isoBrand(head)
  if (brand !== undefined) {
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'image/heic'
    if (brand === 'avif' || brand === 'avis') return 'image/avif'
    if (brand === 'qt  ') return 'video/quicktime'
    if (brand.startsWith('3g')) return 'video/3gpp'
    if (brand === 'M4A ') return 'audio/mp4'
    return 'video/mp4'
  }
  if (bytes(head, 0, 0x7f, 0x45, 0x4c, 0x46)) return 'application/x-executable'
  if (ascii(head, 0, 'MZ')) return 'application/x-msdownload'
  return undefined
}

/** Declared types and the signatures that satisfy them (a declared type listed here must match). */
const ACCEPTS: Readonly<Record<string, readonly string[]>> = {
  'image/png': ['image/png'],
  'image/jpeg': ['image/jpeg'],
  'image/jpg': ['image/jpeg'],
  'image/pjpeg': ['image/jpeg'],
  'image/gif': ['image/gif'],
  'image/webp': ['image/webp'],
  'image/bmp': ['image/bmp'],
  'image/tiff': ['image/tiff'],
  'image/heic': ['image/heic'],
  'image/heif': ['image/heic'],
  'image/avif': ['image/avif'],
  'application/pdf': ['application/pdf'],
  'application/rtf': ['application/rtf'],
  'text/rtf': ['application/rtf'],
  'application/msword': ['application/x-ole-storage'],
  'application/vnd.ms-excel': ['application/x-ole-storage'],
  'application/vnd.ms-powerpoint': ['application/x-ole-storage'],
  'application/vnd.ms-outlook': ['application/x-ole-storage'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['application/zip'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['application/zip'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['application/zip'],
  'application/vnd.oasis.opendocument.text': ['application/zip'],
  'application/vnd.oasis.opendocument.spreadsheet': ['application/zip'],
  'application/zip': ['application/zip'],
  'application/gzip': ['application/gzip'],
  'audio/mpeg': ['audio/mpeg'],
  'audio/mp3': ['audio/mpeg'],
  'audio/ogg': ['audio/ogg'],
  'audio/wav': ['audio/wav'],
  'audio/x-wav': ['audio/wav'],
  'audio/flac': ['audio/flac'],
  'audio/mp4': ['audio/mp4', 'video/mp4'],
  'audio/x-m4a': ['audio/mp4', 'video/mp4'],
  'video/mp4': ['video/mp4', 'video/quicktime', 'audio/mp4'],
  'video/quicktime': ['video/quicktime', 'video/mp4'],
  'video/3gpp': ['video/3gpp', 'video/mp4'],
  'video/webm': ['video/webm'],
  'audio/webm': ['video/webm'],
  'video/x-msvideo': ['video/x-msvideo'],
}

/** Types whose bytes are text: no signature, but no NUL byte either. */
const TEXT = /^(text\/|application\/(json|xml|csv|x-ndjson)$|image\/svg\+xml$)/

/**
 * Whether the leading bytes `head` fit the `declared` media type: `{ok: true}`, or `{ok: false,
 * detected}` with what they look like instead (undefined when nothing known). A type this module
 * does not know is accepted unless the bytes are a program (an executable is never a document).
 */
export function fitsDeclaredType(declared: string, head: Buffer): { ok: true } | { ok: false; detected: string | undefined } {
  const detected = sniffMediaType(head)
  const accepts = ACCEPTS[declared]
  if (accepts) return detected !== undefined && accepts.includes(detected) ? { ok: true } : { ok: false, detected }
  if (TEXT.test(declared)) return head.includes(0) || detected !== undefined ? { ok: false, detected } : { ok: true }
  const program = detected === 'application/x-executable' || detected === 'application/x-msdownload'
  return program && declared !== detected ? { ok: false, detected } : { ok: true }
}

/** Media types a thumbnail is made of. */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/tiff', 'image/avif'])
