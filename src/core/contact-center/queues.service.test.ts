import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { hashPassword } from '../../lib/passwords.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { AppError } from '../errors.ts'
import type { AgentLoad, QueueChannelLoads, QueueLoad } from './queue-load.port.ts'
import { QueuesService } from './queues.service.ts'

// The queue status of W1/Q1/O1 over a real store and a loaded setup file, with a pinned clock
// and a QueueLoad that says what the chats and calls domains would (queue lengths, handle times,
// agents' sessions, booked callbacks).
let t: TestApp
let hash: string
beforeAll(async () => {
  t = await startTestApp()
  hash = await hashPassword('agent-password')
})
afterAll(async () => t?.close())

const SETUP = () => `
settings: { time_zone: America/New_York }
teams: [{ name: Desk }, { name: Nurses }]
agents:
  - { email: a1@example.org, first_name: A, last_name: One, teams: [Desk], chat_capacity: 2, password_hash: "${hash}" }
  - { email: a2@example.org, first_name: B, last_name: Two, teams: [Desk, Nurses], chat_capacity: 3, password_hash: "${hash}" }
  - { email: a3@example.org, first_name: C, last_name: Three, teams: [Nurses], password_hash: "${hash}" }
  - { email: a4@example.org, first_name: D, last_name: Four, teams: [Desk], active: false, password_hash: "${hash}" }
menus:
  - name: Phone
    type: ivr
    children:
      - name: Billing
        channels: [call]
        teams: [Desk]
        languages: [en, es]
        hours:
          weekly:
            - { day: monday, open: "09:00", close: "17:00" }
            - { day: tuesday, open: "09:00", close: "17:00" }
          holidays: [{ date: "2026-12-08", name: Founders Day }]
        over_capacity: { max_queued: 3 }
      - name: Care
        children:
          - { name: Nurse line, channels: [call, chat], teams: [Nurses], over_capacity: { max_wait: 10m }, manual_redirection: { enabled: true } }
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk], languages: [fr] }
`
// Menu ids in file order: Phone 1, Billing 2, Care 3, Nurse line 4, Site 5, Help 6.
const MONDAY_10AM_NY = new Date('2026-12-07T15:00:00.000Z')

class FakeLoad implements QueueLoad {
  queues = new Map<number, QueueChannelLoads>()
  agentLoads = new Map<string, AgentLoad>()
  menuIds = new Map<string, number>()
  async load(_tenantId: TenantId, menuIds: readonly string[]) {
    return new Map(menuIds.flatMap((id) => {
      const hit = this.queues.get(this.menuIds.get(id)!)
      return hit ? [[id, hit] as const] : []
    }))
  }
  async agents(_tenantId: TenantId, agentIds: readonly string[]) {
    return new Map(agentIds.flatMap((id) => (this.agentLoads.has(id) ? [[id, this.agentLoads.get(id)!] as const] : [])))
  }
}

async function contactCenter() {
  const tt = await createTenant(t.services)
  const id = tt.tenant.id
  await t.services.ccSetup.load(id, SETUP(), 'yaml')
  const load = new FakeLoad()
  const menus = await t.store.db.selectFrom('cc_menus').select(['id', 'num']).where('tenant_id', '=', id).execute()
  for (const m of menus) load.menuIds.set(m.id, Number(m.num))
  const clock = { now: MONDAY_10AM_NY }
  const queues = new QueuesService({ db: t.store.db, load, now: () => clock.now })
  const agentIds = new Map((await t.services.agents.list(id, { kind: 'all' })).map((a) => [a.num, a.id]))
  const setStatus = async (agentNum: number, name: string) => {
    const status = t.store.db.selectFrom('cc_statuses').select('id').where('tenant_id', '=', id).where('name', '=', name)
    await t.store.db.updateTable('cc_agents').set({ status_id: status }).where('tenant_id', '=', id).where('num', '=', agentNum).execute()
  }
  return { id, queues, load, clock, agentIds, setStatus }
}

