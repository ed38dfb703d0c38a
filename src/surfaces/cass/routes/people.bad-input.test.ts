import { request as httpRequest } from 'node:http'
import { sql } from 'kysely'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { countPeople, credentialsQuery, peopleRows, seedPerson, wire } from '../../../../test/helpers/cass.ts'

// Bad input gets the surface's error shape, never a 500, and changes nothing (DESIGN.md, quality bar).

let t: TestApp
let acme: TestTenant
let person: Person

beforeAll(async () => {
  t = await startTestApp({ listen: true })
  acme = await createTenant(t.services)
  person = await seedPerson(t, acme, { phone: uniquePhone(), externalId: 'bad-input-person', firstName: 'Stable' })
})
afterAll(async () => t?.close())

const MB = 1024 * 1024
const auth = () => ({ authorization: acme.cassAuth })

/** Every route of the person directory, as a request with a JSON body (or query for GETs). */
const routes = () => [
  { method: 'POST', url: '/add_external_person' },
  { method: 'POST', url: '/external_person' },
  { method: 'PATCH', url: `/external_person/${person.cassId}` },
  { method: 'PATCH', url: '/external_person' },
] as const

/** Send, expect the status and exact body, and that the tenant's people did not change at all. */
async function expectRefused(opts: InjectOptions, status: number, body: string) {
  const before = await peopleRows(t, acme.tenant.id)
  const r = await t.app.inject({ ...opts, headers: { ...auth(), ...opts.headers } })
  expect(r.statusCode, `${opts.method} ${opts.url} ${r.body}`).toBe(status)
  expect(r.body).toBe(body)
  expect(r.headers['content-type']).toMatch(/^application\/json/)
  expect(await peopleRows(t, acme.tenant.id)).toEqual(before)
}

/** A raw HTTP request on the listening server, with or without a content-length. */
function raw(method: string, path: string, body: Buffer, chunked: boolean, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(t.url + path, {
      method,
      headers: { 'content-type': contentType, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }) },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    // The server may answer and close before the whole body is sent.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
    if (chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024))
      req.end()
    } else req.end(body)
  })
}

describe('malformed and non-object bodies', () => {
  it.each(['{', '{"phone": }', "{'phone': '+14155552671'}", '{"phone": "+14155552671"} trailing', '{"phone": "+1", }', 'nul\u0000l'])('400 Malformed JSON body: %j', async (payload) => {
    for (const r of routes()) {
      await expectRefused({ ...r, headers: { 'content-type': 'application/json' }, payload }, 400, wire({ message: 'Malformed JSON body' }))
    }
  })

  it('malformed JSON sent as text/plain is refused alike; an empty text/plain body is no body', async () => {
    await expectRefused({ method: 'POST', url: '/external_person', headers: { 'content-type': 'text/plain' }, payload: '{oops' }, 400, wire({ message: 'Malformed JSON body' }))
    const ok = await t.app.inject({ method: 'POST', url: `/external_person?phone=${encodeURIComponent(uniquePhone())}`, headers: { ...auth(), 'content-type': 'text/plain' }, payload: '  ' })
    expect(ok.statusCode).toBe(200)
  })

  it.each(['[]', '[{"phone": "+14155552671"}]', '"phone"', '42', 'true'])('400 for a JSON body that is not an object: %s', async (payload) => {
    for (const r of routes()) {
      await expectRefused({ ...r, headers: { 'content-type': 'application/json' }, payload }, 400, wire({ message: 'Invalid body: must be object' }))
    }
  })

  it('415 for a body of another media type', async () => {
    for (const contentType of ['application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream']) {
      await expectRefused({ method: 'POST', url: '/add_external_person', headers: { 'content-type': contentType }, payload: 'phone=+14155552671' }, 415, wire({ message: 'Unsupported Media Type' }))
    }
  })
})

