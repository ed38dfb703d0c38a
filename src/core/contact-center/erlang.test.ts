import { describe, expect, it } from 'vitest'
import {
  averageSpeedOfAnswer, DEFAULT_AHT_SECONDS, erlangC, estimateWait, forecastWait, MAX_REPORTED_WAIT_SECONDS, reportedWait, serviceLevel, trafficErlangs,
} from './erlang.ts'

describe('erlangC, averageSpeedOfAnswer, serviceLevel: published vectors', () => {
  it('48 erlangs on 55 agents: P(wait) ≈ 23.9 %, with AHT 240 s ASA ≈ 8.2 s', () => {
    // The worked example of issue 9 (360 calls per half hour of 4 minutes = 48 erlangs, 55 agents).
    expect(trafficErlangs(720, 240)).toBe(48)
    expect(erlangC(48, 55)).toBeCloseTo(0.239, 3)
    expect(averageSpeedOfAnswer(48, 55, 240)).toBeCloseTo(8.18, 2)
  })

  it('closed forms of small M/M/N queues', () => {
    // M/M/2 at ρ = ½: C = 2ρ² / (1 + ρ) = 1/3. ErlangC[3, 2] = 4/9 is the basic example of
    // Wolfram's ErlangC reference page (reference.wolfram.com/language/ref/ErlangC.html).
    expect(erlangC(1, 2)).toBeCloseTo(1 / 3, 12)
    expect(erlangC(2, 3)).toBeCloseTo(4 / 9, 12)
    // M/M/1: P(wait) = ρ, ASA = ρ · AHT / (1 − ρ).
    expect(erlangC(0.75, 1)).toBeCloseTo(0.75, 12)
    expect(averageSpeedOfAnswer(0.75, 1, 100)).toBeCloseTo(300, 9)
  })

  it('Call Centre Helper, "Erlang C formula – made simple": 10 erlangs (100 calls per half hour, AHT 180 s), 20 s target', () => {
    // Their table: 11 agents P(wait) 68.21 % and service level 39 %; 14 agents service level 88.8 %.
    expect(erlangC(10, 11)).toBeCloseTo(0.6821, 4)
    expect(serviceLevel(10, 11, 180, 20)).toBeCloseTo(0.39, 2)
    expect(serviceLevel(10, 14, 180, 20)).toBeCloseTo(0.888, 3)
    // More agents, less waiting, at every step.
    const levels = [11, 12, 13, 14, 15].map((n) => serviceLevel(10, n, 180, 20))
    expect([...levels].sort((a, b) => a - b)).toEqual(levels)
  })

  it('textbook vectors: 6 erlangs on 10 servers waits "about 0.10"; 2.5 erlangs need 6 agents for 90 % undelayed', () => {
    // M/M/10 with 120 arrivals per hour of 3 minutes (Math StackExchange, reading the Erlang C curve).
    expect(erlangC(6, 10)).toBeCloseTo(0.1013, 4)
    // Wolfram ErlangC, Applications: 30 calls per hour of 5 minutes; the minimum staff for a 90 %
    // chance of no delay is 6.
    const needed = [1, 2, 3, 4, 5, 6, 7].find((n) => erlangC(trafficErlangs(30, 300), n) <= 0.1)
    expect(needed).toBe(6)
    expect(erlangC(2.5, 5)).toBeGreaterThan(0.1)
  })

  it('stays finite and in range for hundreds and thousands of agents (no factorial overflow)', () => {
    const c = erlangC(900, 950)
    expect(c).toBeGreaterThan(0)
    expect(c).toBeLessThan(1)
    expect(erlangC(900, 950)).toBeCloseTo(0.0621, 4)
    expect(erlangC(9000, 9100)).toBeCloseTo(0.2042, 4)
    expect(Number.isFinite(averageSpeedOfAnswer(900, 950, 300))).toBe(true)
    // More agents on the same traffic never raise the probability.
    expect(erlangC(900, 960)).toBeLessThan(erlangC(900, 950))
  })
})

describe('erlangC edges', () => {
  it('no traffic never waits; no agents or traffic at or above the agents always waits', () => {
    expect(erlangC(0, 5)).toBe(0)
    expect(averageSpeedOfAnswer(0, 5, 300)).toBe(0)
    expect(serviceLevel(0, 5, 300, 0)).toBe(1)
    expect(erlangC(0, 0)).toBe(1)
    expect(erlangC(3, 0)).toBe(1)
    expect(erlangC(55, 55)).toBe(1)
    expect(erlangC(60, 55)).toBe(1)
    expect(averageSpeedOfAnswer(55, 55, 240)).toBe(Infinity)
    expect(serviceLevel(60, 55, 240, 20)).toBe(0)
  })

  it('a zero-second target is the share answered at once, 1 − C', () => {
    expect(serviceLevel(48, 55, 240, 0)).toBeCloseTo(1 - erlangC(48, 55), 12)
  })

  it('refuses non-finite, negative and fractional inputs', () => {
    for (const bad of [NaN, Infinity, -1]) {
      expect(() => erlangC(bad, 10)).toThrow(RangeError)
      expect(() => averageSpeedOfAnswer(5, 10, bad)).toThrow(RangeError)
      expect(() => serviceLevel(5, 10, 240, bad)).toThrow(RangeError)
      expect(() => trafficErlangs(bad, 240)).toThrow(RangeError)
    }
    expect(() => erlangC(5, 2.5)).toThrow(RangeError)
    expect(() => erlangC(5, -1)).toThrow(RangeError)
    expect(() => erlangC(5, Infinity)).toThrow(RangeError)
    expect(() => averageSpeedOfAnswer(5, 10, 0)).toThrow(RangeError)
  })
})

