/**
 * A discrete-event simulation of one campaign under the dialer's pacing (`linesToDial`): simulated
 * agents take answered calls, talk and wrap up; contacts answer with a probability after ringing or
 * ring out; an answer with no free agent is abandoned by the dialer. Seeded, so a run is
 * repeatable. It measures what the pacing does (abandon rate, agent occupancy, contacts per hour)
 * without telephony; the dialer job runs the same pacing over real calls.
 */
import { linesToDial, type DialMode } from './dialer.ts'

export interface SimulationOptions {
  readonly mode: DialMode
  readonly agents: number
  readonly contacts: number
  readonly pacingRatio: number
  readonly maxAbandonRate: number
  /** Chance a dialled contact answers. */
  readonly answerRate: number
  /** Seconds a line rings before it is answered (uniform between the two). */
  readonly ringSeconds: readonly [number, number]
  /** Seconds a line rings before it ends unanswered. */
  readonly ringOutSeconds: number
  /** Mean talk time in seconds (exponential). */
  readonly meanTalkSeconds: number
  readonly wrapUpSeconds: number
  /** The dialer's round, in seconds. */
  readonly tickSeconds: number
  readonly seed: number
}

export interface SimulationResult {
  readonly dials: number
  readonly answered: number
  readonly abandoned: number
  /** Abandoned of answered. */
  readonly abandonRate: number
  /** Agents' talking time of all their time until the last call ended. */
  readonly occupancy: number
  readonly contactsPerHour: number
  readonly durationSeconds: number
}

/** mulberry32: a small seeded PRNG (the voice bench draws its people with it too). */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Event = { at: number; kind: 'line_ends'; answered: boolean } | { at: number; kind: 'agent_free' }

/** Run the campaign until every contact was dialled and every call ended. */
export function simulateCampaign(o: SimulationOptions): SimulationResult {
  const rnd = random(o.seed)
  const events: Event[] = []
  const push = (e: Event) => {
    // A sorted insert: the queue holds at most a few hundred events.
    let i = events.length
    while (i > 0 && events[i - 1]!.at > e.at) i--
    events.splice(i, 0, e)
  }
  let now = 0
  let idle = o.agents
  let inFlight = 0
  let remaining = o.contacts
  let dials = 0
  let completed = 0
  let answered = 0
  let abandoned = 0
  let talk = 0
  let nextTick = 0
  while (remaining > 0 || events.length > 0) {
    if (remaining > 0 && (events.length === 0 || nextTick <= events[0]!.at)) {
      now = nextTick
      nextTick += o.tickSeconds
      const n = Math.min(remaining, linesToDial({
        mode: o.mode, idleAgents: idle, inFlight, pacingRatio: o.pacingRatio, maxAbandonRate: o.maxAbandonRate,
        dialsCompleted: completed, answered, abandoned,
      }))
      for (let i = 0; i < n; i++) {
        remaining--
        dials++
        inFlight++
        const answers = rnd() < o.answerRate
        const [lo, hi] = o.ringSeconds
        push({ at: now + (answers ? lo + rnd() * (hi - lo) : o.ringOutSeconds), kind: 'line_ends', answered: answers })
      }
      continue
    }
    const e = events.shift()!
    now = e.at
    if (e.kind === 'agent_free') {
      idle++
      continue
    }
    inFlight--
    completed++
    if (!e.answered) continue
    answered++
    if (idle === 0) {
      abandoned++
      continue
    }
    idle--
    const seconds = -Math.log(1 - rnd()) * o.meanTalkSeconds
    talk += seconds
    push({ at: now + seconds + o.wrapUpSeconds, kind: 'agent_free' })
  }
  return {
    dials, answered, abandoned,
    abandonRate: answered > 0 ? abandoned / answered : 0,
    occupancy: now > 0 ? talk / (o.agents * now) : 0,
    contactsPerHour: now > 0 ? (dials / now) * 3600 : 0,
    durationSeconds: now,
  }
}
