import { describe, expect, it } from 'vitest'
import { phoneTimeZones } from '../../lib/phone.ts'
import { contactZones, DEFAULT_RETRY, estimatedAnswerRate, linesToDial, pairPreviewOffers, redialAt, withinCallingHours, type PacingState } from './dialer.ts'
import { simulateCampaign, type SimulationOptions } from './dialer.simulation.ts'

// The dialer's decisions, pure: pacing per mode, calling hours in the contact's zone, retry rules;
// and the predictive pacing measured in a seeded simulation of 2,000 contacts and 20 agents.
const state = (over: Partial<PacingState>): PacingState => ({
  mode: 'predictive', idleAgents: 10, inFlight: 0, pacingRatio: 3, maxAbandonRate: 0.03, dialsCompleted: 0, answered: 0, abandoned: 0, ...over,
})

describe('pacing', () => {
  it('preview dials nothing by itself; progressive keeps one line per idle agent', () => {
    expect(linesToDial(state({ mode: 'preview' }))).toBe(0)
    expect(linesToDial(state({ mode: 'progressive', idleAgents: 5, inFlight: 2 }))).toBe(3)
    expect(linesToDial(state({ mode: 'progressive', idleAgents: 2, inFlight: 4 }))).toBe(0)
    expect(linesToDial(state({ idleAgents: 0 }))).toBe(0)
  })

  it('predictive dials by the answer rate, within the pacing ratio, and falls back to one line per agent at the abandon ceiling', () => {
    // Few dials yet: the prior 30 % answer rate; 10 idle agents × 0.85 / 0.3 = 28 lines, capped at 3 per agent.
    expect(estimatedAnswerRate({ dialsCompleted: 0, answered: 0 })).toBeCloseTo(0.3)
    expect(linesToDial(state({}))).toBe(28)
    expect(linesToDial(state({ pacingRatio: 2 }))).toBe(20)
    // A campaign whose contacts answer half the time dials fewer lines.
    expect(linesToDial(state({ dialsCompleted: 1000, answered: 500 }))).toBe(17)
    // Lines already ringing count against the new ones.
    expect(linesToDial(state({ dialsCompleted: 1000, answered: 500, inFlight: 15 }))).toBe(2)
    // Near the ceiling (≥ 75 % of it) it aims lower; at the ceiling it is progressive.
    expect(linesToDial(state({ dialsCompleted: 1000, answered: 500, abandoned: 12 }))).toBe(12)
    expect(linesToDial(state({ dialsCompleted: 1000, answered: 500, abandoned: 15 }))).toBe(10)
    expect(linesToDial(state({ dialsCompleted: 1000, answered: 500, abandoned: 15, inFlight: 4 }))).toBe(6)
  })

  const campaign: Omit<SimulationOptions, 'mode' | 'seed'> = {
    agents: 20, contacts: 2000, pacingRatio: 3, maxAbandonRate: 0.03, answerRate: 0.3, ringSeconds: [5, 20], ringOutSeconds: 25,
    meanTalkSeconds: 120, wrapUpSeconds: 10, tickSeconds: 1,
  }

  it('keeps the abandon rate under the 3 % ceiling in a simulated campaign (2,000 contacts, 20 agents), busier agents than progressive', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const predictive = simulateCampaign({ ...campaign, mode: 'predictive', seed })
      const progressive = simulateCampaign({ ...campaign, mode: 'progressive', seed })
      expect(predictive.dials).toBe(2000)
      expect(predictive.answered).toBeGreaterThan(500)
      expect(predictive.abandonRate, `seed ${seed}`).toBeLessThanOrEqual(0.03)
      expect(progressive.abandoned).toBe(0)
      expect(predictive.occupancy, `seed ${seed}`).toBeGreaterThan(progressive.occupancy)
      expect(predictive.contactsPerHour).toBeGreaterThan(progressive.contactsPerHour)
    }
    // Other answer rates, and a tighter ceiling.
    for (const answerRate of [0.15, 0.5, 0.8]) expect(simulateCampaign({ ...campaign, answerRate, mode: 'predictive', seed: 7 }).abandonRate).toBeLessThanOrEqual(0.03)
    expect(simulateCampaign({ ...campaign, maxAbandonRate: 0.01, mode: 'predictive', seed: 8 }).abandonRate).toBeLessThanOrEqual(0.01)
  })
})

