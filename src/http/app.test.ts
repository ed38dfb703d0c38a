import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { addThread, basicAuth, countPeople, seedPerson } from '../../test/helpers/cass.ts'

// Defects of issues 7 and 8 through the whole app: errors a request could turn into a 500, JSON
// coercion, NUL bytes, deep nesting, security headers and the landing page.

let t: TestApp
let acme: TestTenant

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  await addThread(t, acme.tenant.id, 'welcome')
})
afterAll(async () => t?.close())

const count = async (table: 'outbox_messages' | 'conversations' | 'transcript_messages', tenantId: string) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE tenant_id = ${tenantId}`.execute(t.store.db)).rows[0]!.n
const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>

describe('a request that passes the schema never answers 500', () => {
  it('POST /v2/ping_person whose placeholders render 800,000 characters answers 400 and writes nothing', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    const before = await Promise.all([count('outbox_messages', acme.tenant.id), count('conversations', acme.tenant.id)])
    const r = await t.app.inject({
      method: 'POST', url: '/v2/ping_person', headers: { authorization: acme.cassAuth },
      payload: { person_id: person.cassId, thread_name: 'welcome', messages: ['<<A>>'.repeat(400)], placeholders: { A: 'x'.repeat(2000) } },
    })
    expect(r.statusCode, r.body).toBe(400)
    expect(json(r)).toEqual({ message: expect.stringMatching(/^Invalid message: body must be 1-\d+ characters$/) })
    expect(await Promise.all([count('outbox_messages', acme.tenant.id), count('conversations', acme.tenant.id)])).toEqual(before)
  })
})

describe('JSON bodies are taken as typed', () => {
  it('POST /external_person with an array where a string is expected answers 400 and creates nobody', async () => {
    const tt = await createTenant(t.services)
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ external_id: ['x'], protocol: 'web' }, /^external_id must be string$/],
      [{ external_id: 'x', protocol: ['web'] }, /^protocol must be string$/],
      [{ external_id: { a: 'x' }, protocol: 'web' }, /^external_id must be string$/],
      [{ external_id: 'x', protocol: 'web', first_name: true }, /^first_name must be string$/],
      [{ external_id: 'x', protocol: 'web', first_name: null }, /^first_name must be string$/],
    ]
    for (const [payload, message] of cases) {
      const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: tt.cassAuth }, payload })
      expect(r.statusCode, JSON.stringify(payload)).toBe(400)
      expect(json(r), JSON.stringify(payload)).toEqual({ message: expect.stringMatching(message) })
    }
    expect(await countPeople(t, tt.tenant.id)).toBe(0)
    // Query strings and forms keep their coercion: a repeated parameter is a list, a lone one a text.
    const form = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: tt.cassAuth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'external_id=x&protocol=web' })
    expect(form.statusCode, form.body).toBe(200)
    // The documented leniency stays: a JSON number where text is expected is read as its text.
    const number = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: tt.cassAuth }, payload: { external_id: 42, protocol: 'web' } })
    expect(number.statusCode, number.body).toBe(200)
    expect(json(number).external_id).toBe('42')
  })
})

describe('NUL bytes', () => {
  const nulBasic = basicAuth('f\u0000', 'x')
  it('in Basic credentials answer the surface’s 401, without asking the database', async () => {
    for (const [url, realm] of [['/admin/providers', 'Switchboard admin'], ['/sandbox/api/outbox', 'Switchboard sandbox'], ['/sandbox', 'Switchboard sandbox']] as const) {
      for (const authorization of [nulBasic, basicAuth(acme.credentials.cass.client, 'x\u0000')]) {
        const r = await t.app.inject({ url, headers: { authorization } })
        expect(r.statusCode, `${url} ${r.body}`).toBe(401)
        expect(r.headers['www-authenticate']).toContain(realm)
      }
    }
    const cass = await t.app.inject({ url: '/external_person/1', headers: { authorization: nulBasic } })
    expect(cass.statusCode).toBe(404)
    expect(json(cass)).toEqual({ message: 'Client Not Found' })
  })

  it('in the embed’s company or code answer 400 (a page for the page, JSON for the API)', async () => {
    for (const url of ['/embed/1/%00?auth_code=x', `/embed/1/${encodeURIComponent(acme.tenant.cassClient)}?auth_code=%00`]) {
      const page = await t.app.inject(url)
      expect(page.statusCode, url).toBe(400)
      expect(page.headers['content-type']).toMatch(/^text\/html/)
    }
    for (const [url, payload] of [['/embed/1/%00/api/session', { auth_code: 'x' }], [`/embed/1/${encodeURIComponent(acme.tenant.cassClient)}/api/session`, { auth_code: 'x\u0000' }]] as const) {
      const r = await t.app.inject({ method: 'POST', url, payload })
      expect(r.statusCode, `${url} ${r.body}`).toBe(400)
      expect(json(r)).toEqual({ message: expect.stringMatching(/must not contain NUL characters/) })
    }
    const messages = await t.app.inject(`/embed/1/%00/api/messages?auth_code=x&token=y`)
    expect(messages.statusCode).toBe(400)
  })
})

describe('deep nesting', () => {
  it('PUT /admin/threads with 100,000 nested arrays (JSON or YAML) answers 400 and loads nothing', async () => {
    const tt = await createTenant(t.services)
    const bodies: Array<[string, string]> = [
      ['application/json', `{"threads": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
      ['application/yaml', `threads:\n  a:\n    steps: ${'['.repeat(100_000)}`],
      ['application/yaml', `threads:\n  a:\n    steps:\n      ${'- '.repeat(100_000)}x\n`],
    ]
    for (const [type, payload] of bodies) {
      const r = await t.app.inject({ method: 'PUT', url: '/admin/threads', headers: { authorization: tt.cassAuth, 'content-type': type }, payload })
      expect(r.statusCode, `${type} ${r.body.slice(0, 200)}`).toBe(400)
      expect(json(r)).toEqual({ message: 'Request body is nested deeper than 64 levels' })
    }
    const current = await t.app.inject({ url: '/admin/threads', headers: { authorization: tt.cassAuth } })
    expect(json(current).version).toBe(0)
  })

  it('in any JSON body answers the surface’s 400', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const admin = await t.app.inject({ method: 'PUT', url: '/admin/providers/sms', headers: { authorization: acme.cassAuth, 'content-type': 'application/json' }, payload: `{"vendor": "sandbox", "options": {"a": ${deep}}}` })
    expect(admin.statusCode).toBe(400)
    expect(json(admin)).toEqual({ message: 'Request body is nested deeper than 64 levels', code: 'invalid_request' })
    const sandbox = await t.app.inject({ method: 'POST', url: '/sandbox/api/outbox', headers: { authorization: acme.cassAuth, 'content-type': 'application/json' }, payload: deep })
    expect(sandbox.statusCode).toBe(400)
    const cass = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth, 'content-type': 'application/json' }, payload: `{"external_id": ${deep}}` })
    expect(cass.statusCode).toBe(400)
  })
})

