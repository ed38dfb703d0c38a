import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Replicators (#87, #88) and sniffers (#89–#91) through HTTP: the directory import shows as a
// replicator with its last run; a sniffer started with the organisation key captures the requests
// of one user's token (secrets redacted), only until valid-until, and pages through them; bad input
// and another tenant's ids answer §1.7 errors.
const DEMO = readFileSync(new URL('../../../examples/directory/demo.yaml', import.meta.url), 'utf8')
const EMAIL = 'grace.okafor@demo.switchboard.local'

let t: TestApp
let a: TestTenant
let b: TestTenant
let userToken: string
let userId: string
beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.directory.import(a.tenant, { format: 'yaml', text: DEMO })
  ;({ userId, token: userToken } = await t.services.directory.issueUserToken(a.tenant, EMAIL))
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const key = (tt: TestTenant) => tt.credentials.courier.api_key
function call(token: string, method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method, url,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
}
const sniffer = (attributes: Json) => ({ data: { type: 'sniffers', attributes }, meta: {} })
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString()

describe('replicators (#87, #88)', () => {
  it('lists the directory import with its first and last run; a second import moves last-poll-time', async () => {
    const first = await call(key(a), 'GET', '/v1/replicators/')
    expect(first.statusCode, first.body).toBe(200)
    const list = expectJsonApi(JSON.parse(first.body))
    expect(list.data).toHaveLength(1)
    const r = list.data[0] as Json
    expect(r).toMatchObject({ type: 'replicators', attributes: { classpath: 'switchboard.messaging.DirectoryImport' } })
    expect(Date.parse(r.attributes['created-time'])).not.toBeNaN()
    expect(list.meta).toMatchObject({ 'page[total]': 1 })

    await t.services.directory.import(a.tenant, { format: 'yaml', text: DEMO })
    const one = expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/replicators/${r.id}/`)).body))
    expect(one.data.attributes['created-time']).toBe(r.attributes['created-time'])
    expect(Date.parse(one.data.attributes['last-poll-time'])).toBeGreaterThan(Date.parse(r.attributes['last-poll-time']))

    // A refused import records no run.
    const before = one.data.attributes['last-poll-time']
    await expect(t.services.directory.import(a.tenant, { format: 'yaml', text: 'users: [{ email: 1 }]' })).rejects.toThrow()
    expect(expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/replicators/${r.id}/`)).body)).data.attributes['last-poll-time']).toBe(before)

    // Another tenant has none, and A's id is not found there.
    expect(expectJsonApi(JSON.parse((await call(key(b), 'GET', '/v1/replicators/')).body)).data).toEqual([])
    expectJsonApiError(await call(key(b), 'GET', `/v1/replicators/${r.id}/`), 404)
  })
})

