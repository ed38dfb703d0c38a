import { PGlite } from '@electric-sql/pglite'
import Fastify, { type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import { afterAll, describe, expect, it } from 'vitest'
import { AppError, ERROR_CATALOG, ERROR_CODES, kindOf, type ErrorCode } from '../core/errors.ts'
import { ADMIN_ERROR_SHAPE } from '../surfaces/admin/errors.ts'
import { CASS_ERROR_SHAPE } from '../surfaces/cass/errors.ts'
import { EMBED_ERROR_SHAPE } from '../surfaces/embed/errors.ts'
import { SANDBOX_ERROR_SHAPE } from '../surfaces/sandbox/errors.ts'
import { AGENT_ERROR_SHAPE } from '../surfaces/agent/errors.ts'
import { CCAI_ERROR_SHAPE } from '../surfaces/ccai/errors.ts'
import { registerBodyParsers } from './body-parsers.ts'
import { byKind, registerErrorHandling, type ErrorShape } from './errors.ts'
import { declareSurface, markSurface, surfaceDocument, type OpenApiDocument } from './openapi.ts'
import { strictJsonValidators } from './validator.ts'
import { webhookErrorShape } from './webhook-errors.ts'

/** Details a thrower of each code could give (the mappings read them). */
const SAMPLE: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  invalid_threads: { errors: ['threads: bad'] }, missing_placeholder: { placeholder: '<<A>>' }, no_notifications: { personId: 'p' },
  person_unreachable: { protocol: 'sms' }, thread_not_found: { threadName: 't' }, person_not_in_tenant: { personId: 'p' },
  message_not_found: { messageId: 'm' }, webhook_not_configured: { channel: 'sms' }, tenant_name_taken: { name: 'n' },
  rate_limited: { retryAfter: 7 }, invalid_contact_center: { errors: ['teams: bad'] }, agent_status_not_settable: { status: 'Offline' },
  menu_not_found: { menuId: 4 }, language_not_available: { lang: 'fr' }, chat_not_found: { chatId: 3 }, delivery_failed: { error: 'refused' }, unsafe_url: { option: 'baseUrl', reason: 'host_not_allowed' },
}

const SHAPES: Array<[string, ErrorShape, Record<string, unknown>]> = [
  ['cass', CASS_ERROR_SHAPE, {}],
  ['cass (add_external_person)', CASS_ERROR_SHAPE, { cassErrors: 'add' }],
  ['cass (notifications)', CASS_ERROR_SHAPE, { cassErrors: 'notifications' }],
  ['admin', ADMIN_ERROR_SHAPE, {}],
  ['Apps API (ccai)', CCAI_ERROR_SHAPE, {}],
  ['agent API', AGENT_ERROR_SHAPE, {}],
  ['sandbox API', SANDBOX_ERROR_SHAPE, {}],
  ['sandbox page', SANDBOX_ERROR_SHAPE, { sandboxHtml: true }],
  ['embed API', EMBED_ERROR_SHAPE, {}],
  ['embed page', EMBED_ERROR_SHAPE, { embedHtml: true }],
  ['webhooks', webhookErrorShape(), {}],
]

const apps: FastifyInstance[] = []
let pglite: PGlite | undefined
async function database(): Promise<PGlite> {
  return (pglite ??= new PGlite())
}
afterAll(async () => {
  for (const app of apps) await app.close()
  await pglite?.close()
})

/** A bare app whose one route throws the catalog error named in the query, rendered by `shape`. */
async function throwingApp(shape: ErrorShape, config: Record<string, unknown>) {
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    schemaController: { compilersFactory: { buildValidator: strictJsonValidators() as never } },
  })
  apps.push(app)
  app.decorateRequest('tenant', null)
  registerBodyParsers(app)
  registerErrorHandling(app, shape, { notFound: true })
  app.get('/throw', { config }, async (req) => {
    const code = (req.query as { code: ErrorCode }).code
    throw new (AppError as new (c: ErrorCode, m: string, d?: Record<string, unknown>) => AppError)(code, `core says ${code}`, SAMPLE[code])
  })
  app.post('/body', { config, schema: { body: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } }, async () => ({ ok: true }))
  // The database refusing a client's value: a real PGlite error for each data exception we map.
  app.get('/db', { config }, async (req) => {
    const { cast, value } = req.query as { cast: string; value: string }
    await (await database()).query(`SELECT $1::${cast === 'jsonb' ? 'jsonb' : cast === 'int' ? 'int' : cast === 'uuid' ? 'uuid' : 'text'}`, [value])
    return { ok: true }
  })
  app.get('/boom', { config }, async () => {
    throw new Error('a bug')
  })
  await app.ready()
  return app
}

