import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// The messaging directory through HTTP: imported with POST /admin/directory (YAML, JSON, CSV; in
// place by external id / email, counted; a bad file reported at its paths and nothing written),
// read through the messaging API (individuals #25 #27, individual-groups #24, users #135–#137) with
// the organisation key and with a user token, a person of the person API readable as an
// individual, and another tenant's ids answering 404.
const DEMO = readFileSync(new URL('../../../examples/directory/demo.yaml', import.meta.url), 'utf8')

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
const importFile = (tt: TestTenant, body: string, type = 'application/yaml') =>
  t.app.inject({ method: 'POST', url: '/admin/directory', headers: { authorization: tt.cassAuth, 'content-type': type }, payload: body })
function call(token: string | null, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  return t.app.inject({
    method, url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}
const get = async (token: string, url: string) => {
  const r = await call(token, 'GET', url)
  expect(r.statusCode, r.body).toBe(200)
  return expectJsonApi(JSON.parse(r.body))
}
const counts = (created: number, updated: number, unchanged: number) => ({ created, updated, unchanged })

async function snapshot(tt: TestTenant) {
  const db = t.store.db
  const id = tt.tenant.id
  return {
    people: await db.selectFrom('people').select(['external_id', 'first_name', 'phone']).where('tenant_id', '=', id).orderBy('external_id').execute(),
    users: await db.selectFrom('msg_users').select(['email', 'first_name']).where('tenant_id', '=', id).orderBy('email').execute(),
    groups: await db.selectFrom('msg_individual_groups').select(['external_id', 'name']).where('tenant_id', '=', id).orderBy('external_id').execute(),
    clinics: await db.selectFrom('msg_organizations').select(['external_id', 'name']).where('tenant_id', '=', id).orderBy('external_id').execute(),
  }
}

/** The individual id (Cass person id) of an external id. */
async function individualId(tt: TestTenant, externalId: string): Promise<string> {
  return (await t.services.people.getByExternalId(tt.tenant, externalId)).cassId
}

describe('POST /admin/directory', () => {
  it('imports the demo, then a second import changes nothing, and a changed file updates in place', async () => {
    const tt = await createTenant(t.services)
    const first = await importFile(tt, DEMO)
    expect(first.statusCode, first.body).toBe(200)
    expect(JSON.parse(first.body).data).toEqual({ organizations: counts(1, 0, 0), individuals: counts(5, 0, 0), users: counts(2, 0, 0), groups: counts(2, 0, 0) })
    const before = await snapshot(tt)
    const again = await importFile(tt, DEMO)
    expect(JSON.parse(again.body).data).toEqual({ organizations: counts(0, 0, 1), individuals: counts(0, 0, 5), users: counts(0, 0, 2), groups: counts(0, 0, 2) })
    expect(await snapshot(tt)).toEqual(before)
    const changed = DEMO.replace('first_name: Maya', 'first_name: Mia').replace('name: Care team A', 'name: Care team Alpha')
      .replace('preferred_name: Lu', 'preferred_name: Lucy').replace('username: slindqvist', 'username: sam')
    const third = await importFile(tt, changed)
    expect(JSON.parse(third.body).data).toEqual({ organizations: counts(0, 0, 1), individuals: counts(0, 2, 3), users: counts(0, 1, 1), groups: counts(0, 1, 1) })
    const after = await snapshot(tt)
    expect(after.people.length).toBe(5)
    expect(after.people.find((p) => p.external_id === 'demo-patient-1')).toMatchObject({ first_name: 'Mia', phone: '+14155550101' })
    expect(after.groups.map((g) => g.name)).toEqual(['North Clinic care', 'Care team Alpha'])
  })

  it('takes JSON and CSV of individuals; CSV quotes, commas and line breaks are read', async () => {
    const tt = await createTenant(t.services)
    const json = await importFile(tt, JSON.stringify({ individuals: [{ external_id: 'j-1', first_name: 'Jo', phone: '+1 415 523 0199' }] }), 'application/json')
    expect(json.statusCode, json.body).toBe(200)
    expect(JSON.parse(json.body).data.individuals).toEqual(counts(1, 0, 0))
    const csv = 'external_id,first_name,last_name,birth_date,phone\r\n'
      + 'c-1,"Ann, Jr.","O""Neil",1990-01-02,+14155550177\r\n'
      + 'c-2,"Multi\nline",Smith,,\r\n'
      + 'j-1,Joanna,,,+1 415 523 0199\r\n'
    const r = await importFile(tt, csv, 'text/csv')
    expect(r.statusCode, r.body).toBe(200)
    expect(JSON.parse(r.body).data).toEqual({ organizations: counts(0, 0, 0), individuals: counts(2, 1, 0), users: counts(0, 0, 0), groups: counts(0, 0, 0) })
    const ann = await get(key(tt), `/v1/individuals/${await individualId(tt, 'c-1')}/`)
    expect(ann.data.attributes).toMatchObject({ 'first-name': 'Ann, Jr.', 'last-name': 'O"Neil', 'birth-date': '1990-01-02', 'account-type': 'patient', 'owner-id': org(tt) })
    const multi = await get(key(tt), `/v1/individuals/${await individualId(tt, 'c-2')}/`)
    expect(multi.data.attributes['first-name']).toBe('Multi\nline')
    expect((await t.services.people.getByExternalId(tt.tenant, 'j-1')).firstName).toBe('Joanna')
  })

  it('refuses a bad file with every problem at its path and writes nothing', async () => {
    const tt = await createTenant(t.services)
    await importFile(tt, DEMO)
    const before = await snapshot(tt)
    const bad = `
organizations:
  - external_id: east
    name: East
    timezone: Mars/Olympus
individuals:
  - external_id: new-1
    first_name: New
  - external_id: x-2
    phone: "not a phone"
  - external_id: x-3
    birth_date: "2020-02-30"
  - external_id: demo-patient-9
    phone: "+14155550101"
  - external_id: new-1
  - external_id: x-5
    organization: nowhere
    colour: red
users:
  - email: someone@example.com
    individual: nobody
groups:
  - external_id: g1
    name: G
    parent: g2
    individuals: [ghost]
    users: [nobody@example.com]
  - external_id: g2
    name: G2
    parent: g1
`
    const r = await importFile(tt, bad)
    expect(r.statusCode, r.body).toBe(400)
    const body = JSON.parse(r.body)
    expect(body.code).toBe('invalid_directory')
    expect(body.errors).toEqual(['organizations[0].timezone: unknown time zone "Mars/Olympus"'])
    const bad2 = bad.replace('Mars/Olympus', 'UTC')
    const r2 = JSON.parse((await importFile(tt, bad2)).body)
    expect(r2.errors).toEqual(expect.arrayContaining([
      'individuals[1].phone: not a phone number "not a phone"',
      'individuals[2].birth_date: not a date "2020-02-30"',
      'individuals[4].external_id: "new-1" is listed twice (first at individuals[0])',
      'individuals[5].colour: unknown property "colour"',
      'users[0].individual: no individual "nobody"',
      'groups[0].individuals[0]: no individual "ghost"',
      'groups[0].users[0]: no user "nobody@example.com"',
      'groups[0].parent: the parents of "g1" go round in a circle',
    ]))
    expect(await snapshot(tt)).toEqual(before)
    // A phone of another person of the tenant is found in the database, and again nothing is written.
    const taken = await importFile(tt, 'individuals:\n  - external_id: fresh\n  - external_id: demo-patient-9\n    phone: "+14155550101"\n')
    expect(JSON.parse(taken.body).errors).toEqual(['individuals[1].phone: +14155550101 belongs to another person of the tenant'])
    expect(await snapshot(tt)).toEqual(before)
    const csv = await importFile(tt, 'external_id,first_name,shoe_size\nq,Q,42\n', 'text/csv')
    expect(JSON.parse(csv.body).errors[0]).toMatch(/^line 1: unknown column "shoe_size"/)
    const quote = await importFile(tt, 'external_id,first_name\nq,"open\n', 'text/csv')
    expect(JSON.parse(quote.body).errors).toEqual(['line 2: a quoted field is not closed'])
    const rows = await importFile(tt, 'external_id,phone\nq1,+14155550188\nq2,12\nq3\n', 'text/csv')
    expect(JSON.parse(rows.body).errors).toEqual(['individuals[1] (line 3).phone: not a phone number "12"', 'individuals[2] (line 4): 1 fields, the header has 2'])
    for (const [payload, type] of [['', 'application/yaml'], ['[1, 2]', 'application/json'], ['individuals: [', 'application/yaml'], ['x', 'text/plain']]) {
      const res = await importFile(tt, payload!, type)
      expect(res.statusCode, `${type} ${payload}`).toBeGreaterThanOrEqual(400)
      expect(res.statusCode).toBeLessThan(500)
    }
    expect(await snapshot(tt)).toEqual(before)
    const unauth = await t.app.inject({ method: 'POST', url: '/admin/directory', headers: { 'content-type': 'application/yaml' }, payload: DEMO })
    expect(unauth.statusCode).toBe(401)
  })

  it('publishes the file’s JSON Schema', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/schemas/directory.json' })
    expect(r.statusCode).toBe(200)
    expect(JSON.parse(r.body)).toMatchObject({ $id: 'https://switchboard.local/schemas/directory.json', properties: { individuals: { type: 'array' } } })
  })
})

describe('the directory on the messaging API', () => {
  let clinic: string
  let group: Json
  beforeAll(async () => {
    expect((await importFile(a, DEMO)).statusCode).toBe(200)
    expect((await importFile(b, DEMO)).statusCode).toBe(200)
    const orgs = await get(key(a), '/v1/organizations/')
    clinic = orgs.data.find((o: Json) => o.attributes.name === 'North Clinic').id
    const row = await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'north-care-team-a').executeTakeFirstOrThrow()
    group = (await get(key(a), `/v1/individual-groups/${row.id}/`)).data
  })

  it('lists the clinic as an organisation, readable and usable for preferences', async () => {
    const orgs = await get(key(a), '/v1/organizations/')
    expect(orgs.data.map((o: Json) => [o.id === org(a) ? 'root' : 'clinic', o.attributes.classification])).toEqual([['root', 'organization'], ['clinic', 'clinic']])
    expect(orgs.meta['page[total]']).toBe(2)
    expect((await get(key(a), `/v1/organizations/${clinic}/`)).data.attributes).toMatchObject({ name: 'North Clinic', timezone: 'America/New_York' })
    expect((await get(key(a), `/v1/org-preferences/?organization-id=${clinic}`)).data).toHaveLength(3)
    expectJsonApiError(await call(key(b), 'GET', `/v1/organizations/${clinic}/`), 404)
  })

  it('reads individuals (#25) and recalculates a summary (#27, 201)', async () => {
    const id = await individualId(a, 'demo-patient-1')
    const one = await get(key(a), `/v1/individuals/${id}/`)
    expect(one.data).toEqual({
      type: 'individuals', id,
      attributes: {
        'account-type': 'patient', 'birth-date': '1984-03-12', 'first-name': 'Maya', 'last-name': 'Patel', 'preferred-name': 'Maya',
        'owner-id': clinic, 'last-modified-time': expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      },
    })
    const r = await call(key(a), 'POST', `/v1/individuals/${id}/recalculate-communication-summary/`, {})
    expect(r.statusCode, r.body).toBe(201)
    expect(expectJsonApi(JSON.parse(r.body)).data).toEqual(one.data)
    expectJsonApiError(await call(key(a), 'POST', `/v1/individuals/${id}/recalculate-communication-summary/`, { x: 1 }), 400, { pointer: '/x' })
    expectJsonApiError(await call(key(a), 'GET', '/v1/individuals/11111111-1111-1111-1111-111111111111/'), 404)
    expectJsonApiError(await call(key(a), 'GET', '/v1/individuals/nope/'), 404)
  })

  it('reads a person registered through the person API as an individual with its person_id', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: a.cassAuth }, payload: { first_name: 'Pat', phone: uniquePhone() } })
    expect(r.statusCode, r.body).toBe(200)
    const personId = JSON.parse(r.body).person_id as string
    const one = await get(key(a), `/v1/individuals/${personId}/`)
    expect(one.data).toMatchObject({ id: personId, attributes: { 'first-name': 'Pat', 'account-type': 'patient', 'owner-id': org(a), 'birth-date': null } })
    // Imported later by phone with an external id: the same person, adopted, not a second one.
    const phone = (await t.services.people.getByRef(a.tenant, personId)).phone!
    const adopt = await importFile(a, `individuals:\n  - external_id: pat-ext\n    first_name: Pat\n    phone: "${phone}"\n    birth_date: "1970-01-01"\n`)
    expect(JSON.parse(adopt.body).data.individuals).toEqual(counts(0, 1, 0))
    expect((await get(key(a), `/v1/individuals/${personId}/`)).data.attributes['birth-date']).toBe('1970-01-01')
    expectJsonApiError(await call(key(b), 'GET', `/v1/individuals/${personId}/`), 404)
  })

  it('reads an individual group (#24) with its individuals, leaders, parent and organisation', async () => {
    const patients = await Promise.all(['demo-patient-1', 'demo-patient-2', 'demo-patient-3'].map((x) => individualId(a, x)))
    const users = await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).execute()
    const parent = await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'north-care').executeTakeFirstOrThrow()
    expect(group).toEqual({
      type: 'individual-groups', id: group.id,
      attributes: {
        name: 'Care team A', 'organization-id': clinic, 'parent-id': parent.id, 'last-sync-time': expect.any(String),
        individuals: [...patients].sort().map((id) => ({ id })), leaders: users.map((u) => u.id).sort().map((id) => ({ id })),
      },
    })
    expectJsonApiError(await call(key(b), 'GET', `/v1/individual-groups/${group.id}/`), 404)
    expectJsonApiError(await call(key(a), 'GET', '/v1/individual-groups/11111111-1111-1111-1111-111111111111/'), 404)
  })

  it('lists users (#135) with filters and pages, reads one (#136), sets notifications (#137)', async () => {
    const list = await get(key(a), '/v1/users/')
    expect(list.data.map((u: Json) => u.attributes.email)).toEqual(['grace.okafor@demo.switchboard.local', 'sam.lindqvist@demo.switchboard.local'])
    expect(list.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 2 })
    const grace = list.data[0]
    expect(grace.attributes).toMatchObject({
      'first-name': 'Grace', 'last-name': 'Okafor', username: 'gokafor', notifications: ['email'], locale: 'en-US', tz: 'America/New_York',
      'primary-individual-id': await individualId(a, 'demo-clinician-1'), 'sms-mode': 'disabled', state: 'active', 'communication-preferences': {},
    })
    expect((await get(key(a), '/v1/users/?filter[email]=GRACE.OKAFOR@demo.switchboard.local')).data.map((u: Json) => u.id)).toEqual([grace.id])
    expect((await get(key(a), '/v1/users/?filter[username]=slindqvist')).data.map((u: Json) => u.attributes.username)).toEqual(['slindqvist'])
    expect((await get(key(a), `/v1/users/?filter[individual-id]=${await individualId(a, 'demo-clinician-1')}`)).data.map((u: Json) => u.id)).toEqual([grace.id])
    const paged = await get(key(a), '/v1/users/?page[limit]=1&page[offset]=1')
    expect(paged.data.map((u: Json) => u.attributes.username)).toEqual(['slindqvist'])
    expect(paged.meta['page[total]']).toBe(2)
    expectJsonApiError(await call(key(a), 'GET', '/v1/users/?filter[email]=not-an-email'), 400, { parameter: 'filter[email]' })
    expectJsonApiError(await call(key(a), 'GET', '/v1/users/?filter[individual-id]=x'), 400, { parameter: 'filter[individual-id]' })
    expect((await get(key(a), `/v1/users/${grace.id}/`)).data).toEqual(grace)

    const patch = await call(key(a), 'PATCH', `/v1/users/${grace.id}/`, { data: { type: 'users', id: grace.id, attributes: { notifications: ['email', 'sms'] } }, meta: {} })
    expect(patch.statusCode, patch.body).toBe(200)
    expect(expectJsonApi(JSON.parse(patch.body)).data.attributes.notifications).toEqual(['email', 'sms'])
    expectJsonApiError(await call(key(a), 'PATCH', `/v1/users/${grace.id}/`, { data: { type: 'users', id: grace.id, attributes: { notifications: ['pigeon'] } } }), 400, { pointer: '/data/attributes/notifications/0' })
    expectJsonApiError(await call(key(a), 'PATCH', `/v1/users/${grace.id}/`, { data: { type: 'users', id: grace.id, attributes: { email: 'x@y.z' } } }), 400, { pointer: '/data/attributes/email' })
    expectJsonApiError(await call(key(a), 'PATCH', `/v1/users/${grace.id}/`, { data: { type: 'individuals', id: grace.id, attributes: {} } }), 409, { pointer: '/data/type' })
    // Another tenant's user is unknown here, and its notifications stay as they were.
    const theirs = (await get(key(b), '/v1/users/')).data[0]
    expectJsonApiError(await call(key(a), 'PATCH', `/v1/users/${theirs.id}/`, { data: { type: 'users', id: theirs.id, attributes: { notifications: [] } } }), 404)
    expectJsonApiError(await call(key(a), 'GET', `/v1/users/${theirs.id}/`), 404)
    expect((await get(key(b), `/v1/users/${theirs.id}/`)).data.attributes.notifications).toEqual(['email'])
    expect((await get(key(a), `/v1/users/${grace.id}/`)).data.attributes.notifications).toEqual(['email', 'sms'])
  })

  it('a user token acts as that user: itself among users, its groups and their individuals only', async () => {
    const issued = await t.services.directory.issueUserToken(a.tenant, 'Grace.Okafor@demo.switchboard.local')
    expect(issued.token).toMatch(/^sbu_/)
    const stored = await t.store.db.selectFrom('msg_users').select('token_hash').where('id', '=', issued.userId).executeTakeFirstOrThrow()
    expect(stored.token_hash).not.toBe(issued.token)
    expect(stored.token_hash).not.toContain(issued.token)
    const users = await get(issued.token, '/v1/users/')
    expect(users.data.map((u: Json) => u.id)).toEqual([issued.userId])
    const sam = (await get(key(a), '/v1/users/?filter[username]=slindqvist')).data[0]
    expectJsonApiError(await call(issued.token, 'GET', `/v1/users/${sam.id}/`), 404)
    expectJsonApiError(await call(issued.token, 'PATCH', `/v1/users/${sam.id}/`, { data: { type: 'users', id: sam.id, attributes: { notifications: [] } } }), 404)
    expect((await get(issued.token, `/v1/individual-groups/${group.id}/`)).data.id).toBe(group.id)
    const parent = (await get(key(a), `/v1/individual-groups/${group.id}/`)).data.attributes['parent-id']
    expectJsonApiError(await call(issued.token, 'GET', `/v1/individual-groups/${parent}/`), 404)
    expect((await get(issued.token, `/v1/individuals/${await individualId(a, 'demo-patient-2')}/`)).data.attributes['first-name']).toBe('Jonas')
    expect((await get(issued.token, `/v1/individuals/${await individualId(a, 'demo-clinician-1')}/`)).data.attributes['first-name']).toBe('Grace')
    expectJsonApiError(await call(issued.token, 'GET', `/v1/individuals/${await individualId(a, 'demo-clinician-2')}/`), 404)
    // The organisation key still sees everyone; a new token replaces the old; a wrong one is 401.
    expect((await get(key(a), '/v1/users/')).data).toHaveLength(2)
    const next = await t.services.directory.issueUserToken(a.tenant, 'grace.okafor@demo.switchboard.local')
    expectJsonApiError(await call(issued.token, 'GET', '/v1/users/'), 401)
    expect((await get(next.token, '/v1/users/')).data).toHaveLength(1)
    expectJsonApiError(await call('sbu_nothing', 'GET', '/v1/users/'), 401)
  })
})
