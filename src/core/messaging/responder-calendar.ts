import { isOpen, openSince, WEEKDAYS, type HoursOfOperation, type WeeklyHours } from '../contact-center/hours.ts'
import { isTimeZone } from '../../lib/timezone.ts'

/**
 * A responder's calendar (`spec/courier.md` #74 `calendar-args`): weekly rules `{day, start-time,
 * end-time}` on the wall clock of `timezone`. It is the contact center's hours of operation
 * (src/core/contact-center/hours.ts) in another notation, so DST, overnight rules (an end before the
 * start ends the next day) and overlapping rules behave as queue hours do: a wall-clock time skipped
 * by a DST change moves forward by the gap, a repeated one means its first occurrence.
 *
 * Times are `HH:MM`, `HH:MM:SS`, with or without the sample's trailing `Z`; they are local times of
 * `timezone` (the `Z` is the vendor's notation, not UTC) and precise to the minute (seconds are kept
 * as given and ignored). No rules: the calendar does not restrict the responder.
 */
export const RULE_DAYS = ['everyday', 'weekdays', 'weekends', ...WEEKDAYS] as const
export type RuleDay = (typeof RULE_DAYS)[number]

export interface CalendarRule { readonly day: RuleDay; readonly 'start-time': string; readonly 'end-time': string }
export interface CalendarArgs { readonly rules: readonly CalendarRule[]; readonly timezone: string }

export const DEFAULT_CALENDAR: CalendarArgs = { rules: [], timezone: 'UTC' }
export const TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?Z?$'
const TIME = new RegExp(TIME_PATTERN)

/** A calendar problem, at a JSON pointer relative to `calendar-args` (`/rules/0/end-time`). */
export interface CalendarProblem { readonly at: string; readonly message: string }

/** The first problem of a calendar the schema let through (zone, times, empty rules), or undefined. */
export function calendarProblem(c: CalendarArgs): CalendarProblem | undefined {
  if (!isTimeZone(c.timezone)) return { at: '/timezone', message: `timezone must be an IANA time zone such as "America/New_York", not "${c.timezone}"` }
  for (const [i, r] of c.rules.entries()) {
    if (!TIME.test(r['start-time'])) return { at: `/rules/${i}/start-time`, message: 'start-time must be HH:MM:SS (a local time)' }
    if (!TIME.test(r['end-time'])) return { at: `/rules/${i}/end-time`, message: 'end-time must be HH:MM:SS (a local time)' }
    if (r['start-time'].slice(0, 5) === r['end-time'].slice(0, 5)) return { at: `/rules/${i}/end-time`, message: 'end-time must differ from start-time (to the minute); an end before the start ends the next day' }
  }
  return undefined
}

/** The calendar as hours of operation (weekly intervals, no holidays). */
export function calendarHours(c: CalendarArgs): HoursOfOperation {
  const weekly: WeeklyHours[] = []
  for (const r of c.rules) {
    const days = r.day === 'everyday' ? WEEKDAYS : r.day === 'weekdays' ? WEEKDAYS.slice(0, 5) : r.day === 'weekends' ? WEEKDAYS.slice(5) : [r.day]
    const open = r['start-time'].slice(0, 5)
    const close = r['end-time'].slice(0, 5)
    for (const day of days) weekly.push({ day, open, close })
  }
  return { timeZone: c.timezone, weekly, holidays: [] }
}

/** What decides whether a responder answers at an instant. */
export interface ResponderSchedule {
  readonly enabled: boolean
  readonly startAt: Date | null
  readonly endAt: Date | null
  /** When the responder was last created, enabled or changed: no window begins before. */
  readonly armedAt: Date
  readonly calendar: CalendarArgs
}

/**
 * The start of the active window `at` is in, or null when the responder is not active then. Active:
 * enabled, `start-at` ≤ at < `end-at` (each optional), and inside a calendar interval (when there are
 * rules). The window begins at the latest of `start-at`, `armedAt` and the calendar interval's
 * opening: two instants of one window give the same start, so it keys "one reply per window".
 */
export function activeWindowStart(s: ResponderSchedule, at: Date): Date | null {
  const t = at.getTime()
  if (!s.enabled || (s.startAt && t < s.startAt.getTime()) || (s.endAt && t >= s.endAt.getTime())) return null
  let start = Math.max(s.startAt?.getTime() ?? -Infinity, s.armedAt.getTime())
  if (s.calendar.rules.length > 0) {
    const hours = calendarHours(s.calendar)
    if (!isOpen(hours, at)) return null
    start = Math.max(start, openSince(hours, at)!.getTime())
  }
  return new Date(Math.min(start, t))
}
