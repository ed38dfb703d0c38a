import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { hashPassword } from '../../lib/passwords.ts'

// The Apps API's conventions (§1: auth, host subdomain, 401/404 bodies, rate limit) and the users
// and agent-status endpoints (U1, A1–A4) through HTTP, driven by real sign-ins on the agent API.
const DOMAIN = 'cc.example.test'
let t: TestApp
let hash: string
beforeAll(async () => {
  t = await startTestApp({ workers: 'later', config: { SWITCHBOARD_CCAI_DOMAIN: DOMAIN } })
  hash = await hashPassword('agent-password')
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const SETUP = (rate = 1000, more = '') => `
settings: { rate_limit: ${rate} }
teams: [{ name: Desk }, { name: Nurses }]
statuses: [{ name: Break }]
agents:
  - { email: a1@example.org, first_name: Ann, last_name: One, agent_number: "11", location: Boston, teams: [Desk], password_hash: "${hash}" }
  - { email: a2@example.org, first_name: Bob, last_name: Two, agent_number: "12", location: Remote, teams: [Desk, Nurses], password_hash: "${hash}" }
  - { email: a3@example.org, first_name: Cy, last_name: Three, agent_number: "13", location: Boston, teams: [Nurses], password_hash: "${hash}" }
${more}`

async function contactCenter(rate = 1000, more = ''): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(rate, more), 'yaml')
  return tt
}
const api = (tt: TestTenant, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method, url: `/apps/api/v1${url}`, headers: { authorization: tt.ccaiAuth, ...(payload ? { 'content-type': 'application/json' } : {}), ...headers }, ...(payload ? { payload: payload as object } : {}) })
const json = (r: { body: string }) => JSON.parse(r.body) as Json
async function signIn(tt: TestTenant, email: string, ip = '203.0.113.10'): Promise<string> {
  const r = await t.app.inject({ method: 'POST', url: '/agent/v1/login', remoteAddress: ip, headers: { 'content-type': 'application/json' }, payload: { email, password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  expect(r.statusCode, r.body).toBe(200)
  return json(r).token as string
}

describe('Apps API conventions (§1)', () => {
  it('401 with the Basic challenge for missing or wrong credentials; the company secret and a Bearer token work too', async () => {
    const tt = await contactCenter()
    const none = await t.app.inject({ method: 'GET', url: '/apps/api/v1/users' })
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Basic realm="Application"')
    expect(none.body).toBe('{"message":"Unauthorized"}')
    const wrong = await api(tt, 'GET', '/users', undefined, { authorization: 'Basic ' + Buffer.from(`${tt.credentials.ccai.subdomain}:nope`).toString('base64') })
    expect(wrong.statusCode).toBe(401)
    const secret = await api(tt, 'GET', '/users', undefined, { authorization: 'Basic ' + Buffer.from(`${tt.credentials.ccai.subdomain}:${tt.credentials.ccai.company_secret}`).toString('base64') })
    expect(secret.statusCode).toBe(200)
    const bearer = await api(tt, 'GET', '/users', undefined, { authorization: `Bearer ${tt.credentials.ccai.token}`, host: `${tt.credentials.ccai.subdomain}.${DOMAIN}` })
    expect(bearer.statusCode, bearer.body).toBe(200)
    expect(json(bearer)).toHaveLength(3)
  })

  it('a host naming another tenant, or none, answers 404 with the documented text; unknown routes 404 "Not Found"', async () => {
    const tt = await contactCenter()
    const other = await createTenant(t.services)
    const elsewhere = await api(tt, 'GET', '/users', undefined, { host: `${other.credentials.ccai.subdomain}.${DOMAIN}` })
    expect(elsewhere.statusCode).toBe(404)
    expect(elsewhere.body).toBe('{"message":"Resource not found - Please check your subdomain"}')
    const nobody = await api(tt, 'GET', '/users', undefined, { authorization: 'Bearer x', host: `no-such-tenant.${DOMAIN}` })
    expect(json(nobody)).toEqual({ message: 'Resource not found - Please check your subdomain' })
    const route = await api(tt, 'GET', '/no_such_thing')
    expect(route.statusCode).toBe(404)
    expect(route.body).toBe('{"message":"Not Found"}')
  })

  it('counts requests per tenant: over the limit 429 with Retry-After: 1; another tenant is not slowed', async () => {
    const tt = await contactCenter(3)
    const other = await contactCenter(3)
    const codes = []
    for (let i = 0; i < 5; i++) codes.push((await api(tt, 'GET', '/users')).statusCode)
    const limited = await api(tt, 'GET', '/users')
    if (codes.filter((c) => c === 429).length === 0) throw new Error(`no 429 in ${codes.join(',')}`)
    expect(codes.slice(0, 3)).toEqual([200, 200, 200])
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['retry-after']).toBe('1')
    expect(limited.body).toBe('{"message":"Too Many Requests"}')
    expect((await api(other, 'GET', '/users')).statusCode).toBe(200)
  })
})

describe('GET /users (U1)', () => {
  it('lists users with the documented fields, null not omitted, timestamps with milliseconds and Z', async () => {
    const tt = await contactCenter()
    await signIn(tt, 'a2@example.org')
    const r = await api(tt, 'GET', '/users')
    expect(r.statusCode).toBe(200)
    expect(r.headers.total).toBe('3')
    expect(r.headers['per-page']).toBe('100')
    const users = json(r)
    expect(users.map((u: Json) => u.id)).toEqual([1, 2, 3])
    expect(users[0]).toEqual({
      id: 1, email: 'a1@example.org', first_name: 'Ann', last_name: 'One', agent_number: '11', location: 'Boston', max_chat_limit: 3,
      max_chat_limit_enabled: true, unrestricted_international_calling: false, deactivated_at: null, ucaas_user_name: null, ucaas_sip_uri: null,
      external_user: false, phone_numbers: [], extension_numbers: [], teams: [{ name: 'Desk' }], roles: [{ name: 'Agent' }],
      status_id: 3, online: false, wrap_up: false, last_login_time: null, status_updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })
    expect(users[1]).toMatchObject({ online: true, status_id: 2, last_login_time: expect.stringMatching(/\.\d{3}Z$/) })
  })

  it('pages with page and per, with a Link to the next page', async () => {
    const tt = await contactCenter()
    const p1 = await api(tt, 'GET', '/users?per=2')
    expect(json(p1).map((u: Json) => u.id)).toEqual([1, 2])
    expect(p1.headers.link).toMatch(/<http:\/\/[^>]+\/apps\/api\/v1\/users\?per=2&page=2>; rel="next"/)
    const p2 = await api(tt, 'GET', '/users?per=2&page=2')
    expect(json(p2).map((u: Json) => u.id)).toEqual([3])
    expect(p2.headers.link).toBeUndefined()
  })

  it('filters by one attribute, bracketed or bare', async () => {
    const tt = await contactCenter()
    await signIn(tt, 'a3@example.org')
    const ids = (r: { body: string }) => json(r).map((u: Json) => u.id)
    expect(ids(await api(tt, 'GET', '/users?id[]=1&id[]=3'))).toEqual([1, 3])
    expect(ids(await api(tt, 'GET', '/users?id=2'))).toEqual([2])
    expect(ids(await api(tt, 'GET', '/users?agent_number[]=12'))).toEqual([2])
    expect(ids(await api(tt, 'GET', '/users?location[]=Boston'))).toEqual([1, 3])
    expect(ids(await api(tt, 'GET', '/users?online[]=true'))).toEqual([3])
    expect(ids(await api(tt, 'GET', '/users?online[]=0'))).toEqual([1, 2])
    expect(ids(await api(tt, 'GET', '/users?status_id[]=2'))).toEqual([3])
    expect(ids(await api(tt, 'GET', '/users?wrap_up[]=false'))).toEqual([1, 2, 3])
    expect(ids(await api(tt, 'GET', `/users?last_login_time[from]=${new Date(Date.now() - 60_000).toISOString()}`))).toEqual([3])
    expect(ids(await api(tt, 'GET', '/users?status_updated_at[to]=2000-01-01T00:00:00Z'))).toEqual([])
  })

  it('refuses with the documented texts', async () => {
    const tt = await contactCenter()
    const says = async (url: string) => {
      const r = await api(tt, 'GET', url)
      expect(r.statusCode, url).toBe(400)
      return json(r).message as string
    }
    expect(await says('/users?per=1000')).toBe('Invalid page size request')
    expect(await says('/users?per=abc')).toBe('Invalid page size request')
    expect(await says('/users?id[]=1&location[]=Boston')).toBe('Only one filter should be configured at a time')
    expect(await says('/users?id[]=1&page=2')).toBe('Cannot paginate filtered results')
    expect(await says(`/users?${Array.from({ length: 1001 }, (_, i) => `id[]=${i + 1}`).join('&')}`)).toBe('Ensure you are not filtering more than 1000 values at a time')
    expect(await says('/users?online[]=maybe')).toBe('online[] is invalid')
    expect(await says('/users?last_login_time[from]=yesterday')).toBe('last_login_time[from] is invalid')
    expect((await api(tt, 'GET', '/users?per=999')).statusCode).toBe(200)
  })
})

describe('agent statuses (A1–A4)', () => {
  it('A1 sets the status of agents and team members; Offline agents keep theirs with the documented message', async () => {
    const tt = await contactCenter()
    await signIn(tt, 'a1@example.org')
    await signIn(tt, 'a2@example.org')
    const r = await api(tt, 'POST', '/agent_statuses', { status: 'Available', agent_ids: ['1'], team_ids: [2] })
    expect(r.statusCode, r.body).toBe(200)
    expect(json(r)).toEqual([
      { agent_id: 1, name: 'Ann One', email: 'a1@example.org', agent_number: '11', previous_status: 'Unavailable', current_status: 'Available' },
      { agent_id: 2, name: 'Bob Two', email: 'a2@example.org', agent_number: '12', previous_status: 'Unavailable', current_status: 'Available' },
      { agent_id: 3, name: 'Cy Three', email: 'a3@example.org', agent_number: '13', previous_status: 'Offline', current_status: 'Offline', message: "Agent can't be changed from system status 'Offline'" },
    ])
    const brk = await api(tt, 'POST', '/agent_statuses', { status: 'Break', agent_ids: [2] })
    expect(json(brk)[0]).toMatchObject({ previous_status: 'Available', current_status: 'Break' })
  })

  it('A1 refuses with the documented texts and changes nothing', async () => {
    const tt = await contactCenter()
    await signIn(tt, 'a1@example.org')
    const says = async (body: unknown) => {
      const r = await api(tt, 'POST', '/agent_statuses', body)
      expect(r.statusCode).toBe(400)
      return json(r).message as string
    }
    expect(await says({ agent_ids: [1] })).toBe('param is missing or the value is empty: status')
    expect(await says({ status: 'Available' })).toBe('agent_ids or team_ids required')
    expect(await says({ status: 'Napping', agent_ids: [1] })).toBe('Status not found')
    expect(await says({ status: 'Offline', agent_ids: [1] })).toBe("Status 'Offline' is set by the system and can't be set")
    expect(await says({ status: 'Available', agent_ids: ['one'] })).toBe('agent_ids is invalid')
    expect(json(await api(tt, 'GET', '/users?id[]=1'))[0].status_id).toBe(2)
  })

  it('A2/A3 force logout by IP (CIDR, address, range) and team; idle agents go Offline and lose their tokens, busy ones are marked', async () => {
    const tt = await contactCenter()
    const t1 = await signIn(tt, 'a1@example.org', '10.1.2.3')
    const t2 = await signIn(tt, 'a2@example.org', '2001:db8::5')
    await signIn(tt, 'a3@example.org', '192.168.0.9')
    // Cy is in a chat (routing comes with the chat endpoints; here the status is set as routing will).
    await t.store.db.updateTable('cc_agents').set({ status_id: t.store.db.selectFrom('cc_statuses').select('id').where('tenant_id', '=', tt.tenant.id).where('name', '=', 'In-chat') })
      .where('tenant_id', '=', tt.tenant.id).where('num', '=', 3).execute()
    const r = await api(tt, 'POST', '/agent_statuses/force_logout', { ip_addrs: ['10.1.0.0/16', '2001:db8::1-2001:db8::ff', '192.168.0.9'] })
    expect(r.statusCode, r.body).toBe(200)
    expect(json(r).map((x: Json) => [x.agent_id, x.previous_status, x.current_status, x.message ?? null])).toEqual([
      [1, 'Unavailable', 'Offline', null],
      [2, 'Unavailable', 'Offline', null],
      [3, 'In-chat', 'In-chat', 'Agent will be logged out after the current interaction'],
    ])
    for (const token of [t1, t2]) expect((await t.app.inject({ method: 'GET', url: '/agent/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401)
    const pending = await t.store.db.selectFrom('cc_agents').select('logout_pending').where('tenant_id', '=', tt.tenant.id).where('num', '=', 3).executeTakeFirstOrThrow()
    expect(pending.logout_pending).toBe(true)

    await signIn(tt, 'a1@example.org', '10.9.9.9')
    const byTeam = await api(tt, 'POST', '/agent_statuses/force_logout', { agent_ids: [], team_ids: [1] })
    expect(json(byTeam).map((x: Json) => x.agent_id)).toEqual([1])
  })

  it('A2 refuses with the documented texts', async () => {
    const tt = await contactCenter()
    const r = await api(tt, 'POST', '/agent_statuses/force_logout', {})
    expect(json(r)).toEqual({ message: 'agent_ids, team_ids or ip_addrs required' })
    const bad = await api(tt, 'POST', '/agent_statuses/force_logout', { ip_addrs: ['10.0.0.0/99'] })
    expect(bad.statusCode).toBe(400)
    expect(json(bad)).toEqual({ message: 'ip_addrs contains an invalid address: 10.0.0.0/99' })
  })

  it('A2 over more than 100 agents answers 202 with a job; A4 follows it to the end (two tenants, each its job 1)', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `  - { email: bulk${i}@example.org, first_name: Bulk, last_name: "${i}", teams: [Nurses], password_hash: "${hash}" }`).join('\n')
    const tenants = [await contactCenter(1000, many), await contactCenter(1000, many)]
    for (const tt of tenants) {
      // Signed in (as the agent API records it) without 101 password checks.
      const unavailable = t.store.db.selectFrom('cc_statuses').select('id').where('tenant_id', '=', tt.tenant.id).where('name', '=', 'Unavailable')
      await t.store.db.updateTable('cc_agents').set({ status_id: unavailable, login_ip: '10.5.0.1', last_login_at: new Date() })
        .where('tenant_id', '=', tt.tenant.id).where('email', 'like', 'bulk%').execute()
    }
    await t.services.jobs.work({ pollingIntervalSeconds: 0.5 })
    // Both tenants' jobs are number 1: each must run (job keys are global, so they carry the tenant).
    const ids: number[] = []
    for (const tt of tenants) {
      const r = await api(tt, 'POST', '/agent_statuses/force_logout', { team_ids: [2] })
      expect(r.statusCode, r.body).toBe(202)
      const { id } = json(r)
      expect(json(r)).toEqual({ id, status: 'in_progress' })
      ids.push(id as number)
    }
    expect(ids).toEqual([1, 1])
    for (const [i, tt] of tenants.entries()) {
      const done: Json = await waitFor('the force-logout job to finish', async () => {
        const job = json(await api(tt, 'GET', `/agent_statuses/force_logout/${ids[i]}`))
        return job.status === 'finished' ? job : undefined
      }, 30_000)
      expect(done).toMatchObject({ id: ids[i], status: 'finished', total: 101, processed: 101 })
      expect(done.results).toHaveLength(101)
      expect(done.results.every((x: Json) => x.current_status === 'Offline')).toBe(true)
      expect(json(await api(tt, 'GET', '/users?online[]=true'))).toEqual([])
    }
  })

  it('another tenant’s agents, teams and jobs are out of reach', async () => {
    const tt = await contactCenter()
    const other = await contactCenter()
    await signIn(other, 'a1@example.org')
    const r = await api(tt, 'POST', '/agent_statuses', { status: 'Available', agent_ids: [1] })
    expect(json(r)[0]).toMatchObject({ agent_id: 1, current_status: 'Offline' }) // tt's own agent 1, still Offline
    expect(json(await api(other, 'GET', '/users?id[]=1'))[0]).toMatchObject({ status_id: 2 })
    expect((await api(tt, 'GET', '/agent_statuses/force_logout/1')).statusCode).toBe(404)
  })
})
