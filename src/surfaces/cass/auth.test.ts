import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { basicAuth, countPeople, seedPerson, wire } from '../../../test/helpers/cass.ts'

// spec/cass.md, Conventions → Auth: every endpoint accepts the Basic header, `client` + `auth` URL
// parameters and `client`/`auth` body fields, and fails with the documented texts.

let t: TestApp
let acme: TestTenant
let other: TestTenant
let person: Person

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  person = await seedPerson(t, acme, { phone: uniquePhone() })
})
afterAll(async () => t?.close())

type Method = 'GET' | 'POST' | 'PATCH'
interface Endpoint {
  name: string
  method: Method
  path: () => string
  /** Parameters of a request that succeeds once authenticated. */
  params: () => Record<string, string>
  ok: number
  /** add_external_person names the presented token in its 401. */
  legacy401: boolean
}

const endpoints: Endpoint[] = [
  { name: 'GET /add_external_person', method: 'GET', path: () => '/add_external_person', params: () => ({ phone: uniquePhone() }), ok: 200, legacy401: true },
  { name: 'POST /add_external_person', method: 'POST', path: () => '/add_external_person', params: () => ({ phone: uniquePhone() }), ok: 200, legacy401: true },
  { name: 'GET /external_person (create)', method: 'GET', path: () => '/external_person', params: () => ({ phone: uniquePhone() }), ok: 200, legacy401: false },
  { name: 'POST /external_person', method: 'POST', path: () => '/external_person', params: () => ({ phone: uniquePhone() }), ok: 200, legacy401: false },
  { name: 'GET /external_person/{id}', method: 'GET', path: () => `/external_person/${person.cassId}`, params: () => ({}), ok: 200, legacy401: false },
  { name: 'PATCH /external_person/{id}', method: 'PATCH', path: () => `/external_person/${person.cassId}`, params: () => ({ first_name: 'Pat' }), ok: 200, legacy401: false },
  { name: 'PATCH /external_person', method: 'PATCH', path: () => '/external_person', params: () => ({ person_id: person.legacyId, last_name: 'Doe' }), ok: 200, legacy401: false },
  { name: 'GET /get_new_id', method: 'GET', path: () => '/get_new_id', params: () => ({ person_id: person.legacyId }), ok: 200, legacy401: false },
]

interface SendOptions { header?: string; query?: Record<string, string>; body?: Record<string, string> }

/** Send `params` in the query (GET) or as a JSON body (POST/PATCH), plus credentials placed as asked. */
function send(e: Endpoint, opts: SendOptions = {}) {
  const params = e.params()
  const inQuery = e.method === 'GET' ? { ...params, ...opts.query } : { ...opts.query }
  const body = e.method === 'GET' ? opts.body : { ...params, ...opts.body }
  const qs = new URLSearchParams(inQuery).toString()
  return t.app.inject({
    method: e.method,
    url: e.path() + (qs ? `?${qs}` : ''),
    headers: opts.header ? { authorization: opts.header } : {},
    ...(body ? { payload: body } : {}),
  })
}

