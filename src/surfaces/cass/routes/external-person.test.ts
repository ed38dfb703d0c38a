import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { countPeople, seedPerson, wire } from '../../../../test/helpers/cass.ts'

// spec/cass.md → `/external_person` (GET, POST, PATCH) and `GET /get_new_id`.

let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => t?.close())

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>
const auth = () => ({ authorization: acme.cassAuth })

function get(path: string, headers: Record<string, string> = auth()) {
  return t.app.inject({ method: 'GET', url: path, headers })
}
function post(payload: Record<string, unknown>, headers: Record<string, string> = auth()) {
  return t.app.inject({ method: 'POST', url: '/external_person', headers, payload })
}
function patch(path: string, payload: Record<string, unknown> | undefined, headers: Record<string, string> = auth()) {
  return t.app.inject({ method: 'PATCH', url: path, headers, ...(payload ? { payload } : {}) })
}

/** GET /external_person/{id} body, keys in the documented order. */
function personWire(p: Partial<Record<string, string | null>> & { person_id: string }) {
  return wire({
    person_id: p.person_id, phone: p.phone ?? null, external_id: p.external_id ?? null,
    external_username: p.external_username ?? null, external_org: p.external_org ?? null,
    external_data_1: p.external_data_1 ?? null, external_data_2: p.external_data_2 ?? null, external_data_3: p.external_data_3 ?? null,
    first_name: p.first_name ?? null, last_name: p.last_name ?? null, protocol: p.protocol ?? 'sms',
    language_type: p.language_type ?? null, gender: p.gender ?? null, timezone: p.timezone ?? null,
  })
}

describe('create: POST /external_person and GET with query parameters', () => {
  it('POST 200 creates with a UUID person_id, 409 "Existing person found" after', async () => {
    const phone = uniquePhone()
    const r = await post({ phone, external_id: 'post-1', first_name: 'Ann', timezone: 'America/New_York' })
    expect(r.statusCode).toBe(200)
    const id = json(r).person_id as string
    expect(id).toMatch(UUID)
    expect(r.body).toBe(wire({ existing_person: false, person_id: id, external_id: 'post-1', phone, message: 'New person created' }))
    const again = await post({ external_id: 'post-1', phone: uniquePhone() })
    expect(again.statusCode).toBe(409)
    expect(again.body).toBe(wire({ existing_person: true, person_id: id, external_id: 'post-1', phone, message: 'Existing person found' }))
  })

  it('GET with query parameters creates too, and answers the same shapes', async () => {
    const phone = uniquePhone()
    const q = new URLSearchParams({ phone, first_name: 'Gus', external_id: 'get-1' })
    const r = await get(`/external_person?${q}`)
    expect(r.statusCode).toBe(200)
    const id = json(r).person_id as string
    expect(r.body).toBe(wire({ existing_person: false, person_id: id, external_id: 'get-1', phone, message: 'New person created' }))
    const again = await get(`/external_person?${q}`)
    expect(again.statusCode).toBe(409)
    expect(again.body).toBe(wire({ existing_person: true, person_id: id, external_id: 'get-1', phone, message: 'Existing person found' }))
    // new_id is meaningless here: the current API always answers with the UUID.
    const legacyAsked = await get(`/external_person?phone=${encodeURIComponent(phone)}&new_id=0`)
    expect(json(legacyAsked).person_id).toBe(id)
  })

  it('the same number written several ways is one person, stored as E.164', async () => {
    const phone = uniquePhone() // +1415NNNNNNN
    const digits = phone.slice(1)
    const r = await post({ phone: `+${digits.slice(0, 1)} (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}` })
    expect(r.statusCode).toBe(200)
    const id = json(r).person_id
    for (const written of [phone, digits, `00${digits}`, ` ${phone} `, `+1.${digits.slice(1, 4)}.${digits.slice(4, 7)}.${digits.slice(7)}`]) {
      const again = await post({ phone: written })
      expect(again.statusCode, written).toBe(409)
      expect(json(again)).toMatchObject({ person_id: id, phone })
    }
    const legacy = await t.app.inject({ method: 'POST', url: '/add_external_person', headers: auth(), payload: { phone: digits, new_id: '1' } })
    expect(legacy.statusCode).toBe(409)
    expect(json(legacy).person_id).toBe(id)
  })

  it('protocols: sms by default; sandbox, facebook, WHATSAPP and web; case sensitive', async () => {
    const made: Array<[string, string]> = []
    for (const protocol of ['sms', 'sandbox', 'facebook', 'WHATSAPP', 'web']) {
      const r = await post({ protocol, phone: uniquePhone() })
      expect(r.statusCode, protocol).toBe(200)
      made.push([json(r).person_id as string, protocol])
    }
    const dflt = await post({ phone: uniquePhone() })
    made.push([json(dflt).person_id as string, 'sms'])
    for (const [id, protocol] of made) expect(json(await get(`/external_person/${id}`)).protocol).toBe(protocol)
    const before = await countPeople(t, acme.tenant.id)
    for (const protocol of ['whatsapp', 'Sms', 'WEB', 'telegram', ' sms']) {
      const r = await post({ protocol, phone: uniquePhone() })
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ message: `Invalid protocol ${protocol}` }))
    }
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })

  it('documented creation errors: phone required, invalid phone, unknown thread, bad time zone', async () => {
    const before = await countPeople(t, acme.tenant.id)
    expect((await post({ external_id: 'no-phone' })).body).toBe(wire({ phone: null, message: 'phone parameter is required' }))
    expect((await post({ phone: '555' })).body).toBe(wire({ phone: '555', message: 'Invalid phone number' }))
    expect((await post({ phone: uniquePhone(), initial_thread_name: 'nope', ping: '1' })).body).toBe(wire({ thread_name: 'nope', message: 'Thread name Not Found' }))
    const tz = await post({ phone: uniquePhone(), timezone: 'Mars/Olympus_Mons' })
    expect(tz.statusCode).toBe(400)
    expect(tz.body).toBe(wire({ timezone: 'Mars/Olympus_Mons', message: 'Invalid timezone Mars/Olympus_Mons' }))
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })
})

