import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import webpush from 'web-push'
import type { Channel, ChannelProviderSettings } from '../../core/delivery/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { WebPushPeer } from '../../../test/peers/webpush.ts'

// User notifications (#132–#134) and their daily counts (#131) over HTTP, each documented sample a
// contract test: a multicast records one notification per recipient (with what went out on each
// channel: the push at a local Web Push peer, the SMS at the sandbox), a push to an individual
// records one too; listed with acknowledged / filter[category] / include[inactive] / individual-id
// / organization-id, read, acknowledged singly or with ack-previous, counted per day.

const TEMPLATES = `templates:
  visit:
    push: { title: "Visit at {{ data.clinic }}", body: "{{ recipient.name }}, see you soon", category: visits }
    sms: "Visit at {{ data.clinic }}"
  note:
    in-app: { title: "Note", body: "A note" }
`
const SAMPLE_KEYS = ['acknowledged', 'active', 'created-at', 'data', 'individual-id', 'organization-id', 'user-first-name', 'user-id', 'user-last-name']
const vapid = webpush.generateVAPIDKeys()
const settings = new Map<string, ChannelProviderSettings>()
let web: WebPushPeer
let t: TestApp
let a: TestTenant
let b: TestTenant
const { call, ok } = courierClient(() => t, { validate: true })
const org = (tt: TestTenant) => tt.credentials.courier.organization_id
const ids: Record<string, string> = {}
let userId = ''

/** A multicast of `template` to these individuals, once its job has sent to everyone. */
async function multicast(tt: TestTenant, template: string, individuals: string[], data: Json = {}): Promise<string> {
  const r = await call(tt, 'POST', '/v1/user-multicasts/', { 'template-id': template, 'template-data': data, 'individual-ids': individuals, 'organization-id': org(tt) })
  expect(r.statusCode, r.body).toBe(201)
  const id = (JSON.parse(r.body) as Json)['task-id'] as string
  await waitFor(`multicast ${id} sent`, async () => (await ok(tt, 'GET', `/v1/multicasts/${id}/`)).data.attributes.status === 'sent', 30_000)
  return id
}
const list = async (tt: TestTenant, query: string) => (await ok(tt, 'GET', `/v1/user-notifications/?${query}`)).data as Json[]

beforeAll(async () => {
  web = await new WebPushPeer({ vapidPublicKey: vapid.publicKey }).start()
  t = await startTestApp({
    workers: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' },
    services: { sendRetry: { retryDelaySeconds: 1, retryLimit: 3 }, channelSettings: async (tenantId: string, channel: Channel) => settings.get(`${tenantId}:${channel}`) },
  })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  settings.set(`${a.tenant.id}:push`, { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' })
  await t.services.templates.load(a.tenant, TEMPLATES, 'yaml')
  await t.services.directory.import(a.tenant, { format: 'yaml', text: `individuals:
  - { external_id: n-pat, first_name: Pat, last_name: Lopez }
  - { external_id: n-otto, first_name: Otto, last_name: Quiet }
users:
  - { email: pat@notes.example, first_name: Patricia, last_name: Lopez-User, individual: n-pat, notifications: [sms, push] }
` })
  const rows = await t.store.db.selectFrom('person_identities as i').innerJoin('people as p', 'p.id', 'i.person_id')
    .select(['i.public_id', 'p.id', 'p.external_id']).where('i.tenant_id', '=', a.tenant.id).where('i.surface', '=', 'cass').execute()
  for (const r of rows) if (r.external_id) ids[r.external_id] = r.public_id
  await t.store.db.updateTable('people').set({ phone: uniquePhone() }).where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'n-pat').execute()
  userId = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).id
  await ok(a, 'POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': ids['n-pat'], type: 'web', token: JSON.stringify(web.subscribe()), 'app-name': 'portal' } } })
})
afterAll(async () => {
  await t?.close()
  await web?.stop()
})

