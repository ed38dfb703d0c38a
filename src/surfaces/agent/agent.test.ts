import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// The agent API through HTTP: signing in with the setup file's passwords, the bearer token,
// choosing a status, signing out; a deactivated agent is out at once.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = (extra = '') => `
teams: [{ name: Desk }]
statuses: [{ name: Break }]
agents:
  - { email: ada@example.org, first_name: Ada, last_name: Lovelace, agent_number: "7", teams: [Desk], password: "ada-password-1" }
${extra}`

async function contactCenter(extra = ''): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(extra), 'yaml')
  company = tt.credentials.ccai.subdomain
  return tt
}
let company: string | undefined
const login = (email: string, password: string, ip = '203.0.113.7') =>
  t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: ip, headers: { 'content-type': 'application/json' }, payload: { email, password, ...(company ? { company } : {}) } })
const call = (token: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload: payload as object } : {}) })

describe('agent API', () => {
  it('signs in with the password of the setup file, and answers the same 401 for a wrong password or an unknown email', async () => {
    const tt = await contactCenter()
    // The same email and password in two organisations: the company picks one.
    await t.services.ccSetup.load((await createTenant(t.services)).tenant.id, SETUP(), 'yaml')
    company = undefined
    const ambiguous = await login('ada@example.org', 'ada-password-1')
    expect(ambiguous.statusCode).toBe(400)
    expect(JSON.parse(ambiguous.body).code).toBe('company_required')
    company = tt.credentials.ccai.subdomain
    const wrong = await login('ada@example.org', 'nope')
    expect(wrong.statusCode).toBe(401)
    expect(JSON.parse(wrong.body)).toEqual({ message: 'Wrong email or password', code: 'agent_sign_in_failed' })
    const unknown = await login('nobody@example.org', 'ada-password-1')
    expect(JSON.parse(unknown.body)).toEqual(JSON.parse(wrong.body))
    // A NUL in the email (or company) is bad input, not a server error (PostgreSQL text holds none).
    expect((await login('ada\u0000@example.org', 'ada-password-1')).statusCode).toBe(400)
    company = 'x\u0000'
    expect((await login('ada@example.org', 'ada-password-1')).statusCode).toBe(400)
    company = tt.credentials.ccai.subdomain
    const ok = await login('ADA@example.org', 'ada-password-1')
    expect(ok.statusCode, ok.body).toBe(200)
    const body = JSON.parse(ok.body) as Json
    expect(body.token).toMatch(/^sbat_/)
    expect(body.agent).toMatchObject({ id: 1, email: 'ada@example.org', first_name: 'Ada', agent_number: '7', teams: [{ id: 1, name: 'Desk' }], status: { name: 'Unavailable', kind: 'away' } })
    expect(body.agent.statuses.map((s: Json) => s.name)).toEqual(['Available', 'Unavailable', 'Break'])
  })

  it('keeps the sign-in address, and the status the agent chooses; system statuses cannot be chosen', async () => {
    const tt = await contactCenter()
    const { token } = JSON.parse((await login('ada@example.org', 'ada-password-1', '198.51.100.23')).body) as Json
    const row = await t.store.db.selectFrom('cc_agents').select(['login_ip', 'last_login_at']).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
    expect(row.login_ip).toBe('198.51.100.23')
    expect(row.last_login_at).toBeInstanceOf(Date)
    const set = await call(token, 'PUT', '/agent/v1/status', { status: 'available' })
    expect(set.statusCode, set.body).toBe(200)
    expect(JSON.parse(set.body).status).toEqual({ id: 1, name: 'Available', kind: 'available' })
    const system = await call(token, 'PUT', '/agent/v1/status', { status: 'In-chat' })
    expect(system.statusCode).toBe(400)
    expect(JSON.parse(system.body).code).toBe('agent_status_not_settable')
    const unknown = await call(token, 'PUT', '/agent/v1/status', { status: 'Napping' })
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 'agent_status_not_found' })
    expect(JSON.parse((await call(token, 'GET', '/agent/v1/me')).body).status.name).toBe('Available')
  })

  it('signs out: the token stops working and the agent is Offline', async () => {
    const tt = await contactCenter()
    const { token } = JSON.parse((await login('ada@example.org', 'ada-password-1')).body) as Json
    expect((await call(token, 'POST', '/agent/v1/logout')).statusCode).toBe(204)
    const after = await call(token, 'GET', '/agent/v1/me')
    expect(after.statusCode).toBe(401)
    expect(after.headers['www-authenticate']).toContain('Bearer')
    const users = await t.app.inject({ method: 'GET', url: '/apps/api/v1/users', headers: { authorization: tt.ccaiAuth } })
    expect(JSON.parse(users.body)[0]).toMatchObject({ online: false, status_id: 3 })
  })

  it('a deactivated agent is signed out at once and cannot sign in', async () => {
    const tt = await contactCenter('  - { email: bo@example.org, first_name: Bo, last_name: B, password: "bo-password-12" }')
    const { token } = JSON.parse((await login('ada@example.org', 'ada-password-1')).body) as Json
    await t.services.ccSetup.load(tt.tenant.id, 'teams: [{ name: Desk }]\nagents:\n  - { email: bo@example.org, first_name: Bo, last_name: B, password: "bo-password-12" }\n', 'yaml')
    expect((await call(token, 'GET', '/agent/v1/me')).statusCode).toBe(401)
    expect((await login('ada@example.org', 'ada-password-1')).statusCode).toBe(401)
    expect((await login('bo@example.org', 'bo-password-12')).statusCode).toBe(200)
  })

  it('refuses missing or bad tokens, non-JSON bodies, and password guessing beyond ten a minute', async () => {
    await contactCenter()
    expect((await t.app.inject({ method: 'GET', url: '/agent/v1/me' })).statusCode).toBe(401)
    expect((await call('sbat_forged', 'GET', '/agent/v1/me')).statusCode).toBe(401)
    const form = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=a&password=b' })
    expect(form.statusCode).toBe(415)
    const ip = '192.0.2.99'
    const codes: number[] = []
    for (let i = 0; i < 11; i++) codes.push((await login(`guess${i}@example.org`, 'x', ip)).statusCode)
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true)
    expect(codes[10]).toBe(429)
  // Eleven memory-hard hashes: seconds each on a loaded machine.
  }, 120_000)
})
