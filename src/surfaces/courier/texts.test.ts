import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Channel, ChannelProviderSettings } from '../../core/delivery/index.ts'
import { hashSecret } from '../../lib/secrets.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { TwilioPeer } from '../../../test/peers/twilio.ts'
import { TwilioNumbersPeer } from '../../../test/peers/twilio-numbers.ts'
import { twilioSignature } from '../../lib/twilio-signature.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'

// Texts and numbers (#92–#113) through HTTP: the documented samples as contract tests (every
// success document checked as JSON:API 1.0), text accounts and numbers on the sandbox (deterministic
// numbers) and on Twilio against the local peers (sub-account, area-code search and purchase,
// Lookup v2), number logs and receive logs fed by inbound SMS through delivery, forward-to, the
// unknown-number event, carrier lookups and their cache, user-number maps, texts sent through
// delivery with their status and signed status/reply callbacks, #113 through the one webhook
// pipeline, and refusals answered as §1.7 errors that write nothing.

const NUMBER_KEYS = [
  'account-id', 'alert', 'capability-mms', 'capability-sms', 'capability-voice', 'created-at', 'events', 'forward-to', 'lata', 'latitude', 'logging',
  'longitude', 'notes', 'phone-number', 'postal-code', 'rate-center', 'region', 'twilio-id',
]
const ACCOUNT_KEYS = ['allow-custom-number', 'created-at', 'organization-id', 'phone-number', 'twilio-id']
const TEXT_KEYS = ['callback-status-url', 'callback-url', 'created-at', 'created-by', 'error', 'from', 'last-modified-at', 'message', 'status', 'target', 'twilio-sid']
const INFO_KEYS = ['carrier-name', 'created-at', 'error', 'last-modified-at', 'mobile-country-code', 'mobile-network-code', 'number', 'status', 'type']

let t: TestApp
let sms: TwilioPeer
let numbersPeer: TwilioNumbersPeer
let receiver: WebhookReceiver
let sandbox: TestTenant
let twilio: TestTenant
let other: TestTenant
const settings = new Map<string, ChannelProviderSettings>()

beforeAll(async () => {
  sms = await new TwilioPeer({ numbers: ['+15005550006'] }).start()
  numbersPeer = await new TwilioNumbersPeer({ accountSid: sms.accountSid, authToken: sms.authToken, upstream: sms.url }).start()
  receiver = await startWebhookReceiver([])
  t = await startTestApp({
    listen: true, workers: true,
    config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' },
    services: {
      sendRetry: { retryDelaySeconds: 1, retryLimit: 1 }, webhookRetry: { retryDelaySeconds: 1, retryLimit: 3 },
      channelSettings: async (tenantId: string, channel: Channel) => settings.get(`${tenantId}:${channel}`),
    },
  })
  ;[sandbox, twilio, other] = await Promise.all([createTenant(t.services), createTenant(t.services), createTenant(t.services)])
  settings.set(`${twilio.tenant.id}:sms`, {
    provider: 'twilio', accountSid: sms.accountSid, authToken: sms.authToken, from: '+15005550006', baseUrl: numbersPeer.url, ratePerSecond: '1000',
  })
  receiver.secrets.push(hashSecret(sandbox.credentials.courier.api_key), hashSecret(twilio.credentials.courier.api_key))
}, 60_000)
afterAll(async () => {
  await t?.close()
  await receiver?.close()
  await numbersPeer?.stop()
  await sms?.stop()
})

const { call, ok } = courierClient(() => t, { validate: true })
const org = (who: TestTenant) => who.credentials.courier.organization_id as string
/** A fresh area code per test, so the sandbox's deterministic numbers never collide between tests. */
const AREAS = ['212', '213', '303', '305', '312', '404', '415', '503', '512', '602', '617', '646', '702', '713', '718', '773', '801', '808', '858', '917', '206', '214', '310', '323']
let nextArea = 0
const areaCode = () => AREAS[nextArea++ % AREAS.length]!

