import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { openSse, type SseStream } from '../../../test/helpers/sse.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'
import { hashPassword } from '../../lib/passwords.ts'

// Chats end to end over real HTTP: the Apps API starts a chat, routing offers it to the longest-idle
// available agent (whose two workspace tabs both hear it), a decline cascades to the next agent, the
// agent answers, messages flow both ways (end user → workspace stream, agent → signed webhook at a
// local receiver), and an agent freeing capacity is offered the waiting chat at once.
const PRIMARY = 'primary-secret-0123456789'
const SECONDARY = 'secondary-secret-0123456789'
let t: TestApp
let receiver: WebhookReceiver
let hash: string
const streams: SseStream[] = []
beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
  receiver = await startWebhookReceiver([SECONDARY])
  hash = await hashPassword('agent-password')
})
afterAll(async () => {
  for (const s of streams) s.close()
  await receiver?.close()
  await t?.close()
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = (capacity: number) => `
settings: { rate_limit: 1000, offer_timeout: 30s, wrap_up_timeout: 0s, webhook: { url: "${receiver.url}/hooks", primary_secret: "${PRIMARY}", secondary_secret: "${SECONDARY}" } }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], chat_capacity: ${capacity}, password_hash: "${hash}" }
  - { email: bob@example.org, first_name: Bob, last_name: B, teams: [Desk], chat_capacity: ${capacity}, password_hash: "${hash}" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`
async function http(method: string, path: string, opts: { auth?: string; body?: unknown } = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method, headers: { ...(opts.auth ? { authorization: opts.auth } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) as Json : null }
}
async function agent(tt: TestTenant, email: string): Promise<{ auth: string; tabs: SseStream[] }> {
  const r = await http('POST', '/agent/v1/login', { body: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(r.status).toBe(200)
  const auth = `Bearer ${r.body!.token}`
  const tabs = [await openSse(`${t.url}/agent/v1/events`, { authorization: auth }), await openSse(`${t.url}/agent/v1/events`, { authorization: auth })]
  streams.push(...tabs)
  return { auth, tabs }
}
const available = async (a: { auth: string }) => expect((await http('PUT', '/agent/v1/status', { auth: a.auth, body: { status: 'Available' } })).status).toBe(200)
const eventsOf = (s: SseStream, type: string) => s.events.filter((e) => e.event === type).map((e) => JSON.parse(e.data) as Json)
async function nextEvent(s: SseStream, type: string, where: (d: Json) => boolean = () => true): Promise<Json> {
  return waitFor(`a ${type} event`, () => eventsOf(s, type).find(where), 10_000)
}

describe('chats and routing', () => {
  let tt: TestTenant
  let eu: number
  let ann: { auth: string; tabs: SseStream[] }
  let bob: { auth: string; tabs: SseStream[] }
  const api = (method: string, path: string, body?: unknown) => http(method, `/apps/api/v1${path}`, { auth: tt.ccaiAuth, ...(body !== undefined ? { body } : {}) })

  beforeAll(async () => {
    tt = await createTenant(t.services)
    await t.services.ccSetup.load(tt.tenant.id, SETUP(1), 'yaml')
    ann = await agent(tt, 'ann@example.org')
    bob = await agent(tt, 'bob@example.org')
    await available(ann)
    await new Promise((r) => setTimeout(r, 20))
    await available(bob)
  })

  it('offers a new chat to the longest-idle agent (both tabs), cascades on decline, and assigns on accept', async () => {
    eu = (await api('POST', '/end_users', { identifier: 'visitor-87', name: 'Vee Sitor' })).body!.id as number
    const started = await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: String(eu), lang: 'en', context: { topic: 'billing' } } })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    expect(started.body).toMatchObject({ status: 'queued', chat_type: 'Web', lang: 'en', agent_info: null, assigned_at: null, end_user: { id: eu, identifier: 'visitor-87', out_contact_id: null }, context: { topic: 'billing' } })
    expect(started.body!.created_at).toMatch(/\.\d{3}Z$/)
    const chatId = started.body!.id as number

    const offer = await nextEvent(ann.tabs[0]!, 'offer', (d) => d.chat_id === chatId)
    await nextEvent(ann.tabs[1]!, 'offer', (d) => d.chat_id === chatId)
    expect(eventsOf(bob.tabs[0]!, 'offer')).toEqual([])
    expect((await http('POST', `/agent/v1/offers/${offer.offer_id}/decline`, { auth: ann.auth })).status).toBe(204)

    const toBob = await nextEvent(bob.tabs[0]!, 'offer', (d) => d.chat_id === chatId)
    // Ann cannot take what she declined.
    expect((await http('POST', `/agent/v1/offers/${offer.offer_id}/accept`, { auth: ann.auth })).status).toBe(404)
    const accepted = await http('POST', `/agent/v1/offers/${toBob.offer_id}/accept`, { auth: bob.auth })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    const chat = (await api('GET', `/chats/${chatId}`)).body!
    expect(chat).toMatchObject({ status: 'assigned', offer_type: 'cascade', agent_info: { id: 2, first_name: 'Bob', email: 'bob@example.org' } })
    expect(chat.offer_events.map((e: Json) => [e.agent_id, e.result])).toEqual([[1, 'rejected'], [2, 'accepted']])
    expect(chat.participants.map((p: Json) => [p.type, p.status])).toEqual([['end_user', 'connected'], ['agent', 'connected']])
    const bobMe = (await http('GET', '/agent/v1/me', { auth: bob.auth })).body!
    expect(bobMe.status.name).toBe('In-chat')
  })

  it('carries messages both ways: end user → the agent’s stream, agent → a signed webhook; ending frees the agent', async () => {
    const chatId = ((await http('GET', '/agent/v1/chats', { auth: bob.auth })).body as unknown as Json[])[0]!.id as number
    const said = await api('POST', `/chats/${chatId}/message`, { from_user_id: eu, message: { type: 'text', content: 'Is my bill right?' } })
    expect(said.status, JSON.stringify(said.body)).toBe(201)
    expect(said.body).toMatchObject({ chat_id: chatId, from_user_id: eu, from_agent_id: null, type: 'text', content: 'Is my bill right?' })
    for (const tab of bob.tabs) await nextEvent(tab, 'message', (d) => d.content === 'Is my bill right?')

    const reply = await http('POST', `/agent/v1/chats/${chatId}/messages`, { auth: bob.auth, body: { content: 'Yes, it is.' } })
    expect(reply.status).toBe(201)
    // A chat's webhooks go out in order: one that finds an earlier one of its chat still in flight is
    // tried again later (README, "Chat webhooks"), up to the recheck delay past it, so allow 45 s.
    const hook = await waitFor('the message_received webhook', () => receiver.verified().find((h) => (h.json as Json).type === 'message_received'), 45_000)
    expect(hook.matchedSecret).toBe(0)
    expect(hook.headers['x-signature']).toMatch(/^primary=\S+ secondary=\S+$/)
    expect(hook.json).toMatchObject({ type: 'message_received', chat_id: chatId, data: { content: 'Yes, it is.', from_agent_id: 2, from_user_id: null } })
    const joined = receiver.verified().filter((h) => (h.json as Json).type === 'participant_joined' && (h.json as Json).chat_id === chatId)
    expect(joined.map((h) => (h.json as Json).data.type).sort()).toEqual(['agent', 'end_user'])

    const ended = await http('POST', `/agent/v1/chats/${chatId}/end`, { auth: bob.auth })
    expect(ended.body).toMatchObject({ status: 'finished', disconnected_by: 'disconnected_by_agent' })
    expect((await http('GET', '/agent/v1/me', { auth: bob.auth })).body!.status.name).toBe('Available')
    await waitFor('the chat_ended webhook', () => receiver.verified().find((h) => (h.json as Json).type === 'chat_ended' && (h.json as Json).chat_id === chatId), 45_000)
    const late = await api('POST', `/chats/${chatId}/message`, { from_user_id: eu, message: { type: 'text', content: 'hello?' } })
    expect(late).toEqual({ status: 400, body: { message: 'Chat is already ended' } })
  })

  it('offers a waiting chat at once when an agent frees capacity; expired offers cascade', async () => {
    // Ann is away: every chat goes to Bob, whose capacity is 1.
    expect((await http('PUT', '/agent/v1/status', { auth: ann.auth, body: { status: 'Unavailable' } })).status).toBe(200)
    const [eu1, eu2] = [(await api('POST', '/end_users', { identifier: 'visitor-90' })).body!.id as number, (await api('POST', '/end_users', { identifier: 'visitor-91' })).body!.id as number]
    const first = (await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: eu1 } })).body!.id as number
    const offer1 = await nextEvent(bob.tabs[0]!, 'offer', (d) => d.chat_id === first)
    await http('POST', `/agent/v1/offers/${offer1.offer_id}/accept`, { auth: bob.auth })
    const second = (await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: eu2 } })).body!.id as number
    await new Promise((r) => setTimeout(r, 300))
    expect(eventsOf(bob.tabs[0]!, 'offer').some((d) => d.chat_id === second)).toBe(false)
    expect((await api('GET', `/chats/${second}`)).body!.status).toBe('queued')

    await http('POST', `/agent/v1/chats/${first}/end`, { auth: bob.auth })
    const offer2 = await nextEvent(bob.tabs[0]!, 'offer', (d) => d.chat_id === second)
    // Bob lets it lapse: the sweep expires it, and with nobody else available it waits, offered to no one twice.
    await t.services.routing.sweep(new Date(Date.now() + 60_000))
    await nextEvent(bob.tabs[0]!, 'offer_closed', (d) => d.offer_id === offer2.offer_id && d.result === 'timeout')
    expect((await http('POST', `/agent/v1/offers/${offer2.offer_id}/accept`, { auth: bob.auth })).status).toBe(404)
    await available(ann)
    const toAnn = await nextEvent(ann.tabs[0]!, 'offer', (d) => d.chat_id === second)
    expect((await http('POST', `/agent/v1/offers/${toAnn.offer_id}/accept`, { auth: ann.auth })).status).toBe(200)
    expect((await api('GET', `/chats/${second}`)).body!.offer_events.map((e: Json) => [e.agent_id, e.result])).toEqual([[2, 'timeout'], [1, 'accepted']])
    // The end user ends it (H1).
    const done = await api('PATCH', `/chats/${second}`, { chat: { status: 'finished' }, finished_by_user_id: eu2 })
    expect(done.body).toMatchObject({ status: 'finished', disconnected_by: 'disconnected_by_end_user' })
  })

  it('refuses bad input with the documented texts, and another tenant sees none of it', async () => {
    expect(await api('POST', '/chats', {})).toEqual({ status: 400, body: { message: 'param is missing or the value is empty: chat' } })
    expect(await api('POST', '/chats', { chat: { menu_id: 99, end_user_id: 1 } })).toEqual({ status: 400, body: { message: 'menu_id 99 is not found' } })
    expect(await api('POST', '/chats', { chat: { menu_id: 1, end_user_id: 1 } })).toEqual({ status: 400, body: { message: 'menu_id 1 is not found' } })
    expect(await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: 1, lang: 'fr' } })).toEqual({ status: 400, body: { message: "Language 'fr' is not available" } })
    // An end user must exist (E1 makes them); the refusal starts no chat.
    const before = (await t.store.db.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).n
    expect(await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: 424242 } })).toEqual({ status: 400, body: { message: 'end_user_id 424242 is not found' } })
    expect((await t.store.db.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).n).toBe(before)
    expect(await api('PATCH', '/chats/1', { chat: { status: 'queued' } })).toEqual({ status: 400, body: { message: 'Invalid status' } })
    expect((await api('GET', '/chats/9999')).status).toBe(404)
    const other = await createTenant(t.services)
    const theirs = await http('GET', '/apps/api/v1/chats/1', { auth: other.ccaiAuth })
    expect(theirs).toEqual({ status: 404, body: { message: 'Not Found' } })
  })
})
