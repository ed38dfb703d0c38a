import { afterAll, beforeAll, expect, it } from 'vitest'
import { endUserNum } from '../../../test/factories/end-users.ts'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { operations, type Op } from '../../../test/helpers/openapi-ops.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Tenant isolation across every operation of the Apps API and the agent API, from their OpenAPI
// documents: tenant A has one of everything (an end user, a chat an agent accepted, messages, an
// offer, a transfer attempt, a customer flag and custom data); tenant B, with a contact center of
// its own, calls every operation with A's ids. A's ids must be indistinguishable from ids that exist
// nowhere (same status, same body), nothing of A may show in any answer B gets (lists included),
// and A's data is unchanged afterwards.
let t: TestApp
let a: TestTenant
let b: TestTenant
let aAgent: string
let bAgent: string
const ids = { chat: 0, endUser: 0, offer: '', campaign: 0, contact: 0, importJob: 0, call: 0, previewOffer: '' }
const MARKERS = ['iso-visitor-of-a', 'iso-secret-message-of-a', 'ann.isolation@a.example', 'Isolation-Team-A', 'Isolation-Menu-A', 'iso-custom-a', 'iso-contact-of-a', 'iso-import-of-a', 'iso-call-custom-a']
const NOWHERE = { chat: 987_654, endUser: 987_653, offer: '00000000-0000-4000-8000-00000000abcd', campaign: 987_652, contact: 987_651, importJob: 987_650, call: 987_649, previewOffer: '00000000-0000-4000-8000-00000000abce' }
const SKIP = new Set(['POST /agent/v1/logout', 'GET /agent/v1/events'])

const setup = (team: string, menu: string, email: string) => `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: ${team} }, { name: Spare }]
agents:
  - { email: ${email}, first_name: Ann, last_name: A, teams: [${team}], chat_capacity: 5, password: "isolation-pass-1" }
  - { email: spare.${email}, first_name: Sam, last_name: S, teams: [Spare], password: "isolation-pass-1" }
menus: [{ name: Site, type: web, children: [{ name: ${menu}, channels: [chat], teams: [${team}] }] }]
`
// Tenant A also runs an outbound campaign (B has none, so A's campaign id names nothing in B).
const CAMPAIGN_SETUP = `
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns: [{ name: Iso-Campaign, caller_id: "+16285550199", queue: "Phone / Calls" }]
`

async function login(tt: TestTenant, email: string): Promise<string> {
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email, password: 'isolation-pass-1', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  return `Bearer ${(JSON.parse(r.body) as { token: string }).token}`
}

