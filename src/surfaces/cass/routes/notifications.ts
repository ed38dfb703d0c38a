import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ValidationError } from '../../../core/errors.ts'
import type { Tenant } from '../../../core/tenants/index.ts'
import type { Services } from '../../../services.ts'
import { SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { presentNotification } from '../presenters.ts'
import { CredentialsOnly, Message, NotificationsQuery, NotificationsResponse, PersonIdParams } from '../schemas.ts'

const errors = { 400: Message, 401: Message, 404: Message }
const security = SECURITY.cass
const DESCRIPTION = 'Returns the person’s queued notifications and deletes them, atomically (two calls at once never both get one). ' +
  'Queued: every check-in and autoping still pending (it will then not fire), and those that fired for a `web` person and wait for the client app. ' +
  '`schedule` is the due time in UTC, Python style. 400 when none is queued.'

/** The Notification API: `GET /notifications?person_id=` and `GET /notifications/{person_id}`. */
export async function notificationRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { people, scheduling } = services

  async function take(tenant: Tenant, ref: string) {
    if (ref.trim() === '') throw new ValidationError('person_id_required', 'person_id is required')
    const person = await people.getByRef(tenant, ref)
    const taken = await scheduling.takeQueued(tenant, person.id)
    if (taken.length === 0) throw new ValidationError('no_notifications', `no notification queued for ${ref}`, { personId: ref })
    return { data: taken.map(presentNotification) }
  }

  app.get('/notifications', {
    schema: {
      tags: ['bot'], summary: 'Fetch (and delete) a person’s queued notifications', description: DESCRIPTION,
      querystring: NotificationsQuery, security, response: { 200: NotificationsResponse, ...errors },
    },
    config: { cassErrors: 'notifications' },
  }, async (req, reply) => reply.send(await take(tenantOf(req), req.query.person_id === undefined ? '' : String(req.query.person_id))))

  app.get('/notifications/:person_id', {
    schema: {
      tags: ['bot'], summary: 'Fetch (and delete) a person’s queued notifications', description: DESCRIPTION,
      params: PersonIdParams, querystring: CredentialsOnly, security, response: { 200: NotificationsResponse, ...errors },
    },
    config: { cassErrors: 'notifications' },
  }, async (req, reply) => reply.send(await take(tenantOf(req), req.params.person_id)))
}
