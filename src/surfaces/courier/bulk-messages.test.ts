import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Bulk messages (#40–#43) and bulk attachments (#36–#39) over HTTP: the documented sample requests
// as contract tests, the fan-out to listed individuals and a group's members (each once) into their
// channels with the sender, made when auto-create-channel, skipped and reported otherwise, the
// localisation by message-js, the draft → posted life (PATCH), files carried by every posted
// message, and the job's exactly-once: a run that fails halfway and is retried, and two runs at
// once, each leave exactly one message per recipient. Another tenant's ids answer 404.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-bulk-'))
})
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** HTTP helpers over one app. */
function client(t: () => TestApp) {
  const { call, ok } = courierClient(() => t(), { validate: true })
  const posted = (tt: TestTenant, id: string) => waitFor(`bulk message ${id} posted`, async () => {
    const b = await ok(tt, 'GET', `/v1/messaging-bulk-messages/${id}/`)
    return b.data.attributes.state === 'posted' ? b : undefined
  }, 30_000)
  return { call, ok, posted }
}

/** A group of the directory with these individuals (made by an import, as the operator makes them). */
async function group(t: TestApp, tt: TestTenant, externalId: string, members: readonly { externalId: string }[]): Promise<string> {
  await t.services.directory.import(tt.tenant, { format: 'parsed', value: {
    individuals: members.map((m) => ({ external_id: m.externalId, first_name: m.externalId })),
    groups: [{ external_id: externalId, name: externalId, individuals: members.map((m) => m.externalId) }],
  } })
  const row = await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tt.tenant.id).where('external_id', '=', externalId).executeTakeFirstOrThrow()
  return row.id
}

/** A person (individual) with an external id and, optionally, a language (the person's language_type). */
async function individual(t: TestApp, tt: TestTenant, name: string, language: string | null = null) {
  const p = await seedPerson(t, tt, { firstName: name, externalId: `${name}-${uniquePhone()}`, phone: uniquePhone() })
  if (language !== null) await t.store.db.updateTable('people').set({ language_type: language }).where('id', '=', p.id).execute()
  return { cassId: p.cassId, personId: p.id, externalId: p.externalId! }
}