describe('wrong types', () => {
  it.each([
    ['first_name', {}], ['first_name', { a: 1 }], ['phone', ['+14155552671', '+14155552672']], ['phone', []],
    ['external_id', { $ne: null }], ['protocol', ['sms', 'web']], ['new_id', {}], ['timezone', [[]]],
    // A JSON body is taken as typed: a one-element list is not read as its element (issue 8.8).
    ['external_id', ['x']], ['first_name', ['Jane']], ['protocol', ['web']], ['phone', ['+14155552671']], ['first_name', true], ['last_name', null],
  ])('400 "%s must be string" for %j', async (field, value) => {
    for (const r of routes()) {
      if (r.method === 'PATCH' && (field === 'protocol' || field === 'new_id')) continue
      const personId = r.url === '/external_person' && r.method === 'PATCH' ? { person_id: person.cassId } : {}
      await expectRefused({ ...r, payload: { ...personId, [field]: value } }, 400, wire({ message: `${field} must be string` }))
    }
  })

  it('credentials of the wrong type count as absent', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/external_person', payload: { client: { name: acme.credentials.cass.client }, auth: acme.credentials.cass.token, phone: uniquePhone() } })
    expect(r.body).toBe(wire({ message: 'No client parameter specified' }))
  })

  it('a path id of the wrong shape is an unknown person, not an error', async () => {
    for (const id of ["1' OR '1'='1", '1;DROP TABLE people', '{}', '99999999999999999999999', 'NaN']) {
      const r = await t.app.inject({ method: 'GET', url: `/external_person/${encodeURIComponent(id)}`, headers: auth() })
      expect(r.statusCode, id).toBe(404)
      expect(r.body).toBe(wire({ message: `Unknown person with id : ${decodeURIComponent(id)}` }))
    }
  })
})

describe('unknown fields', () => {
  it('400 "Unknown parameter x" in a JSON body, a form body and the query string, on every endpoint', async () => {
    const message = wire({ message: 'Unknown parameter x' })
    for (const r of routes()) {
      await expectRefused({ ...r, payload: { phone: uniquePhone(), x: '1' } }, 400, message)
      await expectRefused({ ...r, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `phone=${encodeURIComponent(uniquePhone())}&x=1` }, 400, message)
      await expectRefused({ ...r, url: `${r.url}?x=1`, payload: { phone: uniquePhone() } }, 400, message)
    }
    for (const url of ['/add_external_person?x=1', '/external_person?x=1', `/external_person/${person.cassId}?x=1`, '/get_new_id?person_id=1&x=1']) {
      await expectRefused({ method: 'GET', url }, 400, message)
    }
  })

  it('names that look like object internals are just unknown parameters', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      await expectRefused({ method: 'POST', url: '/external_person', headers: { 'content-type': 'application/json' }, payload: `{"${name}": {"phone": "x"}, "phone": "${uniquePhone()}"}` }, 400, wire({ message: `Unknown parameter ${name}` }))
      await expectRefused({ method: 'GET', url: `/external_person?${name}=1` }, 400, wire({ message: `Unknown parameter ${name}` }))
    }
  })
})

describe('invalid UTF-8', () => {
  const sequences: Array<[string, number[]]> = [
    ['a lone continuation byte', [0x80]], ['0xFF', [0xff]], ['an overlong slash', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]], ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ]
  it.each(sequences)('400 for %s in a JSON body', async (_name, bytes) => {
    const payload = Buffer.concat([Buffer.from(`{"phone": "${uniquePhone()}", "first_name": "J`), Buffer.from(bytes), Buffer.from('"}')])
    for (const r of routes()) {
      await expectRefused({ ...r, headers: { 'content-type': 'application/json' }, payload }, 400, wire({ message: 'Request body is not valid UTF-8' }))
    }
  })

  it.each(sequences)('400 for %s in a form body', async (_name, bytes) => {
    const payload = Buffer.concat([Buffer.from(`phone=${encodeURIComponent(uniquePhone())}&first_name=J`), Buffer.from(bytes)])
    for (const r of routes()) {
      await expectRefused({ ...r, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload }, 400, wire({ message: 'Request body is not valid UTF-8' }))
    }
  })

  it('400 for invalid UTF-8 in the JSON body of a GET too', async () => {
    await expectRefused({ method: 'GET', url: '/add_external_person', headers: { 'content-type': 'application/json' }, payload: Buffer.from([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) }, 400, wire({ message: 'Request body is not valid UTF-8' }))
  })

  it('multi-byte UTF-8 split anywhere is fine: names in any script are stored as sent', async () => {
    const name = 'Zoë 李 Ωμέγα 🌍'
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: auth(), payload: { phone: uniquePhone(), first_name: name } })
    expect(r.statusCode).toBe(200)
    const read = await t.app.inject({ method: 'GET', url: `/external_person/${JSON.parse(r.body).person_id}`, headers: auth() })
    expect(JSON.parse(read.body).first_name).toBe(name)
  })
})