/** Rows the tenant has in the texts tables and the outbox. */
async function written(who: TestTenant): Promise<number[]> {
  const tables = ['text_accounts', 'text_account_numbers', 'text_number_logs', 'text_receive_logs', 'text_number_info', 'text_user_number_maps', 'texts', 'outbox_messages'] as const
  const out: number[] = []
  for (const table of tables) {
    out.push(Number((await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', who.tenant.id).executeTakeFirstOrThrow()).n))
  }
  return out
}

async function account(who: TestTenant): Promise<Json> {
  return (await ok(who, 'POST', '/v1/text-accounts/', { data: { type: 'text-accounts', attributes: { 'organization-id': org(who) } } })).data
}
async function number(who: TestTenant, accountId: string, extra: Json = {}): Promise<Json> {
  return (await ok(who, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': accountId, 'area-code': areaCode(), ...extra } } })).data
}
/** A text, read until it leaves `accepted`. */
async function settled(who: TestTenant, id: string): Promise<Json> {
  return waitFor(`text ${id} to settle`, async () => {
    const doc = await ok(who, 'GET', `/v1/texts/${id}/`)
    return doc.data.attributes.status !== 'accepted' ? doc.data : undefined
  }, 30_000)
}
/** An inbound SMS on the sandbox, as the sandbox's answer form hands it to delivery. */
async function inbound(who: TestTenant, from: string, to: string, body: string): Promise<string> {
  const sid = `SM${randomUUID().replace(/-/g, '')}`
  await t.services.delivery.receive(who.tenant, { channel: 'sms', from, to, body, provider: 'sandbox', providerMessageId: sid })
  return sid
}
const verifiedAt = (path: string) => receiver.verified().filter((r) => r.path === path).map((r) => r.json as Json)

describe('text accounts and numbers on the sandbox', () => {
  it('#98 (sample) → #99 → #97: the organisation\'s account, simulated', async () => {
    const r = await call(sandbox, 'POST', '/v1/text-accounts/', { data: { attributes: { 'allow-custom-number': false, 'organization-id': org(sandbox) }, type: 'text-accounts' }, meta: {} })
    expect(r.statusCode, r.body).toBe(201)
    const created = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(created.type).toBe('text-accounts')
    expect(Object.keys(created.attributes).sort()).toEqual(ACCOUNT_KEYS)
    expect(created.attributes).toMatchObject({ 'allow-custom-number': false, 'organization-id': org(sandbox), 'phone-number': '' })
    expect(created.attributes['twilio-id']).toMatch(/^SB[0-9a-f]{32}$/)
    expect((await ok(sandbox, 'GET', `/v1/text-accounts/${created.id}/`)).data).toEqual(created)
    const list = await ok(sandbox, 'GET', `/v1/text-accounts/?organization-id=${org(sandbox)}`)
    expect(list.data.map((a: Json) => a.id)).toContain(created.id)
    expect(list.meta).toMatchObject({ 'page[limit]': 100, 'page[offset]': 0 })
    // Another tenant sees nothing of it.
    expectJsonApiError(await call(other, 'GET', `/v1/text-accounts/${created.id}/`), 404)
  })

  it('#93 (sample shape) provisions the first free sandbox number of the area code; the account takes it; #92 #94', async () => {
    const acct = await account(sandbox)
    const before = await written(sandbox)
    // The sample's "str" is no area code: refused, nothing written.
    const bad = expectJsonApiError(await call(sandbox, 'POST', '/v1/text-account-numbers/', {
      data: { attributes: { 'account-id': acct.id, alert: true, 'area-code': 'str', 'forward-to': '+12125550142', logging: false, notes: 'string' }, type: 'text-account-numbers' }, meta: {},
    }), 400, { pointer: '/data/attributes/area-code' })
    expect(bad.code).toBe('invalid_text_number')
    expect(await written(sandbox)).toEqual(before)

    const area = areaCode()
    const r = await call(sandbox, 'POST', '/v1/text-account-numbers/', {
      data: { attributes: { 'account-id': acct.id, alert: true, 'area-code': area, 'forward-to': '+12125550142', logging: false, notes: 'string' }, type: 'text-account-numbers' }, meta: {},
    })
    expect(r.statusCode, r.body).toBe(201)
    const n1 = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(Object.keys(n1.attributes).sort()).toEqual(NUMBER_KEYS)
    expect(n1.attributes).toMatchObject({
      'account-id': acct.id, alert: true, logging: false, notes: 'string', 'forward-to': '+12125550142', events: {}, 'phone-number': `+1${area}5550100`,
      'capability-sms': true, 'capability-mms': true, 'capability-voice': false, 'rate-center': `SANDBOX ${area}`,
    })
    expect(n1.attributes['twilio-id']).toMatch(/^SP[0-9a-f]{32}$/)
    const n2 = (await ok(sandbox, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': area } } })).data
    expect(n2.attributes['phone-number']).toBe(`+1${area}5550101`)
    // The first number became the account's own.
    expect((await ok(sandbox, 'GET', `/v1/text-accounts/${acct.id}/`)).data.attributes['phone-number']).toBe(`+1${area}5550100`)
    expect((await ok(sandbox, 'GET', `/v1/text-account-numbers/${n1.id}/`)).data).toEqual(n1)
    const byAccount = await ok(sandbox, 'GET', `/v1/text-account-numbers/?account-id=${acct.id}`)
    expect(byAccount.data.map((n: Json) => n.id)).toEqual([n1.id, n2.id])
    expect((await ok(sandbox, 'GET', `/v1/text-account-numbers/?filter[phone-number]=${encodeURIComponent(`+1${area}5550101`)}`)).data.map((n: Json) => n.id)).toEqual([n2.id])
    expect((await ok(sandbox, 'GET', `/v1/text-account-numbers/?phone-number=${encodeURIComponent(`+1${area}5550100`)}`)).data.map((n: Json) => n.id)).toEqual([n1.id])
    expectJsonApiError(await call(sandbox, 'GET', '/v1/text-account-numbers/?phone-number=string'), 400, { parameter: 'phone-number' })
    // Unknown and foreign accounts: 404 at the attribute.
    expectJsonApiError(await call(other, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': area } } }), 404, { pointer: '/data/attributes/account-id' })
  })

  it('#95 (sample shape) updates alert, events, forward-to, logging, notes; #96 (sample) empties the log', async () => {
    const acct = await account(sandbox)
    const n = await number(sandbox, acct.id)
    const r = await call(sandbox, 'PATCH', `/v1/text-account-numbers/${n.id}/`, {
      data: { attributes: { alert: true, events: { 'unknown-number': {} }, 'forward-to': '+13035550142', logging: true, notes: 'string' }, id: n.id, type: 'text-account-numbers' }, meta: {},
    })
    expect(r.statusCode, r.body).toBe(200)
    const updated = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(updated.attributes).toMatchObject({ alert: true, events: { 'unknown-number': {} }, 'forward-to': '+13035550142', logging: true, notes: 'string' })
    const before = await written(sandbox)
    for (const [attributes, pointer] of [
      [{ 'forward-to': 'string' }, '/data/attributes/forward-to'], [{ events: { 'other-event': {} } }, '/data/attributes/events'],
      [{ events: { 'unknown-number': { url: 'ftp://x' } } }, '/data/attributes/events'], [{ notes: 'x'.repeat(256) }, '/data/attributes/notes'],
    ] as const) {
      expectJsonApiError(await call(sandbox, 'PATCH', `/v1/text-account-numbers/${n.id}/`, { data: { type: 'text-account-numbers', id: n.id, attributes } }), 400, { pointer })
    }
    expect(await written(sandbox)).toEqual(before)
    expect((await ok(sandbox, 'GET', `/v1/text-account-numbers/${n.id}/`)).data).toEqual(updated)

    // A text from the number is logged; reset-logs ({} → 201 with the number) empties the log.
    const target = uniquePhone()
    await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, 'number-id': n.id, target, message: 'Hello' } } })
    const logs = await ok(sandbox, 'GET', `/v1/text-number-logs/?number-id=${n.id}`)
    expect(logs.data.map((l: Json) => l.attributes.log)).toEqual([`sent to ${target}: Hello`])
    expect(Object.keys(logs.data[0].attributes).sort()).toEqual(['created-at', 'log'])
    const reset = await call(sandbox, 'POST', `/v1/text-account-numbers/${n.id}/reset-logs/`, {})
    expect(reset.statusCode, reset.body).toBe(201)
    expect((expectJsonApi(JSON.parse(reset.body)).data as Json).id).toBe(n.id)
    expect((await ok(sandbox, 'GET', `/v1/text-number-logs/?number-id=${n.id}`)).data).toEqual([])
    expectJsonApiError(await call(sandbox, 'GET', '/v1/text-number-logs/'), 400, { parameter: 'number-id' })
    expectJsonApiError(await call(other, 'GET', `/v1/text-number-logs/?number-id=${n.id}`), 404, { parameter: 'number-id' })
  })

  it('#100 (sample shape) sets a custom number only while allowed; #101 (sample) claims it as a number', async () => {
    const acct = await account(sandbox)
    const before = await written(sandbox)
    const custom = uniquePhone()
    expectJsonApiError(await call(sandbox, 'PATCH', `/v1/text-accounts/${acct.id}/`, { data: { type: 'text-accounts', id: acct.id, attributes: { 'phone-number': custom } } }), 400, { pointer: '/data/attributes/phone-number' })
    expectJsonApiError(await call(sandbox, 'PATCH', `/v1/text-accounts/${acct.id}/`, { data: { attributes: { 'allow-custom-number': true, 'phone-number': 'string' }, id: acct.id, type: 'text-accounts' }, meta: {} }), 400, { pointer: '/data/attributes/phone-number' })
    // Nothing to claim yet.
    expect(expectJsonApiError(await call(sandbox, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'string' }), 400).code).toBe('invalid_text_account')
    expect(await written(sandbox)).toEqual(before)
    const r = await call(sandbox, 'PATCH', `/v1/text-accounts/${acct.id}/`, { data: { attributes: { 'allow-custom-number': true, 'phone-number': custom }, id: acct.id, type: 'text-accounts' }, meta: {} })
    expect(r.statusCode, r.body).toBe(200)
    expect((expectJsonApi(JSON.parse(r.body)).data as Json).attributes).toMatchObject({ 'allow-custom-number': true, 'phone-number': custom })

    // #101: plain JSON, notes required and at most 255 characters.
    expectJsonApiError(await call(sandbox, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, {}), 400)
    expectJsonApiError(await call(sandbox, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'x'.repeat(256) }), 400)
    const claimed = await call(sandbox, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'string' })
    expect(claimed.statusCode, claimed.body).toBe(201)
    const n = expectJsonApi(JSON.parse(claimed.body)).data as Json
    expect(n.type).toBe('text-account-numbers')
    expect(Object.keys(n.attributes).sort()).toEqual(NUMBER_KEYS)
    expect(n.attributes).toMatchObject({ 'account-id': acct.id, 'phone-number': custom, notes: 'string' })
    // Claiming it again: the tenant holds it already.
    expectJsonApiError(await call(sandbox, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'again' }), 409)
  })
})

describe('texts on the sandbox', () => {
  it('#111 (sample shape) → #112 → #110: sent through delivery from the number, status and signed status callbacks', async () => {
    const acct = await account(sandbox)
    const n = await number(sandbox, acct.id)
    const target = uniquePhone()
    const statusUrl = `${receiver.url}/status/${randomUUID()}`
    const r = await call(sandbox, 'POST', '/v1/texts/', {
      data: {
        attributes: {
          'account-id': acct.id, 'callback-json': { ticket: 42 }, 'callback-one-off': true, 'callback-status-url': statusUrl, 'callback-url': `${receiver.url}/reply/${randomUUID()}`,
          'expected-responses': ['YES', 'NO'], message: 'Are you coming?', 'number-id': n.id, 'organization-id': org(sandbox), target,
        },
        type: 'texts',
      },
      meta: {},
    })
    expect(r.statusCode, r.body).toBe(201)
    const created = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(Object.keys(created.attributes).sort()).toEqual(TEXT_KEYS)
    expect(created.attributes).toMatchObject({ from: n.attributes['phone-number'], target, message: 'Are you coming?', 'created-by': org(sandbox), 'callback-status-url': statusUrl })
    expect(['accepted', 'sent']).toContain(created.attributes.status)
    const sent = await settled(sandbox, created.id)
    expect(sent.attributes).toMatchObject({ status: 'sent', error: '' })
    expect(sent.attributes['twilio-sid']).not.toBe('')
    const outbox = await t.services.delivery.findOutboxByKey(sandbox.tenant, `text:${created.id}`)
    expect(outbox).toMatchObject({ channel: 'sms', to: target, from: n.attributes['phone-number'], body: 'Are you coming?', status: 'sent', provider: 'sandbox' })

    // The status callback: signed with the organisation key's SHA-256, the callback-json echoed.
    const path = new URL(statusUrl).pathname
    const posted = await waitFor('the status callback', () => verifiedAt(path).find((b) => b.status === 'sent'), 30_000)
    expect(posted).toEqual({ 'text-id': created.id, status: 'sent', error: '', 'twilio-sid': sent.attributes['twilio-sid'], from: n.attributes['phone-number'], target, 'callback-json': { ticket: 42 } })

    const list = await ok(sandbox, 'GET', `/v1/texts/?account-id=${acct.id}&filter[number-id]=${n.id}&filter[target]=${encodeURIComponent(target)}`)
    expect(list.data.map((x: Json) => x.id)).toEqual([created.id])
    expect((await ok(sandbox, 'GET', `/v1/texts/?account-id=${acct.id}&filter[target]=${encodeURIComponent(uniquePhone())}`)).data).toEqual([])
    expectJsonApiError(await call(sandbox, 'GET', '/v1/texts/'), 400, { parameter: 'account-id' })
    expectJsonApiError(await call(other, 'GET', `/v1/texts/${created.id}/`), 404)
    expectJsonApiError(await call(other, 'GET', `/v1/texts/?account-id=${acct.id}`), 404, { parameter: 'account-id' })
  })

  it('a suppressed target is recorded as failed, with the reason in error', async () => {
    const acct = await account(sandbox)
    await number(sandbox, acct.id)
    const target = uniquePhone()
    await t.services.suppression.add(sandbox.tenant, { channel: 'sms', address: target, reason: 'manual', source: 'test' })
    const created = (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, target, message: 'Hi' } } })).data
    const done = await settled(sandbox, created.id)
    expect(done.attributes).toMatchObject({ status: 'failed', error: 'suppressed (manual)', 'twilio-sid': '' })
  })

  it('refusals write nothing: bad target, empty message, bad callback URL, another account\'s number, an account without numbers', async () => {
    const acct = await account(sandbox)
    const n = await number(sandbox, acct.id)
    const bare = await account(sandbox)
    const before = await written(sandbox)
    const base = { 'account-id': acct.id, target: uniquePhone(), message: 'Hi' }
    for (const [attributes, pointer] of [
      [{ ...base, target: 'string' }, '/data/attributes/target'], [{ ...base, message: '  ' }, '/data/attributes/message'],
      [{ ...base, 'callback-url': 'not a url' }, '/data/attributes/callback-url'], [{ ...base, 'callback-status-url': 'ftp://x.example/' }, '/data/attributes/callback-status-url'],
      [{ ...base, 'account-id': bare.id, 'number-id': n.id }, '/data/attributes/number-id'], [{ ...base, 'account-id': bare.id }, '/data/attributes/number-id'],
      [{ ...base, 'expected-responses': [''] }, '/data/attributes/expected-responses'],
    ] as const) {
      const e = expectJsonApiError(await call(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes } }), 400, { pointer })
      expect(e.code).toBe('invalid_text_message')
    }
    expectJsonApiError(await call(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { ...base, 'account-id': randomUUID() } } }), 404, { pointer: '/data/attributes/account-id' })
    expect(await written(sandbox)).toEqual(before)
  })

  it('inbound texts: receive logs (#106), number logs, forward-to, replies matched against expected-responses (one-off), unknown-number', async () => {
    const acct = await account(sandbox)
    const forward = uniquePhone()
    const n = await number(sandbox, acct.id, { logging: true, 'forward-to': forward })
    const hook = `${receiver.url}/unknown/${randomUUID()}`
    await ok(sandbox, 'PATCH', `/v1/text-account-numbers/${n.id}/`, { data: { type: 'text-account-numbers', id: n.id, attributes: { events: { 'unknown-number': { url: hook } } } } })
    const phone = n.attributes['phone-number'] as string
    const target = uniquePhone()
    const replyUrl = `${receiver.url}/reply/${randomUUID()}`
    const text = (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: {
      'account-id': acct.id, target, message: 'Coming?', 'callback-url': replyUrl, 'callback-one-off': true, 'expected-responses': ['Yes please', 'No'], 'callback-json': { k: 'v' },
    } } })).data

    const sid = await inbound(sandbox, target, phone, '  YES   please ')
    const log = await waitFor('the receive log', async () => {
      const r = await call(sandbox, 'GET', `/v1/text-receive-logs/${sid}/`)
      return r.statusCode === 200 ? JSON.parse(r.body) as Json : undefined
    }, 30_000)
    expectJsonApi(log)
    expect(log.data).toMatchObject({ id: sid, type: 'text-receive-logs', attributes: { message: '  YES   please ', sender: target, sid, to: phone } })
    expect(Object.keys(log.data.attributes).sort()).toEqual(['created-at', 'message', 'sender', 'sid', 'to'])
    expectJsonApiError(await call(other, 'GET', `/v1/text-receive-logs/${sid}/`), 404)

    // The reply, matched case- and space-insensitively, with the text's callback-json.
    const replyPath = new URL(replyUrl).pathname
    const reply = await waitFor('the reply callback', () => verifiedAt(replyPath)[0], 30_000)
    expect(reply).toEqual({ 'text-id': text.id, from: target, to: phone, message: '  YES   please ', sid, expected: true, 'matched-response': 'Yes please', 'callback-json': { k: 'v' } })
    // Forwarded by SMS from the number; logged both ways.
    const fwd = await waitFor('the forward', async () => (await t.services.delivery.listOutbox(sandbox.tenant, { limit: 200 })).find((m) => m.to === forward))
    expect(fwd).toMatchObject({ from: phone, body: `From ${target}:   YES   please ` })
    const lines = (await ok(sandbox, 'GET', `/v1/text-number-logs/?number-id=${n.id}`)).data.map((l: Json) => l.attributes.log)
    expect(lines).toEqual(expect.arrayContaining([`sent to ${target}: Coming?`, `received from ${target}:   YES   please `, `unknown-number: ${target}`]))
    // The unknown-number event went to its URL (the target is nobody in the directory).
    const unknown = await waitFor('the unknown-number event', () => verifiedAt(new URL(hook).pathname)[0], 30_000)
    expect(unknown).toMatchObject({ event: 'unknown-number', 'number-id': n.id, 'phone-number': phone, sender: target, sid })

    // One-off: a second reply is logged but not posted.
    const sid2 = await inbound(sandbox, target, phone, 'no')
    await waitFor('the second receive log', async () => (await call(sandbox, 'GET', `/v1/text-receive-logs/${sid2}/`)).statusCode === 200, 30_000)
    expect(verifiedAt(replyPath)).toHaveLength(1)
    // The bot never saw texts to an account number: the inbound is processed and nothing answered it.
    const answers = (await t.services.delivery.listOutbox(sandbox.tenant, { limit: 200 })).filter((m) => m.to === target)
    expect(answers.map((m) => m.body)).toEqual(['Coming?'])
  })
})

