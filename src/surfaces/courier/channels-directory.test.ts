import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// Channels and the directory over HTTP: a channel of an imported individual group (validated, its
// care team subscribed, its name the channel's title, embedded on request, filterable), and user
// tokens that see only the channels their individual subscribes to and act only as themselves —
// every answer JSON:API, every refusal a §1.7 error object, other tenants' ids 404.
let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const ids: Record<string, string> = {}
let nurseToken: string
let doctorToken: string
let loneToken: string
let groupId: string
let otherGroupId: string
let theirGroupId: string

const directory = (phones: string[]) => `
individuals:
  - { external_id: pat, first_name: Pat, last_name: Lee, phone: "${phones[0]}" }
  - { external_id: kim, first_name: Kim, last_name: Ray, phone: "${phones[1]}" }
  - { external_id: nia, first_name: Nia, last_name: Nurse, account_type: clinician }
  - { external_id: doc, first_name: Doc, last_name: Tor, account_type: clinician }
users:
  - { email: nia@example.org, first_name: Nia, last_name: Nurse, username: nia, individual: nia }
  - { email: doc@example.org, first_name: Doc, last_name: Tor, username: doc, individual: doc }
  - { email: lone@example.org, first_name: Lone, username: lone }
groups:
  - { external_id: care, name: Heart care, individuals: [pat, kim], users: [nia@example.org] }
  - { external_id: other, name: Other care, individuals: [kim], users: [doc@example.org] }
`

async function importDirectory(tt: TestTenant): Promise<void> {
  const r = await t.app.inject({ method: 'POST', url: '/admin/directory', headers: { authorization: tt.cassAuth, 'content-type': 'application/yaml' }, payload: directory([uniquePhone(), uniquePhone()]) })
  expect(r.statusCode, r.body).toBe(200)
}
const groupOf = async (tt: TestTenant, externalId: string) =>
  (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tt.tenant.id).where('external_id', '=', externalId).executeTakeFirstOrThrow()).id

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await importDirectory(a)
  await importDirectory(b)
  for (const x of ['pat', 'kim', 'nia', 'doc']) ids[x] = (await t.services.people.getByExternalId(a.tenant, x)).cassId
  ids.theirs = (await t.services.people.getByExternalId(b.tenant, 'pat')).cassId
  nurseToken = (await t.services.directory.issueUserToken(a.tenant, 'nia@example.org')).token
  doctorToken = (await t.services.directory.issueUserToken(a.tenant, 'doc@example.org')).token
  loneToken = (await t.services.directory.issueUserToken(a.tenant, 'lone@example.org')).token
  ids.niaUser = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'nia@example.org').executeTakeFirstOrThrow()).id
  ids.docUser = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'doc@example.org').executeTakeFirstOrThrow()).id
  groupId = await groupOf(a, 'care')
  otherGroupId = await groupOf(a, 'other')
  theirGroupId = await groupOf(b, 'care')
})
afterAll(async () => t?.close())

