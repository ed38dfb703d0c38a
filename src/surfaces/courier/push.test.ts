import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import webpush from 'web-push'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.ts'
import type { Store } from '../../db/store.ts'
import { createMetrics } from '../../http/metrics.ts'
import { createServices, type Services } from '../../services.ts'
import type { ChannelProviderSettings } from '../../core/delivery/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { testConfig, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { openTestStore } from '../../../test/helpers/store.ts'
import { ApnsPeer } from '../../../test/peers/apns.ts'
import { FcmPeer } from '../../../test/peers/fcm.ts'
import { WebPushPeer } from '../../../test/peers/webpush.ts'

// App credentials (#6–#9), user devices (#118–#120), badge counts (#18–#21) through HTTP, and
// `push.sendToIndividual` against local APNs (production and sandbox), FCM and Web Push peers.
// The request log (pino at debug) is captured: no private key may appear in it or in any answer.

const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const fcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
const P8 = apnsKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const RSA_PEM = fcmKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
/** Lines of the PEM bodies: none may ever be served or logged. */
const SECRET_LINES = [...P8.split('\n'), ...RSA_PEM.split('\n')].filter((l) => l.length > 20 && !l.startsWith('-----'))
const TEAM = 'TEAM123456'
const KEY_ID = 'KEY1234567'
const TOPIC = 'org.example.care'
const EMAIL = 'push@care-project.iam.gserviceaccount.com'
const PROJECT = 'care-project'
const vapid = webpush.generateVAPIDKeys()

let store: Store
let services: Services
let app: Awaited<ReturnType<typeof buildApp>>
let production: ApnsPeer
let sandbox: ApnsPeer
let fcm: FcmPeer
let web: WebPushPeer
const channelSettings = new Map<string, ChannelProviderSettings>()
const logLines: string[] = []
const bodies: string[] = []
let tt: TestTenant
let org: string

const client = courierClient(() => ({ app, services, store } as unknown as TestApp), { validate: true })
/** `client.ok`, keeping every answer for the secrets check. */
async function ok(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, status?: number): Promise<Json> {
  const doc = await client.ok(tt, method, url, body, status)
  bodies.push(JSON.stringify(doc))
  return doc
}
async function call(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  const r = await client.call(tt, method, url, body)
  bodies.push(r.body)
  return r
}
const hexToken = () => randomBytes(32).toString('hex')
const serviceAccount = (overrides: Record<string, unknown> = {}) => ({
  type: 'service_account', project_id: PROJECT, private_key_id: 'k1', private_key: RSA_PEM, client_email: EMAIL, token_uri: fcm.tokenUri, ...overrides,
})
const apnData = (overrides: Record<string, unknown> = {}) => ({ 'key-id': KEY_ID, 'team-id': TEAM, p8: P8, ...overrides })
const credential = (attributes: Record<string, unknown>) => ({ data: { type: 'app-credentials', attributes: { 'organization-id': org, ...attributes } }, meta: {} })
async function countRows(table: 'msg_app_credentials' | 'msg_user_devices' | 'msg_badge_counts' | 'msg_user_device_logs'): Promise<number> {
  const r = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  return Number(r.n)
}

