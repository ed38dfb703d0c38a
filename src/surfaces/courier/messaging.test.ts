import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// Channels and messages of the messaging API over HTTP: individuals are the person API's people
// (their person_id is the individual id), a channel's subscribers post, read and acknowledge,
// unread counts follow the read markers, drafts stay with their author, removal is soft, reactions
// and receipts — every response valid JSON:API, every refusal a §1.7 error object that changes
// nothing, and another tenant's channels, messages and individuals answer 404.
let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let nurse: string
let patient: string
let doctor: string
let stranger: string
let theirs: string
beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
  patient = (await seedPerson(t, a, { firstName: 'Pat', phone: uniquePhone() })).cassId
  doctor = (await seedPerson(t, a, { firstName: 'Doc', phone: uniquePhone() })).cassId
  stranger = (await seedPerson(t, a, { firstName: 'Sam', phone: uniquePhone() })).cassId
  theirs = (await seedPerson(t, b, { firstName: 'Other', phone: uniquePhone() })).cassId
})
afterAll(async () => t?.close())

const { call, ok } = courierClient(() => t)
const org = (tt: TestTenant) => tt.credentials.courier.organization_id
async function channel(attributes: Json = {}): Promise<Json> {
  const doc = expectJsonApi(await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [patient], 'individual-id': nurse, ...attributes } } }))
  return doc.data as Json
}
const post = async (channelId: string, author: string | undefined, message: string, extra: Json = {}) =>
  expectJsonApi(await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channelId, message, ...(author ? { 'individual-id': author } : {}), ...extra } } })).data as Json

