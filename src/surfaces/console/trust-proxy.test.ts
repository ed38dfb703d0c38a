import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { LOCKOUT } from '../../core/console/index.ts'

// Behind a reverse proxy (SWITCHBOARD_TRUST_PROXY), the console's address lockout counts the client
// that X-Forwarded-For names, not the proxy every request comes from: one guessing client is locked
// out, another behind the same proxy still signs in. Without the setting the header is ignored.
let proxied: TestApp
let direct: TestApp
beforeAll(async () => {
  proxied = await startTestApp({ config: { SWITCHBOARD_TRUST_PROXY: '10.9.0.1' } })
  direct = await startTestApp()
}, 180_000)
afterAll(async () => {
  await proxied?.close()
  await direct?.close()
})

const attempt = (t: TestApp, client: string, login: { email: string; password: string }) => t.app.inject({
  method: 'POST', url: '/console/api/session', remoteAddress: '10.9.0.1',
  headers: { 'content-type': 'application/json', 'x-forwarded-for': client }, payload: JSON.stringify(login),
})

it('locks out the forwarded client address behind a trusted proxy, not the proxy', async () => {
  const owner = await proxied.services.console.createOwner((await createTenant(proxied.services)).tenant)
  const login = { email: owner.user.email, password: owner.password }
  for (let i = 0; i < LOCKOUT.addressFailures; i++) expect((await attempt(proxied, '203.0.113.7', { email: `guess-${i}@example.org`, password: 'guess-guess-guess' })).statusCode).toBe(401)
  expect((await attempt(proxied, '203.0.113.7', login)).statusCode).toBe(429)
  // Another client behind the same proxy is not locked out by it.
  expect((await attempt(proxied, '198.51.100.20', login)).statusCode).toBe(200)
})

it('ignores X-Forwarded-For without SWITCHBOARD_TRUST_PROXY: a client cannot pick its address', async () => {
  const owner = await direct.services.console.createOwner((await createTenant(direct.services)).tenant)
  const login = { email: owner.user.email, password: owner.password }
  // Each guess claims another address; they are all the connecting one, which gets locked out.
  for (let i = 0; i < LOCKOUT.addressFailures; i++) expect((await attempt(direct, `203.0.113.${i + 1}`, { email: `guess-${i}@example.org`, password: 'guess-guess-guess' })).statusCode).toBe(401)
  expect((await attempt(direct, '198.51.100.20', login)).statusCode).toBe(429)
})
