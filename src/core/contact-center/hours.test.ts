import { describe, expect, it } from 'vitest'
import { callbackPeriods, holidaysFrom, hoursOfOperation, isOpen, nextChange, validateHours, type HoursOfOperation, type WeeklyHours } from './hours.ts'

// New York in 2026: EST (UTC−5) until Sunday 8 March 02:00, EDT (UTC−4) until Sunday 1 November 02:00.
// 15 January 2026 is a Thursday; 25 December 2026 a Friday.
const NY = 'America/New_York'
const at = (iso: string) => new Date(iso)
const weekdays = (open: string, close: string): WeeklyHours[] =>
  (['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const).map((day) => ({ day, open, close }))

const office: HoursOfOperation = {
  timeZone: NY,
  weekly: [...weekdays('09:00', '17:00'), { day: 'saturday', open: '10:00', close: '14:00' }],
  holidays: [
    { date: '2026-12-25', name: 'Christmas Day' },
    { date: '2026-12-24', name: 'Christmas Eve', open: '09:00', close: '12:00' },
  ],
}
const allWeek = (timeZone: string): HoursOfOperation => ({
  timeZone,
  weekly: (['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const).map((day) => ({ day, open: '00:00', close: '24:00' })),
  holidays: [],
})
// A night line: Saturday 22:00 to Sunday 06:00, then Monday office hours.
const night: HoursOfOperation = {
  timeZone: NY,
  weekly: [{ day: 'saturday', open: '22:00', close: '06:00' }, { day: 'monday', open: '09:00', close: '17:00' }],
  holidays: [],
}

describe('isOpen', () => {
  it('opens at the open time and closes at the close time, on the zone’s clock', () => {
    // Thursday 09:00 EST = 14:00Z.
    expect(isOpen(office, at('2026-01-15T13:59:59Z'))).toBe(false)
    expect(isOpen(office, at('2026-01-15T14:00:00Z'))).toBe(true)
    expect(isOpen(office, at('2026-01-15T21:59:00Z'))).toBe(true)
    expect(isOpen(office, at('2026-01-15T22:00:00Z'))).toBe(false)
    // Sunday: no interval.
    expect(isOpen(office, at('2026-01-18T16:00:00Z'))).toBe(false)
    // Saturday 10:00–14:00.
    expect(isOpen(office, at('2026-01-17T16:00:00Z'))).toBe(true)
    expect(isOpen(office, at('2026-01-17T19:00:00Z'))).toBe(false)
  })

  it('a holiday without hours is closed all day; one with hours is open only then', () => {
    expect(isOpen(office, at('2026-12-25T15:00:00Z'))).toBe(false) // Friday 10:00 EST, Christmas
    expect(isOpen(office, at('2026-12-24T16:00:00Z'))).toBe(true) // Thursday 11:00 EST, Christmas Eve
    expect(isOpen(office, at('2026-12-24T17:00:00Z'))).toBe(false) // 12:00: closed early
    expect(isOpen(office, at('2026-12-18T17:00:00Z'))).toBe(true) // the Friday before: a normal day
  })

  it('an interval crossing midnight closes the next day, across the spring-forward night too', () => {
    // Saturday 7 March 22:00 EST = 03:00Z; Sunday 8 March 06:00 EDT = 10:00Z (seven real hours).
    expect(isOpen(night, at('2026-03-08T02:59:00Z'))).toBe(false)
    expect(isOpen(night, at('2026-03-08T03:00:00Z'))).toBe(true)
    expect(isOpen(night, at('2026-03-08T09:59:00Z'))).toBe(true)
    expect(isOpen(night, at('2026-03-08T10:00:00Z'))).toBe(false)
    // Monday 9 March 09:00 is EDT now: 13:00Z, not 14:00Z.
    expect(isOpen(night, at('2026-03-09T12:59:00Z'))).toBe(false)
    expect(isOpen(night, at('2026-03-09T13:00:00Z'))).toBe(true)
  })

  it('across the fall-back night the same interval lasts nine hours', () => {
    // Saturday 31 October 22:00 EDT = 02:00Z; Sunday 1 November 06:00 EST = 11:00Z.
    expect(isOpen(night, at('2026-11-01T01:59:00Z'))).toBe(false)
    expect(isOpen(night, at('2026-11-01T02:00:00Z'))).toBe(true)
    expect(isOpen(night, at('2026-11-01T10:59:00Z'))).toBe(true)
    expect(isOpen(night, at('2026-11-01T11:00:00Z'))).toBe(false)
  })

  it('an interval inside the hour that spring-forward skips does not happen', () => {
    // Sunday 1 March 02:30 EST exists; Sunday 8 March it does not.
    const sundayHour: HoursOfOperation = { timeZone: NY, weekly: [{ day: 'sunday', open: '02:00', close: '03:00' }], holidays: [] }
    expect(isOpen(sundayHour, at('2026-03-01T07:30:00Z'))).toBe(true)
    expect(isOpen(sundayHour, at('2026-03-08T06:59:00Z'))).toBe(false)
    expect(isOpen(sundayHour, at('2026-03-08T07:00:00Z'))).toBe(false)
    expect(nextChange(sundayHour, at('2026-03-07T12:00:00Z'))).toEqual({ at: at('2026-03-15T06:00:00Z'), open: true })
  })

  it('a holiday cuts the part of an overnight interval that runs into it', () => {
    const lateThursday: HoursOfOperation = { timeZone: NY, weekly: [{ day: 'thursday', open: '22:00', close: '06:00' }], holidays: [{ date: '2026-12-25', name: 'Christmas Day' }] }
    // Thursday 24 December 22:00 EST = 03:00Z on the 25th; the holiday starts at midnight (05:00Z).
    expect(isOpen(lateThursday, at('2026-12-25T04:59:00Z'))).toBe(true)
    expect(isOpen(lateThursday, at('2026-12-25T05:00:00Z'))).toBe(false)
    // A week earlier, no holiday: open until 06:00 (11:00Z).
    expect(isOpen(lateThursday, at('2026-12-18T10:59:00Z'))).toBe(true)
    // A holiday's own overnight hours run into an ordinary day.
    const eve: HoursOfOperation = { timeZone: NY, weekly: [], holidays: [{ date: '2026-12-31', name: 'New Year’s Eve', open: '20:00', close: '02:00' }] }
    expect(isOpen(eve, at('2027-01-01T06:59:00Z'))).toBe(true)
    expect(isOpen(eve, at('2027-01-01T07:00:00Z'))).toBe(false)
  })

  it('refuses an invalid date', () => {
    expect(() => isOpen(office, new Date(NaN))).toThrow(RangeError)
  })
})

describe('nextChange', () => {
  it('is the next opening when closed and the next closing when open', () => {
    expect(nextChange(office, at('2026-01-15T12:00:00Z'))).toEqual({ at: at('2026-01-15T14:00:00Z'), open: true })
    expect(nextChange(office, at('2026-01-15T14:00:00Z'))).toEqual({ at: at('2026-01-15T22:00:00Z'), open: false })
    // Friday 17:00: Saturday 10:00 EST.
    expect(nextChange(office, at('2026-01-16T22:00:00Z'))).toEqual({ at: at('2026-01-17T15:00:00Z'), open: true })
    // Saturday 14:00: Monday 09:00.
    expect(nextChange(office, at('2026-01-17T19:00:00Z'))).toEqual({ at: at('2026-01-19T14:00:00Z'), open: true })
  })

  it('skips holidays and honours their hours', () => {
    // Christmas Eve closes at 12:00; Christmas is closed; Saturday 26th opens at 10:00.
    expect(nextChange(office, at('2026-12-24T16:00:00Z'))).toEqual({ at: at('2026-12-24T17:00:00Z'), open: false })
    expect(nextChange(office, at('2026-12-24T17:00:00Z'))).toEqual({ at: at('2026-12-26T15:00:00Z'), open: true })
  })

  it('crosses DST changes on the zone’s clock', () => {
    expect(nextChange(night, at('2026-03-08T04:00:00Z'))).toEqual({ at: at('2026-03-08T10:00:00Z'), open: false })
    expect(nextChange(night, at('2026-03-08T10:00:00Z'))).toEqual({ at: at('2026-03-09T13:00:00Z'), open: true })
    expect(nextChange(night, at('2026-11-01T03:00:00Z'))).toEqual({ at: at('2026-11-01T11:00:00Z'), open: false })
  })

  it('joins intervals that touch: no change at a midnight between two open days', () => {
    const h: HoursOfOperation = { timeZone: NY, weekly: [{ day: 'monday', open: '00:00', close: '24:00' }, { day: 'tuesday', open: '00:00', close: '12:00' }], holidays: [] }
    // Monday 12 January 10:00 EST: closes Tuesday 12:00 EST.
    expect(nextChange(h, at('2026-01-12T15:00:00Z'))).toEqual({ at: at('2026-01-13T17:00:00Z'), open: false })
  })

  it('agrees with isOpen every 30 minutes through both DST weeks', () => {
    for (const [hours, first] of [[office, '2026-03-04T00:00:00Z'], [night, '2026-03-04T00:00:00Z'], [office, '2026-10-28T00:00:00Z'], [night, '2026-10-28T00:00:00Z']] as const) {
      for (let t = Date.parse(first); t < Date.parse(first) + 8 * 86_400_000; t += 30 * 60_000) {
        const change = nextChange(hours, new Date(t))!
        expect(change.open).toBe(!isOpen(hours, new Date(t)))
        expect(isOpen(hours, change.at)).toBe(change.open)
        expect(isOpen(hours, new Date(change.at.getTime() - 1))).toBe(!change.open)
      }
    }
  })

  it('is null when nothing changes within eight days', () => {
    expect(nextChange(allWeek(NY), at('2026-03-08T07:30:00Z'))).toBeNull()
    expect(isOpen(allWeek(NY), at('2026-03-08T07:30:00Z'))).toBe(true)
    expect(nextChange({ timeZone: NY, weekly: [], holidays: [] }, at('2026-01-15T12:00:00Z'))).toBeNull()
    // Mondays only, and next Monday a holiday: the Monday after is 13 days away.
    const mondays: HoursOfOperation = { timeZone: NY, weekly: [{ day: 'monday', open: '09:00', close: '17:00' }], holidays: [{ date: '2026-01-19', name: 'MLK Day' }] }
    expect(nextChange(mondays, at('2026-01-13T12:00:00Z'))).toBeNull()
    expect(nextChange(mondays, at('2026-01-20T12:00:00Z'))).toEqual({ at: at('2026-01-26T14:00:00Z'), open: true })
  })
})

describe('hoursOfOperation and holidaysFrom', () => {
  it('lists the weekly hours Monday first, then by opening time', () => {
    const h: HoursOfOperation = {
      timeZone: NY,
      weekly: [{ day: 'sunday', open: '10:00', close: '12:00' }, { day: 'monday', open: '13:00', close: '17:00' }, { day: 'monday', open: '08:00', close: '12:00' }],
      holidays: [],
    }
    expect(hoursOfOperation(h)).toEqual([
      { day: 'monday', open: '08:00', close: '12:00' },
      { day: 'monday', open: '13:00', close: '17:00' },
      { day: 'sunday', open: '10:00', close: '12:00' },
    ])
  })

  it('lists the holidays of the next days from the local date in the queue’s zone', () => {
    // 24 December 04:00Z is still the 23rd in New York.
    expect(holidaysFrom(office, at('2026-12-24T04:00:00Z'), 2).map((h) => h.date)).toEqual(['2026-12-24'])
    expect(holidaysFrom(office, at('2026-12-24T04:00:00Z'), 3)).toEqual([
      { date: '2026-12-24', name: 'Christmas Eve', open: '09:00', close: '12:00' },
      { date: '2026-12-25', name: 'Christmas Day' },
    ])
    expect(holidaysFrom(office, at('2026-12-26T12:00:00Z'), 30)).toEqual([])
    expect(() => holidaysFrom(office, at('2026-12-26T12:00:00Z'), -1)).toThrow(RangeError)
  })
})

describe('callbackPeriods', () => {
  const none = () => 0

  it('gives the open 15-minute slots from the next slot boundary, in the queue’s zone', () => {
    // Thursday 11:07 EST, four hours: 11:15 … 14:45–15:00.
    const slots = callbackPeriods(office, { from: at('2026-01-15T16:07:00Z'), periodHours: 4, scheduled: none, maxSlots: 3 })
    expect(slots).toHaveLength(15)
    expect(slots[0]).toEqual({ date: '20260115', startTime: '11:15', endTime: '11:30', scheduledCalls: 0, maxSlots: 3 })
    expect(slots.at(-1)).toMatchObject({ startTime: '14:45', endTime: '15:00' })
  })

  it('keeps only slots inside the hours and counts the booked callbacks of each', () => {
    // Thursday 15:00 EST, four hours: open until 17:00.
    const booked = (s: Date) => (s.toISOString() === '2026-01-15T21:00:00.000Z' ? 2 : 0)
    const slots = callbackPeriods(office, { from: at('2026-01-15T20:00:00Z'), periodHours: 4, scheduled: booked, maxSlots: 2 })
    expect(slots.map((s) => s.startTime)).toEqual(['15:00', '15:15', '15:30', '15:45', '16:00', '16:15', '16:30', '16:45'])
    expect(slots.at(-1)!.endTime).toBe('17:00')
    expect(slots.find((s) => s.startTime === '16:00')!.scheduledCalls).toBe(2)
    // Christmas Eve closes at 12:00; from 08:50 only 09:00–12:00.
    expect(callbackPeriods(office, { from: at('2026-12-24T13:50:00Z'), periodHours: 4, scheduled: none, maxSlots: 1 })).toHaveLength(12)
    // Christmas: none.
    expect(callbackPeriods(office, { from: at('2026-12-25T14:00:00Z'), periodHours: 8, scheduled: none, maxSlots: 1 })).toEqual([])
  })

  it('steps over the hour spring-forward skips', () => {
    // Sunday 8 March 01:00 EST, two hours (until 04:00 EDT) of the night line.
    const slots = callbackPeriods(night, { from: at('2026-03-08T06:00:00Z'), periodHours: 2, scheduled: none, maxSlots: 1 })
    expect(slots.map((s) => `${s.startTime}-${s.endTime}`)).toEqual(['01:00-01:15', '01:15-01:30', '01:30-01:45', '01:45-03:00', '03:00-03:15', '03:15-03:30', '03:30-03:45', '03:45-04:00'])
    expect(new Set(slots.map((s) => s.date))).toEqual(new Set(['20260308']))
  })

  it('gives the hour fall-back repeats twice', () => {
    // Sunday 1 November 01:00 EDT, two hours: 01:00–02:00 EDT, then 01:00–02:00 EST.
    const slots = callbackPeriods(night, { from: at('2026-11-01T05:00:00Z'), periodHours: 2, scheduled: none, maxSlots: 1 })
    expect(slots.map((s) => s.startTime)).toEqual(['01:00', '01:15', '01:30', '01:45', '01:00', '01:15', '01:30', '01:45'])
  })

  it('aligns slots to the local clock in a half-hour zone, and crosses local midnight', () => {
    // 09:10 in Kolkata (UTC+5:30): hourly slots start at 10:00 IST = 04:30Z.
    const slots = callbackPeriods(allWeek('Asia/Kolkata'), { from: at('2026-06-01T03:40:00Z'), periodHours: 3, slotMinutes: 60, scheduled: none, maxSlots: 5 })
    expect(slots.map((s) => s.startTime)).toEqual(['10:00', '11:00'])
    // 23:30 in New York: the slots after midnight carry the next date.
    const late = callbackPeriods(allWeek(NY), { from: at('2026-01-16T04:30:00Z'), periodHours: 1, scheduled: none, maxSlots: 1 })
    expect(late.map((s) => `${s.date} ${s.startTime}-${s.endTime}`)).toEqual(['20260115 23:30-23:45', '20260115 23:45-00:00', '20260116 00:00-00:15', '20260116 00:15-00:30'])
  })

  it('refuses a bad period, slot length or capacity', () => {
    const from = at('2026-01-15T16:00:00Z')
    expect(() => callbackPeriods(office, { from, periodHours: 0, scheduled: none, maxSlots: 1 })).toThrow(RangeError)
    expect(() => callbackPeriods(office, { from, periodHours: NaN, scheduled: none, maxSlots: 1 })).toThrow(RangeError)
    expect(() => callbackPeriods(office, { from, periodHours: 1000, scheduled: none, maxSlots: 1 })).toThrow(RangeError)
    expect(() => callbackPeriods(office, { from, periodHours: 4, slotMinutes: 7.5, scheduled: none, maxSlots: 1 })).toThrow(RangeError)
    expect(() => callbackPeriods(office, { from, periodHours: 4, scheduled: none, maxSlots: -1 })).toThrow(RangeError)
  })
})

describe('validateHours', () => {
  it('accepts valid hours, overnight intervals and 24:00 included', () => {
    expect(validateHours(office)).toEqual([])
    expect(validateHours(night)).toEqual([])
    expect(validateHours(allWeek('Europe/Paris'))).toEqual([])
  })

  it('reports every problem at its path', () => {
    const problems = validateHours({
      timeZone: 'Mars/Olympus',
      weekly: [
        { day: 'funday', open: '09:00', close: '17:00' },
        { day: 'monday', open: '9:00', close: '25:00' },
        { day: 'tuesday', open: '24:00', close: '10:00' },
        { day: 'wednesday', open: '10:00', close: '10:00' },
      ],
      holidays: [
        { date: '2026-02-30', name: 'Nope' },
        { date: '2026-12-25', name: '' },
        { date: '2026-12-25', name: 'Again', open: '09:00' },
      ],
    }, 'queues.Support.hours')
    expect(problems).toEqual([
      { path: 'queues.Support.hours.timeZone', message: 'not a known IANA time zone (e.g. "America/New_York"): "Mars/Olympus"' },
      { path: 'queues.Support.hours.weekly[0].day', message: 'must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday' },
      { path: 'queues.Support.hours.weekly[1].open', message: 'not a local time HH:MM (00:00–23:59)' },
      { path: 'queues.Support.hours.weekly[1].close', message: 'not a local time HH:MM (00:00–24:00)' },
      { path: 'queues.Support.hours.weekly[2].open', message: 'not a local time HH:MM (00:00–23:59)' },
      { path: 'queues.Support.hours.weekly[3]', message: 'opens and closes at 10:00: write 00:00–24:00 for a whole day' },
      { path: 'queues.Support.hours.holidays[0].date', message: 'not a date YYYY-MM-DD' },
      { path: 'queues.Support.hours.holidays[1].name', message: 'must be a non-empty text' },
      { path: 'queues.Support.hours.holidays[2].date', message: '2026-12-25 is also holidays[1]' },
      { path: 'queues.Support.hours.holidays[2]', message: 'has open and close together, or neither (closed all day)' },
    ])
  })

  it('reports overlapping intervals, overnight ones into the next day and Sunday into Monday', () => {
    const h = (weekly: WeeklyHours[]) => validateHours({ timeZone: NY, weekly, holidays: [] })
    expect(h([{ day: 'monday', open: '09:00', close: '13:00' }, { day: 'monday', open: '12:00', close: '17:00' }])).toEqual([{ path: 'weekly[1]', message: 'overlaps weekly[0]' }])
    expect(h([{ day: 'friday', open: '22:00', close: '06:00' }, { day: 'saturday', open: '05:00', close: '09:00' }])).toEqual([{ path: 'weekly[1]', message: 'overlaps weekly[0]' }])
    expect(h([{ day: 'monday', open: '00:00', close: '08:00' }, { day: 'sunday', open: '23:00', close: '01:00' }])).toEqual([{ path: 'weekly[1]', message: 'overlaps weekly[0]' }])
    // Touching is not overlapping.
    expect(h([{ day: 'monday', open: '09:00', close: '12:00' }, { day: 'monday', open: '12:00', close: '17:00' }])).toEqual([])
  })

  it('reports a value of the wrong shape without throwing', () => {
    expect(validateHours(null)).toEqual([{ path: '(hours)', message: 'must be an object with timeZone, weekly and holidays' }])
    expect(validateHours({ timeZone: NY })).toEqual([
      { path: 'weekly', message: 'must be a list of {day, open, close}' },
      { path: 'holidays', message: 'must be a list of {date, name} (empty when there are none)' },
    ])
    expect(validateHours({ timeZone: NY, weekly: ['x'], holidays: [3] })).toEqual([
      { path: 'weekly[0]', message: 'must be an object {day, open, close}' },
      { path: 'holidays[0]', message: 'must be an object {date, name, open?, close?}' },
    ])
  })
})