describe('number info (#102–#104) and user-number maps (#107–#109)', () => {
  it('#103 (sample shape) looks up on the sandbox, cached; reresolve looks again; #102 #104', async () => {
    const number = '+14155550123'
    const r = await call(sandbox, 'POST', '/v1/text-number-info/', { data: { attributes: { number, reresolve: false }, type: 'text-number-info' }, meta: {} })
    expect(r.statusCode, r.body).toBe(201)
    const info = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(Object.keys(info.attributes).sort()).toEqual(INFO_KEYS)
    expect(info.attributes).toMatchObject({ number, status: 'resolved', type: 'mobile', 'carrier-name': 'Sandbox Mobile', 'mobile-country-code': '310', 'mobile-network-code': '260', error: '' })
    const again = (await ok(sandbox, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number } } })).data
    expect(again).toEqual(info)
    const fresh = (await ok(sandbox, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number, reresolve: true } } })).data
    expect(fresh.id).toBe(info.id)
    expect(fresh.attributes['last-modified-at'] > info.attributes['last-modified-at']).toBe(true)
    expect((await ok(sandbox, 'GET', `/v1/text-number-info/${info.id}/`)).data.attributes.number).toBe(number)
    expect((await ok(sandbox, 'GET', `/v1/text-number-info/?number=${encodeURIComponent(number)}`)).data.map((i: Json) => i.id)).toEqual([info.id])
    expect((await ok(other, 'GET', `/v1/text-number-info/?number=${encodeURIComponent(number)}`)).data).toEqual([])
    expectJsonApiError(await call(other, 'GET', `/v1/text-number-info/${info.id}/`), 404)
    expectJsonApiError(await call(sandbox, 'GET', '/v1/text-number-info/'), 400, { parameter: 'number' })
    expectJsonApiError(await call(sandbox, 'GET', `/v1/text-number-info/?number=${encodeURIComponent('+442071234567')}`), 400, { parameter: 'number' })
    const before = await written(sandbox)
    expectJsonApiError(await call(sandbox, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number: 'string' } } }), 400, { pointer: '/data/attributes/number' })
    expect(await written(sandbox)).toEqual(before)
    // A number the sandbox does not know (last digit 9): failed, with the error.
    const unknown = (await ok(sandbox, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number: '+14155550129' } } })).data
    expect(unknown.attributes).toMatchObject({ status: 'failed', error: 'not_found', type: '' })
  })

  it('#108 (sample shape) pins a user to a number; #107 filters; #109; a text to the user goes from the pinned number', async () => {
    const acct = await account(sandbox)
    const first = await number(sandbox, acct.id)
    const pinned = await number(sandbox, acct.id)
    const phone = uniquePhone()
    const userId = randomUUID()
    await t.store.db.insertInto('msg_users').values({ id: userId, tenant_id: sandbox.tenant.id, email: `${userId}@example.org`, phone } as never).execute()
    const r = await call(sandbox, 'POST', '/v1/text-user-number-maps/', {
      data: { attributes: { 'number-id': pinned.id, 'organization-id': org(sandbox), 'user-id': userId }, type: 'text-user-number-maps' }, meta: {},
    })
    expect(r.statusCode, r.body).toBe(201)
    const map = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(map.attributes).toMatchObject({ 'number-id': pinned.id, 'organization-id': org(sandbox), 'user-id': userId })
    expect(Object.keys(map.attributes).sort()).toEqual(['created-at', 'number-id', 'organization-id', 'user-id'])
    expect((await ok(sandbox, 'GET', `/v1/text-user-number-maps/${map.id}/`)).data).toEqual(map)
    for (const q of [`filter[number-id]=${pinned.id}`, `filter[user-id]=${userId}`, `filter[organization-id]=${org(sandbox)}&filter[user-id]=${userId}`]) {
      expect((await ok(sandbox, 'GET', `/v1/text-user-number-maps/?${q}`)).data.map((m: Json) => m.id)).toEqual([map.id])
    }
    expect((await ok(sandbox, 'GET', `/v1/text-user-number-maps/?filter[number-id]=${first.id}`)).data).toEqual([])
    const before = await written(sandbox)
    expectJsonApiError(await call(sandbox, 'POST', '/v1/text-user-number-maps/', { data: { type: 'text-user-number-maps', attributes: { 'number-id': first.id, 'organization-id': org(sandbox), 'user-id': userId } } }), 409)
    expectJsonApiError(await call(sandbox, 'POST', '/v1/text-user-number-maps/', { data: { type: 'text-user-number-maps', attributes: { 'number-id': first.id, 'organization-id': org(sandbox), 'user-id': randomUUID() } } }), 404, { pointer: '/data/attributes/user-id' })
    expect(await written(sandbox)).toEqual(before)
    expectJsonApiError(await call(other, 'GET', `/v1/text-user-number-maps/${map.id}/`), 404)

    const toUser = (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, target: phone, message: 'Hi' } } })).data
    expect(toUser.attributes.from).toBe(pinned.attributes['phone-number'])
    const toOther = (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, target: uniquePhone(), message: 'Hi' } } })).data
    expect(toOther.attributes.from).toBe(first.attributes['phone-number'])
  })
})

