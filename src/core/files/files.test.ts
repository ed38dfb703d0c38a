import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.ts'
import { loadConfig } from '../../config.ts'
import { createMetrics } from '../../http/metrics.ts'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { FilesService, LocalFileStore, isFileKey, type UploadTicket } from './index.ts'

// Presigned uploads and downloads end to end through HTTP: a listening server for the round trip
// with fetch (a streamed upload), and an app whose files service has a clock the tests move, for
// expiry, tampering, sizes and paths. Both store into a temporary directory.
let t: TestApp
let dir: string
let clocked: FastifyInstance
let files: FilesService
let now = new Date('2030-01-01T00:00:00Z')
let a: TestTenant
let b: TestTenant
const LIMIT = 1024

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-files-'))
  t = await startTestApp({ listen: true, config: { SWITCHBOARD_FILES_DIR: join(dir, 'live') } })
  files = new FilesService({
    store: new LocalFileStore(join(dir, 'clocked')), secretKey: t.config.secretKey, publicUrl: 'https://switchboard.example.org',
    maxBytes: LIMIT, urlSeconds: 60, now: () => now,
  })
  clocked = await buildApp({ services: { ...t.services, files }, metrics: createMetrics(), logger: false })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
})
afterAll(async () => {
  await clocked?.close()
  await t?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

type Json = Record<string, unknown>
const json = (r: { body: string }) => JSON.parse(r.body) as Json
/** The path and query of a URL of the clocked service (its public base is not this app). */
const local = (url: string) => url.replace('https://switchboard.example.org', '')
const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill)
function put(url: string, payload: Buffer | Readable, headers: Record<string, string> = {}) {
  return clocked.inject({ method: 'PUT', url: local(url), headers, payload })
}
/** Every file under the clocked store (temporary files included). */
async function storedFiles(): Promise<string[]> {
  const entries = await readdir(join(dir, 'clocked'), { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}
const withQuery = (url: string, name: string, value: string | undefined) => {
  const u = new URL(url)
  if (value === undefined) u.searchParams.delete(name)
  else u.searchParams.set(name, value)
  return u.toString()
}

describe('an upload URL, then a download URL, on a listening server', () => {
  it('stores the streamed bytes under a tenant-namespaced key and serves them back with their type', async () => {
    const ticket = await t.services.files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'image/png' })
    expect(ticket.method).toBe('PUT')
    expect(ticket.key).toMatch(new RegExp(`^${a.tenant.id}/chat-media/[0-9a-f-]{36}\\.png$`))
    expect(ticket.headers).toEqual({ 'content-type': 'image/png' })
    expect(ticket.url).toMatch(new RegExp(`^${t.config.publicUrl}/files/${ticket.key}\\?expires=\\d+&max=26214400&signature=[\\w-]{43}$`))
    expect(ticket.expiresAt.getTime() - Date.now()).toBeGreaterThan(14 * 60_000)
    expect(ticket.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000)

    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), bytes(70_000, 7)])
    const url = ticket.url.replace(t.config.publicUrl, t.url)
    // A streamed body (chunked, no Content-Length), as a phone uploading a video would send it.
    const chunks = Readable.from([png.subarray(0, 30_000), png.subarray(30_000)])
    const r = await fetch(url, { method: 'PUT', headers: ticket.headers, body: Readable.toWeb(chunks) as ReadableStream, duplex: 'half' } as RequestInit)
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ key: ticket.key, size: png.length, content_type: 'image/png' })

    expect(await t.services.files.stat(a.tenant.id, ticket.key)).toEqual({ key: ticket.key, size: png.length, contentType: 'image/png' })
    const download = await t.services.files.downloadUrl(a.tenant.id, ticket.key)
    const got = await fetch(download.url.replace(t.config.publicUrl, t.url))
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('image/png')
    expect(got.headers.get('content-length')).toBe(String(png.length))
    expect(got.headers.get('content-disposition')).toBe('inline')
    expect(got.headers.get('content-security-policy')).toContain('sandbox')
    expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true)

    const read = await t.services.files.read(a.tenant.id, ticket.key)
    expect(read.size).toBe(png.length)
    const back = Buffer.concat(await read.stream.toArray())
    expect(back.equals(png)).toBe(true)
  })

  it('stores server-side files (an agent attachment) and gives every upload a new unguessable key', async () => {
    const stored = await t.services.files.put(a.tenant.id, { purpose: 'attachment', contentType: 'application/pdf; charset=binary', bytes: Buffer.from('%PDF-1.7') })
    expect(stored).toMatchObject({ size: 8, contentType: 'application/pdf' })
    expect(stored.key).toMatch(new RegExp(`^${a.tenant.id}/attachment/[0-9a-f-]{36}\\.pdf$`))
    const again = await t.services.files.put(a.tenant.id, { purpose: 'attachment', contentType: 'application/pdf', stream: Readable.from([Buffer.from('%PDF')]) })
    expect(again.key).not.toBe(stored.key)
    expect(await text((await t.services.files.read(a.tenant.id, stored.key)).stream)).toBe('%PDF-1.7')
    // Anything but a page served as a page: a download, whatever the type says.
    const html = await t.services.files.put(a.tenant.id, { purpose: 'attachment', contentType: 'text/html', bytes: Buffer.from('<script>alert(1)</script>') })
    const got = await fetch((await t.services.files.downloadUrl(a.tenant.id, html.key)).url.replace(t.config.publicUrl, t.url))
    expect(got.headers.get('content-disposition')).toBe('attachment')
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
    expect(got.headers.get('x-content-type-options')).toBe('nosniff')
  })
  it('answers an oversized upload with 413 over a real connection, declared or streamed, and stores nothing', async () => {
    const ticket = await t.services.files.createUpload(a.tenant.id, { purpose: 'chat-media', maxBytes: 1000 })
    const url = ticket.url.replace(t.config.publicUrl, t.url)
    const declared = await fetch(url, { method: 'PUT', body: bytes(300_000) })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toMatchObject({ code: 'file_too_large' })
    const chunks = Readable.from([bytes(600), bytes(600), bytes(100_000)])
    const streamed = await fetch(url, { method: 'PUT', body: Readable.toWeb(chunks) as ReadableStream, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(await t.services.files.stat(a.tenant.id, ticket.key)).toBeUndefined()
    const left = await readdir(join(dir, 'live', '.tmp'))
    expect(left).toEqual([])
    // The server still serves: the refused connection closed, a new one works.
    expect((await fetch(url, { method: 'PUT', body: bytes(1000) })).status).toBe(200)
  })
})

