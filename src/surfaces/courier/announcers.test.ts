import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { verifyWebhook } from '../../core/outbound-webhooks/index.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'

// Announcers (#2–#5) and aggregation requests (#1) over HTTP, with the job workers running: the
// documented sample requests as contract tests ("string" placeholders replaced by real values), an
// announcer's signed webhooks arriving at a local receiver when a message is posted and when an
// individual is shared a channel, the secret never served in clear, aggregation results computed
// by the job, bad input refused at the member at fault with nothing written, user tokens kept out,
// and another tenant's ids answering 404. Every document is checked against JSON:API 1.0.
const SECRET = 'announcer-secret-0123456789'
let t: TestApp
let receiver: WebhookReceiver
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let patient: string
let patient2: string
let clinician: string
let userToken: string

const DIRECTORY = (suffix: string) => `
individuals:
  - { external_id: p1, first_name: Lucia, last_name: Romero }
  - { external_id: p2, first_name: Jonas, last_name: Berg }
  - { external_id: c1, first_name: Grace, last_name: Okafor, account_type: clinician }
users:
  - { email: grace${suffix}@example.com, first_name: Grace, last_name: Okafor, individual: c1 }
`

beforeAll(async () => {
  t = await startTestApp({ workers: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
  receiver = await startWebhookReceiver([SECRET])
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.directory.import(a.tenant, { format: 'yaml', text: DIRECTORY('a') })
  await t.services.directory.import(b.tenant, { format: 'yaml', text: DIRECTORY('b') })
  const cass = async (ext: string) => (await t.services.people.getByExternalId(a.tenant, ext)).cassId
  ;[patient, patient2, clinician] = [await cass('p1'), await cass('p2'), await cass('c1')]
  userToken = (await t.services.directory.issueUserToken(a.tenant, 'gracea@example.com')).token
}, 60_000)
afterAll(async () => {
  await receiver?.close()
  await t?.close()
})

const org = (tt: TestTenant) => tt.credentials.courier.organization_id
const { call, ok } = courierClient(() => t, { validate: true })
async function counts(tt: TestTenant) {
  const n = async (table: 'msg_announcers' | 'msg_aggregation_requests' | 'outbound_webhooks') =>
    Number((await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).n)
  const changed = await t.store.db.selectFrom('msg_announcers').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  return { announcers: await n('msg_announcers'), aggregations: await n('msg_aggregation_requests'), webhooks: await n('outbound_webhooks'), at: String(changed.at) }
}
const hook = (path: string) => `${receiver.url}${path}`
const announcerBody = (tt: TestTenant, over: Json = {}) => ({
  data: { attributes: { args: { url: hook('/announce'), secret: SECRET }, event: 'individual-shared', name: 'Shared hook', 'organization-id': org(tt), type: 'webhook', ...over }, type: 'announcers' },
  meta: {},
})
const ATTRIBUTE_KEYS = ['args', 'created-at', 'created-by', 'event', 'last-modified-at', 'last-modified-by', 'name', 'organization-id', 'type']
/** The verified webhooks that reached `path` with this announcer id. */
const arrived = (path: string, announcerId: string) => receiver.verified().filter((w) => w.path === path && (w.json as Json).data.attributes['announcer-id'] === announcerId)

describe('announcers: the documented samples', () => {
  it('#3 creates, #4 reads, #2 lists and #5 modifies an announcer with the sample attribute set; the secret is served masked', async () => {
    const created = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'sample announcer' }))
    expect(created.data.type).toBe('announcers')
    expect(Object.keys(created.data.attributes).sort()).toEqual(ATTRIBUTE_KEYS)
    expect(created.data.attributes).toMatchObject({ event: 'individual-shared', name: 'sample announcer', 'organization-id': org(a), type: 'webhook', 'created-by': org(a), 'last-modified-by': org(a) })
    expect(created.data.attributes.args).toEqual({ url: hook('/announce'), secret: `****${SECRET.slice(-4)}` })
    expect(JSON.stringify(created)).not.toContain(SECRET)
    // Stored sealed: the row holds no clear secret.
    const row = await t.store.db.selectFrom('msg_announcers').selectAll().where('id', '=', created.data.id).executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain(SECRET)
    const id = created.data.id as string

    const read = await ok(a, 'GET', `/v1/announcers/${id}/`)
    expect(read.data).toEqual(created.data)

    const listed = await ok(a, 'GET', `/v1/announcers/?organization-id=${org(a)}&filter[name]=sample%20announcer`)
    expect(listed.data.map((x: Json) => x.id)).toEqual([id])
    expect(listed.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    expect((await ok(a, 'GET', '/v1/announcers/?filter[name]=nobody')).data).toEqual([])

    // #5's sample payload: args (the secret left out keeps it), event, name, type.
    const patched = await ok(a, 'PATCH', `/v1/announcers/${id}/`, {
      data: { attributes: { args: { url: hook('/moved') }, event: 'message-posted', name: 'renamed', type: 'webhook' }, id, type: 'announcers' }, meta: {},
    })
    expect(patched.data.attributes).toMatchObject({ event: 'message-posted', name: 'renamed', args: { url: hook('/moved'), secret: `****${SECRET.slice(-4)}` } })
    expect(patched.data.attributes['created-at']).toBe(created.data.attributes['created-at'])
    // Given masked (as served), the stored secret is kept too; a new one replaces it.
    const again = await ok(a, 'PATCH', `/v1/announcers/${id}/`, { data: { attributes: { args: { url: hook('/moved'), secret: `****${SECRET.slice(-4)}` } }, id, type: 'announcers' } })
    expect(again.data.attributes.args.secret).toBe(`****${SECRET.slice(-4)}`)
    const rotated = await ok(a, 'PATCH', `/v1/announcers/${id}/`, { data: { attributes: { args: { url: hook('/moved'), secret: 'another-secret-abcdefghij' } }, id, type: 'announcers' } })
    expect(rotated.data.attributes.args.secret).toBe('****ghij')
  })
})

