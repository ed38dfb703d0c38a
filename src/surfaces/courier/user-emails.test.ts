import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Channel, ChannelProviderSettings } from '../../core/delivery/index.ts'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { courierClient, type Json } from '../../../test/helpers/courier.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { SmtpPeer } from '../../../test/peers/smtp.ts'
import { prunePendingEmailAttachments, prunePendingEmailAttachmentsJob } from '../../jobs/prune-pending-email-attachments.job.ts'

// User emails (#125–#128) and their attachments (#121–#124) through HTTP: the documented samples as
// contract tests (every success document checked as JSON:API 1.0), sending through the delivery
// pipeline on the sandbox (the default) and on SMTP against the local SMTP peer (the mail that
// arrives has the plain and HTML bodies and the attachment), `status`/`task-id`/`result` following
// the outbox, the suppression list honoured, a provider's refusal shown as `failed`, and every
// refusal answered as a §1.7 error that writes nothing.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')
const EMAIL_KEYS = ['created-at', 'created-by', 'individual-id', 'last-modified-at', 'message', 'message-html', 'result', 'sender-organization-id', 'status', 'subject', 'task-id', 'to', 'user-id']
const ATTACHMENT_KEYS = ['content-type', 'created-at', 'download-link', 'filename', 'ready-to-use', 'size']

let peer: SmtpPeer
let dir: string
let t: TestApp
let smtp: TestTenant
let sandbox: TestTenant
let other: TestTenant
let patient: string
let sandboxPatient: string
const settings = new Map<string, ChannelProviderSettings>()

