import { isTimeZone, zonedParts, zonedTimeToUtc } from '../../lib/timezone.ts'

/**
 * Hours of operation of a queue: weekly opening intervals and holidays on the wall clock of one
 * IANA time zone. Pure functions over the setup file's shape; instants are `Date`s, local dates and
 * times are strings as the setup file and the wire write them.
 *
 * Rules (the README, "Hours of operation", states them for operators):
 * - An interval opens at `open` on its day and closes at `close`; `close` may be `24:00`, and a
 *   `close` earlier than `open` (22:00–06:00) closes the next day.
 * - A holiday governs its whole calendar date: closed all day without `open`/`close`, otherwise
 *   open only in its own interval. The part of an overnight interval that runs into a holiday is
 *   cut at the holiday's midnight.
 * - Wall-clock times skipped by a DST change move forward by the gap (an interval inside the gap
 *   vanishes); a repeated one means its first occurrence (as `zonedTimeToUtc`).
 */

/** The days of the week, Monday first (ISO order). */
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const
/** A day of the week as the setup file and Q1 name it. */
export type Weekday = (typeof WEEKDAYS)[number]

/** One weekly opening interval, `HH:MM` local times. */
export interface WeeklyHours { day: Weekday; open: string; close: string }
/** A holiday on a local date `YYYY-MM-DD`: closed all day, or open only from `open` to `close`. */
export interface Holiday { date: string; name: string; open?: string; close?: string }
/** A queue's hours of operation. */
export interface HoursOfOperation { timeZone: string; weekly: WeeklyHours[]; holidays: Holiday[] }

/** A problem found by `validateHours`, at its path inside the checked value. */
export interface HoursProblem { path: string; message: string }

/** One slot of Q1 `callback_periods`, in the queue's zone. */
export interface CallbackPeriod { date: string; startTime: string; endTime: string; scheduledCalls: number; maxSlots: number }

const MINUTE_MS = 60_000
const DAY_MINUTES = 1440
/** How far ahead `nextChange` looks, and the longest callback window. */
const HORIZON_DAYS = 8

/** Minutes since midnight of `HH:MM` (00:00–23:59, and 24:00 when `endOfDay`); undefined otherwise. */
function parseClock(text: unknown, endOfDay: boolean): number | undefined {
  if (typeof text !== 'string') return undefined
  if (endOfDay && text === '24:00') return DAY_MINUTES
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text)
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined
}

/** Days since 1970-01-01 of a real calendar date `YYYY-MM-DD`; undefined otherwise. */
function parseDate(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return undefined
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const t = Date.UTC(y, mo - 1, d)
  const back = new Date(t)
  // Date.UTC rolls 2026-02-30 over to March: a date that does not read back is not a date.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined
  return t / 86_400_000
}

/** Monday = 0 … Sunday = 6 of a day number (1970-01-01 was a Thursday). */
function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7
}

/** The local day number of an instant in a zone. */
function localDay(instant: Date, timeZone: string): number {
  const p = zonedParts(instant, timeZone)
  return Date.UTC(p.year, p.month - 1, p.day) / 86_400_000
}

/** The instant of a local minute (day number × 1440 + minutes) in a zone. */
function toInstant(localMinute: number, timeZone: string): number {
  const d = new Date(localMinute * MINUTE_MS)
  return zonedTimeToUtc({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() }, timeZone).getTime()
}

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * The open intervals, as merged [start, end) instants in ms, of the intervals that open on local
 * days `fromDay` … `toDay`.
 */
function openIntervals(hours: HoursOfOperation, fromDay: number, toDay: number): Array<[number, number]> {
  const holidays = new Map<number, Holiday>()
  for (const h of hours.holidays) {
    const day = parseDate(h.date)
    if (day !== undefined) holidays.set(day, h)
  }
  const local: Array<[number, number]> = []
  const add = (day: number, open: string | undefined, close: string | undefined) => {
    const o = parseClock(open, false)
    const c = parseClock(close, true)
    if (o === undefined || c === undefined || o === c) return
    const start = day * DAY_MINUTES + o
    let end = (c > o ? day : day + 1) * DAY_MINUTES + c
    // The part after midnight belongs to the next date; a holiday there governs it.
    if (end > (day + 1) * DAY_MINUTES && holidays.has(day + 1)) end = (day + 1) * DAY_MINUTES
    local.push([start, end])
  }
  for (let day = fromDay; day <= toDay; day++) {
    const holiday = holidays.get(day)
    if (holiday) {
      add(day, holiday.open, holiday.close)
      continue
    }
    const weekday = WEEKDAYS[weekdayOf(day)]
    for (const w of hours.weekly) if (w.day === weekday) add(day, w.open, w.close)
  }
  const instants = local
    .map(([s, e]): [number, number] => [toInstant(s, hours.timeZone), toInstant(e, hours.timeZone)])
    // An interval inside a skipped hour has no instants at all.
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const iv of instants) {
    const last = merged.at(-1)
    if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1])
    else merged.push([iv[0], iv[1]])
  }
  return merged
}

