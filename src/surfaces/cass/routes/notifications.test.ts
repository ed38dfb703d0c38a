import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { basicAuth, credentialsQuery, seedPerson } from '../../../../test/helpers/cass.ts'

// The Notification API (spec/cass.md): GET /notifications?person_id= and GET /notifications/{id}
// return a person's queued check-ins and autopings and delete them, atomically.

let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp({ listen: true })
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => t?.close())

/** Queue notifications for a person as the bot and the scheduler leave them. */
async function queue(tenant: TestTenant, person: Person, rows: Array<{ type?: 'checkin' | 'autoping'; thread: string; due: string; status?: 'pending' | 'fired' | 'cancelled' | 'failed'; queued?: boolean }>) {
  for (const r of rows) {
    await sql`INSERT INTO scheduled_notifications (tenant_id, person_id, type, thread_name, due_at, status, queued, idempotency_key)
      VALUES (${tenant.tenant.id}, ${person.id}, ${r.type ?? 'checkin'}, ${r.thread}, ${r.due}::timestamptz, ${r.status ?? 'pending'}, ${r.queued ?? false}, ${`test:${crypto.randomUUID()}`})`.execute(t.store.db)
  }
}
const remaining = async (person: Person) =>
  (await t.store.db.selectFrom('scheduled_notifications').select(['thread_name', 'status']).where('person_id', '=', person.id).orderBy('thread_name').execute())

const get = (url: string, headers: Record<string, string> = { authorization: acme.cassAuth }, payload?: string) =>
  t.app.inject({ method: 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) })