beforeAll(async () => {
  peer = await new SmtpPeer('mailer', 's3cret').start()
  dir = await mkdtemp(join(tmpdir(), 'switchboard-user-emails-'))
  t = await startTestApp({
    listen: true, workers: true,
    config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_FILES_DIR: join(dir, 'files') },
    services: { sendRetry: { retryDelaySeconds: 1, retryLimit: 1 }, channelSettings: async (tenantId: string, channel: Channel) => settings.get(`${tenantId}:${channel}`) },
  })
  ;[smtp, sandbox, other] = await Promise.all([createTenant(t.services), createTenant(t.services), createTenant(t.services)])
  settings.set(`${smtp.tenant.id}:email`, {
    provider: 'smtp', host: '127.0.0.1', port: String(peer.port), requireTLS: 'true', user: 'mailer', pass: 's3cret', from: 'Care Team <care@clinic.example>', ca: peer.cert.cert,
  })
  patient = (await seedPerson(t, smtp, { firstName: 'Pat', phone: uniquePhone() })).cassId
  sandboxPatient = (await seedPerson(t, sandbox, { firstName: 'Sam', phone: uniquePhone() })).cassId
}, 60_000)
afterAll(async () => {
  await t?.close()
  await peer?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const { call, ok } = courierClient(() => t, { validate: true })
const here = (url: string) => url.replace(t.config.publicUrl, t.url)
const address = () => `${randomUUID()}@example.org`

/** An email, read until it leaves `queued` (the worker sent it, or gave up). */
async function settled(who: TestTenant, id: string): Promise<Json> {
  return waitFor(`user email ${id} to settle`, async () => {
    const doc = await ok(who, 'GET', `/v1/user-emails/${id}/`)
    return doc.data.attributes.status !== 'queued' ? doc.data : undefined
  }, 30_000)
}

/** What the tenant has written: emails, attachments, outbox messages. */
async function written(who: TestTenant): Promise<number[]> {
  const n = async (table: 'user_emails' | 'user_email_attachments' | 'outbox_messages') =>
    Number((await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', who.tenant.id).executeTakeFirstOrThrow()).n)
  return [await n('user_emails'), await n('user_email_attachments'), await n('outbox_messages')]
}

/** The upload as a browser or `curl -F` sends it: the ticket's fields, then the file as `file`. */
async function upload(tk: Json, bytes: Buffer, filename: string): Promise<Response> {
  const form = new FormData()
  for (const [k, v] of Object.entries(tk['upload-data'] as Record<string, string>)) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), filename)
  return fetch(here(tk['upload-url'] as string), { method: 'POST', body: form })
}

describe('user emails on the sandbox (the default provider)', () => {
  it('#126 (the documented sample, auto-send) → #127 → #125: sent through delivery, status, task-id and result filled in', async () => {
    const org = sandbox.credentials.courier.organization_id
    const r = await call(sandbox, 'POST', '/v1/user-emails/', {
      data: {
        attributes: { 'auto-send': true, 'individual-id': sandboxPatient, message: 'string', 'message-html': 'string', 'sender-organization-id': org, subject: 'string', to: 'user@example.com' },
        type: 'user-emails',
      },
      meta: {},
    })
    expect(r.statusCode, r.body).toBe(201)
    const created = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(created.type).toBe('user-emails')
    expect(Object.keys(created.attributes).sort()).toEqual(EMAIL_KEYS)
    expect(created.attributes).toMatchObject({
      'individual-id': sandboxPatient, message: 'string', 'message-html': 'string', 'sender-organization-id': org, subject: 'string',
      to: ['user@example.com'], 'created-by': org, 'user-id': null,
    })
    expect(['queued', 'sent']).toContain(created.attributes.status)
    expect(created.attributes['task-id']).toMatch(/^[0-9a-f-]{36}$/)

    const sent = await settled(sandbox, created.id)
    expect(sent.attributes).toMatchObject({ status: 'sent', result: 'user@example.com: sent', 'task-id': created.attributes['task-id'] })
    // The outbox message delivery recorded: the sandbox took it with both bodies.
    const outbox = await t.services.delivery.findOutboxByKey(sandbox.tenant, `user-email:${created.attributes['task-id']}:0`)
    expect(outbox).toMatchObject({ channel: 'email', to: 'user@example.com', subject: 'string', body: 'string', status: 'sent', provider: 'sandbox' })
    expect(outbox!.data).toMatchObject({ html: 'string', userEmailId: created.id })

    // #125: the individual's emails (individual-id required), with the paging meta.
    const list = await ok(sandbox, 'GET', `/v1/user-emails/?individual-id=${sandboxPatient}`)
    expect(list.data.map((e: Json) => e.id)).toEqual([created.id])
    expect(list.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    expect(list.data[0].attributes.status).toBe('sent')
    expectJsonApiError(await call(sandbox, 'GET', '/v1/user-emails/'), 400, { parameter: 'individual-id' })
  })

  it('a draft has no task until #128 sends it; a second send is refused and sends nothing', async () => {
    const draft = (await ok(sandbox, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': sandboxPatient, subject: 'Your results', 'message-html': '<p>Your <b>results</b> are in.</p>', to: [address(), address()] } } })).data
    expect(draft.attributes).toMatchObject({ status: 'draft', 'task-id': null, result: '', message: '' })
    const before = await written(sandbox)
    // Nothing went out for a draft.
    expect((await t.services.delivery.listOutbox(sandbox.tenant, { limit: 200 })).filter((m) => m.data.userEmailId === draft.id)).toHaveLength(0)

    // #128's sample request: {} → 201, the email, now on its way.
    const r = await call(sandbox, 'POST', `/v1/user-emails/${draft.id}/send/`, {})
    expect(r.statusCode, r.body).toBe(201)
    const sending = expectJsonApi(JSON.parse(r.body)).data as Json
    expect(sending.attributes['task-id']).toMatch(/^[0-9a-f-]{36}$/)
    const sent = await settled(sandbox, draft.id)
    expect(sent.attributes.status).toBe('sent')
    expect(sent.attributes.result).toBe(`${draft.attributes.to[0]}: sent; ${draft.attributes.to[1]}: sent`)
    // One outbox message per recipient; the HTML-only email got a plain part made from the HTML.
    const outbox = (await t.services.delivery.listOutbox(sandbox.tenant, { limit: 200 })).filter((m) => m.data.userEmailId === draft.id)
    expect(outbox.map((m) => m.to).sort()).toEqual([...draft.attributes.to].sort())
    expect(outbox[0]!.body).toBe('Your results are in.')
    expect(outbox[0]!.data.html).toBe('<p>Your <b>results</b> are in.</p>')
    const after = await written(sandbox)
    expect(after).toEqual([before[0], before[1], before[2]! + 2])

    const again = expectJsonApiError(await call(sandbox, 'POST', `/v1/user-emails/${draft.id}/send/`, {}), 400)
    expect(again.code).toBe('user_email_sent')
    expect(await written(sandbox)).toEqual(after)
  })

  it('a suppressed recipient gets nothing: the email is suppressed, with the reason in its result', async () => {
    const to = address()
    await t.services.suppression.add(sandbox.tenant, { channel: 'email', address: to, reason: 'manual', source: 'test' })
    const created = (await ok(sandbox, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'auto-send': true, 'individual-id': sandboxPatient, subject: 'Hello', message: 'Hello', to } } })).data
    const done = await settled(sandbox, created.id)
    expect(done.attributes.status).toBe('suppressed')
    expect(done.attributes.result).toBe(`${to}: suppressed (manual)`)
    const outbox = await t.services.delivery.findOutboxByKey(sandbox.tenant, `user-email:${created.attributes['task-id']}:0`)
    expect(outbox).toMatchObject({ status: 'suppressed', provider: null })
  })

  it('to defaults to the individual\'s own e-mail address; without one it is required', async () => {
    const person = await seedPerson(t, sandbox, { phone: uniquePhone() })
    const before = await written(sandbox)
    const none = expectJsonApiError(await call(sandbox, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': person.cassId, subject: 'Hi', message: 'Hi' } } }), 400, { pointer: '/data/attributes/to' })
    expect(none.code).toBe('invalid_user_email')
    expect(await written(sandbox)).toEqual(before)
    const own = address()
    await sql`UPDATE people SET email = ${own} WHERE id = ${person.id}`.execute(t.store.db)
    const created = (await ok(sandbox, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': person.cassId, subject: 'Hi', message: 'Hi' } } })).data
    expect(created.attributes.to).toEqual([own])
  })
})

describe('user emails over SMTP (the local SMTP peer)', () => {
  it('#122 (sample) → upload → #123 → #124 (sample) → #121 → #128: the mail arrives with both bodies and the attachment', async () => {
    const to = address()
    const draft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: {
      'individual-id': patient, subject: 'Your letter', message: 'Please find your letter attached.', 'message-html': '<p>Please find your <em>letter</em> attached.</p>', to,
    } } })).data

    // #122's sample request: the answer is the upload ticket's four keys at the top level, without `data`.
    const r = await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { attributes: { 'content-type': 'application/pdf', 'email-id': draft.id, filename: 'letter.pdf' }, type: 'user-email-attachments' }, meta: {} })
    expect(r.statusCode, r.body).toBe(201)
    const tk = JSON.parse(r.body) as Json
    expect(Object.keys(tk).sort()).toEqual(['expiration-time', 'id', 'upload-data', 'upload-url'])
    expect(Number.isInteger(tk['expiration-time'])).toBe(true)
    expect(tk['expiration-time'] * 1000).toBeGreaterThan(Date.now())
    expect(tk['upload-url']).toBe(`${t.config.publicUrl}/files/`)
    expect(tk['upload-data']).toMatchObject({ 'Content-Type': 'application/pdf', key: expect.stringMatching(new RegExp(`^${smtp.tenant.id}/user-email-attachment/`)) })

    // Pending: not ready, no size, no link even when asked for.
    const pending = (await ok(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/?with-link=true`)).data
    expect(Object.keys(pending.attributes).sort()).toEqual(ATTACHMENT_KEYS)
    expect(pending.attributes).toMatchObject({ 'content-type': 'application/pdf', filename: 'letter.pdf', 'ready-to-use': false, size: 0, 'download-link': null })
    // Processing before the upload is refused, and changes nothing.
    expect(expectJsonApiError(await call(smtp, 'POST', `/v1/user-email-attachments/${tk.id}/process-upload/`, {}), 400).code).toBe('upload_missing')

    const up = await upload(tk, PDF, 'letter.pdf')
    expect(up.status, await up.clone().text()).toBe(201)
    // #124's sample request: {} → 201, the attachment, ready to use.
    const p = await call(smtp, 'POST', `/v1/user-email-attachments/${tk.id}/process-upload/`, {})
    expect(p.statusCode, p.body).toBe(201)
    const ready = expectJsonApi(JSON.parse(p.body)).data as Json
    expect(ready).toMatchObject({ id: tk.id, type: 'user-email-attachments' })
    expect(ready.attributes).toMatchObject({ 'ready-to-use': true, size: PDF.length, 'download-link': null })
    // #123: download-link only with with-link=true; it serves the file.
    expect((await ok(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/`)).data.attributes['download-link']).toBeNull()
    const linked = (await ok(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/?with-link=true`)).data
    const download = await fetch(here(linked.attributes['download-link'] as string))
    expect(download.status).toBe(200)
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).toBe(true)
    // #121: the email's attachments (email-id required).
    const list = await ok(smtp, 'GET', `/v1/user-email-attachments/?email-id=${draft.id}`)
    expect(list.data.map((a: Json) => a.id)).toEqual([tk.id])
    expect(list.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 1 })
    expectJsonApiError(await call(smtp, 'GET', '/v1/user-email-attachments/'), 400, { parameter: 'email-id' })

    await ok(smtp, 'POST', `/v1/user-emails/${draft.id}/send/`, {})
    const sent = await settled(smtp, draft.id)
    expect(sent.attributes).toMatchObject({ status: 'sent', result: `${to}: sent` })
    const mail = peer.mails.filter((m) => m.envelope.to.includes(to))
    expect(mail).toHaveLength(1)
    expect(mail[0]!.mail.subject).toBe('Your letter')
    expect(mail[0]!.mail.text?.trim()).toBe('Please find your letter attached.')
    expect(mail[0]!.mail.html).toContain('<p>Please find your <em>letter</em> attached.</p>')
    expect(mail[0]!.mail.attachments).toHaveLength(1)
    expect(mail[0]!.mail.attachments[0]).toMatchObject({ filename: 'letter.pdf', contentType: 'application/pdf' })
    expect(mail[0]!.mail.attachments[0]!.content.equals(PDF)).toBe(true)
    const outbox = await t.services.delivery.findOutboxByKey(smtp.tenant, `user-email:${sent.attributes['task-id']}:0`)
    expect(outbox).toMatchObject({ status: 'sent', provider: 'smtp' })

    // Once sent, the email takes no more files.
    const before = await written(smtp)
    const late = expectJsonApiError(await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'application/pdf', 'email-id': draft.id } } }), 400, { pointer: '/data/attributes/email-id' })
    expect(late.code).toBe('user_email_sent')
    expect(await written(smtp)).toEqual(before)
  })

  it('the SMTP server refusing a recipient (550) makes the email failed, with the server\'s answer in its result', async () => {
    const to = `reject@${randomUUID()}.example.org`
    const created = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'auto-send': true, 'individual-id': patient, subject: 'Hi', message: 'Hi', to } } })).data
    const done = await settled(smtp, created.id)
    expect(done.attributes.status).toBe('failed')
    expect(done.attributes.result).toMatch(new RegExp(`^${to.replace(/\./g, '\\.')}: failed \\(smtp: .*550`))
  })

  it('process-upload refuses bytes that are not the declared type (deleted, still pending)', async () => {
    const draft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': patient, subject: 'x', message: 'x', to: address() } } })).data
    const tk = JSON.parse((await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'image/png', 'email-id': draft.id } } })).body) as Json
    expect((await upload(tk, PDF, 'fake.png')).status).toBe(201)
    expect(expectJsonApiError(await call(smtp, 'POST', `/v1/user-email-attachments/${tk.id}/process-upload/`, {}), 400).code).toBe('upload_type_mismatch')
    expect((await ok(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/`)).data.attributes['ready-to-use']).toBe(false)
    // A pending attachment does not go with the email: it is sent without it.
    await ok(smtp, 'POST', `/v1/user-emails/${draft.id}/send/`, {})
    expect((await settled(smtp, draft.id)).attributes.status).toBe('sent')
    const mail = peer.mails.filter((m) => m.envelope.to.includes(draft.attributes.to[0]))
    expect(mail).toHaveLength(1)
    expect(mail[0]!.mail.attachments).toHaveLength(0)
    // It cannot be made ready afterwards: the email went without it.
    expect(expectJsonApiError(await call(smtp, 'POST', `/v1/user-email-attachments/${tk.id}/process-upload/`, {}), 400).code).toBe('user_email_sent')
    expect((await ok(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/`)).data.attributes['ready-to-use']).toBe(false)
  })
})

describe('refusals: §1.7 errors that write nothing', () => {
  it('bad attributes, unknown references, another tenant\'s ids', async () => {
    const base = { 'individual-id': patient, subject: 'Hi', message: 'Hi', to: address() }
    const before = await written(smtp)
    const create = (attributes: Json, type = 'user-emails') => call(smtp, 'POST', '/v1/user-emails/', { data: { type, attributes } })
    const cases: Array<[Json, number, string | undefined, string?]> = [
      [{ ...base, subject: undefined }, 400, undefined],
      [{ ...base, subject: '   ' }, 400, '/data/attributes/subject', 'invalid_user_email'],
      [{ ...base, message: undefined }, 400, '/data/attributes/message', 'invalid_user_email'],
      [{ ...base, message: '', 'message-html': '<p> </p>' }, 400, '/data/attributes/message', 'invalid_user_email'],
      [{ ...base, to: 'not-an-address' }, 400, '/data/attributes/to', 'invalid_user_email'],
      [{ ...base, to: [] }, 400, undefined],
      [{ ...base, to: Array.from({ length: 11 }, address) }, 400, undefined],
      [{ ...base, 'individual-id': randomUUID() }, 404, '/data/attributes/individual-id', 'resource_not_found'],
      [{ ...base, 'sender-organization-id': other.credentials.courier.organization_id }, 404, '/data/attributes/sender-organization-id', 'resource_not_found'],
      [{ ...base, 'individual-id': 'nope' }, 400, undefined],
      [{ ...base, 'auto-send': 'yes' }, 400, undefined],
    ]
    for (const [attributes, status, pointer, code] of cases) {
      const e = expectJsonApiError(await create(Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined))), status, pointer ? { pointer } : undefined)
      if (code) expect(e.code, JSON.stringify(attributes)).toBe(code)
    }
    expectJsonApiError(await create(base, 'user-email-attachments'), 409)
    // Attachments: an unknown email, a bad content type.
    expectJsonApiError(await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'application/pdf', 'email-id': randomUUID() } } }), 404, { pointer: '/data/attributes/email-id' })
    const draft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: base } })).data
    const mid = await written(smtp)
    expect(mid).toEqual([before[0]! + 1, before[1], before[2]])
    expect(expectJsonApiError(await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'not a type', 'email-id': draft.id } } }), 400, { pointer: '/data/attributes/content-type' }).code).toBe('invalid_content_type')
    // Another tenant: the email and its id are not found, and its send sends nothing.
    expectJsonApiError(await call(other, 'GET', `/v1/user-emails/${draft.id}/`), 404)
    expectJsonApiError(await call(other, 'POST', `/v1/user-emails/${draft.id}/send/`, {}), 404)
    expectJsonApiError(await call(other, 'GET', `/v1/user-email-attachments/?email-id=${draft.id}`), 404, { parameter: 'email-id' })
    expectJsonApiError(await call(other, 'GET', `/v1/user-emails/?individual-id=${patient}`), 404, { parameter: 'individual-id' })
    expect(await written(smtp)).toEqual(mid)
    expect((await ok(smtp, 'GET', `/v1/user-emails/${draft.id}/`)).data.attributes.status).toBe('draft')
  })

  it('a user token sends about its own individual only', async () => {
    await t.services.directory.import(smtp.tenant, { format: 'yaml', text: `individuals:
  - { external_id: mail-clinician, first_name: Mail, last_name: Clinician, account_type: clinician }
users:
  - { email: mail.clinician@emails.example, first_name: Mail, last_name: Clinician, individual: mail-clinician }
` })
    const { token } = await t.services.directory.issueUserToken(smtp.tenant, 'mail.clinician@emails.example')
    const own = (await t.store.db.selectFrom('msg_users as u').innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'u.person_id').on('i.surface', '=', 'cass'))
      .select(['i.public_id', 'u.id']).where('u.tenant_id', '=', smtp.tenant.id).where('u.email', '=', 'mail.clinician@emails.example').executeTakeFirstOrThrow())
    const before = await written(smtp)
    const e = expectJsonApiError(await call(token, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': patient, subject: 'Hi', message: 'Hi', to: address() } } }), 403, { pointer: '/data/attributes/individual-id' })
    expect(e.code).toBe('not_your_individual')
    expect(await written(smtp)).toEqual(before)
    const mine = (await ok(token, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': own.public_id, subject: 'Hi', message: 'Hi', to: address() } } })).data
    expect(mine.attributes).toMatchObject({ 'created-by': own.id, 'user-id': own.id })
    // The organisation's other emails are not the token's to see.
    const orgDraft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': patient, subject: 'Hi', message: 'Hi', to: address() } } })).data
    expectJsonApiError(await call(token, 'GET', `/v1/user-emails/${orgDraft.id}/`), 404)
    expectJsonApiError(await call(token, 'GET', `/v1/user-emails/?individual-id=${patient}`), 403, { parameter: 'individual-id' })
    expect((await ok(token, 'GET', `/v1/user-emails/?individual-id=${own.public_id}`)).data.map((x: Json) => x.id)).toEqual([mine.id])
  })
})

describe('purge-data (#86)', () => {
  it('erases the individual\'s emails and their attachments, with the stored files', async () => {
    const person = await seedPerson(t, smtp, { phone: uniquePhone() })
    const draft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': person.cassId, subject: 'Private', message: 'Private', to: address() } } })).data
    const tk = JSON.parse((await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'application/pdf', 'email-id': draft.id, filename: 'x.pdf' } } })).body) as Json
    expect((await upload(tk, PDF, 'x.pdf')).status).toBe(201)
    await ok(smtp, 'POST', `/v1/user-email-attachments/${tk.id}/process-upload/`, {})
    const key = (tk['upload-data'] as Record<string, string>).key!
    expect(await t.services.files.stat(smtp.tenant.id, key)).toBeDefined()

    const requestId = `purge-${randomUUID()}`
    const purge = await call(smtp, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-id': person.cassId, 'entity-type': 'individual', 'request-id': requestId } } })
    expect(purge.statusCode, purge.body).toBe(201)
    const audit = await waitFor('the purge to complete', async () => {
      const doc = await ok(smtp, 'GET', `/v1/purge-data/${requestId}/`)
      return doc.data.attributes.status === 'completed' ? doc : undefined
    }, 30_000)
    expect(audit.data.attributes.counts).toMatchObject({ user_emails: 1, email_attachments: 1 })
    expectJsonApiError(await call(smtp, 'GET', `/v1/user-emails/${draft.id}/`), 404)
    expectJsonApiError(await call(smtp, 'GET', `/v1/user-email-attachments/${tk.id}/`), 404)
    await waitFor('the stored file deleted', async () => (await t.services.files.stat(smtp.tenant.id, key)) === undefined, 30_000)
  })
})

describe('pending uploads', () => {
  it('an attachment whose upload never completed goes an hour after its ticket expired, with any bytes uploaded; a ready one stays', async () => {
    const draft = (await ok(smtp, 'POST', '/v1/user-emails/', { data: { type: 'user-emails', attributes: { 'individual-id': patient, subject: 'x', message: 'x', to: address() } } })).data
    const ticket = async () => JSON.parse((await call(smtp, 'POST', '/v1/user-email-attachments/', { data: { type: 'user-email-attachments', attributes: { 'content-type': 'application/pdf', 'email-id': draft.id } } })).body) as Json
    const [stale, fresh, done] = [await ticket(), await ticket(), await ticket()]
    expect((await upload(stale, PDF, 'a.pdf')).status).toBe(201)
    expect((await upload(done, PDF, 'c.pdf')).status).toBe(201)
    await ok(smtp, 'POST', `/v1/user-email-attachments/${done.id}/process-upload/`, {})
    // Only this file's rows are backdated: the job runs as of now, so other files' pending uploads are never touched.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
    await t.store.db.updateTable('user_email_attachments').set({ upload_expires_at: twoHoursAgo }).where('id', 'in', [stale.id, done.id]).execute()
    const key = (tk: Json) => (tk['upload-data'] as Record<string, string>).key!
    expect(await prunePendingEmailAttachments(t.services.userEmails, new Date())).toBeGreaterThanOrEqual(1)
    expectJsonApiError(await call(smtp, 'GET', `/v1/user-email-attachments/${stale.id}/`), 404)
    expect(await t.services.files.stat(smtp.tenant.id, key(stale))).toBeUndefined()
    expect((await ok(smtp, 'GET', `/v1/user-email-attachments/${fresh.id}/`)).data.attributes['ready-to-use']).toBe(false)
    expect((await ok(smtp, 'GET', `/v1/user-email-attachments/${done.id}/`)).data.attributes['ready-to-use']).toBe(true)
    expect(await t.services.files.stat(smtp.tenant.id, key(done))).toBeDefined()
    const job = prunePendingEmailAttachmentsJob({ userEmails: t.services.userEmails })
    expect(job.schedule?.cron).toBe('*/15 * * * *')
    // Defined on the app's queue (a second definition of the name is refused).
    expect(() => t.services.jobs.define(job)).toThrow()
  })
})
