import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// End users (E1/E2) over HTTP: created or updated by identifier, looked up by id or identifier,
// the documented errors changing nothing, and every end user a person of the directory — the
// person API's person with the same phone, or the one it creates. SMS sessions get the end user of
// their phone (`forPhone`), one per phone even when asked at once.
let t: TestApp
let acme: TestTenant
let other: TestTenant
beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  // Many requests in a row: above the default 10 per second.
  for (const tt of [acme, other]) await t.services.ccSetup.load(tt.tenant.id, 'settings: { rate_limit: 1000 }\n', 'yaml')
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
async function api(tt: TestTenant, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth }, ...(payload !== undefined ? { payload: payload as object } : {}) })
  return { status: r.statusCode, body: JSON.parse(r.body) as Json }
}
/** A phone as people write it: "+1 (415) 555-0123". */
const human = (e164: string) => `${e164.slice(0, 2)} (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`
const bad = (message: string) => ({ status: 400, body: { message } })

describe('E1 POST /end_users and E2 GET /end_users', () => {
  it('creates an end user, updates it by identifier with the same id, and looks it up both ways', async () => {
    const created = await api(acme, 'POST', '/end_users', { identifier: 'cust-1', name: 'Ada Lovelace', email: 'ada@example.org' })
    expect(created.status).toBe(200)
    expect(created.body).toEqual({ id: expect.any(Number), identifier: 'cust-1' })
    const id = created.body.id as number
    const phone = uniquePhone()
    expect(await api(acme, 'POST', '/end_users', { identifier: 'cust-1', phone: human(phone) })).toEqual({ status: 200, body: { id, identifier: 'cust-1' } })
    const second = await api(acme, 'POST', '/end_users', { identifier: 'cust-2' })
    expect(second.body.id).toBe(id + 1)

    expect(await api(acme, 'GET', `/end_users?id=${id}`)).toEqual({ status: 200, body: { id, identifier: 'cust-1' } })
    expect(await api(acme, 'GET', '/end_users?identifier=cust-1')).toEqual({ status: 200, body: { id, identifier: 'cust-1' } })
    const stored = await t.services.endUsers.find(acme.tenant.id, { num: id })
    expect(stored).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.org', phone, outContactId: null })
    // The person without a phone (created by the first E1) was given it: one person throughout.
    const person = await t.services.peopleLookups.findById(t.store.db, acme.tenant.id, stored.personId)
    expect(person).toMatchObject({ phone, firstName: 'Ada', lastName: 'Lovelace' })
  })

  it('answers the documented errors and changes nothing', async () => {
    expect(await api(acme, 'POST', '/end_users', {})).toEqual(bad('param is missing or the value is empty: identifier'))
    expect(await api(acme, 'POST', '/end_users', { identifier: '  ', name: 'x' })).toEqual(bad('param is missing or the value is empty: identifier'))
    expect(await api(acme, 'POST', '/end_users', { identifier: 'bad-phone', phone: '12' })).toEqual(bad('phone is invalid'))
    expect(await api(acme, 'POST', '/end_users', { identifier: 'bad-name', name: { first: 'x' } })).toEqual(bad('name is invalid'))
    expect(await api(acme, 'GET', '/end_users?identifier=bad-phone')).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await api(acme, 'GET', '/end_users?identifier=bad-name')).toEqual({ status: 404, body: { message: 'Not Found' } })

    expect(await api(acme, 'GET', '/end_users')).toEqual(bad('id or identifier required'))
    expect(await api(acme, 'GET', '/end_users?id=1&identifier=cust-1')).toEqual(bad('id or identifier required'))
    expect(await api(acme, 'GET', '/end_users?id=')).toEqual(bad('id or identifier required'))
    expect(await api(acme, 'GET', '/end_users?id=999999')).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await api(acme, 'GET', '/end_users?id=abc')).toEqual({ status: 404, body: { message: 'Not Found' } })
  })

  it('an end user with the phone of a person of the person API is that person, and the other way round', async () => {
    const phone = uniquePhone()
    const cass = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { first_name: 'Grace', phone } })
    expect(cass.statusCode).toBe(200)
    const cassId = (JSON.parse(cass.body) as Json).person_id as string
    const person = await t.services.peopleLookups.findByCassId(t.store.db, acme.tenant.id, cassId)

    const eu = await api(acme, 'POST', '/end_users', { identifier: 'grace', name: 'Grace Hopper', phone: human(phone) })
    expect(eu.status).toBe(200)
    expect((await t.services.endUsers.find(acme.tenant.id, { num: eu.body.id })).personId).toBe(person!.id)
    // The directory's person keeps its own name: an end user names itself.
    expect((await t.services.peopleLookups.findById(t.store.db, acme.tenant.id, person!.id))?.firstName).toBe('Grace')

    // E1 first: the person API then finds the person E1 made.
    const phone2 = uniquePhone()
    const eu2 = await api(acme, 'POST', '/end_users', { identifier: 'alan', phone: phone2 })
    const again = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone: phone2 } })
    expect(again.statusCode).toBe(409)
    const found = await t.services.peopleLookups.findByCassId(t.store.db, acme.tenant.id, (JSON.parse(again.body) as Json).person_id as string)
    expect(found!.id).toBe((await t.services.endUsers.find(acme.tenant.id, { num: eu2.body.id })).personId)
  })

  it('a new phone of an end user whose person has another phone makes it the person of the new phone', async () => {
    const [p1, p2] = [uniquePhone(), uniquePhone()]
    const eu = await api(acme, 'POST', '/end_users', { identifier: 'mover', phone: p1 })
    const before = await t.services.endUsers.find(acme.tenant.id, { num: eu.body.id })
    await api(acme, 'POST', '/end_users', { identifier: 'mover', phone: p2 })
    const after = await t.services.endUsers.find(acme.tenant.id, { num: eu.body.id })
    expect(after.phone).toBe(p2)
    expect(after.personId).not.toBe(before.personId)
    expect((await t.services.peopleLookups.findById(t.store.db, acme.tenant.id, after.personId))?.phone).toBe(p2)
  })
})

