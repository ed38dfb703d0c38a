import { createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { SANDBOX_VOICE_NUMBERS } from '../../providers/voice/index.ts'
import { ccaiClient } from '../../../test/helpers/ccai.ts'

// Calls C1–C4 (spec/ccai.md §2.1, §3.1, §4.1) over HTTP on the sandbox voice provider: every
// documented refusal in the spec's words with nothing written, and the transitions driven by their
// real triggers — the sandbox phone answering, busy, not answering, hanging up; the provider failing
// (with and without a fallback); agents accepting offers and hanging up through the agent API; the
// scheduler firing a scheduled call once.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { agent } = ccaiClient(() => t)
// The agent of the latest tenant: an address of its own per tenant, so that the agent API's sign-in
// limit (ten a minute per address and per IP) is never reached by this file's sign-ins.
let caller = 'caller@example.org'
let signIns = 0
const SETUP = (email: string) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }]
agents:
  - { email: ${email}, first_name: Cal, last_name: Ler, teams: [Desk], permissions: [outbound_call], password: "caller-password-1" }
  - { email: nocall@example.org, first_name: No, last_name: Call, teams: [Desk], password: "nocall-password-1" }
menus:
  - { name: Phone, type: ivr, children: [{ name: Support, channels: [call], teams: [Desk], languages: [en, es] }, { name: Closed, channels: [call], teams: [Desk], hours: { weekly: [] } }, { name: Redirected, channels: [call], teams: [Desk], manual_redirection: { enabled: true } }] }
  - { name: App, type: mobile, children: [{ name: Callbacks, channels: [call], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
`

async function tenant(voice: Record<string, unknown> = { answer_after_ms: 50 }): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  caller = `caller.${randomUUID().slice(0, 8)}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, SETUP(caller), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', voice)
  return tt
}
async function post(tt: TestTenant, url: string, payload: unknown, method: 'POST' | 'PATCH' | 'PUT' | 'GET' = 'POST'): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function agentToken(tt: TestTenant, email = caller, password = 'caller-password-1'): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `198.51.100.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email, password, company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  const s = await agent(token, 'PUT', '/status', { status: 'Available' })
  expect(s.status, JSON.stringify(s.body)).toBe(200)
  return token
}
const callRows = (tt: TestTenant) => t.store.db.selectFrom('cc_sessions').select(['num', 'status']).where('tenant_id', '=', tt.tenant.id).where('channel', '=', 'call').execute()
async function callStatus(tt: TestTenant, num: number, statuses: string[], timeoutMs = 30_000): Promise<Json> {
  return waitFor(`call ${num} to be ${statuses.join(' or ')}`, async () => {
    const c = await t.services.calls.get(tt.tenant.id, num)
    return statuses.includes(c.status) ? c : undefined
  }, timeoutMs)
}
async function agentStatus(tt: TestTenant, email: string): Promise<string> {
  const row = await t.store.db.selectFrom('cc_agents as a').innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
    .select('s.name').where('a.tenant_id', '=', tt.tenant.id).where('a.email', '=', email).executeTakeFirstOrThrow()
  return row.name
}
const menuOf = (tt: TestTenant, name: string) => t.store.db.selectFrom('cc_menus').select(['num', 'name']).where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()
const outbound = (extra: Record<string, unknown> = {}) => ({ call_type: 'Voice Outbound (API)', agent_email: caller, end_user_number: '+1 415-555-0100', ...extra })

describe('POST /calls refusals (C1–C4), nothing written', () => {
  it('answers every documented text of C1/C2 in the spec’s words', async () => {
    const tt = await tenant()
    await t.services.dnc.add(tt.tenant, [{ phone: '+14155550177', expiresAt: null }], { source: 'test' })
    const cases: Array<[unknown, string]> = [
      [{}, 'Invalid call type'],
      [{ call_type: 'Voice' }, 'Invalid call type'],
      [{ call_type: 'OutboundCall' }, 'Agent email required'],
      [outbound({ end_user_number: undefined }), 'ticket_id or end_user_number required'],
      [outbound({ end_user_number: '555-CALL' }), 'end_user_number is not well-formed'],
      [outbound({ agent_email: 'nobody@example.org' }), 'Not a valid agent email'],
      [outbound({ agent_email: 'nocall@example.org' }), 'Agent does not have access to make calls'],
      // The agent has not chosen Available (signed out: Offline).
      [outbound(), 'Agent is not available to take this call'],
    ]
    for (const [body, message] of cases) {
      const r = await post(tt, '/calls', body)
      expect({ body, status: r.status, answer: r.body }).toEqual({ body, status: 400, answer: { message } })
    }
    await agentToken(tt)
    expect(await post(tt, '/calls', outbound({ end_user_number: undefined, ticket_id: 'T-404' }))).toEqual({ status: 400, body: { message: 'Contact not found' } })
    expect(await post(tt, '/calls', outbound({ end_user_number: '+1 (415) 555-0177' }))).toEqual({ status: 400, body: { message: 'end_user_number is in the DNC list' } })
    expect(await callRows(tt)).toEqual([])
    expect(await agentStatus(tt, caller)).toBe('Available')
  })

  it('answers every documented text of C3 and C4 in the spec’s words', async () => {
    const tt = await tenant()
    const menus = await t.store.db.selectFrom('cc_menus').select(['num', 'name']).where('tenant_id', '=', tt.tenant.id).execute()
    const id = (name: string) => menus.find((m) => m.name === name)!.num
    const incoming = (extra: Record<string, unknown>) => ({ call_type: 'IncomingCall', end_user_number: '+14155550100', ...extra })
    const scheduled = (extra: Record<string, unknown>) => ({ call_type: 'ScheduledCall', end_user_number: '+14155550100', scheduled_at: new Date(Date.now() + 3_600_000).toISOString(), ...extra })
    const cases: Array<[unknown, string]> = [
      [incoming({}), 'menu_id is required'],
      [incoming({ menu_id: 'abc' }), 'menu_id is not well formed'],
      [incoming({ menu_id: 9999 }), 'menu_id 9999 is not found'],
      [incoming({ menu_id: id('Phone') }), `menu_id ${id('Phone')} is not found`],
      [incoming({ menu_id: id('Callbacks') }), 'Only IVR and mobile menu IDs are permitted'],
      [incoming({ menu_id: id('Redirected') }), "Menu is in 'manual redirection' state, can't accept calls"],
      [incoming({ menu_id: id('Closed') }), "Menu is in 'after hours' state, can't accept incoming calls"],
      [incoming({ menu_id: id('Support'), lang: 'fr' }), "Language 'fr' is not available"],
      [incoming({ menu_id: id('Support'), lang: 'xy' }), "Language 'xy' is not found"],
      [incoming({ menu_id: String(id('Support')), end_user_number: undefined }), 'end_user_number is required'],
      [incoming({ menu_id: id('Support'), end_user_number: '12' }), 'end_user_number is not well formed'],
      [scheduled({ scheduled_at: undefined, menu_id: id('Callbacks') }), 'scheduled_at is required'],
      [scheduled({}), 'menu_id is required'],
      [scheduled({ menu_id: id('Support') }), 'Only mobile and web menu IDs are permitted'],
      [scheduled({ menu_id: id('Callbacks'), call_id: 424242 }), 'call_id 424242 is not found'],
      [scheduled({ menu_id: id('Callbacks'), scheduled_at: new Date(Date.now() - 1000).toISOString() }), 'scheduled_at must be a future time'],
      [scheduled({ menu_id: id('Callbacks'), end_user_number: 'x' }), 'end_user_number is not well formed'],
    ]
    for (const [body, message] of cases) {
      const r = await post(tt, '/calls', body)
      expect({ body, status: r.status, answer: r.body }).toEqual({ body, status: 400, answer: { message } })
    }
    expect(await callRows(tt)).toEqual([])
  })
})

describe('C1 outbound calls on the sandbox phone', () => {
  it('places the call for an Available agent: assigned (201), connecting, connected when the phone answers, finished when it hangs up', async () => {
    const tt = await tenant()
    const token = await agentToken(tt)
    const r = await post(tt, '/calls', outbound({ end_user_number: SANDBOX_VOICE_NUMBERS.hangsUp, outbound_number: '+1 628-555-0199', lang: 'es' }))
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({
      status: 'assigned', call_type: 'Voice Outbound (API)', lang: 'es', parent_id: null, outbound_number: '+16285550199', fail_reason: 'nothing',
      disconnected_by: 'disconnected_by_unknown', agent_info: { first_name: 'Cal', email: caller }, connected_at: null, ends_at: null,
      recording_permission: 'not_asked', voicemail_reason: 'not_voicemail', deflection: 'no_deflection', offer_events: [],
    })
    expect(r.body.participants.map((p: Json) => p.type).sort()).toEqual(['agent', 'end_user'])
    expect(await agentStatus(tt, caller)).toBe('In-call')
    expect((await agent(token, 'GET', '/calls')).body.map((c: Json) => c.id)).toEqual([r.body.id])
    const connected = await callStatus(tt, r.body.id, ['connected', 'finished'])
    expect(connected.connectedAt).not.toBeNull()
    expect(connected.voipProvider).toBe('voip_provider_sandbox')
    const done = await callStatus(tt, r.body.id, ['finished'])
    expect(done).toMatchObject({ disconnectedBy: 'disconnected_by_end_user', failReason: 'nothing' })
    expect(done.endsAt.getTime()).toBeGreaterThanOrEqual(done.connectedAt.getTime())
    // wrap_up_timeout 0s: straight back to the chosen status.
    await waitFor('the agent to be Available again', async () => (await agentStatus(tt, caller)) === 'Available')
  })

  it('fails busy, no answer and invalid numbers with their reasons, and releases the agent', async () => {
    const tt = await tenant({ answer_after_ms: 50, no_answer_after_ms: 300 })
    await agentToken(tt)
    for (const [number, reason] of [[SANDBOX_VOICE_NUMBERS.busy, 'busy'], [SANDBOX_VOICE_NUMBERS.noAnswer, 'no_answer'], [SANDBOX_VOICE_NUMBERS.invalid, 'invalid_number'], [SANDBOX_VOICE_NUMBERS.providerFailure, 'voip_error']] as const) {
      const r = await post(tt, '/calls', outbound({ end_user_number: number }))
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      const failed = await callStatus(tt, r.body.id, ['failed'])
      expect({ number, reason: failed.failReason, by: failed.disconnectedBy, connected: failed.connectedAt }).toEqual({ number, reason, by: 'disconnected_by_system', connected: null })
      await waitFor('the agent to be Available again', async () => (await agentStatus(tt, caller)) === 'Available')
    }
  })

  it('switches to the fallback provider when the provider fails mid-connect', async () => {
    const tt = await tenant({ fail_all: true, fallback: { provider: 'sandbox', answer_after_ms: 50 } })
    await agentToken(tt)
    const r = await post(tt, '/calls', outbound())
    expect(r.status).toBe(201)
    const connected = await callStatus(tt, r.body.id, ['connected'])
    expect(connected.failDetails).toMatch(/failed to place the call/)
    const legs = await t.store.db.selectFrom('cc_call_legs').select(['party', 'ended_at']).where('tenant_id', '=', tt.tenant.id).execute()
    // Two legs on each provider: the first two ended when the call switched.
    expect(legs.length).toBe(4)
    expect(legs.filter((l) => l.ended_at === null).length).toBe(2)
  })

  it('the agent hangs up through the agent API: finished, disconnected by the agent, durations from the events', async () => {
    const tt = await tenant({ answer_after_ms: 50 })
    const token = await agentToken(tt)
    const r = await post(tt, '/calls', outbound())
    await callStatus(tt, r.body.id, ['connected'])
    expect((await agent(token, 'POST', `/calls/${r.body.id}/hold`)).body).toMatchObject({ id: r.body.id, status: 'connected' })
    expect((await agent(token, 'POST', `/calls/${r.body.id}/resume`)).status).toBe(200)
    const ended = await agent(token, 'POST', `/calls/${r.body.id}/hang-up`)
    expect(ended.status, JSON.stringify(ended.body)).toBe(200)
    expect(ended.body).toMatchObject({ status: 'finished', disconnected_by: 'disconnected_by_agent' })
    expect(ended.body.call_duration).toBeGreaterThanOrEqual(0)
    expect((await agent(token, 'POST', `/calls/${r.body.id}/hang-up`)).body).toEqual({ message: 'Call is already ended', code: 'call_ended' })
    // The legs were hung up on the provider (a control job each), which reported them completed.
    await waitFor('the legs to be hung up', async () => {
      const legs = await t.store.db.selectFrom('cc_call_legs').select('ended_at').where('tenant_id', '=', tt.tenant.id).execute()
      return legs.length === 2 && legs.every((l) => l.ended_at !== null)
    })
  })
})

describe('C3 incoming and C4 scheduled calls', () => {
  it('queues an incoming call, offers it to an agent, and dials the end user when the agent accepts', async () => {
    const tt = await tenant({ answer_after_ms: 50 })
    const token = await agentToken(tt)
    const menu = await menuOf(tt, 'Support')
    const r = await post(tt, '/calls', { call_type: 'Voice Inbound (API)', menu_id: String(menu.num), end_user_number: '+1 415-555-0123', recording_permission: 'recording_permission_granted' })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    // As created: no offer yet (routing offers it after the commit).
    expect(r.body).toMatchObject({ status: 'queued', offer_type: 'cascade', offer_events: [], selected_menu: { id: menu.num, name: 'Support' }, recording_permission: 'granted', agent_info: null })
    expect(r.body.queued_at).not.toBeNull()
    const offer = await waitFor('the offer', async () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('result', '=', 'pending').executeTakeFirst())
    const accepted = await agent(token, 'POST', `/offers/${offer.id}/accept`)
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    expect(accepted.body).toMatchObject({ id: r.body.id, status: 'assigned', agent_info: { email: caller } })
    expect(accepted.body.offer_events).toMatchObject([{ result: 'accepted' }])
    expect(await agentStatus(tt, caller)).toBe('In-call')
    const connected = await callStatus(tt, r.body.id, ['connected'])
    expect(connected.participants.every((p: Json) => p.status === 'connected')).toBe(true)
  })

  it('a declined offer goes to the next agent (offer_events grows)', async () => {
    const tt = await tenant({ answer: 'manual' })
    const token = await agentToken(tt)
    const menu = await menuOf(tt, 'Support')
    const r = await post(tt, '/calls', { call_type: 'IncomingCall', menu_id: menu.num, end_user_number: uniquePhone() })
    const offer = await waitFor('the offer', async () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('result', '=', 'pending').executeTakeFirst())
    expect((await agent(token, 'POST', `/offers/${offer.id}/decline`)).status).toBe(204)
    const c = await t.services.calls.get(tt.tenant.id, r.body.id)
    expect(c.status).toBe('queued')
    expect(c.offerEvents.map((e) => e.result)).toEqual(['rejected'])
  })

  it('fires a scheduled call at scheduled_at exactly once, even when two schedulers race', async () => {
    const tt = await tenant()
    const menu = await menuOf(tt, 'Callbacks')
    const parent = await post(tt, '/calls', { call_type: 'Voice Scheduled (API)', menu_id: menu.num, end_user_number: '+14155550111', scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })
    expect(parent.status, JSON.stringify(parent.body)).toBe(201)
    expect(parent.body).toMatchObject({ status: 'scheduled', call_type: 'Voice Scheduled (API)', parent_id: null })
    // Two processes' schedulers picking the same due call: one of them queues it.
    const fired = await Promise.all([t.services.calls.fireScheduled(tt.tenant.id, parent.body.id), t.services.calls.fireScheduled(tt.tenant.id, parent.body.id)])
    expect(fired.filter(Boolean)).toEqual([true])
    expect((await t.services.calls.get(tt.tenant.id, parent.body.id)).status).toBe('queued')
    // The job scheduler fires a child call (menu from its parent) at its time.
    const at = new Date(Date.now() + 1500)
    const child = await post(tt, '/calls', { call_type: 'ScheduledCall', call_id: String(parent.body.id), end_user_number: '+14155550111', scheduled_at: at.toISOString() })
    expect(child.status, JSON.stringify(child.body)).toBe(201)
    expect(child.body).toMatchObject({ status: 'scheduled', parent_id: parent.body.id, scheduled_at: at.toISOString(), selected_menu: { id: menu.num } })
    const queued = await callStatus(tt, child.body.id, ['queued'])
    expect(queued.queuedAt.getTime()).toBeGreaterThanOrEqual(at.getTime() - 5)
    const key = await t.services.jobs.findKey('cc.call_scheduled', `call-scheduled:${tt.tenant.id}:${queued.id}`)
    expect(key?.state).toBe('completed')
  })
})

const jwt = (claims: object, secret: string) => {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = `${part({ alg: 'HS256' })}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

describe('a call’s flags (C6–C8), custom data (CD1), mid-session end user (C5) and dialer contact data (W2)', () => {
  it('reads and sets customer flags through every method, shown to the agent; refused once the call ended', async () => {
    const tt = await tenant({ answer: 'manual' })
    const token = await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound())
    expect(await post(tt, `/calls/${call.id}/customer_flag`, undefined, 'GET')).toEqual({ status: 200, body: { verified_customer: false, bad_actor: false, repeat_customer: false, repeat_customers: false } })
    expect((await post(tt, `/calls/${call.id}/customer_flag`, { verified_customer: true, repeat_customers: 'true' }, 'PATCH')).body).toEqual({ verified_customer: true, bad_actor: false, repeat_customer: true, repeat_customers: true })
    expect((await post(tt, `/calls/${call.id}/customer_flag`, { bad_actor: true }, 'PUT')).body).toMatchObject({ verified_customer: true, bad_actor: true })
    expect((await post(tt, `/calls/${call.id}/customer_flag`, { bad_actor: false })).body).toMatchObject({ bad_actor: false })
    expect(await post(tt, `/calls/${call.id}/customer_flag`, { verified_customer: 'yes' }, 'PATCH')).toEqual({ status: 400, body: { message: 'verified_customer must be a boolean' } })
    expect(await post(tt, '/calls/999999/customer_flag', undefined, 'GET')).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect((await agent(token, 'GET', '/calls')).body[0]).toMatchObject({ id: call.id, verified: true, repeat_customer: true, bad_actor: false })
    await agent(token, 'POST', `/calls/${call.id}/hang-up`)
    expect(await post(tt, `/calls/${call.id}/customer_flag`, { bad_actor: true }, 'PATCH')).toEqual({ status: 400, body: { message: 'Call is already ended' } })
    // Reading stays possible after the end (C6 documents only 404).
    expect((await post(tt, `/calls/${call.id}/customer_flag`, undefined, 'GET')).status).toBe(200)
  })

  it('takes custom data, unsigned and HS256-signed with the company secret, with §3.13’s errors', async () => {
    const tt = await tenant({ answer: 'manual' })
    await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound())
    const secret = tt.credentials.ccai.company_secret
    const exp = Math.floor(Date.now() / 1000) + 600
    expect(await post(tt, `/calls/${call.id}/custom_data`, { signed: false, data: { plan: { label: 'Plan', value: 'Gold' }, reserved_verified_customer: { value: true } } })).toEqual({ status: 200, body: { message: 'success' } })
    expect(await post(tt, `/calls/${call.id}/custom_data`, { signed: true, signed_data: jwt({ custom_data: { account: { value: 'A-17' } }, exp, iat: exp - 600 }, secret) })).toEqual({ status: 200, body: { message: 'success' } })
    const refusals: Array<[unknown, string]> = [
      [{}, 'param is missing or the value is empty: signed'],
      [{ signed: false }, 'param is missing or the value is empty: data'],
      [{ signed: true }, 'param is missing or the value is empty: signed_data'],
      [{ signed: true, signed_data: jwt({ custom_data: { a: { value: 1 } }, exp }, 'wrong-secret') }, 'Invalid signed_data'],
      [{ signed: true, signed_data: jwt({ custom_data: { a: { value: 1 } }, exp: exp - 1200 }, secret) }, 'signed_data has expired'],
    ]
    for (const [body, message] of refusals) expect(await post(tt, `/calls/${call.id}/custom_data`, body)).toEqual({ status: 400, body: { message } })
    const c = await t.services.calls.get(tt.tenant.id, call.id)
    expect(c.customData).toEqual({ plan: { label: 'Plan', value: 'Gold' }, account: { label: null, value: 'A-17' } })
    expect(c.verified).toBe(true)
  })

  it('C5 sets the end user of an active call, once per 10 s; H18 shares the handler for chats', async () => {
    const tt = await tenant({ answer: 'manual' })
    const token = await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound())
    expect(await post(tt, `/calls/${call.id}/end_user`, { name: 'Ada' })).toEqual({ status: 400, body: { message: 'param is missing or the value is empty: identifier' } })
    expect(await post(tt, `/calls/${call.id}/end_user`, { identifier: 'crm-42', name: 'Ada Lovelace', email: 'ada@example.org' })).toEqual({ status: 202, body: { message: 'accepted' } })
    expect(await post(tt, `/calls/${call.id}/end_user`, { identifier: 'crm-43' })).toEqual({ status: 400, body: { message: 'Duplicate request: Please wait for the interval to expire' } })
    expect((await t.services.calls.get(tt.tenant.id, call.id)).endUser).toMatchObject({ identifier: 'crm-42' })
    expect(await post(tt, `/sessions/${call.id}/end_user`, { identifier: 'x' })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await post(tt, '/calls/999999/end_user', { identifier: 'x' })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await post(tt, `/chats/${call.id}/end_user`, { identifier: 'x' })).toEqual({ status: 404, body: { message: 'Not Found' } })
    await agent(token, 'POST', `/calls/${call.id}/hang-up`)
    await waitFor('the agent to be Available again', async () => (await agentStatus(tt, caller)) === 'Available')
    const { body: other } = await post(tt, '/calls', outbound())
    await agent(token, 'POST', `/calls/${other.id}/hang-up`)
    expect(await post(tt, `/calls/${other.id}/end_user`, { identifier: 'late' })).toEqual({ status: 400, body: { message: 'Call is already ended' } })
  })

  it('W2 keeps the dialer’s contact data on the call and shows it to the agent', async () => {
    const tt = await tenant({ answer: 'manual' })
    const token = await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound())
    const sample = { call_id: String(call.id), agent_id: '1', lcm_key: '2922|1|2|39|2|0|1', dnis: '6285550199', org_id: 'acme', contact: { first_name: 'Ada', last_name: 'King', account_no: '17' }, pacing_mode: 'Predictive', call_type: 'OB_Regular' }
    expect(await post(tt, '/crm/contact_data', sample)).toEqual({ status: 200, body: { message: 'success' } })
    expect(await post(tt, '/crm/contact_data', { ...sample, call_id: undefined })).toEqual({ status: 400, body: { message: 'param is missing or the value is empty: call_id' } })
    expect(await post(tt, '/crm/contact_data', { ...sample, agent_id: '' })).toEqual({ status: 400, body: { message: 'param is missing or the value is empty: agent_id' } })
    expect(await post(tt, '/crm/contact_data', { ...sample, call_id: 999999 })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await post(tt, '/crm/contact_data', { ...sample, contact: ['x'] })).toEqual({ status: 400, body: { message: 'contact is invalid' } })
    const mine = (await agent(token, 'GET', '/calls')).body[0]
    expect(mine.contact_data).toEqual({ agent_id: '1', lcm_key: '2922|1|2|39|2|0|1', dnis: '6285550199', org_id: 'acme', pacing_mode: 'Predictive', call_type: 'OB_Regular', contact: { first_name: 'Ada', last_name: 'King', account_no: '17' } })
  })
})

