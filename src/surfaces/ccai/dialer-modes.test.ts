import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { SANDBOX_VOICE_NUMBERS } from '../../providers/voice/index.ts'
import { createServices, type Services } from '../../services.ts'
import { ALL_DAY, ccaiClient } from '../../../test/helpers/ccai.ts'

// The dialer's other outcomes end to end on the sandbox voice provider, through HTTP: predictive
// pacing with several agents (more lines than idle agents; answers no agent is free for are
// abandoned by the dialer, the rest connected), a carrier error, a person hanging up while queued
// (Abandoned by Contact), and two job workers running the dialer at once (each contact dialled
// once). Simulated agents accept offers and hang up through the agent API.
const SCHEMA = `pgboss_t_${randomUUID().slice(0, 8)}`
let t: TestApp
let second: Services | undefined
beforeAll(async () => {
  t = await startTestApp({ workers: true, services: { dialer: { roundMs: 250 }, jobs: { schema: SCHEMA } } })
})
afterAll(async () => {
  await second?.jobs.stop({ timeoutMs: 5_000 })
  await second?.providers.close()
  await t?.close()
  await sql`DROP SCHEMA IF EXISTS ${sql.id(SCHEMA)} CASCADE`.execute(t.store.db).catch(() => undefined)
})

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { apps, agent } = ccaiClient(() => t)
const PASSWORD = 'modes-password-1'
let signIns = 0
const SETUP = (emails: string[]) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }]
agents:
${emails.map((e, i) => `  - { email: ${e}, first_name: Agent, last_name: N${i}, teams: [Desk], password: "${PASSWORD}" }`).join('\n')}
menus:
  - { name: Phone, type: ivr, children: [{ name: Outreach, channels: [call], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns:
  - name: Progressive
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: progressive
    calling_hours: ${ALL_DAY}
    retry: { max_attempts: 1 }
  - name: Predictive
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: predictive
    pacing_ratio: 3
    calling_hours: ${ALL_DAY}
    retry: { max_attempts: 1 }
`

interface Tenant { tt: TestTenant; emails: string[] }
async function tenant(agents: number, sandbox: Record<string, unknown> = {}): Promise<Tenant> {
  const tt = await createTenant(t.services)
  const emails = Array.from({ length: agents }, (_, i) => `modes${i}.${randomUUID().slice(0, 8)}@example.org`)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(emails), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer_after_ms: 50, no_answer_after_ms: 200, ...sandbox })
  return { tt, emails }
}
async function signIn(x: Tenant, i: number): Promise<{ token: string; id: string }> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `192.0.2.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email: x.emails[i], password: PASSWORD, company: x.tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  expect((await agent(token, 'PUT', '/status', { status: 'Available' })).status).toBe(200)
  const row = await t.store.db.selectFrom('cc_agents').select('id').where('tenant_id', '=', x.tt.tenant.id).where('email', '=', x.emails[i]!).executeTakeFirstOrThrow()
  return { token, id: row.id }
}
async function campaignOf(x: Tenant, name: string): Promise<{ id: string; num: number }> {
  return t.store.db.selectFrom('cc_campaigns').select(['id', 'num']).where('tenant_id', '=', x.tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()
}
async function addContact(x: Tenant, campaign: number, contact: Record<string, unknown>): Promise<Json> {
  const r = await apps(x.tt, 'POST', `/outbound_dialer/campaigns/${campaign}/contacts`, contact)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body
}
async function contactsOf(x: Tenant, campaign: number): Promise<Json[]> {
  const r = await apps(x.tt, 'GET', `/outbound_dialer/campaigns/${campaign}/contacts`)
  expect(r.status).toBe(200)
  return r.body as Json[]
}
/** Until every contact of the campaign is in one of `final`, answering them. */
async function allIn(x: Tenant, campaign: number, final: string[], timeoutMs = 90_000): Promise<Json[]> {
  return waitFor(`every contact to be ${final.join(' or ')}`, async () => {
    const cs = await contactsOf(x, campaign)
    return cs.every((c) => final.includes(c.status)) ? cs : undefined
  }, timeoutMs)
}
/**
 * Simulated agents until stopped: each accepts the call offered to it and hangs up a connected call
 * of its own (after `talkPolls` looks at it connected, and once `mayHangUp` says so), through the agent API.
 */
function serve(x: Tenant, agents: Array<{ token: string; id: string }>, talkPolls = 2, mayHangUp: () => Promise<boolean> = async () => true): { stop: () => Promise<void>; accepted: () => number } {
  let running = true
  let accepted = 0
  const seen = new Map<number, number>()
  const loop = (async () => {
    while (running) {
      for (const a of agents) {
        const offer = await t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', x.tt.tenant.id).where('agent_id', '=', a.id).where('result', '=', 'pending').executeTakeFirst()
        if (offer && (await agent(a.token, 'POST', `/offers/${offer.id}/accept`)).status === 200) accepted++
        for (const call of (await agent(a.token, 'GET', '/calls')).body as Json[]) {
          if (call.status !== 'connected') continue
          const n = (seen.get(call.id) ?? 0) + 1
          seen.set(call.id, n)
          if (n >= talkPolls && await mayHangUp()) await agent(a.token, 'POST', `/calls/${call.id}/hang-up`)
        }
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return { stop: async () => { running = false; await loop }, accepted: () => accepted }
}
const callsOf = (x: Tenant) => t.store.db.selectFrom('cc_sessions').select(['num', 'status', 'fail_reason', 'end_user_number']).where('tenant_id', '=', x.tt.tenant.id).where('channel', '=', 'call').orderBy('num').execute()
const dialerCallsOf = (x: Tenant) => t.store.db.selectFrom('cc_dialer_calls').select(['contact_id', 'created_at', 'answered_at', 'outcome']).where('tenant_id', '=', x.tt.tenant.id).execute()

describe('the dialer’s modes and outcomes on the sandbox provider', () => {
  it('predictive: more lines than idle agents; answers no agent is free for end Abandoned by Dialer, the rest are connected and finish', async () => {
    const x = await tenant(3)
    const agents = await Promise.all([0, 1, 2].map((i) => signIn(x, i)))
    const campaign = await campaignOf(x, 'Predictive')
    // Every sandbox phone answers: with 3 idle agents the pacing dials 8 lines (3 × 0.85 / 0.3 prior answer rate).
    for (let i = 0; i < 8; i++) await addContact(x, campaign.num, { name: `P${i}`, phone_number: `+1 415-555-03${String(i).padStart(2, '0')}` })
    // The agents stay on their calls while any dialled contact is still ringing or waiting, so the
    // answers beyond the idle agents find none free, however slowly the host runs the callbacks.
    const settled = async () => !(await contactsOf(x, campaign.num)).some((c) => c.status === 'Dialing' || c.status === 'Queued')
    const agentsAtWork = serve(x, agents, 2, settled)
    try {
      const final = await allIn(x, campaign.num, ['Finished', 'Abandoned by Dialer'])
      const by = (s: string) => final.filter((c) => c.status === s).length
      expect(by('Finished') + by('Abandoned by Dialer')).toBe(8)
      expect(by('Abandoned by Dialer')).toBeGreaterThanOrEqual(1)
      expect(by('Finished')).toBeGreaterThanOrEqual(3)
      expect(agentsAtWork.accepted()).toBe(by('Finished'))
    } finally {
      await agentsAtWork.stop()
    }
    // Predictive dials more lines than idle agents (progressive would dial one per agent and never abandon):
    // a round (one transaction, one created_at) placed several calls.
    const calls = await callsOf(x)
    expect(calls).toHaveLength(8)
    const rows = await dialerCallsOf(x)
    const perRound = new Map<number, number>()
    for (const r of rows) perRound.set(new Date(r.created_at).getTime(), (perRound.get(new Date(r.created_at).getTime()) ?? 0) + 1)
    expect(Math.max(...perRound.values())).toBeGreaterThanOrEqual(2)
    expect(rows.every((r) => r.answered_at !== null)).toBe(true)
    const abandoned = calls.filter((c) => c.status === 'failed')
    expect(abandoned.every((c) => c.fail_reason === 'no_agent_available')).toBe(true)
    expect(rows.filter((r) => r.outcome === 'Abandoned by Dialer')).toHaveLength(abandoned.length)
  })

  it('carrier error: the provider fails the dial (sandbox magic number) and the contact ends Carrier Error', async () => {
    const x = await tenant(1)
    await signIn(x, 0)
    const campaign = await campaignOf(x, 'Progressive')
    const contact = await addContact(x, campaign.num, { name: 'Carrier', phone_number: SANDBOX_VOICE_NUMBERS.providerFailure })
    const [final] = await allIn(x, campaign.num, ['Carrier Error'])
    expect(final).toMatchObject({ id: contact.id, status: 'Carrier Error', assigned_call_id: expect.any(Number) })
    expect(await callsOf(x)).toMatchObject([{ num: final.assigned_call_id, status: 'failed', fail_reason: 'voip_error' }])
    expect(await dialerCallsOf(x)).toMatchObject([{ answered_at: null, outcome: 'Carrier Error' }])
  })

  it('progressive, abandoned by contact: the person answers, waits queued for the agent and hangs up', async () => {
    const x = await tenant(1, { hang_up_after_ms: 3000 })
    await signIn(x, 0)
    const campaign = await campaignOf(x, 'Progressive')
    const contact = await addContact(x, campaign.num, { name: 'Impatient', phone_number: SANDBOX_VOICE_NUMBERS.hangsUp })
    // The agent is offered the queued call and does not take it; the person hangs up meanwhile.
    await allIn(x, campaign.num, ['Queued', 'Abandoned by Contact'])
    const [final] = await allIn(x, campaign.num, ['Abandoned by Contact'])
    expect(final.id).toBe(contact.id)
    expect(await callsOf(x)).toMatchObject([{ status: 'failed', fail_reason: 'abandoned' }])
    expect(await dialerCallsOf(x)).toMatchObject([{ answered_at: expect.anything(), outcome: 'Abandoned by Contact' }])
    // No offer of the call is left pending (it was withdrawn with the call).
    const offers = await t.store.db.selectFrom('cc_offers').select('result').where('tenant_id', '=', x.tt.tenant.id).execute()
    expect(offers.filter((o) => o.result !== 'withdrawn')).toEqual([])
  })

  it('progressive, transferred: the agent transfers the connected call to another agent, who ends it: Transferred, then Transferred and Finished', async () => {
    const x = await tenant(2)
    const a = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Progressive')
    const contact = await addContact(x, campaign.num, { name: 'Passed On', phone_number: '+1 415-555-0151' })
    const pending = (agentId: string) => waitFor('an offer', async () => (await t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', x.tt.tenant.id)
      .where('agent_id', '=', agentId).where('result', '=', 'pending').executeTakeFirst())?.id, 60_000)
    expect((await agent(a.token, 'POST', `/offers/${await pending(a.id)}/accept`)).status).toBe(200)
    const [connected] = await allIn(x, campaign.num, ['Connected'])
    const callId = connected.assigned_call_id as number
    const b = await signIn(x, 1)
    const bNum = (await t.store.db.selectFrom('cc_agents').select('num').where('id', '=', b.id).executeTakeFirstOrThrow()).num
    const moved = await agent(a.token, 'POST', `/calls/${callId}/transfer`, { agent_id: bNum })
    expect(moved.status, JSON.stringify(moved.body)).toBe(200)
    expect((await agent(b.token, 'POST', `/offers/${await pending(b.id)}/accept`)).status).toBe(200)
    await allIn(x, campaign.num, ['Transferred'])
    expect((await agent(b.token, 'POST', `/calls/${callId}/hang-up`)).status).toBe(200)
    const [final] = await allIn(x, campaign.num, ['Transferred and Finished'])
    expect(final).toMatchObject({ id: contact.id, assigned_call_id: callId })
  })

  it('two job workers run the dialer at once: each contact is dialled once', async () => {
    const x = await tenant(3)
    // A second process's services over the same database and job schema, working too.
    second = createServices(t.config, t.store, { jobs: { schema: SCHEMA }, dialer: { roundMs: 250 } })
    await second.jobs.start()
    await second.jobs.work({ pollingIntervalSeconds: 0.5 })
    const agents = await Promise.all([0, 1, 2].map((i) => signIn(x, i)))
    const campaign = await campaignOf(x, 'Progressive')
    const agentsAtWork = serve(x, agents, 1)
    try {
      for (let i = 0; i < 9; i++) {
        await addContact(x, campaign.num, { name: `W${i}`, phone_number: `+1 415-555-04${String(i).padStart(2, '0')}` })
        // Both processes try to start the runner and sweep as contacts arrive.
        await Promise.all([second.dialer.ensure(x.tt.tenant.id, campaign.id), t.services.dialer.sweep(), second.dialer.sweep()])
      }
      await allIn(x, campaign.num, ['Finished'], 120_000)
    } finally {
      await agentsAtWork.stop()
    }
    const rows = await dialerCallsOf(x)
    expect(rows).toHaveLength(9)
    expect(new Set(rows.map((r) => r.contact_id)).size).toBe(9)
    expect(await callsOf(x)).toHaveLength(9)
    const attempts = await t.store.db.selectFrom('cc_campaign_contacts').select('attempts').where('tenant_id', '=', x.tt.tenant.id).execute()
    expect(attempts.map((r) => r.attempts)).toEqual(Array(9).fill(1))
    // Both processes ran rounds of the one chain (keyed rounds: never the same round twice).
    const rounds = (await t.store.db.selectFrom('cc_dialer_state').select('round').where('tenant_id', '=', x.tt.tenant.id).where('campaign_id', '=', campaign.id).executeTakeFirstOrThrow()).round
    expect(rounds).toBeGreaterThan(1)
  })
})
