import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FcmPeer } from '../../../test/peers/fcm.ts'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startProviderTestApp } from '../../../test/helpers/providers.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { ChannelSettings as ChannelProviderSettings } from '../registry.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { createFcmProvider } from './fcm.ts'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const EMAIL = 'switchboard@care-app.iam.gserviceaccount.com'
const PROJECT = 'care-app'
let peer: FcmPeer
let t: TestApp & { stop(): Promise<void> }
const settingsByTenant = new Map<string, ChannelProviderSettings>()
const policy = { allowPrivate: true, allowedHosts: [] }

function settings(): ChannelProviderSettings {
  const serviceAccount = {
    type: 'service_account', project_id: PROJECT, private_key_id: 'k1', client_email: EMAIL,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), token_uri: peer.tokenUri,
  }
  // As the CLI would store it: the service account JSON as a string.
  return { provider: 'fcm', serviceAccount: JSON.stringify(serviceAccount), baseUrl: peer.url }
}

beforeAll(async () => {
  peer = await new FcmPeer({ clientEmail: EMAIL, publicKey, project: PROJECT }).start()
  t = await startProviderTestApp(settingsByTenant)
})
afterAll(async () => {
  await t?.stop()
  await peer?.stop()
})

describe('FCM HTTP v1 provider', () => {
  it('gets an access token with the service account’s signed JWT, caches it, and sends v1 messages', async () => {
    const fcm = createFcmProvider('push', settings(), { urlPolicy: policy })
    const before = peer.tokensIssued
    const results = await Promise.all([1, 2, 3].map((n) => fcm.send({
      id: randomUUID(), channel: 'push', to: `reg-token-${n}`, subject: 'Reminder', body: `Take your medication (${n})`,
      data: { visitId: 42, kind: 'reminder', collapseId: 'meds', ttl: 3600, badge: 2 },
    })))
    expect(results.every((r) => /^projects\/care-app\/messages\//.test(r.providerMessageId))).toBe(true)
    // Three concurrent sends, one token request.
    expect(peer.tokensIssued - before).toBe(1)
    expect(peer.messages.at(-1)!.message).toMatchObject({
      token: 'reg-token-3', notification: { title: 'Reminder', body: 'Take your medication (3)' },
      data: { visitId: '42', kind: 'reminder' }, android: { collapse_key: 'meds', ttl: '3600s' }, apns: { payload: { aps: { badge: 2 } } },
    })
    // A revoked token: fetched again once, and the send goes through.
    peer.revokeTokens()
    await fcm.send({ id: randomUUID(), channel: 'push', to: 'reg-token-4', body: 'again' })
    expect(peer.tokensIssued - before).toBe(2)
    // A category picks the notification's actions on both platforms.
    await fcm.send({ id: randomUUID(), channel: 'push', to: 'reg-token-5', body: 'with actions', data: { category: 'visit-reminder' } })
    expect(peer.messages.at(-1)!.message).toMatchObject({
      android: { notification: { click_action: 'visit-reminder' } }, apns: { payload: { aps: { category: 'visit-reminder' } } },
    })
    expect(peer.messages.at(-1)!.message).not.toHaveProperty('data')
  })

  it('maps FCM errors: UNREGISTERED and INVALID_ARGUMENT permanent; UNAVAILABLE, INTERNAL and 429 retry with Retry-After', async () => {
    const fcm = createFcmProvider('push', settings(), { urlPolicy: policy })
    peer.unregistered.add('gone-token')
    await expect(fcm.send({ id: randomUUID(), channel: 'push', to: 'gone-token', body: 'x' })).rejects.toMatchObject({ code: 'unregistered', status: 404, retryable: false })
    peer.failNext.push(
      { status: 400, errorCode: 'INVALID_ARGUMENT' },
      { status: 503, errorCode: 'UNAVAILABLE', retryAfter: '7' },
      { status: 500, errorCode: 'INTERNAL' },
      { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: '30' },
    )
    const send = () => fcm.send({ id: randomUUID(), channel: 'push', to: 'tok', body: 'x' })
    await expect(send()).rejects.toMatchObject({ code: 'invalid_message', retryable: false })
    await expect(send()).rejects.toMatchObject({ code: 'unavailable', retryable: true, retryAfterMs: 7000 })
    await expect(send()).rejects.toMatchObject({ code: 'unavailable', retryable: true, status: 500 })
    await expect(send()).rejects.toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 30_000 })
    // A key Google does not know: the grant is refused, for good.
    const wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const sa = JSON.parse(String(settings().serviceAccount))
    const wrong = createFcmProvider('push', { provider: 'fcm', serviceAccount: { ...sa, private_key: wrongKey }, baseUrl: peer.url }, { urlPolicy: policy })
    await expect(wrong.send({ id: randomUUID(), channel: 'push', to: 'tok', body: 'x' })).rejects.toMatchObject({ code: 'auth_failed', status: 400, retryable: false })
  })

  it('refuses bad settings', () => {
    expect(() => createFcmProvider('push', { provider: 'fcm' })).toThrow(/serviceAccount/)
    expect(() => createFcmProvider('push', { provider: 'fcm', serviceAccount: '{not json' })).toThrow(/not JSON/)
    expect(() => createFcmProvider('push', { provider: 'fcm', serviceAccount: { client_email: EMAIL, private_key: 'x', project_id: 'p' } })).toThrow(/PEM/)
  })

  it('end to end: delivery.send → worker → FCM peer', async () => {
    const { tenant } = await createTenant(t.services)
    settingsByTenant.set(`${tenant.id}:push`, settings())
    const to = `reg-${randomUUID()}`
    const { message } = await t.services.delivery.send(tenant, { channel: 'push', to, subject: 'Hi', body: 'Your results are ready', data: { screen: 'results' } })
    const sent = await waitFor('the push to be sent', async () => {
      const m = await t.services.delivery.getOutbox(tenant, message.id)
      return m.status === 'sent' ? m : undefined
    })
    expect(sent).toMatchObject({ provider: 'fcm', providerMessageId: expect.stringMatching(/^projects\/care-app\/messages\//) })
    expect(peer.messages.filter((m) => m.message.token === to).map((m) => m.message.data)).toEqual([{ screen: 'results' }])
  })
})
