import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { canAct, canManageUsers, PERSON_ACTIONS, SESSION_MS, type ConsoleSession, type ConsoleUser } from '../../core/console/index.ts'
import { AppError, AuthError, ForbiddenError, NotFoundError } from '../../core/errors.ts'
import type { Suppression } from '../../core/suppression/index.ts'
import { requireJson } from '../../http/params.ts'
import type { Services } from '../../services.ts'
import { Type } from 'typebox'
import { supervisorApi } from './supervisor.ts'
import { AddSuppressionBody, ConsentBody, ConsentResult, CreatedUser, CreateUserBody, EditPersonBody, LiftSuppressionBody, Message, PeopleQuery, PingBody, PersonDetail, PersonId, PersonSummary as PersonSummarySchema, Session, SignInBody, SuppressionEntry, SuppressionResult, Timeline, TimelineQuery, User } from './schemas.ts'

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
  user: presentUser(s.user), organization: { id: s.user.tenantId, name: s.tenantName }, csrf_token: csrfToken, expires_at: s.expiresAt.toISOString(), agent_token: s.agentToken,
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
  // Open timeline streams, ended when the server closes (a hijacked reply is not closed for us).
  const streams = new Set<() => void>()
  fastify.addHook('onClose', async () => {
    for (const end of [...streams]) end()
  })
  const publicHost = new URL(services.config.publicUrl).host
  fastify.addHook('onRequest', async (req) => {
    if (crossOrigin(req, publicHost)) throw new ForbiddenError('console_csrf_failed', 'a request from another site')
  })
  fastify.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store')
    return payload
  })

  app.post('/session', {
    schema: { tags, summary: 'Sign in', description: 'Email and password of a console user, or of a contact-center agent (with `company`, or when no console user matches: role `agent`, and the session answers the agent API token). Sets the session cookie (HTTP-only, SameSite=Strict, 12 hours) and answers the session with its CSRF token. Five failures within 15 minutes for one email, or twenty from one address, lock it out (429) until the oldest is 15 minutes old.', body: SignInBody, response: { 200: Session, 400: Message, 401: Message, 403: Message, 415: Message, 429: Message } },
    preValidation: requireJson,
  }, async (req, reply) => {
    const { token, csrfToken, session } = await consoleUsers.signIn({ email: req.body.email, password: req.body.password, organization: req.body.organization, company: req.body.company, address: req.ip })
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

    const presentSuppression = (s: Suppression) => ({ scope: s.scope, address: s.address, reason: s.reason, source: s.source, created_at: s.createdAt.toISOString() })
    const detailOf = async (req: FastifyRequest, id: string) => {
      const { user } = sessionOf(req).session
      const tenant = tenantOf(req)
      const person = await personOf(req, id)
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
        suppressions: suppressions.map(presentSuppression),
        actions: PERSON_ACTIONS.filter((action) => canAct(user.role, action)),
      }
    }

    a.get('/people/:id', {
      schema: { tags, summary: 'A person', description: 'Who they are, their ids per surface, the suppression entries of their phone and email (with what put each there), and what the signed-in user may do to them.', security, params: PersonId, response: { 200: PersonDetail, 401: Message, 404: Message } },
    }, async (req) => detailOf(req, req.params.id))

    a.get('/people/:id/timeline', {
      schema: { tags, summary: 'A person’s one timeline', description: 'Everything in and out across surfaces — bot transcript, messages sent and received on every channel, care-team channel messages — and what console users did to the person, newest first: the newest `limit` (default 200), or those older than `before` (a `next_cursor`).', security, params: PersonId, querystring: TimelineQuery, response: { 200: Timeline, 400: Message, 401: Message, 404: Message } },
    }, async (req) => {
      const tenant = tenantOf(req)
      const person = await personOf(req, req.params.id)
      const page = await services.personActions.timeline(tenant.id, person.id, { limit: req.query.limit ?? 200, before: req.query.before })
      return {
        events: page.events.map((e) => ({ id: e.id, kind: e.kind, direction: e.direction, channel: e.channel, text: e.text, thread_name: e.threadName, actor: e.actor, created_at: e.createdAt.toISOString() })),
        next_cursor: page.next,
      }
    })

    a.get('/people/:id/timeline/stream', {
      schema: { tags, summary: 'Live timeline changes (Server-Sent Events)', description: '`text/event-stream`: a `changed` event (data `{}`) whenever the person’s timeline may have gained entries — read the newest page again. Announced through the database, so it works with any number of API processes; a `ready` event when listening starts.', security, params: PersonId, response: { 401: Message, 404: Message } },
    }, async (req, reply) => {
      const tenant = tenantOf(req)
      const person = await personOf(req, req.params.id)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': req.id })
      res.write('retry: 2000\n\n')
      let closed = false
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
      const watch = await services.personActions.watch(tenant.id, person.id, () => {
        if (!closed) res.write('event: changed\ndata: {}\n\n')
      })
      const end = () => {
        if (closed) return
        closed = true
        clearInterval(heartbeat)
        watch.close()
        streams.delete(end)
        res.end()
      }
      streams.add(end)
      req.raw.on('close', end)
      if (!closed) res.write('event: ready\ndata: {}\n\n')
    })

    a.patch('/people/:id', {
      schema: { tags, summary: 'Edit a person', description: 'First and last name, phone and email (null clears a name or the email; the phone is changed, never removed). Recorded in the person’s timeline. Owners, admins, supervisors, agents and clinicians. Needs `X-CSRF-Token`.', security, params: PersonId, body: EditPersonBody, response: { 200: PersonDetail, 400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req) => {
      const person = await personOf(req, req.params.id)
      await services.personActions.edit(sessionOf(req).session.user, person.id, { firstName: req.body.first_name, lastName: req.body.last_name, phone: req.body.phone, email: req.body.email })
      return detailOf(req, person.id)
    })

    a.post('/people/:id/suppressions', {
      schema: { tags, summary: 'Suppress one of the person’s addresses', description: 'On one channel or `all`, reason `manual` or `dnc`, source `console:<email>`. 201 with the new entry (recorded in the timeline), or 200 with the entry that already holds that scope and address. Every role. Needs `X-CSRF-Token`.', security, params: PersonId, body: AddSuppressionBody, response: { 200: SuppressionResult, 201: SuppressionResult, 400: Message, 401: Message, 403: Message, 404: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req, reply) => {
      const person = await personOf(req, req.params.id)
      const { entry, created } = await services.personActions.addSuppression(sessionOf(req).session.user, person.id, { scope: req.body.scope, address: req.body.address, reason: req.body.reason, note: req.body.note })
      return reply.code(created ? 201 : 200).send({ suppression: presentSuppression(entry), created })
    })

    a.post('/people/:id/suppressions/lift', {
      schema: { tags, summary: 'Lift a suppression of the person', description: 'Only what the organisation put there (`manual`, `dnc`); the person’s own opt-out (STOP, a withdrawn consent) answers 409 `suppression_needs_consent`: record their consent instead. Recorded in the timeline. Owners, admins and supervisors. Needs `X-CSRF-Token`.', security, params: PersonId, body: LiftSuppressionBody, response: { 200: Type.Object({ lifted: SuppressionEntry }), 400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req) => {
      const person = await personOf(req, req.params.id)
      const lifted = await services.personActions.liftSuppression(sessionOf(req).session.user, person.id, { scope: req.body.scope, address: req.body.address, note: req.body.note })
      return { lifted: presentSuppression(lifted) }
    })

    a.post('/people/:id/consents', {
      schema: { tags, summary: 'Record a consent of the person', description: '`given`: lifts the person’s own opt-outs (STOP, withdrawn consent) of that scope and address — owners, admins and supervisors. `withdrawn`: suppresses the address with reason `consent_withdrawn` — every role. Always recorded in the timeline with the note. Needs `X-CSRF-Token`.', security, params: PersonId, body: ConsentBody, response: { 201: ConsentResult, 400: Message, 401: Message, 403: Message, 404: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req, reply) => {
      const person = await personOf(req, req.params.id)
      const r = await services.personActions.recordConsent(sessionOf(req).session.user, person.id, { scope: req.body.scope, address: req.body.address, state: req.body.state, note: req.body.note })
      return reply.code(201).send({ state: req.body.state, lifted: r.lifted.map(presentSuppression), remaining: r.remaining.map(presentSuppression), added: r.added ? presentSuppression(r.added) : null })
    })

    a.get('/threads', {
      schema: { tags, summary: 'The organisation’s bot threads', description: 'The names of the threads a person can be pinged into from the person page, in the threads file’s order. Every role.', security, response: { 200: Type.Object({ threads: Type.Array(Type.String()) }), 401: Message } },
    }, async (req) => ({ threads: await services.personActions.threadNames(tenantOf(req).id) }))

    a.post('/people/:id/ping', {
      schema: { tags, summary: 'Ping the person into a thread', description: 'Sends the person into one of the organisation’s bot threads, as the person API’s `/ping_person` does (their protocol, the suppression list), and records it in their timeline. 400 `thread_not_found` for a thread the organisation does not have, `person_unreachable` when the person has no address for their protocol. Every role. Needs `X-CSRF-Token`.', security, params: PersonId, body: PingBody, response: { 201: Type.Object({ thread_name: Type.String() }), 400: Message, 401: Message, 403: Message, 404: Message, 415: Message } },
      preValidation: requireJson,
    }, async (req, reply) => {
      const person = await personOf(req, req.params.id)
      await services.personActions.ping(sessionOf(req).session.user, person.id, req.body.thread_name)
      return reply.code(201).send({ thread_name: req.body.thread_name })
    })

    a.get('/workspace', {
      schema: {
        tags, summary: 'What the agent workspace needs besides the agent API',
        description: 'What the agent API does not list: the wrap-up dispositions of the organisation’s contact-center setup (empty: any text), and the transfer targets — its agents (Apps API user ids, with their status) and chat queues (leaf menus with the chat channel, Apps API menu ids). Every role.',
        security,
        response: {
          200: Type.Object({
            dispositions: Type.Array(Type.String()),
            agents: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), status: Type.String() })),
            queues: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })),
          }),
          401: Message,
        },
      },
    }, async (req) => {
      const tenantId = tenantOf(req).id
      const [dispositions, agents, queues] = await Promise.all([services.chats.dispositions(tenantId), services.agents.list(tenantId, { kind: 'all' }), services.chats.chatQueues(tenantId)])
      return {
        dispositions,
        agents: agents.filter((a) => a.deactivatedAt === null).map((a) => ({ id: a.num, name: `${a.firstName} ${a.lastName}`.trim(), status: a.status.name })),
        queues: queues.map((q) => ({ id: q.num, name: q.name })),
      }
    })

    // The supervisor view (issue 11, item 4).
    await authed.register(supervisorApi, { services, sessionOf })
  })
}
