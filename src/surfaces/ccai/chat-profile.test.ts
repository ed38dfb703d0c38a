import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { verifyHs256 } from '../../core/contact-center/index.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'

// Customer flags (H14–H16) and custom data (H17) through HTTP: both spellings of repeat_customer,
// partial updates, unsigned and HS256-signed data (company secret, exp), reserved keys setting the
// flags, merging by key, every error text, ended chats, another tenant's chat 404.
let t: TestApp
let tt: TestTenant
let other: TestTenant
beforeAll(async () => {
  t = await startTestApp()
  tt = await createTenant(t.services)
  other = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, 'settings: { rate_limit: 1000 }\nteams: [{ name: Desk }]\nmenus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]\n', 'yaml')
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
async function api(method: 'GET' | 'PUT' | 'PATCH' | 'POST', url: string, body?: unknown, tenant: TestTenant = tt) {
  const r = await t.app.inject({ method, url: `/apps/api/v1${url}`, headers: { authorization: tenant.ccaiAuth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) })
  return { status: r.statusCode, body: JSON.parse(r.body) as Json }
}
const jwt = (claims: object, secret: string, header: object = { alg: 'HS256' }) => {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = `${part(header)}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}
const newChat = async () => (await t.services.chats.start(tt.tenant.id, { menuNum: 2, endUserNum: await endUserNum(t.services, tt.tenant.id, 7) })).num

describe('customer flags', () => {
  it('reads all false, sets partially with either spelling, on PUT, PATCH and POST', async () => {
    const id = await newChat()
    const none = { verified_customer: false, bad_actor: false, repeat_customer: false, repeat_customers: false }
    expect(await api('GET', `/chats/${id}/customer_flag`)).toEqual({ status: 200, body: none })
    expect((await api('PUT', `/chats/${id}/customer_flag`, { verified_customer: true, repeat_customers: true })).body)
      .toEqual({ verified_customer: true, bad_actor: false, repeat_customer: true, repeat_customers: true })
    expect((await api('PATCH', `/chats/${id}/customer_flag`, { bad_actor: 'true', repeat_customer: false })).body)
      .toEqual({ verified_customer: true, bad_actor: true, repeat_customer: false, repeat_customers: false })
    expect((await api('POST', `/chats/${id}/customer_flag`, {})).body).toMatchObject({ verified_customer: true, bad_actor: true })
    const chat = (await api('GET', `/chats/${id}`)).body
    expect(chat).toMatchObject({ verified: true, bad_actor: true, repeat_customer: false })
    expect(await api('PATCH', `/chats/${id}/customer_flag`, { verified_customer: false, bad_actor: 'yes' })).toEqual({ status: 400, body: { message: 'bad_actor must be a boolean' } })
    expect((await api('GET', `/chats/${id}/customer_flag`)).body.verified_customer).toBe(true)
    expect(await api('GET', `/chats/${id}/customer_flag`, undefined, other)).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await api('PUT', `/chats/${id}/customer_flag`, { bad_actor: false }, other)).toEqual({ status: 404, body: { message: 'Not Found' } })
    await t.services.chats.end(tt.tenant.id, id, 'end_user')
    expect(await api('PATCH', `/chats/${id}/customer_flag`, { bad_actor: false })).toEqual({ status: 400, body: { message: 'Chat is already ended' } })
    expect(await api('GET', `/chats/${id}/customer_flag`)).toEqual({ status: 400, body: { message: 'Chat is already ended' } })
  })
})

describe('custom data', () => {
  it('takes unsigned data: reserved keys set the flags, the rest merges by key into custom_data', async () => {
    const id = await newChat()
    const r = await api('POST', `/chats/${id}/custom_data`, { signed: false, data: {
      reserved_verified_customer: { label: 'LABEL 1', value: true }, reserved_bad_actor: { label: 'LABEL 2', value: false }, reserved_repeat_customer: { label: 'LABEL 3', value: true },
      field1: { label: 'LABEL 4', value: 'dummy1' }, field2: { label: 'LABEL 5', value: 'dummy2' },
    } })
    expect(r).toEqual({ status: 200, body: { message: 'success' } })
    await api('POST', `/chats/${id}/custom_data`, { signed: false, data: { field2: { label: 'Plan', value: { tier: 3 } } } })
    const chat = (await api('GET', `/chats/${id}`)).body
    expect(chat.custom_data).toEqual({ field1: { label: 'LABEL 4', value: 'dummy1' }, field2: { label: 'Plan', value: { tier: 3 } } })
    expect((await api('GET', `/chats/${id}/customer_flag`)).body).toEqual({ verified_customer: true, bad_actor: false, repeat_customer: true, repeat_customers: true })
  })

  it('verifies signed data with the company secret and exp; every error text; refusals change nothing', async () => {
    const id = await newChat()
    const secret = tt.credentials.ccai.company_secret
    const exp = Math.floor(Date.now() / 1000) + 600
    const good = jwt({ custom_data: { reserved_bad_actor: { value: true }, account: { value: 'A-17' } }, exp, iat: exp - 600 }, secret)
    expect(await api('POST', `/chats/${id}/custom_data`, { signed: true, signed_data: good })).toEqual({ status: 200, body: { message: 'success' } })
    const after = (await api('GET', `/chats/${id}`)).body
    expect(after).toMatchObject({ bad_actor: true, custom_data: { account: { label: null, value: 'A-17' } } })

    const refuse = async (body: unknown, message: string) => expect(await api('POST', `/chats/${id}/custom_data`, body)).toEqual({ status: 400, body: { message } })
    await refuse({}, 'param is missing or the value is empty: signed')
    await refuse({ signed: 'maybe' }, 'signed must be a boolean')
    await refuse({ signed: false }, 'param is missing or the value is empty: data')
    await refuse({ signed: false, data: {} }, 'param is missing or the value is empty: data')
    await refuse({ signed: false, data: { reserved_bad_actor: { value: 'no' } } }, 'reserved_bad_actor.value must be a boolean')
    await refuse({ signed: false, data: { x: 5 } }, 'data.x is invalid')
    await refuse({ signed: true }, 'param is missing or the value is empty: signed_data')
    await refuse({ signed: true, signed_data: 'not.a.jwt' }, 'Invalid signed_data')
    await refuse({ signed: true, signed_data: jwt({ custom_data: { a: { value: 1 } }, exp }, 'another secret') }, 'Invalid signed_data')
    await refuse({ signed: true, signed_data: jwt({ custom_data: { a: { value: 1 } }, exp }, secret, { alg: 'none' }) }, 'Invalid signed_data')
    await refuse({ signed: true, signed_data: jwt({ custom_data: { a: { value: 1 } }, exp: exp - 1200 }, secret) }, 'signed_data has expired')
    // The documented sample token (signed with some other company's secret) is refused too.
    await refuse({ signed: true, signed_data: 'eyJhbGciOiJIUzI1NiJ9.eyJjdXN0b21fZGF0YSI6eyJyZXNlcnZlZF92ZXJpZmllZF9jdXN0b21lciI6eyJ2YWx1ZSI6ZmFsc2V9LCJyZXNlcnZlZF9iYWRfYWN0b3IiOnsidmFsdWUiOnRydWV9LCJyZXNlcnZlZF9yZXBlYXRfY3VzdG9tZXIiOnsidmFsdWUiOmZhbHNlfSwiZmllbGQxIjp7InZhbHVlIjoiZHVtbXkxMTEifSwiZmllbGQyIjp7InZhbHVlIjoiZHVtbXkyMjIifX0sImV4cCI6MTcyOTY4MzU5MywiaWF0IjoxNzI5Njc5OTkzfQ.BMskgKTM3DbgrMLWjI46ZJ1K73H25JRd16SgHK0A1Ts' }, 'Invalid signed_data')
    expect((await api('GET', `/chats/${id}`)).body).toMatchObject({ bad_actor: true, custom_data: after.custom_data })
    expect(await api('POST', `/chats/${id}/custom_data`, { signed: true, signed_data: good }, other)).toEqual({ status: 404, body: { message: 'Not Found' } })
    await t.services.chats.end(tt.tenant.id, id, 'end_user')
    await refuse({ signed: true, signed_data: good }, 'Chat is already ended')
  })

  it('verifyHs256: exp and nbf, alg, signature', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    const s = now.getTime() / 1000
    expect(verifyHs256(jwt({ a: 1, exp: s + 1 }, 'k'), 'k', now)).toEqual({ ok: true, claims: { a: 1, exp: s + 1 } })
    expect(verifyHs256(jwt({ exp: s }, 'k'), 'k', now)).toEqual({ ok: false, reason: 'expired' })
    expect(verifyHs256(jwt({ nbf: s + 60 }, 'k'), 'k', now)).toEqual({ ok: false, reason: 'invalid' })
    expect(verifyHs256(jwt({ exp: 'soon' }, 'k'), 'k', now)).toEqual({ ok: false, reason: 'invalid' })
    expect(verifyHs256(jwt({}, 'k', { alg: 'HS512' }), 'k', now)).toEqual({ ok: false, reason: 'invalid' })
    expect(verifyHs256(jwt({}, 'k') + 'x', 'k', now)).toEqual({ ok: false, reason: 'invalid' })
  })
})