function requireInstant(name: string, at: Date): number {
  const t = at.getTime()
  if (!Number.isFinite(t)) throw new RangeError(`${name} is not a valid date`)
  return t
}

/** True when the queue is open at `at` (open instants included, close instants excluded). */
export function isOpen(hours: HoursOfOperation, at: Date): boolean {
  const t = requireInstant('at', at)
  const day = localDay(at, hours.timeZone)
  return openIntervals(hours, day - 1, day + 1).some(([s, e]) => s <= t && t < e)
}

/**
 * The next instant after `at` at which the queue opens or closes, and whether it is open from
 * then on; null when nothing changes within eight days (always open, or closed for that long).
 */
export function nextChange(hours: HoursOfOperation, at: Date): { at: Date; open: boolean } | null {
  const t = requireInstant('at', at)
  const day = localDay(at, hours.timeZone)
  const limit = t + HORIZON_DAYS * 86_400_000
  for (const [s, e] of openIntervals(hours, day - 1, day + HORIZON_DAYS + 1)) {
    if (s <= t && t < e) return e <= limit ? { at: new Date(e), open: false } : null
    if (s > t) return s <= limit ? { at: new Date(s), open: true } : null
  }
  return null
}

/**
 * When the open stretch that contains `at` began (merged intervals, looking back at most eight
 * days: a longer stretch reads as begun eight local days back); null when closed at `at`.
 * Messaging responders (src/core/messaging/responder-calendar.ts) use it to tell one active window
 * from the next.
 */
export function openSince(hours: HoursOfOperation, at: Date): Date | null {
  const t = requireInstant('at', at)
  const day = localDay(at, hours.timeZone)
  const interval = openIntervals(hours, day - HORIZON_DAYS, day + 1).find(([s, e]) => s <= t && t < e)
  return interval ? new Date(interval[0]) : null
}

/** The weekly hours in Q1's wire-neutral form, Monday first, then by opening time. */
export function hoursOfOperation(hours: HoursOfOperation): WeeklyHours[] {
  return hours.weekly
    .map((w) => ({ day: w.day, open: w.open, close: w.close }))
    .sort((a, b) => WEEKDAYS.indexOf(a.day) - WEEKDAYS.indexOf(b.day) || a.open.localeCompare(b.open))
}

/** The holidays on the `days` local dates starting with the one of `at` in the queue's zone, by date. */
export function holidaysFrom(hours: HoursOfOperation, at: Date, days: number): Holiday[] {
  requireInstant('at', at)
  if (!Number.isSafeInteger(days) || days < 0) throw new RangeError('days must be an integer ≥ 0')
  const first = localDay(at, hours.timeZone)
  return hours.holidays
    .filter((h) => {
      const d = parseDate(h.date)
      return d !== undefined && d >= first && d < first + days
    })
    .map((h) => ({ ...h }))
    .sort((a, b) => a.date.localeCompare(b.date))
}

/**
 * Q1 `callback_periods`: the slots of `slotMinutes` on the queue's wall clock (starting at
 * multiples of `slotMinutes` after local midnight: :00, :15, :30, :45) that begin at or after
 * `from` and end within `periodHours` of it, keeping only slots the queue is open for entirely.
 * `scheduled` counts the callbacks already booked in a slot. Throws RangeError for a period that
 * is not > 0 and ≤ 192 hours, a slot length that is not a whole number of minutes from 1 to 1440,
 * or a `maxSlots` that is not an integer ≥ 0.
 */