const keyOf = (tt: TestTenant) => tt.credentials.courier.api_key
const org = (tt: TestTenant) => tt.credentials.courier.organization_id
function call(token: string, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}
async function ok(token: string, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<Json> {
  const r = await call(token, method, url, body)
  expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(method === 'POST' ? 201 : 200)
  return expectJsonApi(JSON.parse(r.body))
}
const createDoc = (attributes: Json, tt: TestTenant = a) => ({ data: { type: 'messaging-channels', attributes: { 'organization-id': org(tt), ...attributes } } })
const postDoc = (channelId: string, message: string, extra: Json = {}) => ({ data: { type: 'messaging-messages', attributes: { 'channel-id': channelId, message, ...extra } } })
const countChannels = async () => Number((await t.store.db.selectFrom('msg_channels').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).n)

describe('channels of individual groups', () => {
  it('takes an imported group: its care team subscribes, its name titles the channel, embedded on request, filterable', async () => {
    const c = (await ok(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': groupId, 'individual-ids': [ids.pat] }))).data as Json
    expect(c.attributes['individual-group-id']).toBe(groupId)
    expect(c.attributes.name).toBe('Heart care')
    // The patient, and the group's user (Nia) through her individual; Kim is a member of the group but not named.
    expect(c.attributes.subscribers.map((s: Json) => s.id).sort()).toEqual([ids.pat, ids.nia].sort())
    // Only the patient can be texted: a care-team member is not an SMS recipient.
    expect(c.attributes['can-enable-sms']).toBe(true)
    const plain = (await ok(keyOf(a), 'GET', `/v1/messaging-channels/${c.id}/`)).data as Json
    expect(plain.attributes['individual-group']).toBeNull()
    const named = (await ok(keyOf(a), 'GET', `/v1/messaging-channels/${c.id}/?use-group-name=false`)).data as Json
    expect(named.attributes.name).not.toBe('Heart care')
    expect(named.attributes.name).toContain('Pat Lee')
    const embedded = (await ok(keyOf(a), 'GET', `/v1/messaging-channels/${c.id}/?include-individual-group=true`)).data as Json
    expect(embedded.attributes['individual-group']).toMatchObject({
      name: 'Heart care', 'individuals-count': 2, 'leader-ids': [ids.niaUser], leaders: [{ id: ids.niaUser, 'first-name': 'Nia', 'last-name': 'Nurse' }],
    })
    expect(embedded.attributes['individual-group']['individual-ids'].sort()).toEqual([ids.pat, ids.kim].sort())
    expect(embedded.attributes['individual-group'].individuals[0]).toMatchObject({ owner: { type: 'organization' } })
    const other = (await ok(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': otherGroupId, 'individual-ids': [ids.kim] }))).data as Json
    const listed = await ok(keyOf(a), 'GET', `/v1/messaging-channels/?filter[individual-group-id]=${groupId}`)
    expect(listed.data.map((x: Json) => x.id)).toContain(c.id)
    expect(listed.data.map((x: Json) => x.id)).not.toContain(other.id)
    expect(listed.data.every((x: Json) => x.attributes['individual-group-id'] === groupId)).toBe(true)
  })

  it('refuses an unknown, another tenant’s or malformed group at the member, and creates nothing', async () => {
    const before = await countChannels()
    expectJsonApiError(await call(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': '11111111-1111-1111-1111-111111111111' })), 404, { pointer: '/data/attributes/individual-group-id' })
    expectJsonApiError(await call(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': theirGroupId })), 404, { pointer: '/data/attributes/individual-group-id' })
    expectJsonApiError(await call(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': 'care' })), 400, { pointer: '/data/attributes/individual-group-id' })
    expectJsonApiError(await call(keyOf(a), 'GET', `/v1/messaging-channels/?filter[individual-group-id]=${theirGroupId}`), 404, { parameter: 'filter[individual-group-id]' })
    expectJsonApiError(await call(keyOf(a), 'GET', '/v1/messaging-channels/?filter[individual-group-id]=nope'), 400, { parameter: 'filter[individual-group-id]' })
    // A user names only the groups they are a member of.
    expectJsonApiError(await call(nurseToken, 'POST', '/v1/messaging-channels/', createDoc({ 'individual-group-id': otherGroupId })), 404, { pointer: '/data/attributes/individual-group-id' })
    expect(await countChannels()).toBe(before)
  })
})

describe('user tokens', () => {
  it('see only the channels they subscribe to; another channel answers 404 everywhere', async () => {
    const mine = (await ok(nurseToken, 'POST', '/v1/messaging-channels/', createDoc({ 'individual-ids': [ids.pat] }))).data as Json
    // Created by a user token: the user's individual is the acting admin.
    expect(mine.attributes.subscribers.map((s: Json) => [s.id, s.admin])).toContainEqual([ids.nia, true])
    expect(mine.attributes['owner-id']).toBe(ids.nia)
    const notMine = (await ok(keyOf(a), 'POST', '/v1/messaging-channels/', createDoc({ 'individual-ids': [ids.kim], 'individual-id': ids.doc }))).data as Json
    const m = (await ok(keyOf(a), 'POST', '/v1/messaging-messages/', postDoc(notMine.id, 'not for Nia', { 'individual-id': ids.doc }))).data as Json

    const listed = await ok(nurseToken, 'GET', '/v1/messaging-channels/?page[limit]=50')
    expect(listed.data.map((x: Json) => x.id)).toContain(mine.id)
    expect(listed.data.map((x: Json) => x.id)).not.toContain(notMine.id)
    expect(listed.data.every((x: Json) => x.attributes.subscribers.some((s: Json) => s.id === ids.nia))).toBe(true)
    // The organisation key sees both.
    const all = await ok(keyOf(a), 'GET', '/v1/messaging-channels/?page[limit]=50')
    expect(all.data.map((x: Json) => x.id)).toEqual(expect.arrayContaining([mine.id, notMine.id]))

    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-channels/${notMine.id}/`), 404)
    expectJsonApiError(await call(nurseToken, 'PATCH', `/v1/messaging-channels/${notMine.id}/`, { data: { type: 'messaging-channels', id: notMine.id, attributes: [{ op: 'replace', path: '/name', value: 'hijack' }] } }), 404)
    for (const action of ['archive', 'unarchive']) expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-channels/${notMine.id}/${action}/`, {}), 404)
    expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-channels/${notMine.id}/subscribe/`, { 'individual-ids': [ids.nia] }), 404)
    expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-channels/${notMine.id}/sms/`, { active: true }), 404)
    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-messages/?channel-id=${notMine.id}`), 404, { parameter: 'channel-id' })
    expectJsonApiError(await call(nurseToken, 'POST', '/v1/messaging-messages/', postDoc(notMine.id, 'sneak')), 404, { pointer: '/data/attributes/channel-id' })
    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-messages/${m.id}/`), 404)
    expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-messages/${m.id}/ack/`, {}), 404)
    expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-messages/${m.id}/add-reaction/`, { 'reaction-type': 'like' }), 404)
    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-messages/${m.id}/get-receipts/`), 404)
    // Nothing changed: the channel's name, the message's reactions, Nia not subscribed.
    const after = (await ok(keyOf(a), 'GET', `/v1/messaging-channels/${notMine.id}/`)).data as Json
    expect(after.attributes.name).toBe(notMine.attributes.name)
    expect(after.attributes.subscribers.map((s: Json) => s.id)).not.toContain(ids.nia)
    expect(after.attributes.archived).toBe(false)
    expect(((await ok(keyOf(a), 'GET', `/v1/messaging-messages/${m.id}/`)).data as Json).attributes.reactions).toEqual([])
    // The doctor sees that channel, and not Nia's.
    expect((await ok(doctorToken, 'GET', '/v1/messaging-channels/')).data.map((x: Json) => x.id)).toEqual(expect.arrayContaining([notMine.id]))
    expectJsonApiError(await call(doctorToken, 'GET', `/v1/messaging-channels/${mine.id}/`), 404)
    // Another tenant's key does not see the user's channel either.
    expectJsonApiError(await call(keyOf(b), 'GET', `/v1/messaging-channels/${mine.id}/`), 404)
  })

  it('post, ack and react as their user; naming another individual is 403; user-id filters by author', async () => {
    const c = (await ok(nurseToken, 'POST', '/v1/messaging-channels/', createDoc({ 'individual-ids': [ids.pat, ids.doc] }))).data as Json
    const posted = (await ok(nurseToken, 'POST', '/v1/messaging-messages/', postDoc(c.id, 'Hello Pat'))).data as Json
    expect(posted.attributes).toMatchObject({ 'individual-id': ids.nia, 'user-id': ids.niaUser, 'user-name': 'nia', 'first-name': 'Nia', 'user-type': 'participant', ack: true })
    expectJsonApiError(await call(nurseToken, 'POST', '/v1/messaging-messages/', postDoc(c.id, 'as Pat', { 'individual-id': ids.pat })), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-channels/?individual-id=${ids.pat}`), 403, { parameter: 'individual-id' })
    const fromPat = (await ok(keyOf(a), 'POST', '/v1/messaging-messages/', postDoc(c.id, 'Hi Nia', { 'individual-id': ids.pat }))).data as Json
    expect(fromPat.attributes['user-id']).toBeNull()
    // Nia's unread count, as her token reads it.
    const unread = (await ok(nurseToken, 'GET', `/v1/messaging-channels/${c.id}/`)).data as Json
    expect(unread.attributes['caller-new-message-count']).toBe(1)
    const acked = (await ok(nurseToken, 'POST', `/v1/messaging-messages/${fromPat.id}/ack/`, {})).data as Json
    expect(acked.attributes.ack).toBe(true)
    expect(((await ok(nurseToken, 'GET', `/v1/messaging-channels/${c.id}/`)).data as Json).attributes['caller-new-message-count']).toBe(0)
    const reacted = (await ok(nurseToken, 'POST', `/v1/messaging-messages/${fromPat.id}/add-reaction/`, { 'reaction-type': 'love' })).data as Json
    expect(reacted.attributes.reactions).toEqual([expect.objectContaining({ 'individual-id': ids.nia, 'reaction-type': 'love' })])
    expectJsonApiError(await call(nurseToken, 'POST', `/v1/messaging-messages/${fromPat.id}/add-reaction/`, { 'reaction-type': 'sad', 'individual-id': ids.doc }), 403, { pointer: '/individual-id' })
    const receipts = await call(keyOf(a), 'GET', `/v1/messaging-messages/${fromPat.id}/get-receipts/`)
    expect(JSON.parse(receipts.body).read.map((r: Json) => r['individual-id'])).toEqual([ids.nia])

    const byNia = await ok(keyOf(a), 'GET', `/v1/messaging-messages/?channel-id=${c.id}&user-id=${ids.niaUser}`)
    expect(byNia.data.map((x: Json) => x.id)).toEqual([posted.id])
    expect((await ok(keyOf(a), 'GET', `/v1/messaging-messages/?channel-id=${c.id}&user-id=${ids.docUser}`)).data).toEqual([])
    expectJsonApiError(await call(keyOf(a), 'GET', `/v1/messaging-messages/?channel-id=${c.id}&user-id=11111111-1111-1111-1111-111111111111`), 404, { parameter: 'user-id' })
    expectJsonApiError(await call(keyOf(b), 'GET', `/v1/messaging-messages/?channel-id=${c.id}&user-id=${ids.niaUser}`), 404, { parameter: 'channel-id' })
  })

  it('a user without an individual takes no part in channels (403), and changes nothing', async () => {
    const before = await countChannels()
    expect(expectJsonApiError(await call(loneToken, 'GET', '/v1/messaging-channels/'), 403).code).toBe('user_without_individual')
    expectJsonApiError(await call(loneToken, 'POST', '/v1/messaging-channels/', createDoc({ 'individual-ids': [ids.pat] })), 403)
    expect(await countChannels()).toBe(before)
  })
})
