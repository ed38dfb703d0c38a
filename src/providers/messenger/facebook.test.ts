import { createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GraphPeer } from '../../../test/peers/graph.ts'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startProviderTestApp } from '../../../test/helpers/providers.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { ChannelSettings as ChannelProviderSettings } from '../registry.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { createFacebookMessengerProvider, parseMessengerWebhook } from './facebook.ts'

const TOKEN = 'EAAG-page-token'
const SECRET = 'app-secret-123'
const VERIFY = 'verify-me-please'
let peer: GraphPeer
let t: TestApp & { stop(): Promise<void> }
const settingsByTenant = new Map<string, ChannelProviderSettings>()
const policy = { allowPrivate: true, allowedHosts: [] }
let tenant: Awaited<ReturnType<typeof createTenant>>['tenant']

function settings(overrides: Record<string, unknown> = {}): ChannelProviderSettings {
  return { provider: 'facebook', pageAccessToken: TOKEN, appSecret: SECRET, verifyToken: VERIFY, graphBase: peer.url, ...overrides }
}
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
const post = (body: string, signature: string | undefined, tenantId = tenant.id) => t.app.inject({
  method: 'POST', url: `/webhooks/messenger/${tenantId}`, payload: body,
  headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
})
const messaging = (events: unknown[]) => JSON.stringify({ object: 'page', entry: [{ id: '1234567890', time: Date.now(), messaging: events }] })

beforeAll(async () => {
  peer = await new GraphPeer(TOKEN, SECRET).start()
  t = await startProviderTestApp(settingsByTenant)
  tenant = (await createTenant(t.services)).tenant
  settingsByTenant.set(`${tenant.id}:messenger`, settings())
})
afterAll(async () => {
  await t?.stop()
  await peer?.stop()
})