describe('messaging channels', () => {
  it('creates a channel with its subscribers (the acting individual as admin), reads, lists and patches it', async () => {
    const c = await channel({ name: 'Care of Pat', label: 'cardiology' })
    expect(c.attributes).toMatchObject({ name: 'Care of Pat', label: 'cardiology', 'org-id': org(a), archived: false, 'subscription-type': 'none', 'created-by': nurse, 'owner-id': nurse, 'owner-first-name': 'Nia', 'can-enable-sms': true, 'last-message': null })
    expect(c.attributes.subscribers.map((s: Json) => [s.id, s.admin])).toEqual([[patient, false], [nurse, true]])
    const read = expectJsonApi(await ok(a, 'GET', `/v1/messaging-channels/${c.id}/?individual-id=${patient}`))
    expect(read.data.attributes).toMatchObject({ 'caller-new-message-count': 0, 'caller-has-new-message': false })
    const mine = expectJsonApi(await ok(a, 'GET', `/v1/messaging-channels/?individual-id=${patient}`))
    expect(mine.data.map((x: Json) => x.id)).toContain(c.id)
    expect(mine.meta['page[limit]']).toBe(50)
    expect((await ok(a, 'GET', `/v1/messaging-channels/?individual-id=${stranger}`)).data).toEqual([])
    const patched = expectJsonApi(await ok(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/name', value: 'Pat & team' }, { op: 'replace', path: '/event-settings/enabled', value: false }] } }))
    expect(patched.data.attributes).toMatchObject({ name: 'Pat & team', 'event-settings': { enabled: false } })
    expect(Date.parse(patched.data.attributes['last-modified-time'])).toBeGreaterThanOrEqual(Date.parse(c.attributes['last-modified-time']))
    const unnamed = await channel()
    expect(unnamed.attributes.name).toBe('Pat, Nia')
  })

  it('archives, unarchives, subscribes and unsubscribes as actions answering 201 with the channel', async () => {
    const c = await channel()
    expect((await ok(a, 'POST', `/v1/messaging-channels/${c.id}/archive/`, {})).data.attributes.archived).toBe(true)
    expect((await ok(a, 'GET', `/v1/messaging-channels/?filter[archived]=true&individual-id=${nurse}`)).data.map((x: Json) => x.id)).toContain(c.id)
    expect((await ok(a, 'GET', `/v1/messaging-channels/?filter[archived]=false&individual-id=${nurse}`)).data.map((x: Json) => x.id)).not.toContain(c.id)
    expect((await ok(a, 'POST', `/v1/messaging-channels/${c.id}/unarchive/`, {})).data.attributes.archived).toBe(false)
    const sub = await ok(a, 'POST', `/v1/messaging-channels/${c.id}/subscribe/`, { 'individual-ids': [doctor, doctor] })
    expect(sub.data.attributes.subscribers.map((s: Json) => s.id)).toContain(doctor)
    const unsub = await ok(a, 'POST', `/v1/messaging-channels/${c.id}/unsubscribe/`, { 'individual-ids': [doctor] })
    expect(unsub.data.attributes.subscribers.map((s: Json) => s.id)).not.toContain(doctor)
    const prefs = await ok(a, 'POST', `/v1/messaging-channels/${c.id}/preferences/`, { values: [{ name: 'notify', value: 'never' }], 'individual-id': patient })
    expect(prefs.data.attributes.subscribers.find((s: Json) => s.id === patient)['communication-preferences']).toEqual({ notify: 'never' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/preferences/`, { values: [], 'individual-id': stranger }), 403, { pointer: '/individual-id' })
  })

  it('refuses bad channels with the member or parameter; nothing is created', async () => {
    const before = (await ok(a, 'GET', `/v1/messaging-channels/?individual-id=${patient}`)).meta['page[total]'] as number
    const create = (attributes: Json) => call(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), ...attributes } } })
    expectJsonApiError(await create({ 'individual-ids': [patient, theirs] }), 404, { pointer: '/data/attributes/individual-ids/1' })
    expectJsonApiError(await create({ 'individual-ids': [patient], 'subscription-type': 'broadcast' }), 400, { pointer: '/data/attributes/subscription-type' })
    expectJsonApiError(await create({ 'individual-ids': [patient], 'individual-group-id': '11111111-1111-1111-1111-111111111111' }), 404, { pointer: '/data/attributes/individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(b), 'individual-ids': [patient] } } }), 404, { pointer: '/data/attributes/organization-id' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-channels/?page[limit]=51'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-channels/?filter[cmp-last-modified-time]=~2024'), 400, { parameter: 'filter[cmp-last-modified-time]' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-channels/?individual-id=${theirs}`), 404, { parameter: 'individual-id' })
    const c = await channel()
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'remove', path: '/name' }] } }), 400, { pointer: '/data/attributes/0' })
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/name', value: 'ok' }, { op: 'replace', path: '/floating', value: 'yes' }] } }), 400, { pointer: '/data/attributes/1' })
    expect((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/`)).data.attributes.floating).toBe(false)
    expect((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/`)).data.attributes.name).toBe(c.attributes.name)
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: '11111111-1111-1111-1111-111111111111', attributes: [{ op: 'replace', path: '/name', value: 'x' }] } }), 409, { pointer: '/data/id' })
    expect((await ok(a, 'GET', `/v1/messaging-channels/?individual-id=${patient}`)).meta['page[total]']).toBe(before + 1)
  })
})

