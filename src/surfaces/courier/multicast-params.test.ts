import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recipientOf } from '../../core/messaging/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// #139 POST /v1/users/{id}/validate-multicast-params/: a multicast's template data checked against
// the template's data-schema and every part rendered for the individual in their language, nothing
// sent; 201 {info, success}. The user, organisation and individual must be the tenant's (and a user
// token's to see); a template is the tenant's own.
const DEMO = readFileSync(new URL('../../../examples/templates/demo.yaml', import.meta.url), 'utf8')
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp
let a: TestTenant
let b: TestTenant
const ids = { user: '', otherUser: '', maya: '', lu: '', outsider: '', bUser: '', bIndividual: '' }
const DATA = { clinic: 'North Clinic', date: '2026-12-24', time: '09:30' }

function call(tt: TestTenant | string, url: string, body: unknown) {
  const bearer = typeof tt === 'string' ? tt : tt.credentials.courier.api_key
  return t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
}
const validate = (tt: TestTenant | string, userId: string, body: Json) => call(tt, `/v1/users/${userId}/validate-multicast-params/`, body)
const params = (tt: TestTenant, individualId: string, templateId: string, data: Json = DATA) => ({ data, 'individual-id': individualId, 'organization-id': tt.credentials.courier.organization_id, 'template-id': templateId })
async function answer(tt: TestTenant | string, userId: string, body: Json): Promise<Json> {
  const r = await validate(tt, userId, body)
  expect(r.statusCode, r.body).toBe(201)
  return JSON.parse(r.body) as Json
}
async function refused(tt: TestTenant | string, userId: string, body: Json, status: number): Promise<Json> {
  const r = await validate(tt, userId, body)
  expect(r.statusCode, r.body).toBe(status)
  return (JSON.parse(r.body) as Json).errors[0]
}
const cassId = async (tt: TestTenant, externalId: string) => (await t.services.people.getByExternalId(tt.tenant, externalId)).cassId

beforeAll(async () => {
  t = await startTestApp()
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  await t.services.people.create(a.tenant, { externalId: 'p-lu', firstName: 'Lucia', phone: uniquePhone(), languageType: 'es-US' })
  await t.services.directory.import(a.tenant, { format: 'yaml', text: `individuals:
  - { external_id: p-maya, first_name: Maya, last_name: Patel }
  - { external_id: p-lu, first_name: Lucia, last_name: Romero, preferred_name: Lu }
  - { external_id: p-outsider, first_name: Otto }
users:
  - { email: grace@a.example, first_name: Grace }
  - { email: other@a.example, first_name: Other }
groups:
  - { external_id: team, name: Team, individuals: [p-maya, p-lu], users: [grace@a.example] }
` })
  await t.services.directory.import(b.tenant, { format: 'yaml', text: 'individuals:\n  - { external_id: b-1, first_name: Bea }\nusers:\n  - { email: b@b.example }\n' })
  await t.services.templates.load(a.tenant, DEMO + `
  hello:
    sms: "Hi {{ recipient.name }}, {{ data.greeting }}"
    languages:
      es: { sms: "Hola {{ recipient.name }}, {{ data.saludo | upcase }}" }
`, 'yaml')
  const user = (tt: TestTenant, email: string) => t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', tt.tenant.id).where('email', '=', email).executeTakeFirstOrThrow()
  ids.user = (await user(a, 'grace@a.example')).id
  ids.otherUser = (await user(a, 'other@a.example')).id
  ids.bUser = (await user(b, 'b@b.example')).id
  ids.maya = await cassId(a, 'p-maya')
  ids.lu = await cassId(a, 'p-lu')
  ids.outsider = await cassId(a, 'p-outsider')
  ids.bIndividual = await cassId(b, 'b-1')
})
afterAll(async () => t?.close())

