/**
 * The campaign dialer's decisions (issue 12, item 5) as pure functions: how many lines to dial now
 * (preview, progressive, predictive pacing under an abandon-rate ceiling), whether a contact may be
 * called at an instant (calling hours in the contact's own time zone), and when a failed dial is
 * tried again (the campaign's retry rules). The dialer job feeds them what it read and acts on the
 * answers; a simulation (dialer.test.ts, and `npm run bench` scenario `voice`) measures the pacing.
 */
import { isOpen, type WeeklyHours } from './hours.ts'
import type { ContactStatus } from './campaign-contact.machine.ts'

/** How a campaign dials (setup file `mode`). */
export type DialMode = 'preview' | 'progressive' | 'predictive'

/** What the pacing looks at, read by the dialer each round for one campaign. */
export interface PacingState {
  readonly mode: DialMode
  /** Agents of the campaign's queue signed in, available and not holding a call or an offer. */
  readonly idleAgents: number
  /** Dials placed and not yet answered or failed (ringing lines). */
  readonly inFlight: number
  /** Lines per idle agent at most (setup `pacing_ratio`, 1–10; predictive only). */
  readonly pacingRatio: number
  /** Abandon-rate ceiling, a fraction (setup `max_abandon_rate`, default 0.03). */
  readonly maxAbandonRate: number
  /** Counters over the campaign's recent dials (the dialer keeps a sliding window). */
  readonly dialsCompleted: number
  readonly answered: number
  /** Answered calls that found no agent free and were dropped (abandoned by the dialer). */
  readonly abandoned: number
}

/** Prior belief about the answer rate before the campaign has its own figures: 30 %, worth 20 dials. */
const PRIOR_ANSWER_RATE = 0.3
const PRIOR_WEIGHT = 20

/** The answer rate the pacing assumes: the observed one, pulled towards the prior while dials are few. */
export function estimatedAnswerRate(s: Pick<PacingState, 'dialsCompleted' | 'answered'>): number {
  const p = (s.answered + PRIOR_ANSWER_RATE * PRIOR_WEIGHT) / (s.dialsCompleted + PRIOR_WEIGHT)
  return Math.min(1, Math.max(0.02, p))
}

/**
 * New lines to dial now. Preview dials nothing by itself (contacts are offered to agents first;
 * see `pairPreviewOffers`). Progressive keeps one line per idle agent. Predictive dials more lines than
 * idle agents, as many as the answer rate says will bring about as many answers as there are idle
 * agents, never more than `pacingRatio` lines per idle agent, and backs off as the abandon rate
 * nears the ceiling: at three quarters of it the expected answers aim below the idle agents, at the
 * ceiling it dials progressively until the rate is under it again.
 */
export function linesToDial(s: PacingState): number {
  if (s.idleAgents <= 0 || s.mode === 'preview') return 0
  if (s.mode === 'progressive') return Math.max(0, s.idleAgents - s.inFlight)
  const abandonRate = s.answered > 0 ? s.abandoned / s.answered : 0
  if (abandonRate >= s.maxAbandonRate) return Math.max(0, s.idleAgents - s.inFlight)
  const p = estimatedAnswerRate(s)
  // Expected answers we aim at, per idle agent: a little under one, and lower near the ceiling,
  // because answers come in bunches (a binomial draw) and an answer with no agent is an abandon.
  const aim = abandonRate >= 0.75 * s.maxAbandonRate ? 0.6 : 0.85
  const byRate = Math.floor((s.idleAgents * aim) / p)
  const cap = Math.floor(s.idleAgents * Math.max(1, s.pacingRatio))
  return Math.max(0, Math.min(byRate, cap) - s.inFlight, s.inFlight === 0 ? Math.min(s.idleAgents, cap) : 0)
}

