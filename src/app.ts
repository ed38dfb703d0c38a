import type { Config } from './config.ts'
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { sql } from 'kysely'
import { registerBodyParsers } from './http/body-parsers.ts'
import { frameworkErrorsWith, internalMessage, messageBody, registerErrorHandling, type ErrorMapping, type ErrorShape } from './http/errors.ts'
import { JSONAPI_ERROR_SHAPE } from './http/jsonapi/errors.ts'
import { registerLandingPage } from './http/landing.ts'
import { redactingLogger } from './http/log-redaction.ts'
import { instrumentHttp, type Metrics } from './http/metrics.ts'
import { markSurface, SURFACE_DOCUMENTS, surfaceDocument, type OpenApiDocument, type SurfaceName } from './http/openapi.ts'
import { registerSecurityHeaders } from './http/security-headers.ts'
import { decorateTenant } from './http/tenant.ts'
import { strictJsonValidators } from './http/validator.ts'
import { CASS_ERRORS } from './surfaces/cass/errors.ts'
import { registerJobMetrics } from './jobs/index.ts'
import type { Services } from './services.ts'
import { threadsJsonSchema } from './core/bot/index.ts'
import { contactCenterJsonSchema } from './core/contact-center/index.ts'
import { cassSurface } from './surfaces/cass/index.ts'
import { sandboxSurface } from './surfaces/sandbox/index.ts'
import { adminSurface } from './surfaces/admin/index.ts'
import { twilioWebhooks } from './surfaces/twilio/index.ts'
import { messengerWebhooks } from './surfaces/messenger/index.ts'
import { embedSurface } from './surfaces/embed/index.ts'
import { ccaiSurface } from './surfaces/ccai/index.ts'
import { agentSurface } from './surfaces/agent/index.ts'
import { courierSurface } from './surfaces/courier/index.ts'
import { filesSurface } from './surfaces/files/index.ts'
import { FILES_PATH } from './core/files/index.ts'
import { DirectoryFileJsonSchema } from './core/messaging/index.ts'
import { consoleSurface } from './surfaces/console/index.ts'
import { TemplatesFileJsonSchema } from './core/templates/index.ts'

export interface AppOptions {
  services: Services
  metrics: Metrics
  /** A pino logger instance or Fastify logger options; false for none. */
  logger?: FastifyServerOptions['loggerInstance'] | false
}

/** The docs' (Swagger UI's) Content-Security-Policy. */
const DOCS_CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'"

/** Largest request body accepted, per the bad-input rules (413 beyond it). */
export const BODY_LIMIT = 1024 * 1024

/**
 * Errors outside every surface (operations routes, the docs, unknown routes, a broken path before
 * routing): `{"message"}`, the shape of the API at the root. A catalog error never reaches these
 * routes; should one, it is answered as the Cass surface would.
 */
const APP_ERROR_SHAPE: ErrorShape = {
  codes: CASS_ERRORS satisfies ErrorMapping,
  framework: messageBody,
  internal: internalMessage,
}

/** SWITCHBOARD_TRUST_PROXY as Fastify takes it: a hop count is "trust the nearest N" (proxy-addr's rule). */
function trustProxyOption(v: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof v === 'number') return (_address, hop) => hop < v
  return typeof v === 'boolean' ? v : [...v]
}

