import Kitsu from 'kitsu'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// An off-the-shelf JSON:API client (kitsu, with its case conversions and pluralisation off) drives
// the messaging API over real HTTP: its query serialiser's `page[limit]`/`filter[name]`, its
// request documents and its deserialiser all work against ours unchanged.
let t: TestApp
let tt: TestTenant
let api: Kitsu
beforeAll(async () => {
  t = await startTestApp({ listen: true })
  tt = await createTenant(t.services)
  api = new Kitsu({
    baseURL: `${t.url}/v1`, headers: { Authorization: `Bearer ${tt.credentials.courier.api_key}` },
    camelCaseTypes: false, resourceCase: 'none', pluralize: false,
  })
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the messaging API through kitsu', () => {
  it('lists, filters and pages organisations, and reads one', async () => {
    const all = await api.get('organizations') as Json
    expect(all.data).toEqual([expect.objectContaining({ id: tt.credentials.courier.organization_id, type: 'organizations', name: tt.tenant.name })])
    expect(all.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    const paged = await api.get('organizations', { params: { page: { limit: 1, offset: 1 }, filter: { name: tt.tenant.name } } }) as Json
    expect(paged.data).toEqual([])
    expect(paged.meta).toEqual({ 'page[limit]': 1, 'page[offset]': 1, 'page[total]': 1 })
    const one = await api.get(`organizations/${tt.credentials.courier.organization_id}`) as Json
    expect(one.data).toMatchObject({ id: tt.credentials.courier.organization_id, 'display-name': tt.tenant.name })
  })

  it('creates a preference with kitsu’s request document and reads it back', async () => {
    const org = tt.credentials.courier.organization_id
    const created = await api.post('org-preferences', { name: 'initial-sms-message', 'organization-id': org, value: 'Your care team wrote to you.' }) as Json
    // The vendor's attribute named `type` (a preference's value type) lands where kitsu puts the
    // resource type when it flattens a resource: the one departure from JSON:API a client sees.
    expect(created.data).toMatchObject({ type: 'string', name: 'initial-sms-message', value: 'Your care team wrote to you.', explicit: true })
    const listed = await api.get('org-preferences', { params: { 'organization-id': org, filter: { name: 'initial-sms-message' } } as never }) as Json
    expect(listed.data).toEqual([expect.objectContaining({ id: created.data.id, value: 'Your care team wrote to you.' })])
  })

  it('surfaces our error objects as kitsu errors', async () => {
    const err = await api.get('org-preferences').then(() => undefined, (e: unknown) => e as Json)
    expect(err?.errors?.[0]).toMatchObject({ status: 400, source: { parameter: 'organization-id' } })
  })
})
