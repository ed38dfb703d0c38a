import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// The contact-center setup file through the admin API: loaded in place (ids stable), every problem
// reported at its path with nothing changed, the current file shown back, the JSON Schema published.
const DEMO = readFileSync(new URL('../../../examples/contact-center/demo.yaml', import.meta.url), 'utf8')
const DEMO_THREADS = readFileSync(new URL('../../../examples/threads/demo.yaml', import.meta.url), 'utf8')

let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const put = (tt: TestTenant, body: string, type = 'application/yaml') =>
  t.app.inject({ method: 'PUT', url: '/admin/contact-center', headers: { authorization: tt.cassAuth, 'content-type': type }, payload: body })

async function tenantWithThreads(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.threads.load(tt.tenant, DEMO_THREADS, 'yaml')
  return tt
}

async function snapshot(tt: TestTenant) {
  const db = t.store.db
  const id = tt.tenant.id
  return {
    agents: await db.selectFrom('cc_agents').select(['num', 'email', 'deactivated_at', 'first_name']).where('tenant_id', '=', id).orderBy('num').execute(),
    teams: await db.selectFrom('cc_teams').select(['num', 'name', 'deleted_at']).where('tenant_id', '=', id).orderBy('num').execute(),
    menus: await db.selectFrom('cc_menus').select(['num', 'path', 'menu_type', 'leaf', 'deleted']).where('tenant_id', '=', id).orderBy('num').execute(),
    statuses: await db.selectFrom('cc_statuses').select(['num', 'name', 'kind', 'deleted_at']).where('tenant_id', '=', id).orderBy('num').execute(),
    settings: await db.selectFrom('cc_settings').selectAll().where('tenant_id', '=', id).executeTakeFirst(),
  }
}

