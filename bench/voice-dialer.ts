// The campaign dialer end to end under load (issue 12, Bar "Benchmark"; scenario `voice`, PostgreSQL
// only): one predictive campaign of BENCH_VOICE_DIALER_CONTACTS (2,000) contacts and
// BENCH_VOICE_AGENTS (20) agents on its queue, on the sandbox phone, in a fresh database (created and
// dropped), with the real job workers, the routing sweeper and the app in this process.
//
// Time is compressed by BENCH_VOICE_FACTOR (F, 20): the model is the pure simulation's
// (`dialer.simulation.ts`: 30 % of contacts answer after ringing 5–20 s, the others ring out after
// 25 s; talk time exponential with a 120 s mean) with every duration divided by F —
//   - the sandbox phone is in `answer: manual` mode and this process plays the people: each
//     contact's leg, once placed (polled in `cc_call_legs` every 20 ms), is picked up after a ring
//     delay drawn uniformly in 5–20 s / F on the BENCH_VOICE_ANSWER_RATE (0.3) share of the contacts
//     (drawn with a seeded PRNG, BENCH_VOICE_SEED), and declined after 25 s / F on the others (the
//     sandbox page's `POST /sandbox/api/calls/:id/pick-up|decline`; a declined dial ends `busy`, the
//     same outcome as no answer: Not Picked Up);
//   - the dialer's round is 1 s / F (`DialerOptions.roundMs`);
//   - each agent (signed in through `POST /agent/v1/login`, Available through `PUT /agent/v1/status`)
//     accepts every offer through `POST /agent/v1/offers/:id/accept`, talks (from when the call is
//     `connected`, polled in `cc_sessions`) for an exponential time with mean 120 s / F and hangs up through `POST /agent/v1/calls/:id/hang-up`; no wrap-up
//     (`wrap_up_timeout: 0s`). Offers are seen by polling `cc_offers` every 20 ms (app.inject has no
//     event stream); everything the agent does goes through the agent API (app.inject).
//   - retry: one dial per contact (`max_attempts: 1`), as in the simulation.
// Reported: the abandon rate (abandoned by the dialer ÷ answered), agent occupancy (the agents' talk
// time, connected → ended of each call in the database, ÷ agents × the span from the first dial to the
// last call's end) and contacts dialled per hour scaled back to real time (× 1/F), the wall time of
// the run, and the pure simulation with the same parameters for comparison. What compression does not
// measure: the platform's fixed latencies (a job's pick-up, up to the 0.5 s polling interval for a
// delayed job; a transaction; routing) are not divided by F, so they weigh F times more here than in
// real time — the figures are a lower bound on occupancy and throughput, and the abandon rate is
// what the pacing does with a slower-reacting platform.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/voice-dialer.ts
import { loadavg } from 'node:os'
import { random, simulateCampaign } from '../src/core/contact-center/dialer.simulation.ts'
import { intEnv } from './children.ts'
import { withBenchApp } from './in-process.ts'

const CONTACTS = intEnv('BENCH_VOICE_DIALER_CONTACTS', 2000)
const AGENTS = intEnv('BENCH_VOICE_AGENTS', 20)
const FACTOR = Number(process.env.BENCH_VOICE_FACTOR ?? 20)
const ANSWER_RATE = Number(process.env.BENCH_VOICE_ANSWER_RATE ?? 0.3)
const SEED = intEnv('BENCH_VOICE_SEED', 1)
const PACING_RATIO = 3
const MAX_ABANDON_RATE = 0.03
/** The model (seconds of real time). */
const MODEL = { ringSeconds: [5, 20] as const, ringOutSeconds: 25, meanTalkSeconds: 120, roundSeconds: 1 }
const OFFER_POLL_MS = 20
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')
if (!(FACTOR >= 1 && FACTOR <= 1000)) throw new Error('BENCH_VOICE_FACTOR: a number from 1 to 1000')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ms = (seconds: number) => Math.max(1, Math.round((seconds * 1000) / FACTOR))
type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const FINAL_WAIT_S = Math.max(600, (4 * 3600) / FACTOR)

