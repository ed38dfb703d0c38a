import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { PENDING_UPLOAD_GRACE_MS } from '../../core/messaging/index.ts'
import { prunePendingAttachments, prunePendingAttachmentsJob } from '../../jobs/prune-pending-attachments.job.ts'

// The cleanup of attachments whose two-step upload never completed: tickets made over HTTP (one
// uploaded but never processed, one never uploaded, a bulk message's), one attachment completed;
// the periodic job's function run as of a time past the tickets' expiry and the grace period
// removes the pending rows and their stored bytes, and leaves the completed attachment (row, bytes,
// download) and another tenant's pending ticket that has not expired untouched.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

let dir: string
let t: TestApp
let a: TestTenant
let b: TestTenant
let messageId: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-pending-'))
  // A database of its own: the cleanup runs over every tenant, and must not take other files' tickets.
  t = await startTestApp({ listen: true, isolated: true, config: { SWITCHBOARD_FILES_DIR: join(dir, 'files') } })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  const nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
  const patient = (await seedPerson(t, a, { firstName: 'Pat', phone: uniquePhone() })).cassId
  const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.credentials.courier.organization_id, 'individual-ids': [patient], 'individual-id': nurse } } })
  messageId = (await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channel.data.id, message: 'the scan', 'individual-id': nurse } } })).data.id
})
afterAll(async () => {
  await t?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const here = (url: string) => url.replace(t.config.publicUrl, t.url)
const { call, ok } = courierClient(() => t)
const ticket = async (tt: TestTenant, url: string, attributes: Json, type: string) => (await ok(tt, 'POST', url, { data: { type, attributes: { 'content-type': 'application/pdf', filename: 'x.pdf', ...attributes } } })).data as Json
async function upload(tk: Json, bytes: Buffer): Promise<void> {
  const form = new FormData()
  for (const [k, v] of Object.entries(tk['upload-data'] as Record<string, string>)) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), 'x.pdf')
  const r = await fetch(here(tk['upload-url']), { method: 'POST', body: form })
  expect(r.status, await r.text()).toBe(201)
}
const stored = async (tt: TestTenant, tk: Json) => (await t.services.files.stat(tt.tenant.id, tk['upload-data'].key)) !== undefined

describe('pending attachment cleanup', () => {
  it('removes expired pending tickets with their bytes; completed attachments stay', async () => {
    const uploaded = await ticket(a, '/v1/messaging-attachments/', { 'message-id': messageId }, 'messaging-attachments')
    await upload(uploaded, PDF)
    const never = await ticket(a, '/v1/messaging-attachments/', { 'message-id': messageId }, 'messaging-attachments')
    const done = await ticket(a, '/v1/messaging-attachments/', { 'message-id': messageId }, 'messaging-attachments')
    await upload(done, PDF)
    const processed = await ok(a, 'POST', `/v1/messaging-attachments/${done.id}/process-upload/`, {})
    expect(processed.data.attributes['content-size']).toBe(PDF.length)
    const bulk = await ok(a, 'POST', '/v1/messaging-bulk-messages/', { data: { type: 'messaging-bulk-messages', attributes: { draft: true, message: 'hi' } } })
    const bulkPending = await ticket(a, '/v1/messaging-bulk-attachments/', { 'bulk-message-id': bulk.data.id }, 'messaging-bulk-attachments')
    await upload(bulkPending, PDF)
    expect([await stored(a, uploaded), await stored(a, done), await stored(a, bulkPending)]).toEqual([true, true, true])

    // Before expiry (and within the grace after it) nothing goes: an upload may still be processed.
    const expiry = uploaded['expiration-time'] * 1000
    expect(await prunePendingAttachments(t.services.attachments, new Date())).toBe(0)
    expect(await prunePendingAttachments(t.services.attachments, new Date(expiry + PENDING_UPLOAD_GRACE_MS - 60_000))).toBe(0)
    const listed = await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}&filter[include-pending]=true`)
    expect(listed.data.map((x: Json) => x.id).sort()).toEqual([uploaded.id, never.id, done.id].sort())

    // Another tenant's pending ticket made later: not expired yet at the time the job runs.
    const bPerson = (await seedPerson(t, b, { phone: uniquePhone() })).cassId
    const bChannel = await ok(b, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': b.credentials.courier.organization_id, 'individual-ids': [bPerson] } } })
    const bMessage = await ok(b, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': bChannel.data.id, message: 'x', 'individual-id': bPerson } } })
    const theirs = await ticket(b, '/v1/messaging-attachments/', { 'message-id': bMessage.data.id }, 'messaging-attachments')
    const latest = Math.max(...[uploaded, never, bulkPending].map((x) => x['expiration-time'] * 1000))
    const runAt = new Date(latest + PENDING_UPLOAD_GRACE_MS + 2_000)
    await t.store.db.updateTable('msg_attachments').set({ upload_expires_at: new Date(runAt.getTime() + 60_000) }).where('id', '=', theirs.id).execute()

    // The job, as of past the expiry and the grace: three pending rows and their bytes go.
    expect(await prunePendingAttachments(t.services.attachments, runAt)).toBe(3)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-attachments/${uploaded.id}/`), 404)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-attachments/${never.id}/`), 404)
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-attachments/${uploaded.id}/process-upload/`, {}), 404)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-bulk-attachments/${bulkPending.id}/`), 404)
    expect([await stored(a, uploaded), await stored(a, bulkPending)]).toEqual([false, false])
    // The completed attachment is untouched: listed, its bytes stored and downloadable.
    const after = await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}&filter[include-pending]=true`)
    expect(after.data.map((x: Json) => x.id)).toEqual([done.id])
    expect(await stored(a, done)).toBe(true)
    const got = await ok(a, 'GET', `/v1/messaging-attachments/${done.id}/`)
    expect(got.data.attributes).toMatchObject({ 'content-size': PDF.length, removed: false })
    // The other tenant's unexpired ticket stays; a second run finds nothing more.
    expect((await ok(b, 'GET', `/v1/messaging-attachments/${theirs.id}/`)).data.id).toBe(theirs.id)
    expect(await prunePendingAttachments(t.services.attachments, runAt)).toBe(0)
  })

  it('is a periodic job of the queue', () => {
    const job = prunePendingAttachmentsJob({ attachments: t.services.attachments })
    expect(job.name).toBe('messaging.prune-pending-attachments')
    expect(job.schedule?.cron).toBe('*/15 * * * *')
    // Defined on the app's queue (a second definition of the name is refused).
    expect(() => t.services.jobs.define(job)).toThrow()
  })
})
