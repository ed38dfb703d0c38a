import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { addThread } from '../../../test/helpers/cass.ts'
import { LOCKOUT } from '../../core/console/index.ts'
import { CONSOLE_CSP } from './index.ts'

// The console API (/console/api) and pages (/console) through HTTP on a real store: sign-in with
// cookie sessions, CSRF, lockout, roles, the people search and a person's one timeline; tenants
// never see each other's people.

let t: TestApp
let a: TestTenant
let b: TestTenant
let ownerA: { email: string; password: string }
let ownerB: { email: string; password: string }
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let addressCounter = 0
/** A fresh client address per test: failed sign-ins lock an address out. */
const nextAddress = () => `10.11.${Math.floor(++addressCounter / 250)}.${addressCounter % 250 + 1}`

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  const oa = await t.services.console.createOwner(a.tenant)
  ownerA = { email: oa.user.email, password: oa.password }
  const ob = await t.services.console.createOwner(b.tenant)
  ownerB = { email: ob.user.email, password: ob.password }
})
afterAll(async () => t?.close())

interface Signed { cookie: string; csrf: string; address: string; body: Json }

async function signIn(login: { email: string; password: string }, address = nextAddress()): Promise<Signed> {
  const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(login) })
  expect(r.statusCode, r.body).toBe(200)
  const setCookie = String(r.headers['set-cookie'])
  const body = JSON.parse(r.body) as Json
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrf_token as string, address, body }
}

