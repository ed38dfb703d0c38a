import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { addThread, countPeople, credentialsQuery, wire } from '../../../../test/helpers/cass.ts'

// spec/cass.md → `GET|POST /add_external_person` (deprecated, still served): every row of its table.

let t: TestApp
let acme: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
})
afterAll(async () => t?.close())

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const LEGACY = /^[1-9][0-9]*$/

type Params = Record<string, string>
type Via = 'query' | 'json' | 'form'

/** One call, with its parameters in the query string, a JSON body or a form body. */
function add(params: Params, via: Via = 'json', headers: Record<string, string> = { authorization: acme.cassAuth }) {
  if (via === 'query') return t.app.inject({ method: 'GET', url: `/add_external_person?${new URLSearchParams(params)}`, headers })
  if (via === 'json') return t.app.inject({ method: 'POST', url: '/add_external_person', headers, payload: params })
  return t.app.inject({
    method: 'POST', url: '/add_external_person',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(params).toString(),
  })
}

function created(personId: string, externalId: string | null, phone: string | null) {
  return wire({ existing_person: false, person_id: personId, external_id: externalId, phone, message: 'New person created' })
}
function existing(personId: string, externalId: string | null, phone: string | null) {
  return wire({ existing_person: true, person_id: personId, external_id: externalId, phone, message: 'Existing person found already' })
}
const personIdOf = (r: { body: string }) => (JSON.parse(r.body) as { person_id: string }).person_id

describe.each<Via>(['query', 'json', 'form'])('parameters in the %s', (via) => {
  it('200 creates a person; person_id is the legacy integer id, as a string', async () => {
    const phone = uniquePhone()
    const r = await add({ phone, external_id: `ext-${via}`, first_name: 'Jane' }, via)
    expect(r.statusCode).toBe(200)
    const id = personIdOf(r)
    expect(id).toMatch(LEGACY)
    expect(r.body).toBe(created(id, `ext-${via}`, phone))
  })

  it('409 returns the existing person for the same phone, then for the same external_id', async () => {
    const phone = uniquePhone()
    const first = await add({ phone, external_id: `dup-${via}` }, via)
    const id = personIdOf(first)
    const byPhone = await add({ phone }, via)
    expect(byPhone.statusCode).toBe(409)
    expect(byPhone.body).toBe(existing(id, `dup-${via}`, phone))
    const byExternalId = await add({ external_id: `dup-${via}`, phone: uniquePhone() }, via)
    expect(byExternalId.statusCode).toBe(409)
    expect(byExternalId.body).toBe(existing(id, `dup-${via}`, phone))
    const webByExternalId = await add({ external_id: `dup-${via}`, protocol: 'web' }, via)
    expect(webByExternalId.statusCode).toBe(409)
    expect(webByExternalId.body).toBe(existing(id, `dup-${via}`, phone))
  })

  it('new_id=1 and New_id=1 answer with the UUID, for new and existing people alike', async () => {
    const phone = uniquePhone()
    const r = await add({ phone, new_id: '1' }, via)
    expect(r.statusCode).toBe(200)
    const uuid = personIdOf(r)
    expect(uuid).toMatch(UUID)
    expect(r.body).toBe(created(uuid, null, phone))
    const again = await add({ phone, New_id: '1' }, via)
    expect(again.statusCode).toBe(409)
    expect(again.body).toBe(existing(uuid, null, phone))
    const legacy = await add({ phone, new_id: '0' }, via)
    expect(personIdOf(legacy)).toMatch(LEGACY)
    // The legacy id and the UUID name the same person.
    const map = await t.app.inject({ method: 'GET', url: `/get_new_id?person_id=${personIdOf(legacy)}`, headers: { authorization: acme.cassAuth } })
    expect(map.body).toBe(wire({ old_id: personIdOf(legacy), new_id: uuid }))
  })

  it('400 {"phone": null, "message": "phone parameter is required"} for sms (the default) and WHATSAPP', async () => {
    const before = await countPeople(t, acme.tenant.id)
    for (const params of [{ external_id: `np-${via}` }, { external_id: `np-${via}`, protocol: 'sms' }, { external_id: `np-${via}`, protocol: 'WHATSAPP' }, { first_name: 'x' }, { phone: '' }] as Params[]) {
      const r = await add(params, via)
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ phone: null, message: 'phone parameter is required' }))
    }
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })

  it('400 {"phone": <phone>, "message": "Invalid phone number"} for a bad phone', async () => {
    const before = await countPeople(t, acme.tenant.id)
    for (const phone of ['12345', 'not a phone', '+1 415 555 267', '+999 1234567', '+1415555267112345678']) {
      const r = await add({ phone, external_id: `bad-phone-${via}` }, via)
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ phone, message: 'Invalid phone number' }))
    }
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })

  it('400 {"thread_name": ..., "message": "Thread name Not Found"} for a thread the client does not have', async () => {
    const before = await countPeople(t, acme.tenant.id)
    const r = await add({ phone: uniquePhone(), initial_thread_name: 'no_such_thread', ping: '1' }, via)
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe(wire({ thread_name: 'no_such_thread', message: 'Thread name Not Found' }))
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })

  it('401 {"auth": <auth>, "message": "Unauthorized"} for a bad token, and nothing is written', async () => {
    const before = await countPeople(t, acme.tenant.id)
    const params = { phone: uniquePhone(), client: acme.credentials.cass.client, auth: 'bad-token' }
    const r = await add(params, via, {})
    expect(r.statusCode).toBe(401)
    expect(r.body).toBe(wire({ auth: 'bad-token', message: 'Unauthorized' }))
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })
})

