import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// A channel's messages in each participant's timeline (the `transcript` relation), and its SMS path
// (#51) end to end with the job workers: posts reach the individual through the outbox and the
// sandbox provider (the first one preceded by the initial message), an SMS reply from the sandbox
// comes back as the individual's message, a STOP'd number gets nothing, another tenant sees nothing.
let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let nurse: string
beforeAll(async () => {
  t = await startTestApp({ workers: true })
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  nurse = (await seedPerson(t, a, { firstName: 'Nia', protocol: 'web', externalId: 'nurse-nia' })).cassId
})
afterAll(async () => t?.close())

const org = (tt: TestTenant) => tt.credentials.courier.organization_id
const { call, ok } = courierClient(() => t, { validate: true })
/** A person registered through the person API: their person_id is their individual id. */
async function register(tt: TestTenant, firstName: string, phone: string): Promise<string> {
  const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: tt.cassAuth }, payload: { phone, first_name: firstName, new_id: '1' } })
  expect(r.statusCode, r.body).toBe(200)
  return (JSON.parse(r.body) as Json).person_id as string
}
const channel = async (individualIds: string[], acting = nurse) =>
  (await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': individualIds, 'individual-id': acting } } })).data as Json
const post = async (channelId: string, author: string | undefined, message: string, extra: Json = {}) =>
  (await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channelId, message, ...(author ? { 'individual-id': author } : {}), ...extra } } })).data as Json
/** The person's timeline as SQL readers see it (README "For SQL readers"). */
const transcript = async (tenantId: string, personId: string) =>
  (await sql<{ direction: string; channel: string; text: string; message_id: string }>`SELECT direction, channel, text, message_id FROM transcript WHERE tenant_id = ${tenantId} AND person_id = ${personId} ORDER BY created_at, sort_key`.execute(t.store.db)).rows
const outbox = async (tt: TestTenant, to: string) => {
  const r = await t.app.inject({ url: '/sandbox/api/outbox?limit=200', headers: { authorization: tt.cassAuth } })
  return ((JSON.parse(r.body) as Json).data as Json[]).filter((m) => m.to === to).reverse()
}
const inbound = async (tt: TestTenant, from: string, body: string) => {
  const r = await t.app.inject({ method: 'POST', url: '/sandbox/api/inbound', headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ channel: 'sms', from, body }) })
  expect(r.statusCode, r.body).toBe(201)
  const id = (JSON.parse(r.body) as Json).data.id as string
  await waitFor('the inbound handlers', async () => {
    const list = await t.app.inject({ url: '/sandbox/api/inbound?limit=200', headers: { authorization: tt.cassAuth } })
    return ((JSON.parse(list.body) as Json).data as Json[]).find((m) => m.id === id)?.status === 'processed'
  })
}