describe('announcers fire signed webhooks through the job queue', () => {
  it('message-posted: a post to the organisation\'s channel reaches the announcer\'s URL, signed, as a JSON:API-like event', async () => {
    const made = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { event: 'message-posted', name: 'posts', args: { url: hook('/posts'), secret: SECRET } }))
    const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [patient], 'individual-id': clinician } } })
    const message = await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'Your results are in', 'individual-id': clinician } } })
    // A draft fires nothing until it is posted.
    const draft = await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'later', draft: true, 'individual-id': clinician } } })
    const [w] = await waitFor('the message-posted webhook', () => (arrived('/posts', made.data.id).length > 0 ? arrived('/posts', made.data.id) : undefined))
    expect(w!.matchedSecret).toBe(0)
    expect(w!.headers['x-webhook-topic']).toBe(`messaging.message-posted:${made.data.id}`)
    const doc = expectJsonApi(w!.json)
    expect(doc.data).toMatchObject({
      type: 'announcer-events',
      attributes: {
        event: 'message-posted', 'announcer-id': made.data.id, 'announcer-name': 'posts', 'organization-id': org(a), 'channel-id': channel.data.id,
        'message-id': message.data.id, 'individual-id': clinician, message: 'Your results are in', source: 'participant',
      },
    })
    expect(typeof doc.data.id).toBe('string')
    expect(Number.isNaN(Date.parse(doc.data.attributes['posted-time']))).toBe(false)
    expect(arrived('/posts', made.data.id)).toHaveLength(1)
    // The announcer of the samples listens to message-posted at /moved since its PATCH, with its rotated secret.
    const moved = await waitFor('the rotated announcer\'s webhook', () => receiver.received.find((w) => w.path === '/moved' && w.body.includes(message.data.id)))
    expect(verifyWebhook(moved.body, moved.timestamp!, moved.signature!, ['another-secret-abcdefghij'])).toBe(true)
    expect(verifyWebhook(moved.body, moved.timestamp!, moved.signature!, [SECRET])).toBe(false)
    await ok(a, 'PATCH', `/v1/messaging-messages/${draft.data.id}/`, { data: { type: 'messaging-messages', id: draft.data.id, attributes: { draft: false, 'individual-id': clinician } } })
    await waitFor('the un-drafted message\'s webhook', () => arrived('/posts', made.data.id).length === 2)
    expect((arrived('/posts', made.data.id)[1]!.json as Json).data.attributes['message-id']).toBe(draft.data.id)
    // The delivery is recorded by the outbound-webhooks domain.
    const rows = await t.store.db.selectFrom('outbound_webhooks').select(['status', 'topic']).where('tenant_id', '=', a.tenant.id).where('topic', '=', `messaging.message-posted:${made.data.id}`).execute()
    await waitFor('delivered', async () => (await t.store.db.selectFrom('outbound_webhooks').select('status').where('tenant_id', '=', a.tenant.id).where('topic', '=', `messaging.message-posted:${made.data.id}`).execute()).every((r) => r.status === 'delivered'))
    expect(rows).toHaveLength(2)
  })

  it('individual-shared: new subscribers (at creation, the creator excepted, and through subscribe) each fire once', async () => {
    const made = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'shares', args: { url: hook('/shares'), secret: SECRET } }))
    const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [patient], 'individual-id': clinician } } })
    await waitFor('the creation\'s individual-shared webhook', () => arrived('/shares', made.data.id).length === 1)
    const first = expectJsonApi(arrived('/shares', made.data.id)[0]!.json).data.attributes
    expect(first).toMatchObject({ event: 'individual-shared', 'channel-id': channel.data.id, 'individual-id': patient, 'shared-by-individual-id': clinician, 'organization-id': org(a) })
    // Subscribing one new and one existing subscriber shares the channel with the new one only.
    await ok(a, 'POST', `/v1/messaging-channels/${channel.data.id}/subscribe/`, { 'individual-ids': [patient2, patient] })
    await waitFor('the subscription\'s webhook', () => arrived('/shares', made.data.id).length === 2)
    expect((arrived('/shares', made.data.id)[1]!.json as Json).data.attributes).toMatchObject({ 'individual-id': patient2, 'shared-by-individual-id': null })
    // A post fires no individual-shared event.
    await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'hi' } } })
    await new Promise((r) => setTimeout(r, 700))
    expect(arrived('/shares', made.data.id)).toHaveLength(2)
  })

  it('another tenant\'s channels never fire this tenant\'s announcers', async () => {
    const made = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { event: 'message-posted', name: 'a only', args: { url: hook('/a-only'), secret: SECRET } }))
    const theirs = await ok(b, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(b) } } })
    await ok(b, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': theirs.data.id, message: 'private to b' } } })
    const mine = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a) } } })
    await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': mine.data.id, message: 'for a' } } })
    await waitFor('a\'s webhook', () => arrived('/a-only', made.data.id).length === 1)
    await new Promise((r) => setTimeout(r, 500))
    expect(receiver.received.filter((w) => w.body.includes('private to b'))).toHaveLength(0)
  })
})