export function callbackPeriods(
  hours: HoursOfOperation,
  opts: { from: Date; periodHours: number; slotMinutes?: number; scheduled: (slotStart: Date) => number; maxSlots: number },
): CallbackPeriod[] {
  const from = requireInstant('from', opts.from)
  const slot = opts.slotMinutes ?? 15
  if (!Number.isFinite(opts.periodHours) || opts.periodHours <= 0 || opts.periodHours > HORIZON_DAYS * 24) throw new RangeError('periodHours must be > 0 and ≤ 192')
  if (!Number.isSafeInteger(slot) || slot < 1 || slot > DAY_MINUTES) throw new RangeError('slotMinutes must be a whole number from 1 to 1440')
  if (!Number.isSafeInteger(opts.maxSlots) || opts.maxSlots < 0) throw new RangeError('maxSlots must be an integer ≥ 0')
  const slotMs = slot * MINUTE_MS
  const end = from + opts.periodHours * 3_600_000
  // The first slot boundary on the local clock at or after `from`.
  const p = zonedParts(opts.from, hours.timeZone)
  const wholeMinute = from - p.second * 1000 - (((from % 1000) + 1000) % 1000)
  const remainder = (p.hour * 60 + p.minute) % slot
  let start = remainder === 0 && wholeMinute === from ? from : wholeMinute + (slot - remainder) * MINUTE_MS
  const day = localDay(opts.from, hours.timeZone)
  const open = openIntervals(hours, day - 1, day + Math.ceil(opts.periodHours / 24) + 1)
  const periods: CallbackPeriod[] = []
  for (; start + slotMs <= end; start += slotMs) {
    if (!open.some(([s, e]) => s <= start && start + slotMs <= e)) continue
    const a = zonedParts(new Date(start), hours.timeZone)
    const b = zonedParts(new Date(start + slotMs), hours.timeZone)
    periods.push({
      date: `${a.year}${pad(a.month)}${pad(a.day)}`,
      startTime: `${pad(a.hour)}:${pad(a.minute)}`,
      endTime: `${pad(b.hour)}:${pad(b.minute)}`,
      scheduledCalls: opts.scheduled(new Date(start)),
      maxSlots: opts.maxSlots,
    })
  }
  return periods
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Every problem of a value meant as hours of operation, for the setup-file checker: an unknown
 * time zone, a day that is not a weekday name, a time that is not `HH:MM` (`24:00` only as a
 * close), an interval that opens and closes at the same time, intervals that overlap (in the
 * weekly cycle, overnight ones included), a date that is not a real `YYYY-MM-DD`, a holiday with
 * only one of open/close, a holiday date given twice. Paths are relative to the value, prefixed
 * with `base` (`queues.Support.hours` → `queues.Support.hours.weekly[2].close`). Empty when valid.
 */
export function validateHours(input: unknown, base = ''): HoursProblem[] {
  const problems: HoursProblem[] = []
  const problem = (path: string, message: string): void => {
    problems.push({ path: base === '' ? path : `${base}.${path}`, message })
  }
  if (!isObject(input)) return [{ path: base === '' ? '(hours)' : base, message: 'must be an object with timeZone, weekly and holidays' }]
  if (typeof input.timeZone !== 'string' || !isTimeZone(input.timeZone)) problem('timeZone', `not a known IANA time zone (e.g. "America/New_York"): ${JSON.stringify(input.timeZone ?? null)}`)

  // Weekly intervals as minutes of the week (Monday 00:00 = 0), to find overlaps across midnight
  // and across Sunday → Monday.
  const spans: Array<{ start: number; end: number; index: number }> = []
  if (!Array.isArray(input.weekly)) problem('weekly', 'must be a list of {day, open, close}')
  else {
    input.weekly.forEach((w: unknown, i) => {
      const path = `weekly[${i}]`
      if (!isObject(w)) return problem(path, 'must be an object {day, open, close}')
      const dayIndex = WEEKDAYS.indexOf(w.day as Weekday)
      if (dayIndex < 0) problem(`${path}.day`, `must be one of ${WEEKDAYS.join(', ')}`)
      const o = parseClock(w.open, false)
      const c = parseClock(w.close, true)
      if (o === undefined) problem(`${path}.open`, 'not a local time HH:MM (00:00–23:59)')
      if (c === undefined) problem(`${path}.close`, 'not a local time HH:MM (00:00–24:00)')
      if (o === undefined || c === undefined) return
      if (o === c) return problem(path, `opens and closes at ${String(w.open)}: write 00:00–24:00 for a whole day`)
      if (dayIndex >= 0) spans.push({ start: dayIndex * DAY_MINUTES + o, end: (c > o ? dayIndex : dayIndex + 1) * DAY_MINUTES + c, index: i })
    })
  }
  const week = 7 * DAY_MINUTES
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!
      const b = spans[j]!
      // Compare b also one week on and back: Sunday 22:00–06:00 runs into Monday.
      const overlaps = [-week, 0, week].some((shift) => a.start < b.end + shift && b.start + shift < a.end)
      if (overlaps) problem(`weekly[${b.index}]`, `overlaps weekly[${a.index}]`)
    }
  }

  if (!Array.isArray(input.holidays)) problem('holidays', 'must be a list of {date, name} (empty when there are none)')
  else {
    const seen = new Map<number, number>()
    input.holidays.forEach((h: unknown, i) => {
      const path = `holidays[${i}]`
      if (!isObject(h)) return problem(path, 'must be an object {date, name, open?, close?}')
      const day = parseDate(h.date)
      if (day === undefined) problem(`${path}.date`, 'not a date YYYY-MM-DD')
      else {
        const first = seen.get(day)
        if (first !== undefined) problem(`${path}.date`, `${String(h.date)} is also holidays[${first}]`)
        else seen.set(day, i)
      }
      if (typeof h.name !== 'string' || h.name.trim() === '') problem(`${path}.name`, 'must be a non-empty text')
      if ((h.open === undefined) !== (h.close === undefined)) return problem(path, 'has open and close together, or neither (closed all day)')
      if (h.open === undefined) return
      const o = parseClock(h.open, false)
      const c = parseClock(h.close, true)
      if (o === undefined) problem(`${path}.open`, 'not a local time HH:MM (00:00–23:59)')
      if (c === undefined) problem(`${path}.close`, 'not a local time HH:MM (00:00–24:00)')
      if (o !== undefined && o === c) problem(path, `opens and closes at ${String(h.open)}: write 00:00–24:00 for a whole day`)
    })
  }
  return problems
}