describe('#132 → #133 → #134 user notifications', () => {
  it('a multicast records one notification per recipient with what went out; listed, read and acknowledged', async () => {
    const m = await multicast(a, 'visit', [ids['n-pat']!, ids['n-otto']!], { clinic: 'North' })
    const pat = await list(a, `individual-id=${ids['n-pat']}`)
    expect(pat).toHaveLength(1)
    expect(Object.keys(pat[0]!.attributes).sort()).toEqual(SAMPLE_KEYS)
    const push = { title: 'Visit at North', body: 'Pat Lopez, see you soon', category: 'visits', data: { 'multicast-id': m } }
    expect(pat[0]!.attributes).toMatchObject({
      acknowledged: false, active: true, 'individual-id': ids['n-pat'], 'organization-id': org(a), 'user-id': userId, 'user-first-name': 'Patricia', 'user-last-name': 'Lopez-User',
    })
    expect(pat[0]!.attributes.data).toEqual({ apn: push, fcm: push, sms: { bodies: ['Visit at North'] }, web: push })
    // Otto has no phone and no device: nothing reached him, so his record is inactive (listed with include[inactive]).
    expect(await list(a, `individual-id=${ids['n-otto']}`)).toEqual([])
    const otto = await list(a, `individual-id=${ids['n-otto']}&include[inactive]=true`)
    expect(otto.map((n) => [n.attributes.active, n.attributes['user-id'], n.attributes['user-first-name'], n.attributes.data])).toEqual([[false, null, 'Otto', { apn: {}, fcm: {}, sms: { bodies: [] }, web: {} }]])

    const read = await ok(a, 'GET', `/v1/user-notifications/${pat[0]!.id as string}/`)
    expect(read.data).toEqual(pat[0])
    expect((await list(a, 'filter[category]=visits')).map((n) => n.id)).toEqual([pat[0]!.id])
    expect(await list(a, 'filter[category]=other')).toEqual([])
    expect((await list(a, `organization-id=${org(a)}&acknowledged=false`)).map((n) => n.id)).toEqual([pat[0]!.id])

    const acked = await ok(a, 'POST', `/v1/user-notifications/${pat[0]!.id as string}/ack/`, { 'ack-previous': false })
    expect(acked.data).toMatchObject({ id: pat[0]!.id, type: 'user-notifications', attributes: { acknowledged: true } })
    expect(Object.keys(acked.data.attributes).sort()).toEqual(SAMPLE_KEYS)
    expect(await list(a, 'acknowledged=false')).toEqual([])
    expect((await list(a, 'acknowledged=true')).map((n) => n.id)).toEqual([pat[0]!.id])
    // A rerun of the multicast's batch adds nothing: one record per recipient.
    expect(await t.store.db.selectFrom('msg_user_notifications').select('id').where('tenant_id', '=', a.tenant.id).where('multicast_id', '=', m).execute()).toHaveLength(2)
  })

  it('a push to an individual records one notification; ack-previous acknowledges the older ones of that individual', async () => {
    const first = await t.services.push.sendToIndividual(a.tenant, ids['n-pat']!, { title: 'One', body: 'first', category: 'reminders', data: { k: 1 } })
    expect(first.devices.map((d) => d.status)).toEqual(['sent'])
    await multicast(a, 'note', [ids['n-pat']!])
    await t.services.push.sendToIndividual(a.tenant, ids['n-pat']!, { title: 'Three', body: 'third' })
    const open = await list(a, `individual-id=${ids['n-pat']}&acknowledged=false`)
    expect(open).toHaveLength(3)
    expect(open[0]!.attributes.data).toEqual({
      apn: { title: 'One', body: 'first', category: 'reminders', data: { k: 1 } }, fcm: { title: 'One', body: 'first', category: 'reminders', data: { k: 1 } },
      sms: { bodies: [] }, web: { title: 'One', body: 'first', category: 'reminders', data: { k: 1 } },
    })
    // Acknowledging the second with ack-previous acknowledges the first too, not the third.
    const r = await call(a, 'POST', `/v1/user-notifications/${open[1]!.id as string}/ack/`, { 'ack-previous': true })
    expect(r.statusCode, r.body).toBe(201)
    expect((await list(a, `individual-id=${ids['n-pat']}&acknowledged=false`)).map((n) => n.id)).toEqual([open[2]!.id])
    // The default is false: only this one.
    expect((await call(a, 'POST', `/v1/user-notifications/${open[2]!.id as string}/ack/`, {})).statusCode).toBe(201)
    expect(await list(a, `individual-id=${ids['n-pat']}&acknowledged=false`)).toEqual([])
  })

  it('refuses bad input with the documented error; another tenant sees nothing', async () => {
    const any = (await list(a, 'include[inactive]=true'))[0]!
    expectJsonApiError(await call(a, 'GET', `/v1/user-notifications/?filter[category]=${'x'.repeat(33)}`), 400, { parameter: 'filter[category]' })
    expectJsonApiError(await call(a, 'GET', '/v1/user-notifications/?individual-id=00000000-0000-4000-8000-000000000009'), 404, { parameter: 'individual-id' })
    expectJsonApiError(await call(a, 'POST', `/v1/user-notifications/${any.id as string}/ack/`, { 'ack-previous': 'maybe' }), 400)
    expectJsonApiError(await call(a, 'POST', `/v1/user-notifications/${any.id as string}/ack/`, { other: true }), 400)
    expectJsonApiError(await call(b, 'GET', `/v1/user-notifications/${any.id as string}/`), 404)
    expectJsonApiError(await call(b, 'POST', `/v1/user-notifications/${any.id as string}/ack/`, {}), 404)
    expect((await ok(b, 'GET', '/v1/user-notifications/?include[inactive]=true')).data).toEqual([])
    expectJsonApiError(await call(b, 'GET', `/v1/user-notifications/?individual-id=${ids['n-pat']}`), 404, { parameter: 'individual-id' })
  })
})