beforeAll(async () => {
  production = await new ApnsPeer({ teamId: TEAM, keyId: KEY_ID, topic: TOPIC, publicKey: apnsKey.publicKey }).start()
  sandbox = await new ApnsPeer({ teamId: TEAM, keyId: KEY_ID, topic: TOPIC, publicKey: apnsKey.publicKey }).start()
  fcm = await new FcmPeer({ clientEmail: EMAIL, publicKey: fcmKey.publicKey, project: PROJECT }).start()
  web = await new WebPushPeer({ vapidPublicKey: vapid.publicKey }).start()
  store = await openTestStore()
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  const logger = pino({ level: 'debug' }, sink)
  services = createServices(testConfig({ SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }), store, {
    logger,
    channelSettings: async (tenantId, channel) => channelSettings.get(`${tenantId}:${channel}`),
    pushEndpoints: { apns: { production: { url: production.url, ca: production.cert.cert }, sandbox: { url: sandbox.url, ca: sandbox.cert.cert } }, fcm: fcm.url },
  })
  app = await buildApp({ services, metrics: createMetrics(), logger })
  await app.ready()
  tt = await createTenant(services)
  org = tt.credentials.courier.organization_id
  channelSettings.set(`${tt.tenant.id}:push`, { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' })
})
afterAll(async () => {
  await app?.close()
  await services?.providers.close()
  await store?.close()
  await Promise.all([production?.stop(), sandbox?.stop(), fcm?.stop(), web?.stop()])
})

describe('app credentials (#6–#9)', () => {
  it('creates an APNs token key from the documented payload shape, sealed at rest and served masked; reads, lists, updates and archives it', async () => {
    const created = await ok('POST', '/v1/app-credentials/', credential({ 'app-name': 'cred-ios', data: apnData(), 'display-name': 'Care iOS', 'store-id': TOPIC, 'test-mode': false, type: 'apn' }))
    // The documented response: exactly the sample's attributes.
    expect(Object.keys(created.data.attributes).sort()).toEqual(['app-name', 'archived', 'created-at', 'data', 'display-name', 'last-modified-at', 'organization-id', 'store-id', 'test-mode', 'type'])
    expect(created.data).toMatchObject({
      type: 'app-credentials',
      attributes: { 'app-name': 'cred-ios', archived: false, data: { 'key-id': KEY_ID, 'team-id': TEAM, p8: '****' }, 'display-name': 'Care iOS', 'organization-id': org, 'store-id': TOPIC, 'test-mode': false, type: 'apn' },
    })
    const id = created.data.id as string
    // At rest: the key is sealed, the public members only in `data`.
    const row = await store.db.selectFrom('msg_app_credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    expect(row.data).toEqual({ 'key-id': KEY_ID, 'team-id': TEAM })
    for (const line of SECRET_LINES) expect(row.secret_sealed).not.toContain(line)
    expect(row.secret_sealed).toMatch(/^v1\./)

    expect((await ok('GET', `/v1/app-credentials/${id}/`)).data).toEqual(created.data)
    // The documented update payload, `data: {}` included: the key is kept.
    const updated = await ok('PATCH', `/v1/app-credentials/${id}/`, { data: { type: 'app-credentials', id, attributes: { 'app-name': 'cred-ios', data: {}, 'display-name': 'Care iOS 2', 'organization-id': org, 'store-id': TOPIC, 'test-mode': true } }, meta: {} })
    expect(updated.data.attributes).toMatchObject({ 'display-name': 'Care iOS 2', 'test-mode': true, data: { 'key-id': KEY_ID, p8: '****' } })
    const after = await store.db.selectFrom('msg_app_credentials').select('secret_sealed').where('id', '=', id).executeTakeFirstOrThrow()
    expect(after.secret_sealed).toBe(row.secret_sealed)
    // A masked key on update keeps the stored one too; a new key id is taken.
    await ok('PATCH', `/v1/app-credentials/${id}/`, { data: { type: 'app-credentials', id, attributes: { data: { 'key-id': 'ABCDEFGHIJ', p8: '****' } } } })
    expect((await store.db.selectFrom('msg_app_credentials').select('data').where('id', '=', id).executeTakeFirstOrThrow()).data).toEqual({ 'key-id': 'ABCDEFGHIJ', 'team-id': TEAM })

    const fcmCred = await ok('POST', '/v1/app-credentials/', credential({ 'app-name': 'cred-android', data: serviceAccount(), type: 'fcm' }))
    expect(fcmCred.data.attributes).toMatchObject({ type: 'fcm', 'test-mode': false, 'store-id': '', data: { project_id: PROJECT, client_email: EMAIL, private_key: '****' } })

    const listed = await ok('GET', '/v1/app-credentials/?filter[app-name]=cred-ios')
    expect(listed.data.map((d: Json) => d.id)).toEqual([id])
    expect(listed.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    expect((await ok('GET', '/v1/app-credentials/?filter[type]=fcm')).data.map((d: Json) => d.id)).toContain(fcmCred.data.id)
    // Archived by PATCH: hidden from the list unless include[archived]=true.
    const archived = await ok('PATCH', `/v1/app-credentials/${id}/`, { data: { type: 'app-credentials', id, attributes: { archived: true } } })
    expect(archived.data.attributes.archived).toBe(true)
    expect((await ok('GET', '/v1/app-credentials/?filter[app-name]=cred-ios')).data).toEqual([])
    expect((await ok('GET', '/v1/app-credentials/?filter[app-name]=cred-ios&include[archived]=true')).data.map((d: Json) => d.id)).toEqual([id])
    // `type` is not updatable.
    expectJsonApiError(await call('PATCH', `/v1/app-credentials/${id}/`, { data: { type: 'app-credentials', id, attributes: { type: 'fcm' } } }), 400, { pointer: '/data/attributes/type' })
  })

  it('refuses bad key material with a §1.7 error at the member and writes nothing', async () => {
    const before = await countRows('msg_app_credentials')
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: 'apn', 'store-id': TOPIC, data: apnData({ p8: 'not a key' }) }, '/data/attributes/data/p8'],
      [{ type: 'apn', 'store-id': TOPIC, data: apnData({ p8: RSA_PEM }) }, '/data/attributes/data/p8'],
      [{ type: 'apn', 'store-id': TOPIC, data: {} }, '/data/attributes/data/p8'],
      [{ type: 'apn', 'store-id': TOPIC, data: apnData({ 'key-id': 'short' }) }, '/data/attributes/data/key-id'],
      [{ type: 'apn', data: apnData() }, '/data/attributes/store-id'],
      [{ type: 'fcm', data: serviceAccount({ private_key: P8 }) }, '/data/attributes/data/private_key'],
      [{ type: 'fcm', data: serviceAccount({ client_email: undefined }) }, '/data/attributes/data/client_email'],
      [{ type: 'fcm', data: serviceAccount({ private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }) }, '/data/attributes/data/private_key'],
    ]
    for (const [attributes, pointer] of cases) {
      const r = await call('POST', '/v1/app-credentials/', credential({ 'app-name': 'bad', ...attributes }))
      const e = expectJsonApiError(r, 400, { pointer })
      expect(e.code).toBe('invalid_app_credential')
    }
    expectJsonApiError(await call('POST', '/v1/app-credentials/', credential({ 'app-name': 'bad', type: 'hms', data: apnData() })), 400, { pointer: '/data/attributes/type' })
    expectJsonApiError(await call('POST', '/v1/app-credentials/', credential({ 'app-name': 'bad', type: 'apn', 'store-id': TOPIC, data: apnData(), 'organization-id': '00000000-0000-4000-8000-000000000001' })), 404, { pointer: '/data/attributes/organization-id' })
    expect(await countRows('msg_app_credentials')).toBe(before)
  })
})

describe('user devices (#118, #119) and badge counts (#18–#21)', () => {
  it('registers a device from the documented payload shape; the same token again updates that device', async () => {
    const p = await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })
    const other = await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })
    const token = hexToken()
    const doc = await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: {
      'allow-notification': true, 'app-name': 'dev-app', 'app-version': '1.2.3', 'individual-id': p.cassId, model: 'iPhone15,2', 'os-version': '17.1', sandbox: false, token, topic: '', type: 'apn',
    } }, meta: {} })
    // The sample's attributes, plus `active` (README).
    expect(Object.keys(doc.data.attributes).sort()).toEqual(['active', 'allow-notification', 'app-name', 'app-version', 'created-at', 'individual-id', 'last-modified-at', 'model', 'os-version', 'sandbox', 'token', 'topic', 'type'])
    expect(doc.data.attributes).toMatchObject({ active: true, 'individual-id': p.cassId, token, type: 'apn', 'app-version': '1.2.3' })
    const again = await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': other.cassId, token, type: 'apn', 'app-name': 'dev-app', 'app-version': '1.3.0' } } })
    expect(again.data.id).toBe(doc.data.id)
    expect(again.data.attributes).toMatchObject({ 'individual-id': other.cassId, 'app-version': '1.3.0', model: '' })
    const fcmDevice = await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': other.cassId, token: `fcm-${hexToken()}`, type: 'fcm', 'app-name': 'dev-app' } } })

    const mine = await ok('GET', `/v1/user-devices/?filter[individual-id]=${other.cassId}`)
    expect(mine.data.map((d: Json) => d.id)).toEqual([doc.data.id, fcmDevice.data.id])
    expect((await ok('GET', `/v1/user-devices/?filter[individual-id]=${p.cassId}`)).data).toEqual([])
    expect((await ok('GET', `/v1/user-devices/?filter[individual-id]=${other.cassId}&filter[type]=fcm`)).data.map((d: Json) => d.id)).toEqual([fcmDevice.data.id])
    expect((await ok('GET', `/v1/user-devices/?token=${token}`)).data.map((d: Json) => d.id)).toEqual([doc.data.id])
    expect((await ok('GET', '/v1/user-devices/?filter[app-version]=1.3.0&all-users=true')).data.map((d: Json) => d.id)).toEqual([doc.data.id])

    const before = await countRows('msg_user_devices')
    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: 'string', type: 'apn' } } }), 400, { pointer: '/data/attributes/token' })
    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: 'not json', type: 'web' } } }), 400, { pointer: '/data/attributes/token' })
    // Tokens are printable ASCII of at most 2048 characters (random text of that size would not fit the unique index).
    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: 'é'.repeat(2000), type: 'fcm' } } }), 400, { pointer: '/data/attributes/token' })
    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: randomBytes(1100).toString('hex'), type: 'fcm' } } }), 400, { pointer: '/data/attributes/token' })

    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: hexToken(), type: 'sms' } } }), 400, { pointer: '/data/attributes/type' })
    expectJsonApiError(await call('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': '00000000-0000-4000-8000-000000000002', token: hexToken(), type: 'apn' } } }), 404, { pointer: '/data/attributes/individual-id' })
    expect(await countRows('msg_user_devices')).toBe(before)
    expectJsonApiError(await call('GET', '/v1/user-devices/00000000-0000-4000-8000-000000000003/get-logs/'), 404)
    const long = await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: randomBytes(1536).toString('base64'), type: 'fcm' } } })
    expect(long.data.attributes.token).toHaveLength(2048)
  })

  it('sets badge counts (one per individual, organisation and type), reads and lists them, and sets many at once', async () => {
    const p = await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })
    const set = (attributes: Record<string, unknown>, status?: number) => ok('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { 'individual-id': p.cassId, 'organization-id': org, ...attributes } }, meta: {} }, status)
    const first = await set({ count: 0, timestamp: '2026-01-01T10:00:00.000Z', type: 'appointment' })
    expect(Object.keys(first.data.attributes).sort()).toEqual(['count', 'individual-id', 'last-modified-at', 'organization-id', 'timestamp', 'type'])
    expect(first.data.attributes).toMatchObject({ count: 0, 'individual-id': p.cassId, 'organization-id': org, timestamp: '2026-01-01T10:00:00.000Z', type: 'appointment' })
    const second = await set({ count: 4, timestamp: '2026-01-01T11:00:00.000Z', type: 'appointment' })
    expect(second.data.id).toBe(first.data.id)
    expect(second.data.attributes.count).toBe(4)
    // An older write does not undo a newer one.
    const stale = await set({ count: 1, timestamp: '2026-01-01T09:00:00.000Z', type: 'appointment' })
    expect(stale.data.attributes).toMatchObject({ count: 4, timestamp: '2026-01-01T11:00:00.000Z' })
    await set({ count: 2, type: 'message' })
    expect((await ok('GET', `/v1/badge-counts/${first.data.id}/`)).data.attributes.count).toBe(4)
    const listed = await ok('GET', `/v1/badge-counts/?individual-id=${p.cassId}&organization-id=${org}`)
    expect(listed.data.map((d: Json) => [d.attributes.type, d.attributes.count])).toEqual([['appointment', 4], ['message', 2]])
    expectJsonApiError(await call('GET', '/v1/badge-counts/'), 400, { parameter: 'individual-id' })
    expectJsonApiError(await call('GET', '/v1/badge-counts/?individual-id=00000000-0000-4000-8000-000000000004'), 404, { parameter: 'individual-id' })

    // #21: 201 with a null body; all or none.
    const bulk = await call('POST', '/v1/bulk-badge-counts/', { data: { type: 'bulk-badge-counts', attributes: { values: [
      { count: 7, 'individual-id': p.cassId, 'organization-id': org, timestamp: '2026-01-02T00:00:00.000Z', type: 'appointment' },
      { count: 1, 'individual-id': p.cassId, 'organization-id': org, type: 'lab-result' },
    ] } }, meta: {} })
    expect(bulk.statusCode, bulk.body).toBe(201)
    expect(bulk.body).toBe('null')
    expect(await services.badgeCounts.total(tt.tenant.id, p.id)).toBe(7 + 2 + 1)
    const before = await countRows('msg_badge_counts')
    const refused = await call('POST', '/v1/bulk-badge-counts/', { data: { type: 'bulk-badge-counts', attributes: { values: [
      { count: 9, 'individual-id': p.cassId, 'organization-id': org, type: 'new-category' },
      { count: 9, 'individual-id': '00000000-0000-4000-8000-000000000005', 'organization-id': org, type: 'appointment' },
    ] } } })
    expectJsonApiError(refused, 404, { pointer: '/data/attributes/values/1/individual-id' })
    expectJsonApiError(await call('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { count: -1, 'individual-id': p.cassId, 'organization-id': org, type: 'x' } } }), 400, { pointer: '/data/attributes/count' })
    expectJsonApiError(await call('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { count: 1, 'individual-id': p.cassId, 'organization-id': org, type: 'x', timestamp: 'string' } } }), 400, { pointer: '/data/attributes/timestamp' })
    expect(await countRows('msg_badge_counts')).toBe(before)
    expect(await services.badgeCounts.total(tt.tenant.id, p.id)).toBe(10)
  })
})

describe('with a user token', () => {
  it('app credentials are the organisation\'s; devices and badge counts are the user\'s own individual\'s', async () => {
    await services.directory.import(tt.tenant, { format: 'yaml', text: `individuals:
  - { external_id: tok-clinician, first_name: Tok, last_name: Clinician, account_type: clinician }
users:
  - { email: tok.clinician@push.example, first_name: Tok, last_name: Clinician, individual: tok-clinician }
` })
    const { token: userToken } = await services.directory.issueUserToken(tt.tenant, 'tok.clinician@push.example')
    const user = await store.db.selectFrom('msg_users as u').innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'u.person_id').on('i.surface', '=', 'cass'))
      .select('i.public_id').where('u.tenant_id', '=', tt.tenant.id).where('u.email', '=', 'tok.clinician@push.example').executeTakeFirstOrThrow()
    const own = user.public_id
    const other = (await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })).cassId
    const as = (method: 'GET' | 'POST', url: string, body?: unknown) => client.call(userToken, method, url, body)

    expect(expectJsonApiError(await as('GET', '/v1/app-credentials/'), 403).code).toBe('organization_key_required')
    const mine = await as('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': own, token: hexToken(), type: 'apn' } } })
    expect(mine.statusCode, mine.body).toBe(201)
    expect(expectJsonApiError(await as('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': other, token: hexToken(), type: 'apn' } } }), 403, { pointer: '/data/attributes/individual-id' }).code).toBe('not_your_individual')
    await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': other, token: hexToken(), type: 'apn' } } })
    const listed = JSON.parse((await as('GET', '/v1/user-devices/')).body) as Json
    expect(listed.data.map((d: Json) => d.attributes['individual-id'])).toEqual([own])
    expectJsonApiError(await as('GET', '/v1/user-devices/?all-users=true'), 403, { parameter: 'all-users' })

    const badge = await as('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { count: 1, 'individual-id': own, 'organization-id': org, type: 'message' } } })
    expect(badge.statusCode, badge.body).toBe(201)
    expectJsonApiError(await as('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { count: 1, 'individual-id': other, 'organization-id': org, type: 'message' } } }), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await as('GET', `/v1/badge-counts/?individual-id=${other}`), 403, { parameter: 'individual-id' })
    expect((JSON.parse((await as('GET', `/v1/badge-counts/?individual-id=${own}`)).body) as Json).data).toHaveLength(1)
  })
})

