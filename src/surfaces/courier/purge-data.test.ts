import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { credentialsQuery, seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { Person } from '../../core/people/index.ts'

// Purge-data (#86) through HTTP with the job workers running: an individual with channel messages,
// an uploaded attachment, a contact-center chat, a scheduled check-in and SMS in and out is erased
// everywhere — the person API then answers them unknown, the messaging API 404 — and the audit
// record counts what went without any of it; the same request-id again runs nothing; `archive`
// keeps the rows in the operator's archive and the stored files; bad input is a §1.7 error that
// writes nothing; another tenant cannot purge (see also messaging.test.ts, tenant isolation).
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

let dir: string
let t: TestApp
let a: TestTenant
let b: TestTenant
let nurse: Person
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-purge-'))
  t = await startTestApp({ listen: true, workers: true, config: { SWITCHBOARD_FILES_DIR: dir } })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  nurse = await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })
  // An announcer of posted messages: its signed events quote what the patient writes.
  const announcer = await t.app.inject({
    method: 'POST', url: '/v1/announcers/', headers: { authorization: `Bearer ${a.credentials.courier.api_key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ data: { type: 'announcers', attributes: { args: { url: 'https://hooks.example.com/purge', secret: 'purge-test-secret-0123456789' }, event: 'message-posted', name: 'audit', 'organization-id': a.credentials.courier.organization_id, type: 'webhook' } } }),
  })
  expect(announcer.statusCode, announcer.body).toBe(201)
  await t.services.ccSetup.load(a.tenant.id, [
    'settings: { rate_limit: 1000 }', 'teams: [{ name: Desk }]',
    'menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }, { name: Phone, type: ivr, children: [{ name: Outbound, channels: [call], teams: [Desk] }] }]',
    'phone_numbers: [{ number: "+1 628-555-0199" }]',
    'campaigns: [{ name: Recall, caller_id: "+1 628-555-0199", queue: "Phone / Outbound", mode: preview }]', '',
  ].join('\n'), 'yaml')
}, 120_000)
afterAll(async () => {
  await t?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const here = (url: string) => url.replace(t.config.publicUrl, t.url)
function call(tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown) {
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
}
async function ok(tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Json> {
  const r = await call(tt, method, url, body)
  expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(method === 'POST' ? 201 : 200)
  return JSON.parse(r.body) as Json
}
const purgeDoc = (attributes: Json) => ({ data: { type: 'system-purges', attributes }, meta: {} })
const db = () => t.store.db
const count = async (table: 'privacy_purges' | 'people' | 'msg_messages', tenantId = a.tenant.id) =>
  Number((await db().selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n)

/** A patient with data on every surface; answers what to look for afterwards. */
async function patientWithData(name: string) {
  const phone = uniquePhone()
  const email = `${name.toLowerCase()}-${Date.now()}@example.org`
  const patient = await seedPerson(t, a, { firstName: name, phone })
  await db().updateTable('people').set({ email }).where('id', '=', patient.id).execute()
  // Messaging: a channel with the nurse, two posts of the patient, one of the nurse, a file on the patient's post.
  const channel = (await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.tenant.id, 'individual-ids': [patient.cassId], 'individual-id': nurse.cassId } } })).data as Json
  const post = async (author: string, message: string) => (await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.id, message, 'individual-id': author } } })).data as Json
  const secret = `${name} secret symptoms`
  const mine = await post(patient.cassId, secret)
  await post(patient.cassId, `${name} second note`)
  const theirs = await post(nurse.cassId, 'Noted, thank you')
  const ticket = (await ok(a, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': mine.id, 'content-type': 'application/pdf', filename: 'scan.pdf' } } })).data as Json
  const form = new FormData()
  for (const [k, v] of Object.entries(ticket['upload-data'] as Record<string, string>)) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'))], { type: 'application/octet-stream' }), 'scan.pdf')
  const up = await fetch(here(ticket['upload-url'] as string), { method: 'POST', body: form })
  expect(up.status, await up.clone().text()).toBe(201)
  await ok(a, 'POST', `/v1/messaging-attachments/${ticket.id}/process-upload/`, { 'individual-id': patient.cassId })
  const fileKey = (ticket['upload-data'] as Record<string, string>).key!
  expect(await t.services.files.stat(a.tenant.id, fileKey)).toBeDefined()
  // Contact center: an end user with the patient's phone and e-mail (the same person), a chat with their message.
  const endUser = await t.services.endUsers.upsert(a.tenant.id, { identifier: `visitor-${patient.cassId}`, phone, email })
  expect(endUser.personId).toBe(patient.id)
  const chat = await t.services.chats.start(a.tenant.id, { menuNum: 2, endUserNum: endUser.num, email, context: { note: secret } })
  await t.services.chats.endUserMessage(a.tenant.id, chat.num, { fromUserNum: endUser.num, type: 'text', content: `${secret} in chat`, mediaId: null })
  // Scheduling: a check-in tomorrow. Delivery and the bot: an SMS in, one out.
  await db().transaction().execute((trx) => t.services.scheduling.schedule(trx, {
    tenantId: a.tenant.id, personId: patient.id, type: 'checkin', threadName: 'checkin', dueAt: new Date(Date.now() + 86_400_000), idempotencyKey: `checkin-${patient.id}`,
  }))
  await t.services.delivery.receive(a.tenant, { channel: 'sms', from: phone, to: '+15550000000', body: `${secret} by sms`, provider: 'sandbox' })
  await t.services.delivery.send(a.tenant, { channel: 'sms', to: phone, body: `${name}, your appointment is tomorrow`, personId: patient.id })
  // The dialer's list: the patient by phone in one campaign (campaign contacts name no person).
  const contact = await t.services.campaigns.addContact(a.tenant.id, 1, { name: `${name} Patient`, phone, email: email.toUpperCase() })
  // …dialled once by the campaign's dialer (its row of the dial, which names the contact).
  const contactRow = await db().selectFrom('cc_campaign_contacts').select(['id', 'campaign_id']).where('tenant_id', '=', a.tenant.id).where('num', '=', contact.num).executeTakeFirstOrThrow()
  await db().insertInto('cc_dialer_calls').values({ tenant_id: a.tenant.id, session_id: randomUUID(), campaign_id: contactRow.campaign_id, contact_id: contactRow.id }).execute()
  // An aggregation request about the patient and the nurse.
  const aggregation = (await ok(a, 'POST', '/v1/aggregation-requests/', { data: { type: 'aggregation-requests', attributes: { entries: [{ column: 'unread-count', 'individual-id': patient.cassId }, { column: 'unread-count', 'individual-id': nurse.cassId }] } } })).data as Json
  return { patient, phone, email, secret, channel, mine, theirs, ticket, fileKey, chat, endUser, aggregation }
}

const completed = (tt: TestTenant, requestId: string) => waitFor(`purge ${requestId} completed`, async () => {
  const r = await call(tt, 'GET', `/v1/purge-data/${encodeURIComponent(requestId)}/`)
  const doc = JSON.parse(r.body) as Json
  return r.statusCode === 200 && doc.data.attributes.status === 'completed' ? doc : undefined
}, 30_000)

describe('purge-data (#86)', () => {
  it('erases the individual everywhere; the person API answers unknown, the messaging API 404; the audit has counts, no content', async () => {
    const p = await patientWithData('Pat')
    const requestId = `req-${p.patient.cassId}`
    // A sniffer of a care-team user captured a list naming the patient (with what they wrote), and another request.
    await t.services.directory.import(a.tenant, { format: 'yaml', text: 'users:\n  - { email: sniffed.purge@a.example, first_name: Sid, last_name: Niff }\n' })
    const sniffed = await db().selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).where('email', '=', 'sniffed.purge@a.example').executeTakeFirstOrThrow()
    await ok(a, 'POST', '/v1/sniffers/', { data: { type: 'sniffers', attributes: { 'user-id': sniffed.id, 'valid-until': new Date(Date.now() + 3_600_000).toISOString() } } })
    const captured = (path: string, response: string) => t.services.sniffers.capture(a.tenant.id, sniffed.id, {
      method: 'GET', path, queryString: '', contentType: '', body: '', response, statusCode: 200, message: '', userAgent: 'test', requestId: 'r', traceId: 'r',
    })
    expect(await captured('/v1/messaging-messages/', JSON.stringify({ data: [{ attributes: { 'individual-id': p.patient.cassId, message: p.secret } }] }))).toBe(1)
    expect(await captured('/v1/users/', '{"data":[]}')).toBe(1)
    // The spec's sample body: 201 with a null body.
    const r = await call(a, 'POST', '/v1/purge-data/', purgeDoc({ archive: false, 'entity-id': p.patient.cassId, 'entity-type': 'individual', 'reference-id': 'ticket-42', 'request-id': requestId }))
    expect(r.statusCode, r.body).toBe(201)
    expect(r.body).toBe('null')
    const audit = expectJsonApi(await completed(a, requestId))
    expect(audit.data).toMatchObject({ type: 'system-purges', id: requestId })
    expect(audit.data.attributes).toMatchObject({
      archive: false, 'entity-id': p.patient.cassId, 'entity-type': 'individual', 'reference-id': 'ticket-42', 'request-id': requestId, status: 'completed', 'requested-by': 'organization',
    })
    expect(audit.data.attributes.counts).toMatchObject({
      messages: 2, attachments: 1, files: 1, channel_memberships: 1, end_users: 1, chat_sessions: 1, chat_messages: 1,
      scheduled_notifications: 1, identities: 1, person: 1, inbound_messages: 1, outbox_messages: 1, campaign_contacts: 1, dialer_calls: 1,
    })
    expect(await db().selectFrom('cc_campaign_contacts').select('id').where('tenant_id', '=', a.tenant.id).where('phone', '=', p.phone).execute()).toEqual([])
    // No dial of the tenant names a contact that is gone.
    expect(await db().selectFrom('cc_dialer_calls').select('contact_id').where('tenant_id', '=', a.tenant.id)
      .where((eb) => eb('contact_id', 'not in', eb.selectFrom('cc_campaign_contacts').select('id').where('tenant_id', '=', a.tenant.id))).execute()).toEqual([])
    // The audit record, on the wire and in the table, carries none of what was erased.
    const row = await db().selectFrom('privacy_purges').selectAll().where('tenant_id', '=', a.tenant.id).where('request_id', '=', requestId).executeTakeFirstOrThrow()
    for (const text of [JSON.stringify(audit), JSON.stringify(row)]) {
      for (const erased of [p.secret, p.phone, p.email, 'Pat', 'appointment']) expect(text).not.toContain(erased)
    }

    // The person API: unknown person (its documented 404). The messaging API: 404 for the individual.
    const cass = await t.app.inject({ method: 'GET', url: `/external_person/${p.patient.cassId}?${credentialsQuery(a)}` })
    expect(cass.statusCode, cass.body).toBe(404)
    expect(JSON.parse(cass.body)).toEqual({ message: `Unknown person with id : ${p.patient.cassId}` })
    expectJsonApiError(await call(a, 'GET', `/v1/individuals/${p.patient.cassId}/`), 404)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-channels/?individual-id=${p.patient.cassId}`), 404)

    // Messaging: their posts are emptied and removed, the nurse's stays; the file and its bytes are gone.
    const messages = await db().selectFrom('msg_messages').selectAll().where('tenant_id', '=', a.tenant.id).where('channel_id', '=', p.channel.id).orderBy('seq').execute()
    expect(messages.map((m) => [m.message, m.removed, m.author_id])).toEqual([['', true, null], ['', true, null], ['Noted, thank you', false, nurse.id]])
    const listed = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${p.channel.id}`)
    expect(JSON.stringify(listed)).not.toContain(p.secret)
    expect((await db().selectFrom('msg_channel_subscribers').select('individual_id').where('channel_id', '=', p.channel.id).execute()).map((s) => s.individual_id)).toEqual([nurse.id])
    expect(await db().selectFrom('msg_attachments').select('id').where('id', '=', p.ticket.id).executeTakeFirst()).toBeUndefined()
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-attachments/${p.ticket.id}/`), 404)
    await waitFor('the stored file deleted', async () => (await t.services.files.stat(a.tenant.id, p.fileKey)) === undefined)
    // The audit's list of files still to delete is cleared after the deletion (a moment later).
    await waitFor('the audit’s pending files cleared', async () => (await db().selectFrom('privacy_purges').select('pending_files').where('id', '=', row.id).executeTakeFirstOrThrow()).pending_files.length === 0)

    // Contact center: no end user; the session stays without personal data, the end user's text emptied.
    expect(await db().selectFrom('cc_end_users').select('id').where('tenant_id', '=', a.tenant.id).where('num', '=', p.endUser.num).executeTakeFirst()).toBeUndefined()
    const session = await db().selectFrom('cc_sessions').selectAll().where('tenant_id', '=', a.tenant.id).where('num', '=', p.chat.num).executeTakeFirstOrThrow()
    expect([session.person_id, session.email, session.end_user_phone, session.context, session.end_user_num]).toEqual([null, null, null, null, null])
    const chatMessages = await db().selectFrom('cc_messages').select(['content', 'from_end_user']).where('session_id', '=', session.id).execute()
    expect(chatMessages.filter((m) => m.from_end_user).map((m) => m.content)).toEqual([null])
    // Person API, scheduling, delivery: nothing left of them; the timeline is empty.
    for (const table of ['scheduled_notifications', 'transcript_messages', 'conversations', 'person_identities'] as const) {
      expect(await db().selectFrom(table).select('person_id').where('person_id', '=', p.patient.id).execute(), table).toEqual([])
    }
    expect(await db().selectFrom('people').select('id').where('id', '=', p.patient.id).execute()).toEqual([])
    expect(await db().selectFrom('outbox_messages').select('id').where('tenant_id', '=', a.tenant.id).where('recipient', '=', p.phone).execute()).toEqual([])
    expect(await db().selectFrom('inbound_messages').select('id').where('tenant_id', '=', a.tenant.id).where('sender', '=', p.phone).execute()).toEqual([])
    expect(await db().selectFrom('transcript').select('message_id').where('core_person_id', '=', p.patient.id).execute()).toEqual([])
    // The announcer's events no longer quote them; the aggregation request keeps only the nurse.
    const hooks = await db().selectFrom('outbound_webhooks').select(['body', 'status']).where('tenant_id', '=', a.tenant.id).where('topic', 'like', 'messaging.message-posted:%').execute()
    expect(hooks.length).toBeGreaterThanOrEqual(3)
    expect(hooks.map((h) => h.body).join('\n')).not.toContain(p.secret)
    expect(hooks.map((h) => h.body).join('\n')).toContain('Noted, thank you')
    expect(audit.data.attributes.counts.webhook_events).toBeGreaterThanOrEqual(2)
    const agg = await db().selectFrom('msg_aggregation_requests').select('entries').where('id', '=', p.aggregation.id).executeTakeFirstOrThrow()
    expect(agg.entries.map((e) => e.individualId)).toEqual([nurse.cassId])
    // The sniffer's capture that named them is gone, the other stays.
    expect((await db().selectFrom('msg_sniffer_logs').select(['path', 'response']).where('tenant_id', '=', a.tenant.id).execute()).map((l) => l.path)).toEqual(['/v1/users/'])
    expect(audit.data.attributes.counts.sniffer_logs).toBe(1)
    // The nurse is untouched.
    expect((await ok(a, 'GET', `/v1/individuals/${nurse.cassId}/`)).data.attributes['first-name']).toBe('Nia')

    // The same request-id again: the same purge, 201 null, nothing run twice.
    const jobsBefore = await db().selectFrom('job_keys').select('key').where('queue', '=', 'privacy.purge').where('tenant_id', '=', a.tenant.id).execute()
    const again = await call(a, 'POST', '/v1/purge-data/', purgeDoc({ archive: false, 'entity-id': p.patient.cassId, 'entity-type': 'individual', 'reference-id': 'ticket-42', 'request-id': requestId }))
    expect([again.statusCode, again.body]).toEqual([201, 'null'])
    expect(await db().selectFrom('job_keys').select('key').where('queue', '=', 'privacy.purge').where('tenant_id', '=', a.tenant.id).execute()).toEqual(jobsBefore)
    expect((await ok(a, 'GET', `/v1/purge-data/${requestId}/`)).data).toEqual(audit.data)
    // …and used for another entity: 409, nothing written.
    const purges = await count('privacy_purges')
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ 'entity-id': nurse.cassId, 'entity-type': 'individual', 'request-id': requestId })), 409, { pointer: '/data/attributes/request-id' })
    expect(await count('privacy_purges')).toBe(purges)
  })

  it('archive: true moves the rows into the operator’s archive and keeps the stored file; the APIs answer as after erasure', async () => {
    const p = await patientWithData('Pat')
    const requestId = `archive-${p.patient.cassId}`
    expect((await call(a, 'POST', '/v1/purge-data/', purgeDoc({ archive: true, 'entity-id': p.patient.cassId, 'entity-type': 'individual', 'request-id': requestId }))).statusCode).toBe(201)
    const audit = await completed(a, requestId)
    expect(audit.data.attributes).toMatchObject({ archive: true, status: 'completed', counts: { messages: 2, files: 1, person: 1 } })
    expect(JSON.stringify(audit)).not.toContain(p.secret)
    const cass = await t.app.inject({ method: 'GET', url: `/external_person/${p.patient.cassId}?${credentialsQuery(a)}` })
    expect(cass.statusCode).toBe(404)
    expectJsonApiError(await call(a, 'GET', `/v1/individuals/${p.patient.cassId}/`), 404)
    // The operator's archive has the content as it was; the bytes are kept.
    const archived = await t.services.privacy.archiveOf(a.tenant, requestId)
    const doc = archived!.document as Record<string, Json[]>
    expect(doc.msg_messages!.map((m) => m.message)).toContain(p.secret)
    expect(doc.person!.map((x) => x.phone)).toEqual([p.phone])
    expect(doc.file_keys).toContain(p.fileKey)
    expect(await t.services.files.stat(a.tenant.id, p.fileKey)).toBeDefined()
    // Another tenant has no such purge, and no archive.
    expectJsonApiError(await call(b, 'GET', `/v1/purge-data/${requestId}/`), 404)
    expect(await t.services.privacy.archiveOf(b.tenant, requestId)).toBeUndefined()
  })

  it('refuses bad input with §1.7 errors and writes nothing', async () => {
    const patient = await seedPerson(t, a, { firstName: 'Rae', phone: uniquePhone() })
    const before = [await count('privacy_purges'), await count('people')]
    const valid = { 'entity-id': patient.cassId, 'entity-type': 'individual', 'request-id': `bad-${patient.cassId}` }
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'request-id': undefined })), 400, { pointer: '/data/attributes/request-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'entity-type': 'user' })), 400, { pointer: '/data/attributes/entity-type' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, archive: 'yes' })), 400, { pointer: '/data/attributes/archive' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'request-id': '' })), 400, { pointer: '/data/attributes/request-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'request-id': 'a\u0000b' })), 400, { pointer: '/data/attributes/request-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, extra: 1 })), 400, { pointer: '/data/attributes/extra' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', { data: { type: 'purge-data', attributes: valid } }), 409, { pointer: '/data/type' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', '{"data":'), 400)
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'entity-id': '11111111-1111-4111-8111-111111111111' })), 404, { pointer: '/data/attributes/entity-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', purgeDoc({ ...valid, 'entity-id': 'not-an-id' })), 404, { pointer: '/data/attributes/entity-id' })
    // The spec's sample request verbatim passes validation; its entity-id "string" is nobody here.
    expectJsonApiError(await call(a, 'POST', '/v1/purge-data/', '{"data":{"attributes":{"archive":false,"entity-id":"string","entity-type":"individual","reference-id":"string","request-id":"string"},"type":"system-purges"},"meta":{}}'), 404, { pointer: '/data/attributes/entity-id' })
    expectJsonApiError(await call(a, 'GET', '/v1/purge-data/never-asked/'), 404)
    expectJsonApiError(await t.app.inject({ method: 'POST', url: '/v1/purge-data/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(purgeDoc(valid)) }), 401)
    expect([await count('privacy_purges'), await count('people')]).toEqual(before)
    expect((await ok(a, 'GET', `/v1/individuals/${patient.cassId}/`)).data.id).toBe(patient.cassId)
  })

  it('a user token may neither purge nor read purges (organisation key only)', async () => {
    await t.services.directory.import(b.tenant, { format: 'yaml', text: readFileSync(new URL('../../../examples/directory/demo.yaml', import.meta.url), 'utf8') })
    const { token } = await t.services.directory.issueUserToken(b.tenant, 'grace.okafor@demo.switchboard.local')
    const target = await seedPerson(t, b, { firstName: 'Una', phone: uniquePhone() })
    const asUser = (method: 'GET' | 'POST', url: string, body?: unknown) => t.app.inject({
      method, url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}),
    })
    const before = await count('privacy_purges', b.tenant.id)
    expectJsonApiError(await asUser('POST', '/v1/purge-data/', purgeDoc({ 'entity-id': target.cassId, 'entity-type': 'individual', 'request-id': `user-${target.cassId}` })), 403)
    expect(await count('privacy_purges', b.tenant.id)).toBe(before)
    expect((await ok(b, 'GET', `/v1/individuals/${target.cassId}/`)).data.id).toBe(target.cassId)
    await ok(b, 'POST', '/v1/purge-data/', purgeDoc({ 'entity-id': target.cassId, 'entity-type': 'individual', 'request-id': `org-${target.cassId}` }))
    expectJsonApiError(await asUser('GET', `/v1/purge-data/org-${target.cassId}/`), 404)
    await completed(b, `org-${target.cassId}`)
  })
})