describe('the sandbox page’s phone (answer as the person)', () => {
  const sandbox = async (tt: TestTenant, method: 'GET' | 'POST', url: string) => {
    const r = await t.app.inject({ method, url: `/sandbox${url}`, headers: { authorization: tt.cassAuth } })
    return { status: r.statusCode, body: JSON.parse(r.body) as Json }
  }
  it('lists calls; picks up, hangs up and declines as the person with answer: manual', async () => {
    const tt = await tenant({ answer: 'manual' })
    await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound({ end_user_number: '+1 415-555-0188' }))
    // The list reads each call, then its leg: wait for a reading taken after the dial job committed.
    const ringing = await waitFor('the phone to ring', async () => (await sandbox(tt, 'GET', '/api/calls')).body.data.find((c: Json) => c.id === call.id && c.ringing && c.status === 'connecting'))
    expect(ringing).toMatchObject({ status: 'connecting', end_user_number: '+14155550188', agent: 'Cal Ler', answered: false })
    expect(await sandbox(tt, 'POST', `/api/calls/${call.id}/hang-up`)).toMatchObject({ status: 400 })
    expect((await sandbox(tt, 'POST', `/api/calls/${call.id}/pick-up`)).body.data).toMatchObject({ status: 'connected', answered: true })
    expect((await sandbox(tt, 'POST', `/api/calls/${call.id}/hang-up`)).body.data).toMatchObject({ status: 'finished' })
    expect((await t.services.calls.get(tt.tenant.id, call.id)).disconnectedBy).toBe('disconnected_by_end_user')
    await waitFor('the agent to be Available again', async () => (await agentStatus(tt, caller)) === 'Available')
    const { body: second } = await post(tt, '/calls', outbound())
    await waitFor('the phone to ring', async () => (await sandbox(tt, 'GET', '/api/calls')).body.data.find((c: Json) => c.id === second.id && c.ringing))
    expect((await sandbox(tt, 'POST', `/api/calls/${second.id}/decline`)).body.data).toMatchObject({ status: 'failed', fail_reason: 'busy' })
    // Another tenant's sandbox does not see or touch them.
    const other = await tenant()
    expect((await sandbox(other, 'GET', '/api/calls')).body.data).toEqual([])
    expect((await sandbox(other, 'POST', `/api/calls/${call.id}/pick-up`)).status).toBe(404)
  })
})

