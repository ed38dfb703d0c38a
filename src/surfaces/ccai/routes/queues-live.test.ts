import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { openSse, type SseStream } from '../../../../test/helpers/sse.ts'
import { waitFor } from '../../../../test/helpers/wait.ts'
import { hashPassword } from '../../../lib/passwords.ts'

// W1 and Q1 read the live sessions (SessionQueueLoad): chats waiting lengthen the estimate, an
// agent whose capacity is taken by offers is no longer available, and the handle time of chats
// that ended replaces the default one. Everything happens through the Apps API and the agent API.
let t: TestApp
let hash: string
const streams: SseStream[] = []
beforeAll(async () => {
  t = await startTestApp({ listen: true })
  hash = await hashPassword('agent-password')
})
afterAll(async () => {
  for (const s of streams) s.close()
  await t?.close()
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = () => `
settings: { rate_limit: 1000, offer_timeout: 60s }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }
  - { email: bob@example.org, first_name: Bob, last_name: B, teams: [Desk], chat_capacity: 3, password_hash: "${hash}" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`
async function http(tt: TestTenant | null, method: string, path: string, opts: { auth?: string; body?: unknown } = {}) {
  const auth = opts.auth ?? tt?.ccaiAuth
  const res = await fetch(`${t.url}${path}`, {
    method, headers: { ...(auth ? { authorization: auth } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) as Json : null }
}
async function signIn(tt: TestTenant, email: string): Promise<{ auth: string; events: SseStream }> {
  const r = await http(null, 'POST', '/agent/v1/login', { body: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  const auth = `Bearer ${r.body!.token}`
  const events = await openSse(`${t.url}/agent/v1/events`, { authorization: auth })
  streams.push(events)
  return { auth, events }
}
const offers = (s: SseStream) => s.events.filter((e) => e.event === 'offer').map((e) => JSON.parse(e.data) as Json)
async function help(tt: TestTenant): Promise<Json> {
  const r = await http(tt, 'GET', '/apps/api/v1/queues/status?lang=en&menu_id=2&channel_type=chat')
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body!.queues[0] as Json
}

describe('queue status from live sessions', () => {
  it('counts waiting chats, agents’ taken capacity and the handle time of ended chats', async () => {
    const tt = await createTenant(t.services)
    await t.services.ccSetup.load(tt.tenant.id, SETUP(), 'yaml')
    await signIn(tt, 'bob@example.org') // signed in, not Available: the queue waits for him
    const idle = await help(tt)
    expect(idle).toMatchObject({ menu_id: 2, logged_in_agents: 1, available_agents: 0 })

    for (let i = 0; i < 4; i++) {
      const eu = await http(tt, 'POST', '/apps/api/v1/end_users', { body: { identifier: `visitor-${i}` } })
      expect(eu.status, JSON.stringify(eu.body)).toBe(200)
      const r = await http(tt, 'POST', '/apps/api/v1/chats', { body: { chat: { menu_id: 2, end_user_id: eu.body!.id } } })
      expect(r.status, JSON.stringify(r.body)).toBe(201)
    }
    const waiting = await help(tt)
    expect(waiting.current_queue_ewt).toBeGreaterThan(idle.current_queue_ewt)

    // Ann becomes Available: routing offers her two chats (her capacity), after which she has no
    // free slot although her status is still one that takes offers.
    const ann = await signIn(tt, 'ann@example.org')
    expect((await http(tt, 'PUT', '/agent/v1/status', { auth: ann.auth, body: { status: 'Available' } })).status).toBe(200)
    await waitFor('two offers to Ann', () => offers(ann.events).length === 2 || undefined, 10_000)
    const full = await help(tt)
    expect(full).toMatchObject({ logged_in_agents: 2, available_agents: 0 })

    // She answers and ends both at once: the recent handle time (about a second) replaces the
    // 300 s default, so the two chats still waiting are expected far sooner.
    for (const o of offers(ann.events)) {
      expect((await http(tt, 'POST', `/agent/v1/offers/${o.offer_id}/accept`, { auth: ann.auth })).status).toBe(200)
      expect((await http(tt, 'POST', `/agent/v1/chats/${o.chat_id}/end`, { auth: ann.auth })).status).toBe(200)
    }
    await http(tt, 'PUT', '/agent/v1/status', { auth: ann.auth, body: { status: 'Unavailable' } })
    const after = await help(tt)
    expect(after.current_queue_ewt).toBeLessThan(waiting.current_queue_ewt)
  })
})
