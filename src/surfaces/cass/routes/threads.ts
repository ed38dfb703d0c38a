import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { BUILTIN_THREAD_NAMES } from '../../../core/bot/index.ts'
import { ValidationError } from '../../../core/errors.ts'
import { acceptYamlSetupFiles, setupFileOf } from '../../../http/setup-file.ts'
import type { Services } from '../../../services.ts'
import { SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { CredentialsOnly, Message, ThreadsCurrentResponse, ThreadsErrorResponse, ThreadsLoadedResponse } from '../schemas.ts'

const security = SECURITY.cass

/**
 * The tenant's bot content: `PUT /admin/threads` loads a thread file (YAML or JSON body) as the new
 * current version; `GET /admin/threads` shows the current one. Same credentials as the person API.
 */
export async function threadsRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { threads } = services
  // The file is kept as written, so YAML arrives as text (encapsulated: only these routes).
  acceptYamlSetupFiles(app)

  app.put('/admin/threads', {
    schema: {
      tags: ['bot'], summary: 'Load the tenant’s bot threads (a new version)',
      description: 'Body: a thread file, YAML (`Content-Type: application/yaml`) or JSON, valid against `/schemas/threads.json`. It becomes the current version; people in a conversation finish on the version they started. 400 lists every problem as `path: problem`.',
      querystring: CredentialsOnly, security, response: { 200: ThreadsLoadedResponse, 400: ThreadsErrorResponse, 401: Message, 404: Message, 415: Message },
    },
    // Documented with the admin API (its OpenAPI document), served with the Cass surface's credentials and errors.
    config: { cassErrors: 'default', surface: 'admin' },
  }, async (req) => {
    const { source, format } = setupFileOf(req, () => {
      throw new ValidationError('invalid_threads', '(document): the thread file is empty', { errors: ['(document): the thread file is empty'] })
    })
    const loaded = await threads.load(tenantOf(req), source, format)
    return { message: 'Threads loaded', version: loaded.version, threads: [...loaded.threads] }
  })

  app.get('/admin/threads', {
    schema: {
      tags: ['bot'], summary: 'The tenant’s current bot threads',
      querystring: CredentialsOnly, security, response: { 200: ThreadsCurrentResponse, 401: Message, 404: Message },
    },
    config: { surface: 'admin' },
  }, async (req) => {
    const current = await threads.currentSource(tenantOf(req))
    return {
      version: current?.version ?? 0,
      threads: [...(current?.threads ?? []), ...BUILTIN_THREAD_NAMES],
      format: current?.format ?? null,
      source: current?.source ?? null,
    }
  })
}