describe('the transcript', () => {
  it('has a posted message in each participant’s timeline: in for its author, out for the others; no drafts, nothing removed', async () => {
    const pat = await register(a, 'Pat', uniquePhone())
    const c = await channel([pat])
    await post(c.id, nurse, 'Hello Pat')
    await post(c.id, pat, 'Hi Nia')
    await post(c.id, nurse, 'a draft', { draft: true })
    const gone = await post(c.id, nurse, 'oops')
    await ok(a, 'GET', `/v1/messaging-messages/${gone.id}/`)
    const removed = await t.app.inject({
      method: 'PATCH', url: `/v1/messaging-messages/${gone.id}/`, headers: { authorization: `Bearer ${a.credentials.courier.api_key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ data: { type: 'messaging-messages', id: gone.id, attributes: { 'individual-id': nurse, removed: true } } }),
    })
    expect(removed.statusCode, removed.body).toBe(200)
    await post(c.id, undefined, 'From the clinic')
    expect((await transcript(a.tenant.id, pat)).map((r) => [r.direction, r.channel, r.text])).toEqual([
      ['out', 'messaging', 'Hello Pat'], ['in', 'messaging', 'Hi Nia'], ['out', 'messaging', 'From the clinic'],
    ])
    expect((await transcript(a.tenant.id, nurse)).filter((r) => r.channel === 'messaging').map((r) => [r.direction, r.text])).toEqual([
      ['in', 'Hello Pat'], ['out', 'Hi Nia'], ['out', 'From the clinic'],
    ])
    // The bot's reading of the transcript (the person API's person, by core id) has them too.
    const person = await t.services.people.getByRef(a.tenant, pat)
    expect((await t.services.bot.transcript(a.tenant, person.id)).map((e) => e.text)).toEqual(['Hello Pat', 'Hi Nia', 'From the clinic'])
    // Another tenant's relation rows never show them.
    expect((await sql<{ n: string }>`SELECT count(*) AS n FROM transcript WHERE tenant_id = ${b.tenant.id} AND person_id = ${pat}`.execute(t.store.db)).rows[0]!.n).toBe('0')
  })
})

describe('the SMS path (#51)', () => {
  it('texts posts to the individual (the initial message first), and brings the reply back into the channel', async () => {
    const phone = uniquePhone()
    const pat = await register(a, 'Pat', phone)
    const c = await channel([pat])
    expect(c.attributes['with-sms']).toBe(false)
    const on = (await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true, 'initial-message': 'Your care team wrote to you. Reply here.' })).data as Json
    expect(on.attributes['with-sms']).toBe(true)
    await post(c.id, nurse, 'Take your meds')
    const first = await waitFor('the SMS sent', async () => {
      const rows = await outbox(a, phone)
      return rows.length === 1 && rows[0]!.status === 'sent' ? rows : undefined
    })
    // The initial message leads the first SMS (one SMS, so they cannot arrive out of order).
    expect(first[0]).toMatchObject({ channel: 'sms', provider: 'sandbox', body: 'Your care team wrote to you. Reply here.\n\nNia: Take your meds' })
    await post(c.id, nurse, 'And drink water')
    const second = await waitFor('the second SMS', async () => ((await outbox(a, phone)).filter((m) => m.status === 'sent').length === 2 ? await outbox(a, phone) : undefined))
    expect(second.map((m) => m.body)).toContain('Nia: And drink water')

    await inbound(a, phone, 'Will do, thanks')
    const list = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${nurse}`)
    const reply = list.data.find((m: Json) => m.attributes.message === 'Will do, thanks') as Json
    expect(reply.attributes).toMatchObject({ 'individual-id': pat, source: 'sms', 'first-name': 'Pat', ack: false })
    expect(((await ok(a, 'GET', `/v1/messaging-channels/${c.id}/?individual-id=${nurse}`)).data as Json).attributes['caller-new-message-count']).toBe(1)
    // In the transcript once each: the channel messages, not their SMS copies.
    expect((await transcript(a.tenant.id, pat)).map((r) => [r.direction, r.channel, r.text])).toEqual([
      ['out', 'messaging', 'Take your meds'], ['out', 'messaging', 'And drink water'], ['in', 'messaging', 'Will do, thanks'],
    ])

    // Switched off: a post stays in the channel.
    expect(((await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: false })).data as Json).attributes['with-sms']).toBe(false)
    await post(c.id, nurse, 'Not texted')
    await new Promise((r) => setTimeout(r, 300))
    expect(await outbox(a, phone)).toHaveLength(2)
    // And a later SMS from the phone is not the channel's any more.
    await inbound(a, phone, 'Hello?')
    expect((await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&filter[text]=Hello%3F`)).data).toEqual([])
  })

  it('uses the organisation’s initial-sms-message without the channel’s own; a new activation sends it again', async () => {
    const phone = uniquePhone()
    const kim = await register(a, 'Kim', phone)
    await ok(a, 'POST', '/v1/org-preferences/', { data: { type: 'org-preferences', attributes: { 'organization-id': org(a), name: 'initial-sms-message', value: 'A note from your clinic:' } } })
    const c = await channel([kim])
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true })
    await post(c.id, undefined, 'Your results are in')
    const rows = await waitFor('the SMS', async () => ((await outbox(a, phone)).length === 1 ? await outbox(a, phone) : undefined))
    expect(rows.map((m) => m.body)).toEqual(['A note from your clinic:\n\nYour results are in'])
    await post(c.id, undefined, 'Second note')
    await waitFor('the second SMS', async () => (await outbox(a, phone)).some((m) => m.body === 'Second note'))
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: false })
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true })
    await post(c.id, nurse, 'Call us')
    await waitFor('the SMS of the new activation', async () => (await outbox(a, phone)).some((m) => m.body === 'A note from your clinic:\n\nNia: Call us'))
    expect(await outbox(a, phone)).toHaveLength(3)
  })

  it('sends nothing to a number that replied STOP', async () => {
    const phone = uniquePhone()
    const sam = await register(a, 'Sam', phone)
    await inbound(a, phone, 'STOP')
    const c = await channel([sam])
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true })
    await post(c.id, nurse, 'Are you there?')
    // Queued with the post, and suppressed at once: no job, nothing reaches the provider.
    const keyword = (await outbox(a, phone)).length
    const rows = (await outbox(a, phone)).filter((m) => m.status === 'suppressed')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.body).toMatch(/\n\nNia: Are you there\?$/)
    await new Promise((r) => setTimeout(r, 300))
    expect((await outbox(a, phone)).filter((m) => m.status === 'sent' && (m.body as string).includes('Are you there?'))).toEqual([])
    expect((await outbox(a, phone)).length).toBe(keyword)
  })

  it('leaves a reply to an active contact-center SMS session: the session wins over the channel', async () => {
    const cc = await createTenant(t.services)
    await t.services.ccSetup.load(cc.tenant.id, 'settings: { sms_enabled: true, outbound_sms_enabled: true }\nphone_numbers:\n  - { number: "+16285550199" }\n', 'yaml')
    const phone = uniquePhone()
    const lee = await register(cc, 'Lee', phone)
    const ccNurse = (await seedPerson(t, cc, { firstName: 'Nia', protocol: 'web', externalId: 'cc-nurse' })).cassId
    const c = (await ok(cc, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(cc), 'individual-ids': [lee], 'individual-id': ccNurse } } })).data as Json
    await ok(cc, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true })
    await ok(cc, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': c.id, message: 'From the channel', 'individual-id': ccNurse } } })
    await t.services.smsSessions.start(cc.tenant.id, { endUserPhone: phone, outboundNumber: '+16285550199', message: 'From the contact center' })
    await inbound(cc, phone, 'Which one answers?')
    const inSession = await t.store.db.selectFrom('cc_messages').select('content').where('tenant_id', '=', cc.tenant.id).where('from_end_user', '=', true).execute()
    expect(inSession.map((m) => m.content)).toEqual(['Which one answers?'])
    const inChannel = await ok(cc, 'GET', `/v1/messaging-messages/?channel-id=${c.id}`)
    expect(inChannel.data.map((m: Json) => m.attributes.message)).toEqual(['From the channel'])
  })

  it('refuses a channel nobody can be texted in, a bad body, and another tenant’s channel; nothing changes', async () => {
    const noPhone = (await seedPerson(t, a, { firstName: 'Web', protocol: 'web', externalId: 'web-only' })).cassId
    const c = await channel([noPhone])
    expect(expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true }), 400, { pointer: '/active' }).code).toBe('sms_unavailable')
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, {}), 400, { pointer: '/active' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: 'yes' }), 400, { pointer: '/active' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true, 'initial-message': 'x'.repeat(1025) }), 400, { pointer: '/initial-message' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true, colour: 'red' }), 400, { pointer: '/colour' })
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: false }), 404)
    const after = (await ok(a, 'GET', `/v1/messaging-channels/${c.id}/`)).data as Json
    expect(after.attributes['with-sms']).toBe(false)
    expect(after.attributes['last-modified-time']).toBe(c.attributes['last-modified-time'])
  })
})

describe('a channel\'s text number (`text-number-id`)', () => {
  it('sends the SMS path from the organisation\'s text number; a reply to it is logged and comes back into the channel; other numbers are 404', async () => {
    const acct = (await ok(a, 'POST', '/v1/text-accounts/', { data: { type: 'text-accounts', attributes: { 'organization-id': org(a) } } })).data as Json
    const num = (await ok(a, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': acct.id, 'area-code': '919' } } })).data as Json
    const from = num.attributes['phone-number'] as string
    const phone = uniquePhone()
    const pat = await register(a, 'Pat', phone)
    const c = (await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [pat], 'individual-id': nurse, 'text-number-id': num.id } } })).data as Json
    expect(c.attributes['text-number']).toEqual({ id: num.id })
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true, 'initial-message': 'Your clinic.' })
    await post(c.id, nurse, 'From our own number')
    const sent = await waitFor('the SMS from the number', async () => {
      const rows = (await outbox(a, phone)).filter((m) => m.status === 'sent')
      return rows.length === 1 ? rows[0] : undefined
    })
    expect(sent).toMatchObject({ from, body: 'Your clinic.\n\nNia: From our own number' })

    // The reply to the number: a receive log of the number (#106) and the individual's message in the channel.
    const r = await t.app.inject({ method: 'POST', url: '/sandbox/api/inbound', headers: { authorization: a.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ channel: 'sms', from: phone, to: from, body: 'Got it' }) })
    expect(r.statusCode, r.body).toBe(201)
    const reply = await waitFor('the reply in the channel', async () => {
      const list = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${c.id}&individual-id=${nurse}`)
      return (list.data as Json[]).find((m) => m.attributes.message === 'Got it')
    })
    expect(reply.attributes).toMatchObject({ 'individual-id': pat, source: 'sms' })
    const inboundId = (JSON.parse(r.body) as Json).data.id as string
    const log = (await ok(a, 'GET', `/v1/text-receive-logs/${inboundId}/`)).data as Json
    expect(log.attributes).toMatchObject({ sender: phone, to: from, message: 'Got it' })

    // Unlinked by PATCH: the path goes back to the tenant's sender.
    const unlinked = await ok(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/text-number-id', value: null }] } })
    expect((unlinked.data as Json).attributes['text-number']).toBeNull()
    await post(c.id, nurse, 'From the default sender')
    const next = await waitFor('the SMS from the default sender', async () => (await outbox(a, phone)).find((m) => m.body === 'Nia: From the default sender' && m.status === 'sent'))
    expect(next.from).not.toBe(from)
    const relinked = await ok(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/text-number-id', value: num.id }] } })
    expect((relinked.data as Json).attributes['text-number']).toEqual({ id: num.id })

    // Another tenant's number, an unknown one, or a bad value: refused where given, nothing written.
    const bAcct = (await ok(b, 'POST', '/v1/text-accounts/', { data: { type: 'text-accounts', attributes: { 'organization-id': org(b) } } })).data as Json
    const bNum = (await ok(b, 'POST', '/v1/text-account-numbers/', { data: { type: 'text-account-numbers', attributes: { 'account-id': bAcct.id, 'area-code': '919' } } })).data as Json
    const before = (await sql<{ n: string }>`SELECT count(*) AS n FROM msg_channels WHERE tenant_id = ${a.tenant.id}`.execute(t.store.db)).rows[0]!.n
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org(a), 'individual-ids': [pat], 'text-number-id': bNum.id } } }), 404, { pointer: '/data/attributes/text-number-id' })
    expect((await sql<{ n: string }>`SELECT count(*) AS n FROM msg_channels WHERE tenant_id = ${a.tenant.id}`.execute(t.store.db)).rows[0]!.n).toBe(before)
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/name', value: 'Renamed' }, { op: 'replace', path: '/text-number-id', value: bNum.id }] } }), 404, { pointer: '/data/attributes/1' })
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-channels/${c.id}/`, { data: { type: 'messaging-channels', id: c.id, attributes: [{ op: 'replace', path: '/text-number-id', value: 'nope' }] } }), 400, { pointer: '/data/attributes/0' })
    const after = (await ok(a, 'GET', `/v1/messaging-channels/${c.id}/`)).data as Json
    expect(after.attributes).toMatchObject({ name: c.attributes.name, 'text-number': { id: num.id } })
  })
})

describe('the company DNC list (Apps API D1)', () => {
  it('holds back care-team SMS to a number the contact center listed, until D2 removes it', async () => {
    const phone = uniquePhone()
    const dee = await register(a, 'Dee', phone)
    const dnc = (path: string, body: unknown) => t.app.inject({ method: 'POST', url: `/apps/api/v1/outbound_dialer/dnc${path}`, headers: { authorization: a.ccaiAuth, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    const added = await dnc('', { contacts: [{ phone_number: phone.replace('+1', '+1 ') }] })
    expect(JSON.parse(added.body)).toEqual([{ phone_number: phone.replace('+1', '+1 '), status: 'created' }])
    const c = await channel([dee])
    await ok(a, 'POST', `/v1/messaging-channels/${c.id}/sms/`, { active: true })
    await post(c.id, nurse, 'Do not text me')
    const held = (await outbox(a, phone)).filter((m) => (m.body as string).includes('Do not text me'))
    expect(held).toEqual([expect.objectContaining({ status: 'suppressed', suppressed_reason: 'dnc' })])

    expect(JSON.parse((await dnc('/remove', { phone_numbers: [phone] })).body)).toEqual([{ phone_number: phone, status: 'removed' }])
    await post(c.id, nurse, 'Now you may')
    await waitFor('the SMS after removal', async () => (await outbox(a, phone)).find((m) => (m.body as string).includes('Now you may') && m.status === 'sent'))
  })
})