describe('the error catalog', () => {
  it('has a family for every code', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(50)
    for (const code of ERROR_CODES) expect(ERROR_CATALOG[code].kind).toMatch(/^(invalid|unauthenticated|forbidden|not_found|conflict|rate_limited|upstream_failed)$/)
  })

  describe.each(SHAPES)('rendered by the %s surface', (_name, shape, config) => {
    it('answers every code with a documented status, never a 500', async () => {
      const app = await throwingApp(shape, config)
      const byKind: Record<string, Set<number>> = {}
      for (const code of ERROR_CODES) {
        const r = await app.inject(`/throw?code=${code}`)
        expect(r.statusCode, `${code} → ${r.statusCode} ${r.body}`).toBeGreaterThanOrEqual(400)
        expect(r.statusCode, `${code} → ${r.body}`).not.toBe(500)
        expect(r.statusCode, code).toBeLessThan(503)
        expect(r.body, code).not.toContain('error_id')
        ;(byKind[ERROR_CATALOG[code].kind] ??= new Set()).add(r.statusCode)
        if (code === 'rate_limited') expect(r.headers['retry-after']).toBe('7')
      }
      // A family answers with one status family.
      expect([...byKind.invalid!].every((s) => s === 400 || s === 404), JSON.stringify([...byKind.invalid!])).toBe(true)
      expect([...byKind.not_found!].every((s) => s === 404 || s === 403), JSON.stringify([...byKind.not_found!])).toBe(true)
      expect([...byKind.upstream_failed!]).toEqual([502])
    })

    it('handles the framework’s errors in one place: validation, bad JSON, too deep, 413, unknown route, and a bug as a 500 with an error id', async () => {
      const app = await throwingApp(shape, config)
      const post = (payload: string) => app.inject({ method: 'POST', url: '/body', headers: { 'content-type': 'application/json' }, payload })
      expect((await post('{"a": ["x"]}')).statusCode).toBe(400)
      expect((await post('{"a":')).statusCode).toBe(400)
      expect((await post('['.repeat(100_000) + ']'.repeat(100_000))).statusCode).toBe(400)
      expect((await app.inject({ method: 'POST', url: '/body', headers: { 'content-type': 'application/json' }, payload: Buffer.from([0x7b, 0xff, 0x7d]) })).statusCode).toBe(400)
      expect((await app.inject({ method: 'POST', url: '/body', headers: { 'content-type': 'application/xml' }, payload: '<a/>' })).statusCode).toBe(415)
      expect((await app.inject({ method: 'POST', url: '/body', headers: { 'content-type': 'application/json' }, payload: `{"a":"${'x'.repeat(1024 * 1024)}"}` })).statusCode).toBe(413)
      expect((await app.inject('/nowhere?auth=secret')).statusCode).toBe(404)
      expect((await app.inject('/nowhere?auth=secret')).body).not.toContain('secret')
      // A value only the database refuses (a NUL in text or JSON, a number past int, a bad uuid): 400.
      for (const [cast, value] of [['text', 'a\u0000b'], ['jsonb', '{"a":"\\u0000"}'], ['int', '99999999999'], ['uuid', 'zz']]) {
        const r = await app.inject({ url: '/db', query: { cast: cast!, value: value! } })
        expect(r.statusCode, `${cast} → ${r.body}`).toBe(400)
        expect(r.body).not.toMatch(/error[ _]id/)
      }
      const boom = await app.inject('/boom')
      expect(boom.statusCode).toBe(500)
      expect(boom.body).toMatch(/error[ _]id/)
      expect(boom.body).not.toContain('a bug')
    })
  })
})

describe('the OpenAPI split', () => {
  it('follows the surface that registered a route, not its path', async () => {
    const app = Fastify({ logger: false })
    apps.push(app)
    await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '1' } }, transform: markSurface as never })
    const schema = { tags: ['t'], response: { 200: { type: 'object' } } }
    await app.register(async (cass) => {
      declareSurface(cass, 'cass')
      cass.post('/v2/ping_person', { schema }, async () => ({}))
    })
    // Another surface with a path right beside the first's (the video channels of the messaging API).
    await app.register(async (other) => {
      declareSurface(other, 'admin')
      other.get('/v2/video-channels/:id', { schema }, async () => ({}))
      other.post('/v2/ping_person/:id', { schema, config: { surface: 'cass' } }, async () => ({}))
      other.get('/v2/shared', { schema }, async () => ({}))
    })
    await app.register(async (sandbox) => {
      declareSurface(sandbox, 'sandbox')
      sandbox.put('/v2/shared', { schema }, async () => ({}))
    })
    await app.ready()
    const full = app.swagger() as unknown as OpenApiDocument
    const cass = surfaceDocument(full, 'cass')
    const admin = surfaceDocument(full, 'admin')
    const sandbox = surfaceDocument(full, 'sandbox')
    expect(Object.keys(cass.paths!)).toEqual(['/v2/ping_person', '/v2/ping_person/{id}'])
    expect(Object.keys(cass.paths!['/v2/ping_person']!)).toEqual(['post'])
    expect(Object.keys(admin.paths!).sort()).toEqual(['/v2/shared', '/v2/video-channels/{id}'])
    expect(Object.keys(admin.paths!['/v2/shared']!)).toEqual(['get'])
    expect(Object.keys(sandbox.paths!['/v2/shared']!)).toEqual(['put'])
    expect(JSON.stringify([cass, admin, sandbox])).not.toContain('x-surface')
    expect(cass.info.title).toMatch(/Person & bot/)
  })
})

describe('byKind', () => {
  it('renders every code of the catalog by its family, unless an override names the code', () => {
    const family = (kind: string) => (err: AppError): { status: number; body: unknown } => ({ status: 200, body: { kind, code: err.code } })
    const mapping = byKind<{ status: number; body: unknown }>({
      invalid: family('invalid'), unauthenticated: family('unauthenticated'), forbidden: family('forbidden'), not_found: family('not_found'),
      conflict: family('conflict'), rate_limited: family('rate_limited'), upstream_failed: family('upstream_failed'),
    }, { phone_taken: () => ({ status: 418, body: { override: true } }) })
    expect(Object.keys(mapping).sort()).toEqual([...ERROR_CODES].sort())
    const req = {} as Parameters<typeof mapping.invalid_phone>[1]
    for (const code of ERROR_CODES) {
      const rendered = (mapping[code] as (e: AppError, r: typeof req) => { status: number; body: unknown })(new AppError(code, 'x', { retryAfter: 1 } as never), req)
      if (code === 'phone_taken') expect(rendered).toEqual({ status: 418, body: { override: true } })
      else expect(rendered.body).toEqual({ kind: kindOf(code), code })
    }
  })
})
