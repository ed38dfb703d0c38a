import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'

// An agent ending several chats at once (found by the contact-center bench: two ends of one agent's
// chats deadlocked on PostgreSQL, one answered 500). Every end succeeds, and the agent is Available
// again after the last one, whichever commits last.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

it('ends four chats of one agent at the same time, all of them, and frees the agent', { timeout: 120_000 }, async () => {
  const tt = await createTenant(t.services)
  // No wrap-up (default 2 minutes): the agent is Available again as soon as the last chat ends.
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { wrap_up_timeout: 0s }
teams: [{ name: Desk }]
agents: [{ email: eve@example.org, first_name: Eve, last_name: E, teams: [Desk], chat_capacity: 4, password: "eve-password-1" }]
menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]
`, 'yaml')
  const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email: 'eve@example.org', password: 'eve-password-1', company: tt.credentials.ccai.subdomain } })
  expect(login.statusCode, login.body).toBe(200)
  const auth = `Bearer ${(JSON.parse(login.body) as Json).token}`
  const call = (method: 'PUT' | 'POST' | 'GET', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: { authorization: auth, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload } : {}) })
  const agent = await t.store.db.selectFrom('cc_agents').select('id').where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  for (let round = 0; round < 3; round++) {
    expect((await call('PUT', '/agent/v1/status', { status: 'Available' })).statusCode).toBe(200)
    const nums: number[] = []
    for (let i = 0; i < 4; i++) nums.push((await t.services.chats.start(tt.tenant.id, { menuNum: 2, endUserNum: await endUserNum(t.services, tt.tenant.id, round * 10 + i + 1) })).num)
    await t.services.routing.kick(tt.tenant.id)
    const offers = await t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('agent_id', '=', agent.id).where('result', '=', 'pending').execute()
    expect(offers).toHaveLength(4)
    for (const o of offers) expect((await call('POST', `/agent/v1/offers/${o.id}/accept`)).statusCode).toBe(200)
    const ended = await Promise.all(nums.map((n) => call('POST', `/agent/v1/chats/${n}/end`)))
    expect(ended.map((r) => r.statusCode)).toEqual([200, 200, 200, 200])
    expect(ended.map((r) => (JSON.parse(r.body) as Json).status)).toEqual(['finished', 'finished', 'finished', 'finished'])
    expect((JSON.parse((await call('GET', '/agent/v1/me')).body) as Json).status.name).toBe('Available')
  }
})
