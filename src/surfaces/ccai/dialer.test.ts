import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { SANDBOX_VOICE_NUMBERS } from '../../providers/voice/index.ts'
import { ALL_DAY, OTHER_DAY, ccaiClient } from '../../../test/helpers/ccai.ts'

// The campaign dialer end to end on the sandbox voice provider (issue 12, item 5): contacts added
// through K1 are dialled by the campaign's runner, answered calls are offered to an agent signed in
// through the agent API who accepts and hangs up; the sandbox's busy, no-answer and invalid numbers
// end as their §4.3 outcomes, redialled by the retry rules; the DNC list and calling hours are
// checked before every dial. Waits are on conditions, never on time.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true, services: { dialer: { roundMs: 250 } } })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { apps, agent } = ccaiClient(() => t)
let signIns = 0
let email = ''
const SETUP = (agentEmail: string) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }]
agents:
  - { email: ${agentEmail}, first_name: Dee, last_name: Aler, teams: [Desk], password: "dialer-password-1" }
menus:
  - { name: Phone, type: ivr, children: [{ name: Outreach, channels: [call], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns:
  - name: Reminders
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: progressive
    calling_hours: ${ALL_DAY}
    retry: { max_attempts: 2, delay: 1s, statuses: [Not Picked Up] }
  - name: Closed today
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: progressive
    calling_hours: { weekly: [{ day: ${OTHER_DAY}, open: "10:00", close: "12:00" }] }
`

async function tenant(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  email = `dialer.${randomUUID().slice(0, 8)}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, SETUP(email), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer_after_ms: 50, no_answer_after_ms: 200 })
  return tt
}
/** Sign the tenant's agent in through the agent API; Available unless told otherwise. */
async function signIn(tt: TestTenant, available = true): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `203.0.113.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email, password: 'dialer-password-1', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  if (available) expect((await agent(token, 'PUT', '/status', { status: 'Available' })).status).toBe(200)
  return token
}
async function campaignNum(tt: TestTenant, name = 'Reminders'): Promise<number> {
  return (await t.store.db.selectFrom('cc_campaigns').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()).num
}
async function addContact(tt: TestTenant, campaign: number, contact: Record<string, unknown>): Promise<Json> {
  const r = await apps(tt, 'POST', `/outbound_dialer/campaigns/${campaign}/contacts`, contact)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body
}
async function contactIn(tt: TestTenant, campaign: number, id: number, statuses: string[]): Promise<Json> {
  return waitFor(`contact ${id} to be ${statuses.join(' or ')}`, async () => {
    const r = await apps(tt, 'GET', `/outbound_dialer/campaigns/${campaign}/contacts`)
    const c = (r.body as Json[]).find((x) => x.id === id)
    return c && statuses.includes(c.status) ? c : undefined
  }, 60_000)
}
const callsOf = (tt: TestTenant) => t.store.db.selectFrom('cc_sessions').select(['num', 'status', 'fail_reason', 'end_user_number']).where('tenant_id', '=', tt.tenant.id).where('channel', '=', 'call').orderBy('num').execute()
const contactRow = (tt: TestTenant, id: number) => t.store.db.selectFrom('cc_campaign_contacts').select(['status', 'attempts', 'dial_after', 'assigned_call_id']).where('tenant_id', '=', tt.tenant.id).where('num', '=', id).executeTakeFirstOrThrow()

describe('the campaign dialer on the sandbox provider', () => {
  it('answered: dials the contact, queues the answered call for the agent with the contact’s data, Connected when accepted, Finished when the agent hangs up', async () => {
    const tt = await tenant()
    const token = await signIn(tt)
    const campaign = await campaignNum(tt)
    const contact = await addContact(tt, campaign, { name: 'Ada Lovelace', email: 'ada@example.org', phone_number: '+1 415-555-0123', external_unique_id: 'UID-1' })
    expect(contact.status).toBe('Upcoming')
    // The sandbox phone answers; the call waits on the campaign's queue and the agent is offered it.
    const offer = await waitFor('the offer', async () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).where('result', '=', 'pending').executeTakeFirst(), 60_000)
    const queued = await contactIn(tt, campaign, contact.id, ['Queued'])
    expect(queued.assigned_call_id).not.toBeNull()
    const calls = await callsOf(tt)
    expect(calls).toMatchObject([{ num: queued.assigned_call_id, status: 'queued', end_user_number: '+14155550123' }])
    const accepted = await agent(token, 'POST', `/offers/${offer.id}/accept`)
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    await contactIn(tt, campaign, contact.id, ['Connected'])
    // W2: the contact's data on the agent's call.
    const mine = await agent(token, 'GET', '/calls')
    expect(mine.body).toMatchObject([{ id: queued.assigned_call_id, status: 'connected', contact_data: { name: 'Ada Lovelace', email: 'ada@example.org', unique_id: 'UID-1', campaign_id: campaign, contact_id: contact.id } }])
    expect((await agent(token, 'POST', `/calls/${queued.assigned_call_id}/hang-up`)).status).toBe(200)
    const finished = await contactIn(tt, campaign, contact.id, ['Finished'])
    expect(finished.assigned_call_id).toBe(queued.assigned_call_id)
    expect(await contactRow(tt, contact.id)).toMatchObject({ attempts: 1 })
    expect(await callsOf(tt)).toMatchObject([{ status: 'finished' }])
  })

  it('not answered and busy: Not Picked Up, redialled once by the retry rules (Redial Scheduled → Upcoming), then final; an invalid number ends Invalid Number', async () => {
    const tt = await tenant()
    await signIn(tt)
    const campaign = await campaignNum(tt)
    const noAnswer = await addContact(tt, campaign, { name: 'No Answer', phone_number: SANDBOX_VOICE_NUMBERS.noAnswer })
    const busy = await addContact(tt, campaign, { name: 'Busy', phone_number: SANDBOX_VOICE_NUMBERS.busy })
    const invalid = await addContact(tt, campaign, { name: 'Invalid', phone_number: SANDBOX_VOICE_NUMBERS.invalid })
    // Each is dialled twice (max_attempts 2) and then keeps its outcome; the invalid number once.
    for (const c of [noAnswer, busy]) {
      await waitFor(`contact ${c.id} dialled twice and final`, async () => {
        const row = await contactRow(tt, c.id)
        return row.attempts === 2 && row.status === 'Not Picked Up' ? row : undefined
      }, 90_000)
    }
    await contactIn(tt, campaign, invalid.id, ['Invalid Number'])
    const calls = await callsOf(tt)
    const reasons = (phone: string) => calls.filter((c) => c.end_user_number === phone).map((c) => [c.status, c.fail_reason])
    expect(reasons(SANDBOX_VOICE_NUMBERS.noAnswer)).toEqual([['failed', 'no_answer'], ['failed', 'no_answer']])
    expect(reasons(SANDBOX_VOICE_NUMBERS.busy)).toEqual([['failed', 'busy'], ['failed', 'busy']])
    expect(reasons(SANDBOX_VOICE_NUMBERS.invalid)).toEqual([['failed', 'invalid_number']])
    expect(await contactRow(tt, invalid.id)).toMatchObject({ attempts: 1, status: 'Invalid Number' })
  })

  it('DNC: a contact whose number joined the DNC list after it was added is not dialled and ends Do Not Call', async () => {
    const tt = await tenant()
    const campaign = await campaignNum(tt)
    // No agent available yet: nothing is dialled.
    const listed = await addContact(tt, campaign, { name: 'Listed', phone_number: '+1 415-555-0177' })
    expect(listed.status).toBe('Upcoming')
    await t.services.dnc.add(tt.tenant, [{ phone: '+14155550177', expiresAt: null }], { source: 'test' })
    await signIn(tt)
    await contactIn(tt, campaign, listed.id, ['Do Not Call'])
    expect(await callsOf(tt)).toEqual([])
    expect(await contactRow(tt, listed.id)).toMatchObject({ attempts: 0 })
  })

  it('outside calling hours: the contact is not dialled, stays Upcoming and is put off', async () => {
    const tt = await tenant()
    await signIn(tt)
    const closed = await campaignNum(tt, 'Closed today')
    const contact = await addContact(tt, closed, { name: 'Later', phone_number: '+1 415-555-0188' })
    const row = await waitFor('the contact put off', async () => {
      const r = await contactRow(tt, contact.id)
      return r.dial_after !== null ? r : undefined
    }, 60_000)
    expect(row).toMatchObject({ status: 'Upcoming', attempts: 0, assigned_call_id: null })
    expect(new Date(row.dial_after!).getTime()).toBeGreaterThan(Date.now())
    expect(await callsOf(tt)).toEqual([])
  })

  it('abandoned by the dialer: the contact answers when no agent is free, the call fails at once and the contact ends Abandoned by Dialer', async () => {
    const tt = await tenant()
    // The person answers on the sandbox page (manual), after the agent has stepped away.
    await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer: 'manual' })
    const token = await signIn(tt)
    const campaign = await campaignNum(tt)
    const contact = await addContact(tt, campaign, { name: 'Early', phone_number: '+1 415-555-0144' })
    const dialing = await contactIn(tt, campaign, contact.id, ['Dialing'])
    expect((await agent(token, 'PUT', '/status', { status: 'Unavailable' })).status).toBe(200)
    await waitFor('the contact’s leg placed', async () => t.store.db.selectFrom('cc_call_legs').select('id').where('tenant_id', '=', tt.tenant.id).where('provider_call_id', 'is not', null).executeTakeFirst(), 60_000)
    const picked = await t.app.inject({ method: 'POST', url: `/sandbox/api/calls/${dialing.assigned_call_id}/pick-up`, headers: { authorization: tt.cassAuth } })
    expect(picked.statusCode, picked.body).toBe(200)
    await contactIn(tt, campaign, contact.id, ['Abandoned by Dialer'])
    expect(await callsOf(tt)).toMatchObject([{ num: dialing.assigned_call_id, status: 'failed', fail_reason: 'no_agent_available' }])
    expect(await t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', tt.tenant.id).execute()).toEqual([])
  })
})
