import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { zonedParts } from '../../lib/timezone.ts'

// Messaging responders (#73–#78) and plugins (#66–#72) over HTTP: the documented sample requests
// as contract tests (their "string" placeholders replaced by real values), a responder answering a
// care team's patient inside its window — once per window, never staff nor itself — and not
// outside it, plugins expanding for a channel's individual, bad args refused at the arg, and
// another tenant's ids answering 404. Every document is checked against JSON:API 1.0.
let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let patient: string
let patient2: string
let clinician: string
let group: string
let otherGroup: string
let theirGroup: string

const NY = 'America/New_York'
const DIRECTORY = (suffix: string) => `
organizations:
  - { external_id: north, name: North Clinic, timezone: ${NY} }
individuals:
  - { external_id: p1, first_name: Lucia, last_name: Romero, preferred_name: Lu, organization: north }
  - { external_id: p2, first_name: Jonas, last_name: Berg, organization: north }
  - { external_id: c1, first_name: Grace, last_name: Okafor, account_type: clinician }
users:
  - { email: grace${suffix}@example.com, first_name: Grace, last_name: Okafor, individual: c1 }
groups:
  - { external_id: care, name: Care team, organization: north, individuals: [p1, p2], users: [grace${suffix}@example.com] }
  - { external_id: other, name: Other team, organization: north, individuals: [] }
`

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.directory.import(a.tenant, { format: 'yaml', text: DIRECTORY('a') })
  await t.services.directory.import(b.tenant, { format: 'yaml', text: DIRECTORY('b') })
  const cass = async (ext: string) => (await t.services.people.getByExternalId(a.tenant, ext)).cassId
  ;[patient, patient2, clinician] = [await cass('p1'), await cass('p2'), await cass('c1')]
  const groupId = async (tt: TestTenant, ext: string) => (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tt.tenant.id).where('external_id', '=', ext).executeTakeFirstOrThrow()).id
  group = await groupId(a, 'care')
  otherGroup = await groupId(a, 'other')
  theirGroup = await groupId(b, 'care')
})
afterAll(async () => t?.close())

const org = (tt: TestTenant) => tt.credentials.courier.organization_id
const { call, ok } = courierClient(() => t)
async function counts(tt: TestTenant) {
  const n = async (table: 'msg_plugins' | 'msg_responders' | 'msg_responder_replies' | 'msg_messages') =>
    Number((await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).n)
  const changed = await t.store.db.selectFrom('msg_responders').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const pchanged = await t.store.db.selectFrom('msg_plugins').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  return { plugins: await n('msg_plugins'), responders: await n('msg_responders'), replies: await n('msg_responder_replies'), messages: await n('msg_messages'), at: [String(changed.at), String(pchanged.at)] }
}

/** `HH:MM:00Z` on New York's wall clock, `minutes` from now (the calendar's notation). */
function nyClock(minutes: number): string {
  const p = zonedParts(new Date(Date.now() + minutes * 60_000), NY)
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}:00Z`
}
const around = { rules: [{ day: 'everyday', 'start-time': nyClock(-60), 'end-time': nyClock(60) }], timezone: NY }
const later = { rules: [{ day: 'everyday', 'start-time': nyClock(120), 'end-time': nyClock(180) }], timezone: NY }

async function channel(member = patient): Promise<string> {
  const doc = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [member], 'individual-id': clinician } } })
  return doc.data.id as string
}
const post = (channelId: string, author: string, message: string) =>
  ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channelId, 'individual-id': author, message } } })
const messages = async (channelId: string): Promise<Json[]> => expectJsonApi(await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${channelId}`)).data as Json[]
const autoReplies = async (channelId: string) => (await messages(channelId)).filter((m) => m.attributes.source === 'auto-responder')

async function responder(attributes: Json = {}): Promise<Json> {
  return expectJsonApi(await ok(a, 'POST', '/v1/messaging-responders/', { data: { type: 'messaging-responders', attributes: {
    args: { message: 'Hi {{preferred-name}}, the {{organization}} team is away; we answer in the morning.' }, 'calendar-args': around,
    'individual-group-id': group, name: 'After hours', 'organization-id': org(a), type: 'auto-reply', ...attributes,
  } }, meta: {} })).data as Json
}