describe('POST /v1/users/{id}/validate-multicast-params/', () => {
  it('renders every part for the individual in their language, sending nothing', async () => {
    const outbox = async () => (await t.store.db.selectFrom('outbox_messages').select('id').where('tenant_id', '=', a.tenant.id).execute()).length
    const before = await outbox()
    expect(await answer(a, ids.user, params(a, ids.maya, 'appointment-reminder'))).toEqual({ info: 'template appointment-reminder renders push, sms, email in en for this individual', success: true })
    // Lu's language is es-US: the Spanish variant.
    expect(await answer(a, ids.user, params(a, ids.lu, 'appointment-reminder'))).toEqual({ info: 'template appointment-reminder renders push, sms, email in es for this individual', success: true })
    expect(await answer(a, ids.user, params(a, ids.lu, 'care-check-in', {}))).toEqual({ info: 'template care-check-in renders sms, in-app in es for this individual', success: true })
    // The wire shape exactly: {info, success}, nothing else.
    const r = await validate(a, ids.user, params(a, ids.maya, 'medication-refill', { medication: 'Amoxicillin', pharmacy: 'Main St' }))
    expect([r.statusCode, r.body]).toEqual([201, '{"info":"template medication-refill renders push, sms, in-app in en for this individual","success":true}'])
    expect(await outbox()).toBe(before)
  })

  it('addresses the individual by preferred name, else first and last name, in their language', async () => {
    const of = async (id: string) => recipientOf(t.services.people, a.tenant, await t.services.directory.individual(a.tenant, id))
    expect(await of(ids.lu)).toEqual({ name: 'Lu', language: 'es-US' })
    expect(await of(ids.maya)).toEqual({ name: 'Maya Patel', language: null })
    const rendered = await t.services.templates.render(undefined, a.tenant, 'hello', { saludo: 'bienvenida' }, await of(ids.lu))
    expect(rendered).toEqual({ templateId: 'hello', language: 'es', sms: 'Hola Lu, BIENVENIDA' })
  })

  it('answers success false with what stops it: an unknown template, data the data-schema refuses, a part that does not render', async () => {
    expect(await answer(a, ids.user, params(a, ids.maya, 'no-such-template'))).toEqual({ info: 'unknown template "no-such-template"', success: false })
    expect(await answer(a, ids.user, params(a, ids.maya, 'appointment-reminder', { clinic: 'North', date: '24/12/2026' }))).toEqual({
      info: 'data does not match the data-schema of template appointment-reminder: data: missing "time"; data.date: must match format "date"', success: false,
    })
    // No data-schema: a variable the data lacks is found by rendering, in the recipient's language.
    expect(await answer(a, ids.user, params(a, ids.maya, 'hello', { greeting: 'welcome!' }))).toEqual({ info: 'template hello renders sms in en for this individual', success: true })
    expect(await answer(a, ids.user, params(a, ids.lu, 'hello', { greeting: 'welcome!' }))).toEqual({
      info: 'template hello does not render: languages.es.sms: Liquid: undefined variable: data.saludo, line:1, col:31', success: false,
    })
    expect(await answer(a, ids.user, params(a, ids.lu, 'hello', { saludo: 'bienvenida' }))).toMatchObject({ success: true })
  })

  it('refuses a user, organisation or individual that is not the tenant’s (404, pointing at the member) and a body missing a member (400)', async () => {
    const nowhere = '00000000-0000-4000-8000-000000000139'
    expect(await refused(a, nowhere, params(a, ids.maya, 'hello'), 404)).toMatchObject({ status: 404, code: 'resource_not_found', detail: `No users with id ${nowhere}` })
    expect(await refused(a, ids.user, { ...params(a, ids.maya, 'hello'), 'organization-id': b.credentials.courier.organization_id }, 404)).toMatchObject({ code: 'resource_not_found', source: { pointer: '/organization-id' } })
    expect(await refused(a, ids.user, params(a, nowhere, 'hello'), 404)).toMatchObject({ code: 'resource_not_found', detail: `No individuals with id ${nowhere}`, source: { pointer: '/individual-id' } })
    for (const member of ['data', 'individual-id', 'organization-id', 'template-id']) {
      const body: Json = params(a, ids.maya, 'hello')
      delete body[member]
      expect(await refused(a, ids.user, body, 400), member).toMatchObject({ status: 400, source: { pointer: `/${member}` } })
    }
    expect(await refused(a, ids.user, params(a, ids.maya, 'x'.repeat(256)), 400)).toMatchObject({ source: { pointer: '/template-id' } })
    expect(await refused(a, ids.user, { ...params(a, ids.maya, 'hello'), data: 'text' }, 400)).toMatchObject({ source: { pointer: '/data' } })
    expect(await refused(a, ids.user, { ...params(a, ids.maya, 'hello'), 'individual-id': 'not-a-uuid' }, 400)).toMatchObject({ source: { pointer: '/individual-id' } })
  })

  it('with a user token: only the user themselves, and only individuals of their care teams', async () => {
    const token = (await t.services.directory.issueUserToken(a.tenant, 'grace@a.example')).token
    expect(await answer(token, ids.user, params(a, ids.lu, 'hello', { saludo: 'hola' }))).toMatchObject({ success: true })
    expect(await refused(token, ids.otherUser, params(a, ids.lu, 'hello'), 404)).toMatchObject({ code: 'resource_not_found' })
    expect(await refused(token, ids.user, params(a, ids.outsider, 'hello'), 404)).toMatchObject({ source: { pointer: '/individual-id' } })
    // The organisation's key sees every individual.
    expect(await answer(a, ids.user, params(a, ids.outsider, 'care-check-in', {}))).toMatchObject({ success: true })
  })

  it('keeps templates per tenant: another tenant’s template is as unknown as one that exists nowhere', async () => {
    const theirs = await answer(b, ids.bUser, params(b, ids.bIndividual, 'appointment-reminder'))
    expect(theirs).toEqual({ info: 'unknown template "appointment-reminder"', success: false })
    expect(await answer(b, ids.bUser, params(b, ids.bIndividual, 'exists-nowhere'))).toEqual({ info: 'unknown template "exists-nowhere"', success: false })
    // A's user, individual and organisation from B: 404 as for ids that exist nowhere.
    const nowhere = '00000000-0000-4000-8000-000000000140'
    const own = await validate(b, ids.user, params(a, ids.maya, 'appointment-reminder'))
    const none = await validate(b, nowhere, params(a, ids.maya, 'appointment-reminder'))
    expect([own.statusCode, own.body.replaceAll(ids.user, '#')]).toEqual([none.statusCode, none.body.replaceAll(nowhere, '#')])
    expect(await refused(b, ids.bUser, params(b, ids.maya, 'hello'), 404)).toMatchObject({ source: { pointer: '/individual-id' } })
    // B loads a template of the same id: B's own renders, A's is untouched.
    await t.services.templates.load(b.tenant, 'templates:\n  appointment-reminder:\n    sms: "B: {{ data.when }}"\n', 'yaml')
    expect(await answer(b, ids.bUser, params(b, ids.bIndividual, 'appointment-reminder', { when: 'now' }))).toEqual({ info: 'template appointment-reminder renders sms in en for this individual', success: true })
    expect(await answer(a, ids.user, params(a, ids.maya, 'appointment-reminder', { when: 'now' }))).toMatchObject({ success: false })
  })
})
