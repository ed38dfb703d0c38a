import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ForbiddenError } from '../../../core/errors.ts'
import { htmlPageHeaders } from '../../../http/security-headers.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { csrfMatches, csrfToken } from '../auth.ts'
import { PAGE_STYLES, renderSandboxPage } from '../page.ts'
import { PageQuery, ReplyForm, SendForm } from '../schemas.ts'
import { Type } from 'typebox'
import { actAsPerson, presentPhoneCall, type PhoneAction } from './calls.ts'

const CallParams = Type.Object({ id: Type.String({ pattern: '^\\d{1,9}$' }), action: Type.Enum(['pick-up', 'decline', 'hang-up', 'voicemail', 'press']) })
const CallForm = Type.Object({ csrf: Type.String({ maxLength: 200 }), digits: Type.Optional(Type.String({ pattern: '^[0-9*#]{1,20}$' })) }, { additionalProperties: false })

/** The sandbox page and its two forms (untagged: not part of the OpenAPI document). */
export async function sandboxPageRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { delivery, config, calls } = services
  const html = { sandboxHtml: true }

  function checkForm(req: FastifyRequest, token: string) {
    if (!csrfMatches(config.secretKey, tenantOf(req), token)) throw new ForbiddenError('bad_form_token', 'This form is stale or came from another site; reload the sandbox page and try again')
  }

  // Post/redirect/get: reloading the page after a post does not post again.
  const backToPage = (reply: FastifyReply) => reply.code(303).header('location', '/sandbox').send()

  app.get('/', { schema: { querystring: PageQuery }, config: html }, async (req, reply) => {
    const tenant = tenantOf(req)
    const channel = req.query.channel
    const [outbox, inbound, recentCalls] = await Promise.all([
      delivery.listOutbox(tenant, { limit: 100, channel }),
      delivery.listInbound(tenant, { limit: 50, channel }),
      calls.recent(tenant.id, 20),
    ])
    const phoneCalls = await Promise.all(recentCalls.map((c) => presentPhoneCall(calls, c)))
    const page = renderSandboxPage({ tenantName: tenant.name, csrf: csrfToken(config.secretKey, tenant), outbox, inbound, channel, calls: phoneCalls })
    return reply.type('text/html; charset=utf-8').headers(htmlPageHeaders({ styles: PAGE_STYLES })).header('cache-control', 'no-store').send(page)
  })

  app.post('/send', { schema: { body: SendForm }, config: html }, async (req, reply) => {
    checkForm(req, req.body.csrf)
    const b = req.body
    await delivery.send(tenantOf(req), { channel: b.channel, to: b.to, body: b.body, subject: b.subject })
    return backToPage(reply)
  })

  // The person's phone: the same actions as the JSON API (`/api/calls/:id/...`), as forms.
  app.post('/calls/:id/:action', { schema: { params: CallParams, body: CallForm }, config: html }, async (req, reply) => {
    checkForm(req, req.body.csrf)
    await actAsPerson(calls, tenantOf(req).id, Number(req.params.id), req.params.action as PhoneAction, req.body.digits)
    return backToPage(reply)
  })

  app.post('/reply', { schema: { body: ReplyForm }, config: html }, async (req, reply) => {
    checkForm(req, req.body.csrf)
    const b = req.body
    await delivery.receive(tenantOf(req), { channel: b.channel, from: b.from, body: b.body, provider: 'sandbox' })
    return backToPage(reply)
  })
}
