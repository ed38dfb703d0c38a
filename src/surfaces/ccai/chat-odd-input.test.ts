import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { hashPassword } from '../../lib/passwords.ts'

// Odd input on the chat endpoints (H1–H18) and the agent API's chat calls: ids past the int4 range,
// strings where integers go, arrays and objects. Each gets its documented 400/404, never a 500, and
// changes nothing.
let t: TestApp
let tt: TestTenant
let agentAuth: string
let chat: number
let endUser: number
beforeAll(async () => {
  t = await startTestApp()
  tt = await createTenant(t.services)
  const hash = await hashPassword('agent-password')
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, dispositions: [Resolved] }
teams: [{ name: Desk }]
agents: [{ email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], password_hash: "${hash}" }]
menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]
`, 'yaml')
  endUser = await endUserNum(t.services, tt.tenant.id, 1)
  const started = await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: endUser } })
  expect(started.status, JSON.stringify(started.body)).toBe(201)
  chat = started.body.id as number
  const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', payload: { email: 'ann@example.org', password: 'agent-password', company: tt.credentials.ccai.subdomain } })
  agentAuth = `Bearer ${(JSON.parse(login.body) as { token: string }).token}`
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
async function api(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/apps/api/v1${path}`, headers: { authorization: tt.ccaiAuth }, ...(body !== undefined ? { payload: body as object } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) as Json : {} }
}
async function agent(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({ method, url: `/agent/v1${path}`, headers: { authorization: agentAuth }, ...(body !== undefined ? { payload: body as object } : {}) })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) as Json : {} }
}

const HUGE = '99999999999'
const NOT_FOUND = { status: 404, body: { message: 'Not Found' } }

describe('odd input on the chat endpoints', () => {
  it('ids past the int4 range, in paths and bodies, are unknown ids (404) or invalid (400), never a 500', async () => {
    for (const path of [`/chats/${HUGE}`, `/chats/${HUGE}/customer_flag`, `/chats/${HUGE}/custom_data`, `/chats/${HUGE}/escalations/1`, `/chats/${chat}/escalations/${HUGE}`, `/chats/${chat}/photos/${HUGE}`]) {
      expect(await api('GET', path), path).toEqual(NOT_FOUND)
    }
    expect(await api('PATCH', `/chats/${HUGE}`, { chat: { status: 'finished' } })).toEqual(NOT_FOUND)
    expect(await api('PATCH', `/chats/${HUGE}/resume`)).toEqual(NOT_FOUND)
    expect(await api('POST', `/chats/${HUGE}/message`, { from_user_id: endUser, message: { type: 'text', content: 'hi' } })).toEqual(NOT_FOUND)
    expect(await api('POST', `/chats/${HUGE}/escalations`, {})).toEqual(NOT_FOUND)
    expect(await api('PATCH', `/chats/${chat}/escalations/${HUGE}`, { deflection_channel: 'stay' })).toEqual(NOT_FOUND)
    expect(await api('POST', '/chats', { chat: { menu_id: Number(HUGE), end_user_id: endUser } })).toEqual({ status: 400, body: { message: `menu_id ${HUGE} is not found` } })
    expect(await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: HUGE } })).toEqual({ status: 400, body: { message: 'end_user_id is invalid' } })
    // A body that is not an object names the body, not an empty member.
    expect(await api('POST', '/chats', [1, 2])).toEqual({ status: 400, body: { message: 'body is invalid' } })
    expect((await api('POST', `/chats/${chat}/message`, { from_user_id: HUGE, message: { type: 'text', content: 'hi' } })).status).toBe(400)
    expect((await api('POST', `/chats/${chat}/end_user`, { identifier: 'x', end_user_id: HUGE })).status).toBeLessThan(500)
  })

  it('strings, arrays and objects where integers go answer 400/404', async () => {
    for (const menu of ['five', [2], { id: 2 }, 2.5, -2, true]) {
      const r = await api('POST', '/chats', { chat: { menu_id: menu, end_user_id: endUser } })
      expect(r.status, JSON.stringify(menu)).toBe(400)
    }
    for (const user of ['x', [endUser], { id: endUser }, 0]) {
      const r = await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: user } })
      expect(r, JSON.stringify(user)).toEqual({ status: 400, body: { message: 'end_user_id is invalid' } })
    }
    for (const from of ['x', [endUser], { id: 1 }]) {
      expect(await api('POST', `/chats/${chat}/message`, { from_user_id: from, message: { type: 'text', content: 'hi' } }), JSON.stringify(from)).toEqual({ status: 400, body: { message: 'from_user_id is invalid' } })
    }
    for (const path of ['/chats/abc', '/chats/1.5', '/chats/-1', '/chats/%20']) expect(await api('GET', path), path).toEqual(NOT_FOUND)
    expect((await api('PATCH', `/chats/${chat}`, { chat: { status: ['finished'] } })).status).toBe(400)
    expect((await api('PATCH', `/chats/${chat}`, { chat: 'finished' })).status).toBe(400)
    // Nothing changed: the chat still waits.
    expect((await api('GET', `/chats/${chat}`)).body.status).toBe('queued')
  })

  it('the agent API refuses odd chat and offer ids and bodies with 400/404', async () => {
    for (const path of [`/chats/${HUGE}/messages`, '/chats/abc/messages']) expect((await agent('GET', path)).status, path).toBe(404)
    expect((await agent('POST', `/chats/${HUGE}/end`)).status).toBe(404)
    expect((await agent('POST', `/offers/${HUGE}/accept`)).status).toBe(404)
    expect((await agent('POST', '/offers/00000000-0000-0000-0000-000000000000/decline')).status).toBe(404)
    for (const body of [{ agent_id: Number(HUGE) }, { agent_id: '2' }, { menu_id: [2] }, { agent_id: 2, menu_id: 2 }, {}]) {
      const r = await agent('POST', `/chats/${chat}/transfer`, body)
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400)
      expect(r.status, JSON.stringify(body)).toBeLessThan(500)
    }
    for (const body of [{ disposition: 5 }, { disposition: ['Resolved'] }, {}]) expect((await agent('POST', `/chats/${chat}/wrap-up`, body)).status, JSON.stringify(body)).toBe(400)
    for (const body of [{ content: ['x'] }, { content: { a: 1 } }, {}]) {
      const r = await agent('POST', `/chats/${chat}/messages`, body)
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400)
      expect(r.status, JSON.stringify(body)).toBeLessThan(500)
    }
  })
})
