/**
 * Queue math for the contact center: Erlang C (the M/M/N queue — Poisson arrivals, exponential
 * handle times, N agents, nobody hangs up) and the estimated wait times W1 and Q1 report. Pure
 * functions; the README section "Estimated wait times" is the contract they implement.
 */

/** Handle time assumed for a queue without recent sessions to average (five minutes). */
export const DEFAULT_AHT_SECONDS = 300

/**
 * The longest wait reported on the wire (a day): an estimate past it, and a queue nobody staffs,
 * report this, so W1's integer minutes and Q1's integer seconds always carry a number and a
 * `wait[from]` filter ranks an unstaffed queue as the longest wait.
 */
export const MAX_REPORTED_WAIT_SECONDS = 86_400

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0 (got ${value})`)
}

function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0 (got ${value})`)
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a finite number > 0 (got ${value})`)
}

/** Offered traffic in erlangs: arrivals per hour × average handle time in hours. */
export function trafficErlangs(arrivalsPerHour: number, ahtSeconds: number): number {
  requireNonNegative('arrivalsPerHour', arrivalsPerHour)
  requireNonNegative('ahtSeconds', ahtSeconds)
  return (arrivalsPerHour * ahtSeconds) / 3600
}

/**
 * Erlang C: the probability that an arriving session waits, with `trafficErlangs` offered to
 * `agents` servers. 1 when agents ≤ traffic (the queue grows without bound, everyone waits),
 * 0 for no traffic on at least one agent. Throws RangeError for negative or non-finite traffic
 * and for an agent count that is not an integer ≥ 0.
 */
export function erlangC(trafficErlangs: number, agents: number): number {
  requireNonNegative('trafficErlangs', trafficErlangs)
  requireCount('agents', agents)
  const a = trafficErlangs
  if (agents <= a) return 1
  if (a === 0) return 0
  // Erlang B by its recurrence B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)): every term stays in
  // [0, 1], where the textbook sum of Aⁿ/n! overflows a double past about 170 agents.
  let b = 1
  for (let n = 1; n <= agents; n++) b = (a * b) / (n + a * b)
  // C from B: C = N·B / (N − A·(1 − B)).
  return (agents * b) / (agents - a * (1 - b))
}

/**
 * Average speed of answer in seconds (the mean wait over all sessions, those answered at once
 * included): C · AHT / (N − A). Infinity when agents ≤ traffic.
 */
export function averageSpeedOfAnswer(trafficErlangs: number, agents: number, ahtSeconds: number): number {
  requirePositive('ahtSeconds', ahtSeconds)
  const c = erlangC(trafficErlangs, agents)
  if (agents <= trafficErlangs) return Infinity
  return (c * ahtSeconds) / (agents - trafficErlangs)
}

/**
 * Service level: the share of sessions answered within `targetSeconds`,
 * 1 − C · e^(−(N − A) · T / AHT). 0 when agents ≤ traffic.
 */
export function serviceLevel(trafficErlangs: number, agents: number, ahtSeconds: number, targetSeconds: number): number {
  requirePositive('ahtSeconds', ahtSeconds)
  requireNonNegative('targetSeconds', targetSeconds)
  const c = erlangC(trafficErlangs, agents)
  if (agents <= trafficErlangs) return 0
  return 1 - c * Math.exp((-(agents - trafficErlangs) * targetSeconds) / ahtSeconds)
}

/** What the routing tables say about one queue and channel right now. */
export interface LiveQueue {
  /** Sessions waiting in the queue, all ahead of a session that would arrive now. */
  queued: number
  /** Agents of the queue's teams logged in, whatever their status. */
  loggedIn: number
  /** Free capacity of the available agents: how many sessions could be offered at once. */
  freeSlots: number
  /** Sessions one agent handles at a time: 1 for calls, the chat capacity for chats. */
  capacityPerAgent: number
  /** Average handle time of the queue's recent sessions; null when there are none (DEFAULT_AHT_SECONDS). */
  ahtSeconds: number | null
}

/**
 * How an estimate was made. `free-capacity`: a slot is free for the new session; `unstaffed`:
 * nobody is logged in, so no wait can be promised; `queue-position`: the new session waits for
 * the sessions ahead of it to be served; `erlang-c`: a forecast from the arrival rate;
 * `overloaded`: arrivals exceed what the agents can handle, the queue grows without bound.
 */
export type WaitModel = 'free-capacity' | 'unstaffed' | 'queue-position' | 'erlang-c' | 'overloaded'

/** An estimated wait: seconds, or null when no bound can be given (see `model`). */
export interface WaitEstimate {
  seconds: number | null
  model: WaitModel
}

/**
 * The estimated wait of a session joining the queue now, from live data (W1 `chat`/`voice_call`,
 * Q1 `current_queue_ewt`). With more free slots than sessions waiting it is 0; with nobody logged
 * in it is unbounded (null); otherwise the session is number (queued − freeSlots + 1) for the
 * next slot, and slots free up at loggedIn × capacity / AHT per second:
 * (queued − freeSlots + 1) × AHT / (loggedIn × capacity). This is the M/M/N queue's own expected
 * wait given the state seen now (with every slot busy, releases form a Poisson stream of that
 * rate), so it needs no arrival rate; Erlang C's average is for when the state is not known
 * (`forecastWait`). Throws RangeError for counts that are not integers ≥ 0, a capacity < 1 or a
 * negative or non-finite handle time.
 */
export function estimateWait(live: LiveQueue): WaitEstimate {
  requireCount('queued', live.queued)
  requireCount('loggedIn', live.loggedIn)
  requireCount('freeSlots', live.freeSlots)
  requireCount('capacityPerAgent', live.capacityPerAgent)
  if (live.capacityPerAgent < 1) throw new RangeError('capacityPerAgent must be at least 1')
  if (live.ahtSeconds !== null) requireNonNegative('ahtSeconds', live.ahtSeconds)
  if (live.freeSlots > live.queued) return { seconds: 0, model: 'free-capacity' }
  if (live.loggedIn === 0) return { seconds: null, model: 'unstaffed' }
  const aht = live.ahtSeconds ?? DEFAULT_AHT_SECONDS
  const position = live.queued - live.freeSlots + 1
  return { seconds: (position * aht) / (live.loggedIn * live.capacityPerAgent), model: 'queue-position' }
}

/**
 * The expected wait of a session arriving at a moment whose queue is not known yet (a callback
 * scheduled for later: Q1 `scheduled_callback_ewt`): Erlang C's average speed of answer with
 * `servers` = agents × capacity, from the arrival rate and handle time. Unbounded (null,
 * `overloaded`) when the traffic reaches the servers, `unstaffed` without servers.
 */
export function forecastWait(input: { arrivalsPerHour: number; servers: number; ahtSeconds: number | null }): WaitEstimate {
  requireCount('servers', input.servers)
  const aht = input.ahtSeconds ?? DEFAULT_AHT_SECONDS
  const traffic = trafficErlangs(input.arrivalsPerHour, aht)
  if (input.servers === 0) return { seconds: null, model: 'unstaffed' }
  if (traffic >= input.servers) return { seconds: null, model: 'overloaded' }
  if (aht === 0) return { seconds: 0, model: 'erlang-c' }
  return { seconds: averageSpeedOfAnswer(traffic, input.servers, aht), model: 'erlang-c' }
}

/**
 * An estimate as the wire carries it: whole seconds (Q1) and whole minutes (W1), rounded up so a
 * wait is never reported as none, and capped at MAX_REPORTED_WAIT_SECONDS, which an unbounded
 * estimate reports too.
 */
export function reportedWait(estimate: WaitEstimate): { seconds: number; minutes: number } {
  const raw = estimate.seconds ?? MAX_REPORTED_WAIT_SECONDS
  const seconds = Math.min(Math.ceil(raw), MAX_REPORTED_WAIT_SECONDS)
  return { seconds, minutes: Math.ceil(seconds / 60) }
}