const code = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error('expected a refusal')
}

describe('QueuesService', () => {
  it('counts the active members of the queue’s teams signed in and available; the deactivated and other teams’ agents do not count', async () => {
    const cc = await contactCenter()
    await cc.setStatus(1, 'Available')
    await cc.setStatus(2, 'Unavailable')
    await cc.setStatus(3, 'Available')
    await cc.setStatus(4, 'Available') // deactivated: never counts
    const [billing] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [2], callbackPeriodHours: 1 })
    expect(billing).toMatchObject({ loggedInAgents: 2, availableAgents: 1, breakthroughAgents: 0, teamAgents: 2 })
    const [nurse] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [4], callbackPeriodHours: 1 })
    expect(nurse).toMatchObject({ loggedInAgents: 2, availableAgents: 1, teamAgents: 2 })
    await cc.setStatus(1, 'Offline')
    const [after] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [2], callbackPeriodHours: 1 })
    expect(after).toMatchObject({ loggedInAgents: 1, availableAgents: 0 })
  })

  it('available means free for that channel: a call needs an idle agent, a chat free chat capacity; In-chat agents that chose Available keep taking chats', async () => {
    const cc = await contactCenter()
    await cc.setStatus(2, 'In-chat')
    await cc.setStatus(3, 'Available')
    cc.load.agentLoads.set(cc.agentIds.get(2)!, { chats: 1, calls: 0, takesOffers: true })
    const [nurse] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [4], callbackPeriodHours: 1 })
    const call = nurse!.channels.find((c) => c.channel === 'call')!
    const chat = nurse!.channels.find((c) => c.channel === 'chat')!
    expect(call.availableAgents).toBe(1) // a3 only: a2 has a chat going
    expect(chat.availableAgents).toBe(2) // a3 (3 slots) and a2 (2 of 3 left)
    expect(nurse!.availableAgents).toBe(2)
    // Nothing queued and free slots: no wait on either channel.
    expect(call.wait).toEqual({ seconds: 0, minutes: 0 })
    cc.load.agentLoads.set(cc.agentIds.get(2)!, { chats: 3, calls: 0, takesOffers: true })
    const [full] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [4], channel: 'chat', callbackPeriodHours: 1 })
    expect(full!.channels.map((c) => [c.channel, c.availableAgents])).toEqual([['chat', 1]])
  })

  it('estimates the wait from the queue length and handle time (queue-position), unbounded without agents, and reports it rounded up', async () => {
    const cc = await contactCenter()
    await cc.setStatus(1, 'Unavailable')
    await cc.setStatus(2, 'Unavailable')
    cc.load.queues.set(2, { call: { queued: 3, ahtSeconds: 200 } })
    // Two agents signed in, none free: the 4th in line waits 4 × 200 / 2 = 400 s.
    const [billing] = await cc.queues.waitTimes(cc.id, { lang: 'en', menuNum: 2 })
    expect(billing!.channels[0]).toMatchObject({ channel: 'call', queued: 3, wait: { seconds: 400, minutes: 7 }, estimate: { model: 'queue-position' } })
    // Nobody signed in on Help (chat, team Desk after both sign out): a day, the longest wait reported.
    await cc.setStatus(1, 'Offline')
    await cc.setStatus(2, 'Offline')
    const [help] = await cc.queues.waitTimes(cc.id, { lang: 'fr' })
    expect(help!.menu.num).toBe(6)
    expect(help!.channels[0]).toMatchObject({ wait: { seconds: 86_400, minutes: 1440 }, estimate: { seconds: null, model: 'unstaffed' } })
  })

  it('chat waits count chat slots: queued chats beyond the free slots wait for a slot among all signed-in capacity', async () => {
    const cc = await contactCenter()
    await cc.setStatus(1, 'In-chat') // capacity 2, both used
    await cc.setStatus(2, 'In-chat') // capacity 3, all used
    cc.load.agentLoads.set(cc.agentIds.get(1)!, { chats: 2, calls: 0, takesOffers: true })
    cc.load.agentLoads.set(cc.agentIds.get(2)!, { chats: 3, calls: 0, takesOffers: true })
    cc.load.queues.set(6, { chat: { queued: 4, ahtSeconds: 600 } })
    const [help] = await cc.queues.waitTimes(cc.id, { lang: 'fr', channel: 'chat' })
    // 5 slots busy, 4 waiting: the 5th waits 5 × 600 / 5 = 600 s.
    expect(help!.channels[0]!.wait).toEqual({ seconds: 600, minutes: 10 })
  })

  it('open or after hours in the queue’s zone, holidays included; a queue without hours is always open', async () => {
    const cc = await contactCenter()
    const billing = async () => (await cc.queues.operationStatus(cc.id, { lang: 'en', menuNum: 2, channel: 'call' })).afterHours
    expect(await billing()).toBe(false) // Monday 10:00 in New York
    cc.clock.now = new Date('2026-12-07T22:30:00.000Z') // 17:30 in New York, 22:30 UTC
    expect(await billing()).toBe(true)
    cc.clock.now = new Date('2026-12-08T15:00:00.000Z') // Tuesday 10:00, a holiday
    expect(await billing()).toBe(true)
    cc.clock.now = new Date('2026-12-12T15:00:00.000Z') // Saturday
    expect(await billing()).toBe(true)
    expect((await cc.queues.operationStatus(cc.id, { lang: 'en', menuNum: 4, channel: 'chat' })).afterHours).toBe(false)
  })

  it('over capacity at max_queued sessions waiting, or when the wait exceeds max_wait (an unbounded wait does); manual redirection as declared', async () => {
    const cc = await contactCenter()
    await cc.setStatus(1, 'Unavailable')
    const billing = () => cc.queues.operationStatus(cc.id, { lang: 'en', menuNum: 2, channel: 'call' })
    cc.load.queues.set(2, { call: { queued: 2, ahtSeconds: 60 } })
    expect(await billing()).toMatchObject({ overCapacity: false, manualRedirection: false })
    cc.load.queues.set(2, { call: { queued: 3, ahtSeconds: 60 } })
    expect((await billing()).overCapacity).toBe(true)
    // Nurse line: max_wait 10m. Nobody signed in → unbounded → over capacity.
    const nurse = () => cc.queues.operationStatus(cc.id, { lang: 'en', menuNum: 4, channel: 'call' })
    expect(await nurse()).toMatchObject({ overCapacity: true, manualRedirection: true })
    await cc.setStatus(3, 'Unavailable')
    cc.load.queues.set(4, { call: { queued: 1, ahtSeconds: 300 } })
    expect((await nurse()).overCapacity).toBe(false) // 2 × 300 / 1 = 600 s, not more than 10 minutes
    cc.load.queues.set(4, { call: { queued: 2, ahtSeconds: 300 } })
    expect((await nurse()).overCapacity).toBe(true) // 900 s
  })

  it('W1 selects a subtree, a menu type, a channel and a language, and filters waits in minutes (exclusive bounds)', async () => {
    const cc = await contactCenter()
    const nums = async (q: Parameters<QueuesService['waitTimes']>[1]) => (await cc.queues.waitTimes(cc.id, q)).map((s) => s.menu.num)
    expect(await nums({ lang: 'en' })).toEqual([2, 4])
    expect(await nums({ lang: 'es' })).toEqual([2])
    expect(await nums({ lang: 'fr' })).toEqual([6])
    expect(await nums({ lang: 'en', menuNum: 3 })).toEqual([4])
    expect(await nums({ lang: 'en', menuNum: 1 })).toEqual([2, 4])
    expect(await nums({ lang: 'en', menuNum: 4 })).toEqual([4])
    expect(await nums({ lang: 'en', menuType: 'web_menu' })).toEqual([])
    expect(await nums({ lang: 'en', channel: 'chat' })).toEqual([4])
    await cc.setStatus(1, 'Unavailable')
    cc.load.queues.set(2, { call: { queued: 1, ahtSeconds: 300 } }) // 2 × 300 / 1 = 10 minutes
    // Nurse line: nobody signed in, 1440 minutes on both channels.
    expect(await nums({ lang: 'en', waitMinutes: { from: 9 } })).toEqual([2, 4])
    expect(await nums({ lang: 'en', waitMinutes: { from: 10 } })).toEqual([4])
    expect(await nums({ lang: 'en', waitMinutes: { to: 11 } })).toEqual([2])
    expect(await nums({ lang: 'en', waitMinutes: { to: 10 } })).toEqual([])
  })

  it('refuses an unknown language, menu, non-leaf or other-type menu, a language the queue does not serve, a channel it does not serve', async () => {
    const cc = await contactCenter()
    expect(await code(cc.queues.waitTimes(cc.id, { lang: 'de' }))).toBe("language_not_found: Language 'de' is not found")
    expect(await code(cc.queues.waitTimes(cc.id, { lang: 'en', menuNum: 99 }))).toBe('menu_not_found: menu_id 99 is not found')
    expect(await code(cc.queues.statuses(cc.id, { lang: 'en', menuNums: [3], callbackPeriodHours: 4 }))).toBe('menu_not_found: menu_id 3 is not found')
    expect(await code(cc.queues.statuses(cc.id, { lang: 'en', menuNums: [2], menuType: 'web_menu', callbackPeriodHours: 4 }))).toBe('menu_not_found: menu_id 2 is not found')
    expect(await code(cc.queues.statuses(cc.id, { lang: 'es', menuNums: [4], callbackPeriodHours: 4 }))).toBe("language_not_available: Language 'es' is not available")
    expect(await code(cc.queues.operationStatus(cc.id, { lang: 'en', menuNum: 2, channel: 'chat' }))).toBe('menu_not_found: menu_id 2 is not found')
    const other = await createTenant(t.services)
    expect(await code(cc.queues.waitTimes(other.tenant.id, { lang: 'en' }))).toBe('contact_center_not_set_up: Contact center is not set up')
  })

  it('Q1 callback slots: 15 minutes on the queue’s clock within its hours, booked callbacks per slot, the team size as max_slots', async () => {
    const cc = await contactCenter()
    cc.clock.now = new Date('2026-12-07T21:20:00.000Z') // 16:20 in New York; Billing closes at 17:00
    const booked = new Date('2026-12-07T21:30:00.000Z')
    cc.load.queues.set(2, { call: { queued: 0, ahtSeconds: null, scheduledCallbacks: (slot) => (slot.getTime() === booked.getTime() ? 2 : 0) } })
    const [billing] = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [2], callbackPeriodHours: 2 })
    expect(billing!.callbackPeriods).toEqual([
      { date: '20261207', startTime: '16:30', endTime: '16:45', scheduledCalls: 2, maxSlots: 2 },
      { date: '20261207', startTime: '16:45', endTime: '17:00', scheduledCalls: 0, maxSlots: 2 },
    ])
    // A later start, and a chat-only answer has no slots.
    const later = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [4, 4], callbackFrom: new Date('2026-12-08T01:00:00.000Z'), callbackPeriodHours: 1 })
    expect(later).toHaveLength(1)
    expect(later[0]!.callbackPeriods.map((p) => `${p.date} ${p.startTime}`)).toEqual(['20261207 20:00', '20261207 20:15', '20261207 20:30', '20261207 20:45'])
    const chatOnly = await cc.queues.statuses(cc.id, { lang: 'en', menuNums: [4], channel: 'chat', callbackPeriodHours: 1 })
    expect(chatOnly[0]!.callbackPeriods).toEqual([])
  })
})