describe('on Twilio (the local peers)', () => {
  it('an account is a sub-account; numbers are searched by area code and bought into it; claim-number needs a number the sub-account holds', async () => {
    const acct = await account(twilio)
    expect(acct.attributes['twilio-id']).toMatch(/^AC[0-9a-f]{32}$/)
    const sub = numbersPeer.accounts.get(acct.attributes['twilio-id'])
    expect(sub?.friendlyName).toContain(twilio.tenant.name.slice(0, 20))
    const n = (await ok(twilio, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '628', notes: 'main' } } })).data
    expect(n.attributes).toMatchObject({
      'phone-number': '+16282000000', 'capability-sms': true, 'capability-mms': true, 'capability-voice': true, lata: '722', 'rate-center': 'PEERVILLE', region: 'CA', 'postal-code': '94103',
      latitude: '37.780000', longitude: '-122.420000', notes: 'main',
    })
    expect(n.attributes['twilio-id']).toBe(sub!.numbers.get('+16282000000')!.sid)

    // claim-number: a number the sub-account does not hold is refused; one it holds is claimed.
    await ok(twilio, 'PATCH', `/v1/text-accounts/${acct.id}/`, { data: { type: 'text-accounts', id: acct.id, attributes: { 'allow-custom-number': true, 'phone-number': '+16282999999' } } })
    const before = await written(twilio)
    expect(expectJsonApiError(await call(twilio, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'x' }), 400).code).toBe('invalid_text_account')
    expect(await written(twilio)).toEqual(before)
    sub!.numbers.set('+16282999999', { sid: 'PN' + 'a'.repeat(32), phoneNumber: '+16282999999' })
    const claimed = (await ok(twilio, 'POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'ported' })).data
    expect(claimed.attributes).toMatchObject({ 'phone-number': '+16282999999', 'twilio-id': 'PN' + 'a'.repeat(32), notes: 'ported' })
    // Both numbers post their inbound messages to the tenant's Twilio webhook (set when bought, and when claimed).
    const smsUrl = `${t.config.publicUrl}/webhooks/twilio/${twilio.tenant.id}/sms`
    expect(sub!.numbers.get('+16282000000')).toMatchObject({ smsUrl, smsMethod: 'POST' })
    expect(sub!.numbers.get('+16282999999')).toMatchObject({ smsUrl, smsMethod: 'POST' })

    // The vendor failing: 502 sms_provider_failed, nothing written.
    numbersPeer.failNext = { status: 500, times: 1 }
    const failedBefore = await written(twilio)
    const e = expectJsonApiError(await call(twilio, 'POST', '/v1/text-accounts/', { data: { type: 'text-accounts', attributes: { 'organization-id': org(twilio) } } }), 502)
    expect(e.code).toBe('sms_provider_failed')
    expect(await written(twilio)).toEqual(failedBefore)
    // An area code with nothing on offer.
    numbersPeer.offers.set('629', [])
    expect(expectJsonApiError(await call(twilio, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '629' } } }), 400, { pointer: '/data/attributes/area-code' }).code).toBe('no_number_available')
    expect(await written(twilio)).toEqual(failedBefore)
  })

  it('inbound texts to a sub-account\'s number are signed with the sub-account\'s auth token, kept sealed; another token is refused', async () => {
    const acct = await account(twilio)
    const sub = numbersPeer.accounts.get(acct.attributes['twilio-id'])!
    const kept = await t.store.db.selectFrom('text_accounts').select('provider_secret').where('id', '=', acct.id).executeTakeFirstOrThrow()
    expect(kept.provider_secret).toMatch(/^v1\./)
    expect(kept.provider_secret).not.toContain(sub.authToken)
    const n = (await ok(twilio, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '415' } } })).data
    const to = n.attributes['phone-number'] as string
    const path = `/webhooks/twilio/${twilio.tenant.id}/sms`
    const post = (params: Record<string, string>, token: string) => t.app.inject({
      method: 'POST', url: path, payload: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, t.config.publicUrl + path, params) },
    })
    const from = uniquePhone()
    const message = (sid: string) => ({ MessageSid: sid, SmsSid: sid, AccountSid: sub.sid, From: from, To: to, Body: 'Hello from a sub-account number', NumMedia: '0' })
    // The parent's token does not sign a sub-account's webhooks, nor does a made-up one: refused, nothing kept.
    const forged = 'SM' + randomUUID().replaceAll('-', '')
    expect((await post(message(forged), randomUUID())).statusCode).toBe(403)
    expect((await post({ ...message(forged), AccountSid: 'AC' + '0'.repeat(32) }, sub.authToken)).statusCode).toBe(403)
    const good = 'SM' + randomUUID().replaceAll('-', '')
    expect((await post(message(good), sub.authToken)).statusCode).toBe(200)
    const log = await waitFor('the receive log', async () => {
      const r = await call(twilio, 'GET', `/v1/text-receive-logs/${good}/`)
      return r.statusCode === 200 ? (JSON.parse(r.body) as Json).data : undefined
    }, 30_000)
    expect(log.attributes).toMatchObject({ sender: from, to, message: 'Hello from a sub-account number' })
    expect((await call(twilio, 'GET', `/v1/text-receive-logs/${forged}/`)).statusCode).toBe(404)
    // Another tenant's webhook URL does not take this sub-account's signature.
    const otherPath = `/webhooks/twilio/${other.tenant.id}/sms`
    const params = message('SM' + randomUUID().replaceAll('-', ''))
    const elsewhere = await t.app.inject({
      method: 'POST', url: otherPath, payload: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(sub.authToken, t.config.publicUrl + otherPath, params) },
    })
    expect(elsewhere.statusCode).toBe(403)
  })

  it('number info through Twilio Lookup v2 (line_type_intelligence), cached; reresolve asks again', async () => {
    const number = '+16285550142'
    numbersPeer.lookups.set(number, { type: 'landline', carrier_name: 'Peer Telco', mobile_country_code: '311', mobile_network_code: '480' })
    const lookupsBefore = numbersPeer.counts.lookup
    const info = (await ok(twilio, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number } } })).data
    expect(info.attributes).toMatchObject({ status: 'resolved', type: 'landline', 'carrier-name': 'Peer Telco', 'mobile-country-code': '311', 'mobile-network-code': '480' })
    await ok(twilio, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number } } })
    expect(numbersPeer.counts.lookup).toBe(lookupsBefore + 1)
    numbersPeer.lookups.set(number, { type: 'mobile', carrier_name: 'Ported Wireless', mobile_country_code: '310', mobile_network_code: '260' })
    const fresh = (await ok(twilio, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number, reresolve: true } } })).data
    expect(numbersPeer.counts.lookup).toBe(lookupsBefore + 2)
    expect(fresh).toMatchObject({ id: info.id, attributes: { type: 'mobile', 'carrier-name': 'Ported Wireless' } })
  })

  it('a text goes out through Twilio from the number; #113 takes Twilio\'s signed status callback through the webhook pipeline', async () => {
    const acct = await account(twilio)
    const n = (await ok(twilio, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '341' } } })).data
    const from = n.attributes['phone-number'] as string
    sms.numbers.add(from)
    const target = uniquePhone()
    const statusUrl = `${receiver.url}/status/${randomUUID()}`
    const text = (await ok(twilio, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, target, message: 'From Twilio', 'callback-status-url': statusUrl } } })).data
    const sent = await settled(twilio, text.id)
    expect(sent.attributes.status).toBe('sent')
    // Through the sub-account that holds the number.
    expect(numbersPeer.subAccountMessages).toBeGreaterThan(0)
    const peerMessage = sms.sentTo(target)[0]!
    expect(peerMessage).toMatchObject({ from, body: 'From Twilio' })
    expect(sent.attributes['twilio-sid']).toBe(peerMessage.sid)

    await waitFor('the sent callback', () => verifiedAt(new URL(statusUrl).pathname).length > 0, 30_000)
    const url = `${t.config.publicUrl}/v1/texts/${text.id}/callback/`
    // Twilio signs a sub-account's callbacks with the sub-account's own auth token.
    const sub = numbersPeer.accounts.get(acct.attributes['twilio-id'])!
    const params = { MessageSid: peerMessage.sid, MessageStatus: 'delivered', AccountSid: sub.sid, To: target, From: from }
    const form = new URLSearchParams(params).toString()
    const wrong = await t.app.inject({ method: 'POST', url: `/v1/texts/${text.id}/callback/`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bad' }, payload: form })
    // A wrong signature answers as an unknown text does.
    expectJsonApiError(wrong, 404)
    expect((await ok(twilio, 'GET', `/v1/texts/${text.id}/`)).data.attributes.status).toBe('sent')
    const good = await t.app.inject({ method: 'POST', url: `/v1/texts/${text.id}/callback/`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(sub.authToken, url, params) }, payload: form })
    expect(good.statusCode, good.body).toBe(204)
    expect((await ok(twilio, 'GET', `/v1/texts/${text.id}/`)).data.attributes.status).toBe('delivered')
    const statuses = await waitFor('both status callbacks', () => {
      const got = verifiedAt(new URL(statusUrl).pathname).map((b) => b.status)
      return got.includes('delivered') ? got : undefined
    }, 30_000)
    expect(statuses).toEqual(['sent', 'delivered'])

    // #113 on the sandbox (no webhooks there) and for an unknown text: 404.
    const sandboxText = await (async () => {
      const a = await account(sandbox)
      await number(sandbox, a.id)
      return (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': a.id, target: uniquePhone(), message: 'x' } } })).data
    })()
    expectJsonApiError(await t.app.inject({ method: 'POST', url: `/v1/texts/${sandboxText.id}/callback/`, headers: { 'content-type': 'application/json' }, payload: '{}' }), 404)
    expectJsonApiError(await t.app.inject({ method: 'POST', url: `/v1/texts/${randomUUID()}/callback/`, headers: { 'content-type': 'application/json' }, payload: '{}' }), 404)
  })
})

