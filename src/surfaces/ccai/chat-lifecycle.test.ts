import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { openSse, type SseStream } from '../../../test/helpers/sse.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'
import { hashPassword } from '../../lib/passwords.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'

// The chat lifecycle (§4.2) over real HTTP, each transition by its real trigger: the virtual agent
// (the tenant's bot thread) answering and handing off, H4/H5 escalations with deflection, the
// scheduler's dismissal (its sweep, run with a clock past the timeout) and H2 resume, agent
// transfers in the agent API, and wrap-up. Webhooks arrive signed at a local receiver.
const SECRET = 'primary-secret-0123456789'
let t: TestApp
let receiver: WebhookReceiver
let hash: string
const streams: SseStream[] = []
beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
  receiver = await startWebhookReceiver([SECRET])
  hash = await hashPassword('agent-password')
})
afterAll(async () => {
  for (const s of streams) s.close()
  await receiver?.close()
  await t?.close()
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const THREADS = `
threads:
  va_main:
    steps:
      - say: "Hi, I am Sam."
      - ask: "Reply 1 for hours, 2 for a person"
        choices:
          - { match: ["hours"], say: "We are open all day." }
          - { match: ["person"], say: "Let me get someone.", set: { handoff: "asked for a person" } }
`
const SETUP = (wrapUp: string, expiration = '24h') => `
settings: { rate_limit: 1000, offer_timeout: 30s, chat_dismissal_timeout: 1m, chat_expiration_timeout: ${expiration}, wrap_up_timeout: ${wrapUp}, dispositions: [Resolved, Callback], webhook: { url: "${receiver.url}/hooks", primary_secret: "${SECRET}" } }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }
  - { email: bob@example.org, first_name: Bob, last_name: B, teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
      - { name: Bot, channels: [chat], teams: [Desk], virtual_agent: { thread: va_main, name: Sam } }
      - { name: Full, channels: [chat], teams: [Desk], virtual_agent: { thread: va_main }, over_capacity: { max_queued: 0, deflection: [stay, sms, end] } }
      - { name: Other, channels: [chat], teams: [Desk] }
      - { name: Overflow, channels: [chat], teams: [Desk], over_capacity: { max_queued: 0, deflection: [sms] } }
`
// Menu ids in file order: Site 1, Help 2, Bot 3, Full 4, Other 5, Overflow 6.

async function http(method: string, path: string, opts: { auth?: string; body?: unknown } = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method, headers: { ...(opts.auth ? { authorization: opts.auth } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) as Json : null }
}
type AgentTab = { auth: string; tab: SseStream }
async function signIn(tt: TestTenant, email: string): Promise<AgentTab> {
  const r = await http('POST', '/agent/v1/login', { body: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(r.status).toBe(200)
  const auth = `Bearer ${r.body!.token}`
  const tab = await openSse(`${t.url}/agent/v1/events`, { authorization: auth })
  streams.push(tab)
  return { auth, tab }
}
const eventsOf = (s: SseStream, type: string) => s.events.filter((e) => e.event === type).map((e) => JSON.parse(e.data) as Json)
const nextEvent = (s: SseStream, type: string, where: (d: Json) => boolean = () => true) => waitFor(`a ${type} event`, () => eventsOf(s, type).find(where), 10_000)
const hooks = (chatId: number, type: string) => receiver.verified().map((h) => h.json as Json).filter((j) => j.chat_id === chatId && j.type === type)
// Webhooks of one chat go out in order: one that finds an earlier one of its chat still in flight is
// tried again later (README, "Chat webhooks"), up to the retry delay past it, so allow 45 s.
const hook = (chatId: number, type: string, where: (j: Json) => boolean = () => true) => waitFor(`the ${type} webhook of chat ${chatId}`, () => hooks(chatId, type).find(where), 45_000)

type Api = ((method: string, path: string, body?: unknown) => ReturnType<typeof http>) & { endUser: (key: number) => Promise<number> }
async function contactCenter(wrapUp = '0s', expiration?: string): Promise<{ tt: TestTenant; api: Api }> {
  const tt = await createTenant(t.services)
  await t.services.threads.load(tt.tenant, THREADS, 'yaml')
  await t.services.ccSetup.load(tt.tenant.id, SETUP(wrapUp, expiration), 'yaml')
  const api = (method: string, path: string, body?: unknown) => http(method, `/apps/api/v1${path}`, { auth: tt.ccaiAuth, ...(body !== undefined ? { body } : {}) })
  return { tt, api: Object.assign(api, { endUser: (key: number) => endUserNum(t.services, tt.tenant.id, key) }) }
}
const setStatus = async (a: AgentTab, status: string) => expect((await http('PUT', '/agent/v1/status', { auth: a.auth, body: { status } })).status).toBe(200)
async function assign(api: Api, a: AgentTab, endUser: number, menu = 2): Promise<number> {
  const chat = (await api('POST', '/chats', { chat: { menu_id: menu, end_user_id: await api.endUser(endUser) } })).body!.id as number
  const offer = await nextEvent(a.tab, 'offer', (d) => d.chat_id === chat)
  expect((await http('POST', `/agent/v1/offers/${offer.offer_id}/accept`, { auth: a.auth })).status).toBe(200)
  return chat
}

// A test may wait out webhook retries (see `hook`): its own limit covers them.
describe('the chat lifecycle', { timeout: 180_000 }, () => {
  it('a virtual agent answers with the tenant’s thread and hands off to a human (queued → offered → assigned)', async () => {
    const { tt, api } = await contactCenter()
    const ann = await signIn(tt, 'ann@example.org')
    await setStatus(ann, 'Available')
    const started = await api('POST', '/chats', { chat: { menu_id: 3, end_user_id: await api.endUser(7) } })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    expect(started.body).toMatchObject({ status: 'va_assigned', status_text: 'Virtual Agent Assigned', virtual_agent: { name: 'Sam', status: 'connected' }, agent: null })
    const id = started.body!.id as number
    await hook(id, 'message_received', (j) => j.data.content === 'Hi, I am Sam.' && j.data.from_agent_id === null && j.data.from_user_id === null)
    await hook(id, 'message_received', (j) => j.data.content === 'Reply 1 for hours, 2 for a person')
    expect((await api('POST', `/chats/${id}/message`, { from_user_id: await api.endUser(7), message: { type: 'text', content: 'person' } })).status).toBe(201)
    await hook(id, 'message_received', (j) => j.data.content === 'Let me get someone.')
    await hook(id, 'participant_left', (j) => j.data.type === 'virtual_agent')
    const chat = (await api('GET', `/chats/${id}`)).body!
    expect(chat).toMatchObject({ status: 'queued', escalations: [{ id: expect.any(Number), chat_id: id, reason: 'asked for a person', force_escalate: false, status: 'escalated', deflection_channels: [] }] })
    const offer = await nextEvent(ann.tab, 'offer', (d) => d.chat_id === id)
    expect((await http('POST', `/agent/v1/offers/${offer.offer_id}/accept`, { auth: ann.auth })).body).toMatchObject({ status: 'assigned' })
    // The history the agent reads holds the virtual agent's side too.
    const history = (await http('GET', `/agent/v1/chats/${id}/messages`, { auth: ann.auth })).body as unknown as Json[]
    expect(history.map((m) => m.content)).toEqual(['Hi, I am Sam.', 'Reply 1 for hours, 2 for a person', 'person', 'Let me get someone.'])
    expect((await api('POST', `/chats/${id}/escalations`, {})).body).toEqual({ message: 'Chat is not handled by a virtual agent' })
  })

  it('H4 to a full queue offers its deflection channels; H5 and H1 pick one (deflected, queued); force_escalate queues at once', async () => {
    const { api } = await contactCenter()
    const start = async (user: number) => (await api('POST', '/chats', { chat: { menu_id: 4, end_user_id: await api.endUser(user) } })).body!.id as number
    const first = await start(11)
    const esc = await api('POST', `/chats/${first}/escalations`, { reason: 'billing' })
    expect(esc.status, JSON.stringify(esc.body)).toBe(201)
    expect(esc.body).toMatchObject({ chat_id: first, reason: 'billing', force_escalate: false, status: 'deflection_offered', deflection_channels: ['stay', 'sms', 'end'], deflection_channel: null })
    expect((await api('GET', `/chats/${first}`)).body!.status).toBe('va_assigned')
    expect(await api('PATCH', `/chats/${first}/escalations/${esc.body!.id}`, { deflection_channel: 'voicemail' })).toEqual({ status: 400, body: { message: 'Invalid deflection channel' } })
    expect((await api('GET', `/chats/${first}`)).body!.status).toBe('va_assigned')
    expect(await api('PATCH', `/chats/${first}/escalations/999`, { deflection_channel: 'sms' })).toEqual({ status: 404, body: { message: 'Not Found' } })
    const picked = await api('PATCH', `/chats/${first}/escalations/${esc.body!.id}`, { deflection_channel: 'sms' })
    expect(picked.body).toMatchObject({ status: 'deflected', deflection_channel: 'sms' })
    const deflected = (await api('GET', `/chats/${first}`)).body!
    expect(deflected).toMatchObject({ status: 'deflected', deflection_channel: 'sms', escalations: [{ status: 'deflected', deflection_channel: 'sms' }] })
    expect(deflected.ends_at).not.toBeNull()
    await hook(first, 'chat_ended')
    expect(await api('POST', `/chats/${first}/escalations`, {})).toEqual({ status: 400, body: { message: 'Chat is already ended' } })

    const second = await start(12)
    const esc2 = (await api('POST', `/chats/${second}/escalations`, {})).body!
    const stayed = await api('PATCH', `/chats/${second}`, { chat: { deflection_channel: 'stay', escalation_id: esc2.id } })
    expect(stayed.body).toMatchObject({ status: 'queued', escalations: [{ status: 'escalated', deflection_channel: 'stay' }] })

    const third = await start(13)
    const forced = await api('POST', `/chats/${third}/escalations`, { force_escalate: true })
    expect(forced.body).toMatchObject({ status: 'escalated', force_escalate: true, deflection_channels: [] })
    expect((await api('GET', `/chats/${third}`)).body!.status).toBe('queued')

    // queued → deflected by configuration: a full queue whose only option is another channel.
    const overflow = await api('POST', '/chats', { chat: { menu_id: 6, end_user_id: await api.endUser(14) } })
    expect(overflow.body).toMatchObject({ status: 'deflected', deflection_channel: 'sms', disconnected_by: 'disconnected_by_system' })

    const other = await createTenant(t.services)
    expect((await http('POST', `/apps/api/v1/chats/${second}/escalations`, { auth: other.ccaiAuth, body: {} })).status).toBe(404)
    expect((await http('PATCH', `/apps/api/v1/chats/${second}/escalations/${esc2.id}`, { auth: other.ccaiAuth, body: { deflection_channel: 'stay' } })).status).toBe(404)
  })

  it('the scheduler dismisses inactive chats (agent released, chat_dismissed); H2 resumes them, the previous agent first', async () => {
    const { tt, api } = await contactCenter()
    const ann = await signIn(tt, 'ann@example.org')
    const bob = await signIn(tt, 'bob@example.org')
    await setStatus(bob, 'Available')
    await new Promise((r) => setTimeout(r, 20))
    await setStatus(ann, 'Unavailable')
    const withVa = (await api('POST', '/chats', { chat: { menu_id: 3, end_user_id: await api.endUser(21) } })).body!.id as number
    const chat = await assign(api, bob, 22)
    await setStatus(ann, 'Available')
    const before = (await api('GET', `/chats/${chat}`)).body!
    expect(before.timeout_at).not.toBeNull()
    expect(await api('PATCH', `/chats/${chat}/resume`)).toEqual({ status: 400, body: { message: 'This chat is not in dismissed state' } })

    await t.services.chats.sweep(new Date(Date.now() + 61_000))
    const dismissed = (await api('GET', `/chats/${chat}`)).body!
    expect(dismissed).toMatchObject({ status: 'dismissed', agent: null, timeout_at: null })
    expect((await api('GET', `/chats/${withVa}`)).body!.status).toBe('va_dismissed')
    await hook(chat, 'chat_dismissed')
    await hook(chat, 'participant_left', (j) => j.data.type === 'agent')
    await hook(withVa, 'chat_dismissed')
    expect((await http('GET', '/agent/v1/me', { auth: bob.auth })).body!.status.name).toBe('Available')
    expect(await api('POST', `/chats/${chat}/message`, { from_user_id: await api.endUser(22), message: { type: 'text', content: 'hi?' } })).toEqual({ status: 400, body: { message: 'Chat is dismissed; resume it first' } })

    // Ann has been idle longer now, but Bob had the chat: it goes to him first.
    const resumed = await api('PATCH', `/chats/${chat}/resume`)
    expect(resumed.body).toMatchObject({ status: 'queued' })
    await nextEvent(bob.tab, 'offer', (d) => d.chat_id === chat)
    expect(eventsOf(ann.tab, 'offer').some((d) => d.chat_id === chat)).toBe(false)
    expect((await api('PATCH', `/chats/${withVa}/resume`)).body).toMatchObject({ status: 'va_assigned' })
    expect((await api('GET', `/chats/${chat}/`)).status).toBe(200)
    const other = await createTenant(t.services)
    expect((await http('PATCH', `/apps/api/v1/chats/${chat}/resume`, { auth: other.ccaiAuth })).status).toBe(404)
  })

  it('refuses a transfer to an agent with no free chat capacity (their chats and pending offers count)', async () => {
    const { tt, api } = await contactCenter()
    const ann = await signIn(tt, 'ann@example.org')
    const bob = await signIn(tt, 'bob@example.org')
    await setStatus(bob, 'Available')
    await assign(api, bob, 41)
    await assign(api, bob, 42) // Bob is full: two chats of capacity 2
    await setStatus(ann, 'Available')
    const chat = await assign(api, ann, 43)
    const refused = await http('POST', `/agent/v1/chats/${chat}/transfer`, { auth: ann.auth, body: { agent_id: 2 } })
    expect(refused).toMatchObject({ status: 400, body: { code: 'transfer_target_full' } })
    expect((await api('GET', `/chats/${chat}`)).body).toMatchObject({ status: 'assigned', agent: { id: 1 }, transfers: [] })
    expect(eventsOf(bob.tab, 'offer').filter((d) => d.chat_id === chat)).toEqual([])
  })

  it('transfers a chat to another agent (declined: failed; accepted: left/joined, all_agents grows) and to a queue', async () => {
    const { tt, api } = await contactCenter()
    const ann = await signIn(tt, 'ann@example.org')
    const bob = await signIn(tt, 'bob@example.org')
    await setStatus(ann, 'Available')
    const chat = await assign(api, ann, 31)
    await setStatus(bob, 'Available')
    const transfer = (body: unknown, who = ann) => http('POST', `/agent/v1/chats/${chat}/transfer`, { auth: who.auth, body })
    expect((await transfer({ agent_id: 1 })).body).toMatchObject({ code: 'invalid_transfer' })
    expect((await transfer({ agent_id: 2, menu_id: 5 })).status).toBe(400)
    expect((await transfer({ agent_id: 99 })).status).toBe(404)
    expect((await transfer({ menu_id: 99 })).body).toMatchObject({ code: 'menu_not_found' })
    expect((await transfer({ agent_id: 1 }, bob)).status).toBe(404)

    const asked = await transfer({ agent_id: 2 })
    expect(asked.status, JSON.stringify(asked.body)).toBe(200)
    expect(asked.body!.transfers).toMatchObject([{ status: 'transferring', fail_reason: 'nothing', from_agent: { id: 1, first_name: 'Ann' }, to_agent: { id: 2, first_name: 'Bob' }, to_menu: null }])
    const offer1 = await nextEvent(bob.tab, 'offer', (d) => d.chat_id === chat && d.transfer_from === 1)
    expect((await transfer({ agent_id: 2 })).body).toMatchObject({ code: 'transfer_pending' })
    expect((await http('POST', `/agent/v1/offers/${offer1.offer_id}/decline`, { auth: bob.auth })).status).toBe(204)
    await nextEvent(ann.tab, 'transfer_failed', (d) => d.chat_id === chat)
    expect((await api('GET', `/chats/${chat}`)).body).toMatchObject({ status: 'assigned', agent: { id: 1 }, transfers: [{ status: 'failed', fail_reason: 'declined' }] })

    await transfer({ agent_id: 2 })
    const offer2 = await nextEvent(bob.tab, 'offer', (d) => d.chat_id === chat && d.offer_id !== offer1.offer_id)
    expect((await http('POST', `/agent/v1/offers/${offer2.offer_id}/accept`, { auth: bob.auth })).status).toBe(200)
    const moved = (await api('GET', `/chats/${chat}`)).body!
    expect(moved).toMatchObject({ status: 'assigned', agent: { id: 2 }, transfers: [{ status: 'failed' }, { status: 'transferred' }] })
    expect(moved.all_agents.map((a: Json) => [a.id, a.status])).toEqual([[1, 'finished'], [2, 'connected']])
    await hook(chat, 'participant_left', (j) => j.data.type === 'agent' && j.data.user_id === 1)
    await hook(chat, 'participant_joined', (j) => j.data.type === 'agent' && j.data.user_id === 2)
    expect((await http('POST', `/agent/v1/chats/${chat}/messages`, { auth: ann.auth, body: { content: 'still here?' } })).status).toBe(404)

    const requeued = await transfer({ menu_id: 5 }, bob)
    expect(requeued.body).toMatchObject({ status: 'queued', selected_menu: { id: 5, name: 'Other' }, agent: null })
    expect(requeued.body!.transfers[2]).toMatchObject({ status: 'transferred', from_agent: { id: 2 }, to_agent: null, from_menu: { name: 'Help' }, to_menu: { name: 'Other', materialized_path: 'Site / Other' } })
    await nextEvent(ann.tab, 'offer', (d) => d.chat_id === chat && d.transfer_from === undefined)
  })

  it('wrap-up after a chat: no offers until the disposition is posted or the time runs out; a force logout waits for it', async () => {
    const { tt, api } = await contactCenter('1m')
    const ann = await signIn(tt, 'ann@example.org')
    await setStatus(ann, 'Available')
    const chat = await assign(api, ann, 41)
    expect((await http('POST', `/agent/v1/chats/${chat}/wrap-up`, { auth: ann.auth, body: { disposition: 'Resolved' } })).body).toMatchObject({ code: 'not_in_wrap_up' })
    await http('POST', `/agent/v1/chats/${chat}/end`, { auth: ann.auth })
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).body!.status.name).toBe('Wrap-up')
    const users = (await api('GET', '/users')).body as unknown as Json[]
    expect(users.find((u) => u.id === 1)).toMatchObject({ wrap_up: true })
    const waiting = (await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: await api.endUser(42) } })).body!.id as number
    await new Promise((r) => setTimeout(r, 300))
    expect(eventsOf(ann.tab, 'offer').some((d) => d.chat_id === waiting)).toBe(false)
    expect((await http('POST', `/agent/v1/chats/${chat}/wrap-up`, { auth: ann.auth, body: { disposition: 'Nope' } })).body).toMatchObject({ code: 'disposition_not_found' })
    const done = await http('POST', `/agent/v1/chats/${chat}/wrap-up`, { auth: ann.auth, body: { disposition: 'Resolved' } })
    expect(done.status).toBe(200)
    expect(done.body!.status.name).toBe('Available')
    const offer = await nextEvent(ann.tab, 'offer', (d) => d.chat_id === waiting)
    await http('POST', `/agent/v1/offers/${offer.offer_id}/accept`, { auth: ann.auth })
    await http('POST', `/agent/v1/chats/${waiting}/end`, { auth: ann.auth })
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).body!.status.name).toBe('Wrap-up')
    const forced = await api('POST', '/agent_statuses/force_logout', { agent_ids: [1] })
    expect(forced.status, JSON.stringify(forced.body)).toBeLessThan(300)
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).body!.logout_pending).toBe(true)
    // The scheduler ends the wrap-up when its time is up: the waiting logout happens then.
    await t.services.chats.sweep(new Date(Date.now() + 61_000))
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).status).toBe(401)
    const status = await t.store.db.selectFrom('cc_agents as a').innerJoin('cc_statuses as s', 's.id', 'a.status_id').select('s.name').where('a.tenant_id', '=', tt.tenant.id).where('a.num', '=', 1).executeTakeFirstOrThrow()
    expect(status.name).toBe('Offline')
  })

  it('the scheduler times chats out after chat_expiration_timeout: queued too long (offer withdrawn), assigned with the reply overdue (agent released)', async () => {
    const { tt, api } = await contactCenter('0s', '30s')
    const ann = await signIn(tt, 'ann@example.org')
    const bob = await signIn(tt, 'bob@example.org')
    await setStatus(ann, 'Available')
    // Ann answered this one: the end user owes the reply.
    const answered = await assign(api, ann, 51)
    expect((await http('POST', `/agent/v1/chats/${answered}/messages`, { auth: ann.auth, body: { content: 'How can I help?' } })).status).toBe(201)
    // Here the end user wrote last: Ann owes the reply.
    const unanswered = await assign(api, ann, 52)
    expect((await api('POST', `/chats/${unanswered}/message`, { from_user_id: await api.endUser(52), message: { type: 'text', content: 'hello?' } })).status).toBe(201)
    // Ann is full; Bob is offered the third chat and lets the offer wait.
    await setStatus(bob, 'Available')
    const queued = (await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: await api.endUser(53) } })).body!
    expect(queued.status).toBe('queued')
    expect(Date.parse(queued.timeout_at) - Date.parse(queued.queued_at)).toBe(30_000)
    await nextEvent(bob.tab, 'offer', (d) => d.chat_id === queued.id)

    await t.services.chats.sweep(new Date(Date.now() + 10_000))
    expect((await api('GET', `/chats/${queued.id}`)).body!.status).toBe('queued')
    await t.services.chats.sweep(new Date(Date.now() + 31_000))

    const late = (await api('GET', `/chats/${queued.id}`)).body!
    expect(late).toMatchObject({ status: 'timeout', status_text: 'Timeout Agent No Message', disconnected_by: 'disconnected_by_system', timeout_at: null })
    expect(late.ends_at).not.toBeNull()
    expect(late.offer_events.at(-1)).toMatchObject({ agent_id: 2, result: 'withdrawn' })
    await nextEvent(bob.tab, 'offer_closed', (d) => d.chat_id === queued.id && d.result === 'withdrawn')
    expect((await http('POST', `/agent/v1/offers/${eventsOf(bob.tab, 'offer').find((d) => d.chat_id === queued.id)!.offer_id}/accept`, { auth: bob.auth })).status).toBe(404)
    await hook(queued.id, 'chat_ended', (j) => j.data.status === 'timeout')

    expect((await api('GET', `/chats/${answered}`)).body).toMatchObject({ status: 'timeout', status_text: 'Timeout End User No Message', agent: null })
    expect((await api('GET', `/chats/${unanswered}`)).body).toMatchObject({ status: 'timeout', status_text: 'Timeout Agent No Message', agent: null })
    for (const chat of [answered, unanswered]) {
      await hook(chat, 'participant_left', (j) => j.data.type === 'agent')
      await hook(chat, 'chat_ended', (j) => j.data.status_text.startsWith('Timeout'))
    }
    // Ann is released: no chats left, back to Available (no wrap-up here).
    expect((await http('GET', '/agent/v1/chats', { auth: ann.auth })).body).toEqual([])
    expect((await http('GET', '/agent/v1/me', { auth: ann.auth })).body!.status.name).toBe('Available')
    expect(await api('POST', `/chats/${unanswered}/message`, { from_user_id: await api.endUser(52), message: { type: 'text', content: 'anyone?' } })).toEqual({ status: 400, body: { message: 'Chat is already ended' } })
    expect(await api('PATCH', `/chats/${answered}/resume`)).toEqual({ status: 400, body: { message: 'Chat is already ended' } })
  })

  it('refuses a chat_expiration_timeout that is not a duration', async () => {
    const tt = await createTenant(t.services)
    await t.services.threads.load(tt.tenant, THREADS, 'yaml')
    await expect(t.services.ccSetup.load(tt.tenant.id, SETUP('0s', 'soon'), 'yaml')).rejects.toMatchObject({ details: { errors: ['settings.chat_expiration_timeout: not a duration (use 30s, 10m, 2h)'] } })
  })
})
