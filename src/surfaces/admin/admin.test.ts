import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { TwilioPeer } from '../../../test/peers/twilio.ts'

// The admin API of provider settings, through HTTP, on an app whose operator allows URLs on
// 127.0.0.1 (where the local Twilio peer listens) and nothing else private.
let t: TestApp
let peer: TwilioPeer
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  peer = await new TwilioPeer().start()
  t = await startTestApp({ workers: true, config: { SWITCHBOARD_ALLOWED_URL_HOSTS: '127.0.0.1' }, services: { sendRetry: { retryDelaySeconds: 1, retryLimit: 1 } } })
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => {
  await t?.close()
  await peer?.stop()
})

type Json = Record<string, unknown>
const json = (r: { body: string }) => JSON.parse(r.body) as Json
const data = (r: { body: string }) => json(r).data as Json
function call(tt: TestTenant | undefined, method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method, url,
    headers: { ...(tt ? { authorization: tt.cassAuth } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  })
}
const twilioOptions = () => ({ accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', baseUrl: peer.url })
const storedRows = async (tenantId: string) =>
  (await sql<{ channel: string; vendor: string; sealed_settings: string }>`SELECT channel, vendor, sealed_settings FROM tenant_provider_settings WHERE tenant_id = ${tenantId}`.execute(t.store.db)).rows

describe('GET /admin/providers', () => {
  it('needs the tenant’s Cass credentials, and shows the sandbox on every channel until something is set', async () => {
    for (const headers of [{}, { authorization: 'Basic ' + Buffer.from(`${acme.credentials.cass.client}:wrong`).toString('base64') }]) {
      const r = await t.app.inject({ url: '/admin/providers', headers })
      expect(r.statusCode).toBe(401)
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="Switchboard admin"/)
      expect(json(r)).toEqual({ message: 'Unauthorized', code: 'unauthorized' })
    }
    const fresh = await createTenant(t.services)
    const r = await call(fresh, 'GET', '/admin/providers')
    expect(r.statusCode).toBe(200)
    const body = json(r) as { data: Json[]; vendors: string[] }
    expect(body.data.map((p) => [p.channel, p.vendor, p.configured])).toEqual(
      ['sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice'].map((c) => [c, 'sandbox', false]))
    expect(body.vendors[0]).toBe('sandbox')
    expect(body.vendors).toEqual(expect.arrayContaining(['twilio']))
  })
})

describe('PUT /admin/providers/{channel}', () => {
  it('stores the vendor encrypted, answers with secrets masked, and the send job uses it', async () => {
    const r = await call(acme, 'PUT', '/admin/providers/sms', { vendor: 'twilio', options: twilioOptions() })
    expect(r.statusCode).toBe(200)
    const shown = data(r)
    expect(shown).toMatchObject({ channel: 'sms', vendor: 'twilio', configured: true, updated_at: expect.any(String) })
    expect(shown.options).toEqual({ accountSid: peer.accountSid, authToken: `****${peer.authToken.slice(-4)}`, from: '+15005550006', baseUrl: peer.url })
    expect(r.body).not.toContain(peer.authToken)
    expect(data(await call(acme, 'GET', '/admin/providers/sms'))).toEqual(shown)

    // At rest: one sealed row, no plaintext credential anywhere in it.
    const rows = await storedRows(acme.tenant.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ channel: 'sms', vendor: 'twilio' })
    expect(rows[0]!.sealed_settings).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    for (const secret of [peer.authToken, peer.accountSid, '15005550006', 'authToken']) expect(rows[0]!.sealed_settings).not.toContain(secret)

    // End to end: a message on the channel goes to the configured vendor (the local Twilio).
    const to = uniquePhone()
    const sent = await call(acme, 'POST', '/sandbox/api/outbox', { channel: 'sms', to, body: 'Through Twilio' })
    expect(sent.statusCode).toBe(201)
    const id = String(data(sent).id)
    const done = await waitFor('the message to reach the vendor', async () => {
      const m = data(await call(acme, 'GET', `/sandbox/api/outbox/${id}`))
      return m.status === 'sent' ? m : undefined
    })
    expect(done).toMatchObject({ provider: 'twilio', provider_message_id: expect.stringMatching(/^SM/) })
    expect(peer.messages.filter((m) => m.to === to).map((m) => m.body)).toEqual(['Through Twilio'])

    // Other tenants keep the sandbox; they never see acme's settings.
    expect(data(await call(other, 'GET', '/admin/providers/sms'))).toMatchObject({ vendor: 'sandbox', configured: false, options: {} })
    const mine = await call(other, 'POST', '/sandbox/api/outbox', { channel: 'sms', to, body: 'Sandbox' })
    await waitFor('the other tenant’s message', async () => data(await call(other, 'GET', `/sandbox/api/outbox/${String(data(mine).id)}`)).status === 'sent')
    expect(data(await call(other, 'GET', `/sandbox/api/outbox/${String(data(mine).id)}`)).provider).toBe('sandbox')
    expect(peer.messages.filter((m) => m.to === to)).toHaveLength(1)
  })

  it('answers bad input with a documented 400 (or 415) and stores nothing', async () => {
    const tt = await createTenant(t.services)
    const cases: Array<[string, unknown, number, string, RegExp]> = [
      ['/admin/providers/fax', { vendor: 'sandbox' }, 400, 'invalid_channel', /unknown channel fax/],
      ['/admin/providers/sms', { vendor: 'nexmo' }, 400, 'unknown_vendor', /unknown vendor nexmo; available: sandbox, .*twilio/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { authToken: 'x', from: '+15005550006' } }, 400, 'invalid_provider_options', /accountSid/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), accountSid: 'nope' } }, 400, 'invalid_provider_options', /accountSid/],
      ['/admin/providers/email', { vendor: 'twilio', options: twilioOptions() }, 400, 'invalid_provider_options', /twilio on email/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), baseUrl: 'http://169.254.169.254/latest' } }, 400, 'unsafe_url', /option baseUrl: .*metadata address/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), baseUrl: 'http://10.0.0.1:8080' } }, 400, 'unsafe_url', /private address/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), statusCallback: 'http://user:pw@example.com/cb' } }, 400, 'unsafe_url', /must not carry credentials/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), baseUrl: 'file:///etc/passwd' } }, 400, 'unsafe_url', /only http and https/],
      ['/admin/providers/email', { vendor: 'smtp', options: { host: '10.1.2.3', from: 'care@clinic.example' } }, 400, 'unsafe_url', /^option host: 10\.1\.2\.3 is a private address$/],
      ['/admin/providers/email', { vendor: 'smtp', options: { host: 'metadata.google.internal', from: 'care@clinic.example' } }, 400, 'unsafe_url', /option host: /],
      ['/admin/providers/sms', { vendor: 'twilio', options: { 'bad key': 1 } }, 400, 'invalid_provider_options', /option names/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { provider: 'sandbox' } }, 400, 'invalid_provider_options', /reserved/],
      ['/admin/providers/sms', { vendor: 'sandbox', options: { a: 1 } }, 400, 'invalid_provider_options', /the sandbox takes no options/],
      ['/admin/providers/sms', { vendor: 'twilio', options: { ...twilioOptions(), from: 'x\u0000' } }, 400, 'invalid_provider_options', /NUL/],
      ['/admin/providers/sms', { vendor: 'twilio', extra: 1 }, 400, 'invalid_request', /Unknown parameter extra/],
      ['/admin/providers/sms', {}, 400, 'invalid_request', /vendor is required/],
      ['/admin/providers/sms', { vendor: 'twilio', options: [1] }, 400, 'invalid_request', /options/],
      ['/admin/providers/sms', '{"vendor":', 400, 'invalid_request', /JSON/],
    ]
    for (const [url, payload, status, code, message] of cases) {
      const r = await call(tt, 'PUT', url, payload)
      expect(r.statusCode, JSON.stringify(payload)).toBe(status)
      expect(json(r).code, JSON.stringify(payload)).toBe(code)
      expect(json(r).message, JSON.stringify(payload)).toMatch(message)
    }
    const plain = await call(tt, 'PUT', '/admin/providers/sms', JSON.stringify({ vendor: 'sandbox' }), { 'content-type': 'text/plain' })
    expect(plain.statusCode).toBe(415)
    expect(await storedRows(tt.tenant.id)).toEqual([])
    expect((await call(tt, 'GET', '/admin/providers/fax')).statusCode).toBe(400)
  })

  it('binds sealed settings to their tenant and channel: a row copied elsewhere does not decrypt', async () => {
    const a = await createTenant(t.services)
    const b = await createTenant(t.services)
    expect((await call(a, 'PUT', '/admin/providers/whatsapp', { vendor: 'twilio', options: twilioOptions() })).statusCode).toBe(200)
    await sql`INSERT INTO tenant_provider_settings (tenant_id, channel, vendor, sealed_settings)
      SELECT ${b.tenant.id}, channel, vendor, sealed_settings FROM tenant_provider_settings WHERE tenant_id = ${a.tenant.id}`.execute(t.store.db)
    await expect(t.services.providerSettings.channelSettings(b.tenant.id, 'whatsapp')).rejects.toThrow(/sealed for another tenant or channel/)
    expect(await t.services.providerSettings.channelSettings(a.tenant.id, 'whatsapp')).toMatchObject({ provider: 'twilio', authToken: peer.authToken })
  })
})

