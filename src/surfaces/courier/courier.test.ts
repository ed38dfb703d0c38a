import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// The JSON:API layer through the messaging API's first resources, over HTTP (inject): API-key
// authentication both ways, documents valid against the JSON:API 1.0 schema, 201 for creates,
// trailing slashes, pagination meta and bounds, filters, and every refusal as a §1.7 error object
// pointing at the member or parameter — with nothing written on refusal and no tenant seeing another.
let t: TestApp
let a: TestTenant
let b: TestTenant
beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const key = (tt: TestTenant) => tt.credentials.courier.api_key
const org = (tt: TestTenant) => tt.credentials.courier.organization_id
function call(tt: TestTenant | null, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method, url,
    headers: { ...(tt ? { authorization: `Bearer ${key(tt)}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
}
const pref = (tt: TestTenant, attributes: Json) => ({ data: { type: 'org-preferences', attributes: { 'organization-id': org(tt), ...attributes } }, meta: {} })

describe('authentication', () => {
  it('takes the API key as a bearer token or X-Api-Key; anything else is 401 with an error object', async () => {
    expectJsonApi(JSON.parse((await call(a, 'GET', '/v1/organizations/')).body))
    const viaHeader = await call(null, 'GET', '/v1/organizations/', undefined, { 'x-api-key': key(a) })
    expect(viaHeader.statusCode).toBe(200)
    expect(expectJsonApiError(await call(null, 'GET', '/v1/organizations/'), 401).code).toBe('unauthorized')
    expectJsonApiError(await call(null, 'GET', '/v1/organizations/', undefined, { authorization: 'Bearer wrong-key' }), 401)
    expectJsonApiError(await call(null, 'GET', '/v1/organizations/', undefined, { authorization: `Basic ${Buffer.from(`x:${key(a)}`).toString('base64')}` }), 401)
    // Another surface's credential is not a messaging key.
    expectJsonApiError(await call(null, 'GET', '/v1/organizations/', undefined, { authorization: `Bearer ${a.credentials.ccai.token}` }), 401)
  })
})

describe('organizations', () => {
  it('lists the tenant’s organisation with page meta, with or without the trailing slash, and reads it', async () => {
    const list = expectJsonApi(JSON.parse((await call(a, 'GET', '/v1/organizations/')).body))
    expect(list.data).toEqual([{ type: 'organizations', id: org(a), attributes: expect.objectContaining({ name: a.tenant.name, 'display-name': a.tenant.name, timezone: 'UTC' }) }])
    expect(list.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    const noSlash = JSON.parse((await call(a, 'GET', '/v1/organizations')).body) as Json
    expect(noSlash.data).toEqual(list.data)
    const one = expectJsonApi(JSON.parse((await call(a, 'GET', `/v1/organizations/${org(a)}/`)).body))
    expect(one.data).toEqual(list.data[0])
    const named = JSON.parse((await call(a, 'GET', `/v1/organizations/?filter[name]=${encodeURIComponent(a.tenant.name)}&page[limit]=1&page[offset]=0`)).body) as Json
    expect(named.data).toHaveLength(1)
    const other = JSON.parse((await call(a, 'GET', '/v1/organizations/?filter[name]=nobody')).body) as Json
    expect(other).toEqual({ data: [], meta: { 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 0 } })
    const skipped = JSON.parse((await call(a, 'GET', '/v1/organizations/?page[offset]=1')).body) as Json
    expect(skipped.data).toEqual([])
    expect(skipped.meta['page[total]']).toBe(1)
  })

  it('refuses bad pages and unknown parameters naming the parameter, and answers unknown ids 404', async () => {
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/?page[limit]=0'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/?page[limit]=1001'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/?page[offset]=-1'), 400, { parameter: 'page[offset]' })
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/?page[limit]=ten'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/?filter[nme]=x'), 400, { parameter: 'filter[nme]' })
    expectJsonApiError(await call(a, 'GET', `/v1/organizations/?filter[name]=${'x'.repeat(256)}`), 400, { parameter: 'filter[name]' })
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/not-a-uuid/'), 404)
    expectJsonApiError(await call(a, 'GET', '/v1/organizations/11111111-1111-1111-1111-111111111111/'), 404)
    expectJsonApiError(await call(a, 'GET', '/v1/no-such-things/'), 404)
  })
})

describe('org-preferences', () => {
  it('lists every preference with its default until set; a POST sets one (201), a second replaces it, same id', async () => {
    const before = expectJsonApi(JSON.parse((await call(a, 'GET', `/v1/org-preferences/?organization-id=${org(a)}`)).body))
    expect(before.data.map((p: Json) => [p.attributes.name, p.attributes.explicit])).toEqual([
      ['default-channel-title', false], ['group-provider-ack', false], ['initial-sms-message', false],
    ])
    const created = await call(a, 'POST', '/v1/org-preferences/', pref(a, { name: 'default-channel-title', type: 'string', value: 'Care team' }))
    expect(created.statusCode, created.body).toBe(201)
    const doc = expectJsonApi(JSON.parse(created.body))
    expect(doc.data).toMatchObject({ type: 'org-preferences', attributes: { name: 'default-channel-title', value: 'Care team', explicit: true, 'organization-id': org(a), 'value-js': null } })
    expect(doc.data.id).toBe(before.data[0].id)
    expect(Date.parse(doc.data.attributes['created-at'])).not.toBeNaN()
    const again = JSON.parse((await call(a, 'POST', '/v1/org-preferences/', { data: { type: 'org-preferences', attributes: { 'organization-id': org(a), name: 'default-channel-title', type: 'json', 'value-js': { en: 'Care team' } } } })).body) as Json
    expect(again.data).toMatchObject({ id: doc.data.id, attributes: { type: 'json', 'value-js': { en: 'Care team' }, value: null } })
    const only = JSON.parse((await call(a, 'GET', `/v1/org-preferences/?organization-id=${org(a)}&filter[name]=default-channel-title`)).body) as Json
    expect(only.data).toEqual([again.data])
    // The other tenant's preferences are untouched by it.
    const theirs = JSON.parse((await call(b, 'GET', `/v1/org-preferences/?organization-id=${org(b)}&filter[name]=default-channel-title`)).body) as Json
    expect(theirs.data[0].attributes.explicit).toBe(false)
  })

  it('refuses bad documents with a pointer, a wrong type with 409, and another tenant’s organisation with 404; nothing is written', async () => {
    const url = '/v1/org-preferences/'
    expectJsonApiError(await call(a, 'POST', url, '{"data": '), 400, { pointer: '' })
    expectJsonApiError(await call(a, 'POST', url, {}), 400, { pointer: '/data' })
    expectJsonApiError(await call(a, 'POST', url, { data: { type: 'org-preferences' } }), 400, { pointer: '/data/attributes' })
    expectJsonApiError(await call(a, 'POST', url, pref(a, { name: 'favourite-colour', value: 'x' })), 400, { pointer: '/data/attributes/name' })
    expectJsonApiError(await call(a, 'POST', url, pref(a, { name: 'initial-sms-message', value: 'x', colour: 'red' })), 400, { pointer: '/data/attributes/colour' })
    expectJsonApiError(await call(a, 'POST', url, pref(a, { name: 'initial-sms-message', value: 5 })), 400, { pointer: '/data/attributes/value' })
    expectJsonApiError(await call(a, 'POST', url, pref(a, { name: 'initial-sms-message', type: 'json' })), 400, { pointer: '/data/attributes/value-js' })
    expectJsonApiError(await call(a, 'POST', url, { data: { type: 'organizations', attributes: { 'organization-id': org(a), name: 'initial-sms-message', value: 'x' } } }), 409, { pointer: '/data/type' })
    expectJsonApiError(await call(a, 'POST', url, pref(b, { name: 'initial-sms-message', value: 'x' })), 404, { pointer: '/data/attributes/organization-id' })
    expectJsonApiError(await call(a, 'GET', url), 400, { parameter: 'organization-id' })
    expectJsonApiError(await call(a, 'GET', `${url}?organization-id=nope`), 400, { parameter: 'organization-id' })
    expectJsonApiError(await call(a, 'GET', `${url}?organization-id=${org(b)}`), 404, { parameter: 'organization-id' })
    const after = JSON.parse((await call(a, 'GET', `${url}?organization-id=${org(a)}&filter[name]=initial-sms-message`)).body) as Json
    expect(after.data[0].attributes.explicit).toBe(false)
    const theirs = JSON.parse((await call(b, 'GET', `${url}?organization-id=${org(b)}&filter[name]=initial-sms-message`)).body) as Json
    expect(theirs.data[0].attributes.explicit).toBe(false)
  })

  it('takes application/vnd.api+json bodies', async () => {
    const r = await t.app.inject({
      method: 'POST', url: '/v1/org-preferences/', payload: JSON.stringify(pref(a, { name: 'group-provider-ack', value: 'true' })),
      headers: { authorization: `Bearer ${key(a)}`, 'content-type': 'application/vnd.api+json' },
    })
    expect(r.statusCode, r.body).toBe(201)
    expect(JSON.parse(r.body).data.attributes).toMatchObject({ name: 'group-provider-ack', value: 'true', type: 'string' })
  })
})