describe('PUT /admin/contact-center', () => {
  it('loads the demo: teams, agents with generated passwords, statuses, the menu tree, numbers and settings', async () => {
    const tt = await tenantWithThreads()
    const r = await put(tt, DEMO)
    expect(r.statusCode, r.body).toBe(200)
    const d = (JSON.parse(r.body) as Json).data
    expect(d).toMatchObject({ version: 1, teams: 2, agents: 4, menus: 8, phone_numbers: 1, deactivated_agents: 0 })
    expect(d.generated_passwords.map((g: Json) => g.email)).toEqual([
      'ana.front@demo.switchboard.local', 'ben.front@demo.switchboard.local', 'cleo.nurse@demo.switchboard.local', 'dev.lead@demo.switchboard.local',
    ])
    for (const g of d.generated_passwords) expect(g.password).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/)
    const s = await snapshot(tt)
    expect(s.agents.map((a) => a.num)).toEqual([1, 2, 3, 4])
    expect(s.statuses.map((x) => `${x.name}:${x.kind}`)).toEqual([
      'Available:available', 'Unavailable:away', 'Offline:system', 'In-chat:system', 'In-call:system', 'Wrap-up:system', 'Break:away', 'Lunch:away',
    ])
    expect(s.menus.filter((m) => m.leaf).map((m) => `${m.menu_type}:${m.path}`)).toEqual([
      'ivr_menu:Main line / Appointments', 'ivr_menu:Main line / Nurse line', 'mobile_menu:App support / Billing',
      'web_menu:Website / Ask a nurse', 'web_menu:Website / Front desk chat',
    ])
    expect(s.settings).toMatchObject({ time_zone: 'America/New_York', sms_enabled: true, offer_timeout_seconds: 30, chat_dismissal_seconds: 600, wrap_up_seconds: 120, rate_limit_per_second: 10 })
    const numbers = await t.store.db.selectFrom('cc_phone_numbers').selectAll().where('tenant_id', '=', tt.tenant.id).execute()
    expect(numbers).toMatchObject([{ number: '+14155550100', sms: true, voice: true, us: true, deleted: false }])
    // Stored hashed, never as given.
    const hashes = await t.store.db.selectFrom('cc_agents').select('password_hash').where('tenant_id', '=', tt.tenant.id).execute()
    for (const h of hashes) expect(h.password_hash).toMatch(/^scrypt\$/)
  })

  it('loads again in place: ids stay, removed agents are deactivated, removed teams and menus deleted, re-added ones come back', async () => {
    const tt = await tenantWithThreads()
    expect((await put(tt, DEMO)).statusCode).toBe(200)
    const before = await snapshot(tt)
    const again = await put(tt, DEMO)
    expect((JSON.parse(again.body) as Json).data).toMatchObject({ version: 2, generated_passwords: [] })
    expect(await snapshot(tt)).toEqual({ ...before, settings: { ...before.settings, updated_at: expect.any(Date) } })

    // Ben leaves, the Nurses team is dissolved with its queues, Ana is renamed, a new agent joins.
    const changed = DEMO
      .replace(/  - email: ben\.front@demo\.switchboard\.local\n(    .*\n)+?(?=  - email)/, '')
      .replace('first_name: Ana', 'first_name: Anna')
      .replace('  - name: Nurses\n', '')
      .replace(/teams: \[Front desk, Nurses\]/, 'teams: [Front desk]')
      .replace(/teams: \[Nurses\]/g, 'teams: [Front desk]')
      .replace('agents:\n', 'agents:\n  - { email: eve.new@demo.switchboard.local, first_name: Eve, last_name: New, teams: [Front desk], password: "a long enough password" }\n')
    const r = await put(tt, changed)
    expect(r.statusCode, r.body).toBe(200)
    expect((JSON.parse(r.body) as Json).data).toMatchObject({ agents: 4, deactivated_agents: 1, generated_passwords: [] })
    const after = await snapshot(tt)
    expect(after.agents.map((a) => [a.num, a.email, a.deactivated_at !== null, a.first_name])).toEqual([
      [1, 'ana.front@demo.switchboard.local', false, 'Anna'],
      [2, 'ben.front@demo.switchboard.local', true, 'Ben'],
      [3, 'cleo.nurse@demo.switchboard.local', false, 'Cleo'],
      [4, 'dev.lead@demo.switchboard.local', false, 'Dev'],
      [5, 'eve.new@demo.switchboard.local', false, 'Eve'],
    ])
    expect(after.teams.map((x) => [x.num, x.name, x.deleted_at !== null])).toEqual([[1, 'Front desk', false], [2, 'Nurses', true]])
    expect(after.menus.map((m) => m.num)).toEqual(before.menus.map((m) => m.num))

    // The original file again: Ben and the Nurses are back with their old ids.
    expect((await put(tt, DEMO)).statusCode).toBe(200)
    const restored = await snapshot(tt)
    expect(restored.teams.map((x) => [x.num, x.deleted_at])).toEqual([[1, null], [2, null]])
    expect(restored.agents.find((a) => a.num === 2)?.deactivated_at).toBeNull()
    expect(restored.agents.find((a) => a.num === 5)?.deactivated_at).not.toBeNull()
  })

  it('reports every problem at its path, and changes nothing', async () => {
    const tt = await tenantWithThreads()
    expect((await put(tt, DEMO)).statusCode).toBe(200)
    const before = await snapshot(tt)
    const bad = DEMO
      .replace('time_zone: America/New_York', 'time_zone: Mars/Olympus')
      .replace('offer_timeout: 30s', 'offer_timeout: soon')
      .replace('teams: [Front desk]\n    permissions: [outbound_sms]', 'teams: [Front dsk]\n    permissions: [outbound_sms]')
      .replace('thread: support', 'thread: no_such_thread')
      .replace('"+1 415 555 0100"', '"555"')
    const r = await put(tt, bad)
    expect(r.statusCode).toBe(400)
    const body = JSON.parse(r.body) as Json
    expect(body.code).toBe('invalid_contact_center')
    expect(body.errors).toContain('settings.offer_timeout: not a duration (use 30s, 10m, 2h)')
    // The schema's pattern failure is reported first; the semantic ones after a clean outline.
    const fixed = bad.replace('offer_timeout: soon', 'offer_timeout: 30s')
    const r2 = await put(tt, fixed)
    const errors = (JSON.parse(r2.body) as Json).errors
    expect(errors).toEqual([
      'settings.time_zone: unknown time zone "Mars/Olympus"',
      'agents[0].teams[0]: unknown team "Front dsk"',
      'menus[2].children[1].virtual_agent.thread: unknown thread "no_such_thread"',
      'phone_numbers[0].number: not a phone number with its country code',
      // The demo campaign's caller id was that number.
      'campaigns[0].caller_id: +14155550100 is not one of phone_numbers with voice',
    ])
    expect(await snapshot(tt)).toEqual(before)
  })

  it('takes JSON too, refuses other media types, an empty body and unknown properties', async () => {
    const tt = await tenantWithThreads()
    const json = JSON.stringify({ teams: [{ name: 'Solo' }], agents: [{ email: 'solo@x.org', first_name: 'S', last_name: 'O', teams: ['Solo'], password: 'longpassword1' }] })
    const ok = await put(tt, json, 'application/json')
    expect(ok.statusCode, ok.body).toBe(200)
    expect((JSON.parse(ok.body) as Json).data).toMatchObject({ teams: 1, agents: 1, menus: 0, generated_passwords: [] })
    const plain = await put(tt, 'teams: []', 'text/plain')
    expect(plain.statusCode, plain.body).toBe(415)
    const empty = await put(tt, '', 'application/yaml')
    expect(empty.statusCode).toBe(400)
    const unknown = await put(tt, 'teams: []\nqueues: []\n')
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 'invalid_contact_center', errors: ['(document).queues: unknown property "queues"'] })
    const noAuth = await t.app.inject({ method: 'PUT', url: '/admin/contact-center', headers: { 'content-type': 'application/yaml' }, payload: 'teams: []' })
    expect(noAuth.statusCode).toBe(401)
  })

  it('GET shows the file as loaded; another tenant sees none of it', async () => {
    const tt = await tenantWithThreads()
    const other = await createTenant(t.services)
    expect((await put(tt, DEMO)).statusCode).toBe(200)
    const r = await t.app.inject({ method: 'GET', url: '/admin/contact-center', headers: { authorization: tt.cassAuth } })
    expect(JSON.parse(r.body).data).toMatchObject({ version: 1, format: 'yaml', source: DEMO })
    const o = await t.app.inject({ method: 'GET', url: '/admin/contact-center', headers: { authorization: other.cassAuth } })
    expect(JSON.parse(o.body).data).toEqual({ version: 0, format: null, source: null, loaded_at: null })
  })

  it('publishes the JSON Schema of the file, which the demo satisfies', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/schemas/contact-center.json' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toContain('application/schema+json')
    const schema = JSON.parse(r.body) as Json
    expect(schema.$id).toBe('https://switchboard.local/schemas/contact-center.json')
    expect(Object.keys(schema.properties)).toEqual(['$schema', 'settings', 'teams', 'statuses', 'agents', 'menus', 'phone_numbers', 'campaigns', 'tickets'])
  })
})
