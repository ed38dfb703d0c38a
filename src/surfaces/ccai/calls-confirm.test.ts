import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { ccaiClient } from '../../../test/helpers/ccai.ts'

// C1's 202 (spec/ccai.md §2.1, §5 #5): with `confirm_outbound_calls` in the contact-center settings
// an outbound API call is accepted (202, the Call) but waits for its agent: confirmed in the agent
// API it is dialled as a 201 call; cancelled, or not confirmed within `outbound_confirm_timeout`,
// it fails `canceled` without anything dialled. Without the setting C1 answers 201 as before.
let t: TestApp
let signIns = 0
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { agent } = ccaiClient(() => t)

async function tenant(settings: string): Promise<{ tt: TestTenant; email: string; token: string }> {
  const tt = await createTenant(t.services)
  const email = `conf.${randomUUID().slice(0, 8)}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s${settings} }
teams: [{ name: Desk }]
agents: [{ email: ${email}, first_name: Con, last_name: Firm, teams: [Desk], permissions: [outbound_call], password: "confirm-agent-pass-1" }]
menus: [{ name: Phone, type: ivr, children: [{ name: Support, channels: [call], teams: [Desk] }] }]
phone_numbers: [{ number: "+1 628-555-0197" }]
`, 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer_after_ms: 50 })
  signIns++
  const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `198.51.100.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email, password: 'confirm-agent-pass-1', company: tt.credentials.ccai.subdomain } })
  expect(login.statusCode, login.body).toBe(200)
  const token = (JSON.parse(login.body) as Json).token as string
  expect((await agent(token, 'PUT', '/status', { status: 'Available' })).status).toBe(200)
  return { tt, email, token }
}
async function outbound(tt: TestTenant, email: string): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: '/apps/api/v1/calls', headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ call_type: 'OutboundCall', agent_email: email, end_user_number: '+1 415-555-0155' }) })
  return { status: r.statusCode, body: JSON.parse(r.body) }
}
const legs = async (tt: TestTenant) => (await t.store.db.selectFrom('cc_call_legs').select('id').where('tenant_id', '=', tt.tenant.id).execute()).length
const callIs = (tt: TestTenant, num: number, status: string) => waitFor(`call ${num} ${status}`, async () => {
  const c = await t.services.calls.get(tt.tenant.id, num)
  return c.status === status ? c : undefined
}, 45_000)

describe('C1 answered 202: the agent confirms in the agent API', () => {
  it('202 with the Call; confirmed, it is dialled and connects; a second confirmation is refused', async () => {
    const { tt, email, token } = await tenant(', confirm_outbound_calls: true, outbound_confirm_timeout: 10m')
    const r = await outbound(tt, email)
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    expect(r.body).toMatchObject({ status: 'assigned', call_type: 'Voice Outbound (API)', agent_info: { email }, outbound_number: '+16285550197' })
    expect(Object.keys(r.body).sort()).toEqual(Object.keys((await outboundShape()).body).sort())
    const mine = await agent(token, 'GET', '/calls')
    expect(mine.body).toMatchObject([{ id: r.body.id, status: 'assigned', confirm_by: expect.stringMatching(/^\d{4}-/) }])
    expect(await legs(tt)).toBe(0)
    expect((await agent(token, 'GET', '/me')).body.status).toMatchObject({ name: 'In-call' })

    const confirmed = await agent(token, 'POST', `/calls/${r.body.id}/confirm`)
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200)
    expect(confirmed.body).toMatchObject({ id: r.body.id, confirm_by: null })
    await callIs(tt, r.body.id, 'connected')
    expect(await legs(tt)).toBe(2)
    expect(await agent(token, 'POST', `/calls/${r.body.id}/confirm`)).toMatchObject({ status: 400 })
    expect(await agent(token, 'POST', `/calls/${r.body.id}/cancel`)).toMatchObject({ status: 400 })
    expect((await agent(token, 'POST', '/calls/999999/confirm')).status).toBe(404)
  })

  it('cancelled by the agent: failed, canceled, nothing dialled', async () => {
    const { tt, email, token } = await tenant(', confirm_outbound_calls: true')
    const r = await outbound(tt, email)
    expect(r.status).toBe(202)
    const cancelled = await agent(token, 'POST', `/calls/${r.body.id}/cancel`)
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200)
    expect(cancelled.body).toMatchObject({ status: 'failed', fail_reason: 'canceled', disconnected_by: 'disconnected_by_agent', confirm_by: null })
    expect(await legs(tt)).toBe(0)
    expect((await agent(token, 'POST', `/calls/${r.body.id}/confirm`)).body).toMatchObject({ message: 'Call is already ended' })
    await waitFor('the agent to be available again', async () => (await agent(token, 'GET', '/me')).body.status?.name === 'Available', 30_000)
  })

  it('not confirmed in time: cancelled by the system', async () => {
    const { tt, email, token } = await tenant(', confirm_outbound_calls: true, outbound_confirm_timeout: 1s')
    const r = await outbound(tt, email)
    expect(r.status).toBe(202)
    const failed = await callIs(tt, r.body.id, 'failed')
    expect(failed).toMatchObject({ failReason: 'canceled', disconnectedBy: 'disconnected_by_system', failDetails: 'not confirmed by the agent in time', confirmBy: null })
    expect(await legs(tt)).toBe(0)
    expect((await agent(token, 'POST', `/calls/${r.body.id}/confirm`)).status).toBe(400)
  })

  it('a bad timeout in the setup file is reported at its path', async () => {
    const tt = await createTenant(t.services)
    await expect(t.services.ccSetup.load(tt.tenant.id, 'settings: { outbound_confirm_timeout: soon }', 'yaml')).rejects.toMatchObject({ details: { errors: [expect.stringContaining('settings.outbound_confirm_timeout')] } })
  })
})

/** A 201 C1 body of a tenant without the setting: the 202 body has the same shape. */
async function outboundShape(): Promise<{ status: number; body: Json }> {
  const { tt, email } = await tenant('')
  const r = await outbound(tt, email)
  expect(r.status).toBe(201)
  return r
}
