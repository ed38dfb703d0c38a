import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { TwilioPeer } from '../../../test/peers/twilio.ts'
import type { ChannelProviderSettings } from './delivery.types.ts'

// Retried sends through Twilio (the local peer, with its idempotency de-duplication OFF, so every
// send it accepts is a message sent): a retry whose earlier attempt may have reached Twilio asks
// Twilio's Messages list first and records what it finds instead of sending again.
let t: TestApp
let peer: TwilioPeer
const SENDER = '+15005550006'
const settingsByTenant = new Map<string, ChannelProviderSettings>()

beforeAll(async () => {
  peer = await new TwilioPeer({ numbers: [SENDER], dedupe: false }).start()
  t = await startTestApp({
    workers: true,
    isolated: true,
    // the Twilio peer listens on loopback, which the outbound URL policy refuses by default
    config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' },
    services: {
      sendRetry: { retryDelaySeconds: 1, retryLimit: 4 },
      channelSettings: async (tenantId, channel) => (channel === 'sms' ? settingsByTenant.get(tenantId) : undefined),
    },
  })
})
afterAll(async () => {
  await t?.close()
  await peer?.stop()
})

async function twilioTenant(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  settingsByTenant.set(tt.tenant.id, {
    provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: SENDER, baseUrl: peer.url, timeoutMs: 400, ratePerSecond: 1000,
  })
  return tt
}

const sent = (tt: TestTenant, id: string) => async () => (await t.services.delivery.getOutbox(tt.tenant, id)).status === 'sent'

describe('a retried Twilio send', () => {
  it('is not sent again when the first attempt reached Twilio but its answer was lost (timeout)', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    peer.failNext(1, { kind: 'hang', ms: 1500 })
    const lists = peer.listRequests
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to, body: 'your appointment is at 10' })
    await waitFor('the message to be sent', sent(tt, message.id), 20_000)
    expect(peer.sentTo(to)).toHaveLength(1)
    expect(peer.listRequests - lists).toBeGreaterThanOrEqual(1)
    const row = await t.services.delivery.getOutbox(tt.tenant, message.id)
    // Retried (at least once more: under load the lookup itself may time out and wait its turn),
    // and the one message Twilio holds is the one recorded.
    expect(row.attempts).toBeGreaterThanOrEqual(2)
    expect(row).toMatchObject({ providerMessageId: peer.sentTo(to)[0]!.sid, provider: 'twilio' })
  })

  it('is sent when the lookup finds nothing (the first attempt never got there)', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    peer.failNext(1, { kind: 'status', status: 503 })
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to, body: 'see you soon' })
    await waitFor('the message to be sent', sent(tt, message.id), 20_000)
    expect(peer.sentTo(to)).toHaveLength(1)
    expect((await t.services.delivery.getOutbox(tt.tenant, message.id)).providerMessageId).toBe(peer.sentTo(to)[0]!.sid)
  })

  it('does not take a message another send of the same text to the same person made', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    const first = (await t.services.delivery.send(tt.tenant, { channel: 'sms', to, body: 'take your pill' })).message
    await waitFor('the first to be sent', sent(tt, first.id), 20_000)
    // The same words again, a new message: its first attempt fails before reaching Twilio.
    peer.failNext(1, { kind: 'status', status: 500 })
    const second = (await t.services.delivery.send(tt.tenant, { channel: 'sms', to, body: 'take your pill' })).message
    await waitFor('the second to be sent', sent(tt, second.id), 20_000)
    expect(peer.sentTo(to)).toHaveLength(2)
    const a = await t.services.delivery.getOutbox(tt.tenant, first.id)
    const b = await t.services.delivery.getOutbox(tt.tenant, second.id)
    expect(b.attempts).toBe(2)
    expect(new Set([a.providerMessageId, b.providerMessageId])).toEqual(new Set(peer.sentTo(to).map((m) => m.sid)))
  })

  it('is not sent at all while the lookup fails: the retry waits', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    peer.failNext(1, { kind: 'hang', ms: 1500 })
    peer.failListNext(1)
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to, body: 'one more thing' })
    await waitFor('the message to be sent', sent(tt, message.id), 30_000)
    expect(peer.sentTo(to)).toHaveLength(1)
    expect((await t.services.delivery.getOutbox(tt.tenant, message.id)).attempts).toBe(3)
  })
})