const roundMs = ms(MODEL.roundSeconds)
await withBenchApp('voicedialer', base, async ({ services, store, app, created }) => {
  const tenant = (await services.tenants.findByName('Bench'))!
  const agents = Array.from({ length: AGENTS }, (_, i) => `agent${i + 1}@bench.example.org`)
  await services.ccSetup.load(tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Sales }]
agents:
${agents.map((email, i) => `  - { email: ${email}, first_name: Agent, last_name: "${i + 1}", teams: [Sales], password: "bench-password-1" }`).join('\n')}
menus: [{ name: Phone, type: ivr, children: [{ name: Outbound, channels: [call], teams: [Sales] }] }]
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns:
  - name: Bench
    caller_id: "+16285550199"
    queue: "Phone / Outbound"
    mode: predictive
    pacing_ratio: ${PACING_RATIO}
    calling_hours: { weekly: [${DAYS.map((d) => `{ day: ${d}, open: "00:00", close: "24:00" }`).join(', ')}] }
    retry: { max_attempts: 1 }
`, 'yaml')
  await services.providerSettings.set(tenant, 'voice', 'sandbox', { answer: 'manual' })
  const apps = `Basic ${Buffer.from(`${created.ccai.subdomain}:${created.ccai.token}`).toString('base64')}`
  const cass = created.cass
  const phoneAuth = `Basic ${Buffer.from(`${cass.client}:${cass.token}`).toString('base64')}`
  const rnd = random(SEED)

  // The agents sign in and become Available through the agent API.
  const tokenOf = new Map<string, string>()
  for (const [i, email] of agents.entries()) {
    const r = await app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `203.0.113.${(i % 250) + 1}`, headers: { 'content-type': 'application/json' }, payload: { email, password: 'bench-password-1', company: created.ccai.subdomain } })
    if (r.statusCode !== 200) throw new Error(`login of ${email}: ${r.statusCode} ${r.body}`)
    const token = (JSON.parse(r.body) as { token: string }).token
    const s = await app.inject({ method: 'PUT', url: '/agent/v1/status', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: { status: 'Available' } })
    if (s.statusCode !== 200) throw new Error(`status of ${email}: ${s.statusCode} ${s.body}`)
    const row = await store.db.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenant.id).where('email', '=', email).executeTakeFirstOrThrow()
    tokenOf.set(row.id, token)
  }
  const agent = async (token: string, method: 'POST', url: string) => {
    const r = await app.inject({ method, url: `/agent/v1${url}`, headers: { authorization: `Bearer ${token}` } })
    return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Json) : null }
  }

  // Each offer is accepted by its agent, who talks for an exponential time and hangs up.
  const counts = { accepted: 0, acceptRefused: 0, hangUps: 0, hangUpRetries: 0, hangUpFailed: 0 }
  const seen = new Set<string>()
  const talks: Promise<void>[] = []
  const take = async (offerId: string, token: string): Promise<void> => {
    const a = await agent(token, 'POST', `/offers/${offerId}/accept`)
    if (a.status !== 200) {
      counts.acceptRefused++
      return
    }
    counts.accepted++
    const callId = (a.body as { id: number }).id
    // The talk starts when the call is connected (both legs up), as the agent hears the contact.
    for (let tries = 0; tries < 2400; tries++) {
      const s = await store.db.selectFrom('cc_sessions').select('status').where('tenant_id', '=', tenant.id).where('num', '=', callId).executeTakeFirst()
      if (!s || !['queued', 'assigned', 'connecting', 'switching'].includes(s.status)) break
      await sleep(25)
    }
    await sleep(-Math.log(1 - rnd()) * ms(MODEL.meanTalkSeconds))
    for (let tries = 0; ; tries++) {
      const h = await agent(token, 'POST', `/calls/${callId}/hang-up`)
      if (h.status === 200) {
        counts.hangUps++
        return
      }
      // Not connected yet (the agent's leg still coming up): try again shortly.
      if (tries >= 400) {
        counts.hangUpFailed++
        return
      }
      counts.hangUpRetries++
      await sleep(25)
    }
  }
  // The people: each placed leg is picked up after its ring delay, or declined at the ring-out.
  const answersAt = new Set<string>()
  const phone = { pickedUp: 0, declined: 0, refused: 0 }
  const ringing = new Set<string>()
  const act = async (callNum: number, action: 'pick-up' | 'decline', delayMs: number): Promise<void> => {
    await sleep(delayMs)
    const r = await app.inject({ method: 'POST', url: `/sandbox/api/calls/${callNum}/${action}`, headers: { authorization: phoneAuth } })
    if (r.statusCode === 200) phone[action === 'pick-up' ? 'pickedUp' : 'declined']++
    else phone.refused++
  }
  let polling = true
  const poller = (async () => {
    while (polling) {
      const legs = await store.db.selectFrom('cc_call_legs as l').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'l.tenant_id').onRef('s.id', '=', 'l.session_id'))
        .select(['l.id', 'l.to_number', 's.num']).where('l.tenant_id', '=', tenant.id).where('l.party', '=', 'end_user').where('l.provider_call_id', 'is not', null)
        .where('l.answered_at', 'is', null).where('l.ended_at', 'is', null).execute()
      for (const l of legs) {
        if (ringing.has(l.id)) continue
        ringing.add(l.id)
        const [lo, hi] = MODEL.ringSeconds
        talks.push(answersAt.has(l.to_number) ? act(l.num, 'pick-up', ms(lo + rnd() * (hi - lo))) : act(l.num, 'decline', ms(MODEL.ringOutSeconds)))
      }
      const offers = await store.db.selectFrom('cc_offers').select(['id', 'agent_id']).where('tenant_id', '=', tenant.id).where('result', '=', 'pending').execute()
      for (const o of offers) {
        if (seen.has(o.id)) continue
        seen.add(o.id)
        const token = tokenOf.get(o.agent_id)
        if (token) talks.push(take(o.id, token))
      }
      await sleep(OFFER_POLL_MS)
    }
  })()

  // The contacts, through K3; the campaign's runner starts when they are in.
  let answering = 0
  const lines = ['name,phone_number']
  for (let g = 1; g <= CONTACTS; g++) {
    const number = `+1415${2000000 + g}`
    if (rnd() < ANSWER_RATE) {
      answering++
      answersAt.add(number)
    }
    lines.push(`Contact ${g},${number}`)
  }
  const boundary = '----sbvoicedialer'
  const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n${lines.join('\n')}\r\n--${boundary}--\r\n`)
  const t0 = Date.now()
  const r = await app.inject({ method: 'POST', url: '/apps/api/v1/outbound_dialer/campaigns/1/contacts/import', headers: { authorization: apps, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body })
  if (r.statusCode !== 201) throw new Error(`K3 answered ${r.statusCode}: ${r.body}`)

  // Until every contact has its outcome and no dialer call is up.
  const LIVE = ['Upcoming', 'Dialing', 'Queued', 'Connected', 'Redial Scheduled']
  let lastReport = Date.now()
  for (;;) {
    const [open, up, total] = await Promise.all([
      store.db.selectFrom('cc_campaign_contacts').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).where('status', 'in', LIVE).executeTakeFirstOrThrow(),
      store.db.selectFrom('cc_dialer_calls').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).where('ended_at', 'is', null).executeTakeFirstOrThrow(),
      store.db.selectFrom('cc_campaign_contacts').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow(),
    ])
    if (Number(total.n) === CONTACTS && Number(open.n) === 0 && Number(up.n) === 0) break
    if (Date.now() - t0 > FINAL_WAIT_S * 1000) throw new Error(`the campaign did not finish in ${FINAL_WAIT_S} s: ${open.n} contacts open, ${up.n} calls up`)
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now()
      process.stderr.write(`voice-dialer: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${open.n} contacts open, ${up.n} calls up, ${counts.accepted} accepted\n`)
    }
    await sleep(500)
  }
  const wallSeconds = (Date.now() - t0) / 1000
  polling = false
  await poller
  await Promise.all(talks)

  const calls = await store.db.selectFrom('cc_dialer_calls as d')
    .innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'd.tenant_id').onRef('s.id', '=', 'd.session_id'))
    .select(['d.created_at', 'd.answered_at', 'd.ended_at', 'd.outcome', 's.connected_at', 's.ends_at'])
    .where('d.tenant_id', '=', tenant.id).execute()
  const t = (d: Date | string | null) => (d === null ? undefined : new Date(d).getTime())
  const first = Math.min(...calls.map((c) => t(c.created_at)!))
  const last = Math.max(...calls.map((c) => t(c.ends_at) ?? t(c.ended_at) ?? 0))
  const spanSeconds = (last - first) / 1000
  const answered = calls.filter((c) => c.answered_at !== null).length
  const abandoned = calls.filter((c) => c.outcome === 'Abandoned by Dialer').length
  const talked = calls.filter((c) => c.connected_at !== null && c.ends_at !== null)
  const talkSeconds = talked.reduce((sum, c) => sum + (t(c.ends_at)! - t(c.connected_at)!) / 1000, 0)
  const waits = talked.map((c) => t(c.connected_at)! - t(c.answered_at)!).sort((a, b) => a - b)
  const pct = (xs: number[], p: number) => xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]! : 0
  const statuses = await store.db.selectFrom('cc_campaign_contacts').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).where('tenant_id', '=', tenant.id).groupBy('status').execute()
  const reference = simulateCampaign({
    mode: 'predictive', agents: AGENTS, contacts: CONTACTS, pacingRatio: PACING_RATIO, maxAbandonRate: MAX_ABANDON_RATE, answerRate: ANSWER_RATE,
    ringSeconds: MODEL.ringSeconds, ringOutSeconds: MODEL.ringOutSeconds, meanTalkSeconds: MODEL.meanTalkSeconds, wrapUpSeconds: 0,
    tickSeconds: MODEL.roundSeconds, seed: SEED,
  })
  const figures = {
    loadAverage: loadavg()[0] ?? 0, contacts: CONTACTS, agents: AGENTS, factor: FACTOR, answerRate: ANSWER_RATE, answeringContacts: answering,
    compressed: { roundMs, ringMs: MODEL.ringSeconds.map(ms), ringOutMs: ms(MODEL.ringOutSeconds), meanTalkMs: ms(MODEL.meanTalkSeconds) },
    wallSeconds: +wallSeconds.toFixed(1), spanSeconds: +spanSeconds.toFixed(1), modelHours: +((spanSeconds * FACTOR) / 3600).toFixed(2),
    dials: calls.length, answered, abandoned, abandonRate: answered > 0 ? abandoned / answered : 0, talkedCalls: talked.length,
    occupancy: spanSeconds > 0 ? talkSeconds / (AGENTS * spanSeconds) : 0,
    contactsPerHour: spanSeconds > 0 ? Math.round((calls.length / (spanSeconds * FACTOR)) * 3600) : 0,
    connectedPerHour: spanSeconds > 0 ? Math.round((talked.length / (spanSeconds * FACTOR)) * 3600) : 0,
    answerToConnectedMs: { p50: pct(waits, 0.5), p95: pct(waits, 0.95), max: waits.at(-1) ?? 0 },
    agentApi: counts, phones: phone,
    statuses: Object.fromEntries(statuses.map((x) => [x.status, Number(x.n)])),
    reference: { abandonRate: reference.abandonRate, occupancy: reference.occupancy, contactsPerHour: Math.round(reference.contactsPerHour), hours: +(reference.durationSeconds / 3600).toFixed(2) },
  }
  const pc = (x: number) => `${(x * 100).toFixed(1)} %`
  console.log(`voice dialer: predictive campaign, ${CONTACTS} contacts (${answering} answer), ${AGENTS} agents, time compressed ×${FACTOR} (round ${roundMs} ms, ring ${figures.compressed.ringMs.join('–')} ms, ring-out ${figures.compressed.ringOutMs} ms, talk mean ${figures.compressed.meanTalkMs} ms)`)
  console.log(`voice dialer: wall ${figures.wallSeconds} s (first dial → last call ended ${figures.spanSeconds} s = ${figures.modelHours} h of model time); dials ${figures.dials}, answered ${answered}, abandoned by the dialer ${abandoned}`)
  console.log(`voice dialer: abandon rate ${pc(figures.abandonRate)} (ceiling ${pc(MAX_ABANDON_RATE)}), occupancy ${pc(figures.occupancy)}, ${figures.contactsPerHour} contacts dialled/h and ${figures.connectedPerHour} connected/h (real time, ÷${FACTOR})`)
  console.log(`voice dialer: answered → agent connected p50 ${figures.answerToConnectedMs.p50} ms, p95 ${figures.answerToConnectedMs.p95} ms, max ${figures.answerToConnectedMs.max} ms; agent API ${JSON.stringify(counts)}; phones ${JSON.stringify(phone)}; statuses ${JSON.stringify(figures.statuses)}`)
  console.log(`voice dialer: the pure simulation with the same parameters: abandon rate ${pc(reference.abandonRate)}, occupancy ${pc(reference.occupancy)}, ${figures.reference.contactsPerHour} contacts/h over ${figures.reference.hours} h; 1-min load average ${figures.loadAverage.toFixed(1)}`)
  console.log(`\nJSON ${JSON.stringify(figures)}`)
}, { jobs: true, sweepers: true, services: { dialer: { roundMs, maxAbandonRate: MAX_ABANDON_RATE } } })