describe('NUL characters and lengths (PostgreSQL limits)', () => {
  it('400 for a NUL in any text field, in the body, the form and the query', async () => {
    for (const field of ['first_name', 'external_id', 'external_data_3', 'initial_thread_name']) {
      const message = wire({ message: `${field} must not contain NUL characters` })
      await expectRefused({ method: 'POST', url: '/external_person', payload: { phone: uniquePhone(), [field]: 'a\u0000b' } }, 400, message)
      await expectRefused({ method: 'POST', url: '/add_external_person', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `phone=${encodeURIComponent(uniquePhone())}&${field}=a%00b` }, 400, message)
      await expectRefused({ method: 'GET', url: `/external_person?phone=${encodeURIComponent(uniquePhone())}&${field}=%00` }, 400, message)
    }
    await expectRefused({ method: 'GET', url: '/external_person?external_id=%00' }, 400, wire({ message: 'external_id must not contain NUL characters' }))
    await expectRefused({ method: 'PATCH', url: `/external_person/${person.cassId}`, payload: { last_name: '\u0000' } }, 400, wire({ message: 'last_name must not contain NUL characters' }))
  })

  it('a NUL in the client name is an unknown client', async () => {
    for (const opts of [{ url: '/get_new_id?person_id=1&client=a%00b&auth=x' }, { url: '/get_new_id?person_id=1', headers: { authorization: 'Basic ' + Buffer.from('a\u0000b:x').toString('base64') } }]) {
      const r = await t.app.inject({ method: 'GET', ...opts })
      expect(r.statusCode).toBe(404)
      expect(r.body).toBe(wire({ message: 'Client Not Found' }))
    }
  })

  it('text fields hold up to 1000 characters; external_id up to 255, even of 4-byte characters', async () => {
    await expectRefused({ method: 'POST', url: '/external_person', payload: { phone: uniquePhone(), first_name: 'x'.repeat(1001) } }, 400, wire({ message: 'first_name must NOT have more than 1000 characters' }))
    await expectRefused({ method: 'POST', url: '/external_person', payload: { phone: uniquePhone(), external_id: 'x'.repeat(256) } }, 400, wire({ message: 'external_id must NOT have more than 255 characters' }))
    // 255 characters outside the BMP: 1020 bytes in the unique index, random so they do not compress.
    const wide = Array.from({ length: 255 }, (_, i) => String.fromCodePoint(0x20000 + ((i * 7919) % 0xa000))).join('')
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: auth(), payload: { phone: uniquePhone(), external_id: wide, first_name: '🙂'.repeat(1000) } })
    expect(r.statusCode, r.body).toBe(200)
    const found = await t.app.inject({ method: 'GET', url: `/external_person?external_id=${encodeURIComponent(wide)}`, headers: auth() })
    expect(JSON.parse(found.body).external_id).toBe(wide)
  })
})

describe('bodies over 1 MB', () => {
  const big = JSON.stringify({ first_name: 'x'.repeat(MB) })

  it('413 through inject, on every endpoint that takes a body, GET included', async () => {
    for (const r of [...routes(), { method: 'GET', url: '/external_person' } as const]) {
      await expectRefused({ ...r, headers: { 'content-type': 'application/json' }, payload: big }, 413, wire({ message: 'Request body is too large' }))
    }
    await expectRefused({ method: 'POST', url: '/add_external_person', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `first_name=${'x'.repeat(MB)}` }, 413, wire({ message: 'Request body is too large' }))
  })

  it('413 over a real socket, with a content-length and chunked', async () => {
    const before = await countPeople(t, acme.tenant.id)
    const body = Buffer.from(JSON.stringify({ phone: uniquePhone(), first_name: 'x'.repeat(MB + 10) }))
    for (const [method, path] of [['POST', '/external_person'], ['PATCH', `/external_person/${person.cassId}`], ['GET', '/add_external_person']] as const) {
      for (const chunked of [false, true]) {
        const r = await raw(method, `${path}?${credentialsQuery(acme)}`, body, chunked)
        expect(r.status, `${method} ${path} chunked=${chunked} ${r.body}`).toBe(413)
        expect(r.body).toBe(wire({ message: 'Request body is too large' }))
      }
    }
    expect(await countPeople(t, acme.tenant.id)).toBe(before)
  })

  it('just under 1 MB is read, and judged on its fields', async () => {
    const payload = JSON.stringify({ phone: uniquePhone(), first_name: 'x', external_data_1: 'y'.repeat(1000) }).padEnd(MB - 10, ' ')
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { ...auth(), 'content-type': 'application/json' }, payload })
    expect(r.statusCode).toBe(200)
  })
})

