import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../app.ts'
import { createServices, type Services } from '../services.ts'
import type { Store } from '../db/store.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../test/factories/tenants.ts'
import { testConfig } from '../../test/helpers/app.ts'
import { openTestStore } from '../../test/helpers/store.ts'
import { createMetrics } from './metrics.ts'
import { redactUrl } from './log-redaction.ts'

// The real request log (pino at `info`, as `npm start` runs it) written to a stream this test reads.

let store: Store
let services: Services
let app: Awaited<ReturnType<typeof buildApp>>
let acme: TestTenant
const lines: string[] = []

beforeAll(async () => {
  store = await openTestStore()
  services = createServices(testConfig(), store)
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  app = await buildApp({ services, metrics: createMetrics(), logger: pino({ level: 'info' }, sink) })
  await app.ready()
  acme = await createTenant(services)
})
afterAll(async () => {
  await app?.close()
  await services?.providers.close()
  await store?.close()
})

describe('the request log', () => {
  it('holds no token after a legacy query-auth request, a Basic request and an embed token request', async () => {
    const { client, token } = acme.credentials.cass
    lines.length = 0
    const r = await app.inject({ method: 'POST', url: `/external_person?client=${client}&auth=${encodeURIComponent(token)}&phone=${encodeURIComponent(uniquePhone())}` })
    expect(r.statusCode, r.body).toBe(200)
    const basic = await app.inject({ url: '/admin/threads', headers: { authorization: acme.cassAuth } })
    expect(basic.statusCode).toBe(200)
    const company = encodeURIComponent(acme.tenant.cassClient)
    const session = await app.inject({ method: 'POST', url: `/embed/1/${company}/api/session`, payload: { auth_code: acme.tenant.embedCode } })
    expect(session.statusCode, session.body).toBe(200)
    const chatToken = (JSON.parse(session.body) as { token: string }).token
    const history = await app.inject(`/embed/1/${company}/api/messages?auth_code=${acme.tenant.embedCode}&token=${encodeURIComponent(chatToken)}`)
    expect(history.statusCode, history.body).toBe(200)
    // Messenger's handshake carries the verify token in the URL.
    await app.inject(`/webhooks/messenger/${acme.tenant.id}?hub.mode=subscribe&hub.verify_token=verify-secret-123&hub.challenge=1`)

    const log = lines.join('\n')
    expect(log).toContain('incoming request')
    expect(log).toContain(`/external_person?client=${client}&auth=[REDACTED]`)
    expect(log).toContain('token=[REDACTED]')
    for (const secret of [token, encodeURIComponent(token), chatToken, encodeURIComponent(chatToken), acme.cassAuth.slice(6), 'verify-secret-123']) {
      expect(log).not.toContain(secret)
    }
  })

  it('censors credential headers and body fields wherever a line logs them', async () => {
    lines.length = 0
    app.log.info({ req: { headers: { authorization: 'Basic c2VjcmV0' } }, body: { auth: 'tok-1', token: 'tok-2' }, settings: { authToken: 'tok-3' } }, 'probe')
    const log = lines.join('\n')
    for (const secret of ['c2VjcmV0', 'tok-1', 'tok-2', 'tok-3']) expect(log).not.toContain(secret)
  })
})

describe('redactUrl', () => {
  it('replaces secret parameters in any spelling and keeps the rest', () => {
    expect(redactUrl('/x?client=acme&auth=s3cret&phone=1')).toBe('/x?client=acme&auth=[REDACTED]&phone=1')
    expect(redactUrl('/x?AUTH=a&%61uth=b&token=c&auth_code=public&hub.verify_token=v')).toBe('/x?AUTH=[REDACTED]&%61uth=[REDACTED]&token=[REDACTED]&auth_code=public&hub.verify_token=[REDACTED]')
    expect(redactUrl('/x?auth')).toBe('/x?auth')
    expect(redactUrl('/x?%E0%A4%A=1&auth=z')).toBe('/x?%E0%A4%A=1&auth=[REDACTED]')
    expect(redactUrl('/no/query')).toBe('/no/query')
  })
})