/** A campaign's preview settings (setup `preview`), with the defaults applied. */
export interface PreviewRules {
  /** How long an offer stays open before the contact goes back to the pool. */
  readonly offerMs: number
  /** How long an agent who skipped a contact, or let its offer lapse, is not offered it again. */
  readonly repeatMs: number
}

export const DEFAULT_PREVIEW: PreviewRules = { offerMs: 30_000, repeatMs: 600_000 }

/** An agent skipped a contact, or let its offer lapse, at `at`. */
export interface PreviewRefusal {
  readonly agentId: string
  readonly contactId: string
  readonly at: Date
}

/**
 * Preview mode: which contact each idle agent without an open offer is offered now. Agents in the
 * order given each get the first contact (in dialling order) that no earlier agent got this round
 * and that they did not skip or let lapse within `repeatMs`; so a contact goes to one agent at
 * most, a skipped contact goes to another agent at once, and back to the same agent only after
 * `repeatMs`. An agent with nothing left to be offered gets nothing.
 */
export function pairPreviewOffers(agents: readonly string[], contacts: readonly string[], refusals: readonly PreviewRefusal[], now: Date, repeatMs: number): Array<{ agentId: string; contactId: string }> {
  const since = now.getTime() - repeatMs
  const refused = new Set(refusals.filter((r) => r.at.getTime() > since).map((r) => `${r.agentId} ${r.contactId}`))
  const taken = new Set<string>()
  const pairs: Array<{ agentId: string; contactId: string }> = []
  for (const agentId of agents) {
    const contactId = contacts.find((c) => !taken.has(c) && !refused.has(`${agentId} ${c}`))
    if (contactId === undefined) continue
    taken.add(contactId)
    pairs.push({ agentId, contactId })
  }
  return pairs
}

/** The default calling hours: every day 08:00–21:00 in the contact's time zone. */
export const DEFAULT_CALLING_HOURS: readonly WeeklyHours[] = (['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const)
  .map((day) => ({ day, open: '08:00', close: '21:00' }))

/** A number whose map names more zones than this is not tied to a place (non-geographic, toll-free). */
const MAX_PLACE_ZONES = 3

/**
 * The time zones a contact's calling hours are checked in: the zones of the number's area (every
 * one of them must be within hours, so a number on a zone border is called only when it is
 * daytime on both sides), or the company's zone when the number names no place (none, or more than
 * three zones: toll-free, non-geographic, a whole country plan).
 */
export function contactZones(numberZones: readonly string[], companyZone: string): string[] {
  return numberZones.length === 0 || numberZones.length > MAX_PLACE_ZONES ? [companyZone] : [...numberZones]
}

/** Whether a contact in `zones` may be called at `at` under the campaign's `weekly` hours (default 08:00–21:00 daily). */
export function withinCallingHours(weekly: readonly WeeklyHours[] | undefined, zones: readonly string[], at: Date): boolean {
  const hours = weekly && weekly.length > 0 ? weekly : DEFAULT_CALLING_HOURS
  return zones.length > 0 && zones.every((timeZone) => isOpen({ timeZone, weekly: [...hours], holidays: [] }, at))
}

/** A campaign's retry rules (setup `retry`), with the defaults applied. */
export interface RetryRules {
  readonly maxAttempts: number
  readonly delayMs: number
  readonly statuses: readonly ContactStatus[]
}

export const DEFAULT_RETRY: RetryRules = { maxAttempts: 3, delayMs: 3_600_000, statuses: ['Not Picked Up', 'Carrier Error', 'Abandoned by Dialer'] }

/**
 * When a contact whose dial ended in `outcome` after `attempts` dials (this one included) is dialled
 * again: `now + delay` when the outcome is one the rules redial and attempts remain; undefined when
 * the contact keeps its outcome for good.
 */
export function redialAt(rules: RetryRules, outcome: ContactStatus, attempts: number, now: Date): Date | undefined {
  if (!rules.statuses.includes(outcome) || attempts >= rules.maxAttempts) return undefined
  return new Date(now.getTime() + rules.delayMs)
}