describe('announcers: bad input and who may use them', () => {
  it('refuses unknown events and types, bad args and unsafe URLs at the member, writing nothing', async () => {
    const before = await counts(a)
    const refused = async (over: Json, pointer: string, status = 400) => expectJsonApiError(await call(a, 'POST', '/v1/announcers/', announcerBody(a, over)), status, { pointer })
    await refused({ event: 'individual-unshared' }, '/data/attributes/event')
    await refused({ type: 'email' }, '/data/attributes/type')
    await refused({ args: { url: hook('/x') } }, '/data/attributes/args/secret')
    await refused({ args: { url: hook('/x'), secret: 'short' } }, '/data/attributes/args/secret')
    await refused({ args: { url: 'ftp://example.com/x', secret: SECRET } }, '/data/attributes/args/url')
    await refused({ args: { url: 'not a url', secret: SECRET } }, '/data/attributes/args/url')
    await refused({ args: { url: hook('/x'), secret: SECRET, headers: {} } }, '/data/attributes/args/headers')
    await refused({ args: 'x' }, '/data/attributes/args')
    await refused({ name: 'x'.repeat(256) }, '/data/attributes/name')
    await refused({ 'organization-id': b.credentials.courier.organization_id }, '/data/attributes/organization-id', 404)
    expectJsonApiError(await call(a, 'POST', '/v1/announcers/', { data: { type: 'plugins', attributes: announcerBody(a).data.attributes } }), 409, { pointer: '/data/type' })
    const made = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'to patch' }))
    const mid = await counts(a)
    const id = made.data.id as string
    expectJsonApiError(await call(a, 'PATCH', `/v1/announcers/${id}/`, { data: { type: 'announcers', id, attributes: { event: 'nope' } } }), 400, { pointer: '/data/attributes/event' })
    expectJsonApiError(await call(a, 'PATCH', `/v1/announcers/${id}/`, { data: { type: 'announcers', id, attributes: { args: { url: hook('/x'), secret: '****zzzz' } } } }), 400, { pointer: '/data/attributes/args/secret' })
    expectJsonApiError(await call(a, 'PATCH', `/v1/announcers/${id}/`, { data: { type: 'announcers', id, attributes: { 'organization-id': org(a) } } }), 400, { pointer: '/data/attributes/organization-id' })
    expect(await counts(a)).toEqual(mid)
    expect(mid.announcers).toBe(before.announcers + 1)
    expect((await ok(a, 'GET', `/v1/announcers/${id}/`)).data).toEqual(made.data)
  })

  it('a refused post or subscription queues no event (the event commits with the change or not at all)', async () => {
    await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { event: 'message-posted', name: 'refused posts', args: { url: hook('/refused'), secret: SECRET } }))
    await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'refused shares', args: { url: hook('/refused'), secret: SECRET } }))
    const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-id': clinician } } })
    const before = await counts(a)
    // patient does not subscribe: 403, and no message-posted event.
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'not mine', 'individual-id': patient } } }), 403)
    // One unknown individual refuses the whole subscription: no individual-shared event for the known one.
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${channel.data.id}/subscribe/`, { 'individual-ids': [patient, '11111111-1111-1111-1111-111111111111'] }), 404)
    // A post whose transaction fails after the event was queued (a caller's in-transaction step throws) leaves no event either.
    await expect(t.services.messages.post(a.tenant, {
      channelId: channel.data.id, message: 'rolled back', individualId: clinician,
      inTransaction: async () => {
        throw new Error('the caller\'s step failed')
      },
    })).rejects.toThrow('the caller\'s step failed')
    expect(await counts(a)).toEqual(before)
    await new Promise((r) => setTimeout(r, 500))
    expect(receiver.received.filter((w) => w.path === '/refused')).toHaveLength(0)
    // The same post, committed, does fire: the announcers were listening.
    await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'committed', 'individual-id': clinician } } })
    await waitFor('the committed post\'s webhook', () => receiver.verified().some((w) => w.path === '/refused' && (w.json as Json).data.attributes.message === 'committed'))
  })

  it('the outbound URL policy holds: a private URL is refused when private URLs are not allowed', async () => {
    const strict = await startTestApp()
    try {
      const tt = await createTenant(strict.services)
      const r = await strict.app.inject({
        method: 'POST', url: '/v1/announcers/', headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, 'content-type': 'application/json' },
        payload: JSON.stringify(announcerBody(tt, { args: { url: 'http://127.0.0.1:9/x', secret: SECRET } })),
      })
      expectJsonApiError(r, 400, { pointer: '/data/attributes/args/url' })
      const n = await strict.store.db.selectFrom('msg_announcers').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
      expect(Number(n.n)).toBe(0)
    } finally {
      await strict.close()
    }
  })

  it('a user token may not list, read, create or change announcers (403)', async () => {
    const made = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'org only' }))
    const before = await counts(a)
    expectJsonApiError(await call(userToken, 'GET', '/v1/announcers/'), 403)
    expectJsonApiError(await call(userToken, 'GET', `/v1/announcers/${made.data.id}/`), 403)
    expectJsonApiError(await call(userToken, 'POST', '/v1/announcers/', announcerBody(a)), 403)
    expectJsonApiError(await call(userToken, 'PATCH', `/v1/announcers/${made.data.id}/`, { data: { type: 'announcers', id: made.data.id, attributes: { name: 'mine' } } }), 403)
    expect(await counts(a)).toEqual(before)
  })
})

describe('aggregation requests', () => {
  it('#1 with the sample payload answers 201 with empty attributes; the job computes the columns, read back by id', async () => {
    // A tenant of its own: the counts are exact.
    const c = await createTenant(t.services)
    await t.services.directory.import(c.tenant, { format: 'yaml', text: DIRECTORY('c') })
    const cass = async (ext: string) => (await t.services.people.getByExternalId(c.tenant, ext)).cassId
    const [patient, patient2, clinician] = [await cass('p1'), await cass('p2'), await cass('c1')]
    const channel = await ok(c, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(c), 'individual-ids': [patient, patient2], 'individual-id': clinician } } })
    const post = (text: string, who?: string) => ok(c, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: text, ...(who ? { 'individual-id': who } : {}) } } })
    await post('one', clinician)
    const second = await post('two', clinician)
    await post('from the patient', patient)
    // patient2 reads up to the second message: one unread left (the patient's).
    await ok(c, 'POST', `/v1/messaging-messages/${second.data.id}/ack/`, { 'individual-id': patient2 })
    const entries = [
      { column: 'unread-count', 'individual-id': patient2 }, { column: 'message-count', 'individual-id': clinician }, { column: 'channel-count', 'individual-id': patient },
      { column: 'last-message-at', 'individual-id': patient }, { column: 'last-ack-at', 'individual-id': clinician }, { column: 'unread-count', 'individual-id': clinician },
    ]
    const r = await call(c, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries }, type: 'aggregation-requests' }, meta: {} })
    expect(r.statusCode, r.body).toBe(201)
    const created = expectJsonApi(JSON.parse(r.body))
    expect(created).toEqual({ data: { attributes: {}, id: expect.any(String), type: 'aggregation-requests' }, meta: {} })
    const id = created.data.id as string
    const done = await waitFor('the aggregation job', async () => {
      const got = await ok(c, 'GET', `/v1/aggregation-requests/${id}/`)
      return got.data.attributes.status === 'completed' ? got : undefined
    })
    expect(done.data.attributes.entries).toEqual(entries)
    const values = done.data.attributes.results.map((x: Json) => [x.column, x['individual-id'], x.value])
    expect(values.slice(0, 3)).toEqual([['unread-count', patient2, 1], ['message-count', clinician, 2], ['channel-count', patient, 1]])
    expect(Number.isNaN(Date.parse(values[3][2]))).toBe(false)
    expect(values[4]).toEqual(['last-ack-at', clinician, null])
    expect(values[5]).toEqual(['unread-count', clinician, 1])
    expect(done.data.attributes.error).toBeNull()
  })

  it('refuses an unknown column, a stranger and an empty list at the entry, writing nothing', async () => {
    const before = await counts(a)
    const send = (entries: unknown) => call(a, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries }, type: 'aggregation-requests' } })
    expectJsonApiError(await send([{ column: 'unread-count', 'individual-id': patient }, { column: 'string', 'individual-id': patient }]), 400, { pointer: '/data/attributes/entries/1/column' })
    expectJsonApiError(await send([{ column: 'unread-count', 'individual-id': '11111111-1111-1111-1111-111111111111' }]), 404, { pointer: '/data/attributes/entries/0/individual-id' })
    expectJsonApiError(await send([]), 400, { pointer: '/data/attributes/entries' })
    expectJsonApiError(await send([{ column: 'unread-count', 'individual-id': 'nope' }]), 400, { pointer: '/data/attributes/entries/0/individual-id' })
    expectJsonApiError(await send([{ column: 'unread-count' }]), 400, { pointer: '/data/attributes/entries/0/individual-id' })
    expectJsonApiError(await send('x'), 400, { pointer: '/data/attributes/entries' })
    expectJsonApiError(await call(a, 'GET', '/v1/aggregation-requests/11111111-1111-1111-1111-111111111111/'), 404)
    expect(await counts(a)).toEqual(before)
  })

  it('a user token asks only about its own individual, and reads only its own requests', async () => {
    const before = await counts(a)
    expectJsonApiError(await call(userToken, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries: [{ column: 'unread-count', 'individual-id': patient }] }, type: 'aggregation-requests' } }), 403, { pointer: '/data/attributes/entries/0/individual-id' })
    expect(await counts(a)).toEqual(before)
    const mine = await ok(userToken, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries: [{ column: 'channel-count', 'individual-id': clinician }] }, type: 'aggregation-requests' } })
    expect((await ok(userToken, 'GET', `/v1/aggregation-requests/${mine.data.id}/`)).data.id).toBe(mine.data.id)
    const orgs = await ok(a, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries: [{ column: 'channel-count', 'individual-id': patient }] }, type: 'aggregation-requests' } })
    expectJsonApiError(await call(userToken, 'GET', `/v1/aggregation-requests/${orgs.data.id}/`), 404)
  })
})

describe('tenant isolation', () => {
  it('another tenant\'s announcers and aggregation requests answer 404 and are never listed; its individuals cannot be aggregated', async () => {
    const announcer = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'isolated' }))
    const agg = await ok(a, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries: [{ column: 'channel-count', 'individual-id': patient }] }, type: 'aggregation-requests' } })
    const before = await counts(a)
    expectJsonApiError(await call(b, 'GET', `/v1/announcers/${announcer.data.id}/`), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/announcers/${announcer.data.id}/`, { data: { type: 'announcers', id: announcer.data.id, attributes: { name: 'stolen' } } }), 404)
    expect((await ok(b, 'GET', '/v1/announcers/')).data.map((x: Json) => x.id)).not.toContain(announcer.data.id)
    expectJsonApiError(await call(b, 'GET', `/v1/announcers/?organization-id=${org(a)}`), 404, { parameter: 'organization-id' })
    expectJsonApiError(await call(b, 'GET', `/v1/aggregation-requests/${agg.data.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', '/v1/aggregation-requests/', { data: { attributes: { entries: [{ column: 'channel-count', 'individual-id': patient }] }, type: 'aggregation-requests' } }), 404, { pointer: '/data/attributes/entries/0/individual-id' })
    expect(await counts(a)).toEqual(before)
  })
})

describe('announcers and bulk messages', () => {
  it('a bulk message with auto-create fires individual-shared for each new channel and message-posted for each message', async () => {
    const shares = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { name: 'bulk shares', args: { url: hook('/bulk-shares'), secret: SECRET } }))
    const posts = await ok(a, 'POST', '/v1/announcers/', announcerBody(a, { event: 'message-posted', name: 'bulk posts', args: { url: hook('/bulk-posts'), secret: SECRET } }))
    // Two individuals without any channel yet (so both channels are new).
    await t.services.directory.import(a.tenant, { format: 'yaml', text: 'individuals:\n  - { external_id: bulk1, first_name: Ada }\n  - { external_id: bulk2, first_name: Ben }\n' })
    const [one, two] = [(await t.services.people.getByExternalId(a.tenant, 'bulk1')).cassId, (await t.services.people.getByExternalId(a.tenant, 'bulk2')).cassId]
    const bulk = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'individual-ids': [one, two], 'auto-create-channel': true, 'sender-individual-id': clinician, message: 'Closed on Friday',
    } } })
    const made = await waitFor('the bulk message posted', async () => {
      const rows = await t.store.db.selectFrom('msg_bulk_recipients').select(['channel_id', 'message_id', 'state']).where('tenant_id', '=', a.tenant.id).where('bulk_message_id', '=', bulk.data.id).execute()
      return rows.every((r) => r.state === 'posted') ? rows : undefined
    }, 30_000)
    // The events are queued in the batch's transaction (delivery order is the webhook queue's business).
    const queued = async (topic: string) => (await t.store.db.selectFrom('outbound_webhooks').select('body').where('tenant_id', '=', a.tenant.id).where('topic', '=', topic).execute())
      .map((r) => (JSON.parse(r.body) as Json).data.attributes as Json)
    const shared = await queued(`messaging.individual-shared:${shares.data.id}`)
    // The recipient of each new channel is shared it, by the sender (who made it); the sender is not.
    expect(shared.map((x) => [x['channel-id'], x['shared-by-individual-id']]).sort()).toEqual(made.map((r) => [r.channel_id, clinician]).sort())
    expect(shared.map((x) => x['individual-id']).sort()).toEqual([one, two].sort())
    const posted = await queued(`messaging.message-posted:${posts.data.id}`)
    expect(posted.map((x) => x['message-id']).sort()).toEqual(made.map((r) => r.message_id).sort())
    expect(posted.map((x) => x.message)).toEqual(['Closed on Friday', 'Closed on Friday'])
  }, 60_000)
})
