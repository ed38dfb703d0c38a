import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { toFlag, type CustomerFlags } from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentCustomerFlag } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const CustomerFlag = Type.Object({
  verified_customer: Type.Boolean({ description: 'The chat’s `verified`' }), bad_actor: Type.Boolean(),
  repeat_customer: Type.Boolean(), repeat_customers: Type.Boolean({ description: 'The same as `repeat_customer` (the documented request spelling)' }),
}, { description: 'CustomerFlag (§3.13)' })
const flag = (description: string) => Type.Optional(Type.Unknown({ description }))
const FlagBody = Type.Object({
  verified_customer: flag('true/false'), bad_actor: flag('true/false'),
  repeat_customer: flag('true/false'), repeat_customers: flag('true/false; `repeat_customer` wins when both are sent'),
}, { additionalProperties: true })
const CustomDataBody = Type.Object({
  signed: Type.Optional(Type.Unknown({ description: 'true: `signed_data` is an HS256 JWT signed with the company secret; false: `data`' })),
  data: Type.Optional(Type.Unknown({ description: '{<key>: {"label": str, "value": any}} (unsigned)' })),
  signed_data: Type.Optional(Type.Unknown({ description: 'JWT with `custom_data` (and `exp`, `iat`) (signed)' })),
}, { additionalProperties: true })
const MAX_TOKEN = 64 * 1024

const chatNum = (raw: string): number => toId(raw) ?? (() => { throw new CcaiError(404, 'Not Found') })()
const empty = (v: unknown) => v === undefined || v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0)

/** The flags a C7-style body sets: each key optional, a boolean (or "true"/"false"), else `<key> must be a boolean`. */
function flagPatch(body: Static<typeof FlagBody>): Partial<CustomerFlags> {
  const read = (key: keyof Static<typeof FlagBody>): boolean | undefined => {
    const v = body[key]
    if (v === undefined) return undefined
    const b = toFlag(v)
    if (b === undefined) throw new CcaiError(400, `${key} must be a boolean`)
    return b
  }
  const verified = read('verified_customer')
  const badActor = read('bad_actor')
  const repeatCustomers = read('repeat_customers')
  const repeatCustomer = read('repeat_customer') ?? repeatCustomers
  return { ...(verified !== undefined ? { verified } : {}), ...(badActor !== undefined ? { badActor } : {}), ...(repeatCustomer !== undefined ? { repeatCustomer } : {}) }
}

/**
 * Customer flags (§2.8 H14–H16, with the POST alias of §2.16) and custom data (H17, §3.13) of chats,
 * and the same for calls (C6–C8, CD1): one handler per operation, parameterised by comm type.
 */
export async function chatProfileRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { chatProfile } = services

  for (const [comm, channel, noun] of [['chats', 'chat', 'chat'], ['calls', 'call', 'call']] as const) {
    const tags = [comm]
    const Id = Type.Object({ id: Type.String({ description: `${noun === 'chat' ? 'Chat' : 'Call'} id` }) })

    app.get(`/${comm}/:id/customer_flag`, {
      schema: { tags, summary: `The customer flags of a ${noun}`, params: Id, response: { 200: CustomerFlag, 400: Message, ...COMMON_ERRORS } },
    }, async (req) => presentCustomerFlag(await chatProfile.flags(tenantOf(req).id, chatNum(req.params.id), channel)))

    const setFlags = async (req: FastifyRequest<{ Params: Static<typeof Id>; Body: Static<typeof FlagBody> }>) => {
      const num = chatNum(req.params.id)
      return presentCustomerFlag(await chatProfile.setFlags(tenantOf(req).id, num, flagPatch(req.body ?? {}), channel))
    }
    for (const method of ['put', 'patch', 'post'] as const) {
      app[method](`/${comm}/:id/customer_flag`, {
        schema: {
          tags, summary: method === 'post' ? 'Set customer flags (alias of PATCH)' : 'Set customer flags',
          description: 'Keys left out are unchanged; each is shown to the agent. 400 "<key> must be a boolean".',
          params: Id, body: FlagBody, response: { 200: CustomerFlag, 400: Message, ...COMMON_ERRORS },
        },
      }, setFlags)
    }

    app.post(`/${comm}/:id/custom_data`, {
      schema: {
        tags, summary: `Send custom data to the ${noun}`,
        description: `Unsigned \`{"signed": false, "data": {…}}\` or signed \`{"signed": true, "signed_data": "<HS256 JWT>"}\` (company secret; \`exp\` checked). \`reserved_verified_customer\`, \`reserved_bad_actor\`, \`reserved_repeat_customer\` set the customer flags; other keys merge by key into the ${noun}’s \`custom_data\`, shown to the agent.`,
        params: Id, body: CustomDataBody, response: { 200: Message, 400: Message, ...COMMON_ERRORS },
      },
    }, async (req) => {
      const num = chatNum(req.params.id)
      const body = req.body ?? {}
      if (empty(body.signed)) throw paramMissing('signed')
      const signed = toFlag(body.signed)
      if (signed === undefined) throw new CcaiError(400, 'signed must be a boolean')
      if (signed) {
        if (empty(body.signed_data)) throw paramMissing('signed_data')
        if (typeof body.signed_data !== 'string' || body.signed_data.length > MAX_TOKEN) throw new CcaiError(400, 'Invalid signed_data')
        await chatProfile.addCustomData(tenantOf(req).id, num, { signed: true, token: body.signed_data.trim() }, channel)
      } else {
        if (empty(body.data)) throw paramMissing('data')
        await chatProfile.addCustomData(tenantOf(req).id, num, { signed: false, data: body.data }, channel)
      }
      return { message: 'success' }
    })
  }
}