describe('tenants', () => {
  it("treats another tenant's key as not found, everywhere", async () => {
    const mine = await files.put(a.tenant.id, { purpose: 'chat-media', contentType: 'image/jpeg', bytes: bytes(10) })
    expect(await files.stat(b.tenant.id, mine.key)).toBeUndefined()
    await expect(files.read(b.tenant.id, mine.key)).rejects.toMatchObject({ code: 'file_not_found' })
    await expect(files.downloadUrl(b.tenant.id, mine.key)).rejects.toMatchObject({ code: 'file_not_found' })
    expect(await files.delete(b.tenant.id, mine.key)).toBe(false)
    expect(await files.stat(a.tenant.id, mine.key)).toMatchObject({ size: 10 })
  })

  it("refuses a URL whose key was moved to another tenant's namespace", async () => {
    const ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media' })
    const moved = ticket.url.replace(`/files/${a.tenant.id}/`, `/files/${b.tenant.id}/`)
    const r = await put(moved, bytes(5))
    expect(r.statusCode).toBe(403)
    expect(json(r)).toMatchObject({ code: 'bad_file_signature' })
    expect(await files.stat(b.tenant.id, ticket.key.replace(a.tenant.id, b.tenant.id))).toBeUndefined()

    const mine = await files.put(a.tenant.id, { purpose: 'chat-media', contentType: 'image/jpeg', bytes: bytes(3) })
    const download = await files.downloadUrl(a.tenant.id, mine.key)
    const g = await clocked.inject(local(download.url.replace(`/files/${a.tenant.id}/`, `/files/${b.tenant.id}/`)))
    expect(g.statusCode).toBe(403)
  })
})

describe('expiry', () => {
  it('accepts an upload until its URL expires, then answers 403 with a clear message and stores nothing', async () => {
    const start = now
    const ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'video/mp4' })
    expect(ticket.expiresAt.getTime()).toBe(start.getTime() + 60_000)
    now = new Date(start.getTime() + 60_000)
    const late = await put(ticket.url, bytes(10), { 'content-type': 'video/mp4' })
    expect(late.statusCode).toBe(403)
    expect(json(late)).toEqual({ code: 'file_url_expired', message: `This file URL expired at ${ticket.expiresAt.toISOString()}; ask for a new one` })
    expect(await files.stat(a.tenant.id, ticket.key)).toBeUndefined()
    now = new Date(start.getTime() + 59_000)
    expect((await put(ticket.url, bytes(10), { 'content-type': 'video/mp4' })).statusCode).toBe(200)

    const download = await files.downloadUrl(a.tenant.id, ticket.key)
    expect((await clocked.inject(local(download.url))).statusCode).toBe(200)
    now = new Date(download.expiresAt.getTime() + 1)
    const g = await clocked.inject(local(download.url))
    expect(g.statusCode).toBe(403)
    expect(json(g).code).toBe('file_url_expired')
    now = start
  })
})

