import { describe, expect, it } from 'vitest'
import { activeWindowStart, calendarHours, calendarProblem, type CalendarArgs, type ResponderSchedule } from './responder-calendar.ts'
import { renderPlaceholders, unknownPlaceholders } from './placeholders.ts'

// New York in 2026: EST (UTC−5) until Sunday 8 March 02:00, EDT (UTC−4) afterwards.
// 7 March 2026 is a Saturday, 9 March a Monday.
const NY = 'America/New_York'
const at = (iso: string) => new Date(iso)
const schedule = (calendar: CalendarArgs, extra: Partial<ResponderSchedule> = {}): ResponderSchedule =>
  ({ enabled: true, startAt: null, endAt: null, armedAt: at('2026-01-01T00:00:00Z'), calendar, ...extra })
const evenings: CalendarArgs = { timezone: NY, rules: [{ day: 'everyday', 'start-time': '18:00:00Z', 'end-time': '08:00:00Z' }] }

describe('responder calendar', () => {
  it('follows the local clock across the DST change: 18:00 is 23:00 UTC before it and 22:00 UTC after', () => {
    expect(activeWindowStart(schedule(evenings), at('2026-03-06T22:30:00Z'))).toBeNull() // 17:30 EST Friday
    expect(activeWindowStart(schedule(evenings), at('2026-03-06T23:30:00Z'))).toEqual(at('2026-03-06T23:00:00Z'))
    expect(activeWindowStart(schedule(evenings), at('2026-03-09T22:30:00Z'))).toEqual(at('2026-03-09T22:00:00Z')) // 18:30 EDT Monday
    // The night of the change: Saturday 18:00 EST until Sunday 08:00 EDT is one window, 13 hours long.
    expect(activeWindowStart(schedule(evenings), at('2026-03-08T11:59:00Z'))).toEqual(at('2026-03-07T23:00:00Z'))
    expect(activeWindowStart(schedule(evenings), at('2026-03-08T12:00:00Z'))).toBeNull() // 08:00 EDT
  })

  it('moves a start inside the skipped hour forward by the gap', () => {
    const skipped: CalendarArgs = { timezone: NY, rules: [{ day: 'sunday', 'start-time': '02:30:00', 'end-time': '05:00:00' }] }
    // 02:30 does not exist that Sunday: the rule starts an hour later on the wall clock, 03:30 EDT.
    expect(activeWindowStart(schedule(skipped), at('2026-03-08T07:29:00Z'))).toBeNull() // 03:29 EDT
    expect(activeWindowStart(schedule(skipped), at('2026-03-08T07:30:00Z'))).toEqual(at('2026-03-08T07:30:00Z'))
    expect(activeWindowStart(schedule(skipped), at('2026-03-15T06:30:00Z'))).toEqual(at('2026-03-15T06:30:00Z')) // a week on: 02:30 EDT
  })

  it('keeps one window start for every instant of a window, and a new one for the next window', () => {
    const a = activeWindowStart(schedule(evenings), at('2026-03-10T23:00:00Z'))
    const b = activeWindowStart(schedule(evenings), at('2026-03-11T05:00:00Z'))
    const next = activeWindowStart(schedule(evenings), at('2026-03-11T23:00:00Z'))
    expect(a).toEqual(b)
    expect(next!.getTime()).toBeGreaterThan(a!.getTime())
  })

  it('names weekdays, weekends and single days; honours start-at, end-at, armed-at and enabled', () => {
    const weekdays: CalendarArgs = { timezone: 'UTC', rules: [{ day: 'weekdays', 'start-time': '09:00', 'end-time': '17:00' }] }
    expect(calendarHours(weekdays).weekly.map((w) => w.day)).toEqual(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'])
    expect(activeWindowStart(schedule(weekdays), at('2026-03-07T10:00:00Z'))).toBeNull() // Saturday
    const always: CalendarArgs = { timezone: 'UTC', rules: [] }
    const s = schedule(always, { startAt: at('2026-03-01T00:00:00Z'), endAt: at('2026-03-02T00:00:00Z'), armedAt: at('2026-02-01T00:00:00Z') })
    expect(activeWindowStart(s, at('2026-02-28T23:59:59Z'))).toBeNull()
    expect(activeWindowStart(s, at('2026-03-01T12:00:00Z'))).toEqual(at('2026-03-01T00:00:00Z'))
    expect(activeWindowStart(s, at('2026-03-02T00:00:00Z'))).toBeNull()
    expect(activeWindowStart({ ...s, armedAt: at('2026-03-01T06:00:00Z') }, at('2026-03-01T12:00:00Z'))).toEqual(at('2026-03-01T06:00:00Z'))
    expect(activeWindowStart({ ...s, enabled: false }, at('2026-03-01T12:00:00Z'))).toBeNull()
  })

  it('reports an unknown zone, a bad time and an empty rule at their place', () => {
    expect(calendarProblem({ timezone: 'Mars/Olympus', rules: [] })?.at).toBe('/timezone')
    expect(calendarProblem({ timezone: 'UTC', rules: [{ day: 'monday', 'start-time': '25:00:00Z', 'end-time': '10:00:00Z' }] })?.at).toBe('/rules/0/start-time')
    expect(calendarProblem({ timezone: 'UTC', rules: [{ day: 'monday', 'start-time': '10:00:05Z', 'end-time': '10:00:40Z' }] })?.at).toBe('/rules/0/end-time')
    expect(calendarProblem(evenings)).toBeUndefined()
  })
})

describe('placeholders', () => {
  it('renders names and organisation, case-insensitively, and lists unknown ones', () => {
    const subject = { firstName: 'Lucia', lastName: 'Romero', preferredName: 'Lu', organization: 'North Clinic' }
    expect(renderPlaceholders('Hi {{ Preferred-Name }} ({{first-name}} {{last-name}}, {{name}}) of {{organization}}', subject)).toBe('Hi Lu (Lucia Romero, Lu Romero) of North Clinic')
    expect(renderPlaceholders('Hi {{name}}!', null)).toBe('Hi !')
    expect(unknownPlaceholders('{{name}} {{nickname}} {{x}}')).toEqual(['nickname', 'x'])
  })
})
