import { describe, expect, it } from 'vitest'
import { computeDueAt, parseDuration, parseLocalTime, zonedTimeToUtc } from './when.ts'

const at = (iso: string) => new Date(iso)
const due = (now: string, timeZone: string, o: { after?: string; at?: string }) => computeDueAt({ now: at(now), timeZone, ...o }).toISOString()

// Due times of check-ins in the person's time zone, across DST changes (2026: the US changes on
// 8 March and 1 November, the EU on 29 March and 25 October; Lord Howe Island shifts by 30 minutes).
describe('computeDueAt', () => {
  it('"after" alone is that long from now, whatever the zone', () => {
    expect(due('2026-03-08T06:30:00Z', 'America/New_York', { after: '30m' })).toBe('2026-03-08T07:00:00.000Z')
    expect(due('2026-03-07T12:00:00Z', 'America/New_York', { after: '1d' })).toBe('2026-03-08T12:00:00.000Z')
  })

  it('"at" alone is the next time the person’s clock shows it: today if still ahead, else tomorrow', () => {
    // 08:59 in New York (EST, UTC-5): today at nine.
    expect(due('2026-01-15T13:59:00Z', 'America/New_York', { at: '09:00' })).toBe('2026-01-15T14:00:00.000Z')
    // 09:00 exactly is still today; 09:01 is tomorrow.
    expect(due('2026-01-15T14:00:00Z', 'America/New_York', { at: '09:00' })).toBe('2026-01-15T14:00:00.000Z')
    expect(due('2026-01-15T14:01:00Z', 'America/New_York', { at: '09:00' })).toBe('2026-01-16T14:00:00.000Z')
    // Half-hour zone without DST.
    expect(due('2026-06-01T00:00:00Z', 'Asia/Kolkata', { at: '09:00' })).toBe('2026-06-01T03:30:00.000Z')
    // The local date decides "today", not the UTC date: 23:00 UTC is already tomorrow in Tokyo.
    expect(due('2026-06-01T23:00:00Z', 'Asia/Tokyo', { at: '09:00' })).toBe('2026-06-02T00:00:00.000Z')
  })

  it('"at 09:00" the day the clocks go forward is nine on the new offset', () => {
    // Saturday 15:00 EST → Sunday 09:00 EDT (UTC-4) = 13:00Z, not 14:00Z.
    expect(due('2026-03-07T20:00:00Z', 'America/New_York', { at: '09:00' })).toBe('2026-03-08T13:00:00.000Z')
    // London: Sunday 09:00 BST (UTC+1) = 08:00Z.
    expect(due('2026-03-28T12:00:00Z', 'Europe/London', { at: '09:00' })).toBe('2026-03-29T08:00:00.000Z')
  })

  it('"at 09:00" the day the clocks go back is nine on the new offset', () => {
    // Saturday 15:00 EDT → Sunday 09:00 EST (UTC-5) = 14:00Z.
    expect(due('2026-10-31T19:00:00Z', 'America/New_York', { at: '09:00' })).toBe('2026-11-01T14:00:00.000Z')
    expect(due('2026-10-24T12:00:00Z', 'Europe/Paris', { at: '09:00' })).toBe('2026-10-25T08:00:00.000Z')
  })

  it('a time skipped by the change moves forward by the gap; a repeated one takes the first', () => {
    // 02:30 does not exist in New York on 8 March 2026: 03:30 EDT.
    expect(due('2026-03-08T05:00:00Z', 'America/New_York', { at: '02:30' })).toBe('2026-03-08T07:30:00.000Z')
    // 01:30 happens twice on 1 November 2026: the first, 01:30 EDT = 05:30Z.
    expect(due('2026-11-01T04:00:00Z', 'America/New_York', { at: '01:30' })).toBe('2026-11-01T05:30:00.000Z')
    // Lord Howe goes back by 30 minutes (02:00 +11 → 01:30 +10:30) on 5 April 2026: 01:45 happens twice.
    expect(due('2026-04-04T12:00:00Z', 'Australia/Lord_Howe', { at: '01:45' })).toBe('2026-04-04T14:45:00.000Z')
  })

  it('"after 1d at 09:00" is tomorrow at nine on the person’s calendar, across a DST change too', () => {
    // Saturday 09:30 EST: tomorrow (Sunday, now EDT) at 09:00 — not 24 h later, not Monday.
    expect(due('2026-03-07T14:30:00Z', 'America/New_York', { after: '1d', at: '09:00' })).toBe('2026-03-08T13:00:00.000Z')
    // Saturday 20:00 EST: tomorrow at nine.
    expect(due('2026-03-08T01:00:00Z', 'America/New_York', { after: '1d', at: '09:00' })).toBe('2026-03-08T13:00:00.000Z')
    // Friday 23:30 in Paris, back to winter time on Sunday: "after 2d at 09:00" is Sunday 09:00 CET.
    expect(due('2026-10-23T21:30:00Z', 'Europe/Paris', { after: '2d', at: '09:00' })).toBe('2026-10-25T08:00:00.000Z')
    // A week.
    expect(due('2026-01-15T20:00:00Z', 'UTC', { after: '1w', at: '07:15' })).toBe('2026-01-22T07:15:00.000Z')
  })

  it('"after" with hours and "at": the first time the clock shows it once that long has passed', () => {
    // 08:00 + 2h = 10:00 → the next 09:00 is tomorrow's.
    expect(due('2026-01-15T13:00:00Z', 'America/New_York', { after: '2h', at: '09:00' })).toBe('2026-01-16T14:00:00.000Z')
    // 06:00 + 2h = 08:00 → today at nine.
    expect(due('2026-01-15T11:00:00Z', 'America/New_York', { after: '2h', at: '09:00' })).toBe('2026-01-15T14:00:00.000Z')
  })

  it('refuses what does not parse', () => {
    expect(() => computeDueAt({ now: new Date(), timeZone: 'UTC', after: 'soon' })).toThrow(RangeError)
    expect(() => computeDueAt({ now: new Date(), timeZone: 'UTC', at: '25:00' })).toThrow(RangeError)
  })
})

describe('parseDuration / parseLocalTime / zonedTimeToUtc', () => {
  it('parses what thread authors write', () => {
    expect(parseDuration('30m')).toBe(1_800_000)
    expect(parseDuration('1d 12h')).toBe(129_600_000)
    expect(parseDuration('2W')).toBe(14 * 86_400_000)
    expect(parseDuration('400d')).toBeUndefined()
    expect(parseDuration('1.5h')).toBeUndefined()
    expect(parseLocalTime('9:05')).toEqual({ hour: 9, minute: 5 })
    expect(parseLocalTime('24:00')).toBeUndefined()
  })
  it('finds the instant a wall clock shows', () => {
    expect(zonedTimeToUtc({ year: 2026, month: 7, day: 1, hour: 9, minute: 0 }, 'America/Los_Angeles').toISOString()).toBe('2026-07-01T16:00:00.000Z')
    expect(zonedTimeToUtc({ year: 2026, month: 12, day: 31, hour: 23, minute: 59 }, 'Pacific/Kiritimati').toISOString()).toBe('2026-12-31T09:59:00.000Z')
  })
})
