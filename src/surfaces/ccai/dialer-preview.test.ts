import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { SANDBOX_VOICE_NUMBERS } from '../../providers/voice/index.ts'
import { createServices, type Services } from '../../services.ts'
import { ALL_DAY, ccaiClient } from '../../../test/helpers/ccai.ts'

// The dialer's preview mode end to end on the sandbox voice provider, through HTTP (the agent API
// and the Apps API's K-endpoints): a contact is offered to an idle agent, who dials it (Dialing →
// Connected → Finished), skips it (Skipped: offered to another agent), or skips and closes it
// (Skipped & Closed: never offered again); an offer left alone lapses and the contact goes back to
// the pool untouched; a person who answers and hangs up before the agent's leg is up is Abandoned
// by Contact; two job workers and extra rounds racing never offer one contact twice.
const SCHEMA = `pgboss_t_${randomUUID().slice(0, 8)}`
let t: TestApp
let second: Services | undefined
beforeAll(async () => {
  t = await startTestApp({ workers: true, services: { dialer: { roundMs: 250 }, jobs: { schema: SCHEMA } } })
})
afterAll(async () => {
  await second?.jobs.stop({ timeoutMs: 5_000 })
  await second?.providers.close()
  await t?.close()
  await sql`DROP SCHEMA IF EXISTS ${sql.id(SCHEMA)} CASCADE`.execute(t.store.db).catch(() => undefined)
})

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const { apps, agent } = ccaiClient(() => t)
const PASSWORD = 'preview-password-1'
let signIns = 0
const SETUP = (emails: string[]) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s, offer_timeout: 2m }
teams: [{ name: Desk }]
agents:
${emails.map((e, i) => `  - { email: ${e}, first_name: Agent, last_name: N${i}, teams: [Desk], password: "${PASSWORD}" }`).join('\n')}
menus:
  - { name: Phone, type: ivr, children: [{ name: Outreach, channels: [call], teams: [Desk] }] }
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns:
  - name: Preview
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: preview
    calling_hours: ${ALL_DAY}
    retry: { max_attempts: 1 }
    preview: { offer_timeout: 2m, repeat_after: 1h }
  - name: Quick
    caller_id: "+1 628-555-0199"
    queue: Phone / Outreach
    mode: preview
    calling_hours: ${ALL_DAY}
    retry: { max_attempts: 1 }
    preview: { offer_timeout: 2s }
