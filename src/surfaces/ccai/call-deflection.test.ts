import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Deflected calls on the sandbox voice provider (spec/ccai.md §4.1): a queue offering both
// `voicemail` and `schedule_call` leaves the call `deflected` and the person chooses on the phone —
// 1 leaves a voicemail (`voicemail` → `voicemail_received`), 2 schedules a call back (a new
// `scheduled` child call at the queue's next open time, fired by the scheduled-call job; the
// deflected call stays `deflected`). And C4 calls falling due after hours or over capacity deflect.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const hhmm = (d: Date) => d.toISOString().slice(11, 16)

/** A queue closed now that opens (UTC) at the next minute at least 20 s away, until midnight. */
function opensSoon(): { at: Date; hours: string } {
  const at = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000)
  return { at, hours: `{ weekly: [{ day: ${WEEKDAYS[at.getUTCDay()]}, open: "${hhmm(at)}", close: "24:00" }] }` }
}

async function tenant(voice: Record<string, unknown>, hours = '{ weekly: [] }'): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: Desk }]
agents: [{ email: d.${randomUUID().slice(0, 8)}@example.org, first_name: De, last_name: Flect, teams: [Desk] }]
menus:
  - name: Phone
    type: ivr
    children:
      - { name: Night, channels: [call], teams: [Desk], hours: ${hours}, after_hours: { deflection: [voicemail, schedule_call] } }
      - { name: Full, channels: [call], teams: [Desk], over_capacity: { max_queued: 0, deflection: [schedule_call, voicemail] } }
  - name: App
    type: mobile
    children:
      - { name: Later, channels: [call], teams: [Desk], hours: { weekly: [] }, after_hours: { deflection: [voicemail] } }
      - { name: Busy, channels: [call], teams: [Desk], over_capacity: { max_queued: 0, deflection: [voicemail] } }
