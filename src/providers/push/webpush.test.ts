import { randomUUID } from 'node:crypto'
import webpush from 'web-push'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebPushPeer } from '../../../test/peers/webpush.ts'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startProviderTestApp } from '../../../test/helpers/providers.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { ChannelSettings as ChannelProviderSettings } from '../registry.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { createWebPushProvider } from './webpush.ts'

const vapid = webpush.generateVAPIDKeys()
let peer: WebPushPeer
let t: TestApp & { stop(): Promise<void> }
const settingsByTenant = new Map<string, ChannelProviderSettings>()
const policy = { allowPrivate: true, allowedHosts: [] }
const settings: ChannelProviderSettings = { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.org' }

beforeAll(async () => {
  peer = await new WebPushPeer({ vapidPublicKey: vapid.publicKey }).start()
  t = await startProviderTestApp(settingsByTenant)
})
afterAll(async () => {
  await t?.stop()
  await peer?.stop()
})

describe('Web Push provider', () => {
  it('encrypts for the subscription (aes128gcm) with a VAPID signature the push service verifies', async () => {
    const provider = createWebPushProvider('push', settings, { urlPolicy: policy })
    const sub = peer.subscribe()
    const result = await provider.send({
      id: randomUUID(), channel: 'push', to: JSON.stringify(sub), subject: 'New message', body: 'Your nurse wrote to you',
      data: { url: '/inbox', urgency: 'high', ttl: 600, collapseId: 'inbox' },
    })
    expect(result.providerMessageId).toMatch(/\/message\//)
    const push = peer.pushes.at(-1)!
    expect(JSON.parse(push.payload)).toEqual({ title: 'New message', body: 'Your nurse wrote to you', data: { url: '/inbox' } })
    expect(push).toMatchObject({ ttl: '600', urgency: 'high', topic: 'inbox', vapid: { sub: 'mailto:ops@example.org', aud: peer.url } })
    // The endpoint as `to`, the keys in data.
    await provider.send({ id: randomUUID(), channel: 'push', to: sub.endpoint, body: 'second', data: { keys: sub.keys } })
    expect(JSON.parse(peer.pushes.at(-1)!.payload)).toMatchObject({ body: 'second', data: {} })
    expect(JSON.parse(peer.pushes.at(-1)!.payload)).not.toHaveProperty('category')
    // The category travels beside the app's data, for the service worker to pick the actions.
    await provider.send({ id: randomUUID(), channel: 'push', to: JSON.stringify(sub), body: 'third', data: { category: 'visit-reminder', url: '/visits' } })
    expect(JSON.parse(peer.pushes.at(-1)!.payload)).toEqual({ title: '', body: 'third', data: { url: '/visits' }, category: 'visit-reminder' })
  })

  it('treats a gone subscription (404/410) as permanent, and refuses bad recipients and private endpoints under the strict policy', async () => {
    const provider = createWebPushProvider('push', settings, { urlPolicy: policy })
    const sub = peer.subscribe()
    peer.gone.add(sub.endpoint.split('/').at(-1)!)
    await expect(provider.send({ id: randomUUID(), channel: 'push', to: JSON.stringify(sub), body: 'x' })).rejects.toMatchObject({ code: 'unregistered', status: 410, retryable: false })
    await expect(provider.send({ id: randomUUID(), channel: 'push', to: `${peer.url}/push/${randomUUID()}`, body: 'x', data: { keys: sub.keys } })).rejects.toMatchObject({ code: 'unregistered', status: 404 })
    await expect(provider.send({ id: randomUUID(), channel: 'push', to: '{"endpoint":"https://x.example/1"}', body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient' })
    await expect(provider.send({ id: randomUUID(), channel: 'push', to: 'device-token', body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient' })
    const strict = createWebPushProvider('push', settings)
    await expect(strict.send({ id: randomUUID(), channel: 'push', to: JSON.stringify(peer.subscribe()), body: 'x' })).rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false })
    expect(() => createWebPushProvider('push', { ...settings, vapidPrivateKey: 'short' })).toThrow(/webpush/)
    expect(() => createWebPushProvider('push', { ...settings, subject: 'ops@example.org' })).toThrow(/webpush/)
  })

  it('end to end: delivery.send → worker → push service, which decrypts it', async () => {
    const { tenant } = await createTenant(t.services)
    settingsByTenant.set(`${tenant.id}:push`, settings)
    const sub = peer.subscribe()
    const { message } = await t.services.delivery.send(tenant, { channel: 'push', to: JSON.stringify(sub), subject: 'Check-in', body: 'How are you feeling today?' })
    await waitFor('the push to be sent', async () => (await t.services.delivery.getOutbox(tenant, message.id)).status === 'sent')
    expect(peer.pushes.map((p) => JSON.parse(p.payload).body)).toContain('How are you feeling today?')
  })
})