function call(method: string, url: string, auth: string, body?: unknown) {
  return t.app.inject({
    method: method as 'GET', url, headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}

/** What A looks like from its own side: compared before and after B's calls. */
async function aState() {
  const chat = JSON.parse((await call('GET', `/apps/api/v1/chats/${ids.chat}`, a.ccaiAuth)).body) as Record<string, unknown>
  const messages = (await call('GET', `/agent/v1/chats/${ids.chat}/messages`, aAgent)).body
  const flag = (await call('GET', `/apps/api/v1/chats/${ids.chat}/customer_flag`, a.ccaiAuth)).body
  const contacts = (await call('GET', `/apps/api/v1/outbound_dialer/campaigns/${ids.campaign}/contacts`, a.ccaiAuth)).body
  const callFlag = (await call('GET', `/apps/api/v1/calls/${ids.call}/customer_flag`, a.ccaiAuth)).body
  const aCall = await t.services.calls.get(a.tenant.id, ids.call)
  const previewOffers = (await call('GET', '/agent/v1/preview-offers', aAgent)).body
  return { previewOffers, status: chat.status, agent: chat.agent_info, custom: chat.custom_data, messages, flag, contacts, callFlag, callCustom: aCall.customData, callEndUser: aCall.endUser }
}

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.ccSetup.load(a.tenant.id, setup('Isolation-Team-A', 'Isolation-Menu-A', 'ann.isolation@a.example').replace(/\]\n$/, ', { name: Phone, type: ivr, children: [{ name: Calls, channels: [call], teams: [Isolation-Team-A] }] }]\n') + CAMPAIGN_SETUP, 'yaml')
  await t.services.ccSetup.load(b.tenant.id, setup('Desk', 'Help', 'bea@b.example'), 'yaml')
  aAgent = await login(a, 'ann.isolation@a.example')
  bAgent = await login(b, 'bea@b.example')
  // B has an end user and nothing else: its own ids never coincide with A's chat.
  await endUserNum(t.services, b.tenant.id, 'of-b')

  ids.endUser = (await t.services.endUsers.upsert(a.tenant.id, { identifier: 'iso-visitor-of-a', name: 'Iso Visitor' })).num
  expect((await call('PUT', '/agent/v1/status', aAgent, { status: 'Available' })).statusCode).toBe(200)
  const started = await call('POST', '/apps/api/v1/chats', a.ccaiAuth, { chat: { menu_id: 2, end_user_id: ids.endUser } })
  expect(started.statusCode, started.body).toBe(201)
  ids.chat = (JSON.parse(started.body) as { id: number }).id
  // Routing offers it to Ann after the start commits.
  const offer = await waitFor('the offer to Ann', () => t.store.db.selectFrom('cc_offers').select('id').where('tenant_id', '=', a.tenant.id).where('result', '=', 'pending').executeTakeFirst())
  ids.offer = offer.id
  expect((await call('POST', `/agent/v1/offers/${ids.offer}/accept`, aAgent)).statusCode).toBe(200)
  expect((await call('POST', `/apps/api/v1/chats/${ids.chat}/message`, a.ccaiAuth, { from_user_id: ids.endUser, message: { type: 'text', content: 'iso-secret-message-of-a' } })).statusCode).toBe(201)
  expect((await call('POST', `/agent/v1/chats/${ids.chat}/messages`, aAgent, { content: 'answer to iso-secret-message-of-a' })).statusCode).toBe(201)
  expect((await call('PUT', `/apps/api/v1/chats/${ids.chat}/customer_flag`, a.ccaiAuth, { bad_actor: true })).statusCode).toBe(200)
  ids.campaign = (await t.services.campaigns.list(a.tenant.id))[0]!.num
  ids.contact = (await t.services.campaigns.addContact(a.tenant.id, ids.campaign, { phone: '+14155550177', name: 'iso-contact-of-a' })).num
  ids.importJob = (await t.services.campaigns.startImport(a.tenant.id, ids.campaign, { filename: 'iso-import-of-a.csv', bytes: Buffer.from('name,phone_number\nx,+14155550178\n') })).num
  expect((await call('POST', `/apps/api/v1/chats/${ids.chat}/custom_data`, a.ccaiAuth, { signed: false, data: { note: { label: 'Note', value: 'iso-custom-a' } } })).statusCode).toBe(200)
  // A call (issue 12): incoming on A's IVR queue, with custom data and a flag.
  const placed = await call('POST', '/apps/api/v1/calls', a.ccaiAuth, { call_type: 'Voice Inbound (API)', menu_id: 4, end_user_number: '+14155550166' })
  expect(placed.statusCode, placed.body).toBe(201)
  ids.call = (JSON.parse(placed.body) as { id: number }).id
  expect((await call('POST', `/apps/api/v1/calls/${ids.call}/custom_data`, a.ccaiAuth, { signed: false, data: { note: { label: 'Note', value: 'iso-call-custom-a' } } })).statusCode).toBe(200)
  expect((await call('PATCH', `/apps/api/v1/calls/${ids.call}/customer_flag`, a.ccaiAuth, { repeat_customer: true })).statusCode).toBe(200)
  // The dialer's preview mode: A's contact on offer to Ann (as a preview round leaves it), and a dial
  // of the campaign (the dialer's row of A's call).
  const contactRow = await t.store.db.selectFrom('cc_campaign_contacts').select(['id', 'campaign_id']).where('tenant_id', '=', a.tenant.id).where('num', '=', ids.contact).executeTakeFirstOrThrow()
  const ann = await t.store.db.selectFrom('cc_agents').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'ann.isolation@a.example').executeTakeFirstOrThrow()
  ids.previewOffer = (await t.store.db.insertInto('cc_preview_offers').values({ tenant_id: a.tenant.id, campaign_id: contactRow.campaign_id, contact_id: contactRow.id, agent_id: ann.id, expires_at: new Date(Date.now() + 3_600_000) })
    .returning('id').executeTakeFirstOrThrow()).id
  const aSession = await t.store.db.selectFrom('cc_sessions').select('id').where('tenant_id', '=', a.tenant.id).where('num', '=', ids.call).executeTakeFirstOrThrow()
  await t.store.db.insertInto('cc_dialer_calls').values({ tenant_id: a.tenant.id, session_id: aSession.id, campaign_id: contactRow.campaign_id, contact_id: contactRow.id }).execute()
})
afterAll(async () => t?.close())

