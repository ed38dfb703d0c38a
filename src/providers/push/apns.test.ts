import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApnsPeer } from '../../../test/peers/apns.ts'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startProviderTestApp } from '../../../test/helpers/providers.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { ChannelSettings as ChannelProviderSettings } from '../registry.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { ProviderError } from '../types.ts'
import { createApnsProvider } from './apns.ts'

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const TEAM = 'TEAM123456'
const KEY_ID = 'KEY1234567'
const TOPIC = 'org.example.care'
let peer: ApnsPeer
let t: TestApp & { stop(): Promise<void> }
const settingsByTenant = new Map<string, ChannelProviderSettings>()
const token = () => randomBytes(32).toString('hex')

function settings(overrides: Record<string, unknown> = {}): ChannelProviderSettings {
  return {
    provider: 'apns', teamId: TEAM, keyId: KEY_ID, topic: TOPIC, environment: 'sandbox',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), baseUrl: peer.url, ca: peer.cert.cert, ...overrides,
  }
}
const policy = { allowPrivate: true, allowedHosts: [] }

beforeAll(async () => {
  peer = await new ApnsPeer({ teamId: TEAM, keyId: KEY_ID, topic: TOPIC, publicKey }).start()
  t = await startProviderTestApp(settingsByTenant)
})
afterAll(async () => {
  await t?.stop()
  await peer?.stop()
})

describe('APNs provider', () => {
  it('sends an alert over one HTTP/2 connection with a JWT Apple accepts, reused across pushes', async () => {
    const apns = createApnsProvider('push', settings(), { urlPolicy: policy })
    const id = crypto.randomUUID()
    const device = token()
    const result = await apns.send({
      id, channel: 'push', to: device, subject: 'Appointment', body: 'Tomorrow at 10:00',
      data: { badge: 3, sound: 'default', collapseId: 'appt-1', expiration: 1_900_000_000, priority: 10, visitId: 'v-42' },
    })
    expect(result).toEqual({ providerMessageId: id, status: 'sent' })
    await apns.send({ id: crypto.randomUUID(), channel: 'push', to: device, body: 'second', data: { pushType: 'background' } })
    const [first, second] = peer.pushes.slice(-2)
    expect(first).toMatchObject({
      deviceToken: device,
      headers: { 'apns-topic': TOPIC, 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-expiration': '1900000000', 'apns-collapse-id': 'appt-1', 'apns-id': id },
      payload: { aps: { alert: { title: 'Appointment', body: 'Tomorrow at 10:00' }, badge: 3, sound: 'default' }, visitId: 'v-42' },
    })
    expect(second).toMatchObject({ headers: { 'apns-push-type': 'background', 'apns-priority': '5' }, payload: { aps: { 'content-available': 1 } } })
    // The provider token is signed once and reused (Apple throttles refreshes), on one connection.
    expect(second!.jwt).toBe(first!.jwt)
    const sessions = peer.sessions
    await apns.send({ id: crypto.randomUUID(), channel: 'push', to: device, body: 'third' })
    expect(peer.sessions).toBe(sessions)
    await apns.close?.()
  })

  it('maps Apple’s answers: Unregistered and BadDeviceToken are permanent, 429 and 5xx retry', async () => {
    const apns = createApnsProvider('push', settings(), { urlPolicy: policy })
    const gone = token()
    peer.unregistered.add(gone)
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: gone, body: 'x' })).rejects.toMatchObject({ code: 'unregistered', status: 410, retryable: false })
    const bad = token()
    peer.bad.add(bad)
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: bad, body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient', status: 400, retryable: false })
    peer.failNext.push({ status: 429, reason: 'TooManyRequests' }, { status: 503, reason: 'ServiceUnavailable' })
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: token(), body: 'x' })).rejects.toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1000 })
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: token(), body: 'x' })).rejects.toMatchObject({ code: 'unavailable', retryable: true })
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: 'not-hex', body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient' })
    await expect(apns.send({ id: crypto.randomUUID(), channel: 'push', to: token(), body: 'x'.repeat(5000) })).rejects.toMatchObject({ code: 'payload_too_large' })
    // A key Apple does not know: refused for good.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const wrong = createApnsProvider('push', settings({ privateKey: other }), { urlPolicy: policy })
    await expect(wrong.send({ id: crypto.randomUUID(), channel: 'push', to: token(), body: 'x' })).rejects.toMatchObject({ code: 'auth_failed', status: 403, retryable: false })
    await apns.close?.()
    await wrong.close?.()
  })

  it('refuses bad settings, and a private base URL under the strict policy', async () => {
    expect(() => createApnsProvider('push', { provider: 'apns', keyId: KEY_ID, topic: TOPIC, privateKey: 'x' })).toThrow(ProviderError)
    expect(() => createApnsProvider('push', settings({ privateKey: 'not a key' }))).toThrow(/privateKey/)
    expect(() => createApnsProvider('push', settings({ environment: 'staging' }))).toThrow(/environment/)
    expect(() => createApnsProvider('sms' as 'push', settings())).toThrow(/does not send sms/)
    const strict = createApnsProvider('push', settings())
    await expect(strict.send({ id: crypto.randomUUID(), channel: 'push', to: token(), body: 'x' })).rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false })
  })

  it('end to end: delivery.send → worker → APNs peer, and an unregistered device fails the message', async () => {
    const { tenant } = await createTenant(t.services)
    settingsByTenant.set(`${tenant.id}:push`, settings())
    const device = token()
    const { message } = await t.services.delivery.send(tenant, { channel: 'push', to: device, subject: 'Hello', body: 'From the care team', data: { badge: 1 } })
    const sent = await waitFor('the push to be sent', async () => {
      const m = await t.services.delivery.getOutbox(tenant, message.id)
      return m.status === 'sent' ? m : undefined
    })
    expect(sent).toMatchObject({ provider: 'apns', providerMessageId: message.id, attempts: 1 })
    expect(peer.pushes.filter((p) => p.deviceToken === device)).toHaveLength(1)

    const gone = token()
    peer.unregistered.add(gone)
    const failed = await t.services.delivery.send(tenant, { channel: 'push', to: gone, body: 'x' })
    const f = await waitFor('the failure', async () => {
      const m = await t.services.delivery.getOutbox(tenant, failed.message.id)
      return m.status === 'failed' ? m : undefined
    })
    expect(f).toMatchObject({ attempts: 1, lastError: expect.stringContaining('Unregistered') })
  })
})
