import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { basicAuth, wire } from '../../../../test/helpers/cass.ts'

let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => t?.close())

function put(tt: TestTenant, payload: string, type = 'application/yaml', authorization = tt.cassAuth) {
  return t.app.inject({ method: 'PUT', url: '/admin/threads', headers: { authorization, 'content-type': type }, payload })
}

describe('GET /schemas/threads.json', () => {
  it('publishes the JSON Schema, without credentials', async () => {
    const r = await t.app.inject({ url: '/schemas/threads.json' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/^application\/schema\+json/)
    const schema = JSON.parse(r.body)
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'Switchboard bot threads', required: ['threads'] })
    expect(JSON.stringify(schema)).toContain('"checkin"')
  })
})

describe('PUT /admin/threads', () => {
  it('loads YAML and JSON as new versions; GET shows the current one', async () => {
    const v1 = await put(acme, 'threads:\n  hello:\n    steps:\n      - say: "Hello <<NAME>>"\n')
    expect(v1.statusCode, v1.body).toBe(200)
    expect(v1.body).toBe(wire({ message: 'Threads loaded', version: 1, threads: ['hello'] }))
    const v2 = await put(acme, JSON.stringify({ threads: { hello: { steps: [{ say: 'Hi' }] }, bye: { steps: [{ end: 'Bye' }] } } }), 'application/json')
    expect(JSON.parse(v2.body)).toEqual({ message: 'Threads loaded', version: 2, threads: ['hello', 'bye'] })
    const current = await t.app.inject({ url: '/admin/threads', headers: { authorization: acme.cassAuth } })
    expect(JSON.parse(current.body)).toMatchObject({ version: 2, threads: ['hello', 'bye', 'STORE_EXT_ID', 'STORE_EXT_UN', 'STORE_EXT_ORG'], format: 'json' })
    // Another tenant has its own versions.
    const theirs = await t.app.inject({ url: '/admin/threads', headers: { authorization: other.cassAuth } })
    expect(JSON.parse(theirs.body)).toEqual({ version: 0, threads: ['STORE_EXT_ID', 'STORE_EXT_UN', 'STORE_EXT_ORG'], format: null, source: null })
    // initial_thread_name checks the current version's threads.
    const ok = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { external_id: 'x-1', protocol: 'web', initial_thread_name: 'bye' } })
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('refuses an invalid file with every problem by thread and step, and loads nothing', async () => {
    const r = await put(other, `threads:
  good_thread:
    steps:
      - say: hi
      - checkin: { after: 1d, thread: later }
      - ask: "1 or 2"
        choices:
          - { match: ["1"], next: wrap_upp }
`)
    expect(r.statusCode).toBe(400)
    expect(JSON.parse(r.body)).toEqual({
      message: 'threads.good_thread.steps[1].checkin.thread: unknown thread "later"',
      errors: ['threads.good_thread.steps[1].checkin.thread: unknown thread "later"', 'threads.good_thread.steps[2].choices[0].next: unknown thread "wrap_upp"'],
    })
    // A thread may be called constructor or toString; __proto__ is refused, never silently lost.
    const proto = await put(other, 'threads:\n  __proto__:\n    steps:\n      - say: hi\n')
    expect(proto.statusCode).toBe(400)
    expect(JSON.parse(proto.body).errors).toEqual(['threads.__proto__: __proto__ is reserved and cannot name a thread'])
    const bad = await put(other, 'threads: [')
    expect(bad.statusCode).toBe(400)
    expect(JSON.parse(bad.body).message).toMatch(/^\(document\) line 1/)
    const empty = await put(other, '')
    expect(empty.statusCode).toBe(400)
    const current = await t.app.inject({ url: '/admin/threads', headers: { authorization: other.cassAuth } })
    expect(JSON.parse(current.body).version).toBe(0)
  })

  it('needs credentials and a YAML or JSON body', async () => {
    expect((await put(acme, 'threads: {}', 'application/yaml', basicAuth(acme.credentials.cass.client, 'nope'))).body).toBe(wire({ message: 'Unauthorized' }))
    expect((await t.app.inject({ method: 'PUT', url: '/admin/threads', headers: { 'content-type': 'application/yaml' }, payload: 'x: 1' })).body).toBe(wire({ message: 'No client parameter specified' }))
    expect((await put(acme, 'threads: {}', 'text/html')).statusCode).toBe(415)
  })
})
