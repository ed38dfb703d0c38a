import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// #49 get-profile over HTTP: a channel member's profile (`individual-profiles`, as the spec row's
// sample: data without meta) as another member sees it; an acting individual or a profile outside
// the channel, another tenant's channel or individual answer 404, missing or malformed parameters 400.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp
let a: TestTenant
let b: TestTenant
let nurse: string
let patient: string
let stranger: string
let theirs: string
let channelId: string
beforeAll(async () => {
  t = await startTestApp()
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
  patient = (await seedPerson(t, a, { firstName: 'Pat', phone: uniquePhone() })).cassId
  stranger = (await seedPerson(t, a, { firstName: 'Sam', phone: uniquePhone() })).cassId
  theirs = (await seedPerson(t, b, { firstName: 'Other', phone: uniquePhone() })).cassId
  const r = await call(a, `/v1/messaging-channels/`, { data: { type: 'messaging-channels', attributes: { 'organization-id': a.credentials.courier.organization_id, 'individual-ids': [patient], 'individual-id': nurse } } })
  expect(r.statusCode, r.body).toBe(201)
  channelId = (JSON.parse(r.body) as Json).data.id
})
afterAll(async () => t?.close())

function call(tt: TestTenant, url: string, body?: unknown) {
  return t.app.inject({
    method: body === undefined ? 'GET' : 'POST', url,
    headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}
const profile = (tt: TestTenant, acting: string, of: string, channel = channelId) =>
  call(tt, `/v1/messaging-channels/${channel}/get-profile/?individual-id=${acting}&profile-individual-id=${of}`)

describe('get-profile (#49)', () => {
  it('answers a member\'s profile to another member (and to oneself) as individual-profiles', async () => {
    const r = await profile(a, nurse, patient)
    expect(r.statusCode, r.body).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ data: { attributes: { photo: '' }, id: patient, type: 'individual-profiles' } })
    // Trailing slash optional, ids case-insensitive, a member's own profile too.
    const own = await call(a, `/v1/messaging-channels/${channelId}/get-profile?individual-id=${patient.toUpperCase()}&profile-individual-id=${patient}`)
    expect(own.statusCode, own.body).toBe(200)
    expect((JSON.parse(own.body) as Json).data.id).toBe(patient)
  })

  it('answers 404 unless both individuals are members of the channel', async () => {
    expectJsonApiError(await profile(a, stranger, patient), 404, { parameter: 'individual-id' })
    expectJsonApiError(await profile(a, nurse, stranger), 404, { parameter: 'profile-individual-id' })
    expectJsonApiError(await profile(a, nurse, '11111111-1111-1111-1111-111111111111'), 404, { parameter: 'profile-individual-id' })
    expectJsonApiError(await profile(a, '11111111-1111-1111-1111-111111111111', patient), 404, { parameter: 'individual-id' })
    expectJsonApiError(await profile(a, nurse, patient, '11111111-1111-1111-1111-111111111111'), 404)
    expectJsonApiError(await profile(a, nurse, patient, 'nope'), 404)
  })

  it('refuses missing or malformed parameters with a §1.7 error naming the parameter', async () => {
    expectJsonApiError(await call(a, `/v1/messaging-channels/${channelId}/get-profile/?individual-id=${nurse}`), 400, { parameter: 'profile-individual-id' })
    expectJsonApiError(await call(a, `/v1/messaging-channels/${channelId}/get-profile/?profile-individual-id=${patient}`), 400, { parameter: 'individual-id' })
    expectJsonApiError(await profile(a, 'not-a-uuid', patient), 400, { parameter: 'individual-id' })
    expectJsonApiError(await call(a, `/v1/messaging-channels/${channelId}/get-profile/?individual-id=${nurse}&profile-individual-id=${patient}&extra=1`), 400, { parameter: 'extra' })
  })

  it('another tenant sees neither the channel nor its members', async () => {
    expectJsonApiError(await profile(b, nurse, patient), 404)
    expectJsonApiError(await profile(b, theirs, patient), 404)
    expectJsonApiError(await profile(a, nurse, theirs), 404, { parameter: 'profile-individual-id' })
  })
})