describe('read: GET /external_person/{person_id} and ?external_id=', () => {
  let person: Person
  beforeAll(async () => {
    const r = await post({
      phone: uniquePhone(), external_id: 'read-1', external_username: 'jdoe', external_org: 'Clinic',
      external_data_1: 'd1', external_data_2: 'd2', external_data_3: 'd3', first_name: 'Jane', last_name: 'Doe',
      protocol: 'WHATSAPP', timezone: 'Europe/Paris',
    })
    person = (await t.services.people.getByRef(acme.tenant, json(r).person_id as string))
  })
  const expected = () => personWire({
    person_id: person.cassId, phone: person.phone, external_id: 'read-1', external_username: 'jdoe', external_org: 'Clinic',
    external_data_1: 'd1', external_data_2: 'd2', external_data_3: 'd3', first_name: 'Jane', last_name: 'Doe',
    protocol: 'WHATSAPP', timezone: 'Europe/Paris',
  })

  it('by UUID (any case), by legacy id and by external_id give the same documented body', async () => {
    for (const path of [
      `/external_person/${person.cassId}`, `/external_person/${person.cassId.toUpperCase()}`,
      `/external_person/${person.legacyId}`, '/external_person?external_id=read-1',
    ]) {
      const r = await get(path)
      expect(r.statusCode, path).toBe(200)
      expect(r.body, path).toBe(expected())
    }
    const viaParams = await get(`/external_person/${person.cassId}?client=${acme.credentials.cass.client}&auth=${acme.credentials.cass.token}`, {})
    expect(viaParams.body).toBe(expected())
    const viaParamsLookup = await get(`/external_person?external_id=read-1&client=${acme.credentials.cass.client}&auth=${acme.credentials.cass.token}`, {})
    expect(viaParamsLookup.body).toBe(expected())
  })

  it('404 Unknown person with id : {id} for ids nobody has', async () => {
    for (const id of ['9f1c2b7e-0000-4000-8000-000000000000', '999999999999', 'abc', '0', '-1', '1.5']) {
      const r = await get(`/external_person/${id}`)
      expect(r.statusCode, id).toBe(404)
      expect(r.body).toBe(wire({ message: `Unknown person with id : ${id}` }))
    }
    const byExternal = await get('/external_person?external_id=nobody')
    expect(byExternal.statusCode).toBe(404)
    expect(byExternal.body).toBe(wire({ message: 'Unknown person with id : nobody' }))
  })

  it('404 Person is not registered to {client_name} for another client\'s person; its external_id is simply unknown', async () => {
    const theirs = await seedPerson(t, other, { phone: uniquePhone(), externalId: 'theirs-1' })
    for (const id of [theirs.cassId, theirs.legacyId]) {
      const r = await get(`/external_person/${id}`)
      expect(r.statusCode).toBe(404)
      expect(r.body).toBe(wire({ message: `Person is not registered to ${acme.credentials.cass.client}` }))
    }
    const r = await get('/external_person?external_id=theirs-1')
    expect(r.body).toBe(wire({ message: 'Unknown person with id : theirs-1' }))
  })
})