/** The messages in channels the person subscribes to, by text (what each recipient received). */
async function received(t: TestApp, tt: TestTenant, personId: string): Promise<{ message: string; channel_id: string; id: string }[]> {
  return t.store.db.selectFrom('msg_messages as m')
    .innerJoin('msg_channel_subscribers as s', (j) => j.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.channel_id', '=', 'm.channel_id'))
    .select(['m.message', 'm.channel_id', 'm.id']).where('m.tenant_id', '=', tt.tenant.id).where('s.individual_id', '=', personId).orderBy('m.seq').execute()
}

describe('bulk messages and bulk attachments', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  const { call, ok, posted } = client(() => t)
  beforeAll(async () => {
    t = await startTestApp({ listen: true, workers: true, config: { SWITCHBOARD_FILES_DIR: join(dir, 'files') } })
    ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  })
  afterAll(async () => t?.close())

  it('#41 → #42 → #40: the documented sample posts to the individuals and the group, with the sender; list hides posted ones', async () => {
    const nurse = await individual(t, a, 'nurse')
    const pat = await individual(t, a, 'pat')
    const m1 = await individual(t, a, 'm1')
    const m2 = await individual(t, a, 'm2', 'es_US')
    const g = await group(t, a, 'team-sample', [m1, m2])
    const sender = await group(t, a, 'senders', [nurse])
    // #41's sample request, its ids made real.
    const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { attributes: {
      'auto-ack': '', 'auto-create-channel': true, draft: false, 'individual-group-ids': [g], 'individual-ids': [pat.cassId],
      message: 'string', 'message-js': { en_US: 'string', es_US: 'cadena' }, 'sender-individual-group-id': sender, 'sender-individual-id': nurse.cassId,
    }, type: 'messaging-bulk-messages' }, meta: {} })
    expect(created.data.type).toBe('messaging-bulk-messages')
    expect(created.data.attributes).toMatchObject({
      'created-by': a.tenant.id, draft: false, 'individual-group-ids': [g], 'individual-ids': [pat.cassId], message: 'string',
      'message-js': { en_US: 'string', es_US: 'cadena' }, 'organization-id': a.tenant.id, 'sender-individual-group-id': sender, 'sender-individual-id': nurse.cassId,
      'recipient-count': 3,
    })
    const done = await posted(a, created.data.id)
    expect(done.data.attributes).toMatchObject({ state: 'posted', 'posted-count': 3, 'skipped-count': 0, 'skipped-individual-ids': [] })
    expect(Date.parse(done.data.attributes['posted-time'])).toBeGreaterThanOrEqual(Date.parse(done.data.attributes['created-at']))
    for (const [who, text] of [[pat, 'string'], [m1, 'string'], [m2, 'cadena']] as const) {
      const got = await received(t, a, who.personId)
      expect(got.map((m) => m.message)).toEqual([text])
      // Posted by the sender, in a channel of the two of them.
      const msg = await ok(a, 'GET', `/v1/messaging-messages/${got[0]!.id}/`)
      expect(msg.data.attributes['individual-id']).toBe(nurse.cassId)
      const subscribers = await t.store.db.selectFrom('msg_channel_subscribers').select(['individual_id', 'admin']).where('channel_id', '=', got[0]!.channel_id).orderBy('admin').execute()
      expect(subscribers).toEqual([{ individual_id: who.personId, admin: false }, { individual_id: nurse.personId, admin: true }])
    }
    // #40: posted ones only with include-posted; filter[created-by].
    const hidden = await ok(a, 'GET', '/v1/messaging-bulk-messages/')
    expect(hidden.data.map((x: Json) => x.id)).not.toContain(created.data.id)
    const all = await ok(a, 'GET', `/v1/messaging-bulk-messages/?include-posted=true&filter[created-by]=${a.tenant.id}&page[limit]=100&page[offset]=0`)
    expect(all.data.map((x: Json) => x.id)).toContain(created.data.id)
    expect(all.meta).toMatchObject({ 'page[limit]': 100, 'page[offset]': 0 })
    const none = await ok(a, 'GET', `/v1/messaging-bulk-messages/?include-posted=true&filter[created-by]=${pat.cassId}`)
    expect(none.data).toEqual([])
    // Another tenant sees none of it.
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-bulk-messages/${created.data.id}/`), 404)
    expect((await ok(b, 'GET', '/v1/messaging-bulk-messages/?include-posted=true')).data).toEqual([])
  })

  it('fans out to individuals and a group each once, reuses an existing channel, auto-creates the others', async () => {
    const sender = await individual(t, a, 'doc')
    const [p1, p2, p3, p4] = [await individual(t, a, 'p1'), await individual(t, a, 'p2'), await individual(t, a, 'p3'), await individual(t, a, 'p4')]
    const g = await group(t, a, 'team-fan', [p2, p3, sender])
    const existing = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.tenant.id, 'individual-ids': [p1.cassId], 'individual-id': sender.cassId } } })
    const channelsBefore = await t.store.db.selectFrom('msg_channels').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()
    // p2 is listed and a member; the sender is a member too (never a recipient).
    const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'auto-create-channel': true, 'individual-ids': [p1.cassId, p2.cassId, p4.cassId, p1.cassId], 'individual-group-ids': [g], message: 'Clinic closed Friday', 'sender-individual-id': sender.cassId,
    } } })
    expect(created.data.attributes['individual-ids']).toEqual([p1.cassId, p2.cassId, p4.cassId])
    const done = await posted(a, created.data.id)
    expect(done.data.attributes).toMatchObject({ 'recipient-count': 4, 'posted-count': 4, 'skipped-count': 0 })
    for (const p of [p1, p2, p3, p4]) expect((await received(t, a, p.personId)).filter((m) => m.message === 'Clinic closed Friday')).toHaveLength(1)
    expect((await received(t, a, p1.personId)).map((m) => m.channel_id)).toEqual([existing.data.id])
    const channelsAfter = await t.store.db.selectFrom('msg_channels').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()
    expect(Number(channelsAfter.n) - Number(channelsBefore.n)).toBe(3)
  })

  it('without auto-create-channel skips and reports individuals without a channel; posts as the organisation without a sender', async () => {
    const [withChannel, without] = [await individual(t, a, 'wc'), await individual(t, a, 'wo')]
    const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.tenant.id, 'individual-ids': [withChannel.cassId] } } })
    const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'individual-ids': [withChannel.cassId, without.cassId], message: 'Flu shots this week',
    } } })
    const done = await posted(a, created.data.id)
    expect(done.data.attributes).toMatchObject({ 'recipient-count': 2, 'posted-count': 1, 'skipped-count': 1, 'skipped-individual-ids': [without.cassId] })
    const got = await received(t, a, withChannel.personId)
    expect(got).toEqual([expect.objectContaining({ message: 'Flu shots this week', channel_id: channel.data.id })])
    expect((await ok(a, 'GET', `/v1/messaging-messages/${got[0]!.id}/`)).data.attributes).toMatchObject({ 'individual-id': null, 'user-type': 'organization' })
    expect(await received(t, a, without.personId)).toEqual([])
  })

  it('localises by message-js and the individual\'s language, falling back to message, then en_US', async () => {
    const people = await Promise.all([['es', 'es'], ['es-us', 'es-US'], ['spanish', 'Spanish'], ['es-mx', 'es_MX'], ['fr', 'fr'], ['none', null]].map(([n, l]) => individual(t, a, n!, l!)))
    const js = { en_US: 'Hello', es_US: 'Hola' }
    const first = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'auto-create-channel': true, 'individual-ids': people.map((p) => p.cassId), message: 'Hi (plain)', 'message-js': js,
    } } })
    await posted(a, first.data.id)
    const texts = async () => Promise.all(people.map(async (p) => (await received(t, a, p.personId)).at(-1)?.message))
    expect(await texts()).toEqual(['Hola', 'Hola', 'Hola', 'Hola', 'Hi (plain)', 'Hi (plain)'])
    // Without a plain message: en_US.
    const second = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      'auto-create-channel': true, 'individual-ids': people.map((p) => p.cassId), 'message-js': js,
    } } })
    await posted(a, second.data.id)
    expect(await texts()).toEqual(['Hola', 'Hola', 'Hola', 'Hola', 'Hello', 'Hello'])
  })

  it('#43: a draft changes and is posted by draft: false; a posted one cannot change', async () => {
    const p = await individual(t, a, 'draftee')
    const draft = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: { draft: true, 'auto-create-channel': true, 'individual-ids': [p.cassId], message: 'v1' } } })
    expect(draft.data.attributes).toMatchObject({ draft: true, state: 'draft', 'posted-time': null, 'recipient-count': 0 })
    // #43's sample request, its id made real: stays a draft, with the new texts.
    const edited = await ok(a, 'PATCH', `/v1/messaging-bulk-messages/${draft.data.id}/`, { data: { attributes: { draft: true, message: 'string', 'message-js': { en_US: 'string', es_US: 'string' } }, id: draft.data.id, type: 'messaging-bulk-messages' }, meta: {} })
    expect(edited.data.attributes).toMatchObject({ draft: true, message: 'string', 'message-js': { en_US: 'string', es_US: 'string' } })
    expect(await received(t, a, p.personId)).toEqual([])
    // A draft is listed (unposted).
    expect((await ok(a, 'GET', '/v1/messaging-bulk-messages/')).data.map((x: Json) => x.id)).toContain(draft.data.id)
    await ok(a, 'PATCH', `/v1/messaging-bulk-messages/${draft.data.id}/`, { data: { type: 'messaging-bulk-messages', id: draft.data.id, attributes: { draft: false, message: 'final' } } })
    await posted(a, draft.data.id)
    expect((await received(t, a, p.personId)).map((m) => m.message)).toEqual(['final'])
    const refused = expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-bulk-messages/${draft.data.id}/`, { data: { type: 'messaging-bulk-messages', id: draft.data.id, attributes: { message: 'late' } } }), 400, { pointer: '/data/attributes' })
    expect(refused.code).toBe('bulk_message_posted')
    expect((await ok(a, 'GET', `/v1/messaging-bulk-messages/${draft.data.id}/`)).data.attributes.message).toBe('final')
    // Another tenant's PATCH: 404, nothing changes.
    expectJsonApiError(await call(b, 'PATCH', `/v1/messaging-bulk-messages/${draft.data.id}/`, { data: { type: 'messaging-bulk-messages', id: draft.data.id, attributes: { message: 'x' } } }), 404)
  })

  it('refuses bad input with the documented errors and writes nothing; another tenant\'s ids answer 404', async () => {
    const p = await individual(t, a, 'ok')
    const foreign = await individual(t, b, 'foreign')
    const foreignGroup = await group(t, b, 'foreign-team', [foreign])
    const count = async () => Number((await t.store.db.selectFrom('msg_bulk_messages').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).n)
    const before = await count()
    const post = (attributes: Json) => call(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes } })
    expectJsonApiError(await post({ 'individual-ids': [p.cassId, foreign.cassId], message: 'x' }), 404, { pointer: '/data/attributes/individual-ids/1' })
    expectJsonApiError(await post({ 'individual-group-ids': [foreignGroup], message: 'x' }), 404, { pointer: '/data/attributes/individual-group-ids/0' })
    expectJsonApiError(await post({ 'individual-ids': [p.cassId], message: 'x', 'sender-individual-id': foreign.cassId }), 404, { pointer: '/data/attributes/sender-individual-id' })
    expect((expectJsonApiError(await post({ 'individual-ids': [p.cassId], message: '' }), 400, { pointer: '/data/attributes/message' })).code).toBe('message_required')
    expect((expectJsonApiError(await post({ message: 'to nobody' }), 400, { pointer: '/data/attributes/individual-ids' })).code).toBe('recipients_required')
    expectJsonApiError(await post({ 'individual-ids': ['nope'], message: 'x' }), 400, { pointer: '/data/attributes/individual-ids/0' })
    expectJsonApiError(await post({ 'message-js': { 'not a locale': 'x' }, 'individual-ids': [p.cassId] }), 400)
    expectJsonApiError(await post({ 'individual-ids': [p.cassId], message: 'x', 'auto-create-channel': 'yes' }), 400, { pointer: '/data/attributes/auto-create-channel' })
    expect(await count()).toBe(before)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-bulk-attachments/?bulk-message-id=${p.cassId}`), 404, { parameter: 'bulk-message-id' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-bulk-attachments/'), 400, { parameter: 'bulk-message-id' })
  })

  it('#37 → upload → #39 → #38/#36: files of a draft, carried by every message it posts', async () => {
    const sender = await individual(t, a, 'filer')
    const [r1, r2] = [await individual(t, a, 'r1'), await individual(t, a, 'r2')]
    const draft = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
      draft: true, 'auto-create-channel': true, 'individual-ids': [r1.cassId, r2.cassId], message: 'Your care plan', 'sender-individual-id': sender.cassId,
    } } })
    // #37's sample request, its bulk-message-id made real: the upload ticket of §1.10.
    const created = await call(a, 'POST', '/v1/messaging-bulk-attachments/', { data: { attributes: { 'bulk-message-id': draft.data.id, 'content-type': 'application/pdf', filename: '' }, type: 'messaging-bulk-attachments' }, meta: {} })
    expect(created.statusCode, created.body).toBe(201)
    const tk = JSON.parse(created.body).data as Json
    expect(Object.keys(tk).sort()).toEqual(['expiration-time', 'id', 'upload-data', 'upload-url'])
    // Pending: listed only with include-pending; processing before the upload is refused.
    expect((await ok(a, 'GET', `/v1/messaging-bulk-attachments/?bulk-message-id=${draft.data.id}`)).data).toEqual([])
    expect((await ok(a, 'GET', `/v1/messaging-bulk-attachments/?bulk-message-id=${draft.data.id}&filter[include-pending]=true`)).data.map((x: Json) => x.id)).toEqual([tk.id])
    expect(expectJsonApiError(await call(a, 'POST', `/v1/messaging-bulk-attachments/${tk.id}/process-upload/`, {}), 400).code).toBe('upload_missing')
    const form = new FormData()
    for (const [k, v] of Object.entries(tk['upload-data'] as Record<string, string>)) form.append(k, v)
    form.append('file', new Blob([new Uint8Array(PDF)], { type: 'application/pdf' }), 'plan.pdf')
    const up = await fetch((tk['upload-url'] as string).replace(t.config.publicUrl, t.url), { method: 'POST', body: form })
    expect(up.status).toBe(201)
    // #39's sample request: {}.
    const processed = await ok(a, 'POST', `/v1/messaging-bulk-attachments/${tk.id}/process-upload/`, {})
    expect(processed.data).toMatchObject({ id: tk.id, type: 'messaging-bulk-attachments', attributes: { 'bulk-message-id': draft.data.id, 'content-size': PDF.length, 'content-type': 'application/pdf', filename: '', thumbnail: null } })
    expect((await ok(a, 'GET', `/v1/messaging-bulk-attachments/${tk.id}/`)).data.attributes['content-size']).toBe(PDF.length)
    expect((await ok(a, 'GET', `/v1/messaging-bulk-attachments/?bulk-message-id=${draft.data.id}`)).data.map((x: Json) => x.id)).toEqual([tk.id])
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-bulk-attachments/${tk.id}/`), 404)
    expectJsonApiError(await call(b, 'POST', '/v1/messaging-bulk-attachments/', { data: { type: 'messaging-bulk-attachments', attributes: { 'bulk-message-id': draft.data.id, 'content-type': 'application/pdf' } } }), 404, { pointer: '/data/attributes/bulk-message-id' })

    await ok(a, 'PATCH', `/v1/messaging-bulk-messages/${draft.data.id}/`, { data: { type: 'messaging-bulk-messages', id: draft.data.id, attributes: { draft: false } } })
    await posted(a, draft.data.id)
    const urls: string[] = []
    for (const r of [r1, r2]) {
      const [m] = await received(t, a, r.personId)
      const msg = await ok(a, 'GET', `/v1/messaging-messages/${m!.id}/`)
      expect(msg.data.attributes.attachments).toEqual([expect.objectContaining({ 'content-size': PDF.length, 'content-type': 'application/pdf', filename: '', removed: false })])
      const att = await ok(a, 'GET', `/v1/messaging-attachments/${msg.data.attributes.attachments[0].id}/`)
      urls.push(att.data.attributes.url)
    }
    // The bytes are shared: removing one message's copy leaves the other's downloadable.
    const firstAttachment = (await ok(a, 'GET', `/v1/messaging-messages/${(await received(t, a, r1.personId))[0]!.id}/`)).data.attributes.attachments[0].id
    await ok(a, 'PATCH', `/v1/messaging-attachments/${firstAttachment}/`, { data: { type: 'messaging-attachments', id: firstAttachment, attributes: { removed: true } } })
    const download = await fetch(urls[1]!.replace(t.config.publicUrl, t.url))
    expect(download.status).toBe(200)
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).toBe(true)
    // Once posted, no more files.
    const late = await call(a, 'POST', '/v1/messaging-bulk-attachments/', { data: { type: 'messaging-bulk-attachments', attributes: { 'bulk-message-id': draft.data.id, 'content-type': 'application/pdf' } } })
    expect(expectJsonApiError(late, 400, { pointer: '/data/attributes/bulk-message-id' }).code).toBe('bulk_message_posted')
  })
})