describe('messaging responders', () => {
  it('contract: the documented create, list, read, update, disable and enable samples', async () => {
    const start = new Date(Date.now() - 3_600_000).toISOString()
    const end = new Date(Date.now() + 86_400_000).toISOString()
    // #74's sample with its "string" placeholders filled in.
    const created = expectJsonApi(await ok(a, 'POST', '/v1/messaging-responders/', { data: { attributes: {
      args: { message: 'Away' }, 'calendar-args': { rules: [{ day: 'everyday', 'end-time': '14:15:22Z', 'start-time': '13:15:22Z' }], timezone: NY },
      'end-at': end, 'individual-group-id': otherGroup, name: 'Sample', 'organization-id': org(a), 'start-at': start, type: 'auto-reply',
    }, type: 'messaging-responders' }, meta: {} }))
    const r = created.data
    expect(r.type).toBe('messaging-responders')
    expect(r.attributes).toEqual({
      args: { message: 'Away' }, 'calendar-args': { rules: [{ day: 'everyday', 'end-time': '14:15:22Z', 'start-time': '13:15:22Z' }], timezone: NY },
      'created-at': expect.any(String), 'created-by': org(a), enabled: true, 'end-at': new Date(end).toISOString(), 'individual-group-id': otherGroup,
      'last-modified-at': expect.any(String), 'last-modified-by': org(a), name: 'Sample', 'organization-id': org(a), 'start-at': new Date(start).toISOString(), type: 'auto-reply',
    })
    expect(expectJsonApi(await ok(a, 'GET', `/v1/messaging-responders/${r.id}/`)).data).toEqual(r)
    // #73 with every documented parameter.
    const q = `organization-id=${org(a)}&filter[cmp-end-at]=${encodeURIComponent(`>=${start}`)}&filter[cmp-end-at]=${encodeURIComponent(`<${new Date(Date.now() + 2 * 86_400_000).toISOString()}`)}` +
      `&filter[cmp-start-at]=${encodeURIComponent(`<=${end}`)}&filter[enabled]=true&filter[individual-group-id]=${otherGroup}&sort=-end-at&page[limit]=10&page[offset]=0`
    const listed = expectJsonApi(await ok(a, 'GET', `/v1/messaging-responders/?${q}`))
    expect(listed.data.map((x: Json) => x.id)).toEqual([r.id])
    expect(listed.meta).toEqual({ 'page[limit]': 10, 'page[offset]': 0, 'page[total]': 1 })
    expect((await ok(a, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}&filter[cmp-end-at]=${encodeURIComponent(`<${start}`)}`)).data).toEqual([])
    // #76's sample: start-at and end-at as {} (untyped there) clear them.
    const patched = expectJsonApi(await ok(a, 'PATCH', `/v1/messaging-responders/${r.id}/`, { data: { attributes: {
      args: { message: 'Back soon' }, 'calendar-args': { rules: [{ day: 'weekdays', 'end-time': '14:15:22Z', 'start-time': '09:00:00Z' }], timezone: 'Europe/Paris' },
      'end-at': {}, 'individual-group-id': otherGroup, name: 'Renamed', 'start-at': {}, type: 'auto-reply',
    }, id: r.id, type: 'messaging-responders' }, meta: {} }))
    expect(patched.data.attributes).toMatchObject({ name: 'Renamed', 'start-at': null, 'end-at': null, args: { message: 'Back soon' }, 'calendar-args': { timezone: 'Europe/Paris' } })
    // #77, #78: {} → 201 with the responder.
    expect(expectJsonApi(await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})).data.attributes.enabled).toBe(false)
    expect((await ok(a, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}&filter[enabled]=false`)).data.map((x: Json) => x.id)).toContain(r.id)
    expect(expectJsonApi(await ok(a, 'POST', `/v1/messaging-responders/${r.id}/enable/`, {})).data.attributes.enabled).toBe(true)
  })

  it('answers a patient of its group inside its window, once per window, never staff or itself, marked auto-responder', async () => {
    const r = await responder()
    const c = await channel()
    await post(c, patient, 'Hello, I have a question')
    const replies = await autoReplies(c)
    expect(replies).toHaveLength(1)
    expect(replies[0]!.attributes).toMatchObject({ message: 'Hi Lu, the North Clinic team is away; we answer in the morning.', source: 'auto-responder', 'user-type': 'organization' })
    // No reply storm: the same window answers once.
    await post(c, patient, 'Are you there?')
    expect(await autoReplies(c)).toHaveLength(1)
    // One per channel: another channel of the team gets its own, for its own individual.
    const c2 = await channel(patient2)
    await post(c2, patient2, 'Hi')
    expect((await autoReplies(c2)).map((m) => m.attributes.message)).toEqual(['Hi Jonas, the North Clinic team is away; we answer in the morning.'])
    // Staff never get one, also in a fresh channel.
    const staffOnly = await channel()
    await post(staffOnly, clinician, 'Note for the team')
    expect(await autoReplies(staffOnly)).toHaveLength(0)
    // Re-enabled: a new window, one more reply.
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})
    await post(c, patient, 'Still there?')
    expect(await autoReplies(c)).toHaveLength(1)
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/enable/`, {})
    await post(c, patient, 'Hello again')
    expect(await autoReplies(c)).toHaveLength(2)
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})
  })

  it('does not answer outside its calendar or before start-at, and answers once moved into the window', async () => {
    const r = await responder({ 'calendar-args': later })
    const c = await channel()
    await post(c, patient, 'Hello?')
    expect(await autoReplies(c)).toHaveLength(0)
    await ok(a, 'PATCH', `/v1/messaging-responders/${r.id}/`, { data: { type: 'messaging-responders', id: r.id, attributes: { 'calendar-args': around, 'start-at': new Date(Date.now() + 3_600_000).toISOString() } } })
    await post(c, patient, 'Hello??')
    expect(await autoReplies(c)).toHaveLength(0)
    await ok(a, 'PATCH', `/v1/messaging-responders/${r.id}/`, { data: { type: 'messaging-responders', id: r.id, attributes: { 'start-at': null } } })
    await post(c, patient, 'Hello???')
    expect((await autoReplies(c)).map((m) => m.attributes.message)).toEqual(['Hi Lu, the North Clinic team is away; we answer in the morning.'])
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})
  })

  it('gives one reply when two messages arrive at once, and shows a user only their teams\' responders', async () => {
    const r = await responder({ name: 'Concurrent' })
    const c = await channel()
    await Promise.all([post(c, patient, 'one'), post(c, patient, 'two'), post(c, patient, 'three')])
    expect(await autoReplies(c)).toHaveLength(1)
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})
    const elsewhere = await responder({ 'individual-group-id': otherGroup, 'calendar-args': later })
    const { token } = await t.services.directory.issueUserToken(a.tenant, 'gracea@example.com')
    const asUser = (method: 'GET' | 'POST', url: string, body?: unknown) => t.app.inject({
      method, url, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    })
    const mine = JSON.parse((await asUser('GET', `/v1/messaging-responders/?organization-id=${org(a)}`)).body) as Json
    expect(mine.data.map((x: Json) => x.id)).toContain(r.id)
    expect(mine.data.map((x: Json) => x.id)).not.toContain(elsewhere.id)
    expectJsonApiError(await asUser('GET', `/v1/messaging-responders/${elsewhere.id}/`), 404)
    const userId = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).id
    const res = await asUser('POST', `/v1/messaging-responders/${r.id}/enable/`, {})
    expect(res.statusCode, res.body).toBe(201)
    expect((JSON.parse(res.body) as Json).data.attributes).toMatchObject({ enabled: true, 'last-modified-by': userId })
    await ok(a, 'POST', `/v1/messaging-responders/${r.id}/disable/`, {})
  })

  it('refuses bad input at the member at fault and writes nothing', async () => {
    const before = await counts(a)
    const bad = async (attributes: Json, pointer: string, status = 400) =>
      expectJsonApiError(await call(a, 'POST', '/v1/messaging-responders/', { data: { type: 'messaging-responders', attributes: {
        args: { message: 'Away' }, 'individual-group-id': group, name: 'x', 'organization-id': org(a), type: 'auto-reply', ...attributes,
      } } }), status, { pointer })
    await bad({ 'calendar-args': { rules: [], timezone: 'Mars/Olympus' } }, '/data/attributes/calendar-args/timezone')
    await bad({ 'calendar-args': { rules: [{ day: 'funday', 'start-time': '09:00:00Z', 'end-time': '10:00:00Z' }], timezone: NY } }, '/data/attributes/calendar-args/rules/0/day')
    await bad({ 'calendar-args': { rules: [{ day: 'monday', 'start-time': '09:00:00Z', 'end-time': '09:00:30Z' }], timezone: NY } }, '/data/attributes/calendar-args/rules/0/end-time')
    await bad({ 'start-at': '2026-05-01T00:00:00Z', 'end-at': '2026-04-01T00:00:00Z' }, '/data/attributes/end-at')
    await bad({ 'start-at': 'tomorrow' }, '/data/attributes/start-at')
    await bad({ type: 'robot' }, '/data/attributes/type')
    await bad({ args: {} }, '/data/attributes/args/message')
    await bad({ args: { message: 'Hi {{nickname}}' } }, '/data/attributes/args/message')
    await bad({ 'individual-group-id': theirGroup }, '/data/attributes/individual-group-id', 404)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}&sort=name`), 400, { parameter: 'sort' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}&filter[cmp-end-at]=soon`), 400, { parameter: 'filter[cmp-end-at]' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-responders/'), 400, { parameter: 'organization-id' })
    expect(await counts(a)).toEqual(before)
  })

  it('answers another tenant\'s ids as unknown ones', async () => {
    const r = await responder({ 'calendar-args': later })
    const before = await counts(a)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-responders/${r.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-responders/${r.id}/enable/`, {}), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/messaging-responders/${r.id}/`, { data: { type: 'messaging-responders', id: r.id, attributes: { name: 'mine' } } }), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}`), 404, { parameter: 'organization-id' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-responders/?organization-id=${org(a)}&filter[individual-group-id]=${theirGroup}`), 404, { parameter: 'filter[individual-group-id]' })
    expect((await ok(b, 'GET', `/v1/messaging-responders/?organization-id=${org(b)}`)).data).toEqual([])
    expect(await counts(a)).toEqual(before)
  })
})

describe('messaging plugins', () => {
  const create = (attributes: Json, tt: TestTenant = a) => call(tt, 'POST', '/v1/messaging-plugins/', { data: { type: 'messaging-plugins', attributes: { 'organization-id': org(tt), ...attributes } }, meta: {} })

  it('contract: the documented create, list, read, update, disable, enable and expand samples', async () => {
    const created = expectJsonApi(JSON.parse((await create({ args: { text: 'Call us at 555-0100.' }, name: 'phoneline', type: 'snippet' })).body))
    const p = created.data
    expect(p.attributes).toEqual({
      args: { text: 'Call us at 555-0100.' }, 'created-at': expect.any(String), 'created-by': org(a), enabled: true, 'last-modified-at': expect.any(String),
      'last-modified-by': org(a), name: 'phoneline', 'organization-id': org(a), type: 'snippet',
    })
    expect(expectJsonApi(await ok(a, 'GET', `/v1/messaging-plugins/${p.id}/`)).data).toEqual(p)
    const listed = expectJsonApi(await ok(a, 'GET', `/v1/messaging-plugins/?organization-id=${org(a)}&filter[name]=phoneline&filter[type]=snippet&page[limit]=5&page[offset]=0`))
    expect(listed.data.map((x: Json) => x.id)).toEqual([p.id])
    expect(listed.meta['page[total]']).toBe(1)
    const patched = expectJsonApi(await ok(a, 'PATCH', `/v1/messaging-plugins/${p.id}/`, { data: { attributes: { args: { template: 'Hello {{name}} of {{organization}}!' }, name: 'greeting', type: 'template' }, id: p.id, type: 'messaging-plugins' }, meta: {} }))
    expect(patched.data.attributes).toMatchObject({ name: 'greeting', type: 'template', args: { template: 'Hello {{name}} of {{organization}}!' } })
    const c = await channel()
    const expanded = await ok(a, 'POST', `/v1/messaging-plugins/${p.id}/expand/`, { 'channel-id': c })
    expect(expanded).toEqual({ message: 'Hello Lu Romero of North Clinic!' })
    expect(expectJsonApi(await ok(a, 'POST', `/v1/messaging-plugins/${p.id}/disable/`, {})).data.attributes.enabled).toBe(false)
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-plugins/${p.id}/expand/`, { 'channel-id': c }), 409)
    expect(expectJsonApi(await ok(a, 'POST', `/v1/messaging-plugins/${p.id}/enable/`, {})).data.attributes.enabled).toBe(true)
    expect((await ok(a, 'POST', `/v1/messaging-plugins/${p.id}/expand/`, { 'channel-id': c })).message).toBe('Hello Lu Romero of North Clinic!')
  })

  it('expands a snippet as it is and a template with empty values when the channel has no individual but staff', async () => {
    const snippet = expectJsonApi(JSON.parse((await create({ args: { text: 'See {{name}} literally? No: snippets are text.' }, name: 'literal1', type: 'snippet' })).body)).data
    const template = expectJsonApi(JSON.parse((await create({ args: { template: 'Dear {{first-name}} {{last-name}}' }, name: 'dear1', type: 'template' })).body)).data
    const staffOnly = (await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-id': clinician } } })).data.id
    expect((await ok(a, 'POST', `/v1/messaging-plugins/${snippet.id}/expand/`, { 'channel-id': staffOnly })).message).toBe('See {{name}} literally? No: snippets are text.')
    expect((await ok(a, 'POST', `/v1/messaging-plugins/${template.id}/expand/`, { 'channel-id': staffOnly })).message).toBe('Dear  ')
  })

  it('refuses bad names, types and args at the member at fault and writes nothing', async () => {
    expect((await create({ args: { text: 'x' }, name: 'taken1', type: 'snippet' })).statusCode).toBe(201)
    const before = await counts(a)
    expectJsonApiError(await create({ args: { template: 'Hi {{nickname}}' }, name: 'badtpl', type: 'template' }), 400, { pointer: '/data/attributes/args/template' })
    expectJsonApiError(await create({ args: { text: 'x', extra: 1 }, name: 'extra1', type: 'snippet' }), 400, { pointer: '/data/attributes/args/extra' })
    expectJsonApiError(await create({ args: { text: '' }, name: 'empty1', type: 'snippet' }), 400, { pointer: '/data/attributes/args/text' })
    expectJsonApiError(await create({ args: { text: 42 }, name: 'num1', type: 'snippet' }), 400, { pointer: '/data/attributes/args/text' })
    expectJsonApiError(await create({ args: { text: 'x' }, name: 'macro', type: 'macro' }), 400, { pointer: '/data/attributes/type' })
    expectJsonApiError(await create({ args: { text: 'x' }, name: 'Bad-Name', type: 'snippet' }), 400, { pointer: '/data/attributes/name' })
    expectJsonApiError(await create({ args: { text: 'x' }, name: 'abc', type: 'snippet' }), 400, { pointer: '/data/attributes/name' })
    expectJsonApiError(await create({ args: { text: 'x' }, name: 'taken1', type: 'snippet' }), 409, { pointer: '/data/attributes/name' })
    const id = (await ok(a, 'GET', `/v1/messaging-plugins/?organization-id=${org(a)}&filter[name]=taken1`)).data[0].id as string
    // A type change checks the args it keeps.
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-plugins/${id}/`, { data: { type: 'messaging-plugins', id, attributes: { type: 'template' } } }), 400, { pointer: '/data/attributes/args/text' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-plugins/?organization-id=${org(a)}&filter[name]=abc`), 400, { parameter: 'filter[name]' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-plugins/?organization-id=${org(a)}&filter[name]=${'a'.repeat(16)}`), 400, { parameter: 'filter[name]' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-plugins/${id}/expand/`, {}), 400, { pointer: '/channel-id' })
    expect(await counts(a)).toEqual(before)
  })

  it('answers another tenant\'s ids as unknown ones', async () => {
    const p = expectJsonApi(JSON.parse((await create({ args: { text: 'x' }, name: 'private1', type: 'snippet' })).body)).data
    const theirChannel = (await ok(b, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(b) } } })).data.id
    const before = await counts(a)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-plugins/${p.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-plugins/${p.id}/disable/`, {}), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/messaging-plugins/${p.id}/`, { data: { type: 'messaging-plugins', id: p.id, attributes: { name: 'stolen1' } } }), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-plugins/${p.id}/expand/`, { 'channel-id': theirChannel }), 404)
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-plugins/${p.id}/expand/`, { 'channel-id': theirChannel }), 404, { pointer: '/channel-id' })
    expectJsonApiError(await create({ args: { text: 'x' }, name: 'cross1', type: 'snippet', 'organization-id': org(a) }, b), 404, { pointer: '/data/attributes/organization-id' })
    expect((await ok(b, 'GET', `/v1/messaging-plugins/?organization-id=${org(b)}`)).data).toEqual([])
    expect(await counts(a)).toEqual(before)
  })
})

describe('responders and bulk messages', () => {
  it('a bulk message from a patient of the group is answered in each new channel, as a single post is', async () => {
    await responder()
    const bulk = expectJsonApi(await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'individual-ids': [patient2, clinician], 'auto-create-channel': true, 'sender-individual-id': patient, message: 'From Lu to everyone',
    } } })).data as Json
    // No workers in this app: run the fan-out job's work here (it posts through MessagesService.postMany).
    await t.services.bulkMessages.run(a.tenant, bulk.id as string)
    const made = await t.store.db.selectFrom('msg_bulk_recipients').select('channel_id').where('tenant_id', '=', a.tenant.id).where('bulk_message_id', '=', bulk.id as string).execute()
    expect(made).toHaveLength(2)
    for (const { channel_id } of made) {
      const all = await messages(channel_id!)
      expect(all.map((m) => m.attributes.message)[0]).toBe('From Lu to everyone')
      expect((await autoReplies(channel_id!)).map((m) => m.attributes['user-type'])).toEqual(['organization'])
    }
  })
})
