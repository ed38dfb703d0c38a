import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import webpush from 'web-push'
import type { Channel, ChannelProviderSettings } from '../../core/delivery/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { WebPushPeer } from '../../../test/peers/webpush.ts'

// Templated multicasts over HTTP: #80/#81/#79 (multicasts), #26 (individual multicast), #130/#129
// (user multicasts), #138 (user multicast) — each documented sample a contract test. A template is
// rendered per recipient in their language and sent on the channels it has and the recipient can be
// reached on: SMS and e-mail seen at the sandbox's outbox, pushes at a local Web Push peer, the in-app
// part in user-multicasts. The user's `notifications` preference (#137) and the suppression list
// are honoured; refusals write nothing; the job resumes after a crash with no duplicate and no gap.

const TEMPLATES = `templates:
  visit:
    data-schema:
      type: object
      required: [clinic]
      properties: { clinic: { type: string, minLength: 1 } }
    push: { title: "Visit at {{ data.clinic }}", body: "{{ recipient.name }}, see you soon", category: visits }
    sms: "Hi {{ recipient.name }}, visit at {{ data.clinic }}"
    email: { subject: "Visit at {{ data.clinic }}", text: "Hello {{ recipient.name }}", html: "<p>Hello {{ recipient.name }}</p>" }
    in-app: { title: "Visit", body: "See you at {{ data.clinic }}" }
    languages:
      es: { sms: "Hola {{ recipient.name }}, cita en {{ data.clinic }}" }
  note:
    sms: "Note for {{ recipient.name | default: 'you' }}"
    in-app: { title: "Note", body: "A note" }
`

const vapid = webpush.generateVAPIDKeys()
const settings = new Map<string, ChannelProviderSettings>()
let web: WebPushPeer
let t: TestApp
let a: TestTenant
let b: TestTenant
const { call, ok } = courierClient(() => t, { validate: true })
const org = (tt: TestTenant) => tt.credentials.courier.organization_id

