import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { LOCKOUT } from '../../core/console/index.ts'
import { sealSecret } from '../../lib/secrets.ts'

// Contact-center agents at the console (issue 11, item 1's agent sign-in): their agent e-mail and
// password (and the company, the Apps API subdomain) give a console session of role `agent` that
// holds the agent API token — sealed in the database, answered to the page by the session, revoked
// with it; failures count toward the console's lockout; a console user's email is not taken over;
// GET /console/api/workspace answers the tenant's own dispositions.

let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let addressCounter = 0
const nextAddress = () => `10.44.${Math.floor(++addressCounter / 250)}.${addressCounter % 250 + 1}`
const SETUP = (dispositions: string) => `
settings: { dispositions: [${dispositions}] }
teams: [{ name: Desk }]
agents:
  - { email: ada@example.org, first_name: Ada, last_name: Lovelace, teams: [Desk], password: "ada-password-123" }
  - { email: grace@example.org, first_name: Grace, last_name: Hopper, teams: [Desk], password: "grace-password-123" }
menus:
  - name: Site
    type: web
    children:
      - { name: Help, channels: [chat], teams: [Desk] }
`

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  await t.services.ccSetup.load(a.tenant.id, SETUP('Resolved, Escalated'), 'yaml')
  await t.services.ccSetup.load(b.tenant.id, SETUP('Other'), 'yaml')
})
afterAll(async () => t?.close())

const signIn = (body: Json, address = nextAddress()) =>
  t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
const cookieOf = (r: { headers: Record<string, unknown> }) => String(r.headers['set-cookie']).split(';')[0]!
const agentCall = (token: string, method: 'GET' | 'PUT', url: string, body?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) })

