import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ValidationError } from '../../../core/errors.ts'
import { SECURITY } from '../../../http/params.ts'
import { acceptYamlSetupFiles, setupFileOf } from '../../../http/setup-file.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { ContactCenterCurrent, ContactCenterInvalid, ContactCenterLoaded, Message } from '../schemas.ts'

const security = SECURITY.basic
const tags = ['contact center']
const EMPTY = '(document): the setup file is empty'

/** The tenant's contact-center setup file: `PUT` loads one (YAML or JSON), `GET` shows the current one. */
export async function contactCenterRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { ccSetup } = services
  acceptYamlSetupFiles(app)

  app.put('/contact-center', {
    schema: {
      tags, summary: 'Load the tenant’s contact-center setup',
      description: 'Body: a setup file, YAML (`Content-Type: application/yaml`) or JSON, valid against `/schemas/contact-center.json`. '
        + 'Loaded in place in one transaction: teams and statuses by name, agents by email, menus by path, numbers by number — the Apps API ids stay. '
        + 'Agents gone from the file are deactivated and signed out. 400 lists every problem as `path: problem`; nothing changes then.',
      security, response: { 200: ContactCenterLoaded, 400: ContactCenterInvalid, 401: Message, 413: Message, 415: Message },
    },
  }, async (req) => {
    const { source, format } = setupFileOf(req, () => {
      throw new ValidationError('invalid_contact_center', EMPTY, { errors: [EMPTY] })
    })
    const r = await ccSetup.load(tenantOf(req).id, source, format)
    return {
      data: {
        version: r.version, teams: r.teams, agents: r.agents, menus: r.menus, phone_numbers: r.phoneNumbers,
        deactivated_agents: r.deactivatedAgents, generated_passwords: r.generatedPasswords.map((g) => ({ email: g.email, password: g.password })),
      },
    }
  })

  app.get('/contact-center', {
    schema: { tags, summary: 'The tenant’s current contact-center setup file', security, response: { 200: ContactCenterCurrent, 401: Message } },
  }, async (req) => {
    const current = await ccSetup.currentSource(tenantOf(req).id)
    return { data: { version: current?.version ?? 0, format: current?.format ?? null, source: current?.source ?? null, loaded_at: current?.loadedAt.toISOString() ?? null } }
  })
}