describe('preview offers', () => {
  const now = new Date('2026-12-01T17:00:00Z')
  const ago = (ms: number) => new Date(now.getTime() - ms)

  it('gives each agent the next contact no earlier agent got; a contact goes to one agent at most', () => {
    expect(pairPreviewOffers(['a', 'b'], ['k1', 'k2', 'k3'], [], now, 600_000)).toEqual([{ agentId: 'a', contactId: 'k1' }, { agentId: 'b', contactId: 'k2' }])
    // More agents than contacts: the last agents get nothing.
    expect(pairPreviewOffers(['a', 'b', 'c'], ['k1'], [], now, 600_000)).toEqual([{ agentId: 'a', contactId: 'k1' }])
    expect(pairPreviewOffers([], ['k1'], [], now, 600_000)).toEqual([])
  })

  it('does not offer an agent a contact they skipped or let lapse within repeatMs; other agents get it at once', () => {
    const refusals = [{ agentId: 'a', contactId: 'k1', at: ago(60_000) }]
    expect(pairPreviewOffers(['a', 'b'], ['k1', 'k2'], refusals, now, 600_000)).toEqual([{ agentId: 'a', contactId: 'k2' }, { agentId: 'b', contactId: 'k1' }])
    // Alone with the contact it skipped: nothing, until repeatMs has passed.
    expect(pairPreviewOffers(['a'], ['k1'], refusals, now, 600_000)).toEqual([])
    expect(pairPreviewOffers(['a'], ['k1'], [{ agentId: 'a', contactId: 'k1', at: ago(600_001) }], now, 600_000)).toEqual([{ agentId: 'a', contactId: 'k1' }])
  })
})

describe('calling hours', () => {
  it('reads the contact’s zone from the number: the area code, the country, or the company zone for a number tied to no place', async () => {
    expect(await phoneTimeZones('+14155550123')).toEqual(['America/Los_Angeles'])
    expect(await phoneTimeZones('+12125551234')).toEqual(['America/New_York'])
    expect(await phoneTimeZones('+442071234567')).toEqual(['Europe/London'])
    expect(await phoneTimeZones('not a number')).toEqual([])
    // Alaska's area code spans two zones: both are checked.
    expect(contactZones(await phoneTimeZones('+19072551234'), 'America/New_York')).toEqual(['America/Adak', 'America/Anchorage'])
    // A non-geographic number (the whole plan) is called on the company's clock.
    expect(contactZones(await phoneTimeZones('+15005550006'), 'America/New_York')).toEqual(['America/New_York'])
  })

  it('calls only within the campaign’s hours in every zone of the contact (default 08:00–21:00 daily)', () => {
    // Tuesday 2026-12-01 17:30 UTC: 09:30 in Los Angeles, 12:30 in New York.
    const at = new Date('2026-12-01T17:30:00Z')
    expect(withinCallingHours(undefined, ['America/Los_Angeles'], at)).toBe(true)
    expect(withinCallingHours([{ day: 'tuesday', open: '10:00', close: '18:00' }], ['America/Los_Angeles'], at)).toBe(false)
    expect(withinCallingHours([{ day: 'tuesday', open: '10:00', close: '18:00' }], ['America/New_York'], at)).toBe(true)
    // 15:30 UTC: 07:30 in Los Angeles — before the default 08:00 there, though 10:30 in New York.
    const early = new Date('2026-12-01T15:30:00Z')
    expect(withinCallingHours(undefined, ['America/New_York'], early)).toBe(true)
    expect(withinCallingHours(undefined, ['America/New_York', 'America/Los_Angeles'], early)).toBe(false)
    expect(withinCallingHours(undefined, [], early)).toBe(false)
  })
})

describe('retry rules', () => {
  it('redials the rule’s outcomes after the delay while attempts remain', () => {
    const now = new Date('2026-12-01T17:00:00Z')
    expect(redialAt(DEFAULT_RETRY, 'Not Picked Up', 1, now)).toEqual(new Date('2026-12-01T18:00:00Z'))
    expect(redialAt(DEFAULT_RETRY, 'Not Picked Up', 3, now)).toBeUndefined()
    expect(redialAt(DEFAULT_RETRY, 'Invalid Number', 1, now)).toBeUndefined()
    expect(redialAt({ maxAttempts: 5, delayMs: 1_800_000, statuses: ['Abandoned by Contact'] }, 'Abandoned by Contact', 4, now)).toEqual(new Date('2026-12-01T17:30:00Z'))
  })
})