describe('tampering', () => {
  let ticket: UploadTicket
  beforeAll(async () => {
    ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'image/png', maxBytes: 100 })
  })
  const refused = async (url: string, headers: Record<string, string> = { 'content-type': 'image/png' }) => {
    const r = await put(url, bytes(10), headers)
    expect(r.statusCode, url).toBe(403)
    expect(json(r), url).toMatchObject({ code: 'bad_file_signature', message: expect.stringMatching(/signature does not match/) })
  }

  it('refuses a changed signature, expiry, limit, key or Content-Type, and a missing signature', async () => {
    const sig = new URL(ticket.url).searchParams.get('signature')!
    await refused(withQuery(ticket.url, 'signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)))
    await refused(withQuery(ticket.url, 'signature', undefined))
    await refused(withQuery(ticket.url, 'signature', 'x'))
    await refused(withQuery(ticket.url, 'expires', String(Number(new URL(ticket.url).searchParams.get('expires')) + 3600)))
    await refused(withQuery(ticket.url, 'max', '1000'))
    await refused(ticket.url.replace(/\.png\?/, '.jpg?'))
    await refused(ticket.url, { 'content-type': 'text/html' })
    await refused(ticket.url, {})
    expect(await storedFiles()).not.toContainEqual(expect.stringContaining(ticket.key.split('/')[2]!))
    // The untouched URL works (with parameters on the Content-Type, which are not part of the type).
    expect((await put(ticket.url, bytes(10), { 'content-type': 'image/png; foo=bar' })).statusCode).toBe(200)
  })

  it('does not take a download signature for an upload, nor an upload signature for a download', async () => {
    const stored = await files.put(a.tenant.id, { purpose: 'chat-media', contentType: 'image/png', bytes: bytes(4) })
    const download = await files.downloadUrl(a.tenant.id, stored.key)
    const r = await put(download.url, bytes(4, 0x62), { 'content-type': 'image/png' })
    expect(r.statusCode).toBe(403)
    expect(await text((await files.read(a.tenant.id, stored.key)).stream)).toBe('aaaa')
    const g = await clocked.inject(local(ticket.url))
    expect(g.statusCode).toBe(403)
    expect(json(g).code).toBe('bad_file_signature')
  })

  it('signs URLs with a key derived from the master key: another master key does not verify them', async () => {
    const other = new FilesService({
      store: new LocalFileStore(join(dir, 'clocked')), secretKey: Buffer.alloc(32, 1), publicUrl: 'https://switchboard.example.org',
      maxBytes: LIMIT, urlSeconds: 60, now: () => now,
    })
    const forged = await other.createUpload(a.tenant.id, { purpose: 'chat-media' })
    expect((await put(forged.url, bytes(3))).statusCode).toBe(403)
  })
})

