import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ValidationError } from '../../../core/errors.ts'
import type { CreatePersonInput, UpdatePersonInput } from '../../../core/people/index.ts'
import type { Services } from '../../../services.ts'
import { flag, mergedParams, SECURITY, withoutBody } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { presentCreated, presentPerson } from '../presenters.ts'
import {
  CreatePersonParams, CreatePersonResponse, CredentialsOnly, GetNewIdQuery, Message, NewIdResponse, OptionalBody, PersonIdParams,
  PersonResponse, UpdatePersonBody, UpdatePersonResponse,
} from '../schemas.ts'

type Params = Record<string, string | undefined>

function fieldsOf(p: Params): UpdatePersonInput {
  return {
    firstName: p.first_name, lastName: p.last_name, externalId: p.external_id,
    externalUsername: p.external_username, externalOrg: p.external_org,
    externalData1: p.external_data_1, externalData2: p.external_data_2, externalData3: p.external_data_3,
    phone: p.phone, timezone: p.timezone, languageType: p.language_type,
  }
}

function createInput(p: Params): CreatePersonInput {
  return { ...fieldsOf(p), protocol: p.protocol }
}

const errors = { 400: Message, 401: Message, 404: Message }
const security = SECURITY.cass

/** The person directory of the Cass surface: add_external_person, external_person, get_new_id. */
export async function peopleRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { people, registration } = services

  /** Shared by the legacy and current create endpoints. */
  async function createOrFind(req: FastifyRequest, legacy: boolean) {
    const p = mergedParams<Params>(req)
    const { person, created } = await registration.register(tenantOf(req), { ...createInput(p), initialThreadName: p.initial_thread_name, ping: flag(p.ping) })
    const uuid = legacy ? flag(p.new_id ?? p.New_id) : true
    return { status: (created ? 200 : 409) as 200 | 409, body: presentCreated(person, created, { uuid, legacyTexts: legacy }) }
  }

  const addSchema = {
    tags: ['people'], summary: 'Add an external person (deprecated; use /external_person)', deprecated: true,
    description: 'Creates a person, or answers 409 with the existing person that has this phone or external_id. `person_id` is the legacy integer id unless `new_id=1`.',
    querystring: CreatePersonParams, body: OptionalBody(CreatePersonParams), security,
    response: { 200: CreatePersonResponse, 409: CreatePersonResponse, ...errors },
  }
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method, url: '/add_external_person', schema: method === 'GET' ? withoutBody(addSchema) : addSchema, config: { cassErrors: 'add' },
      handler: async (req, reply) => {
        const { status, body } = await createOrFind(req, true)
        return reply.code(status).send(body)
      },
    })
  }

  app.post('/external_person', {
    schema: {
      tags: ['people'], summary: 'Create a person (or find the existing one)',
      querystring: CreatePersonParams, body: OptionalBody(CreatePersonParams), security,
      response: { 200: CreatePersonResponse, 409: CreatePersonResponse, ...errors },
    },
    config: { cassErrors: 'create' },
  }, async (req, reply) => {
    const { status, body } = await createOrFind(req, false)
    return reply.code(status).send(body)
  })

  // GET /external_person creates from query parameters, except that a query naming only
  // `external_id` looks that person up: such a query could never be a valid create (the default
  // protocol, sms, requires a phone), so the two readings never collide.
  app.get('/external_person', {
    schema: {
      tags: ['people'], summary: 'Create a person from query parameters, or look one up by ?external_id=',
      querystring: CreatePersonParams, security,
      response: { 200: Type.Union([PersonResponse, CreatePersonResponse]), 409: CreatePersonResponse, ...errors },
    },
    config: { cassErrors: 'create' },
  }, async (req, reply) => {
    const keys = Object.keys(req.query).filter((k) => k !== 'client' && k !== 'auth')
    if (keys.length === 1 && keys[0] === 'external_id' && req.query.external_id) {
      const person = await people.getByExternalId(tenantOf(req), req.query.external_id)
      return reply.send(presentPerson(person))
    }
    const { status, body } = await createOrFind(req, false)
    return reply.code(status).send(body)
  })

  app.get('/external_person/:person_id', {
    schema: {
      tags: ['people'], summary: 'Get a person by UUID or legacy integer id',
      params: PersonIdParams, querystring: CredentialsOnly,
      security, response: { 200: PersonResponse, ...errors },
    },
  }, async (req, reply) => reply.send(presentPerson(await people.getByRef(tenantOf(req), req.params.person_id))))

  const patchSchema = {
    tags: ['people'], summary: 'Update a person', description: 'Only person_id is mandatory. external_id can be set once and never changed.',
    querystring: UpdatePersonBody, body: OptionalBody(UpdatePersonBody), security,
    response: { 200: UpdatePersonResponse, 409: Message, ...errors },
  }
  async function patch(req: FastifyRequest, pathId: string | undefined) {
    const p = mergedParams<Params>(req)
    const ref = pathId ?? p.person_id
    if (ref === undefined || ref === '') throw new ValidationError('person_id_required', 'person_id is required')
    const person = await people.update(tenantOf(req), ref, fieldsOf(p))
    // Echo the id in the form the caller used (legacy integer or UUID), as the docs' body shows.
    return { data: { person_id: /^\d+$/.test(ref.trim()) ? person.legacyId : person.cassId } }
  }
  app.patch('/external_person/:person_id', { schema: { ...patchSchema, params: PersonIdParams } },
    async (req, reply) => reply.send(await patch(req, req.params.person_id)))
  app.patch('/external_person', { schema: patchSchema }, async (req, reply) => reply.send(await patch(req, undefined)))

  app.get('/get_new_id', {
    schema: {
      tags: ['people'], summary: 'Map a legacy integer person id to its UUID',
      querystring: GetNewIdQuery, security, response: { 200: NewIdResponse, ...errors },
    },
  }, async (req, reply) => {
    const ref = req.query.person_id
    if (ref === undefined || ref === '') throw new ValidationError('person_id_required', 'person_id is required')
    const person = await people.getByRef(tenantOf(req), ref)
    return reply.send({ old_id: person.legacyId, new_id: person.cassId })
  })
}
