import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// `ticket_id` of calls (spec/ccai.md §2.1 C1–C5) through the built-in CRM adapter, over HTTP on the
// sandbox voice provider: the ticket's contact is dialled (winning over end_user_number), the call
// carries out_ticket_id/out_ticket_url, "Contact not found" for unknown tickets and tickets without a
// dialable phone (nothing written), C5 updates the ticket's contact, tenants never see each other's tickets.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
let caller = 'caller@example.org'
let signIns = 0
const SETUP = (email: string) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }]
agents:
  - { email: ${email}, first_name: Cal, last_name: Ler, teams: [Desk], permissions: [outbound_call], password: "caller-password-1" }
menus:
  - { name: Phone, type: ivr, children: [{ name: Support, channels: [call], teams: [Desk] }] }
  - { name: App, type: mobile, children: [{ name: Callbacks, channels: [call], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
tickets:
  - { id: CASE-1, subject: Refund, contact: { id: crm-contact-1, name: Grace Hopper, phone: "+1 415 555 0131" } }
  - { id: CASE-NOPHONE, contact: { name: Nobody, email: nobody@example.org } }
`
async function tenant(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  caller = `caller.${randomUUID().slice(0, 8)}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, SETUP(caller), 'yaml')
  // The phone rings until the test ends the call: the call stays active for C5.
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer: 'manual' })
  return tt
}
async function post(tt: TestTenant, url: string, payload: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function admin(tt: TestTenant, method: 'GET' | 'DELETE' | 'PATCH', url: string, payload?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/admin${url}`, headers: { authorization: tt.cassAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function agentToken(tt: TestTenant): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `198.51.100.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email: caller, password: 'caller-password-1', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  const s = await t.app.inject({ method: 'PUT', url: '/agent/v1/status', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: { status: 'Available' } })
  expect(s.statusCode, s.body).toBe(200)
  return token
}
const callRows = (tt: TestTenant) => t.store.db.selectFrom('cc_sessions').select(['num']).where('tenant_id', '=', tt.tenant.id).where('channel', '=', 'call').execute()
const endUserLeg = (tt: TestTenant, num: number) => waitFor(`the end user's leg of call ${num}`, async () =>
  t.store.db.selectFrom('cc_call_legs as l').innerJoin('cc_sessions as s', 's.id', 'l.session_id').select(['l.to_number']).where('l.tenant_id', '=', tt.tenant.id)
    .where('s.num', '=', num).where('l.party', '=', 'end_user').executeTakeFirst(), 60_000)
const menuNum = async (tt: TestTenant, name: string) => (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()).num
const outbound = (extra: Record<string, unknown>) => ({ call_type: 'Voice Outbound (API)', agent_email: caller, ...extra })

describe('C1/C2 with ticket_id', () => {
  it('dials the ticket contact’s number (winning over end_user_number) and shows out_ticket_id and out_ticket_url', async () => {
    const tt = await tenant()
    await agentToken(tt)
    const r = await post(tt, '/calls', outbound({ ticket_id: 'CASE-1', end_user_number: '+14155550199' }))
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'assigned', out_ticket_id: 'CASE-1', out_ticket_url: expect.stringMatching(/\/admin\/tickets\/CASE-1$/) })
    expect((await endUserLeg(tt, r.body.id)).to_number).toBe('+14155550131')
    const row = await t.store.db.selectFrom('cc_sessions').select(['end_user_number', 'out_ticket_id']).where('tenant_id', '=', tt.tenant.id).where('num', '=', r.body.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ end_user_number: '+14155550131', out_ticket_id: 'CASE-1' })
    // The ticket's URL is its admin API read.
    const url = new URL(r.body.out_ticket_url as string)
    expect((await admin(tt, 'GET', url.pathname.replace(/^\/admin/, ''))).body.data).toMatchObject({ ticket_id: 'CASE-1', contact: { name: 'Grace Hopper' } })
  })

  it('answers "Contact not found" for an unknown ticket, one without a phone and another tenant’s ticket, writing nothing', async () => {
    const other = await tenant()
    await t.services.crmTickets.create(other.tenant.id, { ticketId: 'THEIRS-1', contact: { phone: '+14155550132' } })
    const tt = await tenant()
    await agentToken(tt)
    for (const ticket_id of ['NOPE-1', 'CASE-NOPHONE', 'THEIRS-1', 42]) {
      expect(await post(tt, '/calls', outbound({ ticket_id, end_user_number: '+14155550199' }))).toEqual({ status: 400, body: { message: 'Contact not found' } })
    }
    // A ticket whose phone was removed through the admin API is no longer dialable.
    expect((await admin(tt, 'PATCH', '/tickets/CASE-1', { contact: { phone: null } })).status).toBe(200)
    expect(await post(tt, '/calls', outbound({ ticket_id: 'CASE-1' }))).toEqual({ status: 400, body: { message: 'Contact not found' } })
    expect(await callRows(tt)).toEqual([])
  })
})