describe('messaging messages', () => {
  it('posts, lists in order, counts unread per subscriber and acks this and everything before', async () => {
    const c = await channel()
    const m1 = await post(c.id, nurse, 'Hello Pat')
    const m2 = await post(c.id, nurse, 'How are you feeling today?')
    expect(m1.attributes).toMatchObject({ 'channel-id': c.id, 'individual-id': nurse, 'first-name': 'Nia', message: 'Hello Pat', draft: false, removed: false, 'user-type': 'participant', ack: true })
    const unread = (await ok(a, 'GET', `/v1/messaging-channels/${c.id}/?individual-id=${patient}`)).data.attributes
    expect(unread).toMatchObject({ 'caller-new-message-count': 2, 'caller-has-new-message': true, 'last-message': { id: m2.id, message: 'How are you feeling today?' } })
    const listed = expectJsonApi(await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${patient}`))
    expect(listed.data.map((m: Json) => [m.id, m.attributes.ack])).toEqual([[m1.id, false], [m2.id, false]])
    expect(listed.meta['page[total]']).toBe(2)
    // Acking the second reads the first too; acking the first again does not move the marker back...
    await ok(a, 'POST', `/v1/messaging-messages/${m2.id}/ack/`, { 'individual-id': patient })
    await ok(a, 'POST', `/v1/messaging-messages/${m1.id}/ack/`, { 'individual-id': patient })
    expect((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/?individual-id=${patient}`)).data.attributes['caller-new-message-count']).toBe(0)
    expect((await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${patient}&acknowledged=false`)).data).toEqual([])
    // ...unless allow-past says so.
    await ok(a, 'POST', `/v1/messaging-messages/${m1.id}/ack/`, { 'individual-id': patient, 'allow-past': true })
    expect((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/?individual-id=${patient}`)).data.attributes['caller-new-message-count']).toBe(1)
    const receipts = await ok(a, 'GET', `/v1/messaging-messages/${m2.id}/get-receipts/`, undefined, 200)
    expect(receipts).toEqual({ read: [], unread: [expect.objectContaining({ 'individual-id': patient, 'individual-first-name': 'Pat', 'ack-time': null })] })
    const r1 = await ok(a, 'GET', `/v1/messaging-messages/${m1.id}/get-receipts/`, undefined, 200)
    expect(r1.read).toEqual([expect.objectContaining({ 'individual-id': patient })])
    expect(Date.parse(r1.read[0]['ack-time'])).not.toBeNaN()
    const withReceipts = await ok(a, 'GET', `/v1/messaging-messages/${m1.id}/?include-read-receipts=true`)
    expect(withReceipts.data.attributes['read-receipts'].map((r: Json) => r['individual-id'])).toEqual([patient])
  })

  it('keeps drafts with their author, edits and removes softly, and reacts', async () => {
    const c = await channel()
    const draft = await post(c.id, nurse, 'thinking…', { draft: true })
    expect((await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${patient}`)).data).toEqual([])
    expect((await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${nurse}`)).data.map((m: Json) => m.id)).toEqual([draft.id])
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-messages/${draft.id}/?individual-id=${patient}`), 404)
    const update = (attributes: Json) => call(a, 'PATCH', `/v1/messaging-messages/${draft.id}/`, { data: { type: 'messaging-messages', id: draft.id, attributes } })
    expectJsonApiError(await update({ 'individual-id': patient, message: 'hijack' }), 404)
    const posted = expectJsonApi(JSON.parse((await update({ 'individual-id': nurse, message: 'Your results are fine.', draft: false })).body))
    expect(posted.data.attributes).toMatchObject({ draft: false, message: 'Your results are fine.' })
    expectJsonApiError(await update({ 'individual-id': patient, message: 'hijack' }), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await update({ 'individual-id': nurse, draft: true }), 400, { pointer: '/data/attributes/draft' })
    const liked = await ok(a, 'POST', `/v1/messaging-messages/${draft.id}/add-reaction/`, { 'reaction-type': 'love', 'individual-id': patient })
    await ok(a, 'POST', `/v1/messaging-messages/${draft.id}/add-reaction/`, { 'reaction-type': 'love', 'individual-id': patient })
    expect(liked.data.attributes.reactions).toEqual([expect.objectContaining({ 'individual-id': patient, 'reaction-type': 'love', 'first-name': 'Pat' })])
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-messages/${draft.id}/add-reaction/`, { 'reaction-type': 'meh', 'individual-id': patient }), 400, { pointer: '/reaction-type' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-messages/${draft.id}/add-reaction/`, { 'reaction-type': 'like', 'individual-id': stranger }), 403, { pointer: '/individual-id' })
    const unliked = await ok(a, 'POST', `/v1/messaging-messages/${draft.id}/delete-reaction/`, { 'reaction-type': 'love', 'individual-id': patient })
    expect(unliked.data.attributes.reactions).toEqual([])
    const removed = expectJsonApi(JSON.parse((await update({ 'individual-id': nurse, removed: true })).body))
    expect(removed.data.attributes).toMatchObject({ removed: true, message: '' })
    expectJsonApiError(await update({ 'individual-id': nurse, message: 'back' }), 400, { pointer: '/data/attributes/removed' })
    const searched = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&filter[text]=results`)
    expect(searched.data).toEqual([])
  })

  it('refuses posts by non-subscribers, to unknown channels and without a channel; filters by posted-time windows', async () => {
    const c = await channel()
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': c.id, message: 'hi', 'individual-id': stranger } } }), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': '11111111-1111-1111-1111-111111111111', message: 'hi' } } }), 404, { pointer: '/data/attributes/channel-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': c.id } } }), 400, { pointer: '/data/attributes/message' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-messages/'), 400, { parameter: 'channel-id' })
    expect((await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}`)).data).toEqual([])
    const m = await post(c.id, undefined, 'From the clinic')
    expect(m.attributes).toMatchObject({ 'individual-id': null, 'user-type': 'organization' })
    const at = Date.parse(m.attributes['posted-time'])
    const q = (cmp: string[]) => ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&${cmp.map((x) => `filter[cmp-posted-time]=${encodeURIComponent(x)}`).join('&')}`)
    expect((await q([`>=${new Date(at - 1000).toISOString()}`, `<=${new Date(at + 1000).toISOString()}`])).data.map((x: Json) => x.id)).toEqual([m.id])
    expect((await q([`>${new Date(at + 1000).toISOString()}`])).data).toEqual([])
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&filter[cmp-posted-time]=>1&filter[cmp-posted-time]=<2&filter[cmp-posted-time]=<3`), 400, { parameter: 'filter[cmp-posted-time]' })
  })
})

describe('tenant isolation', () => {
  it('another tenant’s channels and messages answer 404 everywhere, and it never lists them', async () => {
    const c = await channel()
    const m = await post(c.id, nurse, 'private')
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-channels/${c.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-channels/${c.id}/archive/`, {}), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-channels/${c.id}/subscribe/`, { 'individual-ids': [theirs] }), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/name', value: 'x' }] } }), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-messages/${m.id}/`), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-messages/?channel-id=${c.id}`), 404, { parameter: 'channel-id' })
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-messages/${m.id}/ack/`, {}), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-messages/${m.id}/get-receipts/`), 404)
    expectJsonApiError(await call(b, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': c.id, message: 'x' } } }), 404, { pointer: '/data/attributes/channel-id' })
    expect((await ok(b, 'GET', '/v1/messaging-channels/')).data).toEqual([])
    expect((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/`)).data.attributes.name).toBe(c.attributes.name)
  })
  // Messaging operations (#63–#65) and get-profile (#49)
  it('another tenant’s messaging operations and channel profiles answer 404, and it never lists them', async () => {
    await t.services.directory.import(a.tenant, { format: 'parsed', value: { groups: [{ external_id: 'iso-from', name: 'From' }, { external_id: 'iso-to', name: 'To' }] } })
    const groups = await t.store.db.selectFrom('msg_individual_groups').select(['id', 'external_id']).where('tenant_id', '=', a.tenant.id).where('external_id', 'in', ['iso-from', 'iso-to']).execute()
    const [from, to] = ['iso-from', 'iso-to'].map((x) => groups.find((g) => g.external_id === x)!.id)
    const op = await ok(a, 'POST', '/v1/messaging-operations/', { data: { type: 'messaging-operations', attributes: { 'organization-id': org(a), type: 'move-group', args: { 'from-individual-group-id': from, 'to-individual-group-id': to } } } })
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-operations/${op.data.id}/`), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-operations/?organization-id=${org(a)}`), 404, { parameter: 'organization-id' })
    expect((await ok(b, 'GET', `/v1/messaging-operations/?organization-id=${org(b)}`)).data).toEqual([])
    expectJsonApiError(await call(b, 'POST', '/v1/messaging-operations/', { data: { type: 'messaging-operations', attributes: { 'organization-id': org(b), type: 'move-group', args: { 'from-individual-group-id': from, 'to-individual-group-id': to } } } }), 404, { pointer: '/data/attributes/args/from-individual-group-id' })
    const c = await channel()
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-channels/${c.id}/get-profile/?individual-id=${nurse}&profile-individual-id=${patient}`), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-channels/${c.id}/get-profile/?individual-id=${theirs}&profile-individual-id=${patient}`), 404)
    expect((await ok(a, 'GET', `/v1/messaging-operations/${op.data.id}/`)).data.id).toBe(op.data.id)
  })
})

