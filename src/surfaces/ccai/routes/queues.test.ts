import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { hashPassword } from '../../../lib/passwords.ts'
import { zonedParts } from '../../../lib/timezone.ts'

// W1, Q1 and O1 through HTTP on the real clock: the hours are laid out around today's date in the
// queues' zones (always open, or closed by holidays from yesterday to three days ahead), so every
// answer is known whenever the test runs. Agents sign in on the agent API and are set Available
// through the Apps API, as in production.
let t: TestApp
let hash: string
beforeAll(async () => {
  t = await startTestApp()
  hash = await hashPassword('agent-password')
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const COMPANY_ZONE = 'America/Los_Angeles'
const CLOSED_ZONE = 'Asia/Tokyo'
/** The local date `days` days from now in `zone`, `YYYY-MM-DD`. */
function localDate(zone: string, days: number): string {
  const p = zonedParts(new Date(Date.now() + days * 86_400_000), zone)
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`
}
const ALL_WEEK = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => `{ day: ${day}, open: "00:00", close: "24:00" }`).join(', ')

const SETUP = (extra = '') => `
settings: { time_zone: ${COMPANY_ZONE}, rate_limit: 1000 }
teams: [{ name: Desk }, { name: Nurses }]
agents:
  - { email: a1@example.org, first_name: Ann, last_name: One, teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }
  - { email: a2@example.org, first_name: Bob, last_name: Two, teams: [Desk, Nurses], password_hash: "${hash}" }
  - { email: a3@example.org, first_name: Cy, last_name: Three, teams: [Nurses], password_hash: "${hash}" }
menus:
  - name: Phone
    type: ivr
    children:
      - { name: Billing, channels: [call], teams: [Desk], languages: [en, es], over_capacity: { max_queued: 0 } }
      - name: Closed
        channels: [call, chat]
        teams: [Nurses]
        hours:
          time_zone: ${CLOSED_ZONE}
          weekly: [${ALL_WEEK}]
          holidays:
${[-2, -1, 0, 1, 2, 3].map((d) => `            - { date: "${localDate(CLOSED_ZONE, d)}", name: "Closure ${d}" }`).join('\n')}
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk], manual_redirection: { enabled: true } }
${extra}`
// Menu ids in file order: Phone 1, Billing 2, Closed 3, Site 4, Help 5.

async function contactCenter(extra = ''): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(extra), 'yaml')
  return tt
}
const get = (tt: TestTenant, url: string) => t.app.inject({ method: 'GET', url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth } })
const json = (r: { body: string }) => JSON.parse(r.body) as Json
async function available(tt: TestTenant, email: string, agentId: number): Promise<void> {
  const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(login.statusCode, login.body).toBe(200)
  const r = await t.app.inject({ method: 'POST', url: '/apps/api/v1/agent_statuses', headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: { status: 'Available', agent_ids: [agentId] } })
  expect(r.statusCode, r.body).toBe(200)
  expect(json(r)[0]).toMatchObject({ agent_id: agentId, current_status: 'Available' })
}
async function expect400(tt: TestTenant, url: string, message: string): Promise<void> {
  const r = await get(tt, url)
  expect(r.statusCode, url).toBe(400)
  expect(r.body, url).toBe(JSON.stringify({ message }))
}

describe('GET /wait_times (W1)', () => {
  it('lists the leaf queues serving the language, waits in minutes, agents of the queue’s teams signed in and available', async () => {
    const tt = await contactCenter()
    const before = await get(tt, '/wait_times?lang=en')
    expect(before.statusCode, before.body).toBe(200)
    expect(json(before)).toEqual([
      { menu_id: 2, menu_type: 'ivr_menu', chat: null, voice_call: 1440, materialized_path: 'Phone / Billing', logged_in_agents: 0, available_agents: 0, breakthrough_agents: 0 },
      { menu_id: 3, menu_type: 'ivr_menu', chat: 1440, voice_call: 1440, materialized_path: 'Phone / Closed', logged_in_agents: 0, available_agents: 0, breakthrough_agents: 0 },
      { menu_id: 5, menu_type: 'web_menu', chat: 1440, voice_call: null, materialized_path: 'Site / Help', logged_in_agents: 0, available_agents: 0, breakthrough_agents: 0 },
    ])
    await available(tt, 'a1@example.org', 1)
    const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email: 'a2@example.org', password: 'agent-password', company: tt.credentials.ccai.subdomain } })
    expect(login.statusCode).toBe(200) // signed in, not Available
    const after = json(await get(tt, '/wait_times?lang=en'))
    expect(after[0]).toMatchObject({ menu_id: 2, voice_call: 0, logged_in_agents: 2, available_agents: 1 })
    // Closed: Bob is signed in but not Available; the next session waits for him: 300 s (default AHT) on
    // calls, 300 / 3 chat slots on chats.
    expect(after[1]).toMatchObject({ menu_id: 3, chat: 2, voice_call: 5, logged_in_agents: 1, available_agents: 0 })
    expect(after[2]).toMatchObject({ menu_id: 5, chat: 0, logged_in_agents: 2, available_agents: 1 })
  })

  it('narrows by menu subtree, menu type, channel (voice_call or chat) and wait range', async () => {
    const tt = await contactCenter()
    await available(tt, 'a1@example.org', 1)
    const ids = async (query: string) => json(await get(tt, `/wait_times?lang=en&${query}`)).map((w: Json) => w.menu_id)
    expect(await ids('menu_id=1')).toEqual([2, 3])
    expect(await ids('menu_id=4')).toEqual([5])
    expect(await ids('menu_id=5')).toEqual([5])
    expect(await ids('menu_type=web_menu')).toEqual([5])
    expect(await ids('channel_type=voice_call')).toEqual([2, 3])
    expect(await ids('channel_type=chat')).toEqual([3, 5])
    expect(await ids('wait[from]=1')).toEqual([3])
    expect(await ids('wait[to]=1')).toEqual([2, 5])
    expect(await ids('wait[from]=1&wait[to]=1440')).toEqual([])
    expect(json(await get(tt, '/wait_times?lang=es'))).toHaveLength(1)
  })

  it('refuses with the documented and decided texts', async () => {
    const tt = await contactCenter()
    await expect400(tt, '/wait_times', 'lang is required')
    await expect400(tt, '/wait_times?lang=', 'lang is required')
    await expect400(tt, '/wait_times?lang=xy', "Language 'xy' is not found")
    await expect400(tt, '/wait_times?lang=en&menu_id=99', 'menu_id 99 is not found')
    await expect400(tt, '/wait_times?lang=en&menu_id=abc', 'menu_id is not well formed')
    await expect400(tt, '/wait_times?lang=en&wait[from]=0', 'wait[from] must be a positive integer')
    await expect400(tt, '/wait_times?lang=en&wait[from]=abc', 'wait[from] must be a positive integer')
    await expect400(tt, '/wait_times?lang=en&wait[to]=-1', 'wait[to] must be a positive integer')
    await expect400(tt, '/wait_times?lang=en&channel_type=sms', 'channel_type must be voice_call or chat')
    await expect400(tt, '/wait_times?lang=en&menu_type=tv_menu', 'menu_type must be ivr_menu, mobile_menu or web_menu')
    const bare = await createTenant(t.services)
    await expect400(bare, '/wait_times?lang=en', 'Contact center is not set up')
  })
})

describe('GET /queues/status (Q1)', () => {
  it('answers each asked queue and channel: waits in seconds, agents, callback slots, hours and holidays in the queue’s zone', async () => {
    const tt = await contactCenter()
    await available(tt, 'a1@example.org', 1)
    // The next whole UTC hour after the next one: slots at :00, :15, :30, :45 on any zone's clock.
    const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000)
    const r = await get(tt, `/queues/status?lang=en&menu_id[]=2&menu_id[]=3&callback_period_hours=1&callback_start_from=${start.toISOString()}`)
    expect(r.statusCode, r.body).toBe(200)
    const queues = json(r).queues as Json[]
    expect(queues.map((q) => [q.menu_id, q.channel_type])).toEqual([[2, 'call'], [3, 'call'], [3, 'chat']])
    const slot = (offsetMin: number) => {
      const p = zonedParts(new Date(start.getTime() + offsetMin * 60_000), COMPANY_ZONE)
      return { date: `${p.year}${String(p.month).padStart(2, '0')}${String(p.day).padStart(2, '0')}`, time: `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}` }
    }
    const allWeek = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => ({ day, open: '00:00', close: '24:00' }))
    expect(queues[0]).toEqual({
      menu_id: 2, menu_type: 'ivr_menu', lang: 'en', channel_type: 'call', materialized_path: 'Phone / Billing',
      current_queue_ewt: 0, scheduled_callback_ewt: 0, calls_in_queue: 0, logged_in_agents: 1, available_agents: 1, breakthrough_agents: 0,
      callback_periods: [0, 15, 30, 45].map((m) => ({ date: slot(m).date, start_time: slot(m).time, end_time: slot(m + 15).time, scheduled_calls: 0, max_slots: 2 })),
      time_zone: COMPANY_ZONE, hours_of_operation: allWeek, holidays: [], after_hours: false,
      // max_queued 0: full whatever waits.
      overcapacity: true, manual_redirection: false,
    })
    expect(queues[1]).toMatchObject({
      menu_id: 3, current_queue_ewt: 86_400, scheduled_callback_ewt: 86_400, logged_in_agents: 0, available_agents: 0,
      callback_periods: [], time_zone: CLOSED_ZONE, after_hours: true, overcapacity: false, hours_of_operation: allWeek,
      holidays: [0, 1, 2, 3].map((d) => ({ date: localDate(CLOSED_ZONE, d).replaceAll('-', ''), name: `Closure ${d}`, open: null, close: null })),
    })
    expect(queues[2]).toMatchObject({ menu_id: 3, channel_type: 'chat', callback_periods: [] })
  })

  it('takes a bare menu_id (seed form), filters by channel_type, derives the menu type, reads a time without offset on the company’s clock', async () => {
    const tt = await contactCenter()
    const one = json(await get(tt, '/queues/status?lang=en&menu_id=3&channel_type=chat'))
    expect(one.queues.map((q: Json) => [q.menu_id, q.menu_type, q.channel_type])).toEqual([[3, 'ivr_menu', 'chat']])
    expect(json(await get(tt, '/queues/status?lang=en&menu_id=2&channel_type=chat')).queues).toEqual([])
    // A wall-clock time two hours ahead in Los Angeles, without an offset.
    const at = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 2 * 3_600_000)
    const p = zonedParts(at, COMPANY_ZONE)
    const local = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}T${String(p.hour).padStart(2, '0')}:00:00`
    const r = json(await get(tt, `/queues/status?lang=en&menu_id=2&menu_type=ivr_menu&callback_period_hours=1&callback_start_from=${local}`))
    expect(r.queues[0].callback_periods.map((s: Json) => s.start_time)).toEqual([':00', ':15', ':30', ':45'].map((m) => `${String(p.hour).padStart(2, '0')}${m}`))
  })

  it('refuses with the documented and decided texts', async () => {
    const tt = await contactCenter()
    const past = new Date(Date.now() - 5 * 60_000).toISOString()
    const far = new Date(Date.now() + 25 * 3_600_000).toISOString()
    await expect400(tt, '/queues/status?lang=en', 'menu_id is required')
    await expect400(tt, '/queues/status?menu_id[]=2', 'lang is required')
    await expect400(tt, '/queues/status?lang=en&menu_id[]=2&menu_id[]=x', 'menu_id is not well formed')
    await expect400(tt, '/queues/status?lang=en&menu_id[]=2&menu_id[]=99', 'menu_id 99 is not found')
    await expect400(tt, '/queues/status?lang=en&menu_id=1', 'menu_id 1 is not found')
    await expect400(tt, '/queues/status?lang=en&menu_id=2&menu_type=web_menu', 'menu_id 2 is not found')
    await expect400(tt, '/queues/status?lang=es&menu_id=3', "Language 'es' is not available")
    await expect400(tt, '/queues/status?lang=en&menu_id=2&channel_type=voice', 'channel_type must be call or chat')
    await expect400(tt, '/queues/status?lang=en&menu_id=2&callback_period_hours=9', 'callback_period_hours must be less than or equal to 8')
    await expect400(tt, '/queues/status?lang=en&menu_id=2&callback_period_hours=0', 'callback_period_hours must be a positive integer')
    await expect400(tt, `/queues/status?lang=en&menu_id=2&callback_start_from=${past}`, 'callback_start_from must not be in the past')
    await expect400(tt, `/queues/status?lang=en&menu_id=2&callback_start_from=${far}`, 'callback_start_from must be within 24 hours')
    await expect400(tt, '/queues/status?lang=en&menu_id=2&callback_start_from=tomorrow', 'callback_start_from is invalid')
    await expect400(tt, '/queues/status?lang=en&menu_id=2&callback_start_from=2026-02-30T10:00:00Z', 'callback_start_from is invalid')
  })
})