/** The path with `which`'s ids: A's, or ids that exist nowhere. */
function pathWith(op: Op, which: typeof ids | typeof NOWHERE): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (op.path.startsWith('/agent/v1/offers/')) return which.offer
    if (op.path.startsWith('/agent/v1/preview-offers/')) return which.previewOffer
    // Calls (issue 12): their paths, and the comm type of C5/H18, name A's call.
    if (name === 'comm_type') return 'calls'
    if (op.path.startsWith('/apps/api/v1/calls/') || op.path.startsWith('/agent/v1/calls/') || op.path.startsWith('/apps/api/v1/{comm_type}/')) return String(which.call)
    if (name === 'media_id' || name === 'escalation_id') return '1'
    if (name === 'campaign_id') return String(which.campaign)
    if (name === 'job_id') return String(which.importJob)
    if (op.path.includes('/force_logout/')) return '1'
    return String(which.chat)
  })
}

/** A plausible body, the same for both calls (so any difference comes from the ids alone). */
const BODY: Record<string, unknown> = {
  from_user_id: 1, message: { type: 'text', content: 'from b' }, content: 'from b', status: 'Available', agent_id: 1, menu_id: 2,
  disposition: 'done', bad_actor: true, signed: false, data: { k: { value: 'v' } }, photo: [{ s3_path: 'x' }], video: { s3_path: 'x' },
  deflection_channel: 'stay', escalation_id: 1, reason: 'r', force_escalate: true, phone_number: '+14155550179', name: 'from b',
}