`

interface Tenant { tt: TestTenant; emails: string[] }
async function tenant(agents = 2, sandbox: Record<string, unknown> = {}): Promise<Tenant> {
  const tt = await createTenant(t.services)
  const emails = Array.from({ length: agents }, (_, i) => `preview${i}.${randomUUID().slice(0, 8)}@example.org`)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(emails), 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'sandbox', { answer_after_ms: 50, no_answer_after_ms: 200, ...sandbox })
  return { tt, emails }
}
async function signIn(x: Tenant, i: number): Promise<string> {
  signIns++
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: `198.51.100.${signIns % 250}`, headers: { 'content-type': 'application/json' }, payload: { email: x.emails[i], password: PASSWORD, company: x.tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  const token = (JSON.parse(r.body) as Json).token as string
  expect((await agent(token, 'PUT', '/status', { status: 'Available' })).status).toBe(200)
  return token
}
async function campaignOf(x: Tenant, name: string): Promise<{ id: string; num: number }> {
  return t.store.db.selectFrom('cc_campaigns').select(['id', 'num']).where('tenant_id', '=', x.tt.tenant.id).where('name', '=', name).executeTakeFirstOrThrow()
}
async function addContact(x: Tenant, campaign: number, contact: Record<string, unknown>): Promise<Json> {
  const r = await apps(x.tt, 'POST', `/outbound_dialer/campaigns/${campaign}/contacts`, contact)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body
}
async function contactIn(x: Tenant, campaign: number, id: number, statuses: string[]): Promise<Json> {
  return waitFor(`contact ${id} to be ${statuses.join(' or ')}`, async () => {
    const r = await apps(x.tt, 'GET', `/outbound_dialer/campaigns/${campaign}/contacts`)
    const c = (r.body as Json[]).find((k) => k.id === id)
    return c && statuses.includes(c.status) ? c : undefined
  }, 60_000)
}
/** The agent's one open preview offer, once there is one. */
async function offerOf(token: string): Promise<Json> {
  return waitFor('a preview offer', async () => {
    const r = await agent(token, 'GET', '/preview-offers')
    expect(r.status).toBe(200)
    return (r.body as Json[])[0]
  }, 60_000)
}
const offersOf = (x: Tenant) => t.store.db.selectFrom('cc_preview_offers as p').innerJoin('cc_campaign_contacts as k', 'k.id', 'p.contact_id')
  .select(['p.id', 'p.result', 'p.agent_id', 'k.num as contact', 'p.created_at']).where('p.tenant_id', '=', x.tt.tenant.id).orderBy('p.created_at').execute()
const contactRow = (x: Tenant, num: number) => t.store.db.selectFrom('cc_campaign_contacts').select(['id', 'status', 'attempts', 'assigned_call_id']).where('tenant_id', '=', x.tt.tenant.id).where('num', '=', num).executeTakeFirstOrThrow()
const runnerStopped = (x: Tenant, campaignId: string) => waitFor('the campaign’s runner to stop', async () => {
  const s = await t.store.db.selectFrom('cc_dialer_state').select('active').where('tenant_id', '=', x.tt.tenant.id).where('campaign_id', '=', campaignId).executeTakeFirst()
  return s && !s.active
}, 60_000)

describe('the dialer’s preview mode on the sandbox provider', () => {
  it('an agent holding an open preview offer is not offered a queued call until the offer is acted on', async () => {
    const x = await tenant(1)
    const token = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Preview')
    await addContact(x, campaign.num, { name: 'Grace Hopper', phone_number: '+1 415-555-0124' })
    const offer = await offerOf(token)
    const menu = await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', x.tt.tenant.id).where('name', '=', 'Outreach').executeTakeFirstOrThrow()
    const call = await apps(x.tt, 'POST', '/calls', { call_type: 'IncomingCall', menu_id: menu.num, end_user_number: '+1 415-555-0125' })
    expect(call.status, JSON.stringify(call.body)).toBe(201)
    const pendingOffers = () => t.store.db.selectFrom('cc_offers as o').innerJoin('cc_sessions as s', 's.id', 'o.session_id').select('o.result')
      .where('o.tenant_id', '=', x.tt.tenant.id).where('s.num', '=', call.body.id as number).execute()
    // Routing runs on the queued call (the sweeper and every change) and passes over the agent.
    await waitFor('the call queued', async () => (await t.store.db.selectFrom('cc_sessions').select('status').where('tenant_id', '=', x.tt.tenant.id)
      .where('num', '=', call.body.id as number).executeTakeFirst())?.status === 'queued', 60_000)
    await t.services.routing.sweep()
    expect(await pendingOffers()).toEqual([])
    // Skipped: the agent is free again and the call is offered to them.
    expect((await agent(token, 'POST', `/preview-offers/${offer.id}/skip`)).status).toBe(200)
    await waitFor('the call offered to the agent', async () => {
      await t.services.routing.sweep()
      return (await pendingOffers()).length > 0
    }, 60_000)
  })

  it('offers a contact to an idle agent with its data; dial → Dialing → Connected → Finished; an acted-on offer answers 409, another agent’s 404', async () => {
    const x = await tenant(2)
    const token = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Preview')
    const contact = await addContact(x, campaign.num, { name: 'Ada Lovelace', email: 'ada@example.org', phone_number: '+1 415-555-0123', external_unique_id: 'UID-1' })
    const offer = await offerOf(token)
    expect(offer).toMatchObject({
      status: 'open', contact_status: 'Upcoming',
      contact_data: { name: 'Ada Lovelace', email: 'ada@example.org', unique_id: 'UID-1', phone_number: '+14155550123', campaign_id: campaign.num, campaign_name: 'Preview', contact_id: contact.id },
    })
    expect(new Date(offer.expires_at).getTime()).toBeGreaterThan(Date.now())
    // The workspace hears of it on the agent's event stream.
    const events = await t.store.db.selectFrom('cc_agent_events').select(['type', 'data']).where('tenant_id', '=', x.tt.tenant.id).where('type', '=', 'preview_offer').execute()
    expect(events).toMatchObject([{ data: { offer_id: offer.id, contact_data: { contact_id: contact.id, name: 'Ada Lovelace' } } }])
    // Offered is not dialled: the contact stays Upcoming and no call exists.
    expect(await contactRow(x, contact.id)).toMatchObject({ status: 'Upcoming', attempts: 0, assigned_call_id: null })
    // Another agent cannot act on it; an unknown or malformed id is not found either.
    const other = await signIn(x, 1)
    expect(await agent(other, 'POST', `/preview-offers/${offer.id}/dial`)).toMatchObject({ status: 404, body: { code: 'preview_offer_not_found' } })
    expect((await agent(other, 'GET', '/preview-offers')).body).toEqual([])
    expect((await agent(token, 'POST', `/preview-offers/${randomUUID()}/skip`)).status).toBe(404)
    expect((await agent(token, 'POST', '/preview-offers/not-an-id/skip')).status).toBe(404)

    const dialled = await agent(token, 'POST', `/preview-offers/${offer.id}/dial`)
    expect(dialled.status, JSON.stringify(dialled.body)).toBe(200)
    expect(dialled.body).toMatchObject({ id: offer.id, status: 'dialled', contact_status: 'Dialing', call: { id: expect.any(Number), contact_data: { name: 'Ada Lovelace', contact_id: contact.id } } })
    const callId = dialled.body.call.id as number
    // The person answers: the agent (already on the call) is connected to them.
    await contactIn(x, campaign.num, contact.id, ['Connected'])
    const mine = await agent(token, 'GET', '/calls')
    expect(mine.body).toMatchObject([{ id: callId, status: 'connected', contact_data: { unique_id: 'UID-1', campaign_id: campaign.num } }])
    expect(await agent(token, 'POST', `/preview-offers/${offer.id}/skip`)).toMatchObject({ status: 409, body: { code: 'preview_offer_closed', message: 'The offer was already dialled' } })
    expect((await agent(token, 'POST', `/calls/${callId}/hang-up`)).status).toBe(200)
    const finished = await contactIn(x, campaign.num, contact.id, ['Finished'])
    expect(finished.assigned_call_id).toBe(callId)
    expect(await contactRow(x, contact.id)).toMatchObject({ attempts: 1 })
    const dialerCalls = await t.store.db.selectFrom('cc_dialer_calls').select(['outcome', 'answered_at']).where('tenant_id', '=', x.tt.tenant.id).execute()
    expect(dialerCalls).toMatchObject([{ outcome: 'Finished', answered_at: expect.anything() }])
    expect((await offersOf(x)).map((o) => o.result)).toEqual(['dialled'])
  })

  it('skip: the contact is Skipped and offered to another agent (not again to the one who skipped); skip & close: terminal, never offered again', async () => {
    const x = await tenant(2)
    const a = await signIn(x, 0)
    const b = await signIn(x, 1)
    const campaign = await campaignOf(x, 'Preview')
    const contact = await addContact(x, campaign.num, { name: 'Skip Me', phone_number: '+1 415-555-0134' })
    const first = await waitFor('the offer to one of the agents', async () => {
      for (const token of [a, b]) {
        const o = ((await agent(token, 'GET', '/preview-offers')).body as Json[])[0]
        if (o) return { token, offer: o }
      }
      return undefined
    }, 60_000)
    const otherToken = first.token === a ? b : a
    const skipped = await agent(first.token, 'POST', `/preview-offers/${first.offer.id}/skip`)
    expect(skipped).toMatchObject({ status: 200, body: { status: 'skipped', contact_status: 'Skipped' } })
    // Back in the pool: offered to the other agent, as Skipped.
    const next = await offerOf(otherToken)
    expect(next).toMatchObject({ contact_status: 'Skipped', contact_data: { contact_id: contact.id } })
    expect(next.id).not.toBe(first.offer.id)
    expect((await agent(first.token, 'GET', '/preview-offers')).body).toEqual([])
    const closed = await agent(otherToken, 'POST', `/preview-offers/${next.id}/skip-and-close`)
    expect(closed).toMatchObject({ status: 200, body: { status: 'closed', contact_status: 'Skipped & Closed' } })
    // Nothing left to dial or offer: the runner stops; the contact was never dialled nor offered a third time.
    await runnerStopped(x, campaign.id)
    expect(await contactRow(x, contact.id)).toMatchObject({ status: 'Skipped & Closed', attempts: 0, assigned_call_id: null })
    expect((await offersOf(x)).map((o) => o.result)).toEqual(['skipped', 'closed'])
    expect((await agent(a, 'GET', '/preview-offers')).body).toEqual([])
    expect((await agent(b, 'GET', '/preview-offers')).body).toEqual([])
    // The sweep does not start it again either.
    await t.services.dialer.sweep()
    expect((await t.store.db.selectFrom('cc_dialer_state').select('active').where('tenant_id', '=', x.tt.tenant.id).where('campaign_id', '=', campaign.id).executeTakeFirstOrThrow()).active).toBe(false)
  })

  it('an offer left alone lapses: the contact is back in the pool untouched, offered to another agent, and acting on the lapsed offer answers 409', async () => {
    const x = await tenant(2)
    const a = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Quick')
    const contact = await addContact(x, campaign.num, { name: 'Slow', phone_number: '+1 415-555-0145' })
    // Read from the table: under load the 2 s offer may lapse before the agent API is asked.
    const offer = await waitFor('the offer', async () => (await offersOf(x))[0], 60_000)
    await waitFor('the offer to lapse', async () => (await offersOf(x)).some((o) => o.id === offer.id && o.result === 'expired'), 60_000)
    expect(await contactRow(x, contact.id)).toMatchObject({ status: 'Upcoming', attempts: 0, assigned_call_id: null })
    expect(await agent(a, 'POST', `/preview-offers/${offer.id}/dial`)).toMatchObject({ status: 409, body: { code: 'preview_offer_closed', message: 'The offer has expired' } })
    // The agent who let it lapse is not offered it again for a while (repeat_after, default 10 minutes): another agent is.
    const b = await signIn(x, 1)
    const again = await offerOf(b)
    expect(again).toMatchObject({ contact_status: 'Upcoming', contact_data: { contact_id: contact.id } })
    expect((await agent(a, 'GET', '/preview-offers')).body).toEqual([])
    expect(new Set((await offersOf(x)).map((o) => o.agent_id)).size).toBe(2)
  })

  it('an agent who goes Unavailable has their open offer withdrawn: the contact goes to the next idle agent untouched; acting on it answers 409', async () => {
    const x = await tenant(2)
    const a = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Preview')
    const contact = await addContact(x, campaign.num, { name: 'Withdrawn', phone_number: '+1 415-555-0146' })
    const offer = await offerOf(a)
    expect((await agent(a, 'PUT', '/status', { status: 'Unavailable' })).status).toBe(200)
    await waitFor('the offer withdrawn', async () => (await offersOf(x)).some((o) => o.id === offer.id && o.result === 'withdrawn'), 60_000)
    expect(await contactRow(x, contact.id)).toMatchObject({ status: 'Upcoming', attempts: 0, assigned_call_id: null })
    expect(await agent(a, 'POST', `/preview-offers/${offer.id}/dial`)).toMatchObject({ status: 409, body: { code: 'preview_offer_closed', message: 'The offer was withdrawn: you were no longer available' } })
    const b = await signIn(x, 1)
    expect(await offerOf(b)).toMatchObject({ contact_status: 'Upcoming', contact_data: { contact_id: contact.id } })
  })

  it('the person answers and hangs up before the agent’s leg is up: Abandoned by Contact; not answered: Not Picked Up', async () => {
    // The agent's leg never answers here (the sandbox's agent phone is slow); the person's phone answers and hangs up.
    const x = await tenant(1, { agent_answer_after_ms: 600_000, hang_up_after_ms: 300 })
    const token = await signIn(x, 0)
    const campaign = await campaignOf(x, 'Preview')
    const contact = await addContact(x, campaign.num, { name: 'Gone', phone_number: SANDBOX_VOICE_NUMBERS.hangsUp })
    const offer = await offerOf(token)
    const dialled = await agent(token, 'POST', `/preview-offers/${offer.id}/dial`)
    expect(dialled.status, JSON.stringify(dialled.body)).toBe(200)
    await contactIn(x, campaign.num, contact.id, ['Abandoned by Contact'])
    const call = await t.store.db.selectFrom('cc_sessions').select(['status', 'fail_reason']).where('tenant_id', '=', x.tt.tenant.id).where('num', '=', dialled.body.call.id).executeTakeFirstOrThrow()
    expect(call).toEqual({ status: 'failed', fail_reason: 'abandoned' })
    // Released from the failed call, the agent is offered the next contact; this one does not answer.
    const noAnswer = await addContact(x, campaign.num, { name: 'Nobody', phone_number: SANDBOX_VOICE_NUMBERS.noAnswer })
    const next = await offerOf(token)
    expect(next.contact_data.contact_id).toBe(noAnswer.id)
    expect((await agent(token, 'POST', `/preview-offers/${next.id}/dial`)).status).toBe(200)
    await contactIn(x, campaign.num, noAnswer.id, ['Not Picked Up'])
    expect(await contactRow(x, contact.id)).toMatchObject({ status: 'Abandoned by Contact', attempts: 1 })
  })

  it('two job workers and extra rounds racing: each contact is offered to one agent at a time, each agent holds one offer', async () => {
    const x = await tenant(4)
    const campaign = await campaignOf(x, 'Preview')
    for (let i = 0; i < 8; i++) await addContact(x, campaign.num, { name: `Race ${i}`, phone_number: `+1 415-555-02${String(i).padStart(2, '0')}` })
    // A second process's services over the same database and job schema, working too.
    second = createServices(t.config, t.store, { jobs: { schema: SCHEMA }, dialer: { roundMs: 250 } })
    await second.jobs.start()
    await second.jobs.work({ pollingIntervalSeconds: 0.5 })
    const tokens = await Promise.all([0, 1, 2, 3].map((i) => signIn(x, i)))
    // Meanwhile both processes start runners and run the current round at once, again and again.
    for (let i = 0; i < 10; i++) {
      const state = await t.store.db.selectFrom('cc_dialer_state').select('round').where('tenant_id', '=', x.tt.tenant.id).where('campaign_id', '=', campaign.id).executeTakeFirst()
      await Promise.all([
        t.services.dialer.ensure(x.tt.tenant.id, campaign.id), second.dialer.ensure(x.tt.tenant.id, campaign.id),
        ...(state ? [t.services.dialer.round(x.tt.tenant.id, campaign.id, state.round), second.dialer.round(x.tt.tenant.id, campaign.id, state.round)] : []),
        t.services.dialer.sweep(), second.dialer.sweep(),
      ])
    }
    const offers = await waitFor('every agent offered a contact', async () => {
      const open = await Promise.all(tokens.map(async (tk) => (await agent(tk, 'GET', '/preview-offers')).body as Json[]))
      return open.every((o) => o.length === 1) ? open.map((o) => o[0]) : undefined
    }, 60_000)
    // Four different contacts, the first four in dialling order; no contact offered twice.
    expect(new Set(offers.map((o: Json) => o.contact_data.contact_id)).size).toBe(4)
    const rows = await offersOf(x)
    expect(rows).toHaveLength(4)
    expect(new Set(rows.map((r) => r.contact)).size).toBe(4)
    expect(rows.every((r) => r.result === 'open')).toBe(true)
  })
})
