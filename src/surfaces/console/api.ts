import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { canManageUsers, SESSION_MS, type ConsoleSession, type ConsoleUser } from '../../core/console/index.ts'
import { AppError, AuthError, ForbiddenError, NotFoundError } from '../../core/errors.ts'
import type { Suppression } from '../../core/suppression/index.ts'
import { requireJson } from '../../http/params.ts'
import type { Services } from '../../services.ts'
import { CreatedUser, CreateUserBody, Message, PeopleQuery, PersonDetail, PersonId, PersonSummary as PersonSummarySchema, Session, SignInBody, Timeline, TimelineQuery, User } from './schemas.ts'

/** The session cookie: HTTP-only, `SameSite=Strict`, only sent to /console. */
export const SESSION_COOKIE = 'sb_console'
const security = [{ consoleCookie: [] }]
const tags = ['console']
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session of a console API request (set by the cookie hook), and its token. */
    consoleSession: { session: ConsoleSession; token: string } | null
  }
}

/** One cookie's value from the `Cookie` header. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

const presentUser = (u: ConsoleUser) => ({ id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.createdAt.toISOString() })
const presentSession = (s: ConsoleSession, csrfToken: string) => ({
  user: presentUser(s.user), organization: { id: s.user.tenantId, name: s.tenantName }, csrf_token: csrfToken, expires_at: s.expiresAt.toISOString(),
})
const presentPerson = (p: { id: string; firstName: string | null; lastName: string | null; phone: string | null; email: string | null; externalId: string | null; createdAt: Date }) => ({
  id: p.id, first_name: p.firstName, last_name: p.lastName, phone: p.phone, email: p.email, external_id: p.externalId, created_at: p.createdAt.toISOString(),
})

/**
 * A request from another site: its `Origin` (sent by browsers with every POST, and with
 * cross-origin GETs) is neither the `Host` it was sent to nor the public URL's host (behind a proxy
 * that rewrites `Host`). A request without `Origin` (curl, the CLI) passes: CSRF needs a browser,
 * and a browser sends it.
 */
function crossOrigin(req: FastifyRequest, publicHost: string): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    const from = new URL(origin).host
    return from !== req.headers.host && from !== publicHost
  } catch {
    return true
  }
}

/**
 * The console API (`/console/api`): only what no other surface offers a person at a browser —
 * sign-in with a cookie session, the console's users, the directory search and a person's one
 * timeline. Errors are `{"message", "code"}`.
 *
 * CSRF: the session cookie is `SameSite=Strict` and HTTP-only; every POST, PUT, PATCH and DELETE
 * of a signed-in session must carry `X-CSRF-Token` (an HMAC of the session token, answered by
 * sign-in and `GET /session`), and any request whose `Origin` is another site is refused. Sign-in
 * itself takes only `application/json` (a cross-site form cannot send it) from no other origin.
 */