describe('push.sendToIndividual', () => {
  it('pushes to every active device through APNs (production and sandbox), FCM and Web Push with the badge, logs each, deactivates unregistered tokens and honours the suppression list', async () => {
    const p = await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })
    await ok('POST', '/v1/app-credentials/', credential({ 'app-name': 'care-ios', data: apnData(), 'store-id': TOPIC, type: 'apn' }))
    await ok('POST', '/v1/app-credentials/', credential({ 'app-name': 'care-ios-beta', data: apnData(), 'store-id': TOPIC, 'test-mode': true, type: 'apn' }))
    await ok('POST', '/v1/app-credentials/', credential({ 'app-name': 'care-android', data: serviceAccount(), type: 'fcm' }))
    const register = async (attributes: Record<string, unknown>) => (await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, ...attributes } } })).data.id as string
    const iosToken = hexToken()
    const devBuildToken = hexToken()
    const betaToken = hexToken()
    const fcmToken = `fcm-${hexToken()}`
    const subscription = web.subscribe()
    const ios = await register({ type: 'apn', token: iosToken, 'app-name': 'care-ios' })
    const devBuild = await register({ type: 'apn', token: devBuildToken, 'app-name': 'care-ios', sandbox: true })
    const beta = await register({ type: 'apn', token: betaToken, 'app-name': 'care-ios-beta' })
    const android = await register({ type: 'fcm', token: fcmToken, 'app-name': 'care-android' })
    const browser = await register({ type: 'web', token: JSON.stringify(subscription), 'app-name': 'portal' })
    const orphan = await register({ type: 'apn', token: hexToken(), 'app-name': 'unknown-app' })
    await register({ type: 'apn', token: hexToken(), 'app-name': 'care-ios', 'allow-notification': false })
    await services.badgeCounts.set(tt.tenant, { count: 2, individualId: p.cassId, organizationId: org, type: 'appointment' }, { kind: 'organization' })
    await services.badgeCounts.set(tt.tenant, { count: 3, individualId: p.cassId, organizationId: org, type: 'message' }, { kind: 'organization' })

    const result = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Appointment', body: 'Tomorrow at 10:00', category: 'appointment', data: { visitId: 'v-42' } })
    expect(result.badge).toBe(5)
    const byDevice = Object.fromEntries(result.devices.map((d) => [d.deviceId, d.status]))
    expect(byDevice).toEqual({ [ios]: 'sent', [devBuild]: 'sent', [beta]: 'sent', [android]: 'sent', [browser]: 'sent', [orphan]: 'no-credentials' })

    // APNs: production for the release build; the sandbox for a sandbox device and for a test-mode credential.
    expect(production.pushes.map((x) => x.deviceToken)).toEqual([iosToken])
    expect(sandbox.pushes.map((x) => x.deviceToken).sort()).toEqual([devBuildToken, betaToken].sort())
    expect(production.pushes[0]).toMatchObject({
      headers: { 'apns-topic': TOPIC, 'apns-push-type': 'alert' },
      payload: { aps: { alert: { title: 'Appointment', body: 'Tomorrow at 10:00' }, badge: 5, category: 'appointment' }, visitId: 'v-42' },
    })
    expect(fcm.messages).toHaveLength(1)
    expect(fcm.messages[0]!.message).toMatchObject({ token: fcmToken, notification: { title: 'Appointment', body: 'Tomorrow at 10:00' }, data: { visitId: 'v-42', 'badge-count': '5' }, apns: { payload: { aps: { badge: 5, category: 'appointment' } } }, android: { notification: { click_action: 'appointment' } } })
    expect(web.pushes).toHaveLength(1)
    expect(JSON.parse(web.pushes[0]!.payload)).toEqual({ title: 'Appointment', body: 'Tomorrow at 10:00', data: { visitId: 'v-42', 'badge-count': 5 }, category: 'appointment' })

    // get-logs (#120): the push and its outcome.
    const logs = await ok('GET', `/v1/user-devices/${ios}/get-logs/`)
    expect(logs.data).toHaveLength(1)
    expect(logs.data[0]).toMatchObject({ type: 'user-device-logs', attributes: { 'badge-count': 5, body: 'Tomorrow at 10:00', category: 'appointment', data: { visitId: 'v-42' }, title: 'Appointment', status: 'sent', error: null } })
    expect(logs.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    // The documented log attributes, plus `status` and `error` (README).
    expect(Object.keys(logs.data[0].attributes).sort()).toEqual(['badge-count', 'body', 'category', 'created-at', 'data', 'error', 'status', 'title'])
    expect((await ok('GET', `/v1/user-devices/${orphan}/get-logs/`)).data[0].attributes).toMatchObject({ status: 'no-credentials' })

    // A vendor failure is logged `failed` with the vendor's answer; the device stays active, the others are reached.
    fcm.failNext.push({ status: 500, errorCode: 'INTERNAL' })
    const failing = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Failing', body: 'fcm down' })
    expect(failing.devices.find((d) => d.deviceId === android)).toMatchObject({ status: 'failed', error: expect.stringContaining('fcm 500') })
    expect(failing.devices.find((d) => d.deviceId === ios)?.status).toBe('sent')
    expect((await ok('GET', `/v1/user-devices/${android}/get-logs/?page[limit]=1`)).data[0].attributes).toMatchObject({ title: 'Failing', status: 'failed', error: expect.stringContaining('INTERNAL') })

    // APNs reports a token unregistered, FCM another: both devices are deactivated, and not pushed to again.
    production.unregistered.add(iosToken)
    fcm.unregistered.add(fcmToken)
    const second = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Again', body: 'second' })
    expect(second.devices.find((d) => d.deviceId === ios)).toMatchObject({ status: 'unregistered' })
    expect(second.devices.find((d) => d.deviceId === android)).toMatchObject({ status: 'unregistered' })
    const listed = await ok('GET', `/v1/user-devices/?filter[individual-id]=${p.cassId}`)
    const active = Object.fromEntries(listed.data.map((d: Json) => [d.id, d.attributes.active]))
    expect(active[ios]).toBe(false)
    expect(active[android]).toBe(false)
    expect(active[beta]).toBe(true)
    const third = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Third', body: 'third' })
    expect(third.devices.map((d) => d.deviceId)).not.toContain(ios)
    expect(third.devices.map((d) => d.deviceId)).not.toContain(android)
    // Registering the token again brings the device back.
    expect(await register({ type: 'apn', token: iosToken, 'app-name': 'care-ios' })).toBe(ios)
    expect((await ok('GET', `/v1/user-devices/?token=${iosToken}`)).data[0].attributes.active).toBe(true)
    production.unregistered.delete(iosToken)

    // The suppression list: the individual on it for push holds every device back (logged, nothing sent).
    const sentBefore = production.pushes.length + sandbox.pushes.length + web.pushes.length
    await services.suppression.add(tt.tenant, { scope: 'push', address: p.cassId, reason: 'manual', source: 'test' })
    const held = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Held', body: 'held back' })
    expect(new Set(held.devices.map((d) => d.status))).toEqual(new Set(['suppressed']))
    expect(production.pushes.length + sandbox.pushes.length + web.pushes.length).toBe(sentBefore)
    expect((await ok('GET', `/v1/user-devices/${beta}/get-logs/?page[limit]=1`)).data[0].attributes).toMatchObject({ title: 'Held', status: 'suppressed' })
    await services.suppression.remove(tt.tenant, { scope: 'push', address: p.cassId })
    // One device's token on the list holds back that device only.
    await services.suppression.add(tt.tenant, { scope: 'push', address: betaToken, reason: 'manual', source: 'test' })
    const one = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'One', body: 'one held' })
    expect(one.devices.find((d) => d.deviceId === beta)?.status).toBe('suppressed')
    expect(one.devices.find((d) => d.deviceId === ios)?.status).toBe('sent')

    // An archived credential is not used.
    const creds = await ok('GET', '/v1/app-credentials/?filter[app-name]=care-ios-beta')
    const credId = creds.data[0].id as string
    await ok('PATCH', `/v1/app-credentials/${credId}/`, { data: { type: 'app-credentials', id: credId, attributes: { archived: true } } })
    await services.suppression.remove(tt.tenant, { scope: 'push', address: betaToken })
    const archived = await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Archived', body: 'no credential' })
    expect(archived.devices.find((d) => d.deviceId === beta)?.status).toBe('no-credentials')

    await expect(services.push.sendToIndividual(tt.tenant, '00000000-0000-4000-8000-000000000006', { title: 'x', body: 'y' })).rejects.toMatchObject({ code: 'resource_not_found' })
  })

  it('purge-data (#86) erases an individual\'s devices, the log of pushes to them and their badge counts', async () => {
    const p = await seedPerson({ services } as unknown as TestApp, tt, { phone: uniquePhone() })
    const device = (await ok('POST', '/v1/user-devices/', { data: { type: 'user-devices', attributes: { 'individual-id': p.cassId, token: hexToken(), type: 'apn', 'app-name': 'care-ios' } } })).data.id as string
    await ok('POST', '/v1/badge-counts/', { data: { type: 'badge-counts', attributes: { count: 2, 'individual-id': p.cassId, 'organization-id': org, type: 'appointment' } } })
    await services.push.sendToIndividual(tt.tenant, p.cassId, { title: 'Before', body: 'the purge' })
    expect((await ok('GET', `/v1/user-devices/${device}/get-logs/`)).data).toHaveLength(1)
    const purge = await call('POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-id': p.cassId, 'entity-type': 'individual', 'request-id': `push-purge-${p.cassId}` } } })
    expect(purge.statusCode, purge.body).toBe(201)
    // The purge job's work, run here (this file runs no workers).
    const row = await store.db.selectFrom('privacy_purges').select('id').where('tenant_id', '=', tt.tenant.id).where('request_id', '=', `push-purge-${p.cassId}`).executeTakeFirstOrThrow()
    await services.privacy.run(tt.tenant.id, row.id)
    const done = await services.privacy.find(tt.tenant, row.id)
    expect(done.counts).toMatchObject({ devices: 1, push_logs: 1, badge_counts: 1 })
    expect(await store.db.selectFrom('msg_user_devices').select('id').where('tenant_id', '=', tt.tenant.id).where('person_id', '=', p.id).execute()).toEqual([])
    expect(await store.db.selectFrom('msg_user_device_logs').select('id').where('tenant_id', '=', tt.tenant.id).where('device_id', '=', device).execute()).toEqual([])
    expect(await store.db.selectFrom('msg_badge_counts').select('id').where('tenant_id', '=', tt.tenant.id).where('person_id', '=', p.id).execute()).toEqual([])
  })

  it('never serves or logs a private key', async () => {
    // Every answer of this file (the credential answers included) and the whole log, at debug.
    expect(bodies.length).toBeGreaterThan(20)
    expect(logLines.length).toBeGreaterThan(0)
    const everything = [...bodies, ...logLines].join('\n')
    for (const line of SECRET_LINES) expect(everything).not.toContain(line)
    expect(everything).not.toContain('BEGIN PRIVATE KEY')
  })
})