describe('recovery callbacks (§4.1 failed → recovered)', () => {
  it('a failed call’s scheduled child that finishes marks the parent recovered', async () => {
    const tt = await tenant({ answer_after_ms: 50 })
    const token = await agentToken(tt)
    const { body: failedCall } = await post(tt, '/calls', outbound({ end_user_number: SANDBOX_VOICE_NUMBERS.busy }))
    await callStatus(tt, failedCall.id, ['failed'])
    await waitFor('the agent to be Available again', async () => (await agentStatus(tt, caller)) === 'Available')
    const menu = await menuOf(tt, 'Callbacks')
    const child = await post(tt, '/calls', { call_type: 'ScheduledCall', call_id: failedCall.id, menu_id: menu.num, end_user_number: '+14155550190', scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })
    expect(child.body).toMatchObject({ status: 'scheduled', parent_id: failedCall.id })
    expect(await t.services.calls.fireScheduled(tt.tenant.id, child.body.id)).toBe(true)
    const offer = await waitFor('the offer', async () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('result', '=', 'pending').executeTakeFirst())
    expect((await agent(token, 'POST', `/offers/${offer.id}/accept`)).status).toBe(200)
    await callStatus(tt, child.body.id, ['connected'])
    expect((await t.services.calls.get(tt.tenant.id, failedCall.id)).status).toBe('failed')
    expect((await agent(token, 'POST', `/calls/${child.body.id}/hang-up`)).body).toMatchObject({ status: 'finished' })
    expect((await t.services.calls.get(tt.tenant.id, failedCall.id))).toMatchObject({ status: 'recovered', statusText: 'Recovered', failReason: 'busy' })
  })
})
