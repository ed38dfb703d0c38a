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

interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

function localParts(instant: Date, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(instant)
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') }
}

/**
 * The instant at which the wall clock in `timeZone` shows this local date and time. A time that
 * does not exist (skipped by a DST change) moves forward by the gap; an ambiguous one (repeated)
 * takes the earlier instant.
 */
export function zonedTimeToUtc(local: { year: number; month: number; day: number; hour: number; minute: number }, timeZone: string): Date {
  const wanted = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute)
  // How far the zone's clock is ahead of UTC at an instant.
  const offsetAt = (t: number) => {
    const p = localParts(new Date(t), timeZone)
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - t
  }
  // The offsets in force around that wall-clock time (real zones change at most once in three days;
  // changes are not always an hour: Lord Howe shifts by 30 minutes).
  const before = offsetAt(wanted - 36 * 3_600_000)
  const after = offsetAt(wanted + 36 * 3_600_000)
  const candidates = [...new Set([before, after])].map((o) => wanted - o).filter((t) => t + offsetAt(t) === wanted).sort((a, b) => a - b)
  // Shown once, or twice (a repeated hour: the earlier instant).
  if (candidates.length > 0) return new Date(candidates[0]!)
  // Never shown (skipped by the change): the instant that reads as that time on the old offset,
  // which the new clock shows as that time plus the gap.
  return new Date(wanted - before)
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