describe('GET /notifications', () => {
  it('returns the queued notifications by due time with the documented body and Python-style schedule, and deletes them', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    await queue(acme, person, [
      { thread: 'later', due: '2031-01-02 03:04:05.000001+00' },
      { type: 'autoping', thread: 'nudge', due: '2023-06-30 19:26:36.566729+00' },
      { thread: 'on_the_hour', due: '2030-05-05 10:00:00+02' },
    ])
    const r = await get(`/notifications?person_id=${person.cassId}`)
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/^application\/json/)
    expect(r.body).toBe(JSON.stringify({ data: [
      { type: 'autoping', schedule: '2023-06-30 19:26:36.566729+00:00', thread_name: 'nudge' },
      { type: 'checkin', schedule: '2030-05-05 08:00:00.000000+00:00', thread_name: 'on_the_hour' },
      { type: 'checkin', schedule: '2031-01-02 03:04:05.000001+00:00', thread_name: 'later' },
    ] }))
    expect(await remaining(person)).toEqual([])
    // Now empty: the documented 400, with the id as the caller wrote it.
    const empty = await get(`/notifications/${person.cassId}`)
    expect([empty.statusCode, empty.body]).toEqual([400, JSON.stringify({ message: `No notification scheduled for person : ${person.cassId}` })])
  })

  it('counts as queued: pending ones and those fired for a web person; not what was sent, cancelled or failed', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    await queue(acme, person, [
      { thread: 'a_pending', due: '2030-01-01 00:00:00+00' },
      { thread: 'b_web_waiting', due: '2024-01-01 00:00:00+00', status: 'fired', queued: true },
      { thread: 'c_sent', due: '2024-01-01 00:00:00+00', status: 'fired' },
      { thread: 'd_cancelled', due: '2024-01-01 00:00:00+00', status: 'cancelled' },
      { thread: 'e_failed', due: '2024-01-01 00:00:00+00', status: 'failed' },
    ])
    const r = await get(`/notifications/${person.legacyId}`)
    expect(r.statusCode).toBe(200)
    expect(r.json().data.map((n: { thread_name: string }) => n.thread_name)).toEqual(['b_web_waiting', 'a_pending'])
    expect(await remaining(person)).toEqual([
      { thread_name: 'c_sent', status: 'fired' }, { thread_name: 'd_cancelled', status: 'cancelled' }, { thread_name: 'e_failed', status: 'failed' },
    ])
  })

  it('accepts every documented way to authenticate and to name the person (UUID or legacy id, query or path)', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    const ways: Array<[string, Record<string, string>, string?]> = [
      [`/notifications?person_id=${person.cassId}`, { authorization: acme.cassAuth }],
      [`/notifications?person_id=${person.legacyId}&${credentialsQuery(acme)}`, {}],
      [`/notifications/${person.cassId.toUpperCase()}?${credentialsQuery(acme)}`, {}],
      [`/notifications/${person.legacyId}`, { 'content-type': 'application/json' }, JSON.stringify({ client: acme.credentials.cass.client, auth: acme.credentials.cass.token })],
      ['/notifications', { 'content-type': 'application/json' }, JSON.stringify({ person_id: person.legacyId, client: acme.credentials.cass.client, auth: acme.credentials.cass.token })],
      ['/notifications', { authorization: acme.cassAuth, 'content-type': 'application/x-www-form-urlencoded' }, `person_id=${person.cassId}`],
    ]
    for (const [url, headers, payload] of ways) {
      await queue(acme, person, [{ thread: 'x', due: '2030-01-01 00:00:00+00' }])
      const r = await get(url, headers, payload)
      expect([url, r.statusCode, r.body]).toEqual([url, 200, JSON.stringify({ data: [{ type: 'checkin', schedule: '2030-01-01 00:00:00.000000+00:00', thread_name: 'x' }] })])
    }
  })

  it('answers the documented errors, and deletes nothing on any of them', async () => {
    const mine = await seedPerson(t, acme, { phone: uniquePhone() })
    const theirs = await seedPerson(t, other, { phone: uniquePhone() })
    await queue(other, theirs, [{ thread: 'theirs', due: '2030-01-01 00:00:00+00' }])
    await queue(acme, mine, [{ thread: 'mine', due: '2030-01-01 00:00:00+00' }])
    const cases: Array<[string, Record<string, string>, number, unknown]> = [
      [`/notifications?person_id=${theirs.cassId}`, { authorization: acme.cassAuth }, 404, { message: `Person is not registered to : ${acme.credentials.cass.client}` }],
      [`/notifications/${theirs.legacyId}`, { authorization: acme.cassAuth }, 404, { message: `Person is not registered to : ${acme.credentials.cass.client}` }],
      ['/notifications?person_id=00000000-0000-4000-8000-000000000000', { authorization: acme.cassAuth }, 404, { message: 'Unknown person with id : 00000000-0000-4000-8000-000000000000' }],
      ['/notifications/abc', { authorization: acme.cassAuth }, 404, { message: 'Unknown person with id : abc' }],
      ['/notifications/999999999999', { authorization: acme.cassAuth }, 404, { message: 'Unknown person with id : 999999999999' }],
      ['/notifications', { authorization: acme.cassAuth }, 400, { message: 'person_id parameter is required' }],
      ['/notifications?person_id=', { authorization: acme.cassAuth }, 400, { message: 'person_id parameter is required' }],
      [`/notifications?person_id=${mine.cassId}&color=red`, { authorization: acme.cassAuth }, 400, { message: 'Unknown parameter color' }],
      [`/notifications?person_id=${mine.cassId}`, {}, 400, { message: 'No client parameter specified' }],
      [`/notifications?person_id=${mine.cassId}`, { authorization: basicAuth('nobody', 'x') }, 404, { message: 'Client Not Found' }],
      [`/notifications/${mine.cassId}`, { authorization: basicAuth(acme.credentials.cass.client, 'wrong') }, 401, { message: 'Unauthorized' }],
      [`/notifications/${mine.cassId}?client=${acme.credentials.cass.client}&auth=wrong`, {}, 401, { message: 'Unauthorized' }],
    ]
    for (const [url, headers, status, body] of cases) {
      const r = await get(url, headers)
      expect([url, r.statusCode, r.json()]).toEqual([url, status, body])
    }
    expect(await remaining(mine)).toEqual([{ thread_name: 'mine', status: 'pending' }])
    expect(await remaining(theirs)).toEqual([{ thread_name: 'theirs', status: 'pending' }])
  })

  it('hands each notification to exactly one of many concurrent callers', async () => {
    for (let round = 0; round < 3; round++) {
      const person = await seedPerson(t, acme, { phone: uniquePhone() })
      await queue(acme, person, Array.from({ length: 25 }, (_, i) => ({ thread: `t${String(i).padStart(2, '0')}`, due: `2030-01-01 00:00:${String(i).padStart(2, '0')}+00` })))
      // Real concurrent HTTP requests to the listening server, by both paths.
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        fetch(`${t.url}/notifications${i % 2 ? `/${person.legacyId}` : `?person_id=${person.cassId}`}`, { headers: { authorization: acme.cassAuth } })
          .then(async (r) => ({ status: r.status, body: await r.json() as { data?: Array<{ thread_name: string }>; message?: string } }))))
      const handed = answers.flatMap((a) => a.body.data?.map((n) => n.thread_name) ?? [])
      expect(handed.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(2, '0')}`))
      for (const a of answers) {
        if (a.status !== 200) expect(a).toEqual({ status: 400, body: { message: `No notification scheduled for person : ${a.body.message?.includes(person.legacyId) ? person.legacyId : person.cassId}` } })
      }
      expect(await remaining(person)).toEqual([])
    }
  })

  it('is in the Cass OpenAPI document', async () => {
    const doc = (await get('/openapi/cass.json', {})).json() as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> }
    expect(Object.keys(doc.paths['/notifications']!.get!.responses).sort()).toEqual(['200', '400', '401', '404'])
    expect(doc.paths['/notifications/{person_id}']!.get).toBeDefined()
  })
})