describe('a GET with a body, over a real socket', () => {
  it('JSON and form bodies of a GET are read, credentials included, with or without a content-length', async () => {
    for (const chunked of [false, true]) {
      const phone = uniquePhone()
      const json = Buffer.from(JSON.stringify({ client: acme.credentials.cass.client, auth: acme.credentials.cass.token, phone, new_id: 1 }))
      const created = await raw('GET', '/add_external_person', json, chunked)
      expect(created.status, created.body).toBe(200)
      expect(JSON.parse(created.body)).toMatchObject({ existing_person: false, phone })
      const form = Buffer.from(`${credentialsQuery(acme)}&external_id=bad-input-person`)
      const found = await raw('GET', '/external_person', form, chunked, 'application/x-www-form-urlencoded')
      expect(found.status, found.body).toBe(200)
      expect(JSON.parse(found.body)).toMatchObject({ person_id: person.cassId, first_name: 'Stable' })
    }
  })
})

describe('SQL-looking text', () => {
  const nasty = ["Robert'); DROP TABLE people;--", "' OR '1'='1", '1; SELECT pg_sleep(0)', '"; DELETE FROM tenants; --', '\\x27 UNION SELECT * FROM tenant_credentials --', '$$ $1 %s %d ?']

  it('is stored verbatim, read back verbatim, and breaks nothing', async () => {
    for (const text of nasty) {
      const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: auth(), payload: { phone: uniquePhone(), external_id: text, first_name: text, external_org: text } })
      expect(r.statusCode, text).toBe(200)
      expect(JSON.parse(r.body).external_id).toBe(text)
      const byExternal = await t.app.inject({ method: 'GET', url: `/external_person?external_id=${encodeURIComponent(text)}`, headers: auth() })
      expect(JSON.parse(byExternal.body)).toMatchObject({ external_id: text, first_name: text, external_org: text })
      const patched = await t.app.inject({ method: 'PATCH', url: `/external_person/${JSON.parse(r.body).person_id}`, headers: auth(), payload: { last_name: text } })
      expect(patched.statusCode).toBe(200)
    }
    const rows = await peopleRows(t, acme.tenant.id)
    for (const text of nasty) expect(rows.find((row) => row.external_id === text)).toMatchObject({ first_name: text, last_name: text })
    // The tables are all still there, and nothing leaked into another tenant.
    const tables = await sql<{ n: string }>`SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('people', 'tenants', 'tenant_credentials')`.execute(t.store.db)
    expect(Number(tables.rows[0]!.n)).toBe(3)
  })

  it('as lookups and thread names, it finds nothing and changes nothing', async () => {
    for (const text of nasty) {
      await expectRefused({ method: 'GET', url: `/external_person?external_id=${encodeURIComponent(text + ' x')}` }, 404, wire({ message: `Unknown person with id : ${text} x` }))
      await expectRefused({ method: 'POST', url: '/add_external_person', payload: { phone: uniquePhone(), initial_thread_name: text } }, 400, wire({ thread_name: text, message: 'Thread name Not Found' }))
      await expectRefused({ method: 'GET', url: `/get_new_id?person_id=${encodeURIComponent(text)}` }, 404, wire({ message: `Unknown person with id : ${text}` }))
      const r = await t.app.inject({ method: 'GET', url: `/get_new_id?person_id=1&client=${encodeURIComponent(text)}&auth=${encodeURIComponent(text)}` })
      expect(r.body).toBe(wire({ message: 'Client Not Found' }))
    }
  })
})

describe('a refused request writes nothing', () => {
  it('a PATCH refused half-way leaves every field as it was', async () => {
    const read = () => t.app.inject({ method: 'GET', url: `/external_person/${person.cassId}`, headers: auth() }).then((r) => r.body)
    const before = await read()
    for (const [payload, status] of [
      [{ first_name: 'Changed', phone: 'bad' }, 400],
      [{ first_name: 'Changed', external_id: 'another' }, 400],
      [{ first_name: 'Changed', timezone: 'Nowhere/Land' }, 400],
      [{ first_name: 'Changed', unknown: '1' }, 400],
    ] as const) {
      const r = await t.app.inject({ method: 'PATCH', url: `/external_person/${person.cassId}`, headers: auth(), payload })
      expect(r.statusCode).toBe(status)
    }
    expect(await read()).toBe(before)
  })
})
