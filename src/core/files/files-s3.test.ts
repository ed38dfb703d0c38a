import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { S3Peer } from '../../../test/peers/s3.ts'

// The files service over an S3-compatible bucket, chosen by configuration (SWITCHBOARD_FILES_STORE=s3)
// against the local S3 peer: through /files by default (the size limit enforced on the way), and
// with the bucket's own presigned URLs when SWITCHBOARD_S3_DIRECT is on.
let peer: S3Peer
beforeAll(async () => {
  peer = await new S3Peer().start()
})
afterAll(async () => peer?.stop())

const s3Env = (direct: boolean) => ({
  SWITCHBOARD_FILES_STORE: 's3', SWITCHBOARD_S3_ENDPOINT: peer.url, SWITCHBOARD_S3_REGION: peer.region, SWITCHBOARD_S3_BUCKET: peer.bucket,
  SWITCHBOARD_S3_ACCESS_KEY_ID: peer.accessKeyId, SWITCHBOARD_S3_SECRET_ACCESS_KEY: peer.secretAccessKey, SWITCHBOARD_S3_PATH_STYLE: 'true',
  SWITCHBOARD_S3_DIRECT: String(direct), SWITCHBOARD_FILES_MAX_BYTES: '1000',
})

describe('through /files into the bucket (the default)', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  beforeAll(async () => {
    t = await startTestApp({ listen: true, config: s3Env(false) })
    ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  })
  afterAll(async () => t?.close())
  const here = (url: string) => url.replace(t.config.publicUrl, t.url)

  it('uploads through the signed URL into the bucket and downloads back through /files', async () => {
    const ticket = await t.services.files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'image/jpeg' })
    expect(ticket.url.startsWith(`${t.config.publicUrl}/files/${a.tenant.id}/chat-media/`)).toBe(true)
    const r = await fetch(here(ticket.url), { method: 'PUT', headers: ticket.headers, body: Buffer.from('jpeg bytes') })
    expect(r.status).toBe(200)
    expect(peer.objects.get(ticket.key)).toEqual({ body: Buffer.from('jpeg bytes'), contentType: 'image/jpeg' })
    expect(await t.services.files.stat(a.tenant.id, ticket.key)).toEqual({ key: ticket.key, size: 10, contentType: 'image/jpeg' })
    expect(await t.services.files.stat(b.tenant.id, ticket.key)).toBeUndefined()
    const got = await fetch(here((await t.services.files.downloadUrl(a.tenant.id, ticket.key)).url))
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('image/jpeg')
    expect(await got.text()).toBe('jpeg bytes')
    expect(await t.services.files.delete(a.tenant.id, ticket.key)).toBe(true)
    expect(peer.objects.has(ticket.key)).toBe(false)
  })

  it('refuses an oversized upload with 413 and sends nothing to the bucket', async () => {
    const ticket = await t.services.files.createUpload(a.tenant.id, { purpose: 'chat-media' })
    const before = peer.requests.length
    const streamed = await fetch(here(ticket.url), { method: 'PUT', body: Readable.toWeb(Readable.from([Buffer.alloc(600), Buffer.alloc(600)])) as ReadableStream, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(peer.requests.slice(before).filter((q) => q.method === 'PUT')).toEqual([])
    expect(peer.objects.has(ticket.key)).toBe(false)
    await expect(t.services.files.put(a.tenant.id, { purpose: 'attachment', contentType: 'video/mp4', bytes: Buffer.alloc(1001) })).rejects.toMatchObject({ code: 'file_too_large' })
  })
})

describe('presigned URLs of the bucket (SWITCHBOARD_S3_DIRECT)', () => {
  let t: TestApp
  let a: TestTenant
  beforeAll(async () => {
    t = await startTestApp({ config: s3Env(true) })
    a = await createTenant(t.services)
  })
  afterAll(async () => t?.close())

  it('hands out the bucket’s presigned PUT and GET, which the bucket honours', async () => {
    const ticket = await t.services.files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'video/mp4' })
    expect(ticket.url.startsWith(`${peer.url}/${peer.bucket}/${ticket.key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&`)).toBe(true)
    expect(ticket.headers).toEqual({ 'content-type': 'video/mp4' })
    expect((await fetch(ticket.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: 'x' })).status).toBe(403)
    expect((await fetch(ticket.url, { method: 'PUT', headers: ticket.headers, body: 'a movie' })).status).toBe(200)
    expect(await t.services.files.stat(a.tenant.id, ticket.key)).toEqual({ key: ticket.key, size: 7, contentType: 'video/mp4' })
    const download = await t.services.files.downloadUrl(a.tenant.id, ticket.key)
    expect(download.url.startsWith(`${peer.url}/${peer.bucket}/${ticket.key}?`)).toBe(true)
    expect(await (await fetch(download.url)).text()).toBe('a movie')
    const stored = await t.services.files.put(a.tenant.id, { purpose: 'attachment', contentType: 'application/pdf', bytes: Buffer.from('%PDF') })
    expect(Buffer.concat(await (await t.services.files.read(a.tenant.id, stored.key)).stream.toArray()).toString()).toBe('%PDF')
  })
})
