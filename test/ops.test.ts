import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.ts'
import { createMetrics } from '../src/http/metrics.ts'
import { createTenant, type TestTenant } from './factories/tenants.ts'
import { startTestApp, type TestApp } from './helpers/app.ts'

let t: TestApp
let tenant: TestTenant
beforeAll(async () => {
  t = await startTestApp()
  tenant = await createTenant(t.services)
})
afterAll(async () => t?.close())

describe('operations endpoints', () => {
  it('answers /healthz and checks the database on /readyz', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    const ready = await t.app.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', database: 'ok' })
  })

  it('exposes request counts and latency by route template on /metrics', async () => {
    await t.app.inject({ url: '/external_person/00000000-0000-4000-8000-000000000000', headers: { authorization: tenant.cassAuth } })
    const r = await t.app.inject('/metrics')
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
    expect(r.body).toMatch(/switchboard_http_requests_total\{method="GET",route="\/external_person\/:person_id",status="404"\} 1/)
    expect(r.body).toMatch(/switchboard_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/external_person\/:person_id"\}/)
    expect(r.body).toContain('switchboard_process_cpu_seconds_total')
  })

  it('publishes the Cass surface as OpenAPI 3.1 with every endpoint, and serves interactive docs', async () => {
    const doc = (await t.app.inject('/openapi/cass.json')).json() as { openapi: string; paths: Record<string, Record<string, unknown>> }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths['/add_external_person']!)).toEqual(expect.arrayContaining(['get', 'post']))
    expect(Object.keys(doc.paths['/external_person']!)).toEqual(expect.arrayContaining(['get', 'post', 'patch']))
    expect(Object.keys(doc.paths['/external_person/{person_id}']!)).toEqual(expect.arrayContaining(['get', 'patch']))
    expect(Object.keys(doc.paths['/get_new_id']!)).toEqual(['get'])
    // one document per surface: the sandbox has its own
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/sandbox'))).toEqual([])
    const sandbox = (await t.app.inject('/openapi/sandbox.json')).json() as { info: { title: string }; paths: Record<string, unknown> }
    expect(sandbox.info.title).toContain('Sandbox')
    expect(Object.keys(sandbox.paths).length).toBeGreaterThan(0)
    expect(Object.keys(sandbox.paths).every((p) => p.startsWith('/sandbox'))).toBe(true)
    const docs = await t.app.inject('/docs/')
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('swagger-ui')
  })

  it('answers unknown routes with a JSON 404', async () => {
    const r = await t.app.inject('/nope?x=1')
    expect(r.statusCode).toBe(404)
    expect(r.json()).toEqual({ message: 'Route GET:/nope not found' })
  })
})

describe('logs', () => {
  it('are JSON lines with the request id and the tenant id, and echo the request id', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
    const app = await buildApp({ services: t.services, metrics: createMetrics(), logger: pino({ level: 'info' }, sink) })
    try {
      const r = await app.inject({ url: '/external_person?external_id=nobody', headers: { authorization: tenant.cassAuth, 'x-request-id': 'req-abc-123' } })
      expect(r.statusCode).toBe(404)
      expect(r.headers['x-request-id']).toBe('req-abc-123')
      const done = lines.find((l) => l.msg === 'request completed')
      expect(done).toMatchObject({ reqId: 'req-abc-123', tenantId: tenant.tenant.id, res: { statusCode: 404 } })
    } finally {
      await app.close()
    }
  })
})

describe('requests refused before routing', () => {
  it('a path with a broken %-escape gets a JSON 400 in the common shape', async () => {
    const r = await t.app.inject({ url: '/external_person/%FF', headers: { authorization: tenant.cassAuth } })
    expect(r.statusCode).toBe(400)
    expect(Object.keys(r.json())).toEqual(['message'])
  })

  it('HEAD does not run GET handlers (some vendor GETs create things)', async () => {
    const r = await t.app.inject({ method: 'HEAD', url: '/external_person?external_id=h1&protocol=web', headers: { authorization: tenant.cassAuth } })
    expect(r.statusCode).toBe(404)
    await expect(t.services.people.getByExternalId(tenant.tenant, 'h1')).rejects.toThrow()
  })

  it('a form body with broken %-escapes is refused, not stored as U+FFFD', async () => {
    const r = await t.app.inject({
      method: 'POST', url: '/external_person', headers: { authorization: tenant.cassAuth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'external_id=f1&protocol=web&first_name=%FF',
    })
    expect(r.statusCode).toBe(400)
    expect(r.json()).toEqual({ message: 'Malformed form body: invalid percent-encoding' })
    await expect(t.services.people.getByExternalId(tenant.tenant, 'f1')).rejects.toThrow()
  })
})

describe('SWITCHBOARD_SANDBOX=false', () => {
  it('does not serve /sandbox at all', async () => {
    const off = await startTestApp({ config: { SWITCHBOARD_SANDBOX: 'false' } })
    try {
      const who = await createTenant(off.services)
      const page = await off.app.inject({ url: '/sandbox', headers: { authorization: who.cassAuth } })
      expect(page.statusCode).toBe(404)
      const inbound = await off.app.inject({ method: 'POST', url: '/sandbox/api/inbound', headers: { authorization: who.cassAuth }, payload: { channel: 'sms', from: '+14155552671', body: 'hi' } })
      expect(inbound.statusCode).toBe(404)
      // The rest of the API is unaffected.
      expect((await off.app.inject('/healthz')).statusCode).toBe(200)
    } finally {
      await off.close()
    }
  })
})