export async function consoleApi(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { console: consoleUsers } = services
  const secure = services.config.publicUrl.startsWith('https:')
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`
  fastify.decorateRequest('consoleSession', null)
  const publicHost = new URL(services.config.publicUrl).host
  fastify.addHook('onRequest', async (req) => {
    if (crossOrigin(req, publicHost)) throw new ForbiddenError('console_csrf_failed', 'a request from another site')
  })
  fastify.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store')
    return payload
  })

  app.post('/session', {
    schema: { tags, summary: 'Sign in', description: 'Email and password of a console user. Sets the session cookie (HTTP-only, SameSite=Strict, 12 hours) and answers the session with its CSRF token. Five failures within 15 minutes for one email, or twenty from one address, lock it out (429) until the oldest is 15 minutes old.', body: SignInBody, response: { 200: Session, 400: Message, 401: Message, 403: Message, 415: Message, 429: Message } },
    preValidation: requireJson,
  }, async (req, reply) => {
    const { token, csrfToken, session } = await consoleUsers.signIn({ email: req.body.email, password: req.body.password, organization: req.body.organization, address: req.ip })
    reply.header('set-cookie', cookie(token, SESSION_MS / 1000))
    return presentSession(session, csrfToken)
  })

  await app.register(async (authed) => {
    authed.addHook('onRequest', async (req) => {
      const token = readCookie(req, SESSION_COOKIE)
      if (!token) throw new AuthError('missing_credentials', 'not signed in')
      const session = await consoleUsers.authenticate(token)
      if (UNSAFE.has(req.method) && !consoleUsers.csrfMatches(token, req.headers['x-csrf-token'] as string | undefined)) {
        throw new ForbiddenError('console_csrf_failed', 'missing or wrong X-CSRF-Token')
      }
      req.consoleSession = { session, token }
      req.log = req.log.child({ tenantId: session.user.tenantId, consoleUserId: session.user.id })
    })
    const a = authed.withTypeProvider<TypeBoxTypeProvider>()
    const sessionOf = (req: FastifyRequest) => {
      if (!req.consoleSession) throw new Error('console API route read the session before authenticating it')
      return req.consoleSession
    }
    const tenantOf = (req: FastifyRequest) => ({ id: sessionOf(req).session.user.tenantId })

    a.get('/session', {
      schema: { tags, summary: 'The signed-in session', description: 'The user, the organisation and the CSRF token (for a page that was reloaded).', security, response: { 200: Session, 401: Message } },
    }, async (req) => {
      const { session, token } = sessionOf(req)
      return presentSession(session, consoleUsers.csrfToken(token))
    })

    a.delete('/session', {
      schema: { tags, summary: 'Sign out', description: 'Ends this session and clears the cookie. Needs `X-CSRF-Token`.', security, response: { 204: { type: 'null' }, 401: Message, 403: Message } },
    }, async (req, reply: FastifyReply) => {
      await consoleUsers.signOut(sessionOf(req).token)
      reply.header('set-cookie', cookie('', 0))
      return reply.code(204).send(null)
    })

    a.get('/users', {
      schema: { tags, summary: 'The organisation’s console users', description: 'Owners and admins only.', security, response: { 200: { type: 'object', properties: { users: { type: 'array', items: User } }, required: ['users'] }, 401: Message, 403: Message } },
    }, async (req) => {
      const { user } = sessionOf(req).session
      if (!canManageUsers(user.role)) throw new ForbiddenError('forbidden', 'only owners and admins see the console users')
      return { users: (await consoleUsers.listUsers(user.tenantId)).map(presentUser) }
    })

    a.post('/users', {
      schema: { tags, summary: 'Create a console user', description: 'Owners create users of any role; admins any but owner. Without `password` one is generated and answered once. Needs `X-CSRF-Token`.', security, body: CreateUserBody, response: { 201: CreatedUser, 400: Message, 401: Message, 403: Message, 409: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req, reply) => {
      const { user: by } = sessionOf(req).session
      const { user, password } = await consoleUsers.createUser(by.tenantId, { email: req.body.email, role: req.body.role, name: req.body.name, password: req.body.password }, by)
      return reply.code(201).send({ user: presentUser(user), password })
    })

    a.get('/people', {
      schema: { tags, summary: 'Search people', description: 'The organisation’s people by part of a name, email or external id, by phone digits (at least 4), or by a surface id.', security, querystring: PeopleQuery, response: { 200: { type: 'object', properties: { people: { type: 'array', items: PersonSummarySchema } }, required: ['people'] }, 400: Message, 401: Message } },
    }, async (req) => {
      const people = await services.peopleSearch.search(tenantOf(req).id, req.query.q ?? '', { limit: req.query.limit ?? 25 })
      return { people: people.map(presentPerson) }
    })

    const personOf = async (req: FastifyRequest, id: string) => {
      const person = await services.peopleSearch.find(tenantOf(req).id, id)
      if (!person) throw new NotFoundError('person_not_found', 'no such person', { personId: id })
      return person
    }

    a.get('/people/:id', {
      schema: { tags, summary: 'A person', description: 'Who they are, their ids per surface, and the suppression entries of their phone and email (with what put each there).', security, params: PersonId, response: { 200: PersonDetail, 401: Message, 404: Message } },
    }, async (req) => {
      const tenant = tenantOf(req)
      const person = await personOf(req, req.params.id)
      const identities = await services.peopleSearch.identities(tenant.id, person.id)
      const suppressions: Suppression[] = []
      for (const address of [person.phone, person.email]) {
        if (!address) continue
        try {
          suppressions.push(...await services.suppression.list(tenant, { address }))
        } catch (err) {
          // An address the suppression list cannot hold has no entries.
          if (!(err instanceof AppError)) throw err
        }
      }
      return {
        ...presentPerson(person),
        identities: identities.map((i) => ({ surface: i.surface, public_id: i.publicId, legacy_id: i.legacyId, created_at: i.createdAt.toISOString() })),
        suppressions: suppressions.map((s) => ({ scope: s.scope, address: s.address, reason: s.reason, source: s.source, created_at: s.createdAt.toISOString() })),
      }
    })

    a.get('/people/:id/timeline', {
      schema: { tags, summary: 'A person’s one timeline', description: 'Everything in and out across surfaces — bot transcript, messages sent and received on every channel, care-team channel messages — newest first (the newest `limit`).', security, params: PersonId, querystring: TimelineQuery, response: { 200: Timeline, 400: Message, 401: Message, 404: Message } },
    }, async (req) => {
      const tenant = tenantOf(req)
      const person = await personOf(req, req.params.id)
      const entries = await services.bot.transcript(tenant, person.id, { limit: req.query.limit ?? 200 })
      return {
        events: entries.reverse().map((e) => ({ id: e.id, direction: e.direction, channel: e.channel, text: e.text, thread_name: e.threadName, created_at: e.createdAt.toISOString() })),
      }
    })
  })
}