describe('tenant isolation: announcers and aggregation requests', () => {
  it('another tenant’s announcers and aggregation requests answer 404, are never listed, and its individuals cannot be aggregated', async () => {
    const made = expectJsonApi(await ok(a, 'POST', '/v1/announcers/', {
      data: { type: 'announcers', attributes: { args: { url: 'https://hooks.example.com/a', secret: 'isolation-secret-0123456789' }, event: 'message-posted', name: 'isolated', 'organization-id': org(a), type: 'webhook' } },
    })).data as Json
    const agg = expectJsonApi(await ok(a, 'POST', '/v1/aggregation-requests/', { data: { type: 'aggregation-requests', attributes: { entries: [{ column: 'unread-count', 'individual-id': patient }] } } })).data as Json
    expectJsonApiError(await call(b, 'GET', `/v1/announcers/${made.id}/`), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/announcers/${made.id}/`, { data: { type: 'announcers', id: made.id, attributes: { name: 'theirs now' } } }), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/announcers/?organization-id=${org(a)}`), 404, { parameter: 'organization-id' })
    expect((await ok(b, 'GET', '/v1/announcers/')).data).toEqual([])
    expectJsonApiError(await call(b, 'GET', `/v1/aggregation-requests/${agg.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', '/v1/aggregation-requests/', { data: { type: 'aggregation-requests', attributes: { entries: [{ column: 'unread-count', 'individual-id': patient }] } } }), 404, { pointer: '/data/attributes/entries/0/individual-id' })
    expect((await ok(a, 'GET', `/v1/announcers/${made.id}/`)).data.attributes.name).toBe('isolated')
  })
})

describe('tenant isolation: purge-data (#86)', () => {
  it('another tenant cannot purge this tenant’s individual nor read its purges: 404, nothing written or erased', async () => {
    const count = async () => Number((await t.store.db.selectFrom('privacy_purges').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', 'in', [a.tenant.id, b.tenant.id]).executeTakeFirstOrThrow()).n)
    const leaving = (await seedPerson(t, a, { firstName: 'Lee', phone: uniquePhone() })).cassId
    const before = await count()
    const purge = (attributes: Json) => call(b, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-type': 'individual', ...attributes } } })
    expectJsonApiError(await purge({ 'entity-id': patient, 'request-id': `iso-${patient}` }), 404, { pointer: '/data/attributes/entity-id' })
    expect(await count()).toBe(before)
    expect((await ok(a, 'GET', `/v1/individuals/${patient}/`)).data.id).toBe(patient)
    // A's own purge request is A's only: B neither reads it nor replays its request-id onto it.
    expect((await call(a, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-type': 'individual', 'entity-id': leaving, 'request-id': `iso-a-${leaving}` } } })).statusCode).toBe(201)
    expect((await ok(a, 'GET', `/v1/purge-data/iso-a-${leaving}/`)).data.attributes['entity-id']).toBe(leaving)
    expectJsonApiError(await call(b, 'GET', `/v1/purge-data/iso-a-${leaving}/`), 404)
    expectJsonApiError(await purge({ 'entity-id': leaving, 'request-id': `iso-a-${leaving}` }), 404, { pointer: '/data/attributes/entity-id' })
    expect(await count()).toBe(before + 1)
  })
})