/** The tenant's outbox as the sandbox shows it. */
async function outbox(tt: TestTenant): Promise<Json[]> {
  const r = await t.app.inject({ url: '/sandbox/api/outbox?limit=200', headers: { authorization: tt.cassAuth } })
  expect(r.statusCode, r.body).toBe(200)
  return (JSON.parse(r.body) as Json).data as Json[]
}
/** A multicast's document once its job has sent to everyone. */
const finished = (tt: TestTenant, id: string) => waitFor(`multicast ${id} sent`, async () => {
  const m = await ok(tt, 'GET', `/v1/multicasts/${id}/`)
  return m.data.attributes.status === 'sent' ? m : undefined
}, 30_000)
/** Every outbox message of these sends, once the sandbox has taken them (or suppression held them back). */
const delivered = (tt: TestTenant, n: number) => waitFor(`${n} messages settled`, async () => {
  const all = (await outbox(tt)).filter((m) => ['sent', 'suppressed', 'delivered'].includes(String(m.status)))
  return all.length >= n ? all : undefined
}, 30_000)
const counts = async (tt: TestTenant) => {
  const q = (table: 'msg_multicasts' | 'msg_multicast_recipients' | 'outbox_messages') => t.store.db.selectFrom(table).select(sql<string>`count(*)`.as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  return [Number((await q('msg_multicasts')).n), Number((await q('msg_multicast_recipients')).n), Number((await q('outbox_messages')).n)]
}

beforeAll(async () => {
  web = await new WebPushPeer({ vapidPublicKey: vapid.publicKey }).start()
  t = await startTestApp({
    workers: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' },
    services: { sendRetry: { retryDelaySeconds: 1, retryLimit: 3 }, channelSettings: async (tenantId: string, channel: Channel) => settings.get(`${tenantId}:${channel}`) },
  })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  for (const tt of [a, b]) {
    settings.set(`${tt.tenant.id}:push`, { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' })
    await t.services.templates.load(tt.tenant, TEMPLATES, 'yaml')
  }
})
afterAll(async () => {
  await t?.close()
  await web?.stop()
})

/** Individuals of a tenant made by a directory import (with phones set on their people), and their ids. */
async function directory(tt: TestTenant, yaml: string, phones: Record<string, string> = {}, languages: Record<string, string> = {}): Promise<Record<string, string>> {
  await t.services.directory.import(tt.tenant, { format: 'yaml', text: yaml })
  const ids: Record<string, string> = {}
  const rows = await t.store.db.selectFrom('person_identities as i').innerJoin('people as p', 'p.id', 'i.person_id')
    .select(['i.public_id', 'p.id', 'p.external_id']).where('i.tenant_id', '=', tt.tenant.id).where('i.surface', '=', 'cass').execute()
  for (const r of rows) {
    if (!r.external_id) continue
    ids[r.external_id] = r.public_id
    if (phones[r.external_id]) await t.store.db.updateTable('people').set({ phone: phones[r.external_id]! }).where('id', '=', r.id).execute()
    if (languages[r.external_id]) await t.store.db.updateTable('people').set({ language_type: languages[r.external_id]! }).where('id', '=', r.id).execute()
  }
  return ids
}

describe('#80 → #81 → #79 multicasts', () => {
  it('the documented sample: all participants, each rendered and sent on their channels; the task readable by id; listed', async () => {
    const tt = await createTenant(t.services)
    await t.services.templates.load(tt.tenant, TEMPLATES, 'yaml')
    const phones = { 'ap-1': uniquePhone(), 'ap-2': uniquePhone() }
    const ids = await directory(tt, `individuals:
  - { external_id: ap-1, first_name: Ada, last_name: One }
  - { external_id: ap-2, first_name: Ben, last_name: Two, preferred_name: Benny }
  - { external_id: ap-3, first_name: Cy }
`, phones)
    // #80's sample body, with the tenant's organisation and a template of its own.
    const created = await ok(tt, 'POST', '/v1/multicasts/', { data: { type: 'multicasts', attributes: { data: {}, 'filter-type': 'all-participants', 'filter-value': {}, 'organization-id': org(tt), 'template-id': 'note' } } })
    expect(created.data).toMatchObject({ type: 'multicasts', attributes: { 'template-id': 'note', 'filter-type': 'all-participants', 'organization-id': org(tt), 'created-by': org(tt), kind: 'multicast', 'recipient-count': 3 } })
    expect(created.data.attributes['task-id']).toBe(created.data.id)
    const done = await finished(tt, created.data.id)
    expect(done.data.attributes).toMatchObject({ status: 'sent', 'recipient-count': 3, 'sent-count': 3, 'skipped-count': 0, 'pending-count': 0, 'individual-ids': null, 'individual-group': null })
    expect(done.data.attributes['finished-at']).not.toBeNull()
    // SMS to the two with phones, each once, rendered with their names; the third gets the in-app part only.
    const sms = (await delivered(tt, 2)).filter((m) => m.channel === 'sms')
    expect(sms.map((m) => [m.to, m.body, m.provider]).sort()).toEqual([[phones['ap-1'], 'Note for Ada One', 'sandbox'], [phones['ap-2'], 'Note for Benny', 'sandbox']].sort())
    const cy = await ok(tt, 'GET', `/v1/user-multicasts/?individual-id=${ids['ap-3']}`)
    expect(cy.data).toHaveLength(1)
    expect(cy.data[0].attributes).toMatchObject({ 'individual-id': ids['ap-3'], 'organization-id': org(tt), 'template-id': 'note', 'template-data': {}, channels: ['in-app'], 'in-app': { title: 'Note', body: 'A note' }, 'multicast-id': created.data.id })
    // #81 with include-individual-ids; #79 with its filters.
    const read = await ok(tt, 'GET', `/v1/multicasts/${created.data.id}/?include-individual-ids=true`)
    expect([...read.data.attributes['individual-ids']].sort()).toEqual(Object.values(ids).sort())
    const listed = await ok(tt, 'GET', '/v1/multicasts/?template-id=note')
    expect(listed.data.map((d: Json) => d.id)).toEqual([created.data.id])
    expect(listed.meta).toMatchObject({ 'page[total]': 1 })
    expect((await ok(tt, 'GET', '/v1/multicasts/?template-id=visit')).data).toEqual([])
    const since = new Date(Date.now() - 60_000).toISOString()
    expect((await ok(tt, 'GET', `/v1/multicasts/?filter[cmp-created-at]=>=${since}`)).data).toHaveLength(1)
    expect((await ok(tt, 'GET', `/v1/multicasts/?filter[cmp-created-at]=<${since}`)).data).toHaveLength(0)
    // Another tenant sees none of it.
    expectJsonApiError(await call(b, 'GET', `/v1/multicasts/${created.data.id}/`), 404)
    expect((await ok(b, 'GET', '/v1/multicasts/')).data).toEqual([])
  })

  it('an individual group: its members only, in their languages, with push, e-mail and the user’s notifications preference (#137) honoured', async () => {
    const phones = { 'g-pat': uniquePhone(), 'g-nia': uniquePhone(), 'g-out': uniquePhone() }
    const ids = await directory(a, `individuals:
  - { external_id: g-pat, first_name: Pat, last_name: Lopez }
  - { external_id: g-nia, first_name: Nia, last_name: Nurse }
  - { external_id: g-out, first_name: Otto }
users:
  - { email: nia.pref@a.example, first_name: Nia, last_name: Nurse, individual: g-nia }
groups:
  - { external_id: g-team, name: G Team, individuals: [g-pat, g-nia] }
`, phones, { 'g-pat': 'es-US' })
    const group = (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'g-team').executeTakeFirstOrThrow()).id
    const nia = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'nia.pref@a.example').executeTakeFirstOrThrow()).id
    // #137: Nia takes e-mail only.
    const patched = await ok(a, 'PATCH', `/v1/users/${nia}/`, { data: { type: 'users', id: nia, attributes: { notifications: ['email'] } } })
    expect(patched.data.attributes.notifications).toEqual(['email'])
    // Pat has a browser subscribed to pushes.
    const subscription = web.subscribe()
    await ok(a, 'POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': ids['g-pat'], type: 'web', token: JSON.stringify(subscription), 'app-name': 'portal' } } })
    const pushesBefore = web.pushes.length

    const created = await ok(a, 'POST', '/v1/multicasts/', { data: { type: 'multicasts', attributes: {
      data: { clinic: 'North' }, 'filter-type': 'individual-group', 'filter-value': { 'individual-group-id': group }, 'organization-id': org(a), 'template-id': 'visit',
    } } })
    expect(created.data.attributes['individual-group-id']).toBe(group)
    await finished(a, created.data.id)
    // Every outbox row is written with its recipient's batch: all there once the multicast is sent.
    const targets = [phones['g-pat'], phones['g-nia'], phones['g-out'], 'nia.pref@a.example']
    expect((await outbox(a)).filter((m) => targets.includes(m.to))).toHaveLength(2)
    const mine = await waitFor('both at the sandbox', async () => {
      const got = (await outbox(a)).filter((m) => targets.includes(m.to) && m.status === 'sent')
      return got.length === 2 ? got : undefined
    }, 30_000)
    // Pat: the Spanish SMS (the variant's), the push; Nia: the e-mail only (her preference), not the SMS; Otto: nothing.
    expect(mine.map((m) => [m.channel, m.to, m.body]).sort()).toEqual([
      ['email', 'nia.pref@a.example', 'Hello Nia Nurse'],
      ['sms', phones['g-pat'], 'Hola Pat Lopez, cita en North'],
    ].sort())
    expect(mine.find((m) => m.channel === 'email')).toMatchObject({ subject: 'Visit at North' })
    await waitFor('the push at the peer', async () => (web.pushes.length > pushesBefore ? true : undefined), 10_000)
    expect(web.pushes.slice(pushesBefore).map((p) => JSON.parse(p.payload) as Json)).toEqual([
      { title: 'Visit at North', body: 'Pat Lopez, see you soon', data: { 'multicast-id': created.data.id, 'badge-count': 0 }, category: 'visits' },
    ])
    const pat = await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['g-pat']}`)
    expect(pat.data[0].attributes).toMatchObject({ channels: ['sms', 'push', 'in-app'], language: 'es', 'template-data': { clinic: 'North' }, 'in-app': { title: 'Visit', body: 'See you at North' } })
    const niaSent = await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['g-nia']}`)
    expect(niaSent.data[0].attributes.channels).toEqual(['email', 'in-app'])
    expect((await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['g-out']}`)).data).toEqual([])
    // include-individual-group embeds the group as in messaging-channels.
    const read = await ok(a, 'GET', `/v1/multicasts/${created.data.id}/?include-individual-group=true`)
    expect(read.data.attributes['individual-group']).toMatchObject({ name: 'G Team', 'individuals-count': 2 })
    expect((await ok(a, 'GET', `/v1/multicasts/?individual-group-id=${group}`)).data.map((d: Json) => d.id)).toEqual([created.data.id])
  })

  it('the suppression list holds an SMS back (suppressed in the outbox, nothing at the provider); the other channels still go', async () => {
    const phone = uniquePhone()
    const ids = await directory(a, 'individuals:\n  - { external_id: s-sup, first_name: Sue }\n', { 's-sup': phone })
    await t.services.suppression.add(a.tenant, { scope: 'sms', address: phone, reason: 'stop_keyword', source: 'test' })
    const r = await call(a, 'POST', `/v1/individuals/${ids['s-sup']}/multicast/`, { 'template-id': 'visit', 'template-data': { clinic: 'East' }, 'organization-id': org(a) })
    expect(r.statusCode, r.body).toBe(201)
    const task = JSON.parse(r.body) as Json
    await finished(a, task['task-id'])
    const held = await waitFor('the suppressed SMS', async () => (await outbox(a)).find((m) => m.to === phone), 10_000)
    expect(held).toMatchObject({ channel: 'sms', status: 'suppressed', body: 'Hi Sue, visit at East' })
    const sent = await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['s-sup']}`)
    expect(sent.data[0].attributes['in-app']).toEqual({ title: 'Visit', body: 'See you at East' })
  })

  it('refuses what names no template, data the data-schema refuses, an unknown audience, another tenant’s ids — writing nothing', async () => {
    const ids = await directory(a, 'individuals:\n  - { external_id: r-1, first_name: Ray }\n')
    const other = await directory(b, 'individuals:\n  - { external_id: rb-1, first_name: Bo }\n')
    const nowhere = '00000000-0000-4000-8000-000000000080'
    const before = await counts(a)
    const body = (attributes: Json) => ({ data: { type: 'multicasts', attributes: { data: { clinic: 'X' }, 'filter-type': 'all-participants', 'filter-value': {}, 'organization-id': org(a), 'template-id': 'visit', ...attributes } } })
    const refused = async (attributes: Json, status: number, pointer: string) => expectJsonApiError(await call(a, 'POST', '/v1/multicasts/', body(attributes)), status, { pointer })
    expect((await refused({ 'template-id': 'no-such' }, 404, '/data/attributes/template-id')).code).toBe('template_not_found')
    expect((await refused({ data: {} }, 400, '/data/attributes/data')).code).toBe('invalid_template_data')
    expect((await refused({ data: { clinic: 7 } }, 400, '/data/attributes/data')).code).toBe('invalid_template_data')
    await refused({ 'filter-type': 'everyone' }, 400, '/data/attributes/filter-type')
    expect((await refused({ 'filter-value': { x: 1 } }, 400, '/data/attributes/filter-value')).code).toBe('invalid_audience')
    expect((await refused({ 'filter-type': 'individual-group', 'filter-value': {} }, 400, '/data/attributes/filter-value')).code).toBe('invalid_audience')
    expect((await refused({ 'filter-type': 'individual-group', 'filter-value': { 'individual-group-id': nowhere } }, 404, '/data/attributes/filter-value/individual-group-id')).code).toBe('resource_not_found')
    await refused({ 'filter-type': 'channel-participants', 'filter-value': { 'channel-id': nowhere } }, 404, '/data/attributes/filter-value/channel-id')
    await refused({ 'filter-type': 'individuals', 'filter-value': { 'individual-ids': [ids['r-1'], other['rb-1']] } }, 404, '/data/attributes/filter-value/individual-ids/1')
    await refused({ 'filter-type': 'individuals', 'filter-value': { 'individual-ids': ['nope'] } }, 400, '/data/attributes/filter-value/individual-ids')
    expect((await refused({ 'filter-type': 'individuals', 'filter-value': {} }, 400, '/data/attributes/filter-value/individual-ids')).code).toBe('recipients_required')
    await refused({ 'organization-id': org(b) }, 404, '/data/attributes/organization-id')
    expectJsonApiError(await call(a, 'POST', '/v1/multicasts/', { data: { type: 'multicasts', attributes: { 'filter-type': 'all-participants', 'filter-value': {}, 'organization-id': org(a) } } }), 400)
    // The task-result operations refuse the same way.
    const plain = async (url: string, payload: Json, status: number, pointer?: string) => {
      const r = await call(a, 'POST', url, payload)
      expect(r.statusCode, `${url} ${r.body}`).toBe(status)
      if (pointer !== undefined) expect((JSON.parse(r.body) as Json).errors[0].source).toEqual({ pointer })
    }
    await plain(`/v1/individuals/${ids['r-1']}/multicast/`, { 'template-id': 'visit', 'template-data': {} }, 400, '/template-data')
    await plain(`/v1/individuals/${ids['r-1']}/multicast/`, { 'template-id': 'nope', 'template-data': {} }, 404, '/template-id')
    await plain(`/v1/individuals/${ids['r-1']}/multicast/`, { 'template-data': {} }, 400, '/template-id')
    await plain(`/v1/individuals/${other['rb-1']}/multicast/`, { 'template-id': 'note', 'template-data': {} }, 404)
    await plain('/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {} }, 400, '/individual-ids')
    await plain('/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {}, 'individual-ids': [] }, 400, '/individual-ids')
    await plain('/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {}, 'individual-ids': [other['rb-1']] }, 404, '/individual-ids/0')
    await plain('/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {}, 'individual-group-ids': [nowhere] }, 404, '/individual-group-ids/0')
    expect(await counts(a)).toEqual(before)
    // #129 needs an individual of the tenant.
    expectJsonApiError(await call(a, 'GET', '/v1/user-multicasts/'), 400)
    expectJsonApiError(await call(a, 'GET', `/v1/user-multicasts/?individual-id=${other['rb-1']}`), 404, { parameter: 'individual-id' })
  })
})

describe('#26, #130, #138: the task-result operations', () => {
  it('#26 sends to one individual; the task-id is the multicast, read for its progress', async () => {
    const phone = uniquePhone()
    const ids = await directory(a, 'individuals:\n  - { external_id: i-26, first_name: Ivy }\n', { 'i-26': phone })
    const r = await call(a, 'POST', `/v1/individuals/${ids['i-26']}/multicast/`, { 'template-id': 'visit', 'template-data': { clinic: 'West' }, 'organization-id': org(a) })
    expect(r.statusCode, r.body).toBe(201)
    const task = JSON.parse(r.body) as Json
    expect(Object.keys(task).sort()).toEqual(['message-data', 'task-id'])
    expect(task['message-data']).toMatchObject({ 'recipient-count': 1 })
    const m = await finished(a, task['task-id'])
    expect(m.data.attributes).toMatchObject({ kind: 'individual', 'individual-id': ids['i-26'], 'sent-count': 1, 'template-args': { clinic: 'West' } })
    const sms = await waitFor('the SMS at the sandbox', async () => (await outbox(a)).find((x) => x.to === phone && x.status === 'sent'), 10_000)
    expect(sms.body).toBe('Hi Ivy, visit at West')
  })

  it('#130 sends to the listed individuals and the groups’ members, each once; #129 lists it for each', async () => {
    const ids = await directory(a, `individuals:
  - { external_id: u-1, first_name: Uma }
  - { external_id: u-2, first_name: Uli }
  - { external_id: u-3, first_name: Una }
groups:
  - { external_id: u-team, name: U Team, individuals: [u-2, u-3] }
`)
    const group = (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'u-team').executeTakeFirstOrThrow()).id
    const r = await call(a, 'POST', '/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {}, 'individual-group-ids': [group], 'individual-ids': [ids['u-1'], ids['u-2']], 'organization-id': org(a) })
    expect(r.statusCode, r.body).toBe(201)
    const task = JSON.parse(r.body) as Json
    expect(task['message-data']).toMatchObject({ 'recipient-count': 3 })
    const m = await finished(a, task['task-id'])
    expect(m.data.attributes).toMatchObject({ kind: 'user-multicast', 'filter-type': 'individuals', 'sent-count': 3 })
    for (const k of ['u-1', 'u-2', 'u-3']) {
      const list = await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids[k]}`)
      expect(list.data.map((d: Json) => d.attributes['multicast-id']), k).toEqual([task['task-id']])
      expect(list.data[0].type).toBe('user-multicasts')
    }
  })

  it('#138 sends from the user to an individual, or to the user’s own individual; a user without one is refused', async () => {
    const ids = await directory(a, `individuals:
  - { external_id: us-me, first_name: Mo }
  - { external_id: us-pat, first_name: Pia }
users:
  - { email: mo@a.example, first_name: Mo, individual: us-me }
  - { email: loner@a.example, first_name: Lone }
`)
    const user = async (email: string) => (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', email).executeTakeFirstOrThrow()).id
    const mo = await user('mo@a.example')
    const r = await call(a, 'POST', `/v1/users/${mo}/multicast/`, { 'template-id': 'note', data: {}, 'individual-id': ids['us-pat'], 'organization-id': org(a) })
    expect(r.statusCode, r.body).toBe(201)
    const m = await finished(a, (JSON.parse(r.body) as Json)['task-id'])
    expect(m.data.attributes).toMatchObject({ kind: 'user', 'created-by': mo, 'first-name': 'Mo', 'individual-id': ids['us-pat'] })
    const own = await call(a, 'POST', `/v1/users/${mo}/multicast/`, { 'template-id': 'note' })
    expect(own.statusCode, own.body).toBe(201)
    const m2 = await finished(a, (JSON.parse(own.body) as Json)['task-id'])
    expect(m2.data.attributes['individual-id']).toBe(ids['us-me'])
    const before = await counts(a)
    const lone = await call(a, 'POST', `/v1/users/${await user('loner@a.example')}/multicast/`, { 'template-id': 'note' })
    expect(expectJsonApiError(lone, 400, { pointer: '/individual-id' }).code).toBe('recipients_required')
    expectJsonApiError(await call(a, 'POST', `/v1/users/${mo}/multicast/`, { 'template-id': 'note', 'individual-id': '00000000-0000-4000-8000-000000000138' }), 404, { pointer: '/individual-id' })
    expectJsonApiError(await call(a, 'POST', `/v1/users/${mo}/multicast/`, { data: {} }), 400, { pointer: '/template-id' })
    expect(await counts(a)).toEqual(before)
  })
})

describe('with a user token', () => {
  it('sends as the user, to individuals of their care teams only; #129 and #138 likewise', async () => {
    const ids = await directory(a, `individuals:
  - { external_id: ut-pat, first_name: Tess }
  - { external_id: ut-out, first_name: Omar }
users:
  - { email: ut.nurse@a.example, first_name: Una, last_name: Token }
  - { email: ut.other@a.example, first_name: Otto }
groups:
  - { external_id: ut-team, name: UT Team, individuals: [ut-pat], users: [ut.nurse@a.example] }
`)
    const { userId, token } = await t.services.directory.issueUserToken(a.tenant, 'ut.nurse@a.example')
    const other = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'ut.other@a.example').executeTakeFirstOrThrow()).id
    const r = await call(token, 'POST', `/v1/individuals/${ids['ut-pat']}/multicast/`, { 'template-id': 'note', 'template-data': {} })
    expect(r.statusCode, r.body).toBe(201)
    const m = await finished(a, (JSON.parse(r.body) as Json)['task-id'])
    expect(m.data.attributes).toMatchObject({ 'created-by': userId, 'first-name': 'Una', 'last-name': 'Token' })
    expect((await ok(token, 'GET', `/v1/user-multicasts/?individual-id=${ids['ut-pat']}`)).data).toHaveLength(1)
    const before = await counts(a)
    expectJsonApiError(await call(token, 'POST', `/v1/individuals/${ids['ut-out']}/multicast/`, { 'template-id': 'note', 'template-data': {} }), 404)
    expectJsonApiError(await call(token, 'GET', `/v1/user-multicasts/?individual-id=${ids['ut-out']}`), 404, { parameter: 'individual-id' })
    expectJsonApiError(await call(token, 'POST', `/v1/users/${other}/multicast/`, { 'template-id': 'note', 'individual-id': ids['ut-pat'] }), 404)
    expectJsonApiError(await call(token, 'POST', `/v1/users/${userId}/multicast/`, { 'template-id': 'note', 'individual-id': ids['ut-out'] }), 404, { pointer: '/individual-id' })
    expect(await counts(a)).toEqual(before)
  })
})

describe('purge-data (#86)', () => {
  it('erases what an individual was sent and their id on the multicasts that name them', async () => {
    const ids = await directory(a, 'individuals:\n  - { external_id: pg-1, first_name: Gone }\n  - { external_id: pg-2, first_name: Stays }\n', { 'pg-1': uniquePhone() })
    const r = await call(a, 'POST', '/v1/user-multicasts/', { 'template-id': 'note', 'template-data': {}, 'individual-ids': [ids['pg-1'], ids['pg-2']] })
    expect(r.statusCode, r.body).toBe(201)
    const taskId = (JSON.parse(r.body) as Json)['task-id'] as string
    await finished(a, taskId)
    const direct = JSON.parse((await call(a, 'POST', `/v1/individuals/${ids['pg-1']}/multicast/`, { 'template-id': 'note', 'template-data': {} })).body) as Json
    await finished(a, direct['task-id'])
    expect((await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['pg-1']}`)).data).toHaveLength(2)
    const purge = await call(a, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-id': ids['pg-1'], 'entity-type': 'individual', 'request-id': `mc-purge-${ids['pg-1']}` } } })
    expect(purge.statusCode, purge.body).toBe(201)
    const row = await t.store.db.selectFrom('privacy_purges').select('id').where('tenant_id', '=', a.tenant.id).where('request_id', '=', `mc-purge-${ids['pg-1']}`).executeTakeFirstOrThrow()
    const done = await waitFor('the purge done', async () => {
      const p = await t.services.privacy.find(a.tenant, row.id)
      return p.counts.multicast_recipients !== undefined ? p : undefined
    }, 30_000)
    expect(done.counts).toMatchObject({ multicast_recipients: 2 })
    const rows = await t.store.db.selectFrom('msg_multicasts').select(['id', 'individual_id', 'individual_ids']).where('tenant_id', '=', a.tenant.id).where('id', 'in', [taskId, direct['task-id']]).orderBy('created_at').execute()
    expect(rows.map((x) => [x.individual_id, x.individual_ids])).toEqual([[null, [ids['pg-2']]], [null, []]])
    expect((await ok(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['pg-2']}`)).data).toHaveLength(1)
    expectJsonApiError(await call(a, 'GET', `/v1/user-multicasts/?individual-id=${ids['pg-1']}`), 404)
  })
})

describe('the fan-out job is exactly-once', () => {
  it('a run that fails halfway is retried and resumes: one SMS per recipient at the sandbox, none missing', async () => {
    const crashing = await startTestApp({ workers: true, services: { multicastJob: { failFirstAttemptAfter: 4, retryDelaySeconds: 1, concurrency: 1, batchSize: 2 } } })
    try {
      const tt = await createTenant(crashing.services)
      await crashing.services.templates.load(tt.tenant, TEMPLATES, 'yaml')
      const people = await Promise.all(Array.from({ length: 11 }, (_, i) => crashing.services.people.create(tt.tenant, { externalId: `c-${i}`, firstName: `C${i}`, phone: uniquePhone() })))
      const r = await crashing.app.inject({
        method: 'POST', url: '/v1/user-multicasts/', headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ 'template-id': 'note', 'template-data': {}, 'individual-ids': people.map((p) => p.person.cassId) }),
      })
      expect(r.statusCode, r.body).toBe(201)
      const taskId = (JSON.parse(r.body) as Json)['task-id'] as string
      const halfway = await waitFor('the first attempt to fail', async () => {
        const k = await crashing.services.jobs.findKey('messaging.multicast', `multicast:${taskId}`)
        return k && k.attempts >= 1 && k.lastError ? k : undefined
      }, 30_000)
      expect(halfway.lastError).toContain('test hook')
      await waitFor('the multicast sent', async () => ((await crashing.services.multicasts.get(tt.tenant, taskId)).status === 'sent' ? true : undefined), 30_000)
      const m = await crashing.services.multicasts.get(tt.tenant, taskId)
      expect(m.progress).toEqual({ recipients: 11, sent: 11, skipped: 0, pending: 0 })
      const rows = await crashing.store.db.selectFrom('outbox_messages').select(['recipient', 'body']).where('tenant_id', '=', tt.tenant.id).where('channel', '=', 'sms').execute()
      expect(rows.map((x) => x.recipient).sort()).toEqual(people.map((p) => p.person.phone).sort())
      const key = await crashing.services.jobs.findKey('messaging.multicast', `multicast:${taskId}`)
      expect(key!.attempts).toBeGreaterThanOrEqual(2)
    } finally {
      await crashing.close()
    }
  }, 60_000)
})