phone_numbers: [{ number: "+1 628-555-0199" }]
`, 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', voice)
  return tt
}
async function api(tt: TestTenant, url: string, payload: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
async function phone(tt: TestTenant, url: string, payload?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method: 'POST', url: `/sandbox/api/calls${url}`, headers: { authorization: tt.cassAuth, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload: JSON.stringify(payload) } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
const menuNum = async (tt: TestTenant, name: string) => (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()).num
const incoming = async (tt: TestTenant, menu: string) => api(tt, '/calls', { call_type: 'IncomingCall', menu_id: await menuNum(tt, menu), end_user_number: '+1 415-555-0177' })
const callIs = (tt: TestTenant, num: number, status: string, ms = 30_000) => waitFor(`call ${num} to be ${status}`, async () => {
  const c = await t.services.calls.get(tt.tenant.id, num)
  return c.status === status ? c : undefined
}, ms)
const childOf = async (tt: TestTenant, num: number) => (await t.store.db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', tt.tenant.id).where('parent_num', '=', num).execute()).map((r) => r.num)

describe('schedule a call or leave a voicemail: the person chooses on the phone', () => {
  it('after hours, with the sandbox page: 2 schedules a call back at the opening, fired then by the scheduled-call job', async () => {
    const soon = opensSoon()
    const tt = await tenant({ answer: 'manual' }, soon.hours)
    const r = await incoming(tt, 'Night')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'deflected', status_text: 'Deflected', voicemail_reason: 'after_hours', deflection: 'after_hours_deflection', queued_at: null })
    await waitFor('the phone to ring', async () => ((await t.app.inject({ method: 'GET', url: '/sandbox/api/calls', headers: { authorization: tt.cassAuth } })).json().data.find((c: Json) => c.id === r.body.id && c.ringing)), 30_000)
    // Not on the line yet: nothing to press.
    expect((await phone(tt, `/${r.body.id}/press`, { digits: '2' })).status).toBe(400)
    const picked = await phone(tt, `/${r.body.id}/pick-up`)
    expect(picked.body.data).toMatchObject({ status: 'deflected', answered: true, choosing: true })
    // A key that is no choice, or no key at all: refused, nothing changes.
    expect(await phone(tt, `/${r.body.id}/press`, { digits: '7' })).toEqual({ status: 400, body: { message: 'that key is not one of the choices offered (1 voicemail, 2 schedule a call)' } })
    expect((await phone(tt, `/${r.body.id}/press`, { digits: 'x' })).status).toBe(400)
    expect(await childOf(tt, r.body.id)).toEqual([])

    const chose = await phone(tt, `/${r.body.id}/press`, { digits: '2' })
    expect(chose.status, JSON.stringify(chose.body)).toBe(200)
    expect(chose.body.data).toMatchObject({ id: r.body.id, status: 'deflected', answered: false, choosing: false })
    const parent = await t.services.calls.get(tt.tenant.id, r.body.id)
    expect(parent.status).toBe('deflected')
    expect(parent.endsAt).not.toBeNull()
    const [childNum] = await childOf(tt, r.body.id)
    expect(childNum).toBeDefined()
    const child = await t.services.calls.get(tt.tenant.id, childNum!)
    expect(child).toMatchObject({ status: 'scheduled', parentNum: r.body.id, callType: 'Voice Scheduled (API)', endUserPhone: '+14155550177' })
    expect(child.scheduledAt?.toISOString()).toBe(soon.at.toISOString())
    // Choosing again is refused (the phone call is over).
    expect((await phone(tt, `/${r.body.id}/press`, { digits: '2' })).status).toBe(400)
    expect(await childOf(tt, r.body.id)).toEqual([childNum])

    // At the opening the existing scheduled-call job queues the call back.
    const queued = await callIs(tt, childNum!, 'queued', 150_000)
    expect(queued.queuedAt!.getTime()).toBeGreaterThanOrEqual(soon.at.getTime())
    expect((await t.services.calls.get(tt.tenant.id, r.body.id)).status).toBe('deflected')
  }, 200_000)

  it('over capacity, the phone by itself presses 1: voicemail, received with its recording and duration', async () => {
    const tt = await tenant({ answer_after_ms: 50, hang_up_after_ms: 2000 })
    const r = await incoming(tt, 'Full')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'deflected', voicemail_reason: 'over_capacity', deflection: 'over_capacity_deflection' })
    const received = await callIs(tt, r.body.id, 'voicemail_received')
    expect(received.recordingUrl).toMatch(/^https:\/\/voicemail\.sandbox\.invalid\/[0-9a-f-]+\.wav$/)
    expect(received.callDuration).toBe(2)
    expect(await childOf(tt, r.body.id)).toEqual([])
  })

  it('over capacity, the phone by itself presses 2: a call back one 15-minute slot later', async () => {
    const tt = await tenant({ answer_after_ms: 50, deflection_digit: '2' })
    const before = Date.now()
    const r = await incoming(tt, 'Full')
    expect(r.body).toMatchObject({ status: 'deflected' })
    const childNum = await waitFor('the call back', async () => (await childOf(tt, r.body.id))[0], 30_000)
    const child = await t.services.calls.get(tt.tenant.id, childNum)
    expect(child.status).toBe('scheduled')
    expect(child.scheduledAt!.getTime()).toBeGreaterThanOrEqual(before + 15 * 60_000)
    expect(child.scheduledAt!.getTime()).toBeLessThanOrEqual(Date.now() + 15 * 60_000)
    expect((await t.services.calls.get(tt.tenant.id, r.body.id)).status).toBe('deflected')
  })
})

describe('C4 calls falling due when the queue cannot take them', () => {
  const schedule = async (tt: TestTenant, menu: string) => api(tt, '/calls', { call_type: 'ScheduledCall', menu_id: await menuNum(tt, menu), end_user_number: '+1 415-555-0166', scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })

  it('after hours: the due call is deflected to voicemail, and the sandbox phone leaves it', async () => {
    const tt = await tenant({ answer_after_ms: 50, hang_up_after_ms: 100 })
    const r = await schedule(tt, 'Later')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ status: 'scheduled' })
    // What the `cc.call_scheduled` job runs at `scheduled_at`.
    expect(await t.services.calls.fireScheduled(tt.tenant.id, r.body.id)).toBe(true)
    const fired = await t.services.calls.get(tt.tenant.id, r.body.id)
    expect(fired).toMatchObject({ status: 'voicemail', voicemailReason: 'after_hours', deflection: 'after_hours_deflection', queuedAt: null })
    expect((await callIs(tt, r.body.id, 'voicemail_received')).recordingUrl).toMatch(/voicemail\.sandbox\.invalid/)
    expect(await t.services.calls.fireScheduled(tt.tenant.id, r.body.id)).toBe(false)
  })

  it('over capacity: the due call is deflected to voicemail', async () => {
    const tt = await tenant({ answer_after_ms: 50, hang_up_after_ms: 100 })
    const r = await schedule(tt, 'Busy')
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(await t.services.calls.fireScheduled(tt.tenant.id, r.body.id)).toBe(true)
    expect(await t.services.calls.get(tt.tenant.id, r.body.id)).toMatchObject({ status: 'voicemail', voicemailReason: 'over_capacity', deflection: 'over_capacity_deflection' })
    await callIs(tt, r.body.id, 'voicemail_received')
  })
})
