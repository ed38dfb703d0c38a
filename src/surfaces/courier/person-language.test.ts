import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// A person's language end to end: set through the person API (`language_type` on POST and PATCH
// /external_person, an extension), read back by GET, refused with the Cass error shape when it is
// no language (nothing changes), and used by bulk messages (#41) to pick the person's `message-js`
// text — changed later, the next bulk message follows the new language.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp
let a: TestTenant
let b: TestTenant
beforeAll(async () => {
  t = await startTestApp({ workers: true })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
})
afterAll(async () => t?.close())

const person = (tt: TestTenant, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Json) =>
  t.app.inject({ method, url, headers: { authorization: tt.cassAuth }, ...(payload ? { payload } : {}) })
const courier = (tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown) => t.app.inject({
  method, url, headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
})
async function ok(tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Json> {
  const r = await courier(tt, method, url, body)
  expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(method === 'POST' ? 201 : 200)
  return JSON.parse(r.body) as Json
}
async function register(fields: Json): Promise<string> {
  const r = await person(a, 'POST', '/external_person', { phone: uniquePhone(), ...fields })
  expect(r.statusCode, r.body).toBe(200)
  return (JSON.parse(r.body) as Json).person_id as string
}
const languageOf = async (tt: TestTenant, id: string) => (JSON.parse((await person(tt, 'GET', `/external_person/${id}`)).body) as Json).language_type
/** Post a bulk message to these individuals and wait until it is posted. */
async function bulk(ids: string[]): Promise<void> {
  const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
    'auto-create-channel': true, 'individual-ids': ids, message: 'Hi (plain)', 'message-js': { en_US: 'Hello', es_US: 'Hola' },
  } } })
  await waitFor('bulk message posted', async () => (await ok(a, 'GET', `/v1/messaging-bulk-messages/${created.data.id}/`)).data.attributes.state === 'posted', 30_000)
}
/** The last message in the individual's (one) channel, as they read it. */
async function lastReceived(id: string): Promise<string> {
  const channels = await ok(a, 'GET', `/v1/messaging-channels/?individual-id=${id}`)
  expect(channels.data).toHaveLength(1)
  const messages = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${channels.data[0].id}&individual-id=${id}`)
  return messages.data.at(-1).attributes.message as string
}

describe('a person\'s language', () => {
  it('is set by the person API and picks the bulk message\'s localised text', async () => {
    const ana = await register({ first_name: 'Ana', language_type: 'Spanish' })
    const bob = await register({ first_name: 'Bob' })
    expect(await languageOf(a, ana)).toBe('Spanish')
    expect(await languageOf(a, bob)).toBeNull()
    // PATCH sets it (a locale here), GET reads it back.
    const patched = await person(a, 'PATCH', `/external_person/${bob}`, { language_type: 'es-US' })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(await languageOf(a, bob)).toBe('es-US')
    const carl = await register({ first_name: 'Carl' })
    await bulk([ana, bob, carl])
    expect([await lastReceived(ana), await lastReceived(bob), await lastReceived(carl)]).toEqual(['Hola', 'Hola', 'Hi (plain)'])
    // Changed later: the next bulk message follows the new language.
    expect((await person(a, 'PATCH', `/external_person/${bob}`, { language_type: 'en' })).statusCode).toBe(200)
    await bulk([bob])
    expect(await lastReceived(bob)).toBe('Hello')
  }, 90_000)

  it('refuses what is no language with the person API\'s error, changing nothing; another tenant cannot set it', async () => {
    const dee = await register({ first_name: 'Dee', language_type: 'fr' })
    for (const bad of ['x', '<script>', 'es US', 'e'.repeat(40), 'es_US_extra', '12']) {
      const r = await person(a, 'PATCH', `/external_person/${dee}`, { language_type: bad })
      expect(r.statusCode, `${bad}: ${r.body}`).toBe(400)
      expect(typeof (JSON.parse(r.body) as Json).message).toBe('string')
    }
    const created = await person(a, 'POST', '/external_person', { phone: uniquePhone(), language_type: '<b>' })
    expect(created.statusCode).toBe(400)
    expect(await languageOf(a, dee)).toBe('fr')
    expect((await person(b, 'PATCH', `/external_person/${dee}`, { language_type: 'de' })).statusCode).toBe(404)
    expect(await languageOf(a, dee)).toBe('fr')
  })
})