function call(s: Signed | undefined, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, extra: Record<string, string> = {}) {
  return t.app.inject({
    method, url, remoteAddress: s?.address ?? nextAddress(),
    headers: { ...(s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}

describe('sign-in and sessions', () => {
  it('signs in with a cookie that is HTTP-only, SameSite=Strict and scoped to /console; GET /session answers the session', async () => {
    const s = await signIn(ownerA)
    const r0 = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ownerA) })
    expect(String(r0.headers['set-cookie'])).toMatch(/^sb_console=[\w-]{40,}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=43200$/)
    expect(s.body).toMatchObject({ user: { email: ownerA.email, role: 'owner' }, organization: { id: a.tenant.id, name: a.tenant.name } })
    expect(s.csrf).toMatch(/^[\w-]{40,}$/)
    const r = await call(s, 'GET', '/console/api/session')
    expect(r.statusCode).toBe(200)
    expect(r.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(r.body)).toEqual(s.body)
    // No cookie, or a made-up one: 401.
    expect((await call(undefined, 'GET', '/console/api/session')).statusCode).toBe(401)
    const forged = await t.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: 'sb_console=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' } })
    expect(forged.statusCode).toBe(401)
    expect(JSON.parse(forged.body)).toEqual({ message: 'Sign in again', code: 'invalid_session' })
  })

  it('signs out with the CSRF token: the cookie is cleared and the session ends', async () => {
    const s = await signIn(ownerA)
    const out = await call(s, 'DELETE', '/console/api/session')
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(/^sb_console=; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=0/)
    expect((await call(s, 'GET', '/console/api/session')).statusCode).toBe(401)
  })

  it('answers a wrong password and an unknown email alike, 401, and stores no session', async () => {
    const address = nextAddress()
    const sessions = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM console_sessions WHERE tenant_id = ${a.tenant.id}`.execute(t.store.db)).rows[0]!.n)
    const before = await sessions()
    for (const login of [{ email: ownerA.email, password: 'not-the-password' }, { email: 'nobody@example.org', password: 'whatever-it-is' }]) {
      const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(login) })
      expect(r.statusCode).toBe(401)
      expect(JSON.parse(r.body)).toEqual({ message: 'Wrong email or password', code: 'console_sign_in_failed' })
      expect(r.headers['set-cookie']).toBeUndefined()
    }
    expect(await sessions()).toBe(before)
  })

  it(`locks an account out after ${LOCKOUT.failures} failures within 15 minutes, even with the right password then, from any address`, async () => {
    const { user, password } = await t.services.console.createUser(a.tenant.id, { email: `locked-${Date.now()}@example.org`, role: 'agent' })
    for (let i = 0; i < LOCKOUT.failures; i++) {
      const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: user.email, password: `wrong-${i}` }) })
      expect(r.statusCode).toBe(401)
    }
    const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: user.email.toUpperCase(), password }) })
    expect(r.statusCode).toBe(429)
    expect(JSON.parse(r.body)).toEqual({ message: 'Too many failed sign-ins; try again later', code: 'rate_limited' })
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(800)
    expect(r.headers['set-cookie']).toBeUndefined()
    // Another account is not locked by it.
    await signIn(ownerA)
    // Once the failures are older than the window, the right password signs in (and clears the count).
    await sql`UPDATE console_sign_in_failures SET failed_at = failed_at - interval '16 minutes' WHERE key = ${`email:${user.email.toLowerCase()}`}`.execute(t.store.db)
    const back = await signIn({ email: user.email, password })
    expect(back.body.user.id).toBe(user.id)
  })

  it(`locks an address out after ${LOCKOUT.addressFailures} failures, whichever emails it tried`, async () => {
    const address = nextAddress()
    for (let i = 0; i < LOCKOUT.addressFailures; i++) {
      const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: `guess-${i}@example.org`, password: 'guess-guess-guess' }) })
      expect(r.statusCode).toBe(401)
    }
    const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ownerB) })
    expect(r.statusCode).toBe(429)
    // The same owner from another address signs in.
    await signIn(ownerB)
  })

  it('refuses a sign-in that is not JSON (a cross-site form), one from another origin, and bad bodies, 4xx without a session', async () => {
    const form = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(ownerA).toString() })
    expect(form.statusCode).toBe(415)
    const cross = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json', origin: 'https://evil.example', host: 'localhost:80' }, payload: JSON.stringify(ownerA) })
    expect(cross.statusCode).toBe(403)
    expect(JSON.parse(cross.body)).toEqual({ message: 'Missing or wrong CSRF token', code: 'console_csrf_failed' })
    for (const payload of ['{"email":', JSON.stringify({ email: ownerA.email }), JSON.stringify({ ...ownerA, extra: 1 }), JSON.stringify({ email: 'a\u0000b', password: 'x' })]) {
      const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: nextAddress(), headers: { 'content-type': 'application/json' }, payload })
      expect(r.statusCode, payload).toBe(400)
      expect(r.headers['set-cookie']).toBeUndefined()
      expect(Object.keys(JSON.parse(r.body))).toEqual(['message', 'code'])
    }
  })
})

describe('CSRF', () => {
  it('refuses a state-changing request without the CSRF token, with a wrong one, or from another origin; nothing changes', async () => {
    const s = await signIn(ownerA)
    const users = async () => (await t.services.console.listUsers(a.tenant.id)).length
    const before = await users()
    const body = { email: `csrf-${Date.now()}@example.org`, role: 'agent' }
    const none = await t.app.inject({ method: 'POST', url: '/console/api/users', remoteAddress: s.address, headers: { cookie: s.cookie, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    expect(none.statusCode).toBe(403)
    expect(JSON.parse(none.body)).toEqual({ message: 'Missing or wrong CSRF token', code: 'console_csrf_failed' })
    const wrong = await call({ ...s, csrf: s.csrf.slice(1) + 'x' }, 'POST', '/console/api/users', body)
    expect(wrong.statusCode).toBe(403)
    // Another session's token does not fit this one.
    const other = await signIn(ownerA)
    expect((await call({ ...s, csrf: other.csrf }, 'POST', '/console/api/users', body)).statusCode).toBe(403)
    const cross = await call(s, 'POST', '/console/api/users', body, { origin: 'http://evil.example', host: 'localhost' })
    expect(cross.statusCode).toBe(403)
    const signOut = await t.app.inject({ method: 'DELETE', url: '/console/api/session', remoteAddress: s.address, headers: { cookie: s.cookie } })
    expect(signOut.statusCode).toBe(403)
    expect(await users()).toBe(before)
    expect((await call(s, 'GET', '/console/api/session')).statusCode).toBe(200)
    // With the token, from the same origin: created. Behind a proxy that rewrites Host, the public URL's origin is ours too.
    const ok = await call(s, 'POST', '/console/api/users', body, { origin: 'http://localhost', host: 'localhost' })
    expect(ok.statusCode, ok.body).toBe(201)
    const proxied = await call(s, 'POST', '/console/api/users', { ...body, email: `proxied-${body.email}` }, { origin: new URL(t.config.publicUrl).origin, host: 'backend.internal:3000' })
    expect(proxied.statusCode, proxied.body).toBe(201)
    expect(await users()).toBe(before + 2)
  })
})

describe('console users and roles', () => {
  it('an owner creates users of every role; the password works once shown; an email is taken once per tenant', async () => {
    const s = await signIn(ownerA)
    for (const role of ['admin', 'supervisor', 'agent', 'clinician', 'owner']) {
      const r = await call(s, 'POST', '/console/api/users', { email: `${role}-${Date.now()}@example.org`, role, name: `A ${role}` })
      expect(r.statusCode, r.body).toBe(201)
      const made = JSON.parse(r.body) as Json
      expect(made.user).toMatchObject({ role, name: `A ${role}` })
      expect(made.password).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/)
      const back = await signIn({ email: made.user.email, password: made.password })
      expect(back.body.user.role).toBe(role)
    }
    const list = JSON.parse((await call(s, 'GET', '/console/api/users')).body) as Json
    expect(list.users.map((u: Json) => u.role)).toEqual(expect.arrayContaining(['owner', 'admin', 'supervisor', 'agent', 'clinician']))
    const dup = await call(s, 'POST', '/console/api/users', { email: ownerA.email.toUpperCase(), role: 'agent' })
    expect(dup.statusCode).toBe(409)
    expect(JSON.parse(dup.body).code).toBe('console_user_email_taken')
    // The same email in another tenant is another user.
    expect((await t.services.console.createUser(b.tenant.id, { email: `shared-${Date.now()}@example.org`, role: 'agent' })).user.tenantId).toBe(b.tenant.id)
  })

  it('an admin creates users but no owner; supervisors, agents and clinicians create and list none', async () => {
    const stamp = Date.now()
    const admin = await t.services.console.createUser(a.tenant.id, { email: `adm-${stamp}@example.org`, role: 'admin' })
    const sa = await signIn({ email: admin.user.email, password: admin.password })
    expect((await call(sa, 'POST', '/console/api/users', { email: `by-admin-${stamp}@example.org`, role: 'supervisor' })).statusCode).toBe(201)
    const owner = await call(sa, 'POST', '/console/api/users', { email: `owner-by-admin-${stamp}@example.org`, role: 'owner' })
    expect(owner.statusCode).toBe(403)
    expect(JSON.parse(owner.body)).toEqual({ message: 'only owners create owners', code: 'forbidden' })
    for (const role of ['supervisor', 'agent', 'clinician']) {
      const u = await t.services.console.createUser(a.tenant.id, { email: `${role}-x-${stamp}@example.org`, role })
      const s = await signIn({ email: u.user.email, password: u.password })
      expect((await call(s, 'POST', '/console/api/users', { email: `by-${role}-${stamp}@example.org`, role: 'agent' })).statusCode).toBe(403)
      expect((await call(s, 'GET', '/console/api/users')).statusCode).toBe(403)
    }
    expect((await t.services.console.listUsers(a.tenant.id)).some((u) => u.email.startsWith(`owner-by-admin-${stamp}`))).toBe(false)
  })

  it('refuses bad users with 400 naming the problem, and creates nothing', async () => {
    const s = await signIn(ownerA)
    const before = (await t.services.console.listUsers(a.tenant.id)).length
    const cases: Array<[unknown, RegExp]> = [
      [{ email: 'not-an-email', role: 'agent' }, /email must be an e-mail address/],
      [{ email: 'x@example.org', role: 'janitor' }, /role must be one of owner, admin, supervisor, agent, clinician/],
      [{ email: 'x@example.org', role: 'agent', password: 'short' }, /password/],
      [{ email: 'x@example.org' }, /role/],
      [{ email: 'x@example.org', role: 'agent', id: 'mine' }, /.+/],
    ]
    for (const [body, message] of cases) {
      const r = await call(s, 'POST', '/console/api/users', body)
      expect(r.statusCode, JSON.stringify(body)).toBe(400)
      expect(JSON.parse(r.body).message).toMatch(message)
    }
    expect((await t.services.console.listUsers(a.tenant.id)).length).toBe(before)
  })
})

describe('people and the timeline', () => {
  let pat: { id: string; cassId: string; phone: string }
  let other: { id: string }
  beforeAll(async () => {
    const phone = uniquePhone()
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: a.cassAuth }, payload: { phone, first_name: 'Patricia', last_name: 'Okonkwo', external_id: `ext-pat-${Date.now()}` } })
    expect(r.statusCode, r.body).toBe(200)
    const cassId = (JSON.parse(r.body) as Json).person_id as string
    const person = await t.services.people.getByRef(a.tenant, cassId)
    pat = { id: person.id, cassId, phone }
    // The Cass API has no email field; the messaging directory sets it. Set it as it would.
    await sql`UPDATE people SET email = ${'pat.okonkwo@example.org'} WHERE id = ${person.id}`.execute(t.store.db)
    const rb = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: b.cassAuth }, payload: { phone: uniquePhone(), first_name: 'Patricia', last_name: 'Okonkwo-B' } })
    other = { id: (await t.services.people.getByRef(b.tenant, (JSON.parse(rb.body) as Json).person_id as string)).id }
  })

  it('finds a person by name, reversed name, phone digits, external id, email and Cass id; never another tenant’s', async () => {
    const s = await signIn(ownerA)
    const ext = (await t.services.peopleSearch.find(a.tenant.id, pat.id))!.externalId!
    for (const q of ['patricia', 'Patricia Okon', 'okonkwo patr', pat.phone, pat.phone.slice(-7), ext, ext.toUpperCase(), 'PAT.OKONKWO@', pat.cassId]) {
      const r = await call(s, 'GET', `/console/api/people?q=${encodeURIComponent(q)}`)
      expect(r.statusCode, q).toBe(200)
      const ids = (JSON.parse(r.body) as Json).people.map((p: Json) => p.id)
      expect(ids, q).toContain(pat.id)
      expect(ids, q).not.toContain(other.id)
    }
    const none = await call(s, 'GET', '/console/api/people?q=zzzz-nobody-%25')
    expect(JSON.parse(none.body)).toEqual({ people: [] })
    // A LIKE wildcard is taken literally.
    expect(JSON.parse((await call(s, 'GET', '/console/api/people?q=%25')).body).people).toEqual([])
    const sb = await signIn(ownerB)
    const fromB = JSON.parse((await call(sb, 'GET', '/console/api/people?q=patricia')).body) as Json
    expect(fromB.people.map((p: Json) => p.id)).toEqual([other.id])
  })

  it('refuses a bad search with 400', async () => {
    const s = await signIn(ownerA)
    for (const url of [`/console/api/people?q=${'x'.repeat(201)}`, '/console/api/people?limit=0', '/console/api/people?limit=101', '/console/api/people?limit=x', '/console/api/people?other=1']) {
      const r = await call(s, 'GET', url)
      expect(r.statusCode, url).toBe(400)
    }
  })

  it('shows a person with identities and suppression state; another tenant’s person is 404', async () => {
    await t.services.suppression.add(a.tenant, { scope: 'email', address: 'Pat.Okonkwo@example.org', reason: 'consent_withdrawn', source: 'unsubscribe link' })
    const s = await signIn(ownerA)
    const r = await call(s, 'GET', `/console/api/people/${pat.id}`)
    expect(r.statusCode, r.body).toBe(200)
    const p = JSON.parse(r.body) as Json
    expect(p).toMatchObject({ id: pat.id, first_name: 'Patricia', last_name: 'Okonkwo', phone: pat.phone, email: 'pat.okonkwo@example.org' })
    expect(p.identities).toEqual([expect.objectContaining({ surface: 'cass', public_id: pat.cassId })])
    expect(p.suppressions).toEqual([expect.objectContaining({ scope: 'email', address: 'pat.okonkwo@example.org', reason: 'consent_withdrawn', source: 'unsubscribe link' })])
    for (const id of [other.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const miss = await call(s, 'GET', `/console/api/people/${id}`)
      expect(miss.statusCode, id).toBe(404)
      expect(JSON.parse(miss.body).code).toBe('person_not_found')
      expect((await call(s, 'GET', `/console/api/people/${id}/timeline`)).statusCode).toBe(404)
    }
  })

  it('answers the one timeline newest first: the bot’s ping, then a care-team channel message', async () => {
    await addThread(t, a.tenant.id, 'console-hello', [{ say: 'Hello Patricia, this is the bot.' }])
    const ping = await t.app.inject({ method: 'POST', url: '/v2/ping_person', headers: { authorization: a.cassAuth }, payload: { person_id: pat.cassId, thread_name: 'console-hello' } })
    expect(ping.statusCode, ping.body).toBe(200)
    const nurse = (JSON.parse((await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: a.cassAuth }, payload: { first_name: 'Nia', protocol: 'web', external_id: `nurse-${Date.now()}` } })).body) as Json).person_id as string
    const courier = (method: 'POST', url: string, body: unknown) => t.app.inject({ method, url, headers: { authorization: `Bearer ${a.credentials.courier.api_key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    const ch = await courier('POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.credentials.courier.organization_id, 'individual-ids': [pat.cassId], 'individual-id': nurse } } })
    expect(ch.statusCode, ch.body).toBe(201)
    const posted = await courier('POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': (JSON.parse(ch.body) as Json).data.id, message: 'Take your meds with food', 'individual-id': nurse } } })
    expect(posted.statusCode, posted.body).toBe(201)

    const s = await signIn(ownerA)
    const r = await call(s, 'GET', `/console/api/people/${pat.id}/timeline`)
    expect(r.statusCode, r.body).toBe(200)
    const events = (JSON.parse(r.body) as Json).events as Json[]
    const texts = events.map((e) => [e.channel, e.direction, e.text])
    const botAt = texts.findIndex(([, , text]) => text === 'Hello Patricia, this is the bot.')
    const channelAt = texts.findIndex(([channel, , text]) => channel === 'messaging' && text === 'Take your meds with food')
    expect(botAt, JSON.stringify(texts)).toBeGreaterThan(-1)
    expect(channelAt, JSON.stringify(texts)).toBeGreaterThan(-1)
    // Newest first: the channel message (later) comes before the bot's ping.
    expect(channelAt).toBeLessThan(botAt)
    expect(events[botAt]).toMatchObject({ direction: 'out', thread_name: 'console-hello' })
    const times = events.map((e) => Date.parse(e.created_at as string))
    expect([...times].sort((x, y) => y - x)).toEqual(times)
    expect(JSON.parse((await call(s, 'GET', `/console/api/people/${pat.id}/timeline?limit=1`)).body).events).toHaveLength(1)
    expect((await call(s, 'GET', `/console/api/people/${pat.id}/timeline?limit=1001`)).statusCode).toBe(400)
    // Another tenant's owner cannot read it.
    const sb = await signIn(ownerB)
    expect((await call(sb, 'GET', `/console/api/people/${pat.id}/timeline`)).statusCode).toBe(404)
  })
})