describe('agents sign in to the console', () => {
  it('with their agent e-mail, password and company: role agent, an agent API token that works, kept sealed, answered again by GET /session', async () => {
    const r = await signIn({ email: 'ADA@example.org', password: 'ada-password-123', company: a.credentials.ccai.subdomain })
    expect(r.statusCode, r.body).toBe(200)
    expect(String(r.headers['set-cookie'])).toMatch(/^sb_console=[\w-]{40,}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=43200$/)
    const body = JSON.parse(r.body) as Json
    expect(body).toMatchObject({ user: { email: 'ada@example.org', name: 'Ada Lovelace', role: 'agent' }, organization: { id: a.tenant.id } })
    expect(body.agent_token).toMatch(/^sbat_/)
    const me = await agentCall(body.agent_token as string, 'GET', '/agent/v1/me')
    expect(me.statusCode).toBe(200)
    expect(JSON.parse(me.body)).toMatchObject({ email: 'ada@example.org', status: { name: 'Unavailable' } })
    // The database keeps the token sealed, not in clear.
    const rows = await sql<{ agent_token_sealed: string | null }>`SELECT agent_token_sealed FROM console_sessions WHERE tenant_id = ${a.tenant.id} AND agent_token_sealed IS NOT NULL`.execute(t.store.db)
    expect(rows.rows.length).toBeGreaterThan(0)
    for (const row of rows.rows) expect(row.agent_token_sealed).not.toContain(body.agent_token)
    // A reloaded page gets it back from the session.
    const again = await t.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: cookieOf(r) } })
    expect(JSON.parse(again.body)).toMatchObject({ user: { role: 'agent' }, agent_token: body.agent_token, csrf_token: body.csrf_token })
    // Signing in twice reuses the one console user of the agent.
    const second = await signIn({ email: 'ada@example.org', password: 'ada-password-123', company: a.credentials.ccai.subdomain })
    expect(second.statusCode, second.body).toBe(200)
    expect((JSON.parse(second.body) as Json).user.id).toBe(body.user.id)
    // An owner's session has no agent token.
    const owner = await t.services.console.createOwner(a.tenant)
    const o = await signIn({ email: owner.user.email, password: owner.password })
    expect((JSON.parse(o.body) as Json).agent_token).toBeNull()
  })

  it('signing out of the console ends the agent API token too', async () => {
    const r = await signIn({ email: 'grace@example.org', password: 'grace-password-123', company: a.credentials.ccai.subdomain })
    const body = JSON.parse(r.body) as Json
    expect((await agentCall(body.agent_token as string, 'GET', '/agent/v1/me')).statusCode).toBe(200)
    const out = await t.app.inject({ method: 'DELETE', url: '/console/api/session', headers: { cookie: cookieOf(r), 'x-csrf-token': body.csrf_token as string } })
    expect(out.statusCode).toBe(204)
    expect((await agentCall(body.agent_token as string, 'GET', '/agent/v1/me')).statusCode).toBe(401)
    expect((await t.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: cookieOf(r) } })).statusCode).toBe(401)
  })

  it('a session whose agent token was sealed under another master key (or for another tenant) is signed out, not a 500', async () => {
    const r = await signIn({ email: 'grace@example.org', password: 'grace-password-123', company: a.credentials.ccai.subdomain })
    expect(r.statusCode).toBe(200)
    const forged = sealSecret(randomBytes(32), `console_agent_token:${a.tenant.id}`, 'sbat_x')
    const otherTenant = sealSecret(t.config.secretKey, `console_agent_token:${b.tenant.id}`, (JSON.parse(r.body) as Json).agent_token as string)
    for (const sealed of [forged, otherTenant]) {
      await sql`UPDATE console_sessions SET agent_token_sealed = ${sealed} WHERE tenant_id = ${a.tenant.id} AND agent_token_sealed IS NOT NULL`.execute(t.store.db)
      const again = await t.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: cookieOf(r) } })
      expect(again.statusCode).toBe(401)
      expect(JSON.parse(again.body).code).toBe('invalid_session')
    }
  })

  it('a wrong password, an unknown company or a bad body is refused and changes nothing; failures lock the email out', async () => {
    const count = () => sql<{ n: string }>`SELECT (SELECT count(*) FROM console_sessions WHERE tenant_id = ${a.tenant.id}) + (SELECT count(*) FROM cc_agent_sessions WHERE tenant_id = ${a.tenant.id}) AS n`.execute(t.store.db)
    const before = await count()
    const wrong = await signIn({ email: 'ada@example.org', password: 'nope-nope-nope', company: a.credentials.ccai.subdomain })
    expect(wrong.statusCode).toBe(401)
    expect(JSON.parse(wrong.body)).toEqual({ message: 'Wrong email or password', code: 'console_sign_in_failed' })
    const otherCompany = await signIn({ email: 'ada@example.org', password: 'ada-password-123', company: 'no-such-company' })
    expect(otherCompany.statusCode).toBe(401)
    expect((await signIn({ email: 'ada@example.org', password: 'ada-password-123', company: '' })).statusCode).toBe(400)
    expect((await signIn({ email: 'ada@example.org', password: 'ada-password-123', company: 'x\u0000' })).statusCode).toBe(400)
    const after = await count()
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n)
    // The same email and password in two organisations: the company picks one; without it, 400.
    const ambiguous = await signIn({ email: 'grace@example.org', password: 'grace-password-123' })
    expect(ambiguous.statusCode).toBe(400)
    expect(JSON.parse(ambiguous.body).code).toBe('company_required')
    const inB = await signIn({ email: 'grace@example.org', password: 'grace-password-123', company: b.credentials.ccai.subdomain })
    expect(JSON.parse(inB.body)).toMatchObject({ organization: { id: b.tenant.id }, user: { role: 'agent' } })
    // Lockout: the console's rule counts agent failures too (from different addresses, by email).
    const email = 'ada@example.org'
    for (let i = 2; i < LOCKOUT.failures; i++) expect((await signIn({ email, password: 'nope-nope-nope', company: a.credentials.ccai.subdomain })).statusCode).toBe(401)
    const locked = await signIn({ email, password: 'ada-password-123', company: a.credentials.ccai.subdomain })
    expect(locked.statusCode).toBe(429)
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('does not take over a console user of another role with the agent’s email; without a company an agent still signs in', async () => {
    const c = await createTenant(t.services)
    await t.services.ccSetup.load(c.tenant.id, SETUP('X').replace(/ada@example.org/g, 'ada2@example.org').replace(/grace@example.org/g, 'grace2@example.org'), 'yaml')
    await t.services.console.createUser(c.tenant.id, { email: 'ada2@example.org', role: 'supervisor', password: 'supervisor-password-1' })
    const r = await signIn({ email: 'ada2@example.org', password: 'ada-password-123', company: c.credentials.ccai.subdomain })
    expect(r.statusCode).toBe(409)
    expect(JSON.parse(r.body).code).toBe('console_user_email_taken')
    // The console password still signs the supervisor in, as a supervisor.
    const sup = await signIn({ email: 'ada2@example.org', password: 'supervisor-password-1' })
    expect(JSON.parse(sup.body)).toMatchObject({ user: { role: 'supervisor' }, agent_token: null })
    // Without a company, an email that is no console user signs in as the agent it is (one organisation).
    const grace = await signIn({ email: 'grace2@example.org', password: 'grace-password-123' })
    expect(grace.statusCode, grace.body).toBe(200)
    expect(JSON.parse(grace.body)).toMatchObject({ organization: { id: c.tenant.id }, user: { role: 'agent', email: 'grace2@example.org' } })
  })

  it('GET /console/api/workspace answers the own organisation’s dispositions, agents and chat queues only', async () => {
    const ra = await signIn({ email: 'ada@example.org', password: 'ada-password-123', company: a.credentials.ccai.subdomain }, nextAddress())
    // (ada may be locked out by the test above: sign in as Grace of A instead when so.)
    const sa = ra.statusCode === 200 ? ra : await signIn({ email: 'grace@example.org', password: 'grace-password-123', company: a.credentials.ccai.subdomain })
    const rb = await signIn({ email: 'grace@example.org', password: 'grace-password-123', company: b.credentials.ccai.subdomain })
    const wa = await t.app.inject({ method: 'GET', url: '/console/api/workspace', headers: { cookie: cookieOf(sa) } })
    const wb = await t.app.inject({ method: 'GET', url: '/console/api/workspace', headers: { cookie: cookieOf(rb) } })
    expect(JSON.parse(wa.body)).toEqual({
      dispositions: ['Resolved', 'Escalated'],
      agents: [{ id: 1, name: 'Ada Lovelace', status: expect.any(String) }, { id: 2, name: 'Grace Hopper', status: expect.any(String) }],
      queues: [{ id: 2, name: 'Help' }],
    })
    expect(JSON.parse(wb.body)).toMatchObject({ dispositions: ['Other'], queues: [{ id: 2, name: 'Help' }] })
    expect((await t.app.inject({ method: 'GET', url: '/console/api/workspace' })).statusCode).toBe(401)
  })
})