describe('purge-data (#86) and texts', () => {
  it('erases what the individual\'s phone was sent and sent in, their lookups and log lines; a number forwarding to them stops', async () => {
    const phone = uniquePhone()
    const person = await seedPerson(t, sandbox, { phone })
    const acct = await account(sandbox)
    const n = await number(sandbox, acct.id, { logging: true })
    const forwarding = await number(sandbox, acct.id, { 'forward-to': phone })
    const text = (await ok(sandbox, 'POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, 'number-id': n.id, target: phone, message: 'Private' } } })).data
    const sid = await inbound(sandbox, phone, n.attributes['phone-number'] as string, 'Private reply')
    await waitFor('the receive log', async () => (await call(sandbox, 'GET', `/v1/text-receive-logs/${sid}/`)).statusCode === 200, 30_000)
    const info = (await ok(sandbox, 'POST', '/v1/text-number-info/', { data: { type: 'text-number-info', attributes: { number: phone } } })).data
    const requestId = `req-${person.cassId}`
    expect((await call(sandbox, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-id': person.cassId, 'entity-type': 'individual', 'request-id': requestId } } })).statusCode).toBe(201)
    await waitFor(`purge ${requestId}`, async () => {
      const r = await call(sandbox, 'GET', `/v1/purge-data/${requestId}/`)
      return r.statusCode === 200 && (JSON.parse(r.body) as Json).data.attributes.status === 'completed'
    }, 30_000)
    expectJsonApiError(await call(sandbox, 'GET', `/v1/texts/${text.id}/`), 404)
    expectJsonApiError(await call(sandbox, 'GET', `/v1/text-receive-logs/${sid}/`), 404)
    expectJsonApiError(await call(sandbox, 'GET', `/v1/text-number-info/${info.id}/`), 404)
    expect((await ok(sandbox, 'GET', `/v1/text-number-logs/?number-id=${n.id}`)).data).toEqual([])
    expect((await ok(sandbox, 'GET', `/v1/text-account-numbers/${forwarding.id}/`)).data.attributes['forward-to']).toBe('')
  })
})

describe('a user token', () => {
  it('is refused on every texts and numbers operation (403 organization_key_required), writing nothing', async () => {
    await t.services.directory.import(other.tenant, { format: 'yaml', text: 'users:\n  - { email: texts.user@other.example, first_name: Tex, last_name: User }\n' })
    const { token } = await t.services.directory.issueUserToken(other.tenant, 'texts.user@other.example')
    const acct = await account(other)
    const before = await written(other)
    for (const [method, url, body] of [
      ['GET', `/v1/text-accounts/${acct.id}/`], ['GET', '/v1/text-accounts/'], ['POST', '/v1/text-accounts/', { data: { type: 'text-accounts', attributes: { 'organization-id': org(other) } } }],
      ['POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '212' } } }],
      ['POST', '/v1/texts/', { data: { type: 'texts', attributes: { 'account-id': acct.id, target: uniquePhone(), message: 'x' } } }],
      ['GET', `/v1/texts/?account-id=${acct.id}`], ['POST', `/v1/text-accounts/${acct.id}/claim-number/`, { notes: 'x' }],
    ] as const) {
      const e = expectJsonApiError(await call(token, method, url, body), 403)
      expect(e.code, `${method} ${url}`).toBe('organization_key_required')
    }
    expect(await written(other)).toEqual(before)
  })
})
