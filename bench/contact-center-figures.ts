// The figures of the contact-center bench (bench/contact-center.ts) and how they are judged against
// the goals of issue 9. Reported, not asserted: the bench prints MET or NOT MET per goal.

/** Latency samples of one path, in milliseconds. */
export interface Latency { n: number; p50: number; p99: number; max: number }

export interface Figures {
  chats: number
  rounds: number
  agents: number
  capacity: number
  messagesPerChat: number
  apis: number
  workers: number
  /** Chat sessions in the database, and offers made for them. */
  sessions: number
  offers: number
  /** `offer` events the agents' streams delivered (each offer exactly once: equals `offers`). */
  offersStreamed: number
  /** H3 sent → the agent's `message` event read from its stream. */
  userToAgent: Latency
  /** The agent's POST sent → the signed `message_received` webhook received. */
  agentToWebhook: Latency
  /** PUT /agent/v1/status Available sent → the agent's first `offer` event. */
  availableToOffer: Latency
  /** H12 sent → the chat's `offer` event (includes the wait for an agent to become available). */
  startToOffer: Latency
  /** Sessions accepted per agent. */
  fairness: { min: number; max: number; ratio: number }
  /** Pairs of offers of one session whose lifetimes overlap (offered → resolved). */
  doubleOffers: number
  /** Chats not accepted exactly once (or not ended, or never created). */
  lostSessions: number
  acceptFailures: number
  /** Messages or webhooks the bench waited for in vain. */
  missing: number
  unsignedWebhooks: number
  roundSeconds: number[]
  host: string
}

/** The goals of issue 9. */
export const GOALS = { userToAgentP99: 100, agentToWebhookP99: 200, availableToOfferP99: 200, fairness: 1.5 } as const

/** The p-th percentile (nearest rank) of ascending `sorted`; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'n/a')

/** A markdown table of the figures with a verdict per goal, and whether every goal is met. */
export function judge(f: Figures): { met: boolean; rows: Array<{ goal: string; met: boolean }>; text: string } {
  const lat = (l: Latency, goal: number) => ({ met: l.n > 0 && l.p99 <= goal, value: `p50 ${ms(l.p50)} ms, **p99 ${ms(l.p99)} ms**, max ${ms(l.max)} ms (n = ${l.n})` })
  const verdict = (met: boolean) => (met ? 'met' : '**not met**')
  const rows = [
    { goal: `end-user message → agent event p99 ≤ ${GOALS.userToAgentP99} ms`, ...lat(f.userToAgent, GOALS.userToAgentP99) },
    { goal: `agent message → webhook delivered p99 ≤ ${GOALS.agentToWebhookP99} ms`, ...lat(f.agentToWebhook, GOALS.agentToWebhookP99) },
    { goal: `agent becomes available → offer p99 ≤ ${GOALS.availableToOfferP99} ms`, ...lat(f.availableToOffer, GOALS.availableToOfferP99) },
    { goal: `fairness max/min accepted per agent ≤ ${GOALS.fairness}`, met: f.fairness.ratio <= GOALS.fairness, value: `${Number.isFinite(f.fairness.ratio) ? f.fairness.ratio.toFixed(2) : '∞'} (${f.fairness.min}–${f.fairness.max} per agent)` },
    { goal: '0 double offers (cc_offers: two offers of one session alive at once)', met: f.doubleOffers === 0, value: String(f.doubleOffers) },
    { goal: '0 lost sessions (every chat accepted exactly once)', met: f.lostSessions === 0 && f.acceptFailures === 0 && f.missing === 0, value: `${f.lostSessions} of ${f.sessions} (accepts refused ${f.acceptFailures}, messages or webhooks missing ${f.missing})` },
  ]
  const text = [
    `### Contact center (PostgreSQL, ${f.apis} api + ${f.workers} worker processes)`,
    '',
    `${f.rounds} round(s) of ${f.chats} concurrent chats across ${f.agents} agents (chat capacity ${f.capacity}), ${f.messagesPerChat} exchanges per chat; ` +
      `${f.sessions} sessions, ${f.offers} offers; rounds took ${f.roundSeconds.map((s) => s.toFixed(1)).join(', ')} s. ${f.host}.`,
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.goal} | ${r.value} | ${verdict(r.met)} |`),
    `| (for information) chat started → offer, while the agents come in | p50 ${ms(f.startToOffer.p50)} ms, p99 ${ms(f.startToOffer.p99)} ms (n = ${f.startToOffer.n}) | — |`,
    ...(f.offersStreamed !== f.offers ? [`| offer events on the streams vs offers in cc_offers | ${f.offersStreamed} vs ${f.offers} | **differ** |`] : []),
    ...(f.unsignedWebhooks > 0 ? [`| webhooks whose signature did not verify | ${f.unsignedWebhooks} | **wrong** |`] : []),
  ].join('\n')
  return { met: rows.every((r) => r.met) && f.unsignedWebhooks === 0 && f.offersStreamed === f.offers, rows: rows.map((r) => ({ goal: r.goal, met: r.met })), text }
}
