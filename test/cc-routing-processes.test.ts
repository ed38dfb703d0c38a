import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { openSse, type SseStream } from './helpers/sse.ts'
import { runCli, serversKilledAfterAll, startServer, storeEnv, type ServerProcess } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'

// Routing across processes: `switchboard serve` (API and workers) and a second `switchboard api`
// on one store. Chats are started on both APIs at once, agents sign in and accept on either; every chat is
// offered to one agent at a time, no agent takes more than its capacity, no chat is lost, and each
// agent's event stream (served by one process) hears offers made in the other.
const running = serversKilledAfterAll()
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

it('an API-and-worker process and an API process route twelve chats to three agents exactly once', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-cc-routing-'))
  const env = storeEnv(dataDir, { SWITCHBOARD_SECRET_KEY: '1'.repeat(64) })
  // `serve` is an API with workers (the routing sweep); the second process is API only.
  const apis: ServerProcess[] = []
  for (const role of ['serve', 'api']) {
    const s = await startServer(env, role, 120_000)
    running.push(s)
    apis.push(s)
  }
  const created = await runCli(['tenant', 'create', '--name', `Routing ${Date.now()}`, '--json'], env)
  expect(created.code, created.stderr).toBe(0)
  const tenant = JSON.parse(created.stdout) as { cass: { client: string; token: string }; ccai: { subdomain: string; token: string } }
  const cass = 'Basic ' + Buffer.from(`${tenant.cass.client}:${tenant.cass.token}`).toString('base64')
  const ccai = 'Basic ' + Buffer.from(`${tenant.ccai.subdomain}:${tenant.ccai.token}`).toString('base64')
  // A short offer timeout: an offer that goes unanswered (a stream that missed it under load) goes
  // to the next agent well within the wait below, as §4.2 says it must.
  const setup = `settings: { rate_limit: 10000, offer_timeout: 10s }
teams: [{ name: Desk }]
agents:
${[0, 1, 2].map((i) => `  - { email: p${i}@example.org, first_name: P, last_name: "${i}", teams: [Desk], chat_capacity: 2, password: "process-password-${i}" }`).join('\n')}
menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]
`
  const loaded = await fetch(`${apis[0]!.url}/admin/contact-center`, { method: 'PUT', headers: { authorization: cass, 'content-type': 'application/yaml' }, body: setup })
  expect(loaded.status, await loaded.clone().text()).toBe(200)

  const call = async (base: string, method: string, path: string, auth: string, body?: unknown) => {
    const r = await fetch(base + path, { method, headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await r.text()
    return { status: r.status, body: text ? JSON.parse(text) as Json : null }
  }
  // Each agent signs in on one API process and streams from it; the other process accepts.
  const agents: Array<{ auth: string; stream: SseStream; acceptVia: string }> = []
  for (const i of [0, 1, 2]) {
    const home = apis[i % 2]!.url
    const login = await call(home, 'POST', '/agent/v1/login', '', { email: `p${i}@example.org`, password: `process-password-${i}`, company: tenant.ccai.subdomain })
    expect(login.status).toBe(200)
    const auth = `Bearer ${login.body!.token}`
    const stream = await openSse(`${home}/agent/v1/events`, { authorization: auth })
    expect((await call(home, 'PUT', '/agent/v1/status', auth, { status: 'Available' })).status).toBe(200)
    agents.push({ auth, stream, acceptVia: apis[(i + 1) % 2]!.url })
  }

  const endUsers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(apis[i % 2]!.url, 'POST', '/apps/api/v1/end_users', ccai, { identifier: `visitor-${i}` })))
  const chats = await Promise.all(endUsers.map((u, i) => call(apis[i % 2]!.url, 'POST', '/apps/api/v1/chats', ccai, { chat: { menu_id: 2, end_user_id: u.body!.id } })))
  for (const c of chats) expect(c.status).toBe(201)
  const ids = chats.map((c) => c.body!.id as number)

  // Accept every offer as it arrives, through the other process, until the agents are full. What
  // was seen is kept so that a timeout says what went wrong (offers never heard, refused accepts).
  const accepted = new Map<string, number>()
  let assignedNow = 0
  await waitFor('six chats accepted', async () => {
    for (const a of agents) {
      for (const e of a.stream.events.filter((x) => x.event === 'offer')) {
        const offer = JSON.parse(e.data) as Json
        if (accepted.has(offer.offer_id)) continue
        const r = await call(a.acceptVia, 'POST', `/agent/v1/offers/${offer.offer_id}/accept`, a.auth)
        accepted.set(offer.offer_id, r.status)
      }
    }
    const states = await Promise.all(ids.map((id) => call(apis[0]!.url, 'GET', `/apps/api/v1/chats/${id}`, ccai)))
    assignedNow = states.filter((s) => s.body!.status === 'assigned').length
    return assignedNow === 6 ? states : undefined
  }, 120_000, 200).catch((err: Error) => {
    const offersHeard = agents.map((a) => a.stream.events.filter((x) => x.event === 'offer').length)
    throw new Error(`${err.message}; ${assignedNow} assigned, offers heard per agent ${JSON.stringify(offersHeard)}, accept answers ${JSON.stringify([...accepted.values()])}`)
  })
  // Every accept answered 200 (ours) or 404 (the offer had gone); nothing else.
  for (const status of accepted.values()) expect([200, 404]).toContain(status)

  const states = await Promise.all(ids.map((id) => call(apis[1]!.url, 'GET', `/apps/api/v1/chats/${id}`, ccai)))
  const perAgent = new Map<number, number>()
  for (const s of states) {
    const chat = s.body!
    expect(chat.offer_events.filter((e: Json) => e.result === 'pending').length, `chat ${chat.id}`).toBeLessThanOrEqual(1)
    expect(chat.participants.filter((p: Json) => p.type === 'agent').length).toBeLessThanOrEqual(1)
    if (chat.status === 'assigned') perAgent.set(chat.agent_info.id, (perAgent.get(chat.agent_info.id) ?? 0) + 1)
    else expect(chat.status).toBe('queued')
  }
  expect([...perAgent.values()].sort()).toEqual([2, 2, 2])
  expect(states.filter((s) => s.body!.status === 'queued')).toHaveLength(6)
  for (const a of agents) a.stream.close()
})
