import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { ccaiClient } from '../../../test/helpers/ccai.ts'

// Call transfers through the agent API (spec/ccai.md §3.7, §4.1: transfers do not change the call
// status) on the sandbox voice provider: the receiving agent is offered the call, accepts or
// declines it with the offer routes, their leg is dialled into the conference and the first agent's
// leg hung up once it answered; agent_info switches, the first agent is released. Every refusal is
// answered without writing anything.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { agent } = ccaiClient(() => t)
let signIns = 0
// Addresses of their own per tenant, so that the agent API's sign-in limit is never reached.
type Names = { ann: string; bob: string; cy: string; dee: string }
const SETUP = (n: Names) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }, { name: Billing }, { name: Nobody }]
agents:
  - { email: ${n.ann}, first_name: Ann, last_name: One, teams: [Desk], permissions: [outbound_call], password: "agent-password-1" }
  - { email: ${n.bob}, first_name: Bob, last_name: Two, teams: [Desk], permissions: [outbound_call], password: "agent-password-1" }
  - { email: ${n.cy}, first_name: Cy, last_name: Three, teams: [Desk], password: "agent-password-1" }
  - { email: ${n.dee}, first_name: Dee, last_name: Four, teams: [Billing], password: "agent-password-1" }
menus:
  - { name: Phone, type: ivr, children: [{ name: Support, channels: [call], teams: [Desk] }, { name: Bills, channels: [call], teams: [Billing] }, { name: Empty, channels: [call], teams: [Nobody] }, { name: Chats, channels: [chat], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
`

async function tenant(): Promise<{ tt: TestTenant; n: Names }> {
  const tt = await createTenant(t.services)
  const tag = randomUUID().slice(0, 8)
  const n = { ann: `ann.${tag}@example.org`, bob: `bob.${tag}@example.org`, cy: `cy.${tag}@example.org`, dee: `dee.${tag}@example.org` }
  await t.services.ccSetup.load(tt.tenant.id, SETUP(n), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer_after_ms: 50 })
  return { tt, n }
}
async function post(tt: TestTenant, url: string, payload: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function signIn(tt: TestTenant, email: string): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `198.51.100.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email, password: 'agent-password-1', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  const s = await agent(token, 'PUT', '/status', { status: 'Available' })
  expect(s.status, JSON.stringify(s.body)).toBe(200)
  return token
}
async function agentRow(tt: TestTenant, email: string): Promise<{ id: string; num: number; status: string }> {
  return t.store.db.selectFrom('cc_agents as a').innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
    .select(['a.id', 'a.num', 's.name as status']).where('a.tenant_id', '=', tt.tenant.id).where('a.email', '=', email).executeTakeFirstOrThrow()
}
const menuNum = async (tt: TestTenant, name: string) => (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()).num
async function callWhere(tt: TestTenant, num: number, what: string, ok: (c: Json) => boolean): Promise<Json> {
  return waitFor(`call ${num}: ${what}`, async () => {
    const c = await t.services.calls.get(tt.tenant.id, num)
    return ok(c) ? c : undefined
  }, 30_000)
}
async function pendingOffer(tt: TestTenant, email: string): Promise<string> {
  const a = await agentRow(tt, email)
  const o = await waitFor(`an offer to ${email}`, async () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('agent_id', '=', a.id).where('result', '=', 'pending').executeTakeFirst(), 30_000)
  return o.id
}
async function events(tt: TestTenant, email: string, type: string): Promise<Json[]> {
  const a = await agentRow(tt, email)
  const rows = await t.store.db.selectFrom('cc_agent_events').select(['type', 'data']).where('tenant_id', '=', tt.tenant.id).where('agent_id', '=', a.id).where('type', '=', type).execute()
  return rows.map((r) => r.data)
}
/** Ann's outbound call to a sandbox phone that answers: connected. */
async function connectedCall(tt: TestTenant, email: string): Promise<number> {
  const r = await post(tt, '/calls', { call_type: 'Voice Outbound (API)', agent_email: email, end_user_number: '+1 415-555-0123' })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  await callWhere(tt, r.body.id, 'connected', (c) => c.status === 'connected')
  return r.body.id as number
}
const writes = async (tt: TestTenant) => ({
  transfers: (await t.store.db.selectFrom('cc_transfers').select('id').where('tenant_id', '=', tt.tenant.id).execute()).length,
  offers: (await t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).execute()).length,
})

describe('call transfers (agent API)', () => {
  it('refuses bad transfers with the documented errors and writes nothing', async () => {
    const { tt, n } = await tenant()
    const ann = await signIn(tt, n.ann)
    const id = await connectedCall(tt, n.ann)
    const before = await writes(tt)
    const [annRow, cyRow] = [await agentRow(tt, n.ann), await agentRow(tt, n.cy)]
    const cases: Array<[unknown, number, Json]> = [
      [{}, 400, { message: 'Give exactly one of agent_id and menu_id', code: 'invalid_transfer' }],
      [{ agent_id: 1, menu_id: 1 }, 400, { message: 'Give exactly one of agent_id and menu_id', code: 'invalid_transfer' }],
      [{ agent_id: annRow.num }, 400, { message: 'The call is already yours', code: 'invalid_transfer' }],
      [{ agent_id: 999_999 }, 404, { message: 'no such agent', code: 'agent_not_found' }],
      [{ agent_id: cyRow.num }, 400, { message: 'That agent is not signed in', code: 'transfer_target_unavailable' }],
      [{ menu_id: 999_999 }, 400, { message: 'menu_id 999999 is not found', code: 'menu_not_found' }],
      [{ menu_id: await menuNum(tt, 'Chats') }, 400, { message: `menu_id ${await menuNum(tt, 'Chats')} is not found`, code: 'menu_not_found' }],
      [{ menu_id: await menuNum(tt, 'Empty') }, 400, { message: 'No agent of that queue is available', code: 'transfer_target_unavailable' }],
      [{ agent_id: 'x' }, 400, undefined],
    ]
    for (const [body, status, answer] of cases) {
      const r = await agent(ann, 'POST', `/calls/${id}/transfer`, body)
      expect({ body, status: r.status }).toEqual({ body, status })
      if (answer) expect(r.body).toEqual(answer)
    }
    // Not my call; another tenant's call id is as unknown.
    const bob = await signIn(tt, n.bob)
    expect((await agent(bob, 'POST', `/calls/${id}/transfer`, { agent_id: annRow.num })).status).toBe(404)
    const other = await tenant()
    const stranger = await signIn(other.tt, other.n.ann)
    expect((await agent(stranger, 'POST', `/calls/${id}/transfer`, { agent_id: annRow.num })).status).toBe(404)
    // Bob on a call of his own is full.
    await connectedCall(tt, n.bob)
    const bobRow = await agentRow(tt, n.bob)
    expect((await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: bobRow.num })).body).toEqual({ message: 'That agent has no free capacity for a call', code: 'transfer_target_full' })
    expect(await writes(tt)).toEqual(before)
    // A call that is not connected (ended) cannot be transferred.
    expect((await agent(ann, 'POST', `/calls/${id}/hang-up`)).status).toBe(200)
    expect((await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: bobRow.num })).body).toEqual({ message: 'Call is already ended', code: 'call_ended' })
    expect(await writes(tt)).toEqual(before)
  })

  it('to an agent: declined → failed (the first agent keeps the call); accepted → the new leg answers, the old one is hung up, agent_info switches, the call stays connected', async () => {
    const { tt, n } = await tenant()
    const ann = await signIn(tt, n.ann)
    const bob = await signIn(tt, n.bob)
    const [annRow, bobRow] = [await agentRow(tt, n.ann), await agentRow(tt, n.bob)]
    const id = await connectedCall(tt, n.ann)

    const asked = await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: bobRow.num })
    expect(asked.status, JSON.stringify(asked.body)).toBe(200)
    expect(asked.body).toMatchObject({ id, status: 'connected', agent_info: { id: annRow.num, first_name: 'Ann' } })
    expect(asked.body.transfers).toMatchObject([{ status: 'transferring', fail_reason: 'nothing', from_agent: { id: annRow.num, first_name: 'Ann' }, to_agent: { id: bobRow.num, first_name: 'Bob' }, from_menu: null, to_menu: null }])
    expect((await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: bobRow.num })).body).toEqual({ message: 'A transfer of this call is waiting for an answer', code: 'transfer_pending' })
    const first = await pendingOffer(tt, n.bob)
    expect(await events(tt, n.bob, 'offer')).toEqual([expect.objectContaining({ offer_id: first, call_id: id, channel: 'call', transfer_from: annRow.num })])
    expect((await agent(bob, 'POST', `/offers/${first}/decline`)).status).toBe(204)
    const declined = await t.services.calls.get(tt.tenant.id, id)
    expect({ status: declined.status, agent: declined.agent?.num, transfers: declined.transfers.map((x) => [x.status, x.failReason]) }).toEqual({ status: 'connected', agent: annRow.num, transfers: [['failed', 'declined']] })
    // The session events of calls name the call by `chat_id` (the ids are shared), as offers do.
    expect(await events(tt, n.ann, 'transfer_failed')).toEqual([expect.objectContaining({ chat_id: id, reason: 'declined' })])

    expect((await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: bobRow.num })).status).toBe(200)
    const second = await pendingOffer(tt, n.bob)
    const accepted = await agent(bob, 'POST', `/offers/${second}/accept`)
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    expect(accepted.body).toMatchObject({ id, status: 'connected' })
    // Bob's leg (a sandbox softphone, answering at once) answers: the transfer is done.
    const moved = await callWhere(tt, id, 'transferred', (c) => c.transfers.length === 2 && c.transfers[1].status === 'transferred' && c.agent?.num === bobRow.num)
    expect({ status: moved.status, agent: moved.agent?.num }).toEqual({ status: 'connected', agent: bobRow.num })
    const view = await agent(bob, 'GET', '/calls')
    expect(view.body).toMatchObject([{ id, status: 'connected', agent_info: { id: bobRow.num, first_name: 'Bob' }, transfers: [{ status: 'failed', fail_reason: 'declined' }, { status: 'transferred', to_agent: { id: bobRow.num } }] }])
    expect((await agent(ann, 'GET', '/calls')).body).toEqual([])
    // The participants: Ann left (transferred), Bob connected; Ann's leg was hung up on the provider.
    expect(view.body[0].participants.filter((p: Json) => p.type === 'agent').map((p: Json) => [p.user_id, p.status])).toEqual([[annRow.num, 'transferred'], [bobRow.num, 'connected']])
    const legs = await t.store.db.selectFrom('cc_call_legs').select(['agent_id', 'ended_at', 'party']).where('tenant_id', '=', tt.tenant.id).where('party', '=', 'agent').orderBy('created_at').execute()
    expect(legs.map((l) => [l.agent_id, l.ended_at === null ? 'up' : 'ended'])).toEqual([[annRow.id, 'ended'], [bobRow.id, 'up']])
    // Ann is released (wrap_up_timeout 0s: straight back to Available); Bob is In-call.
    await waitFor('Ann to be Available', async () => (await agentRow(tt, n.ann)).status === 'Available')
    expect((await agentRow(tt, n.bob)).status).toBe('In-call')
    expect(await events(tt, n.ann, 'call_closed')).toEqual([expect.objectContaining({ call_id: id, transferred: true })])
    // Ann can no longer act on it; Bob hangs up: finished by the agent, Bob released.
    expect((await agent(ann, 'POST', `/calls/${id}/hang-up`)).status).toBe(404)
    const ended = await agent(bob, 'POST', `/calls/${id}/hang-up`)
    expect(ended.body).toMatchObject({ status: 'finished', disconnected_by: 'disconnected_by_agent', agent_info: { id: bobRow.num } })
    await waitFor('Bob to be Available', async () => (await agentRow(tt, n.bob)).status === 'Available')
  })

  it('to a queue: the agent routing picks there is offered the call (to_menu set); accepting moves the call to them', async () => {
    const { tt, n } = await tenant()
    const ann = await signIn(tt, n.ann)
    const dee = await signIn(tt, n.dee)
    const deeRow = await agentRow(tt, n.dee)
    const id = await connectedCall(tt, n.ann)
    const bills = await menuNum(tt, 'Bills')
    const asked = await agent(ann, 'POST', `/calls/${id}/transfer`, { menu_id: bills })
    expect(asked.status, JSON.stringify(asked.body)).toBe(200)
    expect(asked.body.transfers).toMatchObject([{ status: 'transferring', to_agent: { id: deeRow.num }, to_menu: { name: 'Bills', materialized_path: 'Phone / Bills' } }])
    const offer = await pendingOffer(tt, n.dee)
    expect((await agent(dee, 'POST', `/offers/${offer}/accept`)).status).toBe(200)
    const moved = await callWhere(tt, id, 'transferred', (c) => c.transfers[0]?.status === 'transferred' && c.agent?.num === deeRow.num)
    expect({ status: moved.status, agent: moved.agent?.num }).toEqual({ status: 'connected', agent: deeRow.num })
  })

  it('the call ending while a transfer waits fails the transfer (withdrawn) and withdraws the offer', async () => {
    const { tt, n } = await tenant()
    const ann = await signIn(tt, n.ann)
    await signIn(tt, n.cy)
    const cyRow = await agentRow(tt, n.cy)
    const id = await connectedCall(tt, n.ann)
    expect((await agent(ann, 'POST', `/calls/${id}/transfer`, { agent_id: cyRow.num })).status).toBe(200)
    const offer = await pendingOffer(tt, n.cy)
    expect((await agent(ann, 'POST', `/calls/${id}/hang-up`)).body).toMatchObject({ status: 'finished', transfers: [{ status: 'failed', fail_reason: 'withdrawn' }] })
    const row = await t.store.db.selectFrom('cc_offers').select('result').where('tenant_id', '=', tt.tenant.id).where('id', '=', offer).executeTakeFirstOrThrow()
    expect(row.result).toBe('withdrawn')
    expect((await agentRow(tt, n.cy)).status).toBe('Available')
  })
})