describe('C3/C4 with ticket_id', () => {
  it('queues an incoming call and schedules a callback for the ticket’s contact', async () => {
    const tt = await tenant()
    const incoming = await post(tt, '/calls', { call_type: 'IncomingCall', menu_id: await menuNum(tt, 'Support'), ticket_id: 'CASE-1', end_user_number: '+14155550199' })
    expect(incoming.status, JSON.stringify(incoming.body)).toBe(201)
    expect(incoming.body).toMatchObject({ status: 'queued', out_ticket_id: 'CASE-1', out_ticket_url: expect.stringMatching(/\/admin\/tickets\/CASE-1$/) })
    const scheduled = await post(tt, '/calls', { call_type: 'ScheduledCall', menu_id: await menuNum(tt, 'Callbacks'), ticket_id: 'CASE-1', scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(201)
    expect(scheduled.body).toMatchObject({ status: 'scheduled', out_ticket_id: 'CASE-1' })
    const rows = await t.store.db.selectFrom('cc_sessions').select(['num', 'end_user_number', 'out_ticket_id']).where('tenant_id', '=', tt.tenant.id).where('channel', '=', 'call').orderBy('num').execute()
    expect(rows.map((x) => [x.end_user_number, x.out_ticket_id])).toEqual([['+14155550131', 'CASE-1'], ['+14155550131', 'CASE-1']])
    // A ticket that does not resolve falls back to end_user_number (C3/C4 require it then).
    const fallback = await post(tt, '/calls', { call_type: 'IncomingCall', menu_id: await menuNum(tt, 'Support'), ticket_id: 'NOPE-1', end_user_number: '+1 415 555 0133' })
    expect(fallback.status, JSON.stringify(fallback.body)).toBe(201)
    expect(fallback.body.out_ticket_id).toBeNull()
  })
})

describe('C5 and the ticket’s contact', () => {
  it('updates the contact linked to the call’s ticket and links it to the end user', async () => {
    const tt = await tenant()
    await agentToken(tt)
    const { body: call } = await post(tt, '/calls', outbound({ ticket_id: 'CASE-NOPHONE' }))
    expect(call).toEqual({ message: 'Contact not found' })
    const { body: c1 } = await post(tt, '/calls', outbound({ ticket_id: 'CASE-1' }))
    expect(await post(tt, `/calls/${c1.id}/end_user`, { identifier: 'ext-9', name: 'Grace B. Hopper', email: 'Grace@Example.org', phone: '+14155550134' })).toEqual({ status: 202, body: { message: 'accepted' } })
    const ticket = (await admin(tt, 'GET', '/tickets/CASE-1')).body.data
    // name and email set; the contact keeps the phone it has.
    expect(ticket.contact).toEqual({ id: 'crm-contact-1', name: 'Grace B. Hopper', phone: '+14155550131', email: 'grace@example.org' })
    expect((await t.services.calls.get(tt.tenant.id, c1.id)).endUser).toMatchObject({ identifier: 'ext-9', outContactId: 'crm-contact-1' })
  })

  it('answers "Unsupported CRM request" when the call’s ticket is no longer in the CRM, writing nothing', async () => {
    const tt = await tenant()
    await agentToken(tt)
    const { body: c1 } = await post(tt, '/calls', outbound({ ticket_id: 'CASE-1' }))
    expect(c1.out_ticket_id).toBe('CASE-1')
    expect((await admin(tt, 'DELETE', '/tickets/CASE-1')).status).toBe(204)
    const before = await t.services.calls.get(tt.tenant.id, c1.id)
    expect(await post(tt, `/calls/${c1.id}/end_user`, { identifier: 'ext-10', name: 'Late' })).toEqual({ status: 400, body: { message: 'Unsupported CRM request' } })
    expect((await t.services.calls.get(tt.tenant.id, c1.id)).endUser).toEqual(before.endUser)
    expect(await t.store.db.selectFrom('cc_end_users').select('id').where('tenant_id', '=', tt.tenant.id).where('identifier', '=', 'ext-10').execute()).toEqual([])
    // Nothing was recorded either: no cool-down starts, a call without a ticket still authenticates.
    expect(await t.store.db.selectFrom('cc_session_auth_requests').select('session_num').where('tenant_id', '=', tt.tenant.id).execute()).toEqual([])
  })
})

describe('privacy purge and tickets', () => {
  it('erases the contact of the individual’s tickets (matched by their phone), keeping the ticket and other tickets', async () => {
    const tt = await tenant()
    const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`
    await t.services.crmTickets.create(tt.tenant.id, { ticketId: 'PURGE-1', subject: 'Theirs', contact: { name: 'Pat Purged', phone, email: 'pat@example.org' } })
    const { person } = await t.services.people.create(tt.tenant, { phone })
    const requestId = `purge-tickets-${randomUUID().slice(0, 8)}`
    const purge = await t.services.privacy.request(tt.tenant, { entityType: 'individual', entityId: person.cassId, requestId }, { kind: 'organization' })
    const done = await waitFor(`purge ${requestId}`, async () => {
      const p = await t.services.privacy.find(tt.tenant, purge.id)
      return p.status === 'completed' ? p : undefined
    }, 60_000)
    expect(done.counts).toMatchObject({ crm_tickets: 1 })
    expect((await admin(tt, 'GET', '/tickets/PURGE-1')).body.data).toMatchObject({ subject: 'Theirs', contact: { name: null, phone: null, email: null } })
    expect((await admin(tt, 'GET', '/tickets/CASE-1')).body.data.contact).toMatchObject({ name: 'Grace Hopper', phone: '+14155550131' })
  })
})
