import { zonedParts as localParts, zonedTimeToUtc } from '../../lib/timezone.ts'

// Re-exported: the scheduling code and its tests name it here; the zone arithmetic lives in lib.
export { zonedTimeToUtc }

const UNIT_MS: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }
const DAY_MS = 86_400_000
/** Longest duration a step may name (a year): keeps due times meaningful. */
const MAX_DURATION_MS = 366 * 86_400_000

/**
 * A duration as thread authors write it — `30m`, `2h`, `1d`, `1w`, or combined (`1d12h`) — in
 * milliseconds; undefined when it does not parse or exceeds a year.
 */
export function parseDuration(text: string): number | undefined {
  const compact = text.replace(/\s+/g, '').toLowerCase()
  if (!/^(\d+[wdhms])+$/.test(compact)) return undefined
  let ms = 0
  for (const [, n, unit] of compact.matchAll(/(\d+)([wdhms])/g)) ms += Number(n) * UNIT_MS[unit!]!
  return ms <= MAX_DURATION_MS ? ms : undefined
}

/** `HH:MM` (24 h) as hour and minute; undefined otherwise. */
export function parseLocalTime(text: string): { hour: number; minute: number } | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim())
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined
}

/**
 * When a check-in is due. `after` alone: that long from `now`. `at` alone: the next time the
 * person's clock shows it (today if still ahead, else tomorrow). Both, with whole days (`1d`, `1w`):
 * that many calendar days later in the person's zone, at `at` ("after 1d at 09:00" = tomorrow at
 * nine); with hours or minutes: the first time the clock shows `at` once `after` has passed.
 */
export function computeDueAt(opts: { now: Date; after?: string | undefined; at?: string | undefined; timeZone: string }): Date {
  const afterMs = opts.after === undefined ? 0 : parseDuration(opts.after)
  if (afterMs === undefined) throw new RangeError(`invalid duration ${opts.after}`)
  const earliest = new Date(opts.now.getTime() + afterMs)
  if (opts.at === undefined) return earliest
  const at = parseLocalTime(opts.at)
  if (!at) throw new RangeError(`invalid local time ${opts.at}`)
  if (afterMs > 0 && afterMs % DAY_MS === 0) {
    // Whole days and a time: that many days later on the person's calendar ("after 1d at 09:00" is
    // tomorrow at nine, also when it is past nine now and across a DST change), always ahead of now.
    const today = localParts(opts.now, opts.timeZone)
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day + afterMs / DAY_MS))
    return zonedTimeToUtc({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), ...at }, opts.timeZone)
  }
  const day = localParts(earliest, opts.timeZone)
  for (let add = 0; add < 3; add++) {
    const d = new Date(Date.UTC(day.year, day.month - 1, day.day + add))
    const candidate = zonedTimeToUtc({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), ...at }, opts.timeZone)
    if (candidate.getTime() >= earliest.getTime()) return candidate
  }
  throw new Error('no due time found')
}
