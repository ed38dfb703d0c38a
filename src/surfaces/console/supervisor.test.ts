import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

// The supervisor view's console API (issue 11, item 4) on a real store: queues now (waiting,
// longest wait, service level of seeded sessions), agents by status with status change and
// force-logout through the agents service, the charts' aggregates over a date range; roles, CSRF,
// bad input (400, nothing changed) and tenant isolation (another tenant's numbers never appear).

let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let addressCounter = 0
const nextAddress = () => `10.52.${Math.floor(++addressCounter / 250)}.${addressCounter % 250 + 1}`
const SETUP = (agents: string[]) => `
teams: [{ name: Desk }]
agents:
${agents.map((n) => `  - { email: ${n.toLowerCase()}@example.org, first_name: ${n}, last_name: Tester, teams: [Desk], password: "${n.toLowerCase()}-password-123" }`).join('\n')}
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`
interface Signed { cookie: string; csrf: string; address: string }
const users: Record<string, Signed> = {}

async function signInAs(tenant: TestTenant, role: 'owner' | 'admin' | 'supervisor' | 'agent' | 'clinician'): Promise<Signed> {
  const { user, password } = await t.services.console.createUser(tenant.tenant.id, { email: `${role}-${tenant.tenant.id.slice(0, 8)}@example.org`, role })
  const address = nextAddress()
  const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: user.email, password }) })
  expect(r.statusCode, r.body).toBe(200)
  return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (JSON.parse(r.body) as Json).csrf_token as string, address }
}
function call(s: Signed | undefined, method: 'GET' | 'POST', url: string, body?: unknown, opts: { csrf?: boolean } = {}) {
  return t.app.inject({
    method, url: `/console/api${url}`, remoteAddress: s?.address ?? nextAddress(),
    headers: { ...(s ? { cookie: s.cookie, ...(opts.csrf === false ? {} : { 'x-csrf-token': s.csrf }) } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}
async function ok(s: Signed, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Json> {
  const r = await call(s, method, url, body)
  expect(r.statusCode, r.body).toBe(200)
  return JSON.parse(r.body) as Json
}

const menuId = async (tenantId: TenantId) => (await t.store.db.selectFrom('cc_menus').select('id').where('tenant_id', '=', tenantId).where('num', '=', 2).executeTakeFirstOrThrow()).id
const agentId = async (tenantId: TenantId) => (await t.store.db.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).orderBy('num').executeTakeFirstOrThrow()).id
let nextNum = 9000
async function seedSession(tenantId: TenantId, s: { channel?: 'chat' | 'call'; status: string; created: Date; assignedAfter?: number; menu?: boolean; agentReplies?: number[]; endUserAfter?: number }) {
  const menu = s.menu === false ? null : await menuId(tenantId)
  const agent = await agentId(tenantId)
  const num = ++nextNum
  const row = await t.store.db.insertInto('cc_sessions').values({
    tenant_id: tenantId, num, channel: s.channel ?? 'chat', chat_type: 'web', status: s.status, status_text: s.status, menu_id: menu,
    created_at: s.created, queued_at: s.created, last_activity_at: s.created,
    assigned_at: s.assignedAfter === undefined ? null : new Date(s.created.getTime() + s.assignedAfter * 1000),
    agent_id: s.assignedAfter === undefined ? null : agent,
  }).returning('id').executeTakeFirstOrThrow()
  if (s.endUserAfter !== undefined) {
    await t.store.db.insertInto('cc_messages').values({ tenant_id: tenantId, num: ++nextNum, session_id: row.id, from_end_user: true, agent_id: null, type: 'text', content: 'hi', created_at: new Date(s.created.getTime() + s.endUserAfter * 1000) }).execute()
  }
  for (const after of s.agentReplies ?? []) {
    await t.store.db.insertInto('cc_messages').values({ tenant_id: tenantId, num: ++nextNum, session_id: row.id, from_end_user: false, agent_id: agent, type: 'text', content: 'hello', created_at: new Date(s.created.getTime() + after * 1000) }).execute()
  }
}
async function seedOutbox(tenantId: TenantId, m: { channel: string; provider: string | null; status: string; at: string }) {
  const at = new Date(m.at)
  await sql`INSERT INTO outbox_messages (tenant_id, channel, recipient, body, idempotency_key, status, provider, send_at, created_at, updated_at)
    VALUES (${tenantId}, ${m.channel}, ${m.channel === 'email' ? 'x@example.org' : '+15555550100'}, 'b', ${`seed-${++nextNum}`}, ${m.status}, ${m.provider}, ${at}, ${at}, ${at})`.execute(t.store.db)
}

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.ccSetup.load(a.tenant.id, SETUP(['Ada', 'Grace']), 'yaml')
  await t.services.ccSetup.load(b.tenant.id, SETUP(['Bea', 'Cy', 'Dot']), 'yaml')
  for (const role of ['owner', 'admin', 'supervisor', 'agent', 'clinician'] as const) users[role] = await signInAs(a, role)
  users.supervisorB = await signInAs(b, 'supervisor')

  // Service level (last 24 hours): answered after 10 s and 30 s (within 60 s), after 200 s, one abandoned; one waiting 120 s.
  const now = Date.now()
  const hoursAgo = (h: number) => new Date(now - h * 3600_000)
  await seedSession(a.tenant.id, { status: 'finished', created: hoursAgo(3), assignedAfter: 10 })
  await seedSession(a.tenant.id, { status: 'finished', created: hoursAgo(3), assignedAfter: 30 })
  await seedSession(a.tenant.id, { status: 'finished', created: hoursAgo(2), assignedAfter: 200 })
  await seedSession(a.tenant.id, { status: 'abandoned', created: hoursAgo(1) })
  await seedSession(a.tenant.id, { status: 'queued', created: new Date(now - 120_000) })
  // Older than the window: not counted.
  await seedSession(a.tenant.id, { status: 'finished', created: hoursAgo(30), assignedAfter: 500 })
  // Tenant B: three waiting, everything answered late.
  for (let i = 0; i < 3; i++) await seedSession(b.tenant.id, { status: 'queued', created: new Date(now - 3600_000) })
  await seedSession(b.tenant.id, { status: 'finished', created: hoursAgo(2), assignedAfter: 900 })

  // Charts, 2025-03-10 (UTC): two chats at 09:10 and 09:20 (first agent reply after 30 s and 90 s), a call at 10:05.
  await seedSession(a.tenant.id, { status: 'finished', created: new Date('2025-03-10T09:10:00Z'), assignedAfter: 5, endUserAfter: 1, agentReplies: [30, 45] })
  await seedSession(a.tenant.id, { status: 'finished', created: new Date('2025-03-10T09:20:00Z'), assignedAfter: 5, agentReplies: [90, 200] })
  await seedSession(a.tenant.id, { channel: 'call', status: 'finished', created: new Date('2025-03-10T10:05:00Z'), menu: false })
  await seedOutbox(a.tenant.id, { channel: 'sms', provider: 'twilio', status: 'delivered', at: '2025-03-10T09:30:00Z' })
  await seedOutbox(a.tenant.id, { channel: 'sms', provider: 'twilio', status: 'failed', at: '2025-03-10T09:40:00Z' })
  await seedOutbox(a.tenant.id, { channel: 'email', provider: 'smtp', status: 'delivered', at: '2025-03-10T11:00:00Z' })
  await seedOutbox(a.tenant.id, { channel: 'sms', provider: null, status: 'queued', at: '2025-03-12T08:00:00Z' })
  // Tenant B on the same day: never in A's numbers.
  for (let i = 0; i < 4; i++) await seedOutbox(b.tenant.id, { channel: 'sms', provider: 'sandbox', status: 'delivered', at: '2025-03-10T09:35:00Z' })
  await seedSession(b.tenant.id, { status: 'finished', created: new Date('2025-03-10T09:15:00Z'), assignedAfter: 5, agentReplies: [600] })
})
afterAll(async () => t?.close())

describe('queues now', () => {
  it('waiting, longest wait, estimated wait and the service level of the last 24 hours (target 60 s, or asked)', async () => {
    const body = await ok(users.supervisor!, 'GET', '/supervisor/queues')
    expect(body).toMatchObject({ target_seconds: 60, window_hours: 24 })
    expect(body.queues).toHaveLength(1)
    const q = body.queues[0] as Json
    expect(q).toMatchObject({ id: 2, name: 'Help', channels: ['chat'], waiting: 1, answered: 3, answered_within_target: 2, unanswered: 1, service_level: 0.5, logged_in_agents: 0, available_agents: 0, estimated_wait_seconds: null })
    expect(q.longest_wait_seconds).toBeGreaterThanOrEqual(120)
    expect(q.longest_wait_seconds).toBeLessThan(3600)
    const wider = await ok(users.supervisor!, 'GET', '/supervisor/queues?target_seconds=300')
    expect(wider.queues[0]).toMatchObject({ answered_within_target: 3, service_level: 0.75 })
    // Tenant B's own numbers.
    const other = await ok(users.supervisorB!, 'GET', '/supervisor/queues')
    expect(other.queues[0]).toMatchObject({ waiting: 3, answered: 1, answered_within_target: 0, unanswered: 0, service_level: 0 })
    expect(other.queues[0].longest_wait_seconds).toBeGreaterThanOrEqual(3600)
  })

  it('a chat started through the Apps API is waiting at once', async () => {
    const before = (await ok(users.supervisor!, 'GET', '/supervisor/queues')).queues[0].waiting as number
    const auth = { authorization: a.ccaiAuth, 'content-type': 'application/json' }
    const eu = await t.app.inject({ method: 'POST', url: '/apps/api/v1/end_users', headers: auth, payload: JSON.stringify({ identifier: 'sup-live-1' }) })
    expect(eu.statusCode, eu.body).toBeLessThan(300)
    const chat = await t.app.inject({ method: 'POST', url: '/apps/api/v1/chats', headers: auth, payload: JSON.stringify({ chat: { menu_id: 2, end_user_id: String((JSON.parse(eu.body) as Json).id) } }) })
    expect(chat.statusCode, chat.body).toBeLessThan(300)
    expect((await ok(users.supervisor!, 'GET', '/supervisor/queues')).queues[0].waiting).toBe(before + 1)
    expect((await ok(users.supervisorB!, 'GET', '/supervisor/queues')).queues[0].waiting).toBe(3)
  })

  it('a bad target is 400 and a tenant without a contact center 400 contact_center_not_set_up', async () => {
    for (const q of ['target_seconds=0', 'target_seconds=abc', 'target_seconds=3601', 'other=1']) {
      const r = await call(users.supervisor, 'GET', `/supervisor/queues?${q}`)
      expect(r.statusCode, q).toBe(400)
      expect(JSON.parse(r.body)).toMatchObject({ message: expect.any(String), code: expect.any(String) })
    }
    const c = await createTenant(t.services)
    const s = await signInAs(c, 'supervisor')
    const r = await call(s, 'GET', '/supervisor/queues')
    expect(r.statusCode).toBe(400)
    expect(JSON.parse(r.body)).toMatchObject({ code: 'contact_center_not_set_up' })
  })
})

describe('agents', () => {
  it('lists the organisation’s agents with their status and the settable statuses', async () => {
    const body = await ok(users.supervisor!, 'GET', '/supervisor/agents')
    expect(body.agents.map((x: Json) => x.name)).toEqual(['Ada Tester', 'Grace Tester'])
    expect(body.agents[0]).toMatchObject({ id: expect.any(Number), email: 'ada@example.org', status: 'Offline', status_kind: 'system', teams: ['Desk'], logout_pending: false })
    expect(body.statuses).toEqual(expect.arrayContaining(['Available', 'Unavailable']))
    expect(body.statuses).not.toContain('Offline')
    const other = await ok(users.supervisorB!, 'GET', '/supervisor/agents')
    expect(other.agents.map((x: Json) => x.name)).toEqual(['Bea Tester', 'Cy Tester', 'Dot Tester'])
  })

  it('changes a signed-in agent’s status and forces them to log out (the agent API token stops working)', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json' }, payload: { email: 'grace@example.org', password: 'grace-password-123', company: a.credentials.ccai.subdomain } })
    expect(login.statusCode, login.body).toBe(200)
    const token = (JSON.parse(login.body) as Json).token as string
    const grace = (await ok(users.supervisor!, 'GET', '/supervisor/agents')).agents.find((x: Json) => x.email === 'grace@example.org') as Json
    expect(grace.status).toBe('Unavailable')
    const changed = await ok(users.supervisor!, 'POST', `/supervisor/agents/${grace.id}/status`, { status: 'available' })
    expect(changed).toMatchObject({ previous_status: 'Unavailable', current_status: 'Available', message: null, agent: { id: grace.id, status: 'Available' } })
    // Offline (a system status) is kept, with a message.
    const ada = (await ok(users.supervisor!, 'GET', '/supervisor/agents')).agents.find((x: Json) => x.email === 'ada@example.org') as Json
    const kept = await ok(users.supervisor!, 'POST', `/supervisor/agents/${ada.id}/status`, { status: 'Available' })
    expect(kept).toMatchObject({ current_status: 'Offline', message: expect.stringContaining('system status'), agent: { status: 'Offline' } })

    const out = await ok(users.admin!, 'POST', `/supervisor/agents/${grace.id}/force_logout`)
    expect(out).toMatchObject({ previous_status: 'Available', current_status: 'Offline', agent: { status: 'Offline' } })
    const me = await t.app.inject({ method: 'GET', url: '/agent/v1/me', headers: { authorization: `Bearer ${token}` } })
    expect(me.statusCode).toBe(401)
    const again = await ok(users.owner!, 'POST', `/supervisor/agents/${grace.id}/force_logout`)
    expect(again).toMatchObject({ current_status: 'Offline', message: 'Agent is not signed in' })
  })

  it('bad input is 400 or 404 and changes nothing; another tenant’s agent is 404', async () => {
    const before = await ok(users.supervisor!, 'GET', '/supervisor/agents')
    const id = before.agents[0].id as number
    const cases: Array<[string, unknown, number, string?]> = [
      [`/supervisor/agents/${id}/status`, { status: 'Nope' }, 400, 'agent_status_not_found'],
      [`/supervisor/agents/${id}/status`, { status: 'In-chat' }, 400, 'agent_status_not_settable'],
      [`/supervisor/agents/${id}/status`, {}, 400],
      [`/supervisor/agents/${id}/status`, { status: 'Available', extra: 1 }, 400],
      ['/supervisor/agents/abc/status', { status: 'Available' }, 400],
      ['/supervisor/agents/0/force_logout', undefined, 400],
      ['/supervisor/agents/999999/status', { status: 'Available' }, 404, 'agent_not_found'],
    ]
    for (const [url, body, status, code] of cases) {
      const r = await call(users.supervisor, 'POST', url, body)
      expect(r.statusCode, `${url} ${JSON.stringify(body)} ${r.body}`).toBe(status)
      if (code) expect(JSON.parse(r.body)).toMatchObject({ code })
    }
    // B's third agent has a number A has none of.
    const dot = (await ok(users.supervisorB!, 'GET', '/supervisor/agents')).agents.find((x: Json) => x.email === 'dot@example.org') as Json
    expect(before.agents.some((x: Json) => x.id === dot.id)).toBe(false)
    for (const url of [`/supervisor/agents/${dot.id}/status`, `/supervisor/agents/${dot.id}/force_logout`]) {
      const r = await call(users.supervisor, 'POST', url, url.endsWith('status') ? { status: 'Available' } : undefined)
      expect(r.statusCode).toBe(404)
    }
    expect(await ok(users.supervisor!, 'GET', '/supervisor/agents')).toEqual(before)
    expect((await ok(users.supervisorB!, 'GET', '/supervisor/agents')).agents.find((x: Json) => x.id === dot.id)).toMatchObject({ status: 'Offline' })
  })
})

describe('charts', () => {
  it('hourly volume by channel, delivery outcomes by provider and first-response times of a day', async () => {
    const body = await ok(users.supervisor!, 'GET', '/supervisor/charts?from=2025-03-10T00:00:00Z&to=2025-03-11T00:00:00Z')
    expect(body).toMatchObject({ from: '2025-03-10T00:00:00.000Z', to: '2025-03-11T00:00:00.000Z', bucket: 'hour' })
    expect(body.volume).toEqual([
      { at: '2025-03-10T09:00:00.000Z', channel: 'chat', count: 2 },
      { at: '2025-03-10T09:00:00.000Z', channel: 'sms', count: 2 },
      { at: '2025-03-10T10:00:00.000Z', channel: 'call', count: 1 },
      { at: '2025-03-10T11:00:00.000Z', channel: 'email', count: 1 },
    ])
    expect(body.delivery).toEqual([
      { provider: 'smtp', status: 'delivered', count: 1 },
      { provider: 'twilio', status: 'delivered', count: 1 },
      { provider: 'twilio', status: 'failed', count: 1 },
    ])
    expect(body.first_response).toEqual([{ at: '2025-03-10T09:00:00.000Z', sessions: 2, average_seconds: 60, median_seconds: 60, p90_seconds: 84 }])
  })

  it('daily buckets for a longer range; another tenant sees only its own', async () => {
    const body = await ok(users.owner!, 'GET', '/supervisor/charts?from=2025-03-01T00:00:00Z&to=2025-03-20T00:00:00Z')
    expect(body.bucket).toBe('day')
    expect(body.volume).toEqual([
      { at: '2025-03-10T00:00:00.000Z', channel: 'call', count: 1 },
      { at: '2025-03-10T00:00:00.000Z', channel: 'chat', count: 2 },
      { at: '2025-03-10T00:00:00.000Z', channel: 'email', count: 1 },
      { at: '2025-03-10T00:00:00.000Z', channel: 'sms', count: 2 },
      { at: '2025-03-12T00:00:00.000Z', channel: 'sms', count: 1 },
    ])
    expect(body.delivery).toContainEqual({ provider: 'none', status: 'queued', count: 1 })
    const other = await ok(users.supervisorB!, 'GET', '/supervisor/charts?from=2025-03-01T00:00:00Z&to=2025-03-20T00:00:00Z')
    expect(other.volume).toEqual([
      { at: '2025-03-10T00:00:00.000Z', channel: 'chat', count: 1 },
      { at: '2025-03-10T00:00:00.000Z', channel: 'sms', count: 4 },
    ])
    expect(other.delivery).toEqual([{ provider: 'sandbox', status: 'delivered', count: 4 }])
    expect(other.first_response).toEqual([{ at: '2025-03-10T00:00:00.000Z', sessions: 1, average_seconds: 600, median_seconds: 600, p90_seconds: 600 }])
    // The default range is the last 7 days.
    const recent = await ok(users.supervisor!, 'GET', '/supervisor/charts')
    expect(Date.parse(recent.to) - Date.parse(recent.from)).toBe(7 * 86_400_000)
  })

  it('a bad range is 400', async () => {
    for (const q of ['from=2025-03-11T00:00:00Z&to=2025-03-10T00:00:00Z', 'from=2025-03-10T00:00:00Z&to=2025-03-10T00:00:00Z', 'from=2024-01-01T00:00:00Z&to=2025-03-10T00:00:00Z', 'from=yesterday', 'to=2025-13-45T00:00:00Z', 'bucket=hour']) {
      const r = await call(users.supervisor, 'GET', `/supervisor/charts?${q}`)
      expect(r.statusCode, `${q} ${r.body}`).toBe(400)
      expect(JSON.parse(r.body)).toMatchObject({ message: expect.any(String), code: expect.any(String) })
    }
    expect(JSON.parse((await call(users.supervisor, 'GET', '/supervisor/charts?from=2025-03-11T00:00:00Z&to=2025-03-10T00:00:00Z')).body)).toMatchObject({ code: 'invalid_date_range' })
  })
})

describe('roles and CSRF', () => {
  it('owners, admins and supervisors only; signed out 401; a POST without the CSRF token 403', async () => {
    const reads = ['/supervisor/queues', '/supervisor/agents', '/supervisor/charts']
    for (const role of ['owner', 'admin', 'supervisor']) for (const url of reads) expect((await call(users[role], 'GET', url)).statusCode, `${role} ${url}`).toBe(200)
    const agentNum = (await ok(users.supervisor!, 'GET', '/supervisor/agents')).agents[0].id as number
    for (const role of ['agent', 'clinician']) {
      for (const url of reads) {
        const r = await call(users[role], 'GET', url)
        expect(r.statusCode, `${role} ${url}`).toBe(403)
        expect(JSON.parse(r.body)).toMatchObject({ code: 'forbidden' })
      }
      expect((await call(users[role], 'POST', `/supervisor/agents/${agentNum}/force_logout`)).statusCode).toBe(403)
      expect((await call(users[role], 'POST', `/supervisor/agents/${agentNum}/status`, { status: 'Available' })).statusCode).toBe(403)
    }
    for (const url of reads) expect((await call(undefined, 'GET', url)).statusCode).toBe(401)
    const r = await call(users.supervisor, 'POST', `/supervisor/agents/${agentNum}/force_logout`, undefined, { csrf: false })
    expect(r.statusCode).toBe(403)
    expect(JSON.parse(r.body)).toMatchObject({ code: 'console_csrf_failed' })
  })

  it('documents every supervisor endpoint in the console OpenAPI document', async () => {
    const doc = JSON.parse((await t.app.inject({ method: 'GET', url: '/openapi/console.json' })).body) as Json
    for (const p of ['/console/api/supervisor/queues', '/console/api/supervisor/agents', '/console/api/supervisor/agents/{id}/status', '/console/api/supervisor/agents/{id}/force_logout', '/console/api/supervisor/charts']) {
      expect(doc.paths[p], p).toBeDefined()
    }
  })
})
