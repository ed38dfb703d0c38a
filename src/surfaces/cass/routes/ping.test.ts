import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { credentialsQuery, seedPerson, wire } from '../../../../test/helpers/cass.ts'
import { waitFor } from '../../../../test/helpers/wait.ts'

// spec/cass.md, /ping_person and /v2/ping_person; person creation with initial_thread_name + ping=1.

let t: TestApp
let acme: TestTenant
let other: TestTenant

const THREADS = `
threads:
  good_thread:
    steps:
      - say: "Hi <<NAME>>!"
      - ask: "Reply 1 for good, 2 for not so good"
        choices:
          - { match: ["good"], say: "Glad to hear it!", next: wrap_up }
          - { match: ["bad"], next: wrap_up }
  appointment:
    steps:
      - say: "Reminder: <<APPOINTMENT>> on <<Day>>"
  wrap_up:
    steps:
      - end: "Bye <<NAME>>"
`

beforeAll(async () => {
  t = await startTestApp({ workers: true })
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  const r = await t.app.inject({ method: 'PUT', url: '/admin/threads', headers: { authorization: acme.cassAuth, 'content-type': 'application/yaml' }, payload: THREADS })
  expect(r.statusCode, r.body).toBe(200)
})
afterAll(async () => t?.close())

function ping(tt: TestTenant, params: Record<string, unknown>, opts: { v2?: boolean; via?: 'json' | 'query' | 'form' } = {}) {
  const url = opts.v2 ? '/v2/ping_person' : '/ping_person'
  const via = opts.via ?? 'json'
  if (via === 'query') {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))
    return t.app.inject({ method: 'GET', url: `${url}?${qs}&${credentialsQuery(tt)}` })
  }
  if (via === 'form') {
    return t.app.inject({ method: 'POST', url, headers: { authorization: tt.cassAuth, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString() })
  }
  return t.app.inject({ method: 'POST', url, headers: { authorization: tt.cassAuth }, payload: params as Record<string, string> })
}

const outbox = async (tt: TestTenant, personId: string) =>
  (await sql<{ body: string; status: string; channel: string; recipient: string; payload: Record<string, unknown> }>`
    SELECT body, status, channel, recipient, payload FROM outbox_messages WHERE tenant_id = ${tt.tenant.id} AND person_id = ${personId} ORDER BY created_at, idempotency_key`.execute(t.store.db)).rows