describe('HTML pages', () => {
  const expectSecured = (r: { headers: Record<string, unknown> }, where: string) => {
    const csp = String(r.headers['content-security-policy'] ?? '')
    expect(csp, where).toMatch(/default-src/)
    expect(csp, where).toMatch(/frame-ancestors 'none'/)
    expect(r.headers['x-frame-options'], where).toBe('DENY')
    expect(r.headers['x-content-type-options'], where).toBe('nosniff')
  }

  it('the sandbox page, its error pages, the docs and the landing page send CSP, framing and nosniff headers', async () => {
    const page = await t.app.inject({ url: '/sandbox', headers: { authorization: acme.cassAuth } })
    expect(page.statusCode).toBe(200)
    expectSecured(page, '/sandbox')
    expect(String(page.headers['content-security-policy'])).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/)
    const denied = await t.app.inject({ method: 'POST', url: '/sandbox/send', headers: { authorization: acme.cassAuth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'channel=sms&to=x&body=y&csrf=stale' })
    expect(denied.statusCode).toBe(403)
    expectSecured(denied, 'sandbox error page')
    const docs = await t.app.inject('/docs/')
    expect(docs.headers['content-type']).toMatch(/^text\/html/)
    expectSecured(docs, '/docs/')
    expect(String(docs.headers['content-security-policy'])).not.toMatch(/upgrade-insecure-requests/)
    expectSecured(await t.app.inject('/'), '/')
    // The chat page keeps its documented framing by the tenant's own sites.
    const chat = await t.app.inject(`/embed/1/${encodeURIComponent(acme.tenant.cassClient)}?auth_code=${acme.tenant.embedCode}`)
    expect(chat.statusCode).toBe(200)
    expect(chat.headers['content-security-policy']).toMatch(/frame-ancestors \*/)
    expect(chat.headers['x-frame-options']).toBeUndefined()
    expect(chat.headers['x-content-type-options']).toBe('nosniff')
    // JSON answers say nosniff too.
    expect((await t.app.inject('/healthz')).headers['x-content-type-options']).toBe('nosniff')
  })
})

describe('GET /', () => {
  it('is a small landing page linking the docs, the OpenAPI documents, the sandbox and the web chat demo', async () => {
    const r = await t.app.inject('/')
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
    for (const href of ['/docs', '/openapi/cass.json', '/openapi/admin.json', '/openapi/sandbox.json', '/sandbox']) expect(r.body).toContain(`href="${href}"`)
    expect(r.body).toMatch(/console/i)
    expect(r.body).toMatch(/web chat demo/i)
    // Every link works as written, query included (the web chat demo's link carries its auth_code
    // when a Demo tenant exists, as on a database other test files share).
    for (const href of r.body.matchAll(/href="(\/[^"]*)"/g)) {
      const url = href[1]!.replaceAll('&amp;', '&')
      const target = await t.app.inject({ url, headers: { authorization: acme.cassAuth } })
      expect(target.statusCode, url).toBeLessThan(400)
    }
  })

  it('links the Demo tenant’s chat when there is one, and leaves out the sandbox when it is off', async () => {
    const own = await startTestApp({ isolated: true })
    try {
      const none = await own.app.inject('/')
      expect(none.body).not.toMatch(/href="\/embed\//)
      const demo = await createTenant(own.services, 'Demo')
      const r = await own.app.inject('/')
      const link = /href="(\/embed\/1\/[^"]+)"/.exec(r.body)?.[1]?.replace(/&amp;/g, '&')
      expect(link).toContain(`auth_code=${demo.tenant.embedCode}`)
      const chat = await own.app.inject(link!)
      expect(chat.statusCode).toBe(200)
    } finally {
      await own.close()
    }
    const off = await startTestApp({ config: { SWITCHBOARD_SANDBOX: 'false' } })
    try {
      const r = await off.app.inject('/')
      expect(r.statusCode).toBe(200)
      expect(r.body).not.toContain('href="/sandbox"')
      expect(r.body).not.toContain('/openapi/sandbox.json')
      expect(r.body).toContain('href="/docs"')
    } finally {
      await off.close()
    }
  })
})
