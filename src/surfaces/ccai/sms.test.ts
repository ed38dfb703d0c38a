import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { openSse, type SseStream } from '../../../test/helpers/sse.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { TwilioPeer } from '../../../test/peers/twilio.ts'
import type { ChannelProviderSettings } from '../../core/delivery/index.ts'
import { hashPassword } from '../../lib/passwords.ts'

// S1 end to end over real HTTP: POST /sms starts a "Messaging (SMS)" session whose first message
// leaves through the delivery pipeline (the sandbox, or Twilio against a local Twilio peer); the
// consumer's reply (an inbound SMS through the sandbox API) joins the session, queues and routes
// it; the agent's answer leaves as an SMS; a consumer who texted STOP is refused. Every refusal is
// the documented text, in the documented order, and writes nothing.
const NUMBER = '+16285550199'
const NO_SMS_NUMBER = '+16285550198'
const UK_NUMBER = '+442071838750'
let t: TestApp
let peer: TwilioPeer
let hash: string
const twilioTenants = new Map<string, ChannelProviderSettings>()
const streams: SseStream[] = []

beforeAll(async () => {
  peer = await new TwilioPeer({ numbers: [NUMBER] }).start()
  t = await startTestApp({
    workers: true,
    listen: true,
    // The Twilio peer is on loopback: allowed as a closed network would.
    config: { SWITCHBOARD_ALLOWED_URL_HOSTS: '127.0.0.1' },
    services: {
      sendRetry: { retryDelaySeconds: 1, retryLimit: 3 },
      channelSettings: async (tenantId, channel) => (channel === 'sms' ? twilioTenants.get(tenantId) : undefined),
    },
  })
  hash = await hashPassword('agent-password')
})
afterAll(async () => {
  for (const s of streams) s.close()
  await t?.close()
  await peer?.stop()
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = (settings = 'sms_enabled: true, outbound_sms_enabled: true') => `
settings: { rate_limit: 1000, offer_timeout: 30s, ${settings} }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: Archer, agent_number: "11", teams: [Desk], password_hash: "${hash}" }
  - { email: bob@example.org, first_name: Bob, last_name: Baker, teams: [Desk], password_hash: "${hash}" }
  - { email: gone@example.org, first_name: Gus, last_name: Gone, teams: [Desk], active: false }
menus:
  - name: Texts
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
phone_numbers:
  - { number: "+1 628-555-0199" }
  - { number: "${NO_SMS_NUMBER}", sms: false }
  - { number: "${UK_NUMBER}" }
`
async function http(method: string, path: string, opts: { auth?: string; body?: unknown } = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method, headers: { ...(opts.auth ? { authorization: opts.auth } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) as Json : null }
}
async function contactCenter(settings?: string): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(settings), 'yaml')
  return tt
}
const sms = (tt: TestTenant, body: unknown) => http('POST', '/apps/api/v1/sms', { auth: tt.ccaiAuth, body })
async function agent(tt: TestTenant, email: string): Promise<{ auth: string; tab: SseStream }> {
  const r = await http('POST', '/agent/v1/login', { body: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(r.status).toBe(200)
  const auth = `Bearer ${r.body!.token}`
  const tab = await openSse(`${t.url}/agent/v1/events`, { authorization: auth })
  streams.push(tab)
  return { auth, tab }
}
const eventsOf = (s: SseStream, type: string) => s.events.filter((e) => e.event === type).map((e) => JSON.parse(e.data) as Json)
const nextEvent = (s: SseStream, type: string, where: (d: Json) => boolean) => waitFor(`a ${type} event`, () => eventsOf(s, type).find(where), 10_000)
async function outbox(tt: TestTenant): Promise<Json[]> {
  const r = await http('GET', '/sandbox/api/outbox?channel=sms', { auth: tt.cassAuth })
  expect(r.status).toBe(200)
  return r.body!.data as Json[]
}
async function inbound(tt: TestTenant, from: string, body: string, to: string | undefined = NUMBER) {
  const r = await http('POST', '/sandbox/api/inbound', { auth: tt.cassAuth, body: { channel: 'sms', from, body, ...(to ? { to } : {}) } })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const id = r.body!.data.id as string
  await waitFor('the inbound message to be handled', async () => (await http('GET', '/sandbox/api/inbound', { auth: tt.cassAuth })).body!.data.find((m: Json) => m.id === id && m.status === 'processed'))
}
async function stored(tt: TestTenant) {
  const sessions = await t.store.db.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tt.tenant.id).execute()
  const messages = await t.store.db.selectFrom('cc_messages').select('id').where('tenant_id', '=', tt.tenant.id).execute()
  const endUsers = await t.store.db.selectFrom('cc_end_users').select('id').where('tenant_id', '=', tt.tenant.id).execute()
  return { sessions: sessions.length, messages: messages.length, endUsers: endUsers.length, outbox: (await outbox(tt)).length }
}
const START = (to: string, extra: Record<string, unknown> = {}) => ({ chat_type: 'Messaging (SMS)', end_user_number: to, outbound_number: '+1 (628) 555-0199', message: 'Hi, this is Acme about your order.', ...extra })

describe('POST /sms', () => {
  it('refuses bad input with every documented text, in the documented order, and stores nothing', async () => {
    const tt = await contactCenter()
    const to = uniquePhone()
    const cases: Array<[unknown, string]> = [
      [{}, 'chat_type needs to be provided'],
      [{ chat_type: '', end_user_number: 'x' }, 'chat_type needs to be provided'],
      [{ chat_type: 'In-app', end_user_number: 'x' }, 'valid chat type needs to be provided'],
      [{ chat_type: 7 }, 'valid chat type needs to be provided'],
      [{ chat_type: 'SMS', outbound_number: 'x' }, 'end_user_number is required'],
      [{ chat_type: 'SMS', end_user_number: '555-0100', outbound_number: 'x' }, 'end_user_number is invalid'],
      [{ chat_type: 'SMS', end_user_number: 15550100 }, 'end_user_number is invalid'],
      [{ chat_type: 'SMS', end_user_number: to, message: '' }, 'outbound_number is required'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: '+1 628', message: '' }, 'outbound_number is invalid'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: UK_NUMBER, message: '' }, 'Non-US phone number not allowed'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: '+16285550100', message: '' }, 'outbound_number is not found'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: NO_SMS_NUMBER }, 'outbound_number is not found'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: NUMBER, agent_id: 999 }, 'message is required'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: NUMBER, message: '', agent_id: 999 }, 'message is required'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: NUMBER, message: '   ' }, 'message is required'],
      [{ chat_type: 'SMS', end_user_number: to, outbound_number: NUMBER, message: 'x'.repeat(1601) }, 'message is invalid'],
      [START(to, { agent_id: 999 }), 'Agent not found'],
      [START(to, { agentId: 'abc' }), 'Agent not found'],
      [START(to, { agent_email: 'nobody@example.org' }), 'Agent not found'],
      [START(to, { agentEmail: 'gone@example.org' }), 'Agent not found'],
      [START(to, { ticket_id: { no: 1 } }), 'ticket_id is invalid'],
    ]
    for (const [body, message] of cases) expect(await sms(tt, body), JSON.stringify(body)).toEqual({ status: 400, body: { message } })
    expect(await stored(tt)).toEqual({ sessions: 0, messages: 0, endUsers: 0, outbox: 0 })

    // The tenant's channel settings come right after the chat type.
    const noCc = await createTenant(t.services)
    expect(await sms(noCc, { chat_type: 'Messaging (SMS)' })).toEqual({ status: 400, body: { message: 'SMS is not enabled' } })
    const off = await contactCenter('sms_enabled: false')
    expect(await sms(off, START(to))).toEqual({ status: 400, body: { message: 'SMS is not enabled' } })
    expect(await sms(off, { chat_type: 'In-app' })).toEqual({ status: 400, body: { message: 'valid chat type needs to be provided' } })
    const inboundOnly = await contactCenter('sms_enabled: true, outbound_sms_enabled: false')
    expect(await sms(inboundOnly, { chat_type: 'SMS' })).toEqual({ status: 400, body: { message: 'Outbound SMS is not enabled' } })
    expect(await stored(inboundOnly)).toEqual({ sessions: 0, messages: 0, endUsers: 0, outbox: 0 })
  })

  it('starts a selecting session, delivers the first message, and the consumer’s reply queues it to an agent who answers by SMS', async () => {
    const tt = await contactCenter()
    const ann = await agent(tt, 'ann@example.org')
    expect((await http('PUT', '/agent/v1/status', { auth: ann.auth, body: { status: 'Available' } })).status).toBe(200)
    const to = uniquePhone()
    const started = await sms(tt, START(to.replace('+1', '+1 ').replace(/(\d{3})(\d{4})$/, '$1-$2'), { ticket_id: 'T-42' }))
    expect(started.status, JSON.stringify(started.body)).toBe(200)
    const chat = started.body!
    expect(chat).toMatchObject({
      status: 'selecting', chat_type: 'Messaging (SMS)', assigned_at: null, queued_at: null, agent_info: null, answer_type: 'manual', offer_type: null,
      offer_events: [], outbound_number: NUMBER, out_ticket_id: 'T-42', end_user: { id: expect.any(Number) }, selected_menu: null,
    })
    expect(chat.participants.map((p: Json) => [p.type, p.status])).toEqual([['end_user', 'connected']])
    expect(chat.created_at).toMatch(/\.\d{3}Z$/)

    // The first message leaves through the sandbox provider, from the session's number.
    const first = await waitFor('the first SMS to be sent', async () => (await outbox(tt)).find((m) => m.to === to && m.status === 'sent'))
    expect(first).toMatchObject({ channel: 'sms', from: NUMBER, body: 'Hi, this is Acme about your order.', provider: 'sandbox' })

    // A second session for the same consumer is refused while this one lives; nothing more is written.
    const before = await stored(tt)
    expect(await sms(tt, START(to))).toEqual({ status: 400, body: { message: 'Outbound SMS failed. Consumer is already in an active SMS session.' } })
    expect(await stored(tt)).toEqual(before)

    // The consumer replies: the message joins the session, which is queued and offered to Ann.
    await inbound(tt, to, 'Yes, where is it?')
    const offer = await nextEvent(ann.tab, 'offer', (d) => d.chat_id === chat.id)
    const queued = (await http('GET', `/apps/api/v1/chats/${chat.id}`, { auth: tt.ccaiAuth })).body!
    expect(queued).toMatchObject({ status: 'queued', selected_menu: { name: 'Help' }, offer_type: 'cascade' })
    expect(queued.queued_at).not.toBeNull()
    expect((await http('POST', `/agent/v1/offers/${offer.offer_id}/accept`, { auth: ann.auth })).status).toBe(200)
    const messages = (await http('GET', `/agent/v1/chats/${chat.id}/messages`, { auth: ann.auth })).body as unknown as Json[]
    expect(messages.map((m) => [m.from_user_id === null ? 'api' : 'end_user', m.content])).toEqual([['api', 'Hi, this is Acme about your order.'], ['end_user', 'Yes, where is it?']])
    // The bot never saw it: the only SMS to the consumer is ours.
    expect((await outbox(tt)).filter((m) => m.to === to)).toHaveLength(1)

    // A later reply reaches Ann's stream; her answer leaves as an SMS from the session's number.
    await inbound(tt, to, 'Thanks!')
    await nextEvent(ann.tab, 'message', (d) => d.chat_id === chat.id && d.content === 'Thanks!' && d.from === 'end_user')
    const reply = await http('POST', `/agent/v1/chats/${chat.id}/messages`, { auth: ann.auth, body: { content: 'It arrives tomorrow.' } })
    expect(reply.status, JSON.stringify(reply.body)).toBe(201)
    const out = await waitFor('the agent’s SMS to be sent', async () => (await outbox(tt)).find((m) => m.to === to && m.body === 'It arrives tomorrow.' && m.status === 'sent'))
    expect(out.from).toBe(NUMBER)

    // Once it ends, the consumer may be texted again; a reply no longer joins the ended session.
    expect((await http('POST', `/agent/v1/chats/${chat.id}/end`, { auth: ann.auth })).body).toMatchObject({ status: 'finished' })
    await inbound(tt, to, 'one more thing')
    const ended = (await http('GET', `/agent/v1/chats`, { auth: ann.auth })).body as unknown as Json[]
    expect(ended.some((c) => c.id === chat.id)).toBe(false)
    const again = await sms(tt, START(to))
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    expect(again.body!.id).not.toBe(chat.id)
    expect(again.body!.end_user.id).toBe(chat.end_user.id)
  })

  it('starts assigned to the agent named by id or email: connected, agent_info, in the agent’s workspace', async () => {
    const tt = await contactCenter()
    const ann = await agent(tt, 'ann@example.org')
    expect((await http('PUT', '/agent/v1/status', { auth: ann.auth, body: { status: 'Available' } })).status).toBe(200)
    const to = uniquePhone()
    const byId = await sms(tt, START(to, { agentId: '1', chat_type: 'Messaging (API)' }))
    expect(byId.status, JSON.stringify(byId.body)).toBe(200)
    expect(byId.body).toMatchObject({
      status: 'assigned', chat_type: 'Messaging (SMS)', offer_type: null, offer_events: [],
      agent_info: { id: 1, first_name: 'Ann', last_name: 'Archer', name: 'Ann Archer', agent_number: '11', email: 'ann@example.org' },
    })
    expect(byId.body!.assigned_at).toMatch(/\.\d{3}Z$/)
    expect(byId.body!.participants.map((p: Json) => [p.type, p.status, p.user_id])).toEqual([['end_user', 'connected', null], ['agent', 'connected', 1]])
    await nextEvent(ann.tab, 'chat_assigned', (d) => d.chat_id === byId.body!.id)
    const mine = (await http('GET', '/agent/v1/chats', { auth: ann.auth })).body as unknown as Json[]
    expect(mine.map((c) => c.id)).toContain(byId.body!.id)
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).body!.status.name).toBe('In-chat')

    // The consumer's reply goes straight to Ann (no routing), and her answer is an SMS.
    await inbound(tt, to, 'Hello Ann', undefined)
    await nextEvent(ann.tab, 'message', (d) => d.chat_id === byId.body!.id && d.content === 'Hello Ann')
    await http('POST', `/agent/v1/chats/${byId.body!.id}/messages`, { auth: ann.auth, body: { content: 'Hi!' } })
    await waitFor('the agent’s SMS', async () => (await outbox(tt)).find((m) => m.to === to && m.body === 'Hi!' && m.status === 'sent'))

    const byEmail = await sms(tt, START(uniquePhone(), { agent_email: 'BOB@example.org', chat_type: 'SMS' }))
    expect(byEmail.status, JSON.stringify(byEmail.body)).toBe(200)
    expect(byEmail.body).toMatchObject({ status: 'assigned', chat_type: 'Messaging (SMS)', agent_info: { id: 2, email: 'bob@example.org' } })
  })

  it('keeps a session selecting when the tenant has no chat queue, with the reply stored once however often its job runs', async () => {
    const tt = await createTenant(t.services)
    await t.services.ccSetup.load(tt.tenant.id, `
settings: { sms_enabled: true, outbound_sms_enabled: true }
phone_numbers: [{ number: "${NUMBER}" }]
`, 'yaml')
    const to = uniquePhone()
    const chat = (await sms(tt, START(to))).body!
    await inbound(tt, to, 'Anyone there?')
    const after = (await http('GET', `/apps/api/v1/chats/${chat.id}`, { auth: tt.ccaiAuth })).body!
    expect(after).toMatchObject({ status: 'selecting', queued_at: null, selected_menu: null })
    // The inbound job retried after the message was joined: the session gets it once.
    const [received] = await t.services.delivery.listInbound(tt.tenant, { channel: 'sms' })
    expect(received!.body).toBe('Anyone there?')
    expect(await t.services.smsSessions.inboundHandler(received!)).toBe('consumed')
    const rows = await t.store.db.selectFrom('cc_messages').select(['content', 'from_end_user']).where('tenant_id', '=', tt.tenant.id).orderBy('num').execute()
    expect(rows).toEqual([{ content: 'Hi, this is Acme about your order.', from_end_user: false }, { content: 'Anyone there?', from_end_user: true }])
  })

  it('refuses a consumer who texted STOP: nothing sent, nothing stored', async () => {
    const tt = await contactCenter()
    const to = uniquePhone()
    await inbound(tt, to, 'STOP')
    await waitFor('the opt-out', async () => (await t.services.suppression.isSuppressed(tt.tenant, 'sms', to)) !== undefined)
    const before = await stored(tt)
    expect(await sms(tt, START(to))).toEqual({ status: 400, body: { message: 'Outbound SMS failed. Consumer has opted out of SMS (replied STOP).' } })
    expect(await stored(tt)).toEqual(before)
    expect((await outbox(tt)).filter((m) => m.to === to && !m.body.includes('unsubscribed'))).toEqual([])
  })

  it('lets one of two simultaneous sessions for a consumer win', async () => {
    const tt = await contactCenter()
    const to = uniquePhone()
    const answers = await Promise.all([sms(tt, START(to)), sms(tt, START(to))])
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400])
    expect(answers.find((a) => a.status === 400)!.body).toEqual({ message: 'Outbound SMS failed. Consumer is already in an active SMS session.' })
    expect((await stored(tt)).sessions).toBe(1)
  })

  it('sends through the tenant’s Twilio account', async () => {
    const tt = await contactCenter()
    twilioTenants.set(tt.tenant.id, { provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: NUMBER, baseUrl: peer.url, timeoutMs: 2000, ratePerSecond: 1000 })
    const to = uniquePhone()
    expect((await sms(tt, START(to, { message: 'Via Twilio' }))).status).toBe(200)
    const m = await waitFor('the Twilio peer to receive it', () => peer.sentTo(to)[0])
    expect(m).toMatchObject({ to, from: NUMBER, body: 'Via Twilio' })
    await waitFor('the message to be sent', async () => (await outbox(tt)).find((x) => x.to === to && x.status === 'sent' && x.provider === 'twilio'))
  })

  it('keeps tenants apart: another tenant cannot read the session, use the number or the agent, nor join by texting', async () => {
    const tt = await contactCenter()
    const to = uniquePhone()
    const mine = (await sms(tt, START(to))).body!
    const other = await createTenant(t.services)
    await t.services.ccSetup.load(other.tenant.id, `
settings: { sms_enabled: true, outbound_sms_enabled: true }
phone_numbers: [{ number: "+16285550197" }]
`, 'yaml')
    expect(await http('GET', `/apps/api/v1/chats/${mine.id}`, { auth: other.ccaiAuth })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await sms(other, START(to))).toEqual({ status: 400, body: { message: 'outbound_number is not found' } })
    expect(await sms(other, START(to, { outbound_number: '+16285550197', agent_email: 'ann@example.org' }))).toEqual({ status: 400, body: { message: 'Agent not found' } })
    // The same consumer may have a session with each tenant; a text to the other tenant stays there.
    const theirs = await sms(other, START(to, { outbound_number: '+16285550197' }))
    expect(theirs.status).toBe(200)
    await inbound(other, to, 'to the other one', '+16285550197')
    const after = (await http('GET', `/apps/api/v1/chats/${mine.id}`, { auth: tt.ccaiAuth })).body!
    expect(after.status).toBe('selecting')
    const count = await t.store.db.selectFrom('cc_messages').select('id').where('tenant_id', '=', tt.tenant.id).execute()
    expect(count).toHaveLength(1)
  })
})
