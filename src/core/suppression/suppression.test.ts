import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { InboundMessage } from '../delivery/index.ts'
import { defaultHelpText } from './index.ts'

// The suppression list end to end through HTTP: keywords answered as the person on the sandbox
// (POST /sandbox/api/inbound), the replies in the sandbox outbox, later sends `suppressed`, the
// entries on the admin API. A conversation-phase handler stands in the bot's place to show which
// messages reach it.
let t: TestApp
const reachedConversation: InboundMessage[] = []

beforeAll(async () => {
  t = await startTestApp({ workers: true })
  t.services.delivery.onInbound(async (m) => {
    reachedConversation.push(m)
  })
})
afterAll(async () => t?.close())

type Json = Record<string, unknown>
const json = (r: { body: string }) => JSON.parse(r.body) as Json
const data = (r: { body: string }) => json(r).data as Json
const list = (r: { body: string }) => json(r).data as Json[]
function call(tt: TestTenant, method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown) {
  return t.app.inject({
    method, url,
    headers: { authorization: tt.cassAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  })
}

/** Answer as the person and wait until every inbound handler ran. */
async function answer(tt: TestTenant, from: string, body: string, channel = 'sms'): Promise<Json> {
  const r = await call(tt, 'POST', '/sandbox/api/inbound', { channel, from, body, to: '+15005550006' })
  expect(r.statusCode).toBe(201)
  const id = data(r).id
  await waitFor(`"${body}" to be handled`, async () => list(await call(tt, 'GET', '/sandbox/api/inbound?limit=200')).find((m) => m.id === id)?.status === 'processed')
  return data(r)
}
const outboxTo = async (tt: TestTenant, to: string) => list(await call(tt, 'GET', '/sandbox/api/outbox?limit=200')).filter((m) => m.to === to)
const send = async (tt: TestTenant, to: string, body: string, channel = 'sms') => {
  const r = await call(tt, 'POST', '/sandbox/api/outbox', { channel, to, body })
  expect(r.statusCode).toBe(201)
  return data(r)
}
const settled = (tt: TestTenant, id: unknown) => waitFor('the message to settle', async () => {
  const m = data(await call(tt, 'GET', `/sandbox/api/outbox/${String(id)}`))
  return ['sent', 'suppressed', 'failed'].includes(String(m.status)) ? m : undefined
})

describe('STOP, START and HELP on SMS', () => {
  it('STOP opts the number out with one confirmation; later sends are suppressed; START opts back in', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    const stop = await answer(tt, phone, '  Stop ')

    // The carrier-required confirmation goes out although the number is now suppressed.
    const [confirmation] = await outboxTo(tt, phone)
    expect(confirmation).toMatchObject({ channel: 'sms', from: '+15005550006', body: `${tt.tenant.name}: You have been unsubscribed and will not receive any more messages from this number. Reply START to resubscribe.` })
    expect(await settled(tt, confirmation!.id)).toMatchObject({ status: 'sent', suppressed_reason: null })
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([expect.objectContaining({ scope: 'sms', address: phone, reason: 'stop_keyword', source: `inbound:${String(stop.id)}` })])
    expect(reachedConversation.map((m) => m.id)).not.toContain(stop.id)

    // Any later send is a typed outcome, not a message: suppressed at enqueue, nothing to the provider.
    const later = await send(tt, phone, 'Your appointment is tomorrow')
    expect(later).toMatchObject({ status: 'suppressed', suppressed_reason: 'stop_keyword', provider: null, attempts: 0 })
    expect(await settled(tt, later.id)).toMatchObject({ status: 'suppressed', provider: null, provider_message_id: null, sent_at: null })

    // Every stop word works; a repeated STOP is not confirmed again.
    for (const word of ['STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit']) await answer(tt, phone, word)
    expect((await outboxTo(tt, phone)).filter((m) => String(m.body).includes('unsubscribed'))).toHaveLength(1)

    const start = await answer(tt, phone, 'START')
    expect(reachedConversation.map((m) => m.id)).not.toContain(start.id)
    expect((await outboxTo(tt, phone))[0]).toMatchObject({ body: `${tt.tenant.name}: You have been resubscribed and will receive messages from this number again. Reply HELP for help, STOP to unsubscribe.` })
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([])
    expect(await settled(tt, (await send(tt, phone, 'Welcome back')).id)).toMatchObject({ status: 'sent', provider: 'sandbox' })

    // After START a new STOP is a new opt-out, confirmed again; UNSTOP opts in as well.
    await answer(tt, phone, 'stop')
    expect((await outboxTo(tt, phone)).filter((m) => String(m.body).includes('unsubscribed'))).toHaveLength(2)
    await answer(tt, phone, 'unstop')
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([])
  })

  it('HELP answers with the default naming the organisation, or the tenant’s own text; an ordinary answer reaches the bot', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    const help = await answer(tt, phone, 'help')
    expect((await outboxTo(tt, phone))[0]).toMatchObject({ body: defaultHelpText(tt.tenant.name) })
    expect(defaultHelpText(tt.tenant.name)).toMatch(/Reply STOP to unsubscribe/)
    expect(reachedConversation.map((m) => m.id)).not.toContain(help.id)

    const settings = await call(tt, 'GET', '/admin/settings')
    expect(data(settings)).toEqual({ sms_help_text: null, sms_help_text_default: defaultHelpText(tt.tenant.name), sms_consent_required: false })
    const custom = 'Sunrise Clinic: call 555-0100 for help. Reply STOP to opt out.'
    expect(data(await call(tt, 'PATCH', '/admin/settings', { sms_help_text: custom }))).toMatchObject({ sms_help_text: custom })
    await answer(tt, phone, 'INFO')
    expect((await outboxTo(tt, phone))[0]).toMatchObject({ body: custom })
    expect(data(await call(tt, 'PATCH', '/admin/settings', { sms_help_text: null }))).toMatchObject({ sms_help_text: null })
    for (const bad of [{ sms_help_text: '' }, { sms_help_text: '  ' }, { sms_help_text: 'x'.repeat(641) }, { sms_help_text: 42 }, { other: 1 }]) {
      expect((await call(tt, 'PATCH', '/admin/settings', bad)).statusCode, JSON.stringify(bad)).toBe(400)
    }

    // Not a keyword (not the whole message): it is the person's answer, for the bot.
    const plain = await answer(tt, phone, 'Please stop by tomorrow')
    expect(reachedConversation.map((m) => m.id)).toContain(plain.id)
    // YES is an answer too, unless the number opted out by keyword: then it opts back in.
    const yes = await answer(tt, phone, 'yes')
    expect(reachedConversation.map((m) => m.id)).toContain(yes.id)
    await answer(tt, phone, 'STOP')
    const yesAgain = await answer(tt, phone, 'YES')
    expect(reachedConversation.map((m) => m.id)).not.toContain(yesAgain.id)
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([])
  })

  it('keeps channels and tenants apart: a WhatsApp STOP leaves SMS alone, another tenant still sends', async () => {
    const tt = await createTenant(t.services)
    const other = await createTenant(t.services)
    const phone = uniquePhone()
    await answer(tt, phone, 'STOP', 'whatsapp')
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([expect.objectContaining({ scope: 'whatsapp', address: phone })])
    expect(await settled(tt, (await send(tt, phone, 'wa', 'whatsapp')).id)).toMatchObject({ status: 'suppressed' })
    expect(await settled(tt, (await send(tt, phone, 'sms')).id)).toMatchObject({ status: 'sent' })
    expect(await settled(other, (await send(other, phone, 'theirs', 'whatsapp')).id)).toMatchObject({ status: 'sent' })
    expect(list(await call(other, 'GET', '/admin/suppressions'))).toEqual([])
    // Keywords mean nothing on other channels.
    await answer(tt, 'someone@example.org', 'STOP', 'email')
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toHaveLength(1)
  })
})

