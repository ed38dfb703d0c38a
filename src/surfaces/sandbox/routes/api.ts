import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Services } from '../../../services.ts'
import { requireJson, SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { TenantId } from '../../../lib/tenant-id.ts'
import { presentInbound, presentOutbox, type PersonIds } from '../presenters.ts'
import { InboundBody, InboundList, InboundOne, ListQuery, Message, MessageIdParams, OutboxList, OutboxOne, SendBody } from '../schemas.ts'

const security = SECURITY.basic
const errors = { 400: Message, 401: Message }

/** The sandbox's JSON API: a tenant's outbox and inbound messages, test sends, answers as the person. */
export async function sandboxApiRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { delivery } = services
  /** The person API's ids of the people the messages name (one query for a page). */
  const personIds = async (tenantId: TenantId, messages: ReadonlyArray<{ personId: string | null }>): Promise<PersonIds> => {
    const ids = [...new Set(messages.flatMap((m) => (m.personId ? [m.personId] : [])))]
    if (ids.length === 0) return new Map()
    const people = await services.peopleLookups.findMany(services.store.db, tenantId, ids)
    return new Map([...people].map(([id, p]) => [id, p.cassId]))
  }

  app.get('/api/outbox', {
    schema: {
      tags: ['sandbox'], summary: 'List the outbox, newest first',
      description: 'Every outbound message of the tenant, on any channel, with its delivery status.',
      querystring: ListQuery, security, response: { 200: OutboxList, ...errors },
    },
  }, async (req) => {
    const messages = await delivery.listOutbox(tenantOf(req), { limit: req.query.limit, channel: req.query.channel })
    const ids = await personIds(tenantOf(req).id, messages)
    return { data: messages.map((m) => presentOutbox(m, ids)) }
  })

  app.get('/api/outbox/:id', {
    schema: {
      tags: ['sandbox'], summary: 'Get one outbox message',
      params: MessageIdParams, security, response: { 200: OutboxOne, 404: Message, ...errors },
    },
  }, async (req) => {
    const message = await delivery.getOutbox(tenantOf(req), req.params.id)
    return { data: presentOutbox(message, await personIds(tenantOf(req).id, [message])) }
  })

  app.post('/api/outbox', {
    schema: {
      tags: ['sandbox'], summary: 'Queue a test message',
      description: 'Queues a message exactly as the rest of Switchboard does: an outbox row and a delivery job. With the sandbox provider its status moves from `queued` to `sent`. A repeated `idempotency_key` answers 200 with the first message.',
      body: SendBody, security, response: { 201: OutboxOne, 200: OutboxOne, 404: Message, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req, reply) => {
    const b = req.body
    const { message, created } = await delivery.send(tenantOf(req), {
      channel: b.channel, to: b.to, body: b.body, subject: b.subject, from: b.from, idempotencyKey: b.idempotency_key,
    })
    return reply.code(created ? 201 : 200).send({ data: presentOutbox(message, await personIds(tenantOf(req).id, [message])) })
  })

  app.get('/api/inbound', {
    schema: {
      tags: ['sandbox'], summary: 'List received messages, newest first',
      querystring: ListQuery, security, response: { 200: InboundList, ...errors },
    },
  }, async (req) => {
    const messages = await delivery.listInbound(tenantOf(req), { limit: req.query.limit, channel: req.query.channel })
    const ids = await personIds(tenantOf(req).id, messages)
    return { data: messages.map((m) => presentInbound(m, ids)) }
  })

  app.post('/api/inbound', {
    schema: {
      tags: ['sandbox'], summary: 'Answer as the person',
      description: 'The message enters Switchboard as an inbound message of its channel, matched to the tenant’s person by phone (E.164) or e-mail address, and is handed to the inbound handlers.',
      body: InboundBody, security, response: { 201: InboundOne, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req, reply) => {
    const b = req.body
    const { message } = await delivery.receive(tenantOf(req), { channel: b.channel, from: b.from, to: b.to, body: b.body, provider: 'sandbox' })
    return reply.code(201).send({ data: presentInbound(message, await personIds(tenantOf(req).id, [message])) })
  })
}
