import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { hashPassword } from '../../lib/passwords.ts'
import { RoutingService } from './routing.service.ts'

// Several routers racing over one database (as several API and worker processes do): every
// session is offered to at most one agent at a time, no agent gets more than its capacity, and no
// session is lost — whatever the interleaving.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

it('four routers at once: no double offer, no agent over capacity, nothing lost', async () => {
  const tt = await createTenant(t.services)
  const hash = await hashPassword('agent-password')
  const agents = Array.from({ length: 6 }, (_, i) => `  - { email: r${i}@example.org, first_name: R, last_name: "${i}", teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }`).join('\n')
  await t.services.ccSetup.load(tt.tenant.id, `teams: [{ name: Desk }]\nagents:\n${agents}\nmenus:\n  - { name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }\n`, 'yaml')
  const db = t.store.db
  const id = tt.tenant.id
  // Signed in and Available, as the agent API leaves them (without six password checks).
  const available = db.selectFrom('cc_statuses').select('id').where('tenant_id', '=', id).where('name', '=', 'Available')
  await db.updateTable('cc_agents').set({ status_id: available, chosen_status_id: available, idle_since: new Date() }).where('tenant_id', '=', id).execute()

  const routers = Array.from({ length: 4 }, () => new RoutingService(db))
  const endUsers = await Promise.all(Array.from({ length: 30 }, (_, i) => t.services.endUsers.upsert(id, { identifier: `visitor-${i}` })))
  const starts = endUsers.map((u) => t.services.chats.start(id, { menuNum: 2, endUserNum: u.num }))
  await Promise.all([...starts, ...routers.map((r) => r.kick(id)), ...routers.map((r) => r.sweep())])
  await Promise.all(routers.map((r) => r.kick(id)))

  const pending = await db.selectFrom('cc_offers').select(['session_id', 'agent_id']).where('tenant_id', '=', id).where('result', '=', 'pending').execute()
  expect(pending).toHaveLength(12) // 6 agents × capacity 2
  expect(new Set(pending.map((o) => o.session_id)).size).toBe(12)
  const perAgent = new Map<string, number>()
  for (const o of pending) perAgent.set(o.agent_id, (perAgent.get(o.agent_id) ?? 0) + 1)
  expect([...perAgent.values()].every((n) => n === 2)).toBe(true)

  // Every agent accepts everything offered, concurrently; routing keeps going as capacity allows.
  const all = await t.services.agents.list(id, { kind: 'all' })
  const offers = await db.selectFrom('cc_offers').select(['id', 'agent_id']).where('tenant_id', '=', id).where('result', '=', 'pending').execute()
  await Promise.all(offers.map((o) => t.services.chats.accept(all.find((a) => a.id === o.agent_id)!, o.id)))
  await Promise.all(routers.map((r) => r.sweep()))
  const sessions = await db.selectFrom('cc_sessions').select(['status', 'agent_id']).where('tenant_id', '=', id).execute()
  expect(sessions).toHaveLength(30)
  expect(sessions.filter((s) => s.status === 'assigned')).toHaveLength(12)
  expect(sessions.filter((s) => s.status === 'queued')).toHaveLength(18)
  const assigned = new Map<string, number>()
  for (const s of sessions) if (s.agent_id) assigned.set(s.agent_id, (assigned.get(s.agent_id) ?? 0) + 1)
  expect([...assigned.values()].every((n) => n === 2)).toBe(true)
  // Full agents get no new offers while the rest wait, unoffered but queued.
  expect(await db.selectFrom('cc_offers').select('id').where('tenant_id', '=', id).where('result', '=', 'pending').execute()).toEqual([])
})