/** The whole HTTP application as one Fastify instance (not listening yet). */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services, metrics } = opts
  const appFrameworkErrors = frameworkErrorsWith(APP_ERROR_SHAPE)
  const jsonApiFrameworkErrors = frameworkErrorsWith(JSONAPI_ERROR_SHAPE)
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: redactingLogger(opts.logger) } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID()
    },
    // Behind a reverse proxy the client address (lockout, logs) comes from X-Forwarded-For.
    trustProxy: trustProxyOption(services.config.trustProxy),
    // Plugins (the docs' static files, the console bundle) load within a minute even on a loaded
    // machine; Fastify's 10 s default failed a start under load.
    pluginTimeout: 60_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Query strings and forms are coerced ('5' → 5, a lone value → a list); JSON bodies are not.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    schemaController: { compilersFactory: { buildValidator: strictJsonValidators() as never } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // HEAD would run a GET route's handler, and some GETs of the vendor APIs create things.
    exposeHeadRoutes: false,
    // Errors raised before routing (a path with a broken %-escape) in the common `{"message"}` shape.
    // Under the messaging API's prefixes they are JSON:API error objects, like everything there.
    frameworkErrors: ((err: never, req: { url: string }, reply: never) =>
      (/^\/v[12](\/|$|\?)/.test(req.url) ? jsonApiFrameworkErrors : appFrameworkErrors)(err, req as never, reply)) as never,
  })
  decorateTenant(app)
  registerErrorHandling(app, APP_ERROR_SHAPE, { notFound: true })
  registerSecurityHeaders(app)
  // On shutdown, answers to requests already in flight close their keep-alive connection, so the
  // server can finish those requests and then stop instead of waiting for idle clients.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id)
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  registerBodyParsers(app)
  instrumentHttp(app, metrics)
  registerJobMetrics(metrics.registry, services.jobs)
  // Routes enqueue jobs (a message to send), so the queue must be up before the first request. A
  // process with workers started it already; an API-only process (or a test) starts it here to
  // enqueue only, and stops it after the last request.
  if (!services.jobs.started) {
    await services.jobs.start()
    app.addHook('onClose', async () => services.jobs.stop())
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...SURFACE_DOCUMENTS.cass, version: '1.0.0' },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'client:token' },
          clientParams: { type: 'apiKey', in: 'query', name: 'auth', description: 'Legacy: `client` and `auth` URL parameters' },
          bearer: { type: 'http', scheme: 'bearer', description: 'Agent API token from POST /agent/v1/login' },
          apiKeyBearer: { type: 'http', scheme: 'bearer', description: 'Messaging API key (`tenant create --json` → `courier.api_key`)' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'Messaging API key' },
          consoleCookie: { type: 'apiKey', in: 'cookie', name: 'sb_console', description: 'Console session cookie from POST /console/api/session' },
        },
      },
    },
    hideUntagged: true,
    // Each operation carries the surface whose plugin registered it; the documents are cut by it.
    transform: markSurface as never,
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Scripts only from here; Swagger UI sets inline styles, nothing else inline; no framing by other sites.
    staticCSP: DOCS_CSP,
    // No validator badge: it would send the document's address to validator.swagger.io.
    uiConfig: { validatorUrl: null, urls: (Object.keys(SURFACE_DOCUMENTS) as SurfaceName[]).map((name) => ({ name, url: `/openapi/${name}.json` })) } as Record<string, unknown>,
  })

  registerLandingPage(app, { sandbox: services.config.sandboxPage, findDemo: () => services.tenants.findByName('Demo') })
  // Operations
  app.get('/healthz', async () => ({ status: 'ok' }))
  // The JSON Schema of a bot thread file (public: editors and CI validate content against it).
  const threadsSchema = JSON.stringify(threadsJsonSchema(), null, 2)
  app.get('/schemas/threads.json', async (_req, reply) => reply.type('application/schema+json; charset=utf-8').send(threadsSchema))
  const contactCenterSchema = JSON.stringify(contactCenterJsonSchema(), null, 2)
  app.get('/schemas/contact-center.json', async (_req, reply) => reply.type('application/schema+json; charset=utf-8').send(contactCenterSchema))
  const directorySchema = JSON.stringify(DirectoryFileJsonSchema, null, 2)
  app.get('/schemas/directory.json', async (_req, reply) => reply.type('application/schema+json; charset=utf-8').send(directorySchema))
  const templatesSchema = JSON.stringify(TemplatesFileJsonSchema, null, 2)
  app.get('/schemas/templates.json', async (_req, reply) => reply.type('application/schema+json; charset=utf-8').send(templatesSchema))
  app.get('/readyz', async (_req, reply) => {
    try {
      await sql`SELECT 1`.execute(services.store.db)
      return { status: 'ready', database: 'ok' }
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', database: (err as Error).message })
    }
  })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  // One document per surface, cut from the app-wide one (built once, on first request).
  let fullDocument: ReturnType<typeof app.swagger> | undefined
  for (const surface of Object.keys(SURFACE_DOCUMENTS) as SurfaceName[]) {
    app.get(`/openapi/${surface}.json`, async () => surfaceDocument((fullDocument ??= app.swagger()) as unknown as OpenApiDocument, surface))
  }

  await app.register(cassSurface, { services })
  if (services.config.sandboxPage) await app.register(sandboxSurface, { services, prefix: '/sandbox' })
  await app.register(adminSurface, { services, prefix: '/admin' })
  await app.register(twilioWebhooks, { services, prefix: '/webhooks/twilio' })
  await app.register(messengerWebhooks, { services, prefix: '/webhooks/messenger' })
  await app.register(embedSurface, { services, prefix: '/embed' })
  await app.register(ccaiSurface, { services, prefix: '/apps/api/v1' })
  await app.register(agentSurface, { services, prefix: '/agent/v1' })
  await app.register(filesSurface, { services, prefix: FILES_PATH })
  await app.register(courierSurface, { services })
  // The web console (issue 11): its pages at /console and its small API at /console/api.
  await app.register(consoleSurface, { services })

  return app
}
