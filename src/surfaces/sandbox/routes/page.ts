import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError } from '../../../core/errors.ts'
import type { Services } from '../../../services.ts'
import { csrfMatches, csrfToken } from '../auth.ts'
import { renderSandboxPage } from '../page.ts'
import { PageQuery, ReplyForm, SendForm } from '../schemas.ts'

/** The sandbox page and its two forms (untagged: not part of the OpenAPI document). */
export async function sandboxPageRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { delivery, config } = services
  const html = { sandboxHtml: true }

  function checkForm(req: FastifyRequest, token: string) {
    if (!csrfMatches(config.secretKey, req.tenant!, token)) throw new AppError('bad_form_token', 'This form is stale or came from another site; reload the sandbox page and try again')
  }

  // Post/redirect/get: reloading the page after a post does not post again.
  const backToPage = (reply: FastifyReply) => reply.code(303).header('location', '/sandbox').send()

  app.get('/', { schema: { querystring: PageQuery }, config: html }, async (req, reply) => {
    const tenant = req.tenant!
    const channel = req.query.channel
    const [outbox, inbound] = await Promise.all([
      delivery.listOutbox(tenant, { limit: 100, channel }),
      delivery.listInbound(tenant, { limit: 50, channel }),
    ])
    const page = renderSandboxPage({ tenantName: tenant.name, csrf: csrfToken(config.secretKey, tenant), outbox, inbound, channel })
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page)
  })

  app.post('/send', { schema: { body: SendForm }, config: html }, async (req, reply) => {
    checkForm(req, req.body.csrf)
    const b = req.body
    await delivery.send(req.tenant!, { channel: b.channel, to: b.to, body: b.body, subject: b.subject })
    return backToPage(reply)
  })

  app.post('/reply', { schema: { body: ReplyForm }, config: html }, async (req, reply) => {
    checkForm(req, req.body.csrf)
    const b = req.body
    await delivery.receive(req.tenant!, { channel: b.channel, from: b.from, body: b.body, provider: 'sandbox' })
    return backToPage(reply)
  })
}