const countOutbox = async (tt: TestTenant) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_messages WHERE tenant_id = ${tt.tenant.id}`.execute(t.store.db)).rows[0]!.n

describe('/ping_person', () => {
  it('sends the person into the thread, synchronously: the messages are sent when it answers', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone(), firstName: 'Ada' })
    const r = await ping(acme, { person_id: person.cassId, thread_name: 'good_thread' })
    expect(r.statusCode, r.body).toBe(200)
    expect(r.body).toBe(wire({ message: 'Successfully pinged person', person_id: person.cassId, thread_name: 'good_thread', next_thread_name: null }))
    const sent = await outbox(acme, person.id)
    expect(sent.map((m) => [m.body, m.status, m.channel, m.recipient])).toEqual([
      ['Hi Ada!', 'sent', 'sms', person.phone],
      ['Reply 1 for good, 2 for not so good', 'sent', 'sms', person.phone],
    ])
    expect(sent[1]!.payload).toEqual({ quick_replies: ['good', 'bad'] })
  })

  it('accepts the legacy id, query and form parameters, and is_asynch', async () => {
    for (const via of ['query', 'form', 'json'] as const) {
      const person = await seedPerson(t, acme, { phone: uniquePhone() })
      const r = await ping(acme, { person_id: person.legacyId, thread_name: 'good_thread', is_asynch: 'true', next_thread_name: 'wrap_up' }, { via })
      expect(r.statusCode, r.body).toBe(200)
      expect(JSON.parse(r.body)).toEqual({ message: 'Successfully pinged person', person_id: person.legacyId, thread_name: 'good_thread', next_thread_name: 'wrap_up' })
      await waitFor('the async messages', async () => (await outbox(acme, person.id)).filter((m) => m.status === 'sent').length === 2)
    }
  })

  it('messages replace the opening; is_auto_next goes on into next_thread_name', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone(), firstName: 'Bo' })
    const r = await ping(acme, { person_id: person.cassId, thread_name: 'good_thread', messages: ['Custom one', 'Custom two'] })
    expect(r.statusCode, r.body).toBe(200)
    expect((await outbox(acme, person.id)).map((m) => m.body)).toEqual(['Custom one', 'Custom two'])
    const auto = await ping(acme, { person_id: person.cassId, thread_name: 'good_thread', messages: '["Quick note"]', next_thread_name: 'wrap_up', is_auto_next: '1' }, { via: 'query' })
    expect(auto.statusCode, auto.body).toBe(200)
    expect((await outbox(acme, person.id)).map((m) => m.body)).toEqual(['Custom one', 'Custom two', 'Quick note', 'Bye Bo'])
  })

  it('v2 fills placeholders case-insensitively; a missing one is a 400 and sends nothing', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    const before = await countOutbox(acme)
    const missing = await ping(acme, { person_id: person.cassId, thread_name: 'appointment', placeholders: { appointment: 'Dr Lee' } }, { v2: true })
    expect(missing.statusCode).toBe(400)
    expect(missing.body).toBe(wire({ message: 'Missing placeholder <<DAY>>' }))
    const v1 = await ping(acme, { person_id: person.cassId, thread_name: 'appointment' })
    expect(v1.body).toBe(wire({ message: 'Missing placeholder <<APPOINTMENT>>' }))
    expect(await countOutbox(acme)).toBe(before)
    const ok = await ping(acme, { person_id: person.cassId, thread_name: 'appointment', placeholders: JSON.stringify({ Appointment: 'Dr Lee', DAY: 'Monday' }) }, { v2: true, via: 'query' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect((await outbox(acme, person.id)).map((m) => m.body)).toEqual(['Reminder: Dr Lee on Monday'])
  })

  it('documented errors, byte for byte, and nothing is sent', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    const stranger = await seedPerson(t, other, { phone: uniquePhone() })
    const before = await countOutbox(acme)
    const cases: Array<[Record<string, unknown>, number, string, boolean?]> = [
      [{ person_id: person.cassId, thread_name: 'no_such' }, 400, wire({ thread_name: 'no_such', message: 'Thread name Not Found' })],
      [{ person_id: person.cassId, thread_name: 'good_thread', next_thread_name: 'nope' }, 400, wire({ thread_name: 'nope', message: 'Thread name Not Found' })],
      [{ person_id: '999999999', thread_name: 'good_thread' }, 404, wire({ message: 'Unknown person with id : 999999999' })],
      [{ person_id: stranger.cassId, thread_name: 'good_thread' }, 404, wire({ message: `Person is not registered to ${acme.credentials.cass.client}` })],
      [{ thread_name: 'good_thread' }, 400, wire({ message: 'person_id parameter is required' })],
      [{ person_id: person.cassId }, 400, wire({ thread_name: null, message: 'thread_name parameter is required' })],
      [{ person_id: person.cassId, thread_name: 'good_thread', colour: 'red' }, 400, wire({ message: 'Unknown parameter colour' })],
      [{ person_id: person.cassId, thread_name: 'appointment', placeholders: '[1,2]' }, 400, wire({ message: 'placeholders must be an object of texts' }), true],
      [{ person_id: person.cassId, thread_name: 'good_thread', placeholders: { a: 'b' } }, 400, wire({ message: 'Unknown parameter placeholders' })],
    ]
    for (const [params, status, body, v2] of cases) {
      const r = await ping(acme, params, { v2: v2 ?? false })
      expect([r.statusCode, r.body], JSON.stringify(params)).toEqual([status, body])
    }
    const unauth = await t.app.inject({ method: 'GET', url: `/ping_person?person_id=${person.cassId}&thread_name=good_thread` })
    expect(unauth.body).toBe(wire({ message: 'No client parameter specified' }))
    expect(await countOutbox(acme)).toBe(before)
  })

  it('502 when the provider refuses the message synchronously', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: '+15005550001' }) as { person: Person }
    const r = await ping(acme, { person_id: person.cassId, thread_name: 'wrap_up' })
    expect(r.statusCode).toBe(502)
    expect(JSON.parse(r.body).message).toMatch(/^Message delivery failed: /)
  })

  it('502 for a recipient on the suppression list, with nothing handed to a provider; asynchronously it is recorded as suppressed', async () => {
    const phone = uniquePhone()
    const { person } = await t.services.people.create(acme.tenant, { phone }) as { person: Person }
    await t.services.suppression.add(acme.tenant, { channel: 'sms', address: phone, reason: 'stop_keyword', source: 'test' })
    const r = await ping(acme, { person_id: person.cassId, thread_name: 'wrap_up' })
    expect(r.statusCode).toBe(502)
    expect(r.body).toBe(wire({ message: 'Message delivery failed: the recipient is on the suppression list (stop_keyword)' }))
    const background = await ping(acme, { person_id: person.cassId, thread_name: 'wrap_up', is_asynch: 'true' })
    expect(background.statusCode).toBe(200)
    expect((await outbox(acme, person.id)).map((m) => m.status)).toEqual(['suppressed', 'suppressed'])
  })

  it('the built-in threads always exist', async () => {
    const person = await seedPerson(t, other, { phone: uniquePhone() })
    const r = await ping(other, { person_id: person.cassId, thread_name: 'STORE_EXT_ORG' })
    expect(r.statusCode, r.body).toBe(200)
    expect((await outbox(other, person.id)).map((m) => m.body)).toEqual(['Please reply with the name of your organization.'])
  })
})

describe('person creation with initial_thread_name and ping=1', () => {
  it('sends a new and an existing person into the thread; without ping nothing is sent', async () => {
    const phone = uniquePhone()
    const created = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone, first_name: 'Cy', initial_thread_name: 'wrap_up', ping: '1' } })
    expect(created.statusCode, created.body).toBe(200)
    const person = await t.services.people.getByRef(acme.tenant, JSON.parse(created.body).person_id)
    await waitFor('the ping', async () => (await outbox(acme, person.id)).length === 1)
    const again = await t.app.inject({ method: 'GET', url: `/add_external_person?${new URLSearchParams({ phone, initial_thread_name: 'wrap_up', ping: '1' })}&${credentialsQuery(acme)}` })
    expect(again.statusCode).toBe(409)
    await waitFor('the second ping', async () => (await outbox(acme, person.id)).length === 2)
    const silent = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone, initial_thread_name: 'wrap_up' } })
    expect(silent.statusCode).toBe(409)
    const placeholder = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone: uniquePhone(), initial_thread_name: 'appointment', ping: '1' } })
    expect(placeholder.body).toBe(wire({ message: 'Missing placeholder <<APPOINTMENT>>' }))
    expect((await outbox(acme, person.id)).map((m) => m.body)).toEqual(['Bye Cy', 'Bye Cy'])
  })
})
