import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Services } from '../../../services.ts'
import { DEFAULT_AVATAR, DEFAULT_COLOR, DEFAULT_NAME, pageHeaders, parseFlag, renderChatPage, safeAvatar } from '../page.ts'
import { RateLimiter } from '../../../http/rate-limit.ts'
import { CompanyParams, PageQuery } from '../schemas.ts'
import { ValidationError } from '../../../core/errors.ts'

const WEB_DIR = new URL('../../../../web/embed/', import.meta.url)

interface Asset { body: Buffer; type: string; etag: string }

/** The page's static files (plain JS and CSS, no build step), read once at start. */
function loadAssets(): Map<string, Asset> {
  const types: Record<string, string> = {
    'chat.js': 'text/javascript; charset=utf-8',
    'chat.css': 'text/css; charset=utf-8',
    'popup.js': 'text/javascript; charset=utf-8',
    'avatar.svg': 'image/svg+xml',
  }
  const assets = new Map<string, Asset>()
  for (const [file, type] of Object.entries(types)) {
    const body = readFileSync(new URL(file, WEB_DIR))
    assets.set(file, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` })
  }
  return assets
}

const empty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

/** The chat page (`/embed/1/{company}`), the popup script and the page's assets. */
export async function embedPageRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const assets = loadAssets()
  const version = createHash('sha256').update(assets.get('chat.js')!.etag + assets.get('chat.css')!.etag).digest('hex').slice(0, 10)
  const pages = new RateLimiter(120, 60_000)

  const serveAsset = (name: string) => async (req: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const asset = assets.get(name)!
    reply.header('etag', asset.etag).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff')
    // popup.js runs on other sites' pages.
    reply.header('cross-origin-resource-policy', 'cross-origin')
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send()
    return reply.type(asset.type).send(asset.body)
  }
  app.get('/popup.js', serveAsset('popup.js'))
  for (const name of ['chat.js', 'chat.css', 'avatar.svg']) app.get(`/assets/${name}`, serveAsset(name))

  app.get('/1/:company', {
    schema: {
      tags: ['embed'], summary: 'The web chat page',
      description: 'The chat page to link to or embed in an iframe (Cass "Web embed and popup"). A wrong company or auth_code, or a personId the tenant does not have, answers a friendly 404 page; a bad parameter a 400 page.',
      params: CompanyParams, querystring: PageQuery,
    },
    config: { embedHtml: true },
  }, async (req, reply) => {
    pages.take(req.ip)
    const q = req.query
    const tenant = await services.webchat.resolveEmbed(req.params.company, q.auth_code)
    let avatar = DEFAULT_AVATAR
    if (empty(q.avatar) !== undefined) {
      const safe = safeAvatar(q.avatar!.trim())
      if (!safe) throw new ValidationError('invalid_avatar', 'The avatar parameter must be an http or https address of an image.')
      avatar = safe
    }
    const personId = empty(q.personId) ?? null
    const threadId = empty(q.threadId) ?? null
    await services.webchat.checkEmbed(tenant, { personRef: personId ?? undefined, threadName: threadId ?? undefined })
    const page = renderChatPage({
      company: req.params.company, authCode: q.auth_code, name: empty(q.name) ?? DEFAULT_NAME, color: empty(q.color) ?? DEFAULT_COLOR, avatar,
      intro: q.intro?.trim() ?? '', threadId, personId,
      rounded: parseFlag(q.is_rounded, true), showHeader: parseFlag(q.show_header, true), popup: parseFlag(q.popup, false),
    }, version)
    return reply.headers(pageHeaders()).send(page)
  })
}
