import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { basicAuth } from '../../test/helpers/cass.ts'

// Random hostile requests to the admin API, the sandbox (API and page), the web chat embed (page
// and API) and the bot content endpoint: NUL bytes in paths, headers and credentials, and bodies
// nested thousands of levels deep (JSON and YAML). Never a 5xx; every error in the surface's shape.

let t: TestApp
let acme: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
})
afterAll(async () => t?.close())

function pct(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('')
}

const nul = fc.constantFrom('\u0000', 'a\u0000', '\u0000b', 'x\u0000y', '%00')
const segment = () => fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('sms', 'email', 'all', 'fax', '+14155552671', '00000000-0000-4000-8000-000000000000', '1', 'welcome') },
  { weight: 2, arbitrary: nul },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
)
/** JSON text of `depth` nested arrays or objects around a value. */
const deepJson = (depth: number, objects: boolean) => (objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth))
const body = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom('vendor', 'options', 'scope', 'address', 'reason', 'channel', 'to', 'from', 'body', 'auth_code', 'token', 'text', 'person_id', 'sms_help_text', 'threads'), fc.oneof(fc.string({ maxLength: 10 }), nul, fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 })), { maxKeys: 4 }).map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 30, max: 20_000 }), fc.boolean(), fc.constantFrom('options', 'threads', 'text', 'to')).map(([d, o, key]) => `{"${key}": ${deepJson(d, o)}}`) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 20_000 }).map((d) => `threads:\n  a:\n    steps:\n      ${'- '.repeat(d)}x\n`) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 20_000 }).map((d) => `threads: ${'['.repeat(d)}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
)

interface Endpoint { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; path: (a: string, b: string) => string; html?: boolean; types?: string[] }
const company = () => encodeURIComponent(acme.tenant.cassClient)
const ENDPOINTS: Endpoint[] = [
  { method: 'GET', path: () => '/admin/providers' },
  { method: 'GET', path: (a) => `/admin/providers/${pct(a)}` },
  { method: 'PUT', path: (a) => `/admin/providers/${pct(a)}` },
  { method: 'DELETE', path: (a) => `/admin/providers/${pct(a)}` },
  { method: 'GET', path: (a) => `/admin/suppressions?address=${pct(a)}` },
  { method: 'POST', path: () => '/admin/suppressions' },
  { method: 'DELETE', path: (a, b) => `/admin/suppressions/${pct(a)}/${pct(b)}` },
  { method: 'PATCH', path: () => '/admin/settings' },
  { method: 'GET', path: () => '/admin/threads' },
  { method: 'PUT', path: () => '/admin/threads', types: ['application/json', 'application/yaml'] },
  { method: 'GET', path: (a) => `/sandbox?channel=${pct(a)}`, html: true },
  { method: 'POST', path: () => '/sandbox/send', html: true, types: ['application/x-www-form-urlencoded'] },
  { method: 'GET', path: (a) => `/sandbox/api/outbox/${pct(a)}` },
  { method: 'POST', path: () => '/sandbox/api/outbox' },
  { method: 'POST', path: () => '/sandbox/api/inbound' },
  { method: 'GET', path: (a, b) => `/embed/1/${a === 'sms' ? company() : pct(a)}?auth_code=${b === 'sms' ? acme.tenant.embedCode : pct(b)}&personId=${pct(b)}`, html: true },
  { method: 'POST', path: (a) => `/embed/1/${a === 'sms' ? company() : pct(a)}/api/session` },
  { method: 'GET', path: (a, b) => `/embed/1/${a === 'sms' ? company() : pct(a)}/api/messages?auth_code=${pct(b)}&token=${pct(a)}` },
  { method: 'POST', path: (a) => `/embed/1/${a === 'sms' ? company() : pct(a)}/api/messages` },
  // The vendor webhooks (the tenant id in the path; signatures never match here).
  { method: 'POST', path: (a) => `/webhooks/twilio/${a === 'sms' ? acme.tenant.id : pct(a)}/sms`, types: ['application/x-www-form-urlencoded', 'application/json'] },
  { method: 'POST', path: (a, b) => `/webhooks/twilio/${a === 'sms' ? acme.tenant.id : pct(a)}/status?message=${pct(b)}`, types: ['application/x-www-form-urlencoded'] },
  { method: 'GET', path: (a, b) => `/webhooks/messenger/${a === 'sms' ? acme.tenant.id : pct(a)}?hub.mode=subscribe&hub.verify_token=${pct(b)}&hub.challenge=1` },
  { method: 'POST', path: (a) => `/webhooks/messenger/${a === 'sms' ? acme.tenant.id : pct(a)}` },
]

const request = fc.record({
  endpoint: fc.constantFrom(...ENDPOINTS),
  a: segment(),
  b: segment(),
  auth: fc.constantFrom('valid', 'valid', 'nul-client', 'nul-token', 'none', 'garbage'),
  nulHeader: fc.option(fc.constantFrom('x-request-id', 'accept', 'last-event-id', 'x-forwarded-for'), { nil: undefined }),
  body: fc.option(body, { nil: undefined }),
  type: fc.constantFrom('application/json', 'application/yaml', 'text/plain', undefined),
})

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)

describe('admin, sandbox, embed and bot content never fail on hostile input', () => {
  it(`${RUNS} random requests with NUL bytes and deep nesting: no 5xx, errors in the surface's shape`, async () => {
    const statuses = new Set<number>()
    await fc.assert(
      fc.asyncProperty(request, async (q) => {
        const { client, token } = acme.credentials.cass
        const headers: Record<string, string> = {}
        if (q.auth === 'valid') headers.authorization = acme.cassAuth
        if (q.auth === 'nul-client') headers.authorization = basicAuth(`${client}\u0000`, token)
        if (q.auth === 'nul-token') headers.authorization = basicAuth(client, `${token}\u0000`)
        if (q.auth === 'garbage') headers.authorization = `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`
        if (q.nulHeader) headers[q.nulHeader] = 'a\u0000b'
        const e = q.endpoint
        const withBody = e.method !== 'GET' && e.method !== 'DELETE' && q.body !== undefined
        if (withBody) headers['content-type'] = e.types?.[q.body!.length % e.types.length] ?? q.type ?? 'application/json'
        const opts: InjectOptions = { method: e.method, url: e.path(q.a, q.b), headers, ...(withBody ? { payload: q.body } : {}) }
        const r = await t.app.inject(opts)
        statuses.add(r.statusCode)
        const where = `${opts.method} ${opts.url} ${JSON.stringify(headers)} ${String(opts.payload ?? '').slice(0, 120)} → ${r.statusCode} ${r.body.slice(0, 300)}`
        expect(r.statusCode, where).toBeLessThan(500)
        if (r.statusCode < 400) return
        if (String(r.headers['content-type']).startsWith('text/html')) {
          expect(e.html, where).toBe(true)
          expect(r.headers['content-security-policy'], where).toBeDefined()
        } else {
          expect(r.headers['content-type'], where).toMatch(/^application\/json/)
          expect(typeof (JSON.parse(r.body) as { message?: unknown }).message, where).toBe('string')
        }
      }),
      { numRuns: RUNS },
    )
    expect([...statuses].some((s) => s < 300), JSON.stringify([...statuses])).toBe(true)
  })
})