describe('threads', () => {
  it('a known thread passes, with or without ping, for a new and for an existing person', async () => {
    const tenant = await createTenant(t.services)
    const headers = { authorization: tenant.cassAuth }
    const phone = uniquePhone()
    // The tenant has no threads yet: refused.
    const refused = await add({ phone, initial_thread_name: 'welcome', ping: '1' }, 'json', headers)
    expect(refused.body).toBe(wire({ thread_name: 'welcome', message: 'Thread name Not Found' }))
    await addThread(t, tenant.tenant.id, 'welcome')
    const r = await add({ phone, initial_thread_name: 'welcome', ping: '1' }, 'json', headers)
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe(created(personIdOf(r), null, phone))
    const again = await add({ phone, initial_thread_name: 'welcome', ping: '1' }, 'query', headers)
    expect(again.statusCode).toBe(409)
    const silent = await add({ phone: uniquePhone(), initial_thread_name: 'welcome' }, 'form', headers)
    expect(silent.statusCode).toBe(200)
    // Thread names are exact: another tenant's thread, or another spelling, is not found.
    const wrongCase = await add({ phone: uniquePhone(), initial_thread_name: 'Welcome', ping: '1' }, 'json', headers)
    expect(wrongCase.body).toBe(wire({ thread_name: 'Welcome', message: 'Thread name Not Found' }))
    const elsewhere = await add({ phone: uniquePhone(), initial_thread_name: 'welcome', ping: '1' })
    expect(elsewhere.body).toBe(wire({ thread_name: 'welcome', message: 'Thread name Not Found' }))
    // Names every JavaScript object answers to are thread names like any other: not found.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const r = await add({ phone: uniquePhone(), initial_thread_name: name, ping: '1' }, 'json', headers)
      expect(r.statusCode, r.body).toBe(400)
      expect(r.body).toBe(wire({ thread_name: name, message: 'Thread name Not Found' }))
    }
  })
})

describe('protocols and identifiers', () => {
  it('protocols that need no phone still need an external_id', async () => {
    for (const protocol of ['sandbox', 'facebook', 'web']) {
      const r = await add({ protocol, external_id: `p-${protocol}` })
      expect(r.statusCode).toBe(200)
      expect(r.body).toBe(created(personIdOf(r), `p-${protocol}`, null))
      const none = await add({ protocol })
      expect(none.statusCode).toBe(400)
      expect(none.body).toBe(wire({ external_id: null, message: 'external_id parameter is required' }))
    }
  })

  it('an unknown or wrongly cased protocol is refused', async () => {
    for (const protocol of ['whatsapp', 'SMS', 'Web', 'email']) {
      const r = await add({ protocol, phone: uniquePhone() })
      expect(r.statusCode).toBe(400)
      expect(r.body).toBe(wire({ message: `Invalid protocol ${protocol}` }))
    }
  })

  it('an empty protocol, as a form sends a blank field, means the default sms', async () => {
    const phone = uniquePhone()
    const r = await add({ protocol: '', timezone: '', phone })
    expect(r.statusCode).toBe(200)
    const person = await t.services.people.getByRef(acme.tenant, personIdOf(r))
    expect(person).toMatchObject({ protocol: 'sms', timezone: null, phone })
    expect((await add({ protocol: '' })).body).toBe(wire({ phone: null, message: 'phone parameter is required' }))
  })
})

describe('GET and POST mixed', () => {
  it('a POST may carry everything in the query string and no body at all (v1 callers)', async () => {
    const phone = uniquePhone()
    for (const headers of [{}, { 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }]) {
      const r = await t.app.inject({ method: 'POST', url: `/add_external_person?${credentialsQuery(acme)}&phone=${encodeURIComponent(phone)}`, headers })
      expect([200, 409]).toContain(r.statusCode)
      expect(JSON.parse(r.body)).toMatchObject({ phone })
    }
  })

  it('query and body parameters merge, the body winning', async () => {
    const phone = uniquePhone()
    const r = await t.app.inject({
      method: 'POST', url: `/add_external_person?${credentialsQuery(acme)}&first_name=Query&new_id=1`,
      payload: { phone, first_name: 'Body' },
    })
    expect(r.statusCode).toBe(200)
    expect(personIdOf(r)).toMatch(UUID)
    const get = await t.app.inject({ method: 'GET', url: `/external_person/${personIdOf(r)}`, headers: { authorization: acme.cassAuth } })
    expect(JSON.parse(get.body)).toMatchObject({ first_name: 'Body', phone })
  })

  it('a JSON body of numbers is read as strings (new_id: 1, phone as a number)', async () => {
    const phone = uniquePhone()
    const r = await t.app.inject({ method: 'POST', url: '/add_external_person', headers: { authorization: acme.cassAuth }, payload: { phone: Number(phone.slice(1)), new_id: 1 } })
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe(created(personIdOf(r), null, phone))
    expect(personIdOf(r)).toMatch(UUID)
  })
})
