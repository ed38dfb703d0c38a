import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ValidationError } from '../../../core/errors.ts'
import { SECURITY } from '../../../http/params.ts'
import { acceptYamlSetupFiles, setupFileOf } from '../../../http/setup-file.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { Message } from '../schemas.ts'

const security = SECURITY.basic
const tags = ['templates']
const DateTime = (description: string) => Type.String({ format: 'date-time', description })
const EMPTY = '(document): the template file is empty'

const TemplatesLoaded = Type.Object({
  data: Type.Object({
    version: Type.Integer({ description: 'The version this load made (the current one now)' }),
    templates: Type.Array(Type.String(), { description: 'The template ids of the file, in its order' }),
  }),
})
const TemplatesInvalid = Type.Object({ message: Type.String(), code: Type.String(), errors: Type.Optional(Type.Array(Type.String(), { description: 'With code invalid_templates: every problem, `path: problem`' })) })
const TemplatesCurrent = Type.Object({
  data: Type.Object({
    version: Type.Integer({ description: '0 when nothing was loaded' }),
    format: Type.Union([Type.Literal('yaml'), Type.Literal('json'), Type.Null()]),
    source: Type.Union([Type.String(), Type.Null()]),
    loaded_at: Type.Union([DateTime('When this version was loaded'), Type.Null()]),
    templates: Type.Array(Type.Object({
      id: Type.String(),
      description: Type.Union([Type.String(), Type.Null()]),
      parts: Type.Array(Type.String(), { description: 'push, sms, email, in-app: the parts the template has' }),
      languages: Type.Array(Type.String(), { description: 'The language variants' }),
      data_schema: Type.Boolean({ description: 'Whether template data is checked against a data-schema' }),
    })),
  }),
})

/** The tenant's message templates: `PUT` loads a template file (YAML or JSON) as the new version, `GET` shows the current one. */
export async function templatesRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { templates } = services
  acceptYamlSetupFiles(app)

  app.put('/templates', {
    schema: {
      tags, summary: 'Load the tenant’s message templates (a new version)',
      description: 'Body: a template file, YAML (`Content-Type: application/yaml`) or JSON, valid against `/schemas/templates.json`. Every text is '
        + 'compiled as Liquid at load. It becomes the current version, replacing every template of the previous one. 400 lists every problem as '
        + '`path: problem` (up to 50); nothing changes then.',
      security, response: { 200: TemplatesLoaded, 400: TemplatesInvalid, 401: Message, 413: Message, 415: Message },
    },
  }, async (req) => {
    const { source, format } = setupFileOf(req, () => {
      throw new ValidationError('invalid_templates', EMPTY, { errors: [EMPTY] })
    })
    const loaded = await templates.load(tenantOf(req), source, format)
    return { data: { version: loaded.version, templates: [...loaded.templates] } }
  })

  app.get('/templates', {
    schema: { tags, summary: 'The tenant’s current template file and its templates', security, response: { 200: TemplatesCurrent, 401: Message } },
  }, async (req) => {
    const current = await templates.currentSource(tenantOf(req))
    return {
      data: {
        version: current?.version ?? 0, format: current?.format ?? null, source: current?.source ?? null, loaded_at: current?.loadedAt.toISOString() ?? null,
        templates: (current?.templates ?? []).map((t) => ({ id: t.id, description: t.description, parts: [...t.parts], languages: [...t.languages], data_schema: t.hasDataSchema })),
      },
    }
  })
}