it('another tenant’s ids answer as ids that exist nowhere, on every operation, and leave its data alone', async () => {
  const ops = [...await operations(t.app, 'ccai', '/apps/api/v1', SKIP), ...await operations(t.app, 'agent', '/agent/v1', SKIP)]
  const withIds = ops.filter((op) => op.path.includes('{'))
  let campaignOps = 0
  let previewOps = 0
  expect(withIds.length).toBeGreaterThan(15)
  const before = await aState()
  for (const op of withIds) {
    const auth = op.path.startsWith('/agent') ? bAgent : b.ccaiAuth
    const body = op.method === 'GET' ? undefined : Object.fromEntries(op.fields.filter((f) => f in BODY).map((f) => [f, BODY[f]]))
    // A contact is named in the body (K6/K7): A's contact, or one that exists nowhere.
    const withContact = (which: typeof ids | typeof NOWHERE) => (body && op.fields.includes('contact_id') ? { ...body, contact_id: which.contact } : body)
    const nowhere = await call(op.method, pathWith(op, NOWHERE), auth, withContact(NOWHERE))
    const theirs = await call(op.method, pathWith(op, ids), auth, withContact(ids))
    const what = `${op.method} ${op.path}`
    expect(theirs.statusCode, `${what} → ${theirs.body.slice(0, 200)}`).toBe(nowhere.statusCode)
    expect(theirs.statusCode, what).toBeGreaterThanOrEqual(400)
    expect(theirs.body.replaceAll(String(ids.chat), '#').replaceAll(String(ids.call), '#').replaceAll(ids.offer, '#').replaceAll(ids.previewOffer, '#'), what)
      .toBe(nowhere.body.replaceAll(String(NOWHERE.chat), '#').replaceAll(String(NOWHERE.call), '#').replaceAll(NOWHERE.offer, '#').replaceAll(NOWHERE.previewOffer, '#'))
    if (op.path.includes('campaigns')) campaignOps++
    if (op.path.includes('preview-offers')) previewOps++
    for (const m of MARKERS) expect(theirs.body, what).not.toContain(m)
  }
  expect(await aState()).toEqual(before)
  // A's preview offer is still A's, open, and took part (its dial, skip and skip-and-close).
  expect(before.previewOffers).toContain('iso-contact-of-a')
  expect(previewOps).toBe(3)
  expect(await t.store.db.selectFrom('cc_preview_offers').select('result').where('id', '=', ids.previewOffer).executeTakeFirstOrThrow()).toEqual({ result: 'open' })
  expect(await t.store.db.selectFrom('cc_dialer_calls').select('tenant_id').where('tenant_id', 'in', [a.tenant.id, b.tenant.id]).execute()).toEqual([{ tenant_id: a.tenant.id }])
  // Campaigns, their contacts and import jobs took part (K1-K7).
  expect(campaignOps).toBe(7)
  expect(before.contacts).toContain('iso-contact-of-a')
})

it('no list or status answer of another tenant shows anything of this one', async () => {
  const ops = [...await operations(t.app, 'ccai', '/apps/api/v1', SKIP), ...await operations(t.app, 'agent', '/agent/v1', SKIP)]
  const gets = ops.filter((op) => op.method === 'GET' && !op.path.includes('{'))
  expect(gets.map((op) => op.path)).toEqual(expect.arrayContaining(['/apps/api/v1/end_users', '/apps/api/v1/users', '/agent/v1/chats']))
  for (const op of gets) {
    const r = await call('GET', op.path, op.path.startsWith('/agent') ? bAgent : b.ccaiAuth)
    for (const m of MARKERS) expect(r.body, `GET ${op.path}`).not.toContain(m)
  }
  // E2 looks up by identifier (A's answers as an unknown one) or by id (ids are per tenant: B's own
  // end user 1, never A's).
  const byIdentifier = await call('GET', '/apps/api/v1/end_users?identifier=iso-visitor-of-a', b.ccaiAuth)
  const nobody = await call('GET', '/apps/api/v1/end_users?identifier=nobody-anywhere', b.ccaiAuth)
  expect([byIdentifier.statusCode, byIdentifier.body]).toEqual([nobody.statusCode, nobody.body])
  expect(byIdentifier.statusCode).toBe(404)
  const byId = await call('GET', `/apps/api/v1/end_users?id=${ids.endUser}`, b.ccaiAuth)
  for (const m of MARKERS) expect(byId.body).not.toContain(m)
  // …while A's own answers do show them (the markers are real).
  const mine = (await call('GET', '/apps/api/v1/end_users?identifier=iso-visitor-of-a', a.ccaiAuth)).body + (await call('GET', '/apps/api/v1/users', a.ccaiAuth)).body
  expect(mine).toContain('iso-visitor-of-a')
  expect(mine).toContain('ann.isolation@a.example')
})

