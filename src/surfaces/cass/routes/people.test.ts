import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'

let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => t?.close())

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>

describe('POST /external_person', () => {
  it('creates a person, normalising the phone to E.164', async () => {
    const phone = uniquePhone()
    const written = `${phone.slice(0, 2)} (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { first_name: 'Jane', phone: written, external_id: 'ext-1' } })
    expect(r.statusCode).toBe(200)
    const body = json(r)
    expect(body).toEqual({ existing_person: false, person_id: expect.stringMatching(/^[0-9a-f-]{36}$/), external_id: 'ext-1', phone, message: 'New person created' })
    const again = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone } })
    expect(again.statusCode).toBe(409)
    expect(json(again)).toEqual({ existing_person: true, person_id: body.person_id, external_id: 'ext-1', phone, message: 'Existing person found' })
  })
})

describe('tenants are separate directories', () => {
  it('the same phone and external_id in another client make another person', async () => {
    const phone = uniquePhone()
    const mine = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone, external_id: 'shared-ext' } })
    const theirs = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: other.cassAuth }, payload: { phone, external_id: 'shared-ext' } })
    expect(mine.statusCode).toBe(200)
    expect(theirs.statusCode).toBe(200)
    expect(json(theirs).person_id).not.toBe(json(mine).person_id)
    const lookup = await t.app.inject({ method: 'GET', url: '/external_person?external_id=shared-ext', headers: { authorization: other.cassAuth } })
    expect(json(lookup).person_id).toBe(json(theirs).person_id)
  })
})