describe('the send path', () => {
  it('checks the list again right before the provider: an entry added after enqueue wins', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to: phone, body: 'Later', sendAt: new Date(Date.now() + 1500) })
    expect(message.status).toBe('queued')
    const added = await call(tt, 'POST', '/admin/suppressions', { scope: 'all', address: phone.replace('+1', '1 '), reason: 'dnc', source: 'contact-center' })
    expect(added.statusCode).toBe(201)
    expect(data(added)).toMatchObject({ scope: 'all', address: phone, reason: 'dnc', source: 'contact-center' })
    expect(await settled(tt, message.id)).toMatchObject({ status: 'suppressed', suppressed_reason: 'dnc', attempts: 0, provider: null })
    // START does not lift what the organisation decided.
    await answer(tt, phone, 'START')
    expect(await settled(tt, (await send(tt, phone, 'x')).id)).toMatchObject({ status: 'suppressed', suppressed_reason: 'dnc' })
  })

  it('re-checks a message that waited in its attempt (a rate-limit slot): a STOP meanwhile still wins', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    // Held back by a send time far away, so that this test drives the attempt itself.
    const { message } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to: phone, body: 'x', sendAt: new Date(Date.now() + 3_600_000) })
    expect(await t.services.delivery.beginAttempt(tt.tenant.id, message.id)).toMatchObject({ status: 'sending', attempts: 1 })
    expect(await t.services.delivery.suppressedMeanwhile(tt.tenant.id, message.id)).toBe(false)
    await answer(tt, phone, 'STOP')
    expect(await t.services.delivery.suppressedMeanwhile(tt.tenant.id, message.id)).toBe(true)
    expect(await t.services.delivery.getOutbox(tt.tenant, message.id)).toMatchObject({ status: 'suppressed', suppressedReason: 'stop_keyword', attempts: 0 })
    // A finished message is left alone, and so is the STOP confirmation (a compliance reply).
    expect(await t.services.delivery.suppressedMeanwhile(tt.tenant.id, message.id)).toBe(false)
    expect(await t.services.delivery.beginAttempt(tt.tenant.id, message.id)).toBeUndefined()
  })

  it('manages entries on the admin API: e-mail case-insensitively, idempotent adds, 404 for none, 400 for bad input', async () => {
    const tt = await createTenant(t.services)
    const first = await call(tt, 'POST', '/admin/suppressions', { scope: 'email', address: 'Jane.Doe@Example.org' })
    expect(first.statusCode).toBe(201)
    expect(data(first)).toMatchObject({ scope: 'email', address: 'jane.doe@example.org', reason: 'manual', source: 'admin-api' })
    const again = await call(tt, 'POST', '/admin/suppressions', { scope: 'email', address: 'jane.doe@example.org', reason: 'consent_withdrawn' })
    expect(again.statusCode).toBe(200)
    expect(data(again)).toMatchObject({ id: data(first).id, reason: 'manual' })
    expect(await settled(tt, (await send(tt, 'JANE.DOE@example.ORG', 'Hi', 'email')).id)).toMatchObject({ status: 'suppressed', suppressed_reason: 'manual' })
    expect(list(await call(tt, 'GET', '/admin/suppressions?scope=email&address=JANE.DOE@EXAMPLE.ORG'))).toHaveLength(1)
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'email', 'jane.doe@EXAMPLE.org')).toMatchObject({ reason: 'manual' })

    expect((await call(tt, 'DELETE', `/admin/suppressions/email/${encodeURIComponent('Jane.Doe@example.org')}`)).statusCode).toBe(204)
    const missing = await call(tt, 'DELETE', '/admin/suppressions/email/jane.doe%40example.org')
    expect(missing.statusCode).toBe(404)
    expect(json(missing)).toMatchObject({ code: 'suppression_not_found' })
    expect(await settled(tt, (await send(tt, 'jane.doe@example.org', 'Hi again', 'email')).id)).toMatchObject({ status: 'sent' })

    const bad: Array<[unknown, string]> = [
      [{ scope: 'fax', address: '+14155552671' }, 'invalid_request'],
      [{ scope: 'sms', address: 'not a phone' }, 'invalid_address'],
      [{ scope: 'email', address: 'nope' }, 'invalid_address'],
      [{ scope: 'sms', address: '+14155552671', reason: 'because' }, 'invalid_request'],
      [{ scope: 'sms', address: '+14155552671', source: '' }, 'invalid_request'],
      [{ scope: 'sms' }, 'invalid_request'],
    ]
    for (const [payload, code] of bad) {
      const r = await call(tt, 'POST', '/admin/suppressions', payload)
      expect(r.statusCode, JSON.stringify(payload)).toBe(400)
      expect(json(r).code, JSON.stringify(payload)).toBe(code)
    }
    for (const q of ['scope=fax', 'limit=0', 'limit=1001', 'foo=1']) expect((await call(tt, 'GET', `/admin/suppressions?${q}`)).statusCode, q).toBe(400)
    expect(list(await call(tt, 'GET', '/admin/suppressions'))).toEqual([])
  })

  it('keeps push addresses that are ids or hex tokens in lower case, and FCM tokens and endpoints as written', async () => {
    const tt = await createTenant(t.services)
    const individual = '6F1C2B3A-0D4E-4F5A-8B9C-0A1B2C3D4E5F'
    const apnsToken = 'ABCDEF0123456789ABCDEF0123456789'
    for (const address of [individual, apnsToken, 'fcm:APA91bH-Mixed_Case', 'https://push.example.org/sub/AbC']) {
      expect((await call(tt, 'POST', '/admin/suppressions', { scope: 'push', address })).statusCode, address).toBe(201)
    }
    const entries = list(await call(tt, 'GET', '/admin/suppressions?scope=push')).map((e) => e.address).sort()
    expect(entries).toEqual([apnsToken.toLowerCase(), individual.toLowerCase(), 'fcm:APA91bH-Mixed_Case', 'https://push.example.org/sub/AbC'].sort())
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'push', individual.toLowerCase())).toMatchObject({ reason: 'manual' })
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'push', apnsToken.toLowerCase())).toMatchObject({ reason: 'manual' })
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'push', 'fcm:apa91bh-mixed_case')).toBeUndefined()
  })
})