describe('sizes', () => {
  it('refuses a body over the URL’s limit with 413 and keeps nothing of it, declared or streamed', async () => {
    const ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media', maxBytes: 100 })
    const declared = await put(ticket.url, bytes(101))
    expect(declared.statusCode).toBe(413)
    expect(json(declared)).toEqual({ code: 'file_too_large', message: 'The file is larger than the limit of 100 bytes' })
    // No Content-Length: the store counts and stops at the first byte over.
    const streamed = await put(ticket.url, Readable.from([bytes(60), bytes(60)]))
    expect(streamed.statusCode).toBe(413)
    expect(await files.stat(a.tenant.id, ticket.key)).toBeUndefined()
    const left = await storedFiles()
    expect(left.filter((f) => f.includes(ticket.key.split('/')[2]!) || f.includes('.tmp'))).toEqual([])
    expect((await put(ticket.url, bytes(100))).statusCode).toBe(200)
    expect(await files.stat(a.tenant.id, ticket.key)).toMatchObject({ size: 100, contentType: 'application/octet-stream' })
  })

  it('an over-limit store from the server side fails the same way and leaves no file', async () => {
    const before = await storedFiles()
    await expect(files.put(a.tenant.id, { purpose: 'attachment', contentType: 'video/mp4', stream: Readable.from([bytes(LIMIT), bytes(1)]) }))
      .rejects.toMatchObject({ code: 'file_too_large', details: { maxBytes: LIMIT } })
    await expect(files.put(a.tenant.id, { purpose: 'attachment', contentType: 'video/mp4', bytes: bytes(LIMIT + 1) })).rejects.toMatchObject({ code: 'file_too_large' })
    expect(await storedFiles()).toEqual(before)
  })

  it('refuses upload options outside the rules', async () => {
    await expect(files.createUpload(a.tenant.id, { purpose: 'chat-media', maxBytes: LIMIT + 1 })).rejects.toMatchObject({ code: 'invalid_file_options', details: { field: 'maxBytes' } })
    await expect(files.createUpload(a.tenant.id, { purpose: '../etc' })).rejects.toMatchObject({ code: 'invalid_file_options', details: { field: 'purpose' } })
    await expect(files.createUpload(a.tenant.id, { purpose: 'chat-media', contentType: 'not a type' })).rejects.toMatchObject({ code: 'invalid_file_options', details: { field: 'contentType' } })
  })

  it('lets the client choose the type when the URL leaves it open', async () => {
    const ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media' })
    expect(ticket.headers).toEqual({})
    expect(isFileKey(ticket.key)).toBe(true)
    expect((await put(ticket.url, bytes(5), { 'content-type': 'video/quicktime' })).statusCode).toBe(200)
    expect(await files.stat(a.tenant.id, ticket.key)).toMatchObject({ contentType: 'video/quicktime' })
  })
})

describe('paths', () => {
  it('never lets a request path leave the store: dot segments, encoded slashes and dots, absolute paths, backslashes', async () => {
    const ticket = await files.createUpload(a.tenant.id, { purpose: 'chat-media' })
    const query = new URL(ticket.url).search
    const encodedKey = ticket.key.replaceAll('/', '%2F')
    const paths = [
      `/files/../../../../etc/passwd${query}`,
      `/files/${a.tenant.id}/chat-media/../../../etc/passwd${query}`,
      `/files/%2e%2e/%2e%2e/etc/passwd${query}`,
      `/files/..%2F..%2Fetc%2Fpasswd${query}`,
      `/files/${encodedKey}${query}`,
      `/files//etc/passwd${query}`,
      `/files/%2Fetc%2Fpasswd${query}`,
      `/files/..%5C..%5Cetc%5Cpasswd${query}`,
      `/files/${ticket.key}%00${query}`,
    ]
    for (const url of paths) {
      const r = await clocked.inject({ method: 'PUT', url, payload: bytes(3) })
      expect([400, 403, 404], `${url} → ${r.statusCode} ${r.body}`).toContain(r.statusCode)
      const g = await clocked.inject({ method: 'GET', url })
      expect([400, 403, 404], `${url} → ${g.statusCode}`).toContain(g.statusCode)
      expect(g.body).not.toContain('root:')
    }
    // The well-formed key with its slashes %-escaped names no file: the raw path is the key.
    const escaped = await clocked.inject({ method: 'PUT', url: `/files/${encodedKey}${query}`, payload: bytes(3) })
    expect(escaped.statusCode).toBe(400)
    expect(json(escaped)).toMatchObject({ code: 'invalid_file_key' })
    expect(await files.stat(a.tenant.id, ticket.key)).toBeUndefined()
    expect((await storedFiles()).every((f) => f.startsWith(join(dir, 'clocked') + '/'))).toBe(true)
  })

  it('refuses keys that are not keys in the service and in the store', async () => {
    for (const key of ['../../etc/passwd', '/etc/passwd', `${a.tenant.id}/chat-media/../../x`, `${a.tenant.id}/chat-media/00000000-0000-0000-0000-000000000000.a.b`, `${a.tenant.id}\\chat-media\\x`]) {
      expect(await files.stat(a.tenant.id, key), key).toBeUndefined()
      await expect(files.read(a.tenant.id, key), key).rejects.toMatchObject({ code: 'file_not_found' })
      await expect(new LocalFileStore(dir).head(key), key).rejects.toThrow(/not a file key/)
    }
  })
})