describe('GET /queue_operation_statuses (O1)', () => {
  it('answers after_hour and after_hours alike, and overcapacity, per queue and channel', async () => {
    const tt = await contactCenter()
    const open = await get(tt, '/queue_operation_statuses?menu_id=5&lang=en&channel_type=chat')
    expect(open.statusCode, open.body).toBe(200)
    expect(json(open)).toEqual({ menu_id: 5, lang: 'en', channel_type: 'chat', after_hour: false, after_hours: false, overcapacity: false, manual_redirection: true })
    expect(json(await get(tt, '/queue_operation_statuses?menu_id=3&lang=en&channel_type=call'))).toMatchObject({ after_hour: true, after_hours: true })
    expect(json(await get(tt, '/queue_operation_statuses?menu_id=2&lang=en&channel_type=call'))).toMatchObject({ after_hour: false, overcapacity: true })
  })

  it('refuses with the documented and decided texts', async () => {
    const tt = await contactCenter()
    await expect400(tt, '/queue_operation_statuses?lang=en&channel_type=call', 'menu_id is required')
    await expect400(tt, '/queue_operation_statuses?menu_id=2&channel_type=call', 'lang is required')
    await expect400(tt, '/queue_operation_statuses?menu_id=2&lang=en', 'channel_type must be call or chat')
    await expect400(tt, '/queue_operation_statuses?menu_id=2&lang=en&channel_type=fax', 'channel_type must be call or chat')
    await expect400(tt, '/queue_operation_statuses?menu_id=99&lang=en&channel_type=call', 'menu_id 99 is not found')
    await expect400(tt, '/queue_operation_statuses?menu_id=2&lang=en&channel_type=chat', 'menu_id 2 is not found')
  })
})

describe('tenant isolation', () => {
  it('another tenant’s menu ids are not found, and its agents never count', async () => {
    const mine = await contactCenter()
    const theirs = await contactCenter(`  - name: App\n    type: mobile\n    children:\n      - { name: Extra, channels: [chat], teams: [Desk] }\n`)
    await available(theirs, 'a1@example.org', 1)
    expect(json(await get(theirs, '/queue_operation_statuses?menu_id=7&lang=en&channel_type=chat'))).toMatchObject({ menu_id: 7 })
    await expect400(mine, '/queue_operation_statuses?menu_id=7&lang=en&channel_type=chat', 'menu_id 7 is not found')
    await expect400(mine, '/queues/status?lang=en&menu_id[]=7', 'menu_id 7 is not found')
    await expect400(mine, '/wait_times?lang=en&menu_id=7', 'menu_id 7 is not found')
    expect(json(await get(mine, '/wait_times?lang=en')).map((w: Json) => w.logged_in_agents)).toEqual([0, 0, 0])
  })
})