describe.each(endpoints)('$name', (e) => {
  const client = () => acme.credentials.cass.client
  const token = () => acme.credentials.cass.token

  it('accepts the Basic header', async () => {
    const r = await send(e, { header: acme.cassAuth })
    expect(r.statusCode, r.body).toBe(e.ok)
  })

  it('accepts client and auth URL parameters', async () => {
    const r = await send(e, { query: { client: client(), auth: token() } })
    expect(r.statusCode, r.body).toBe(e.ok)
  })

  it('accepts client and auth fields in the body', async () => {
    // A GET carries them in a JSON body too ("GET or POST" with Content-Type: application/json).
    const r = await send(e, { body: { client: client(), auth: token() } })
    expect(r.statusCode, r.body).toBe(e.ok)
  })

  it('400 {"message": "No client parameter specified"} without credentials', async () => {
    const r = await send(e)
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe(wire({ message: 'No client parameter specified' }))
    expect(r.headers['content-type']).toMatch(/^application\/json/)
  })

  it('400 No client parameter specified for an empty client, or an auth without client', async () => {
    for (const opts of [{ query: { client: '', auth: token() } }, { query: { auth: token() } }, { header: basicAuth('', token()) }] as SendOptions[]) {
      const r = await send(e, opts)
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ message: 'No client parameter specified' }))
    }
  })

  it('404 {"message": "Client Not Found"} for an unknown client, whichever way it comes', async () => {
    for (const opts of [
      { header: basicAuth('no-such-client', token()) },
      { query: { client: 'no-such-client', auth: token() } },
      { body: { client: 'no-such-client', auth: token() } },
      { query: { client: 'nul\u0000client', auth: token() } },
    ] as SendOptions[]) {
      const r = await send(e, opts)
      expect(r.statusCode).toBe(404)
      expect(r.body).toBe(wire({ message: 'Client Not Found' }))
    }
  })

  it(`401 ${e.legacy401 ? '{"auth": <auth>, "message": "Unauthorized"}' : '{"message": "Unauthorized"}'} for a wrong token`, async () => {
    const cases: Array<[SendOptions, string | null]> = [
      [{ header: basicAuth(client(), 'wrong-token') }, 'wrong-token'],
      [{ query: { client: client(), auth: 'wrong-token' } }, 'wrong-token'],
      [{ body: { client: client(), auth: 'wrong-token' } }, 'wrong-token'],
      [{ query: { client: client() } }, null],
      [{ header: basicAuth(client(), '') }, ''],
      // Another tenant's token does not open this client.
      [{ query: { client: client(), auth: other.credentials.cass.token } }, other.credentials.cass.token],
    ]
    for (const [opts, auth] of cases) {
      const r = await send(e, opts)
      expect(r.statusCode).toBe(401)
      expect(r.body).toBe(e.legacy401 ? wire({ auth, message: 'Unauthorized' }) : wire({ message: 'Unauthorized' }))
    }
  })

  it('checks credentials before the request shape, and a refused request writes nothing', async () => {
    const before = await countPeople(t, acme.tenant.id)
    const r = await send(e, { query: { unknown_field: 'x' } })
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe(wire({ message: 'No client parameter specified' }))
    const bad = await send(e, { header: basicAuth(client(), 'wrong-token') })
    expect(bad.statusCode).toBe(401)
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })
})

describe('precedence and odd headers', () => {
  it('the Basic header wins over URL parameters', async () => {
    const r = await t.app.inject({
      method: 'GET', url: `/get_new_id?person_id=${person.legacyId}&client=no-such-client&auth=x`,
      headers: { authorization: acme.cassAuth },
    })
    expect(r.statusCode).toBe(200)
  })

  it('URL parameters win over body fields', async () => {
    const r = await t.app.inject({
      method: 'PATCH', url: `/external_person/${person.cassId}?client=${acme.credentials.cass.client}&auth=${acme.credentials.cass.token}`,
      payload: { client: 'no-such-client', auth: 'x', first_name: 'Q' },
    })
    expect(r.statusCode).toBe(200)
  })

  it('an Authorization header of another scheme falls back to the parameters', async () => {
    const r = await t.app.inject({ method: 'GET', url: `/get_new_id?person_id=${person.legacyId}`, headers: { authorization: 'Bearer abc' } })
    expect(r.body).toBe(wire({ message: 'No client parameter specified' }))
    const ok = await t.app.inject({
      method: 'GET', url: `/get_new_id?person_id=${person.legacyId}&client=${acme.credentials.cass.client}&auth=${acme.credentials.cass.token}`,
      headers: { authorization: 'Bearer abc' },
    })
    expect(ok.statusCode).toBe(200)
  })

  it('the scheme name is case-insensitive; the token is everything after the first colon', async () => {
    const r = await t.app.inject({ method: 'GET', url: `/get_new_id?person_id=${person.legacyId}`, headers: { authorization: acme.cassAuth.replace('Basic', 'basic') } })
    expect(r.statusCode).toBe(200)
    const colon = await t.app.inject({ method: 'GET', url: `/get_new_id?person_id=${person.legacyId}`, headers: { authorization: basicAuth(acme.credentials.cass.client, `${acme.credentials.cass.token}:extra`) } })
    expect(colon.statusCode).toBe(401)
  })

  it('a form body may carry the credentials', async () => {
    const r = await t.app.inject({
      method: 'POST', url: '/add_external_person',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client: acme.credentials.cass.client, auth: acme.credentials.cass.token, phone: uniquePhone() }).toString(),
    })
    expect(r.statusCode).toBe(200)
  })
})