describe('update: PATCH /external_person/{person_id}', () => {
  it('200 {"data": {"person_id": ...}} echoing the id as given; the fields change', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await patch(`/external_person/${p.cassId}`, {
      first_name: 'New', last_name: 'Name', external_username: 'u', external_org: 'o',
      external_data_1: '1', external_data_2: '2', external_data_3: '3', external_id: 'patched-1',
    })
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe(wire({ data: { person_id: p.cassId } }))
    const byLegacy = await patch(`/external_person/${p.legacyId}`, { first_name: 'Newer' })
    expect(byLegacy.body).toBe(wire({ data: { person_id: p.legacyId } }))
    const read = await get(`/external_person/${p.cassId}`)
    expect(read.body).toBe(personWire({
      person_id: p.cassId, phone: p.phone, external_id: 'patched-1', external_username: 'u', external_org: 'o',
      external_data_1: '1', external_data_2: '2', external_data_3: '3', first_name: 'Newer', last_name: 'Name',
    }))
  })

  it('person_id may come in the body (PATCH /external_person); "Only person_id is mandatory"', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await patch('/external_person', { person_id: p.cassId, first_name: 'Body' })
    expect(r.body).toBe(wire({ data: { person_id: p.cassId } }))
    const nothing = await patch(`/external_person/${p.legacyId}`, undefined)
    expect(nothing.statusCode).toBe(200)
    expect(nothing.body).toBe(wire({ data: { person_id: p.legacyId } }))
    const missing = await patch('/external_person', { first_name: 'x' })
    expect(missing.statusCode).toBe(400)
    expect(missing.body).toBe(wire({ message: 'person_id parameter is required' }))
  })

  it('the documented legacy payload: client and auth in the body', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await patch(`/external_person/${p.legacyId}`, { client: acme.credentials.cass.client, auth: acme.credentials.cass.token, last_name: 'Legacy' }, {})
    expect(r.body).toBe(wire({ data: { person_id: p.legacyId } }))
    expect(json(await get(`/external_person/${p.cassId}`)).last_name).toBe('Legacy')
  })

  it('404 Unknown person with id : {person_id}', async () => {
    for (const id of ['424242424242', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'nobody']) {
      const r = await patch(`/external_person/${id}`, { first_name: 'x' })
      expect(r.statusCode).toBe(404)
      expect(r.body).toBe(wire({ message: `Unknown person with id : ${id}` }))
    }
  })

  it('404 Person is not registered to {client_name}, and the other client\'s person is untouched', async () => {
    const theirs = await seedPerson(t, other, { phone: uniquePhone(), firstName: 'Theirs' })
    for (const id of [theirs.cassId, theirs.legacyId]) {
      const r = await patch(`/external_person/${id}`, { first_name: 'Hijack', external_id: 'hijack' })
      expect(r.statusCode).toBe(404)
      expect(r.body).toBe(wire({ message: `Person is not registered to ${acme.credentials.cass.client}` }))
    }
    const still = await t.app.inject({ method: 'GET', url: `/external_person/${theirs.cassId}`, headers: { authorization: other.cassAuth } })
    expect(json(still)).toMatchObject({ first_name: 'Theirs', external_id: null })
  })

  it('external_id: set once, then immutable (400 External_id already exist); repeating it is fine', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    expect((await patch(`/external_person/${p.cassId}`, { external_id: 'once' })).statusCode).toBe(200)
    expect((await patch(`/external_person/${p.cassId}`, { external_id: 'once', first_name: 'Same' })).statusCode).toBe(200)
    const changed = await patch(`/external_person/${p.cassId}`, { external_id: 'twice', first_name: 'Lost' })
    expect(changed.statusCode).toBe(400)
    expect(changed.body).toBe(wire({ message: 'External_id already exist' }))
    const read = json(await get(`/external_person/${p.cassId}`))
    expect(read).toMatchObject({ external_id: 'once', first_name: 'Same' })
  })

  it('400 External_id already exist when the external_id is another person\'s', async () => {
    const a = await seedPerson(t, acme, { phone: uniquePhone(), externalId: 'taken-1' })
    const b = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await patch(`/external_person/${b.legacyId}`, { external_id: 'taken-1', first_name: 'Nope' })
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe(wire({ message: 'External_id already exist' }))
    expect(json(await get(`/external_person/${b.cassId}`))).toMatchObject({ external_id: null, first_name: null })
    expect(json(await get(`/external_person/${a.cassId}`))).toMatchObject({ external_id: 'taken-1' })
    // Another client may use the same external_id for its own person.
    const theirs = await seedPerson(t, other, { phone: uniquePhone() })
    const elsewhere = await t.app.inject({ method: 'PATCH', url: `/external_person/${theirs.cassId}`, headers: { authorization: other.cassAuth }, payload: { external_id: 'taken-1' } })
    expect(elsewhere.statusCode).toBe(200)
  })

  it('an empty external_id or phone leaves the person as is (and the real external_id can still be set)', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    expect((await patch(`/external_person/${p.cassId}`, { external_id: '', phone: '' })).statusCode).toBe(200)
    expect(json(await get(`/external_person/${p.cassId}`))).toMatchObject({ external_id: null, phone: p.phone })
    expect((await patch(`/external_person/${p.cassId}`, { external_id: 'real-one' })).statusCode).toBe(200)
    expect(json(await get(`/external_person/${p.cassId}`)).external_id).toBe('real-one')
  })

  it('400 Invalid phone number {phone}; a valid one is stored as E.164', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone(), firstName: 'Keep' })
    for (const phone of ['12345', 'abc', '+1 415 555']) {
      const r = await patch(`/external_person/${p.cassId}`, { phone, first_name: 'Changed' })
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ message: `Invalid phone number ${phone}` }))
    }
    expect(json(await get(`/external_person/${p.cassId}`))).toMatchObject({ phone: p.phone, first_name: 'Keep' })
    const fresh = uniquePhone()
    const ok = await patch(`/external_person/${p.cassId}`, { phone: `00${fresh.slice(1)}` })
    expect(ok.statusCode).toBe(200)
    expect(json(await get(`/external_person/${p.cassId}`)).phone).toBe(fresh)
  })

  it('a phone another person has is refused (409, decided) and changes nothing', async () => {
    const a = await seedPerson(t, acme, { phone: uniquePhone() })
    const b = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await patch(`/external_person/${b.cassId}`, { phone: a.phone!.slice(1), first_name: 'Nope' })
    expect(r.statusCode).toBe(409)
    expect(r.body).toBe(wire({ message: 'Phone number already exist' }))
    expect(json(await get(`/external_person/${b.cassId}`))).toMatchObject({ phone: b.phone, first_name: null })
  })
})