describe('the local store', () => {
  it('removes temporary files a crashed upload left behind (a day old), not younger ones, on its first write', async () => {
    const root = join(dir, 'sweep')
    await mkdir(join(root, '.tmp'), { recursive: true })
    await writeFile(join(root, '.tmp', 'crashed'), 'half')
    await writeFile(join(root, '.tmp', 'in-progress'), 'half')
    const old = new Date(Date.now() - 25 * 3600_000)
    await utimes(join(root, '.tmp', 'crashed'), old, old)
    const store = new LocalFileStore(root)
    await store.put(`${a.tenant.id}/chat-media/00000000-0000-4000-8000-000000000000`, Readable.from([bytes(1)]), { contentType: 'text/plain', maxBytes: 10 })
    expect(await readdir(join(root, '.tmp'))).toEqual(['in-progress'])
  })
})

describe('delete', () => {
  it('removes the file; its download URL then answers 404', async () => {
    const stored = await files.put(a.tenant.id, { purpose: 'chat-media', contentType: 'image/gif', bytes: bytes(2) })
    const download = await files.downloadUrl(a.tenant.id, stored.key)
    expect(await files.delete(a.tenant.id, stored.key)).toBe(true)
    expect(await files.delete(a.tenant.id, stored.key)).toBe(false)
    const g = await clocked.inject(local(download.url))
    expect(g.statusCode).toBe(404)
    expect(json(g)).toEqual({ code: 'file_not_found', message: 'No such file' })
    expect((await storedFiles()).filter((f) => f.includes(stored.key.split('/')[2]!))).toEqual([])
  })
})

describe('configuration', () => {
  const env = { SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/srv/switchboard' }
  it('keeps files in <data dir>/files, up to 25 MiB, with URLs valid for 15 minutes, unless told otherwise', () => {
    expect(loadConfig(env).files).toEqual({ dir: '/srv/switchboard/files', maxBytes: 25 * 1024 * 1024, urlSeconds: 900 })
    expect(loadConfig({ ...env, SWITCHBOARD_FILES_DIR: '/mnt/media', SWITCHBOARD_FILES_MAX_BYTES: '1048576', SWITCHBOARD_FILES_URL_SECONDS: '60' }).files)
      .toEqual({ dir: '/mnt/media', maxBytes: 1048576, urlSeconds: 60 })
    expect(() => loadConfig({ ...env, SWITCHBOARD_FILES_MAX_BYTES: '25MB' })).toThrow(/SWITCHBOARD_FILES_MAX_BYTES/)
    expect(() => loadConfig({ ...env, SWITCHBOARD_FILES_URL_SECONDS: '0' })).toThrow(/SWITCHBOARD_FILES_URL_SECONDS/)
    expect(loadConfig(env).files.s3).toBeUndefined()
  })

  it('takes an S3-compatible bucket with its credentials, and names what is missing', () => {
    const s3 = { ...env, SWITCHBOARD_FILES_STORE: 's3', SWITCHBOARD_S3_BUCKET: 'care-media', SWITCHBOARD_S3_ACCESS_KEY_ID: 'AKID', SWITCHBOARD_S3_SECRET_ACCESS_KEY: 'secret' }
    expect(loadConfig(s3).files.s3).toEqual({
      endpoint: 'https://s3.us-east-1.amazonaws.com', region: 'us-east-1', bucket: 'care-media', accessKeyId: 'AKID', secretAccessKey: 'secret', pathStyle: false, direct: false,
    })
    expect(loadConfig({ ...s3, SWITCHBOARD_S3_ENDPOINT: 'http://minio:9000/', SWITCHBOARD_S3_PATH_STYLE: 'true', SWITCHBOARD_S3_DIRECT: '1' }).files.s3)
      .toMatchObject({ endpoint: 'http://minio:9000', pathStyle: true, direct: true })
    expect(() => loadConfig({ ...s3, SWITCHBOARD_S3_BUCKET: '' })).toThrow(/SWITCHBOARD_S3_BUCKET is required/)
    expect(() => loadConfig({ ...s3, SWITCHBOARD_S3_SECRET_ACCESS_KEY: undefined })).toThrow(/SWITCHBOARD_S3_SECRET_ACCESS_KEY is required/)
    expect(() => loadConfig({ ...s3, SWITCHBOARD_S3_ENDPOINT: 'ftp://x' })).toThrow(/SWITCHBOARD_S3_ENDPOINT/)
    expect(() => loadConfig({ ...env, SWITCHBOARD_FILES_STORE: 'gcs' })).toThrow(/SWITCHBOARD_FILES_STORE/)
  })
})