describe('the fan-out job is exactly-once', () => {
  it('a run that fails halfway is retried and resumes: one message per recipient, none missing', async () => {
    const t = await startTestApp({ workers: true, services: { bulkMessageJob: { failFirstAttemptAfter: 4, retryDelaySeconds: 1, concurrency: 2 } } })
    try {
      const a = await createTenant(t.services)
      const { ok, posted } = client(() => t)
      const people = await Promise.all(Array.from({ length: 12 }, (_, i) => individual(t, a, `c${i}`)))
      const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
        'auto-create-channel': true, 'individual-ids': people.map((p) => p.cassId), message: 'Once only',
      } } })
      // The first attempt stops after 4 recipients, leaving the rest pending.
      const halfway = await waitFor('the first attempt to fail', async () => {
        const k = await t.services.jobs.findKey('messaging.bulk_post', `bulk_message:${created.data.id}`)
        return k && k.attempts >= 1 && k.lastError ? k : undefined
      }, 30_000)
      expect(halfway.lastError).toContain('test hook')
      const done = await posted(a, created.data.id)
      expect(done.data.attributes).toMatchObject({ 'recipient-count': 12, 'posted-count': 12, 'skipped-count': 0 })
      for (const p of people) expect((await received(t, a, p.personId)).map((m) => m.message)).toEqual(['Once only'])
      const key = await t.services.jobs.findKey('messaging.bulk_post', `bulk_message:${created.data.id}`)
      expect(key).toMatchObject({ state: 'completed' })
      expect(key!.attempts).toBeGreaterThanOrEqual(2)
    } finally {
      await t.close()
    }
  }, 60_000)

  it('batches: a run that dies between two committed batches resumes with the rest, channels made once', async () => {
    // Batches of 3: the first attempt commits two batches (6 recipients), then dies; the retry posts the other 6.
    const t = await startTestApp({ workers: true, services: { bulkMessageJob: { failFirstAttemptAfter: 4, retryDelaySeconds: 1, concurrency: 1, batchSize: 3 } } })
    try {
      const a = await createTenant(t.services)
      const { ok, posted } = client(() => t)
      const sender = await individual(t, a, 'batch-sender')
      const people = await Promise.all(Array.from({ length: 12 }, (_, i) => individual(t, a, `e${i}`)))
      const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
        'auto-create-channel': true, 'individual-ids': people.map((p) => p.cassId), message: 'In batches', 'sender-individual-id': sender.cassId,
      } } })
      const halfway = await waitFor('the first attempt to fail', async () => {
        const k = await t.services.jobs.findKey('messaging.bulk_post', `bulk_message:${created.data.id}`)
        return k && k.attempts >= 1 && k.lastError ? k : undefined
      }, 30_000)
      expect(halfway.lastError).toContain('test hook')
      const done = await posted(a, created.data.id)
      expect(done.data.attributes).toMatchObject({ 'recipient-count': 12, 'posted-count': 12, 'skipped-count': 0 })
      const key = await t.services.jobs.findKey('messaging.bulk_post', `bulk_message:${created.data.id}`)
      expect(key!.attempts).toBeGreaterThanOrEqual(2)
      for (const p of people) {
        const got = await received(t, a, p.personId)
        expect(got.map((m) => m.message)).toEqual(['In batches'])
        // One channel each, the recipient and the sender (admin), as #45 makes it (in #46's subscriber order).
        const subs = await t.store.db.selectFrom('msg_channel_subscribers').select(['individual_id', 'admin']).where('tenant_id', '=', a.tenant.id)
          .where('channel_id', '=', got[0]!.channel_id).orderBy('created_at').orderBy('admin').execute()
        expect(subs).toEqual([{ individual_id: p.personId, admin: false }, { individual_id: sender.personId, admin: true }])
      }
      const channels = await t.store.db.selectFrom('msg_channels').select(sql<string>`count(*)`.as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()
      expect(Number(channels.n)).toBe(12)
    } finally {
      await t.close()
    }
  }, 60_000)

  it('two runs at once post to each recipient once', async () => {
    // No workers: the enqueued job waits, and the test runs the handler's work twice at once.
    const t = await startTestApp()
    try {
      const a = await createTenant(t.services)
      const { ok } = client(() => t)
      const sender = await individual(t, a, 'sender')
      const people = await Promise.all(Array.from({ length: 10 }, (_, i) => individual(t, a, `d${i}`)))
      for (const p of people) {
        await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.tenant.id, 'individual-ids': [p.cassId], 'individual-id': sender.cassId } } })
      }
      const created = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: {
        'individual-ids': people.map((p) => p.cassId), message: 'Twice at once', 'sender-individual-id': sender.cassId,
      } } })
      expect(created.data.attributes.state).toBe('sending')
      await Promise.all([t.services.bulkMessages.run(a.tenant, created.data.id, { concurrency: 3 }), t.services.bulkMessages.run(a.tenant, created.data.id, { concurrency: 2 })])
      for (const p of people) expect((await received(t, a, p.personId)).map((m) => m.message)).toEqual(['Twice at once'])
      const after = await ok(a, 'GET', `/v1/messaging-bulk-messages/${created.data.id}/`)
      expect(after.data.attributes).toMatchObject({ state: 'posted', 'posted-count': 10 })
      // A third run finds nothing to do.
      await t.services.bulkMessages.run(a.tenant, created.data.id)
      const total = await t.store.db.selectFrom('msg_messages').select(sql<string>`count(*)`.as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()
      expect(Number(total.n)).toBe(10)
    } finally {
      await t.close()
    }
  }, 60_000)
})