describe('DELETE /admin/providers/{channel}', () => {
  it('goes back to the sandbox', async () => {
    const tt = await createTenant(t.services)
    expect((await call(tt, 'PUT', '/admin/providers/sms', { vendor: 'twilio', options: twilioOptions() })).statusCode).toBe(200)
    const del = await call(tt, 'DELETE', '/admin/providers/sms')
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')
    expect(data(await call(tt, 'GET', '/admin/providers/sms'))).toMatchObject({ vendor: 'sandbox', configured: false })
    expect(await t.services.providerSettings.channelSettings(tt.tenant.id, 'sms')).toBeUndefined()
    expect((await call(tt, 'DELETE', '/admin/providers/sms')).statusCode).toBe(204)
    expect((await call(tt, 'DELETE', '/admin/providers/fax')).statusCode).toBe(400)
  })

  it('is documented in its own OpenAPI document', async () => {
    const doc = (await t.app.inject('/openapi/admin.json')).json() as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/providers', '/admin/providers/{channel}', '/admin/suppressions', '/admin/suppressions/{scope}/{address}', '/admin/settings']))
    expect(Object.keys(doc.paths['/admin/providers/{channel}']!)).toEqual(expect.arrayContaining(['get', 'put', 'delete']))
    const cass = (await t.app.inject('/openapi/cass.json')).json() as { paths: Record<string, unknown> }
    expect(Object.keys(cass.paths).filter((p) => p.startsWith('/admin'))).toEqual([])
  })
})