describe('#131 user-notification-counts', () => {
  it('counts active notifications per day and user (objects without id), windowed by created-at, paged', async () => {
    const r = await call(a, 'GET', '/v1/user-notification-counts/')
    expect(r.statusCode, r.body).toBe(200)
    const doc = JSON.parse(r.body) as Json
    const today = new Date().toISOString().slice(0, 10)
    expect(doc.data).toEqual([{ attributes: { count: 4, 'daily-for-date': today, 'user-id': userId }, type: 'notification-counts' }])
    expect(doc.meta).toEqual({ 'page[limit]': 500, 'page[offset]': 0, 'page[total]': 1 })
    const since = new Date(Date.now() - 3_600_000).toISOString()
    const windowed = JSON.parse((await call(a, 'GET', `/v1/user-notification-counts/?filter[cmp-created-at]=>=${since}&filter[cmp-created-at]=<=${new Date(Date.now() + 60_000).toISOString()}`)).body) as Json
    expect(windowed.data).toHaveLength(1)
    expect((JSON.parse((await call(a, 'GET', `/v1/user-notification-counts/?filter[cmp-created-at]=<=${since}`)).body) as Json).data).toEqual([])
    const none = JSON.parse((await call(a, 'GET', '/v1/user-notification-counts/?page[limit]=0')).body) as Json
    expect(none).toEqual({ data: [], meta: { 'page[limit]': 0, 'page[offset]': 0, 'page[total]': 1 } })
    expectJsonApiError(await call(a, 'GET', `/v1/user-notification-counts/?filter[cmp-created-at]=<${since}`), 400, { parameter: 'filter[cmp-created-at]' })
    expectJsonApiError(await call(a, 'GET', '/v1/user-notification-counts/?page[limit]=1001'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/user-notification-counts/?filter[cmp-created-at]=>=yesterday'), 400, { parameter: 'filter[cmp-created-at]' })
    expect((JSON.parse((await call(b, 'GET', '/v1/user-notification-counts/')).body) as Json).data).toEqual([])
  })
})
