import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { courierClient } from '../../../test/helpers/courier.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { S3Peer } from '../../../test/peers/s3.ts'

// Messaging attachments (#28–#32) and bookmarks (#33–#35) over HTTP, on both file stores (the local
// directory and an S3-compatible bucket, the local S3 peer): the documented sample requests as
// contract tests, the upload as a real multipart form to the ticket's upload-url, process-upload's
// checks of the stored bytes (magic bytes, size) answered as §1.7 errors, thumbnails of PNG and
// JPEG, soft removal, visibility (subscribers and the organisation only), and another tenant's
// ids answering 404. Every success document is validated as JSON:API 1.0.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const OLE2 = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504, 1)])
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')
const png = (width: number, height: number) => sharp({ create: { width, height, channels: 4, background: { r: 200, g: 30, b: 90, alpha: 0.5 } } }).png().toBuffer()
const jpeg = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 20, g: 130, b: 90 } } }).jpeg().toBuffer()

let peer: S3Peer
let dir: string
beforeAll(async () => {
  peer = await new S3Peer().start()
  dir = await mkdtemp(join(tmpdir(), 'switchboard-attachments-'))
})
afterAll(async () => {
  await peer?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const STORES = {
  local: () => ({ SWITCHBOARD_FILES_DIR: join(dir, 'files') }),
  s3: () => ({
    SWITCHBOARD_FILES_STORE: 's3', SWITCHBOARD_S3_ENDPOINT: peer.url, SWITCHBOARD_S3_REGION: peer.region, SWITCHBOARD_S3_BUCKET: peer.bucket,
    SWITCHBOARD_S3_ACCESS_KEY_ID: peer.accessKeyId, SWITCHBOARD_S3_SECRET_ACCESS_KEY: peer.secretAccessKey, SWITCHBOARD_S3_PATH_STYLE: 'true',
  }),
} as const

describe.each(Object.keys(STORES) as (keyof typeof STORES)[])('messaging attachments on the %s file store', (store) => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  let nurse: string
  let patient: string
  let stranger: string
  let channelId: string
  let messageId: string
  beforeAll(async () => {
    t = await startTestApp({ listen: true, config: { ...STORES[store](), SWITCHBOARD_FILES_MAX_BYTES: String(2 * 1024 * 1024) } })
    ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
    nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
    patient = (await seedPerson(t, a, { firstName: 'Pat', phone: uniquePhone() })).cassId
    stranger = (await seedPerson(t, a, { firstName: 'Sam', phone: uniquePhone() })).cassId
    const channel = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': a.tenant.id, 'individual-ids': [patient], 'individual-id': nurse } } })
    channelId = channel.data.id
    messageId = (await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': channelId, message: 'the scan', 'individual-id': nurse } } })).data.id
  })
  afterAll(async () => t?.close())

  const here = (url: string) => url.replace(t.config.publicUrl, t.url)
  const { call, ok } = courierClient(() => t)
  /** #29 with the attributes given: the ticket's `data`. */
  async function ticket(attributes: Json): Promise<Json> {
    const body = await ok(a, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': messageId, filename: '', ...attributes } }, meta: {} })
    return body.data as Json
  }
  /** The upload as a browser or `curl -F` sends it: the ticket's fields, then the file as `file`. */
  async function upload(tk: Json, bytes: Buffer, filename = 'upload.bin'): Promise<Response> {
    const form = new FormData()
    for (const [k, v] of Object.entries(tk['upload-data'] as Record<string, string>)) form.append(k, v)
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), filename)
    return fetch(here(tk['upload-url']), { method: 'POST', body: form })
  }
  const process = (id: string, body: Json = {}) => call(a, 'POST', `/v1/messaging-attachments/${id}/process-upload/`, body)

  it('#29 → upload → #32 → #28/#30: the documented samples, a multipart upload, the attachment with its download URL', async () => {
    // #29's sample request, byte for byte: the answer is the upload ticket of §1.10, not a resource.
    const r = await call(a, 'POST', '/v1/messaging-attachments/', { data: { attributes: { 'content-type': 'application/msword', filename: '', 'message-id': messageId }, type: 'messaging-attachments' }, meta: {} })
    expect(r.statusCode, r.body).toBe(201)
    const body = JSON.parse(r.body) as Json
    expect(Object.keys(body)).toEqual(['data'])
    const tk = body.data as Json
    expect(Object.keys(tk).sort()).toEqual(['expiration-time', 'id', 'upload-data', 'upload-url'])
    expect(Number.isInteger(tk['expiration-time'])).toBe(true)
    expect(tk['expiration-time'] * 1000).toBeGreaterThan(Date.now())
    expect(tk['upload-url']).toBe(`${t.config.publicUrl}/files/`)
    expect(tk['upload-data']).toMatchObject({ 'Content-Type': 'application/msword', key: expect.stringMatching(new RegExp(`^${a.tenant.id}/messaging-attachment/`)) })

    // Pending: hidden from the list unless asked for, read by id with no size and no URL.
    expectJsonApi(await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}`))
    expect((await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}`)).data.map((x: Json) => x.id)).not.toContain(tk.id)
    const pending = expectJsonApi(await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}&filter[include-pending]=true`))
    expect(pending.data.map((x: Json) => x.id)).toContain(tk.id)
    expect(expectJsonApi(await ok(a, 'GET', `/v1/messaging-attachments/${tk.id}/`)).data.attributes).toMatchObject({ 'content-size': 0, url: null, thumbnail: null, removed: false })

    const up = await upload(tk, OLE2, 'letter.doc')
    expect(up.status, await up.clone().text()).toBe(201)
    expect(await up.json()).toMatchObject({ key: tk['upload-data'].key, size: OLE2.length, content_type: 'application/msword' })

    // #32's sample request: the acting individual (the author) in plain JSON.
    const done = expectJsonApi(await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, { 'individual-id': nurse }))
    expect(done.data).toMatchObject({ id: tk.id, type: 'messaging-attachments' })
    expect(done.data.attributes).toMatchObject({ 'content-size': OLE2.length, 'content-type': 'application/msword', filename: '', 'message-id': messageId, removed: false, thumbnail: null })
    expect(Object.keys(done.data.attributes).sort()).toEqual(['content-size', 'content-type', 'created-at', 'filename', 'message-id', 'removed', 'thumbnail', 'url'])
    const file = await fetch(here(done.data.attributes.url))
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('application/msword')
    expect(Buffer.from(await file.arrayBuffer())).toEqual(OLE2)
    // Processing again changes nothing.
    expect((await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {})).data.attributes['content-size']).toBe(OLE2.length)

    // #28 (a subscriber's view) and #30 with individual-id.
    const listed = expectJsonApi(await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}&individual-id=${patient}&page[limit]=10`))
    expect(listed.data.map((x: Json) => x.id)).toContain(tk.id)
    expect(listed.meta).toMatchObject({ 'page[limit]': 10, 'page[offset]': 0 })
    expectJsonApi(await ok(a, 'GET', `/v1/messaging-attachments/${tk.id}/?individual-id=${patient}`))
  })

  it('makes a JPEG thumbnail of a PNG and of a JPEG, fitted inside 320 × 320', async () => {
    for (const [type, bytes, width, height] of [['image/png', await png(800, 600), 320, 240], ['image/jpeg', await jpeg(300, 1200), 80, 320]] as const) {
      const tk = await ticket({ 'content-type': type, filename: 'photo' })
      expect((await upload(tk, bytes, 'photo')).status).toBe(201)
      const done = expectJsonApi(await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {}))
      expect(done.data.attributes).toMatchObject({ 'content-type': type, 'content-size': bytes.length })
      const thumb = await fetch(here(done.data.attributes.thumbnail))
      expect(thumb.status).toBe(200)
      expect(thumb.headers.get('content-type')).toBe('image/jpeg')
      const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height])
      // The message shows its processed attachments; their thumbnails with `thumbnail=true` (#55, #57).
      const plain = expectJsonApi(await ok(a, 'GET', `/v1/messaging-messages/${messageId}/`)).data.attributes.attachments as Json[]
      expect(plain.find((x) => x.id === tk.id)).toEqual({ 'content-size': bytes.length, 'content-type': type, filename: 'photo', id: tk.id, removed: false, thumbnail: null })
      const listed = expectJsonApi(await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${channelId}&thumbnail=true`)).data.find((x: Json) => x.id === messageId)
      expect(listed.attributes.attachments.find((x: Json) => x.id === tk.id).thumbnail.split('?')[0]).toBe(done.data.attributes.thumbnail.split('?')[0])
    }
    // Pending attachments are not on the message.
    const pendingOne = await ticket({ 'content-type': 'image/png' })
    expect((await ok(a, 'GET', `/v1/messaging-messages/${messageId}/`)).data.attributes.attachments.map((x: Json) => x.id)).not.toContain(pendingOne.id)
  })

  it('process-upload refuses bytes of another type than declared (§1.7), deletes them, and takes a right upload after', async () => {
    const tk = await ticket({ 'content-type': 'image/png', filename: 'not.png' })
    expect((await upload(tk, PDF)).status).toBe(201)
    const e = expectJsonApiError(await process(tk.id), 400)
    expect(e).toMatchObject({ code: 'upload_type_mismatch', detail: expect.stringContaining('application/pdf') })
    expect(await t.services.files.stat(a.tenant.id, tk['upload-data'].key)).toBeUndefined()
    expect((await ok(a, 'GET', `/v1/messaging-attachments/${tk.id}/`)).data.attributes).toMatchObject({ 'content-size': 0, url: null })
    expect((await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}`)).data.map((x: Json) => x.id)).not.toContain(tk.id)
    // A PNG signature with garbage after it is no readable image either.
    expect((await upload(tk, Buffer.concat([(await png(4, 4)).subarray(0, 16), Buffer.alloc(64, 7)]))).status).toBe(201)
    expect(expectJsonApiError(await process(tk.id), 400).code).toBe('upload_type_mismatch')
    // The same ticket, the right bytes.
    expect((await upload(tk, await png(10, 10))).status).toBe(201)
    expect((await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {})).data.attributes.thumbnail).toEqual(expect.any(String))
  })

  it('checks the size: a declared content-size must match, an empty file and a missing upload are refused', async () => {
    const missing = await ticket({ 'content-type': 'application/pdf' })
    expect(expectJsonApiError(await process(missing.id), 400).code).toBe('upload_missing')

    const empty = await ticket({ 'content-type': 'text/plain' })
    expect((await upload(empty, Buffer.alloc(0))).status).toBe(201)
    expect(expectJsonApiError(await process(empty.id), 400).code).toBe('upload_size_mismatch')

    const sized = await ticket({ 'content-type': 'application/pdf', 'content-size': PDF.length + 10 })
    expect(sized['upload-data'].max).toBe(String(PDF.length + 10))
    expect((await upload(sized, PDF)).status).toBe(201)
    const e = expectJsonApiError(await process(sized.id), 400)
    expect(e).toMatchObject({ code: 'upload_size_mismatch', detail: expect.stringContaining(`${PDF.length + 10} bytes`) })
    // Over the ticket's limit: the upload itself is refused (413) and nothing is stored.
    const over = await upload(sized, Buffer.concat([PDF, Buffer.alloc(100, 0x20)]))
    expect(over.status).toBe(413)
    expect(await t.services.files.stat(a.tenant.id, sized['upload-data'].key)).toBeUndefined()

    expectJsonApiError(await call(a, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': messageId, 'content-type': 'image/png', 'content-size': 10 * 1024 * 1024 } } }), 400, { pointer: '/data/attributes/content-size' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': messageId, 'content-type': 'not a type' } } }), 400, { pointer: '/data/attributes/content-type' })
  })

  it('takes the same ticket as a PUT of the bytes, and refuses a tampered form', async () => {
    const tk = await ticket({ 'content-type': 'application/pdf', filename: 'report.pdf' })
    const f = tk['upload-data'] as Record<string, string>
    const put = await fetch(here(`${tk['upload-url']}${f.key}?${new URLSearchParams({ expires: f.expires!, max: f.max!, signature: f.signature! })}`), { method: 'PUT', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(PDF) })
    expect(put.status).toBe(200)
    expect((await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {})).data.attributes).toMatchObject({ 'content-size': PDF.length, filename: 'report.pdf' })

    const other = await ticket({ 'content-type': 'application/pdf' })
    const tampered = await upload({ ...other, 'upload-data': { ...other['upload-data'], 'Content-Type': 'text/html' } }, PDF)
    expect(tampered.status).toBe(403)
    expect(((await tampered.json()) as Json).code).toBe('bad_file_signature')
    const noFile = await fetch(here(other['upload-url']), { method: 'POST', body: (() => { const fd = new FormData(); fd.append('key', 'x'); return fd })() })
    expect(noFile.status).toBe(400)
    expect(((await noFile.json()) as Json).code).toBe('invalid_upload_form')
  })

  it('answers a broken form upload with 400 invalid_upload_form (or 413 past the limit), never a 5xx, storing nothing', async () => {
    const tk = await ticket({ 'content-type': 'application/pdf' })
    const f = tk['upload-data'] as Record<string, string>
    const head = Object.entries(f).map(([k, v]) => `--B\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')
    const bodies: [string | undefined, string | Buffer, number][] = [
      [undefined, 'plain', 400],
      ['application/json', '{}', 400],
      ['multipart/form-data', '--B\r\n', 400],
      ['multipart/form-data; boundary=B', 'no boundary here', 400],
      ['multipart/form-data; boundary=B', `${head}--B--\r\n`, 400],
      ['multipart/form-data; boundary=B', `${head}--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 cut`, 400],
      ['multipart/form-data; boundary=B', `--B\r\nContent-Disposition: form-data; name="key"\r\n\r\na\r\n--B\r\nContent-Disposition: form-data; name="KEY"\r\n\r\nb\r\n--B--`, 400],
      ['multipart/form-data; boundary=B', `--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--`, 400],
      ['multipart/form-data; boundary="B"', Buffer.concat([Buffer.from(`${head}--B\r\nContent-Disposition: form-data; name="file"\r\n\r\n`), Buffer.alloc(3 * 1024 * 1024, 0x25), Buffer.from('\r\n--B--\r\n')]), 413],
    ]
    for (const [type, body, status] of bodies) {
      const r = await fetch(here(tk['upload-url']), { method: 'POST', headers: type ? { 'content-type': type } : {}, body: typeof body === 'string' ? body : new Uint8Array(body) })
      expect(r.status, `${type} ${String(body).slice(0, 80)}`).toBe(status)
      expect(((await r.json()) as Json).code).toBe(status === 413 ? 'file_too_large' : 'invalid_upload_form')
    }
    expect(await t.services.files.stat(a.tenant.id, f.key!)).toBeUndefined()
    // The quoted boundary and a file part with its own Content-Type are fine.
    const good = `${head}--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/octet-stream\r\n\r\n${PDF.toString('latin1')}\r\n--B--\r\n`
    const r = await fetch(here(tk['upload-url']), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary="B"' }, body: good })
    expect(r.status, await r.clone().text()).toBe(201)
    expect((await t.services.files.stat(a.tenant.id, f.key!))?.size).toBe(PDF.length)
  })

  it('#31 removes softly: the attachment stays as removed, its bytes and thumbnail are gone, and it cannot come back', async () => {
    const tk = await ticket({ 'content-type': 'image/png', filename: 'x.png' })
    expect((await upload(tk, await png(64, 64))).status).toBe(201)
    await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {})
    const thumbKey = (await t.store.db.selectFrom('msg_attachments').select('thumbnail_key').where('id', '=', tk.id).executeTakeFirstOrThrow()).thumbnail_key!
    expect(await t.services.files.stat(a.tenant.id, thumbKey)).toBeDefined()

    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-attachments/${tk.id}/`, { data: { attributes: { removed: true, 'individual-id': patient }, id: tk.id, type: 'messaging-attachments' } }), 403, { pointer: '/data/attributes/individual-id' })
    // #31's sample request.
    const removed = expectJsonApi(await ok(a, 'PATCH', `/v1/messaging-attachments/${tk.id}/`, { data: { attributes: { removed: true }, id: tk.id, type: 'messaging-attachments' }, meta: {} }))
    expect(removed.data.attributes).toMatchObject({ removed: true, url: null, thumbnail: null, filename: 'x.png' })
    expect(await t.services.files.stat(a.tenant.id, tk['upload-data'].key)).toBeUndefined()
    expect(await t.services.files.stat(a.tenant.id, thumbKey)).toBeUndefined()
    const listed = (await ok(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}`)).data.find((x: Json) => x.id === tk.id)
    expect(listed.attributes.removed).toBe(true)
    expectJsonApiError(await call(a, 'PATCH', `/v1/messaging-attachments/${tk.id}/`, { data: { attributes: { removed: false }, id: tk.id, type: 'messaging-attachments' } }), 400, { pointer: '/data/attributes/removed' })
    expect(expectJsonApiError(await process(tk.id), 400).code).toBe('attachment_removed')
  })

  it('only the channel\'s subscribers and the organisation see attachments; another tenant\'s ids answer 404', async () => {
    const tk = await ticket({ 'content-type': 'application/pdf' })
    expect((await upload(tk, PDF)).status).toBe(201)
    await ok(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {})
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-attachments/${tk.id}/?individual-id=${stranger}`), 404)
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-attachments/?message-id=${messageId}&individual-id=${stranger}`), 404, { parameter: 'message-id' })
    expectJsonApiError(await call(a, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, { 'individual-id': stranger }), 403)
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': messageId, 'content-type': 'image/png', 'individual-id': patient } } }), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-attachments/'), 400, { parameter: 'message-id' })

    expectJsonApiError(await call(b, 'GET', `/v1/messaging-attachments/${tk.id}/`), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-attachments/?message-id=${messageId}`), 404, { parameter: 'message-id' })
    expectJsonApiError(await call(b, 'POST', '/v1/messaging-attachments/', { data: { type: 'messaging-attachments', attributes: { 'message-id': messageId, 'content-type': 'image/png' } } }), 404, { pointer: '/data/attributes/message-id' })
    expectJsonApiError(await call(b, 'POST', `/v1/messaging-attachments/${tk.id}/process-upload/`, {}), 404)
    expectJsonApiError(await call(b, 'PATCH', `/v1/messaging-attachments/${tk.id}/`, { data: { type: 'messaging-attachments', id: tk.id, attributes: { removed: true } } }), 404)
    expect((await ok(a, 'GET', `/v1/messaging-attachments/${tk.id}/`)).data.attributes.removed).toBe(false)
  })
})

