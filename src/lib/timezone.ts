const known = new Map<string, boolean>()

/** True when `name` is an IANA time zone this runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(name: string): boolean {
  let ok = known.get(name)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name })
      ok = /^[A-Za-z_+\-/0-9]+$/.test(name)
    } catch {
      ok = false
    }
    if (known.size < 1000) known.set(name, ok)
  }
  return ok
}

/** A wall-clock reading in some time zone (month 1–12). */
export interface ZonedParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

// Building a DateTimeFormat costs far more than using one; hours-of-operation code reads the clock
// of one zone hundreds of times per request.
const formats = new Map<string, Intl.DateTimeFormat>()

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
    if (formats.size < 1000) formats.set(timeZone, f)
  }
  return f
}

/** What the wall clock in `timeZone` shows at `instant`. Throws RangeError for an unknown zone. */
export function zonedParts(instant: Date, timeZone: string): ZonedParts {
  const parts = formatFor(timeZone).formatToParts(instant)
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') }
}

/**
 * The instant at which the wall clock in `timeZone` shows this local date and time. A time that
 * does not exist (skipped by a DST change) moves forward by the gap; an ambiguous one (repeated)
 * takes the earlier instant. Day and month may overflow (day 32 is the 1st of the next month), as
 * with Date.UTC.
 */
export function zonedTimeToUtc(local: { year: number; month: number; day: number; hour: number; minute: number }, timeZone: string): Date {
  const wanted = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute)
  // How far the zone's clock is ahead of UTC at an instant.
  const offsetAt = (t: number) => {
    const p = zonedParts(new Date(t), timeZone)
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
