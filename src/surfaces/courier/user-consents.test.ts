import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// User consents (#115–#117) over HTTP, each documented sample a contract test, and the SMS opt-in
// conversation driven by inbound SMS through the sandbox (POST /sandbox/api/inbound): the initial
// message at the sandbox's outbox, then yes (in the recipient's language) → accepted + the accept
// message; anything else → the invalid-response message, still pending; no → declined and a
// consent_withdrawn entry of the suppression list; STOP → declined, the keyword handler's
// stop_keyword entry and confirmation. The tenant's sms_consent_required setting holds a
// multicast's SMS back (consent_required) until the number's consent is accepted.

let t: TestApp
let a: TestTenant
let b: TestTenant
const { call, ok } = courierClient(() => t, { validate: true })
const org = (tt: TestTenant) => tt.credentials.courier.organization_id
const MESSAGES = { initial: 'Reply YES to get care texts', accept: 'Thanks, you are in', 'invalid-response': 'Please answer YES or NO' }
const SAMPLE_KEYS = ['args', 'created-at', 'last-modified-at', 'organization-id', 'state', 'target-id', 'type', 'user-id']

const sandbox = async (tt: TestTenant, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) => {
  const r = await t.app.inject({ method, url, headers: { authorization: tt.cassAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) })
  expect(r.statusCode, `${method} ${url} ${r.body}`).toBeLessThan(300)
  return JSON.parse(r.body) as Json
}
/** The sandbox's outbox messages to a phone, oldest first. */
const outboxTo = async (tt: TestTenant, phone: string): Promise<Json[]> => ((await sandbox(tt, 'GET', '/sandbox/api/outbox?limit=200')).data as Json[]).filter((m) => m.to === phone).reverse()
/** The person answers by SMS through the sandbox; waits until every inbound handler has run. */
async function answer(tt: TestTenant, phone: string, body: string): Promise<void> {
  const m = (await sandbox(tt, 'POST', '/sandbox/api/inbound', { channel: 'sms', from: phone, body })).data as Json
  await waitFor(`"${body}" handled`, async () => ((await sandbox(tt, 'GET', '/sandbox/api/inbound?limit=200')).data as Json[]).find((x) => x.id === m.id)?.status === 'processed', 30_000)
}
/** A user with this phone (and the individual it is), imported into the tenant's directory; the user's id. */
async function user(tt: TestTenant, opts: { phone?: string; locale?: string; sms?: boolean } = {}): Promise<string> {
  const n = Math.random().toString(36).slice(2, 10)
  const phone = opts.phone ? `, phone: "${opts.phone}"` : ''
  await t.services.directory.import(tt.tenant, { format: 'yaml', text: `individuals:
  - { external_id: ind-${n}, first_name: Cora, last_name: Sent${phone} }
users:
  - { email: u-${n}@consents.example, first_name: Cora, last_name: Sent, individual: ind-${n}${phone}${opts.locale ? `, locale: ${opts.locale}` : ''}${opts.sms ? ', notifications: [sms]' : ''} }
` })
  return (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', tt.tenant.id).where('email', '=', `u-${n}@consents.example`).executeTakeFirstOrThrow()).id
}
const create = (tt: TestTenant, userId: string, attributes: Json = {}) => ({
  data: { type: 'user-consents', attributes: { args: { messages: MESSAGES }, 'organization-id': org(tt), type: 'sms', 'user-id': userId, ...attributes } }, meta: {},
})
const state = async (tt: TestTenant, id: string) => (await ok(tt, 'GET', `/v1/user-consents/${id}/`)).data.attributes.state as string
const written = async (tt: TestTenant) => {
  const q = (table: 'msg_user_consents' | 'outbox_messages' | 'suppressions') => t.store.db.selectFrom(table).select(sql<string>`count(*)`.as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  return [Number((await q('msg_user_consents')).n), Number((await q('outbox_messages')).n), Number((await q('suppressions')).n)]
}

beforeAll(async () => {
  t = await startTestApp({ workers: true, services: { sendRetry: { retryDelaySeconds: 1, retryLimit: 3 } } })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
})
afterAll(async () => t?.close())

describe('#116 → #117 → #115 user consents', () => {
  it('creates a consent (the sample), sends the initial message, reads it and lists it with filters and paging', async () => {
    const phone = uniquePhone()
    const u = await user(a, { phone })
    const created = await ok(a, 'POST', '/v1/user-consents/', create(a, u))
    expect(created.data.type).toBe('user-consents')
    expect(Object.keys(created.data.attributes).sort()).toEqual(SAMPLE_KEYS)
    expect(created.data.attributes).toMatchObject({ args: { messages: MESSAGES }, 'organization-id': org(a), state: 'pending', 'target-id': phone, type: 'sms', 'user-id': u })
    const sent = await waitFor('the initial message at the sandbox', async () => (await outboxTo(a, phone)).find((m) => m.status === 'sent'), 30_000)
    expect(sent).toMatchObject({ channel: 'sms', body: MESSAGES.initial })

    const read = await ok(a, 'GET', `/v1/user-consents/${created.data.id}/`)
    expect(read.data).toEqual(created.data)
    const other = await user(a, { phone: uniquePhone() })
    await ok(a, 'POST', '/v1/user-consents/', create(a, other))
    const mine = await ok(a, 'GET', `/v1/user-consents/?filter[user-id]=${u}`)
    expect(mine.data.map((d: Json) => d.id)).toEqual([created.data.id])
    const page = await ok(a, 'GET', `/v1/user-consents/?filter[organization-id]=${org(a)}&page[limit]=1&page[offset]=1`)
    expect(page.data).toHaveLength(1)
    expect(page.meta).toEqual({ 'page[limit]': 1, 'page[offset]': 1, 'page[total]': 2 })
    expect((await ok(a, 'GET', '/v1/user-consents/?filter[user-id]=not-a-uuid')).data).toEqual([])
    // Another tenant sees none of it.
    expectJsonApiError(await call(b, 'GET', `/v1/user-consents/${created.data.id}/`), 404)
    expect((await ok(b, 'GET', '/v1/user-consents/')).data).toEqual([])
    expectJsonApiError(await call(b, 'GET', `/v1/user-consents/?filter[organization-id]=${org(a)}`), 404, { parameter: 'filter[organization-id]' })
  })

  it('refuses bad requests with the documented error and writes nothing', async () => {
    const noPhone = await user(a)
    const withPhone = await user(a, { phone: uniquePhone() })
    const before = await written(a)
    const refused = async (body: Json, status: number, where?: { pointer: string }) => expectJsonApiError(await call(a, 'POST', '/v1/user-consents/', body), status, where)
    expect((await refused(create(a, noPhone), 400, { pointer: '/data/attributes/user-id' })).code).toBe('user_without_phone')
    await refused(create(a, '00000000-0000-4000-8000-000000000001'), 404, { pointer: '/data/attributes/user-id' })
    await refused(create(a, withPhone, { 'organization-id': '00000000-0000-4000-8000-000000000002' }), 404, { pointer: '/data/attributes/organization-id' })
    await refused(create(a, withPhone, { type: 'email' }), 400)
    await refused(create(a, withPhone, { args: { messages: { initial: 'hi' } } }), 400)
    await refused(create(a, withPhone, { args: { messages: { ...MESSAGES, initial: '' } } }), 400)
    await refused(create(a, withPhone, { args: { messages: { ...MESSAGES, accept: 'x'.repeat(641) } } }), 400)
    await refused({ data: { type: 'user-emails', attributes: create(a, withPhone).data.attributes } }, 409)
    expect(await written(a)).toEqual(before)
    // A phone on the suppression list for SMS is not asked.
    const blocked = uniquePhone()
    const u = await user(a, { phone: blocked })
    await t.services.suppression.add(a.tenant, { scope: 'sms', address: blocked, reason: 'dnc', source: 'test' })
    const mid = await written(a)
    expect((await refused(create(a, u), 409, { pointer: '/data/attributes/user-id' })).code).toBe('consent_target_suppressed')
    expect(await written(a)).toEqual(mid)
  })
})

describe('the opt-in conversation, by inbound SMS through the sandbox', () => {
  it('an unclear answer gets the invalid-response message and stays pending; "Sí" in Spanish accepts it with the accept message', async () => {
    const phone = uniquePhone()
    const id = (await ok(a, 'POST', '/v1/user-consents/', create(a, await user(a, { phone, locale: 'es-US' })))).data.id as string
    await answer(a, phone, 'maybe later')
    expect(await state(a, id)).toBe('pending')
    await waitFor('the invalid-response message', async () => (await outboxTo(a, phone)).some((m) => m.body === MESSAGES['invalid-response']), 30_000)
    await answer(a, phone, 'Sí')
    expect(await state(a, id)).toBe('accepted')
    const bodies = await waitFor('the accept message', async () => {
      const all = (await outboxTo(a, phone)).map((m) => m.body)
      return all.includes(MESSAGES.accept) ? all : undefined
    }, 30_000)
    expect(bodies).toEqual([MESSAGES.initial, MESSAGES['invalid-response'], MESSAGES.accept])
    // Answered: a later "yes" is an ordinary message again (no second accept).
    await answer(a, phone, 'yes')
    expect((await outboxTo(a, phone)).filter((m) => m.body === MESSAGES.accept)).toHaveLength(1)
  })

  it('"nope" declines it and puts the number on the suppression list (consent_withdrawn), which later SMS honour', async () => {
    const phone = uniquePhone()
    const id = (await ok(a, 'POST', '/v1/user-consents/', create(a, await user(a, { phone })))).data.id as string
    await answer(a, phone, 'Nope.')
    expect(await state(a, id)).toBe('declined')
    const entries = (await sandbox(a, 'GET', `/admin/suppressions?address=${encodeURIComponent(phone)}`)).data as Json[]
    expect(entries).toEqual([expect.objectContaining({ scope: 'sms', address: phone, reason: 'consent_withdrawn', source: `user-consent:${id}` })])
    const later = (await sandbox(a, 'POST', '/sandbox/api/outbox', { channel: 'sms', to: phone, body: 'a campaign text' })).data as Json
    expect(later).toMatchObject({ status: 'suppressed', suppressed_reason: 'consent_withdrawn' })
  })

  it('STOP declines it; the carrier-keyword handler records stop_keyword and confirms', async () => {
    const phone = uniquePhone()
    const id = (await ok(a, 'POST', '/v1/user-consents/', create(a, await user(a, { phone })))).data.id as string
    await answer(a, phone, 'STOP')
    expect(await state(a, id)).toBe('declined')
    const entries = (await sandbox(a, 'GET', `/admin/suppressions?address=${encodeURIComponent(phone)}`)).data as Json[]
    expect(entries.map((e) => e.reason)).toEqual(['stop_keyword'])
    await waitFor('the STOP confirmation', async () => (await outboxTo(a, phone)).some((m) => /unsubscribed/.test(String(m.body))), 30_000)
  })

  it('answers reach the consent of their own tenant only', async () => {
    const phone = uniquePhone()
    const id = (await ok(a, 'POST', '/v1/user-consents/', create(a, await user(a, { phone })))).data.id as string
    await answer(b, phone, 'yes')
    expect(await state(a, id)).toBe('pending')
  })
})

describe('sms_consent_required (admin /settings)', () => {
  it('holds a multicast\'s SMS back until the number\'s consent is accepted', async () => {
    const tt = await createTenant(t.services)
    await t.services.templates.load(tt.tenant, 'templates:\n  promo:\n    sms: "Flu shots this week"\n', 'yaml')
    const settings = await sandbox(tt, 'PATCH', '/admin/settings', { sms_consent_required: true })
    expect(settings.data).toMatchObject({ sms_consent_required: true })
    expect((await sandbox(tt, 'GET', '/admin/settings')).data).toMatchObject({ sms_consent_required: true })
    const phone = uniquePhone()
    const u = await user(tt, { phone, sms: true })
    const individual = (await t.store.db.selectFrom('msg_users as u').innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'u.person_id').on('i.surface', '=', 'cass'))
      .select('i.public_id').where('u.id', '=', u).executeTakeFirstOrThrow()).public_id
    const multicast = async () => {
      const res = await call(tt, 'POST', '/v1/user-multicasts/', { 'template-id': 'promo', 'template-data': {}, 'individual-ids': [individual], 'organization-id': org(tt) })
      expect(res.statusCode, res.body).toBe(201)
      const r = JSON.parse(res.body) as Json
      await waitFor('the multicast sent', async () => (await ok(tt, 'GET', `/v1/multicasts/${r['task-id'] as string}/`)).data.attributes.status === 'sent', 30_000)
    }
    await multicast()
    expect((await outboxTo(tt, phone)).map((m) => [m.body, m.status, m.suppressed_reason])).toEqual([['Flu shots this week', 'suppressed', 'consent_required']])
    // The consent conversation itself is transactional: it goes out, and the "yes" opens the number.
    await ok(tt, 'POST', '/v1/user-consents/', create(tt, u))
    await answer(tt, phone, 'ok')
    await multicast()
    const last = await waitFor('the second multicast SMS sent', async () => (await outboxTo(tt, phone)).filter((m) => m.body === 'Flu shots this week' && m.status === 'sent')[0], 30_000)
    expect(last.suppressed_reason).toBeNull()
    // Off again: nothing is held back (a refusal of a bad value changes nothing).
    const bad = await t.app.inject({ method: 'PATCH', url: '/admin/settings', headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ sms_consent_required: 'perhaps' }) })
    expect(bad.statusCode).toBe(400)
    expect((await sandbox(tt, 'GET', '/admin/settings')).data).toMatchObject({ sms_consent_required: true })
  })
})

describe('a user token', () => {
  it('asks for and sees its own consent only', async () => {
    const phone = uniquePhone()
    const mineId = await user(a, { phone })
    const email = (await t.store.db.selectFrom('msg_users').select('email').where('id', '=', mineId).executeTakeFirstOrThrow()).email
    const { token } = await t.services.directory.issueUserToken(a.tenant, email)
    const otherUser = await user(a, { phone: uniquePhone() })
    const before = await written(a)
    expect(expectJsonApiError(await call(token, 'POST', '/v1/user-consents/', create(a, otherUser)), 403, { pointer: '/data/attributes/user-id' }).code).toBe('not_your_individual')
    expect(await written(a)).toEqual(before)
    const own = await ok(token, 'POST', '/v1/user-consents/', create(a, mineId))
    const orgs = await ok(a, 'POST', '/v1/user-consents/', create(a, otherUser))
    expect((await ok(token, 'GET', '/v1/user-consents/')).data.map((d: Json) => d.id)).toEqual([own.data.id])
    expectJsonApiError(await call(token, 'GET', `/v1/user-consents/${orgs.data.id as string}/`), 404)
  })
})