it('the company DNC list is per tenant: another tenant neither sees, removes nor changes this one’s entries', async () => {
  const phone = '+14155550142'
  const dnc = '/apps/api/v1/outbound_dialer/dnc'
  expect(JSON.parse((await call('POST', dnc, a.ccaiAuth, { contacts: [{ phone_number: phone, expires_at: '2099-01-01 00:00:00 UTC' }] })).body)).toEqual([{ phone_number: phone, expires_at: '2099-01-01 00:00:00 UTC', status: 'created' }])
  const aCheck = (await call('GET', `${dnc}/check?phone_number=${encodeURIComponent(phone)}`, a.ccaiAuth)).body
  expect(JSON.parse(aCheck)).toEqual({ phone_number: phone, dnc: true, expires_at: '2099-01-01 00:00:00 UTC' })

  // B: A's number answers as a number nobody listed.
  expect(JSON.parse((await call('GET', `${dnc}/check?phone_number=${encodeURIComponent(phone)}`, b.ccaiAuth)).body)).toEqual({ phone_number: phone, dnc: false, expires_at: null })
  expect(JSON.parse((await call('POST', `${dnc}/remove`, b.ccaiAuth, { phone_numbers: [phone] })).body)).toEqual([{ phone_number: phone, status: 'failed', error: 'phone_number is not found' }])
  expect(JSON.parse((await call('DELETE', `${dnc}/remove`, b.ccaiAuth, { phone_numbers: [phone] })).body)).toEqual([{ phone_number: phone, status: 'failed', error: 'phone_number is not found' }])
  // B listing the same number is B's own entry ("created"), and changes nothing of A's.
  expect(JSON.parse((await call('POST', dnc, b.ccaiAuth, { contacts: [{ phone_number: phone }] })).body)).toEqual([{ phone_number: phone, status: 'created' }])
  expect((await call('GET', `${dnc}/check?phone_number=${encodeURIComponent(phone)}`, a.ccaiAuth)).body).toBe(aCheck)
  expect(await t.services.suppression.isSuppressed(b.tenant, 'sms', phone)).toMatchObject({ tenantId: b.tenant.id })
  expect((await t.services.suppression.list(a.tenant)).map((s) => [s.address, s.expiresAt?.toISOString()])).toEqual([[phone, '2099-01-01T00:00:00.000Z']])
})

it('CRM tickets are per tenant: another tenant’s admin API answers A’s ticket as one that exists nowhere, and the CRM adapter finds nothing of A’s for B', async () => {
  const admin = (tt: TestTenant, method: string, url: string, body?: unknown) => call(method, `/admin${url}`, tt.cassAuth, body)
  const created = await admin(a, 'POST', '/tickets', { ticket_id: 'ISO-TICKET-A', subject: 'iso-ticket-subject-a', contact: { name: 'iso-ticket-contact-a', phone: '+14155550143', email: 'iso.ticket@a.example' } })
  expect(created.statusCode, created.body).toBe(201)
  const aTicket = (await admin(a, 'GET', '/tickets/ISO-TICKET-A')).body
  const markers = ['ISO-TICKET-A', 'iso-ticket-subject-a', 'iso-ticket-contact-a', 'iso.ticket@a.example']
  for (const [method, body] of [['GET', undefined], ['PATCH', { subject: 'taken over' }], ['DELETE', undefined]] as const) {
    const theirs = await admin(b, method, '/tickets/ISO-TICKET-A', body)
    const nowhere = await admin(b, method, '/tickets/ISO-TICKET-NOWHERE', body)
    expect([theirs.statusCode, theirs.body.replaceAll('ISO-TICKET-A', '#')], method).toEqual([nowhere.statusCode, nowhere.body.replaceAll('ISO-TICKET-NOWHERE', '#')])
    expect(theirs.statusCode).toBe(404)
  }
  const list = (await admin(b, 'GET', '/tickets')).body
  for (const m of markers) expect(list).not.toContain(m)
  // The CRM adapter calls resolve ticket_id through finds nothing of A's for B.
  expect(await t.services.crmTickets.findTicket(b.tenant.id, 'ISO-TICKET-A')).toBeUndefined()
  expect((await admin(a, 'GET', '/tickets/ISO-TICKET-A')).body).toBe(aTicket)
})
