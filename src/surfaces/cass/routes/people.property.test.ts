import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { addThread, basicAuth, countPeople, seedPerson } from '../../../../test/helpers/cass.ts'

// Random requests to every endpoint of the person directory, with valid credentials and without:
// never a 5xx, and every error is a JSON object with a string `message`. The generators favour
// plausible requests (known fields, real phones and ids) so that most reach the database, with
// random keys, types, bytes and encodings mixed in.

let t: TestApp
let acme: TestTenant
let other: TestTenant
let mine: Person
let theirs: Person

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  mine = await seedPerson(t, acme, { phone: uniquePhone(), externalId: 'prop-mine' })
  theirs = await seedPerson(t, other, { phone: uniquePhone(), externalId: 'prop-theirs' })
  await addThread(t, acme.tenant.id, 'welcome')
})
afterAll(async () => t?.close())

/** Percent-encode the UTF-8 bytes of any string (encodeURIComponent throws on lone surrogates). */
function pct(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('')
}
/** A query or form string; an array repeats its key, other non-strings go as JSON text. */
function formOf(o: Record<string, unknown>): string {
  const one = (v: unknown) => (typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v))
  return Object.entries(o).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${pct(k)}=${pct(one(x))}`)).join('&')
}

// ---- values ---------------------------------------------------------------------------------

const nasty = () => fc.constantFrom(
  '', ' ', "' OR '1'='1", "Robert'); DROP TABLE people;--", 'a\u0000b', '\ud800', '\udfff x', 'x'.repeat(1001),
  '🙂'.repeat(300), '%00', '%FF', '\r\n', '<script>', '{"a":1}', '99999999999999999999',
  // Names every plain object answers to: a lookup keyed by input must not find them.
  'toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf',
)
const text = () => fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 2, arbitrary: nasty() },
)
/** A fresh valid phone on each generation (so creates succeed as well as collide). */
const freshPhone = () => fc.constant(null).map(() => uniquePhone())
const ids = () => fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(mine.cassId, mine.legacyId, mine.cassId.toUpperCase()) },
  { weight: 1, arbitrary: fc.constantFrom(theirs.cassId, theirs.legacyId) },
  { weight: 1, arbitrary: fc.constantFrom('1', '0', '-1', 'abc', '1e3', ' 1 ', '00000000-0000-4000-8000-000000000000') },
)

/**
 * Arrays and objects nested 2 to 10,000 levels deep (bodies over 64 levels are refused whole). A
 * marker stands for the value until the JSON text is written (`deepJson`), so that fast-check never
 * holds, shrinks or prints a 10,000-level object itself.
 */
const deepValue = () => fc.tuple(fc.integer({ min: 2, max: 10_000 }), fc.boolean()).map(([depth, objects]) => `\u0001deep:${depth}:${objects ? 'o' : 'a'}\u0001`)
/** JSON text with each deep marker replaced by its nesting. */
const deepJson = (text: string) => text.replace(/"\\u0001deep:(\d+):([oa])\\u0001"/g, (_m, depth: string, kind: string) => {
  const n = Number(depth)
  return kind === 'o' ? '{"a":'.repeat(n) + '"x"' + '}'.repeat(n) : '['.repeat(n) + '"x"' + ']'.repeat(n)
})

/** Per field: plausible values most of the time, anything else sometimes. */
const fieldValues = (): Record<string, fc.Arbitrary<string>> => {
  const mostly = (plausible: fc.Arbitrary<string>) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: text() })
  return {
    first_name: mostly(fc.constantFrom('Jane', 'José', '李', 'O\'Brien')),
    last_name: mostly(fc.constantFrom('Doe', 'Ñúñez')),
    external_username: text(), external_org: text(), external_data_1: text(), external_data_2: text(), external_data_3: text(),
    external_id: mostly(fc.constantFrom('prop-mine', 'prop-theirs', 'e1', 'e2', 'e3', 'e4')),
    phone: fc.oneof(
      { weight: 4, arbitrary: freshPhone() },
      { weight: 2, arbitrary: fc.constantFrom(mine.phone!, mine.phone!.slice(1), theirs.phone!, '+14155552671', '+1 (415) 555-2672', '004915123456789', '+999') },
      { weight: 1, arbitrary: text() },
    ),
    protocol: mostly(fc.constantFrom('sms', 'sandbox', 'facebook', 'WHATSAPP', 'web', 'whatsapp', 'SMS')),
    timezone: mostly(fc.constantFrom('Europe/Paris', 'UTC', 'America/New_York', 'Mars/Base', 'utc')),
    initial_thread_name: mostly(fc.constantFrom('welcome', 'missing', 'toString', '__proto__', 'constructor')),
    ping: mostly(fc.constantFrom('0', '1')),
    new_id: mostly(fc.constantFrom('0', '1', 'true')),
    New_id: mostly(fc.constantFrom('0', '1')),
    person_id: fc.oneof({ weight: 4, arbitrary: ids() }, { weight: 1, arbitrary: text() }),
  }
}
const CREATE = ['first_name', 'last_name', 'initial_thread_name', 'external_id', 'external_username', 'external_org', 'external_data_1', 'external_data_2', 'external_data_3', 'phone', 'ping', 'protocol', 'timezone', 'new_id', 'New_id']
const UPDATE = ['person_id', 'external_id', 'first_name', 'last_name', 'external_username', 'external_org', 'phone', 'external_data_1', 'external_data_2', 'external_data_3', 'timezone']

/** Parameters of an endpoint: some of its fields, now and then a stranger key or a non-string value. */
function params(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const all = fieldValues()
  const known = fc.record(Object.fromEntries(fields.map((f) => [f, all[f]!])), { requiredKeys: [] })
  const strangerKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'data', 'x', '', 'client[]', ...CREATE, 'person_id'), fc.string({ maxLength: 8 }))
  const strangerValue = fc.oneof(text(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(text(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), text(), { maxKeys: 2 }), deepValue())
  const extra = fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(strangerKey, strangerValue, { minKeys: 1, maxKeys: 2 }) })
  const retyped = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...(fields.length ? fields : ['x'])), strangerValue) })
  return fc.tuple(known, extra, retyped).map(([k, e, r]) => {
    const out: Record<string, unknown> = { ...k }
    for (const [key, value] of Object.entries(e)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    if (r) out[r[0]] = r[1]
    return out
  })
}

// ---- where parameters and credentials go --------------------------------------------------------

type Placement = 'query' | 'json' | 'form' | 'json-text' | 'raw-bytes' | 'garbage-text'
type Auth = 'basic' | 'query' | 'body' | 'none' | 'wrong-token' | 'unknown-client' | 'garbage-header' | 'nul-basic' | 'nul-query' | 'nul-body'

interface Shape { placement: Placement; auth: Auth; garbage: string; bytes: Uint8Array; contentType: string | undefined; fuzzQuery: string; nulHeader: string | undefined }

const shape = (method: string): fc.Arbitrary<Shape> => fc.record({
  placement: fc.oneof(
    { weight: method === 'GET' ? 6 : 2, arbitrary: fc.constant<Placement>('query') },
    { weight: method === 'GET' ? 1 : 4, arbitrary: fc.constant<Placement>('json') },
    { weight: method === 'GET' ? 1 : 2, arbitrary: fc.constant<Placement>('form') },
    { weight: 1, arbitrary: fc.constantFrom<Placement>('json-text', 'raw-bytes', 'garbage-text') },
  ),
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom<Auth>('basic', 'query', 'body') },
    { weight: 3, arbitrary: fc.constantFrom<Auth>('none', 'wrong-token', 'unknown-client', 'garbage-header') },
    // NUL bytes in the client or the token, by each way of authenticating.
    { weight: 2, arbitrary: fc.constantFrom<Auth>('nul-basic', 'nul-query', 'nul-body') },
  ),
  // A header value with a NUL byte (where one gets through the HTTP parser).
  nulHeader: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('x-request-id', 'content-type', 'accept', 'x-forwarded-for') }),
  garbage: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
  bytes: fc.uint8Array({ maxLength: 40 }),
  contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', undefined),
  fuzzQuery: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('%', 'F', '0', '8', 'E', '&', '=', '+', 'a', 'phone', 'client', '[', ']', '.', '%00', '%FF', '%E2%82', '%20'), maxLength: 16 }) },
  ),
})

function build(method: string, path: string, p: Record<string, unknown>, s: Shape): InjectOptions {
  const headers: Record<string, string> = {}
  const { client, token } = acme.credentials.cass
  const query: Record<string, unknown> = {}
  let bodyParams: Record<string, unknown> | undefined
  if (s.placement === 'query' || s.placement === 'raw-bytes' || s.placement === 'garbage-text') Object.assign(query, p)
  else bodyParams = { ...p }
  if (s.auth === 'basic') headers.authorization = acme.cassAuth
  if (s.auth === 'wrong-token') headers.authorization = basicAuth(client, 'wrong')
  if (s.auth === 'unknown-client') headers.authorization = basicAuth('nobody-here', token)
  if (s.auth === 'garbage-header') headers.authorization = s.garbage
  if (s.auth === 'nul-basic') headers.authorization = basicAuth(s.garbage.length % 2 ? `${client}\u0000` : client, s.garbage.length % 2 ? token : `${token}\u0000x`)
  if (s.auth === 'nul-query') Object.assign(query, { client: `\u0000${client}`, auth: token })
  if (s.auth === 'nul-body') bodyParams = { ...bodyParams, client, auth: `${token}\u0000` }
  if (s.auth === 'query') Object.assign(query, { client, auth: token })
  if (s.auth === 'body') bodyParams = { ...bodyParams, client, auth: token }
  let payload: InjectOptions['payload']
  if (bodyParams) {
    if (s.placement === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      payload = formOf(bodyParams)
    } else {
      headers['content-type'] = s.placement === 'json-text' ? 'text/plain' : 'application/json'
      payload = deepJson(JSON.stringify(bodyParams))
    }
  } else if (s.placement === 'raw-bytes') {
    if (s.contentType) headers['content-type'] = s.contentType
    payload = Buffer.from(s.bytes)
  } else if (s.placement === 'garbage-text') {
    headers['content-type'] = s.contentType ?? 'application/json'
    payload = s.garbage
  }
  if (s.nulHeader) headers[s.nulHeader] = `${headers[s.nulHeader] ?? 'a'}\u0000b`
  const qs = [formOf(query), s.fuzzQuery].filter(Boolean).join('&')
  return { method: method as InjectOptions['method'], url: path + (qs ? `?${qs}` : ''), headers, ...(payload !== undefined ? { payload } : {}) }
}

// ---- the property ---------------------------------------------------------------------------

interface Endpoint {
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  fields: string[]
  path: () => fc.Arbitrary<string>
  /** A request that must succeed, run first, so that every run reaches the service at least once. */
  valid: () => [string, Record<string, unknown>]
}
const idPath = () => fc.oneof({ weight: 3, arbitrary: ids() }, { weight: 1, arbitrary: text() }).map((id) => `/external_person/${pct(id)}`)
// Paths are arbitraries made inside the test: the seeded people exist only once beforeAll ran.
const endpoints: Endpoint[] = [
  { name: 'GET /add_external_person', method: 'GET', fields: CREATE, path: () => fc.constant('/add_external_person'), valid: () => ['/add_external_person', { phone: uniquePhone() }] },
  { name: 'POST /add_external_person', method: 'POST', fields: CREATE, path: () => fc.constant('/add_external_person'), valid: () => ['/add_external_person', { phone: uniquePhone() }] },
  { name: 'GET /external_person', method: 'GET', fields: CREATE, path: () => fc.constant('/external_person'), valid: () => ['/external_person', { phone: uniquePhone() }] },
  { name: 'POST /external_person', method: 'POST', fields: CREATE, path: () => fc.constant('/external_person'), valid: () => ['/external_person', { phone: uniquePhone() }] },
  { name: 'GET /external_person/{id}', method: 'GET', fields: [], path: idPath, valid: () => [`/external_person/${mine.cassId}`, {}] },
  { name: 'PATCH /external_person/{id}', method: 'PATCH', fields: UPDATE.slice(1), path: idPath, valid: () => [`/external_person/${mine.legacyId}`, { first_name: 'Jane' }] },
  { name: 'PATCH /external_person', method: 'PATCH', fields: UPDATE, path: () => fc.constant('/external_person'), valid: () => ['/external_person', { person_id: mine.cassId }] },
  { name: 'GET /get_new_id', method: 'GET', fields: ['person_id'], path: () => fc.constant('/get_new_id'), valid: () => ['/get_new_id', { person_id: mine.legacyId }] },
]

/** Runs per endpoint: 8 endpoints × 250 = 2000 requests. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 250)

describe.each(endpoints)('$name never fails on random input', (e) => {
  it(`${RUNS} random requests: no 5xx, every error a JSON object with a string message`, async () => {
    const statuses = new Set<number>()
    await fc.assert(
      fc.asyncProperty(e.path(), params(e.fields), shape(e.method), async (path, p, s) => {
        const opts = build(e.method, path, p, s)
        const r = await t.app.inject(opts)
        statuses.add(r.statusCode)
        const where = `${opts.method} ${opts.url} ${JSON.stringify(opts.headers)} ${String(opts.payload)} → ${r.statusCode} ${r.body}`
        expect(r.statusCode, where).toBeLessThan(500)
        expect(r.headers['content-type'], where).toMatch(/^application\/json/)
        const parsed = JSON.parse(r.body) as unknown
        expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), where).toBe(true)
        if (r.statusCode >= 400) expect(typeof (parsed as { message?: unknown }).message, where).toBe('string')
        else expect([200, 409], where).toContain(r.statusCode)
      }),
      { numRuns: RUNS, examples: [[...e.valid(), { placement: e.method === 'GET' ? 'query' : 'json', auth: 'basic', garbage: '', bytes: new Uint8Array(), contentType: undefined, fuzzQuery: '', nulHeader: undefined }]] },
    )
    // The requests reached past authentication and validation, into the service.
    expect(statuses).toContain(200)
  })
})

describe('a JSON value of the wrong type', () => {
  const WRONG = fc.oneof(fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { minKeys: 1, maxKeys: 2 }), fc.boolean(), fc.constant(null), deepValue())
  it(`${RUNS} creates with one text field given as a list, object, boolean or null: 400, nobody created`, async () => {
    const tt = await createTenant(t.services)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CREATE.filter((f) => f !== 'ping')), WRONG, fc.constantFrom('/external_person', '/add_external_person'), async (field, value, url) => {
        const payload = { external_id: `wrong-${crypto.randomUUID()}`, protocol: 'web', [field]: value }
        const r = await t.app.inject({ method: 'POST', url, headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: deepJson(JSON.stringify(payload)) })
        const where = `${url} ${JSON.stringify(payload).slice(0, 200)} → ${r.statusCode} ${r.body}`
        expect(r.statusCode, where).toBe(400)
        expect(typeof (JSON.parse(r.body) as { message?: unknown }).message, where).toBe('string')
      }),
      { numRuns: RUNS },
    )
    expect(await countPeople(t, tt.tenant.id)).toBe(0)
  })
})
