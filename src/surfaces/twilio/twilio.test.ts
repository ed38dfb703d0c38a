import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { freePort } from '../../../test/helpers/process.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { TwilioPeer } from '../../../test/peers/twilio.ts'
import type { ChannelProviderSettings } from '../../core/delivery/index.ts'

// Twilio end to end: the app listening on a real port (its public URL is what Twilio signs), the
// Twilio provider sending to a local Twilio peer, the peer posting signed status callbacks and
// inbound messages back. The app has a database of its own (so no other test file's workers take
// these jobs) and one-second retries.
let t: TestApp
let peer: TwilioPeer
const SENDER = '+15005550006'
const settingsByTenant = new Map<string, ChannelProviderSettings>()
/** Tenants whose Twilio account is configured for WhatsApp only (SMS stays on the sandbox). */
const whatsappOnly = new Set<string>()

beforeAll(async () => {
  peer = await new TwilioPeer({ numbers: [SENDER], optedOut: ['+14155550199'] }).start()
  const port = await freePort()
  t = await startTestApp({
    workers: true,
    listen: true, port, isolated: true,
    // The peer is on loopback: allowed by the operator's list, as a closed network would.
    config: { SWITCHBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`, SWITCHBOARD_ALLOWED_URL_HOSTS: '127.0.0.1' },
    services: {
      sendRetry: { retryDelaySeconds: 1, retryLimit: 4 },
      channelSettings: async (tenantId, channel) => (channel === 'whatsapp' || (channel === 'sms' && !whatsappOnly.has(tenantId)) ? settingsByTenant.get(tenantId) : undefined),
    },
  })
})
afterAll(async () => {
  await t?.close()
  await peer?.stop()
})

async function twilioTenant(extra: Record<string, unknown> = {}): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  settingsByTenant.set(tt.tenant.id, {
    provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: SENDER, baseUrl: peer.url, timeoutMs: 500, ratePerSecond: 1000, ...extra,
  })
  return tt
}

type Json = Record<string, unknown>
async function outbox(tt: TestTenant, id: string): Promise<Json> {
  const r = await t.app.inject({ url: `/sandbox/api/outbox/${id}`, headers: { authorization: tt.cassAuth } })
  return (r.json() as { data: Json }).data
}
async function send(tt: TestTenant, body: Json): Promise<string> {
  const r = await t.app.inject({ method: 'POST', url: '/sandbox/api/outbox', headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  expect(r.statusCode).toBe(201)
  return (r.json() as { data: { id: string } }).data.id
}
const statusIs = (tt: TestTenant, id: string, status: string) => async () => (await outbox(tt, id)).status === status

describe('sending through Twilio', () => {
  it('posts the Messages API form with Basic auth, our id as idempotency token and our status callback; records sid, segments and encoding', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    const id = await send(tt, { channel: 'sms', to, body: 'Ваш визит завтра в 10:00' })
    await waitFor('the message to be sent', statusIs(tt, id, 'sent'))
    const [m] = peer.sentTo(to)
    expect(peer.sentTo(to)).toHaveLength(1)
    expect(m).toMatchObject({ to, from: SENDER, body: 'Ваш визит завтра в 10:00', idempotencyToken: id, statusCallback: `${t.url}/webhooks/twilio/${tt.tenant.id}/status?message=${id}` })
    expect(await outbox(tt, id)).toMatchObject({ provider: 'twilio', provider_message_id: m!.sid, attempts: 1 })
    expect(await t.services.tracking.segments(tt.tenant, id)).toEqual({ segments: 1, encoding: 'UCS-2' })
    const long = await send(tt, { channel: 'sms', to, body: 'x'.repeat(200) + '€' })
    await waitFor('the long one', statusIs(tt, long, 'sent'))
    expect(await t.services.tracking.segments(tt.tenant, long)).toEqual({ segments: 2, encoding: 'GSM-7' })
  })

  it('sends WhatsApp as whatsapp:+E164 with media URLs, and authenticates with an API key', async () => {
    const tt = await twilioTenant({ authToken: undefined, apiKeySid: 'SK' + 'a'.repeat(32), apiKeySecret: 'key-secret' })
    peer.apiKeys.set('SK' + 'a'.repeat(32), 'key-secret')
    const to = uniquePhone()
    const r = await t.services.delivery.send(tt.tenant, { channel: 'whatsapp', to, body: 'Your results', data: { mediaUrls: ['https://example.org/a.pdf', 'https://example.org/b.png'] } })
    await waitFor('the WhatsApp message', statusIs(tt, r.message.id, 'sent'))
    expect(peer.sentTo(to)[0]).toMatchObject({ to: `whatsapp:${to}`, from: `whatsapp:${SENDER}`, mediaUrls: ['https://example.org/a.pdf', 'https://example.org/b.png'] })
    expect(await t.services.tracking.segments(tt.tenant, r.message.id)).toEqual({ segments: null, encoding: null })
  })

  it('refuses a base URL the operator did not allow when connecting (settings that skipped the save-time check), without reaching Twilio', async () => {
    // `localhost` is this machine by name: SWITCHBOARD_ALLOWED_URL_HOSTS allows 127.0.0.1, not it.
    const tt = await twilioTenant({ baseUrl: peer.url.replace('127.0.0.1', 'localhost') })
    const before = peer.requests
    const id = await send(tt, { channel: 'sms', to: uniquePhone(), body: 'to a loopback name' })
    await waitFor('the message to fail', statusIs(tt, id, 'failed'))
    expect(await outbox(tt, id)).toMatchObject({ attempts: 1, last_error: expect.stringContaining('twilio: localhost is a loopback address') })
    expect(peer.requests - before).toBe(0)
  })

  it('fails a message Twilio rejects for good (21610 unsubscribed) at once, with Twilio’s error, and dead-letters its job', async () => {
    const tt = await twilioTenant()
    const before = peer.requests
    const id = await send(tt, { channel: 'sms', to: '+14155550199', body: 'to an opted-out number' })
    await waitFor('the message to fail', statusIs(tt, id, 'failed'))
    expect(String((await outbox(tt, id)).last_error)).toMatch(/twilio 400 \(21610\): Attempt to send to unsubscribed recipient/)
    expect(peer.requests - before).toBe(1)
    await waitFor('the dead letter', async () => (await t.services.jobs.findKey('delivery.send', `outbox:${id}`))?.state === 'dead')
  })

  it('delivers every message exactly once while Twilio answers 500, 429 with Retry-After, and hangs past our timeout, then recovers', async () => {
    const tt = await twilioTenant()
    const recipients = Array.from({ length: 6 }, () => uniquePhone())
    peer.failNext(2, { kind: 'status', status: 500 })
    peer.failNext(2, { kind: 'rate-limit', retryAfterSeconds: 1 })
    peer.failNext(2, { kind: 'hang', ms: 1500 })
    const before = peer.requests
    const ids: string[] = []
    for (const to of recipients) ids.push(await send(tt, { channel: 'sms', to, body: `hello ${to}` }))
    await waitFor('all six to be sent', async () => {
      for (const id of ids) if ((await outbox(tt, id)).status !== 'sent') return false
      return true
    }, 60_000)
    for (const to of recipients) expect(peer.sentTo(to)).toHaveLength(1)
    // Six faults and six successes at least; the hung requests were taken, and their retries were
    // answered from Twilio's idempotency cache instead of sending again.
    expect(peer.requests - before).toBeGreaterThanOrEqual(12)
    const retried = await Promise.all(ids.map((id) => outbox(tt, id)))
    expect(retried.some((m) => Number(m.attempts) > 1)).toBe(true)
    // Connections were reused: far fewer than requests.
    expect(peer.connections).toBeLessThan(peer.requests)
  })
})

describe('status callbacks', () => {
  it('move a message queued → sent → delivered, never backwards, with the history; a wrong signature is refused', async () => {
    const tt = await twilioTenant()
    const to = uniquePhone()
    const id = await send(tt, { channel: 'sms', to, body: 'status please' })
    await waitFor('sent', statusIs(tt, id, 'sent'))
    const sid = peer.sentTo(to)[0]!.sid
    expect(await peer.postStatus(sid, 'sent', {}, { signature: 'wrong' })).toBe(403)
    expect(await peer.postStatus(sid, 'delivered')).toBe(200)
    expect((await outbox(tt, id)).status).toBe('delivered')
    expect(await peer.postStatus(sid, 'sent')).toBe(200) // late: does not move it back
    expect((await outbox(tt, id)).status).toBe('delivered')
    const history = await t.services.tracking.history(tt.tenant, id)
    expect(history.map((h) => [h.status, h.providerStatus, h.applied])).toEqual([['sent', null, true], ['delivered', 'delivered', true], ['delivered', 'sent', false]])

    const other = await send(tt, { channel: 'sms', to: uniquePhone(), body: 'will not arrive' })
    await waitFor('sent', statusIs(tt, other, 'sent'))
    const otherSid = peer.messages.find((m) => m.idempotencyToken === other)!.sid
    expect(await peer.postStatus(otherSid, 'undelivered', { ErrorCode: '30003' })).toBe(200)
    expect(await outbox(tt, other)).toMatchObject({ status: 'undelivered', last_error: 'twilio reported undelivered (error 30003)' })
    expect(await peer.postStatus(otherSid, 'delivered')).toBe(200)
    expect((await outbox(tt, other)).status).toBe('undelivered')
  })

  it('a report that overtakes our record of the send finds its message by the id in the callback URL', async () => {
    const tt = await twilioTenant()
    // Not sent yet (due in an hour), so no Twilio sid is recorded: as if the callback came first.
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to: uniquePhone(), body: 'early', sendAt: new Date(Date.now() + 3_600_000) })
    const sid = 'SM' + randomUUID().replace(/-/g, '')
    const params = { MessageSid: sid, MessageStatus: 'delivered', AccountSid: peer.accountSid }
    expect((await peer.postWebhook(`${t.url}/webhooks/twilio/${tt.tenant.id}/status?message=${message.id}`, params)).status).toBe(200)
    expect(await outbox(tt, message.id)).toMatchObject({ status: 'delivered', provider: 'twilio', provider_message_id: sid })
    // Without our id (or with another tenant's message id) an unknown sid changes nothing.
    const other = await t.services.delivery.send(tt.tenant, { channel: 'sms', to: uniquePhone(), body: 'later', sendAt: new Date(Date.now() + 3_600_000) })
    const stranger = await twilioTenant()
    const params2 = { MessageSid: 'SM' + randomUUID().replace(/-/g, ''), MessageStatus: 'delivered', AccountSid: peer.accountSid }
    expect((await peer.postWebhook(`${t.url}/webhooks/twilio/${tt.tenant.id}/status`, params2)).status).toBe(200)
    expect((await peer.postWebhook(`${t.url}/webhooks/twilio/${stranger.tenant.id}/status?message=${other.message.id}`, params2)).status).toBe(200)
    expect(await outbox(tt, other.message.id)).toMatchObject({ status: 'queued', provider_message_id: null })
  })

  it('answers 403 for an unknown tenant, another tenant’s path, or a tenant without Twilio, and changes nothing', async () => {
    const tt = await twilioTenant()
    const noTwilio = await createTenant(t.services)
    const params = { MessageSid: 'SM' + '0'.repeat(32), MessageStatus: 'delivered', AccountSid: peer.accountSid }
    for (const tenantId of [randomUUID(), noTwilio.tenant.id, 'not-a-uuid']) {
      const url = `${t.url}/webhooks/twilio/${tenantId}/status`
      expect((await peer.postWebhook(url, params)).status).toBe(403)
    }
    // Signed for one tenant's URL, replayed to another's: the URL is part of the signature.
    const signed = peer.sign(`${t.url}/webhooks/twilio/${tt.tenant.id}/status`, params)
    const other = await twilioTenant()
    expect((await peer.postWebhook(`${t.url}/webhooks/twilio/${other.tenant.id}/status`, params, { signature: signed })).status).toBe(403)
  })
})

describe('inbound messages', () => {
  it('reach the tenant as inbound messages, answered with empty TwiML; an unknown number becomes a person', async () => {
    const tt = await twilioTenant()
    const from = uniquePhone()
    const url = `${t.url}/webhooks/twilio/${tt.tenant.id}/sms`
    const params = {
      MessageSid: 'SM' + randomUUID().replace(/-/g, ''), AccountSid: peer.accountSid, From: from, To: SENDER, Body: 'Yes, I will come',
      NumMedia: '1', MediaUrl0: 'https://api.twilio.com/media/ME1', MediaContentType0: 'image/jpeg',
    }
    const answer = await peer.postWebhook(url, params)
    expect(answer).toEqual({ status: 200, type: 'text/xml; charset=utf-8', body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' })
    // Twilio re-posting the same message stores it once.
    expect((await peer.postWebhook(url, params)).status).toBe(200)
    const inbound = await t.services.delivery.listInbound(tt.tenant)
    expect(inbound).toHaveLength(1)
    expect(inbound[0]).toMatchObject({ channel: 'sms', from, to: SENDER, body: 'Yes, I will come', provider: 'twilio', providerMessageId: params.MessageSid, personId: expect.any(String) })
    expect(inbound[0]!.data).toEqual({ media: [{ url: 'https://api.twilio.com/media/ME1', content_type: 'image/jpeg' }] })
    const person = await t.store.db.selectFrom('people').select(['id', 'phone', 'protocol']).where('tenant_id', '=', tt.tenant.id).executeTakeFirst()
    expect(person).toEqual({ id: inbound[0]!.personId, phone: from, protocol: 'sms' })

    const wa = await peer.postWebhook(url, { MessageSid: 'SM' + randomUUID().replace(/-/g, ''), From: `whatsapp:${from}`, To: `whatsapp:${SENDER}`, Body: 'on WhatsApp' })
    expect(wa.status).toBe(200)
    expect((await t.services.delivery.listInbound(tt.tenant, { channel: 'whatsapp' }))[0]).toMatchObject({ from, personId: inbound[0]!.personId })
  })

  it('creates nobody under unknown_senders=ignore, and refuses a wrong signature without storing anything', async () => {
    const tt = await twilioTenant()
    await t.store.db.updateTable('tenants').set({ settings: JSON.stringify({ unknown_senders: 'ignore' }) }).where('id', '=', tt.tenant.id).execute()
    const url = `${t.url}/webhooks/twilio/${tt.tenant.id}/sms`
    const params = { MessageSid: 'SM' + randomUUID().replace(/-/g, ''), From: uniquePhone(), To: SENDER, Body: 'who is this?' }
    expect((await peer.postWebhook(url, params, { signature: peer.sign(url, { ...params, Body: 'tampered' }) })).status).toBe(403)
    expect(await t.services.delivery.listInbound(tt.tenant)).toHaveLength(0)
    expect((await peer.postWebhook(url, params)).status).toBe(200)
    const [message] = await t.services.delivery.listInbound(tt.tenant)
    expect(message).toMatchObject({ body: 'who is this?', personId: null })
    const people = await t.store.db.selectFrom('people').select('id').where('tenant_id', '=', tt.tenant.id).execute()
    expect(people).toHaveLength(0)
  })
})

describe('one webhook pipeline', () => {
  it('records a failure with Twilio’s error code in the history, through the provider’s parser and core', async () => {
    const tt = await twilioTenant()
    const id = await send(tt, { channel: 'sms', to: uniquePhone(), body: 'will fail' })
    await waitFor('sent', statusIs(tt, id, 'sent'))
    const sid = peer.messages.find((m) => m.idempotencyToken === id)!.sid
    expect(await peer.postStatus(sid, 'failed', { ErrorCode: '30007' })).toBe(200)
    expect(await outbox(tt, id)).toMatchObject({ status: 'failed', last_error: 'twilio reported failed (error 30007)' })
    const history = await t.services.tracking.history(tt.tenant, id)
    expect(history.at(-1)).toMatchObject({ status: 'failed', providerStatus: 'failed', errorCode: '30007', applied: true })
    // A status word Twilio may add later is acknowledged and changes nothing.
    expect(await peer.postStatus(sid, 'constructor')).toBe(200)
    expect(await t.services.tracking.history(tt.tenant, id)).toHaveLength(history.length)
  })

  it('verifies with the account’s token when Twilio is configured for WhatsApp only, for SMS callbacks too', async () => {
    const tt = await twilioTenant()
    whatsappOnly.add(tt.tenant.id)
    const url = `${t.url}/webhooks/twilio/${tt.tenant.id}/sms`
    const from = uniquePhone()
    expect((await peer.postWebhook(url, { MessageSid: 'SM' + randomUUID().replace(/-/g, ''), From: from, To: SENDER, Body: 'by SMS' })).status).toBe(200)
    expect(await t.services.delivery.listInbound(tt.tenant, { channel: 'sms' })).toMatchObject([{ from, body: 'by SMS', provider: 'twilio' }])
    expect((await peer.postWebhook(url, { MessageSid: 'SM' + randomUUID().replace(/-/g, ''), From: from, Body: 'forged' }, { signature: 'nope' })).status).toBe(403)
  })

  it('answers 400 to a signed body it cannot read, and stores nothing', async () => {
    const tt = await twilioTenant()
    const url = `${t.url}/webhooks/twilio/${tt.tenant.id}/status`
    const bodies: Array<Record<string, string>> = [{ MessageSid: 'SM' + '2'.repeat(32) }, { MessageStatus: 'delivered' }, { MessageSid: 'SM' + '3'.repeat(32), Body: 'no sender' }]
    for (const params of bodies) {
      expect((await peer.postWebhook(url, params)).status, JSON.stringify(params)).toBe(400)
    }
    expect(await t.services.delivery.listInbound(tt.tenant)).toHaveLength(0)
  })
})

describe('per-sender rate limits', () => {
  it('space one sender’s messages at its rate, across the shared slot table', async () => {
    const tt = await twilioTenant({ ratePerSecond: 4 })
    // The slots the limiter hands out for this tenant, on the database's clock. Their spacing is
    // the limiter's arithmetic, so it holds however loaded the machine is (arrival times at the
    // peer were not: a slow worker sends late, and two late ones arrive closer together).
    const tracking = t.services.tracking
    const reserve = tracking.reserveSlot.bind(tracking)
    const slots: number[] = []
    tracking.reserveSlot = async (...args: Parameters<typeof reserve>) => {
      const slot = await reserve(...args)
      if (args[0] === tt.tenant.id && 'slotAt' in slot) slots.push(slot.slotAt.getTime())
      return slot
    }
    try {
      const recipients = Array.from({ length: 4 }, () => uniquePhone())
      const ids: string[] = []
      for (const to of recipients) ids.push(await send(tt, { channel: 'sms', to, body: 'rate limited' }))
      await waitFor('all four', async () => {
        for (const id of ids) if ((await outbox(tt, id)).status !== 'sent') return false
        return true
      }, 30_000)
      for (const to of recipients) expect(peer.sentTo(to)).toHaveLength(1)
      // One slot per message, 4 per second: each at least 250 ms after the one before.
      slots.sort((a, b) => a - b)
      expect(slots).toHaveLength(4)
      for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(250)
      // And each message left only once its slot had come: the k-th send reached Twilio no earlier
      // than the k-th slot (load only makes sends later; a few ms for timer rounding).
      const arrivals = recipients.map((to) => peer.sentTo(to)[0]!.at).sort((a, b) => a - b)
      for (let i = 0; i < arrivals.length; i++) expect(arrivals[i]!).toBeGreaterThanOrEqual(slots[i]! - 5)
    } finally {
      delete (tracking as { reserveSlot?: unknown }).reserveSlot
    }
  })

  it('reserves slots atomically and, past the longest wait, tells the caller to put the job off', async () => {
    const tt = await createTenant(t.services)
    const slots = await Promise.all(Array.from({ length: 5 }, () => t.services.tracking.reserveSlot(tt.tenant.id, 'sms', SENDER, 1, 2_000)))
    const waits = slots.filter((s) => 'waitMs' in s).map((s) => s.waitMs).sort((a, b) => a - b)
    const deferred = slots.filter((s): s is { deferMs: number } => 'deferMs' in s)
    expect(waits).toHaveLength(3)
    expect(deferred).toHaveLength(2)
    expect(waits[0]).toBeLessThan(200)
    // The three slots are the limiter's arithmetic on the database's clock: a second apart.
    const at = slots.filter((s) => 'slotAt' in s).map((s) => s.slotAt.getTime()).sort((a, b) => a - b)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1_000)
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(1_000)
    for (const d of deferred) expect(d.deferMs).toBeGreaterThan(2_000)
  })
})