describe('estimateWait (live data of one queue and channel)', () => {
  const live = { queued: 0, loggedIn: 3, freeSlots: 0, capacityPerAgent: 1, ahtSeconds: 240 }

  it('more free slots than sessions waiting: offered at once', () => {
    expect(estimateWait({ ...live, queued: 1, freeSlots: 2 })).toEqual({ seconds: 0, model: 'free-capacity' })
    expect(estimateWait({ ...live, queued: 0, freeSlots: 1 })).toEqual({ seconds: 0, model: 'free-capacity' })
  })

  it('nobody logged in: unbounded, whatever the queue', () => {
    expect(estimateWait({ ...live, loggedIn: 0 })).toEqual({ seconds: null, model: 'unstaffed' })
    expect(estimateWait({ ...live, loggedIn: 0, queued: 7 })).toEqual({ seconds: null, model: 'unstaffed' })
  })

  it('otherwise waits for its place: (queued − freeSlots + 1) × AHT / (loggedIn × capacity)', () => {
    // Everyone busy, nobody waiting: the next of 3 agents to finish, 240 / 3.
    expect(estimateWait(live)).toEqual({ seconds: 80, model: 'queue-position' })
    // Five waiting, one slot free (an offer about to go out): fifth in line for a release, 5 × 240 / 3.
    expect(estimateWait({ ...live, queued: 5, freeSlots: 1 })).toEqual({ seconds: 400, model: 'queue-position' })
    // Chats: 2 agents of capacity 3 free six slots between them at once.
    expect(estimateWait({ queued: 11, loggedIn: 2, freeSlots: 0, capacityPerAgent: 3, ahtSeconds: 600 })).toEqual({ seconds: 1200, model: 'queue-position' })
  })

  it('a queue without recent sessions assumes the default handle time', () => {
    expect(estimateWait({ ...live, loggedIn: 1, ahtSeconds: null })).toEqual({ seconds: DEFAULT_AHT_SECONDS, model: 'queue-position' })
  })

  it('refuses counts that are not integers ≥ 0, a capacity below 1 and a bad handle time', () => {
    expect(() => estimateWait({ ...live, queued: -1 })).toThrow(RangeError)
    expect(() => estimateWait({ ...live, loggedIn: 1.5 })).toThrow(RangeError)
    expect(() => estimateWait({ ...live, freeSlots: NaN })).toThrow(RangeError)
    expect(() => estimateWait({ ...live, capacityPerAgent: 0 })).toThrow(RangeError)
    expect(() => estimateWait({ ...live, ahtSeconds: Infinity })).toThrow(RangeError)
    expect(() => estimateWait({ ...live, ahtSeconds: -5 })).toThrow(RangeError)
  })
})

describe('forecastWait (Erlang C, when the queue at that moment is unknown)', () => {
  it('is the average speed of answer of the arrival rate on the servers', () => {
    const f = forecastWait({ arrivalsPerHour: 720, servers: 55, ahtSeconds: 240 })
    expect(f.model).toBe('erlang-c')
    expect(f.seconds).toBeCloseTo(8.18, 2)
    expect(forecastWait({ arrivalsPerHour: 0, servers: 2, ahtSeconds: null })).toEqual({ seconds: 0, model: 'erlang-c' })
  })

  it('is unbounded when the traffic reaches the servers, or there are none', () => {
    expect(forecastWait({ arrivalsPerHour: 720, servers: 48, ahtSeconds: 240 })).toEqual({ seconds: null, model: 'overloaded' })
    expect(forecastWait({ arrivalsPerHour: 10, servers: 0, ahtSeconds: 240 })).toEqual({ seconds: null, model: 'unstaffed' })
    // The default handle time counts: 13 an hour of 300 s is 1.08 erlangs on one server.
    expect(forecastWait({ arrivalsPerHour: 13, servers: 1, ahtSeconds: null }).model).toBe('overloaded')
  })
})

describe('reportedWait (the wire forms)', () => {
  it('rounds up to whole seconds and whole minutes, so a wait is never reported as none', () => {
    expect(reportedWait({ seconds: 0, model: 'free-capacity' })).toEqual({ seconds: 0, minutes: 0 })
    expect(reportedWait({ seconds: 8.2, model: 'erlang-c' })).toEqual({ seconds: 9, minutes: 1 })
    expect(reportedWait({ seconds: 60, model: 'queue-position' })).toEqual({ seconds: 60, minutes: 1 })
    expect(reportedWait({ seconds: 61, model: 'queue-position' })).toEqual({ seconds: 61, minutes: 2 })
  })

  it('caps at a day, which is also what an unbounded wait reports', () => {
    const cap = { seconds: MAX_REPORTED_WAIT_SECONDS, minutes: MAX_REPORTED_WAIT_SECONDS / 60 }
    expect(reportedWait({ seconds: null, model: 'unstaffed' })).toEqual(cap)
    expect(reportedWait({ seconds: 10 * MAX_REPORTED_WAIT_SECONDS, model: 'queue-position' })).toEqual(cap)
  })
})