describe('sniffers (#89–#91)', () => {
  it('captures the user token’s requests until valid-until, with secrets redacted, and pages through them', async () => {
    const created = await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(30) }))
    expect(created.statusCode, created.body).toBe(201)
    const s = expectJsonApi(JSON.parse(created.body)).data as Json
    expect(s).toMatchObject({ type: 'sniffers', attributes: { 'user-id': userId } })
    expect(expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/sniffers/${s.id}/`)).body)).data).toEqual(s)

    // The user's requests: a list, a refused create carrying a secret, a query with a token.
    expect((await call(userToken, 'GET', '/v1/users/?page[limit]=2', undefined, { 'user-agent': 'clinic-app/1.0', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).statusCode).toBe(200)
    expect((await call(userToken, 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(5), password: 'hunter2' }))).statusCode).toBe(400)
    expect((await call(userToken, 'GET', `/v1/users/?token=${userToken}`)).statusCode).toBe(400)
    // The organisation key's own requests are never captured.
    expect((await call(key(a), 'GET', '/v1/users/')).statusCode).toBe(200)

    const logs = await waitFor('three captured requests', async () => {
      const page = expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/sniffers/${s.id}/get-logs/`)).body))
      return page.data.length === 3 ? page : undefined
    })
    expect(logs.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 3 })
    const [list, refused, tokenQuery] = logs.data as Json[]
    expect(list).toMatchObject({
      type: 'sniffer-logs',
      attributes: { method: 'GET', path: '/v1/users/', 'query-string': 'page[limit]=2', 'status-code': 200, 'user-agent': 'clinic-app/1.0', 'trace-id': '4bf92f3577b34da6a3ce929d0e0e4736', message: '', body: '' },
    })
    expect(JSON.parse(list!.attributes.response)).toMatchObject({ data: expect.any(Array), meta: { 'page[limit]': 2 } })
    expect(refused!.attributes).toMatchObject({ method: 'POST', path: '/v1/sniffers/', 'status-code': 400, content_type: 'application/json' })
    expect(refused!.attributes.body).toContain('"password":"[redacted]"')
    expect(refused!.attributes.body).not.toContain('hunter2')
    expect(refused!.attributes.message).not.toBe('')
    expect(tokenQuery!.attributes['query-string']).toBe('token=[redacted]')
    for (const l of logs.data as Json[]) expect(JSON.stringify(l)).not.toContain(userToken)

    // Paging.
    const second = expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/sniffers/${s.id}/get-logs/?page[limit]=1&page[offset]=1`)).body))
    expect(second.data.map((l: Json) => l.id)).toEqual([refused!.id])
    expectJsonApiError(await call(key(a), 'GET', `/v1/sniffers/${s.id}/get-logs/?page[limit]=0`), 400, { parameter: 'page[limit]' })

    // Past valid-until nothing more is captured.
    await t.store.db.updateTable('msg_sniffers').set({ valid_until: new Date(Date.now() - 1000) }).where('id', '=', s.id).execute()
    expect((await call(userToken, 'GET', '/v1/users/')).statusCode).toBe(200)
    await new Promise((r) => setTimeout(r, 300))
    expect(expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/sniffers/${s.id}/get-logs/`)).body)).meta['page[total]']).toBe(3)
  })

  it('lists logs in the order the requests arrived, not the order their captures were written (each is written after its answer)', async () => {
    const s = expectJsonApi(JSON.parse((await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(30) }))).body)).data as Json
    const arrived = performance.timeOrigin + performance.now()
    const request = (path: string, receivedAt: number) => ({
      method: 'GET', path, queryString: '', contentType: '', body: '', response: '', statusCode: 200, message: '', userAgent: 'order-test', requestId: path, traceId: path, receivedAt,
    })
    // The second request's capture is written first; the first came 0.3 ms earlier (the same millisecond, maybe).
    await t.services.sniffers.capture(a.tenant.id, userId, request('/v1/second/', arrived + 0.3))
    await t.services.sniffers.capture(a.tenant.id, userId, request('/v1/first/', arrived))
    const logs = expectJsonApi(JSON.parse((await call(key(a), 'GET', `/v1/sniffers/${s.id}/get-logs/`)).body)).data as Json[]
    expect(logs.map((l) => l.attributes.path)).toEqual(['/v1/first/', '/v1/second/'])
  })

  it('refuses bad input with §1.7 errors and writes nothing; user tokens may not start one; tenants are apart', async () => {
    const count = async () => Number((await t.store.db.selectFrom('msg_sniffers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
    const before = await count()
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': 'tomorrow' })), 400, { pointer: '/data/attributes/valid-until' })
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(-5) })), 400, { pointer: '/data/attributes/valid-until' })
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(8 * 24 * 60) })), 400, { pointer: '/data/attributes/valid-until' })
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': '11111111-1111-1111-1111-111111111111', 'valid-until': inMinutes(5) })), 404, { pointer: '/data/attributes/user-id' })
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'valid-until': inMinutes(5) })), 400)
    expectJsonApiError(await call(key(a), 'POST', '/v1/sniffers/', '{"data":'), 400)
    expectJsonApiError(await call(userToken, 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(5) })), 403)
    // Another tenant can neither start one on A's user nor read A's.
    expectJsonApiError(await call(key(b), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(5) })), 404, { pointer: '/data/attributes/user-id' })
    expect(await count()).toBe(before)
    const mine = expectJsonApi(JSON.parse((await call(key(a), 'POST', '/v1/sniffers/', sniffer({ 'user-id': userId, 'valid-until': inMinutes(5) }))).body)).data as Json
    expectJsonApiError(await call(key(b), 'GET', `/v1/sniffers/${mine.id}/`), 404)
    expectJsonApiError(await call(key(b), 'GET', `/v1/sniffers/${mine.id}/get-logs/`), 404)
    expectJsonApiError(await call(key(a), 'GET', '/v1/sniffers/not-a-uuid/'), 404)
  })
})
