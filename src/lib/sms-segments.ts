/**
 * SMS segment count and encoding (3GPP TS 23.038 / 23.040), as carriers and Twilio bill them.
 *
 * A body made only of characters of the GSM 03.38 default alphabet (and its extension table, whose
 * characters take two septets: an escape and the character) goes out as GSM-7: 160 septets in a
 * single message, 153 per segment once it needs several (the user-data header takes 7). Anything
 * else forces UCS-2 for the whole message: 70 UTF-16 code units single, 67 per segment. A segment
 * boundary never splits an escape pair or a surrogate pair.
 */

/** The GSM 03.38 default alphabet (without the escape code itself). */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
)
/** The extension table: each takes two septets. */
const GSM_EXTENSION = new Set('\f^{}\\[~]|€')

export type SmsEncoding = 'GSM-7' | 'UCS-2'

export interface SmsSegmentInfo {
  readonly encoding: SmsEncoding
  /** How many segments (billed messages) the body takes; at least 1. */
  readonly segments: number
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole body. */
  readonly units: number
}

const LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const

/** Pack indivisible units of the given sizes into segments of `capacity`. */
function pack(sizes: number[], capacity: number): number {
  let segments = 1
  let used = 0
  for (const size of sizes) {
    if (used + size > capacity) {
      segments++
      used = 0
    }
    used += size
  }
  return segments
}

/** The encoding and segment count of an SMS body. Pure; `smsSegments('')` is one GSM-7 segment. */
export function smsSegments(body: string): SmsSegmentInfo {
  const gsm: number[] = []
  let isGsm = true
  for (const ch of body) {
    if (GSM_BASIC.has(ch)) gsm.push(1)
    else if (GSM_EXTENSION.has(ch)) gsm.push(2)
    else {
      isGsm = false
      break
    }
  }
  // A character is one or two UTF-16 code units (a surrogate pair must stay in one segment).
  const sizes = isGsm ? gsm : Array.from(body, (ch) => ch.length)
  const encoding: SmsEncoding = isGsm ? 'GSM-7' : 'UCS-2'
  const units = sizes.reduce((a, b) => a + b, 0)
  const limit = LIMITS[encoding]
  const segments = units <= limit.single ? 1 : pack(sizes, limit.multi)
  return { encoding, segments, units }
}