describe('the console pages', () => {
  it('serves the page at /console and for client routes under it, with the strict CSP; assets as built; a missing asset is 404', async () => {
    for (const url of ['/console', '/console/', '/console/people', '/console/people/123']) {
      const r = await t.app.inject({ method: 'GET', url })
      expect(r.statusCode, url).toBe(200)
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP)
      expect(r.headers['x-frame-options']).toBe('DENY')
      expect(r.body).toContain('<div id="root"></div>')
      // No inline script: every script has a src under /console/assets/.
      expect(r.body).not.toMatch(/<script(?![^>]*\bsrc="\/console\/assets\/)[^>]*>/)
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'")
    expect(CONSOLE_CSP).not.toContain('unsafe-inline')
    const page = (await t.app.inject({ method: 'GET', url: '/console' })).body
    const script = /src="\/console\/(assets\/[^"]+\.js)"/.exec(page)![1]!
    const js = await t.app.inject({ method: 'GET', url: `/console/${script}` })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toContain('immutable')
    expect((await t.app.inject({ method: 'GET', url: '/console/assets/nothing-here.js' })).statusCode).toBe(404)
    const api = await t.app.inject({ method: 'GET', url: '/console/api/nothing' })
    expect(api.statusCode).toBe(404)
    expect(api.headers['content-type']).toMatch(/^application\/json/)
  })

  it('publishes the console API in its own OpenAPI document', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/openapi/console.json' })
    expect(r.statusCode).toBe(200)
    const doc = JSON.parse(r.body) as Json
    expect(doc.info.title).toBe('Switchboard — Console API')
    expect(Object.keys(doc.paths).sort()).toEqual(['/console/api/people', '/console/api/people/{id}', '/console/api/people/{id}/consents', '/console/api/people/{id}/ping', '/console/api/people/{id}/suppressions', '/console/api/people/{id}/suppressions/lift', '/console/api/people/{id}/timeline', '/console/api/people/{id}/timeline/stream', '/console/api/session', '/console/api/supervisor/agents', '/console/api/supervisor/agents/{id}/force_logout', '/console/api/supervisor/agents/{id}/status', '/console/api/supervisor/charts', '/console/api/supervisor/queues', '/console/api/threads', '/console/api/users', '/console/api/workspace'])
    expect(Object.keys(doc.paths['/console/api/session']).sort()).toEqual(['delete', 'get', 'post'])
    // And the other documents do not list them.
    const cass = JSON.parse((await t.app.inject({ method: 'GET', url: '/openapi/cass.json' })).body) as Json
    expect(Object.keys(cass.paths).some((p) => p.startsWith('/console'))).toBe(false)
  })
})