describe('messaging bookmarks', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  let nurse: string
  let stranger: string
  let channelId: string
  let otherChannelId: string
  let m1: string
  let m2: string
  let elsewhere: string
  beforeAll(async () => {
    t = await startTestApp()
    ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
    nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
    stranger = (await seedPerson(t, a, { firstName: 'Sam', phone: uniquePhone() })).cassId
    const org = a.credentials.courier.organization_id
    channelId = (await t.services.channels.create(a.tenant, { organizationId: org, actingIndividualId: nurse })).id
    otherChannelId = (await t.services.channels.create(a.tenant, { organizationId: org, actingIndividualId: nurse })).id
    m1 = (await t.services.messages.post(a.tenant, { channelId, message: 'one', individualId: nurse })).id
    m2 = (await t.services.messages.post(a.tenant, { channelId, message: 'two', individualId: nurse })).id
    elsewhere = (await t.services.messages.post(a.tenant, { channelId: otherChannelId, message: 'other', individualId: nurse })).id
  })
  afterAll(async () => t?.close())

  const call = (tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown) => t.app.inject({
    method, url, headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
  async function ok(tt: TestTenant, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Json> {
    const r = await call(tt, method, url, body)
    expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(method === 'POST' ? 201 : 200)
    return expectJsonApi(JSON.parse(r.body))
  }
  const create = (tt: TestTenant, attributes: Json) => call(tt, 'POST', '/v1/messaging-bookmarks/', { data: { attributes, type: 'messaging-bookmarks' }, meta: {} })

  it('#34 → #35 → #33: the documented samples; the channel echoes its current bookmark', async () => {
    const org = a.credentials.courier.organization_id
    // #34's sample request.
    const made = await ok(a, 'POST', '/v1/messaging-bookmarks/', { data: { attributes: { 'allow-multi-message': false, 'channel-id': channelId, 'message-id': m1 }, type: 'messaging-bookmarks' }, meta: {} })
    expect(made.data.type).toBe('messaging-bookmarks')
    expect(made.data.attributes).toEqual({ channel: { id: channelId }, 'created-at': expect.any(String), 'created-by': { id: org }, message: { id: m1 }, 'organization-id': org })
    expect((await ok(a, 'GET', `/v1/messaging-bookmarks/${made.data.id}/`)).data).toEqual(made.data)
    expect((await ok(a, 'GET', `/v1/messaging-channels/${channelId}/`)).data.attributes.bookmark).toEqual({ id: made.data.id, 'message-id': m1 })

    // Another without allow-multi-message replaces it; with it, they stack and the newest is current.
    const second = await ok(a, 'POST', '/v1/messaging-bookmarks/', { data: { type: 'messaging-bookmarks', attributes: { 'channel-id': channelId, 'message-id': m2, 'individual-id': nurse } } })
    expect(second.data.attributes['created-by']).toEqual({ id: nurse })
    expect((await ok(a, 'GET', `/v1/messaging-bookmarks/?organization-id=${org}&filter[channel-id]=${channelId}`)).data.map((x: Json) => x.id)).toEqual([second.data.id])
    expect((await call(a, 'GET', `/v1/messaging-bookmarks/${made.data.id}/`)).statusCode).toBe(404)
    const third = await ok(a, 'POST', '/v1/messaging-bookmarks/', { data: { type: 'messaging-bookmarks', attributes: { 'allow-multi-message': true, 'channel-id': channelId, 'message-id': m1 } } })
    const listed = await ok(a, 'GET', `/v1/messaging-bookmarks/?organization-id=${org}&filter[channel-id]=${channelId}`)
    expect(listed.data.map((x: Json) => x.id)).toEqual([third.data.id, second.data.id])
    expect(listed.meta).toMatchObject({ 'page[total]': 2, 'page[limit]': 100 })
    expect((await ok(a, 'GET', `/v1/messaging-channels/${channelId}/`)).data.attributes.bookmark).toEqual({ id: third.data.id, 'message-id': m1 })
    expect((await ok(a, 'GET', `/v1/messaging-channels/${otherChannelId}/`)).data.attributes.bookmark).toBeNull()
    expect((await ok(a, 'GET', `/v1/messaging-bookmarks/?organization-id=${org}`)).data.length).toBeGreaterThanOrEqual(2)
  })

  it('refuses a message of another channel, a non-subscriber, a missing organization-id; another tenant\'s ids answer 404', async () => {
    const before = await t.store.db.selectFrom('msg_bookmarks').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    expectJsonApiError(await create(a, { 'channel-id': channelId, 'message-id': elsewhere }), 400, { pointer: '/data/attributes/message-id' })
    expectJsonApiError(await create(a, { 'channel-id': channelId, 'message-id': m1, 'individual-id': stranger }), 403, { pointer: '/data/attributes/individual-id' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-bookmarks/'), 400, { parameter: 'organization-id' })
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-bookmarks/?organization-id=${a.credentials.courier.organization_id}`), 404, { parameter: 'organization-id' })
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-bookmarks/?organization-id=${b.credentials.courier.organization_id}&filter[channel-id]=${channelId}`), 404, { parameter: 'filter[channel-id]' })
    expectJsonApiError(await create(b, { 'channel-id': channelId, 'message-id': m1 }), 404, { pointer: '/data/attributes/channel-id' })
    const mine = await ok(a, 'POST', '/v1/messaging-bookmarks/', { data: { type: 'messaging-bookmarks', attributes: { 'allow-multi-message': true, 'channel-id': channelId, 'message-id': m2 } } })
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-bookmarks/${mine.data.id}/`), 404)
    const after = await t.store.db.selectFrom('msg_bookmarks').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n) + 1)
  })
})