describe('forPhone (SMS sessions)', () => {
  it('gives one anonymous end user per phone, even asked at once, that is the person of that phone', async () => {
    const phone = uniquePhone()
    const users = await Promise.all([1, 2, 3].map(() => t.store.db.transaction().execute((trx) => t.services.endUsers.forPhone(trx, acme.tenant.id, phone))))
    expect(new Set(users.map((u) => u.num)).size).toBe(1)
    expect(users[0]).toMatchObject({ identifier: null, phone })
    expect(await api(acme, 'GET', `/end_users?id=${users[0]!.num}`)).toEqual({ status: 200, body: { id: users[0]!.num, identifier: null } })
    const person = await t.services.peopleLookups.findById(t.store.db, acme.tenant.id, users[0]!.personId)
    expect(person?.phone).toBe(phone)
    // An end user E1 made with that phone afterwards is the same person.
    const eu = await api(acme, 'POST', '/end_users', { identifier: 'sms-later', phone })
    expect((await t.services.endUsers.find(acme.tenant.id, { num: eu.body.id })).personId).toBe(person!.id)
  })

  it('refuses what is not a phone', async () => {
    await expect(t.store.db.transaction().execute((trx) => t.services.endUsers.forPhone(trx, acme.tenant.id, '911'))).rejects.toMatchObject({ code: 'end_user_phone_invalid' })
  })
})

describe('tenant isolation', () => {
  it('another tenant’s end user ids and identifiers are not found, and its identifiers are its own', async () => {
    const mine = await api(acme, 'POST', '/end_users', { identifier: 'only-acme' })
    expect(await api(other, 'GET', '/end_users?identifier=only-acme')).toEqual({ status: 404, body: { message: 'Not Found' } })
    const theirs = await api(other, 'POST', '/end_users', { identifier: 'only-acme' })
    expect(theirs.status).toBe(200)
    const mineUser = await t.services.endUsers.find(acme.tenant.id, { num: mine.body.id })
    const theirUser = await t.services.endUsers.find(other.tenant.id, { num: theirs.body.id })
    expect(theirUser.id).not.toBe(mineUser.id)
    expect(theirUser.personId).not.toBe(mineUser.personId)
    // Acme has more end users than the other tenant: its highest id is unknown there.
    const acmeOnly = await api(acme, 'POST', '/end_users', { identifier: 'acme-extra' })
    expect(acmeOnly.body.id).toBeGreaterThan(theirs.body.id)
    expect(await api(other, 'GET', `/end_users?id=${acmeOnly.body.id}`)).toEqual({ status: 404, body: { message: 'Not Found' } })
  })
})
