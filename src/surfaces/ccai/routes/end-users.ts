import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentEndUser } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['end users']
const EndUserOut = Type.Object({ id: Type.Integer(), identifier: Type.Union([Type.String(), Type.Null()]) }, { description: 'End user (§3.6)' })
// The identifier is a string; a number is taken as its digits (clients send ids either way, §1.3).
const Identifier = Type.Union([Type.String({ maxLength: 255 }), Type.Integer()])

/** The identifier as a string; a missing or empty one is Rails' missing-parameter error. */
function identifierOf(raw: string | number | undefined): string {
  const text = raw === undefined ? '' : String(raw).trim()
  if (text === '') throw paramMissing('identifier')
  return text
}

/** End users (§2.7): E1 create or update by identifier, E2 look one up. */
export async function endUserRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { endUsers } = services

  app.post('/end_users', {
    schema: {
      tags, summary: 'Create or update an end user',
      description: 'Keyed by the external `identifier`: created when new, else the given `name`, `email` and `phone` are updated (absent keys unchanged). `200` either way. The end user is a person of the directory: the one with the same phone when there is one.',
      body: Type.Object({
        identifier: Type.Optional(Identifier),
        name: Type.Optional(Type.String({ maxLength: 255 })),
        email: Type.Optional(Type.String({ maxLength: 254 })),
        phone: Type.Optional(Type.String({ maxLength: 40, description: 'Human formats accepted ("+1 415-555-0100"); stored in E.164' })),
      }, { additionalProperties: true }),
      response: { 200: EndUserOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const body = req.body ?? {}
    const identifier = identifierOf(body.identifier)
    const user = await endUsers.upsert(tenantOf(req).id, {
      identifier, ...(body.name !== undefined ? { name: body.name } : {}), ...(body.email !== undefined ? { email: body.email } : {}),
      ...(body.phone !== undefined ? { phone: body.phone } : {}),
    })
    return presentEndUser(user)
  })

  app.get('/end_users', {
    schema: {
      tags, summary: 'Look up an end user',
      description: 'By exactly one of `id` (the end user id) or `identifier` (the external id). 400 "id or identifier required" otherwise.',
      querystring: Type.Object({
        id: Type.Optional(Type.String({ description: 'End user id' })),
        identifier: Type.Optional(Type.String({ maxLength: 255, description: 'External identifier' })),
      }, { additionalProperties: true }),
      response: { 200: EndUserOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const { id, identifier } = req.query
    const hasId = id !== undefined && id !== ''
    const hasIdentifier = identifier !== undefined && identifier !== ''
    if (hasId === hasIdentifier) throw new CcaiError(400, 'id or identifier required')
    const tenantId = tenantOf(req).id
    if (hasId) {
      const num = toId(id)
      if (num === undefined) throw new CcaiError(404, 'Not Found')
      return presentEndUser(await endUsers.find(tenantId, { num }))
    }
    return presentEndUser(await endUsers.find(tenantId, { identifier: identifier! }))
  })
}
