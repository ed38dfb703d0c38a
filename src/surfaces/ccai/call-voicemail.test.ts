import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { ccaiClient } from '../../../test/helpers/ccai.ts'

// Voicemail deflection of calls (spec/ccai.md §3.1, §4.1: deflected → voicemail → voicemail_received
// → voicemail_read) on the sandbox voice provider: C3 calls on a queue after hours or over capacity
// whose deflection offers voicemail; the sandbox phone leaves the message (by itself, or through the
// sandbox page with answer: manual); an agent of the queue lists and opens it through the agent API.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { agent } = ccaiClient(() => t)
let signIns = 0
const SETUP = (email: string, other: string) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: Desk }, { name: Elsewhere }]
agents:
  - { email: ${email}, first_name: Vi, last_name: Mail, teams: [Desk], password: "agent-password-1" }
  - { email: ${other}, first_name: Ot, last_name: Her, teams: [Elsewhere], password: "agent-password-1" }
menus:
  - name: Phone
    type: ivr
    children:
      - { name: Night, channels: [call], teams: [Desk], hours: { weekly: [] }, after_hours: { deflection: [voicemail] } }
      - { name: Full, channels: [call], teams: [Desk], over_capacity: { max_queued: 0, deflection: [voicemail] } }
      - { name: Other, channels: [call], teams: [Elsewhere] }
phone_numbers: [{ number: "+1 628-555-0199" }]
`

async function tenant(voice: Record<string, unknown>): Promise<{ tt: TestTenant; email: string; other: string }> {
  const tt = await createTenant(t.services)
  const tag = randomUUID().slice(0, 8)
  const email = `vi.${tag}@example.org`
  const other = `ot.${tag}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, SETUP(email, other), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', voice)
  return { tt, email, other }
}
async function api(tt: TestTenant, method: 'POST' | 'GET', url: string, payload?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function sandbox(tt: TestTenant, url: string): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: `/sandbox${url}`, headers: { authorization: tt.cassAuth } })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function signIn(tt: TestTenant, email: string): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `203.0.113.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email, password: 'agent-password-1', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  return (JSON.parse(r.body) as Json).token as string
}
const menuNum = async (tt: TestTenant, name: string) => (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()).num
const incoming = async (tt: TestTenant, menu: string) => api(tt, 'POST', '/calls', { call_type: 'IncomingCall', menu_id: await menuNum(tt, menu), end_user_number: '+1 415-555-0188' })
async function callStatus(tt: TestTenant, num: number, status: string): Promise<Json> {
  return waitFor(`call ${num} to be ${status}`, async () => {
    const c = await t.services.calls.get(tt.tenant.id, num)
    return c.status === status ? c : undefined
  }, 30_000)
}

describe('voicemail deflection of calls', () => {
  it('after hours: C3 is deflected to voicemail, the sandbox phone leaves a message, an agent of the queue opens it', async () => {
    const { tt, email, other } = await tenant({ answer_after_ms: 50, hang_up_after_ms: 100 })
    const r = await incoming(tt, 'Night')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'voicemail', status_text: 'Voicemail', voicemail_reason: 'after_hours', deflection: 'after_hours_deflection', recording_url: null, agent_info: null, queued_at: null })
    const received = await callStatus(tt, r.body.id, 'voicemail_received')
    expect(received.recordingUrl).toMatch(/^https:\/\/voicemail\.sandbox\.invalid\/[0-9a-f-]+\.wav$/)
    expect(received.endsAt).not.toBeNull()
    // C5 and the flags refuse a voicemail as ended.
    expect(await api(tt, 'POST', `/calls/${r.body.id}/end_user`, { identifier: 'late' })).toEqual({ status: 400, body: { message: 'Call is already ended' } })

    const vi = await signIn(tt, email)
    const ot = await signIn(tt, other)
    expect((await agent(ot, 'GET', '/voicemails')).body).toEqual([])
    expect((await agent(ot, 'POST', `/voicemails/${r.body.id}/open`)).status).toBe(404)
    const list = await agent(vi, 'GET', '/voicemails')
    expect(list.body).toMatchObject([{ id: r.body.id, status: 'voicemail_received', recording_url: received.recordingUrl, voicemail_reason: 'after_hours' }])
    const opened = await agent(vi, 'POST', `/voicemails/${r.body.id}/open`)
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    expect(opened.body).toMatchObject({ id: r.body.id, status: 'voicemail_read', status_text: 'Voicemail Read' })
    expect((await agent(vi, 'POST', `/voicemails/${r.body.id}/open`)).body).toMatchObject({ status: 'voicemail_read' })
    expect((await agent(vi, 'POST', '/voicemails/999999/open')).status).toBe(404)
    expect(await api(tt, 'POST', `/calls/${r.body.id}/end_user`, { identifier: 'later' })).toEqual({ status: 400, body: { message: 'Call is already ended' } })
  })

  it('over capacity, with the sandbox page: the person picks up and leaves the voicemail', async () => {
    const { tt } = await tenant({ answer: 'manual' })
    const r = await incoming(tt, 'Full')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'voicemail', voicemail_reason: 'over_capacity', deflection: 'over_capacity_deflection' })
    // Not on the line yet: no voicemail to leave.
    await waitFor('the phone to ring', async () => (await t.store.db.selectFrom('cc_call_legs').select('provider_call_id').where('tenant_id', '=', tt.tenant.id).executeTakeFirst())?.provider_call_id ?? undefined, 30_000)
    expect((await sandbox(tt, `/api/calls/${r.body.id}/voicemail`)).status).toBe(400)
    expect((await sandbox(tt, `/api/calls/${r.body.id}/pick-up`)).body.data).toMatchObject({ status: 'voicemail', answered: true })
    const left = await sandbox(tt, `/api/calls/${r.body.id}/voicemail`)
    expect(left.status, JSON.stringify(left.body)).toBe(200)
    expect(left.body.data).toMatchObject({ status: 'voicemail_received' })
    expect((await t.services.calls.get(tt.tenant.id, r.body.id)).recordingUrl).toMatch(/voicemail\.sandbox\.invalid/)
    expect((await sandbox(tt, `/api/calls/${r.body.id}/voicemail`)).status).toBe(400)
  })
})