describe('GET /get_new_id', () => {
  it('maps a legacy id to the UUID: {"old_id", "new_id"}', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    const r = await get(`/get_new_id?person_id=${p.legacyId}`)
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe(wire({ old_id: p.legacyId, new_id: p.cassId }))
    const viaParams = await get(`/get_new_id?person_id=${p.legacyId}&client=${acme.credentials.cass.client}&auth=${acme.credentials.cass.token}`, {})
    expect(viaParams.body).toBe(wire({ old_id: p.legacyId, new_id: p.cassId }))
  })

  it('404 for an unknown id, 404 for another client\'s person, 400 without person_id', async () => {
    const unknown = await get('/get_new_id?person_id=987654321987')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.body).toBe(wire({ message: 'Unknown person with id : 987654321987' }))
    const theirs = await seedPerson(t, other, { phone: uniquePhone() })
    const foreign = await get(`/get_new_id?person_id=${theirs.legacyId}`)
    expect(foreign.statusCode).toBe(404)
    expect(foreign.body).toBe(wire({ message: `Person is not registered to ${acme.credentials.cass.client}` }))
    const none = await get('/get_new_id')
    expect(none.statusCode).toBe(400)
    expect(none.body).toBe(wire({ message: 'person_id parameter is required' }))
  })
})
