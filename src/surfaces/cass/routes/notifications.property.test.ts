import fc from 'fast-check'
import { sql } from 'kysely'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Person } from '../../../core/people/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { basicAuth, seedPerson } from '../../../../test/helpers/cass.ts'

// Random requests to the Notification API, with valid credentials and without, ids of every shape,
// parameters in the query, a JSON, form or garbage body: never a 5xx, always a JSON object, every
// error with a string `message`, every success the documented body.

let t: TestApp
let acme: TestTenant
let other: TestTenant
let mine: Person
let theirs: Person

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  mine = await seedPerson(t, acme, { phone: uniquePhone() })
  theirs = await seedPerson(t, other, { phone: uniquePhone() })
})
afterAll(async () => t?.close())

/** Keep something queued for the seeded person, so that some requests succeed. */
async function refill() {
  await sql`INSERT INTO scheduled_notifications (tenant_id, person_id, type, thread_name, due_at, idempotency_key)
    VALUES (${acme.tenant.id}, ${mine.id}, 'checkin', 'daily', now() + interval '1 day', ${`prop:${crypto.randomUUID()}`})`.execute(t.store.db)
}

function pct(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('')
}

const nasty = fc.constantFrom('', ' ', "' OR '1'='1", 'a\u0000b', '\ud800', 'x'.repeat(300), '%00', '%FF', '-1', '1e3', '00000000-0000-4000-8000-000000000000', '99999999999999999999999', 'toString', '__proto__', 'constructor')
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), nasty)
const ids = () => fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(mine.cassId, mine.legacyId, mine.cassId.toUpperCase(), ` ${mine.legacyId} `) },
  { weight: 1, arbitrary: fc.constantFrom(theirs.cassId, theirs.legacyId) },
  { weight: 2, arbitrary: text },
)
/** Nesting 2 to 10,000 levels deep, as a marker replaced in the JSON text (fast-check never holds the object). */
const deep = fc.integer({ min: 2, max: 10_000 }).map((depth) => `\u0001deep:${depth}\u0001`)
const deepJson = (text: string) => text.replace(/"\\u0001deep:(\d+)\\u0001"/g, (_m, depth: string) => '['.repeat(Number(depth)) + ']'.repeat(Number(depth)))
const strangerValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), text, { maxKeys: 2 }), deep)

const request = () => fc.record({
  byPath: fc.boolean(),
  id: fc.option(ids(), { nil: undefined }),
  idValue: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: strangerValue }),
  extra: fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'data', 'type'), fc.string({ maxLength: 6 })), text, { maxKeys: 2 }) }),
  placement: fc.constantFrom('query', 'query', 'json', 'form', 'garbage'),
  auth: fc.constantFrom('basic', 'basic', 'query', 'body', 'none', 'wrong', 'unknown', 'garbage', 'nul-basic', 'nul-query'),
  garbage: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
})

interface Req { byPath: boolean; id?: string | undefined; idValue?: unknown; extra: Record<string, unknown>; placement: string; auth: string; garbage: string }

function build(q: Req): InjectOptions {
  const { client, token } = acme.credentials.cass
  const headers: Record<string, string> = {}
  const params: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(q.extra)) Object.defineProperty(params, k, { value: v, enumerable: true, writable: true, configurable: true })
  if (!q.byPath && q.id !== undefined) params.person_id = q.idValue ?? q.id
  if (q.auth === 'basic') headers.authorization = acme.cassAuth
  if (q.auth === 'wrong') headers.authorization = basicAuth(client, 'wrong')
  if (q.auth === 'unknown') headers.authorization = basicAuth('nobody-here', token)
  if (q.auth === 'garbage') headers.authorization = q.garbage
  // NUL bytes in the credentials: in the Basic client or token, or in the client parameter.
  if (q.auth === 'nul-basic') headers.authorization = q.garbage.length % 2 ? basicAuth(`${client}\u0000`, token) : basicAuth(client, `\u0000${token}`)
  if (q.auth === 'nul-query') Object.assign(params, { client: `${client}\u0000`, auth: token })
  const query: Record<string, unknown> = q.placement === 'query' ? { ...params } : {}
  let body: Record<string, unknown> | undefined = q.placement === 'json' || q.placement === 'form' ? { ...params } : undefined
  if (q.auth === 'query') Object.assign(query, { client, auth: token })
  if (q.auth === 'body') body = { ...body, client, auth: token }
  const one = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')
  const qs = Object.entries(query).map(([k, v]) => `${pct(k)}=${pct(one(v))}`).join('&')
  const path = q.byPath ? `/notifications/${pct(q.id ?? '')}` : '/notifications'
  let payload: string | undefined
  if (q.placement === 'garbage') {
    headers['content-type'] = 'application/json'
    payload = q.garbage || '{'
  } else if (body) {
    if (q.placement === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      payload = Object.entries(body).map(([k, v]) => `${pct(k)}=${pct(one(v))}`).join('&')
    } else {
      headers['content-type'] = 'application/json'
      payload = deepJson(JSON.stringify(body))
    }
  }
  return { method: 'GET', url: path + (qs ? `?${qs}` : ''), headers, ...(payload !== undefined ? { payload } : {}) }
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 400)

describe('GET /notifications never fails on random input', () => {
  it(`${RUNS} random requests: no 5xx, JSON objects, documented bodies`, async () => {
    const statuses = new Set<number>()
    const valid = { byPath: false, id: mine.cassId, idValue: undefined, extra: {}, placement: 'query' as const, auth: 'basic' as const, garbage: '' }
    await fc.assert(fc.asyncProperty(request(), async (r) => {
      await refill()
      const opts = build(r)
      const res = await t.app.inject(opts)
      statuses.add(res.statusCode)
      const where = `${opts.url} ${JSON.stringify(opts.headers)} ${String(opts.payload)} → ${res.statusCode} ${res.body}`
      expect(res.statusCode, where).toBeLessThan(500)
      expect(res.headers['content-type'], where).toMatch(/^application\/json/)
      const parsed = JSON.parse(res.body) as Record<string, unknown>
      expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), where).toBe(true)
      if (res.statusCode === 200) {
        expect(Array.isArray(parsed.data) && (parsed.data as unknown[]).length > 0, where).toBe(true)
        for (const n of parsed.data as Array<Record<string, unknown>>) {
          expect(Object.keys(n), where).toEqual(['type', 'schedule', 'thread_name'])
          expect(n.schedule, where).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/)
        }
      } else expect(typeof parsed.message, where).toBe('string')
    }), { numRuns: RUNS, examples: [[valid]] })
    expect(statuses).toContain(200)
    expect(statuses).toContain(404)
    // Nothing of the other tenant's person was ever handed out.
    expect(await t.services.scheduling.listForPerson(other.tenant, theirs.id)).toEqual([])
  })
})