describe('Messenger Send API provider', () => {
  it('posts {recipient, messaging_type, message} with the page token and appsecret_proof', async () => {
    const fb = createFacebookMessengerProvider('messenger', settings(), { urlPolicy: policy })
    const r = await fb.send({ id: randomUUID(), channel: 'messenger', to: '24000001', body: 'Hello from the clinic', data: { quickReplies: [{ title: 'Yes' }, { title: 'No', payload: 'NO' }] } })
    expect(r.providerMessageId).toMatch(/^m_/)
    expect(peer.sends.at(-1)).toMatchObject({
      path: '/v21.0/me/messages',
      body: { recipient: { id: '24000001' }, messaging_type: 'RESPONSE', message: { text: 'Hello from the clinic', quick_replies: [{ content_type: 'text', title: 'Yes', payload: 'Yes' }, { content_type: 'text', title: 'No', payload: 'NO' }] } },
    })
    const byPage = createFacebookMessengerProvider('messenger', settings({ pageId: peer.pageId, graphVersion: 'v19.0' }), { urlPolicy: policy })
    await byPage.send({ id: randomUUID(), channel: 'messenger', to: '24000001', body: 'update', data: { messagingType: 'MESSAGE_TAG', tag: 'CONFIRMED_EVENT_UPDATE' } })
    expect(peer.sends.at(-1)).toMatchObject({ path: `/v19.0/${peer.pageId}/messages`, body: { messaging_type: 'MESSAGE_TAG', tag: 'CONFIRMED_EVENT_UPDATE' } })
  })

  it('maps Graph errors: 613/4/32 rate limits retry; 551, 100 and 10 are permanent; 190 is bad credentials', async () => {
    const fb = createFacebookMessengerProvider('messenger', settings(), { urlPolicy: policy })
    const send = () => fb.send({ id: randomUUID(), channel: 'messenger', to: '24000002', body: 'x' })
    peer.failNext.push({ status: 400, code: 613 }, { status: 400, code: 4 }, { status: 400, code: 32 }, { status: 400, code: 10 }, { status: 400, code: 100, subcode: 2018001 }, { status: 500, code: 2 })
    for (let i = 0; i < 3; i++) await expect(send()).rejects.toMatchObject({ code: 'rate_limited', retryable: true })
    await expect(send()).rejects.toMatchObject({ code: 'rejected', retryable: false })
    await expect(send()).rejects.toMatchObject({ code: 'invalid_recipient', retryable: false })
    await expect(send()).rejects.toMatchObject({ code: 'unavailable', retryable: true, status: 500 })
    peer.unavailable.add('24000003')
    await expect(fb.send({ id: randomUUID(), channel: 'messenger', to: '24000003', body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient', retryable: false })
    const badToken = createFacebookMessengerProvider('messenger', settings({ pageAccessToken: 'wrong' }), { urlPolicy: policy })
    await expect(badToken.send({ id: randomUUID(), channel: 'messenger', to: '1', body: 'x' })).rejects.toMatchObject({ code: 'auth_failed', retryable: false })
    await expect(fb.send({ id: randomUUID(), channel: 'messenger', to: '1', body: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 'invalid_message' })
    expect(() => createFacebookMessengerProvider('messenger', { provider: 'facebook' })).toThrow(/pageAccessToken/)
  })

  it('reads webhook events: messages, postbacks, attachments; skips echoes; delivery and read receipts', () => {
    const events = parseMessengerWebhook(JSON.parse(messaging([
      { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 1, message: { mid: 'm1', text: 'hi' } },
      { sender: { id: 'PAGE' }, recipient: { id: 'P1' }, timestamp: 2, message: { mid: 'm2', text: 'echo', is_echo: true } },
      { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 3, message: { mid: 'm3', attachments: [{ type: 'image', payload: { url: 'https://cdn.example/x.jpg' } }] } },
      { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 4, postback: { mid: 'm4', title: 'Book', payload: 'BOOK' } },
      { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 5, delivery: { mids: ['m_out'], watermark: 5 } },
      { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 6, read: { watermark: 6 } },
    ])))
    expect(events).toEqual([
      { kind: 'message', message: { channel: 'messenger', from: 'P1', to: 'PAGE', body: 'hi', providerMessageId: 'm1', data: {} } },
      { kind: 'message', message: { channel: 'messenger', from: 'P1', to: 'PAGE', body: '[image]', providerMessageId: 'm3', data: { attachments: [{ type: 'image', url: 'https://cdn.example/x.jpg' }] } } },
      { kind: 'message', message: { channel: 'messenger', from: 'P1', to: 'PAGE', body: 'Book', providerMessageId: 'm4', data: { postback: 'BOOK' } } },
      { kind: 'status', status: 'delivered', providerMessageIds: ['m_out'], recipient: 'P1', before: new Date(5) },
      { kind: 'status', status: 'delivered', recipient: 'P1', before: new Date(6) },
    ])
    expect(() => parseMessengerWebhook({ object: 'instagram', entry: [] })).toThrow(/object/)
  })
})

describe('Messenger webhooks', () => {
  it('answers the verify-token handshake, and refuses a wrong token, an unknown tenant and an unconfigured one', async () => {
    const q = (token: string, id: string = tenant.id) => t.app.inject({ method: 'GET', url: `/webhooks/messenger/${id}?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444` })
    const ok = await q(VERIFY)
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toBe('1158201444')
    expect((await q('wrong')).statusCode).toBe(403)
    expect((await q(VERIFY, randomUUID())).statusCode).toBe(403)
    expect((await q(VERIFY, 'not-a-uuid')).statusCode).toBe(403)
    const other = await createTenant(t.services)
    expect((await q(VERIFY, other.tenant.id)).statusCode).toBe(403)
  })

  it('stores signed messages once (as inbound messages from the PSID), and refuses a wrong signature without storing anything', async () => {
    const psid = `PSID${Date.now()}`
    const mid = `m_${randomUUID()}`
    const body = messaging([
      { sender: { id: psid }, recipient: { id: peer.pageId }, timestamp: Date.now(), message: { mid, text: 'Can I move my appointment?' } },
      { sender: { id: peer.pageId }, recipient: { id: psid }, timestamp: Date.now(), message: { mid: `m_${randomUUID()}`, text: 'our own echo', is_echo: true } },
    ])
    const forged = await post(body, sign(body, 'not-the-secret'))
    expect(forged.statusCode).toBe(403)
    expect((await post(body, undefined)).statusCode).toBe(403)
    // A signature over other bytes (re-serialised JSON) does not match either.
    expect((await post(body, sign(JSON.stringify(JSON.parse(body), null, 1)))).statusCode).toBe(403)
    expect((await t.services.delivery.listInbound(tenant, { channel: 'messenger' })).filter((m) => m.from === psid)).toHaveLength(0)

    const res = await post(body, sign(body))
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('EVENT_RECEIVED')
    expect((await post(body, sign(body))).statusCode).toBe(200) // Meta redelivers; stored once
    const stored = (await t.services.delivery.listInbound(tenant, { channel: 'messenger' })).filter((m) => m.from === psid)
    expect(stored).toMatchObject([{ channel: 'messenger', from: psid, body: 'Can I move my appointment?', provider: 'facebook', providerMessageId: mid }])

    const bad = 'not json'
    expect((await post(bad, sign(bad))).statusCode).toBe(400)
    const wrongShape = JSON.stringify({ object: 'page', entry: 'nope' })
    expect((await post(wrongShape, sign(wrongShape))).statusCode).toBe(400)
  })

  it('end to end: delivery.send → worker → Graph peer; the delivery receipt marks it delivered', async () => {
    const psid = `PSID${Date.now()}`
    const { message } = await t.services.delivery.send(tenant, { channel: 'messenger', to: psid, body: 'Your appointment is confirmed', data: { messagingType: 'UPDATE' } })
    const sent = await waitFor('the message to be sent', async () => {
      const m = await t.services.delivery.getOutbox(tenant, message.id)
      return m.status === 'sent' ? m : undefined
    })
    expect(sent.provider).toBe('facebook')
    expect(peer.sends.filter((s) => s.body.recipient?.id === psid)).toMatchObject([{ body: { messaging_type: 'UPDATE', message: { text: 'Your appointment is confirmed' } } }])
    const receipt = messaging([{ sender: { id: psid }, recipient: { id: peer.pageId }, timestamp: Date.now(), delivery: { mids: [sent.providerMessageId], watermark: Date.now() } }])
    expect((await post(receipt, sign(receipt))).statusCode).toBe(200)
    expect((await t.services.delivery.getOutbox(tenant, message.id)).status).toBe('delivered')

    // A read watermark marks every earlier message to that person delivered.
    const second = await t.services.delivery.send(tenant, { channel: 'messenger', to: psid, body: 'See you then' })
    await waitFor('the second to be sent', async () => (await t.services.delivery.getOutbox(tenant, second.message.id)).status === 'sent')
    const read = messaging([{ sender: { id: psid }, recipient: { id: peer.pageId }, timestamp: Date.now(), read: { watermark: Date.now() + 1000 } }])
    expect((await post(read, sign(read))).statusCode).toBe(200)
    expect((await t.services.delivery.getOutbox(tenant, second.message.id)).status).toBe('delivered')
  })
})
