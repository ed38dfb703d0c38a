import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { MAX_CONTACT_ID, MAX_CONTACT_NAME, MAX_SUBJECT, type StoredTicket } from '../../../core/crm/index.ts'
import { requireJson, SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { Message } from '../schemas.ts'

const security = SECURITY.basic
const tags = ['tickets']
const errors = { 400: Message, 401: Message }
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])
const DateTime = (description: string) => Type.String({ format: 'date-time', description })

const ContactBody = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_CONTACT_ID, description: 'The contact’s CRM id (an end user’s out_contact_id after C5); generated on create when left out' })),
  name: Type.Optional(Nullable(Type.String({ maxLength: MAX_CONTACT_NAME }))),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 40, description: 'The number calls with the ticket dial: + and country code; null: none (such a ticket answers "Contact not found")' }))),
  email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
}, { additionalProperties: false })
const CreateTicketBody = Type.Object({
  ticket_id: Type.String({ minLength: 1, maxLength: 100, description: "The id calls name (`ticket_id`): letters, digits, '.', '_', ':' and '-'" }),
  subject: Type.Optional(Nullable(Type.String({ maxLength: MAX_SUBJECT }))),
  contact: ContactBody,
}, { additionalProperties: false })
const UpdateTicketBody = Type.Object({
  subject: Type.Optional(Nullable(Type.String({ maxLength: MAX_SUBJECT }))),
  contact: Type.Optional(ContactBody),
}, { additionalProperties: false })
const TicketParams = Type.Object({ ticket_id: Type.String({ maxLength: 200 }) })
const TicketQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  after: Type.Optional(Type.String({ maxLength: 100, description: 'A ticket id: the page starts after it' })),
}, { additionalProperties: false })
const TicketItem = Type.Object({
  ticket_id: Type.String(),
  url: Type.String({ description: 'The ticket’s URL, as calls show it (`out_ticket_url`)' }),
  subject: Type.Union([Type.String(), Type.Null()]),
  contact: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), phone: Type.Union([Type.String(), Type.Null()]), email: Type.Union([Type.String(), Type.Null()]) }),
  source: Type.String({ description: '`admin` or `setup`: where the ticket was last written from' }),
  created_at: DateTime('Created'),
  updated_at: DateTime('Last change'),
})
const TicketOne = Type.Object({ data: TicketItem })
const TicketList = Type.Object({ data: Type.Array(TicketItem) })

/** A ticket on the admin API. */
export function presentTicket(t: StoredTicket) {
  return {
    ticket_id: t.id, url: t.url ?? '', subject: t.subject, contact: { id: t.contact.id, name: t.contact.name, phone: t.contact.phone, email: t.contact.email },
    source: t.source, created_at: t.createdAt.toISOString(), updated_at: t.updatedAt.toISOString(),
  }
}

/** CRM tickets of the built-in CRM adapter (`/admin/tickets`): list, create, read, change, delete. */
export async function ticketsRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { crmTickets } = services

  app.get('/tickets', {
    schema: { tags, summary: 'The tenant’s CRM tickets, by ticket id', querystring: TicketQuery, security, response: { 200: TicketList, ...errors } },
  }, async (req) => ({ data: (await crmTickets.list(tenantOf(req).id, { limit: req.query.limit ?? 100, after: req.query.after })).map(presentTicket) }))

  app.post('/tickets', {
    schema: {
      tags, summary: 'Create a CRM ticket',
      description: 'A ticket and its contact; calls with `ticket_id` dial the contact’s phone. 409 `ticket_exists` when the id is taken; 400 `ticket_invalid` naming the field.',
      body: CreateTicketBody, security, response: { 201: TicketOne, 409: Message, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req, reply) => {
    const b = req.body
    return reply.code(201).send({ data: presentTicket(await crmTickets.create(tenantOf(req).id, { ticketId: b.ticket_id, subject: b.subject, contact: b.contact })) })
  })

  app.get('/tickets/:ticket_id', {
    schema: { tags, summary: 'One CRM ticket (the ticket’s URL)', params: TicketParams, security, response: { 200: TicketOne, 404: Message, ...errors } },
  }, async (req) => ({ data: presentTicket(await crmTickets.get(tenantOf(req).id, req.params.ticket_id)) }))

  app.patch('/tickets/:ticket_id', {
    schema: {
      tags, summary: 'Change a CRM ticket', description: 'The given fields change; null clears one (`contact.id` cannot be cleared).',
      params: TicketParams, body: UpdateTicketBody, security, response: { 200: TicketOne, 404: Message, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req) => ({ data: presentTicket(await crmTickets.update(tenantOf(req).id, req.params.ticket_id, { subject: req.body.subject, contact: req.body.contact })) }))

  app.delete('/tickets/:ticket_id', {
    schema: { tags, summary: 'Delete a CRM ticket', description: 'Calls placed for it keep their out_ticket_id.', params: TicketParams, security, response: { 204: { type: 'null', description: 'No content' } as const, 404: Message, ...errors } },
  }, async (req, reply) => {
    await crmTickets.remove(tenantOf(req).id, req.params.ticket_id)
    return reply.code(204).send(null)
  })
}
