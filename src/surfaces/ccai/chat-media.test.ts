import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { S3Peer } from '../../../test/peers/s3.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'
import { hashPassword } from '../../lib/passwords.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'

// Chat media over real HTTP, on the local files store and on an S3-compatible bucket (the local S3
// peer): an end user's photos and videos through presigned upload URLs bound to their chat, attached
// (H6/H9), listed (H7/H10) and shown in the chat; H3 media messages naming them; an agent's file sent
// from the workspace, announced by the signed `message_received` webhook and downloaded by its media
// id; refusals with their texts that change nothing; ended and dismissed chats; another tenant's
// chat and media ids answer 404.
const SECRET = 'media-webhook-secret-0123456789'
let receiver: WebhookReceiver
let peer: S3Peer
let dir: string
let hash: string
beforeAll(async () => {
  receiver = await startWebhookReceiver([SECRET])
  peer = await new S3Peer().start()
  dir = await mkdtemp(join(tmpdir(), 'switchboard-chat-media-'))
  hash = await hashPassword('agent-password')
})
afterAll(async () => {
  await receiver?.close()
  await peer?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = () => `
settings: { rate_limit: 1000, webhook: { url: "${receiver.url}/hooks", primary_secret: "${SECRET}" } }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], chat_capacity: 10, password_hash: "${hash}" }
menus:
  - { name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }
`

const stores = {
  local: () => ({ SWITCHBOARD_FILES_DIR: join(dir, 'files') }),
  s3: () => ({
    SWITCHBOARD_FILES_STORE: 's3', SWITCHBOARD_S3_ENDPOINT: peer.url, SWITCHBOARD_S3_REGION: peer.region, SWITCHBOARD_S3_BUCKET: peer.bucket,
    SWITCHBOARD_S3_ACCESS_KEY_ID: peer.accessKeyId, SWITCHBOARD_S3_SECRET_ACCESS_KEY: peer.secretAccessKey, SWITCHBOARD_S3_PATH_STYLE: 'true',
  }),
}

describe.each(['local', 's3'] as const)('chat media on the %s store', (store) => {
  let t: TestApp
  let tt: TestTenant
  let other: TestTenant
  let ann: string
  const here = (url: string) => url.replace(t.config.publicUrl, t.url)
  async function http(method: string, path: string, opts: { auth?: string; body?: unknown; raw?: Buffer; type?: string } = {}) {
    const headers: Record<string, string> = { ...(opts.auth ? { authorization: opts.auth } : {}) }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    if (opts.type) headers['content-type'] = opts.type
    const res = await fetch(`${t.url}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : opts.raw ? { body: opts.raw } : {}) })
    const text = await res.text()
    let body: Json | null = null
    try { body = text ? JSON.parse(text) as Json : null } catch { body = { text } }
    return { status: res.status, body }
  }
  const api = (method: string, path: string, body?: unknown, tenant: TestTenant = tt) => http(method, `/apps/api/v1${path}`, { auth: tenant.ccaiAuth, ...(body !== undefined ? { body } : {}) })
  const attachedCount = async () => Number((await t.store.db.selectFrom('cc_media').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).where('num', 'is not', null).executeTakeFirstOrThrow()).n)

  /** A chat on Help, accepted by Ann (the offer read where routing wrote it). */
  async function assignedChat(endUser: number): Promise<number> {
    const started = await api('POST', '/chats', { chat: { menu_id: 2, end_user_id: await endUserNum(t.services, tt.tenant.id, endUser) } })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const chatId = started.body!.id as number
    const offer = await waitFor('the offer to Ann', () => t.store.db.selectFrom('cc_offers as o').innerJoin('cc_sessions as s', 's.id', 'o.session_id')
      .select('o.id').where('o.tenant_id', '=', tt.tenant.id).where('s.num', '=', chatId).where('o.result', '=', 'pending').executeTakeFirst(), 10_000)
    expect((await http('POST', `/agent/v1/offers/${offer.id}/accept`, { auth: ann })).status).toBe(200)
    return chatId
  }
  /** H8/H11 then the PUT the client makes. */
  async function upload(chatId: number, kind: 'photos' | 'videos', bytes: string, type: string, query = ''): Promise<string> {
    const u = await api('GET', `/chats/${chatId}/${kind}/upload_url${query}`)
    expect(u.status, JSON.stringify(u.body)).toBe(200)
    expect(u.body).toMatchObject({ method: 'PUT', s3_path: expect.stringMatching(new RegExp(`^${tt.tenant.id}/chat-media/`)) })
    expect(u.body!.expires_at).toMatch(/\.000Z$/)
    const put = await fetch(here(u.body!.url as string), { method: 'PUT', headers: { 'content-type': type, ...u.body!.headers }, body: Buffer.from(bytes) })
    expect(put.status).toBe(200)
    return u.body!.s3_path as string
  }

  beforeAll(async () => {
    t = await startTestApp({ workers: true, listen: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', ...stores[store]() }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
    tt = await createTenant(t.services)
    other = await createTenant(t.services)
    await t.services.ccSetup.load(tt.tenant.id, SETUP(), 'yaml')
    await t.services.ccSetup.load(other.tenant.id, SETUP(), 'yaml')
    const login = await http('POST', '/agent/v1/login', { body: { email: 'ann@example.org', password: 'agent-password', company: tt.credentials.ccai.subdomain } })
    ann = `Bearer ${login.body!.token}`
    expect((await http('PUT', '/agent/v1/status', { auth: ann, body: { status: 'Available' } })).status).toBe(200)
  })
  afterAll(async () => t?.close())

  it('uploads photos and a video through presigned URLs, attaches, lists and shows them; H3 names them', async () => {
    const chatId = await assignedChat(87)
    const p1 = await upload(chatId, 'photos', 'jpeg one', 'image/jpeg')
    const p2 = await upload(chatId, 'photos', 'png two', 'image/png', '?content_type=image/png')
    const attached = await api('POST', `/chats/${chatId}/photos`, { photo: [{ s3_path: p1 }, { s3_path: p2, photo_type: 'screenshot' }] })
    expect(attached.status, JSON.stringify(attached.body)).toBe(201)
    expect(attached.body).toEqual([
      { id: expect.any(Number), photo_type: 'photo', url: expect.any(String) },
      { id: expect.any(Number), photo_type: 'screenshot', url: expect.any(String) },
    ])
    const photos = attached.body as unknown as Json[]
    const got = await fetch(here(photos[1]!.url as string))
    expect(got.headers.get('content-type')).toBe('image/png')
    expect(await got.text()).toBe('png two')
    const listed = await api('GET', `/chats/${chatId}/photos`)
    expect((listed.body as unknown as Json[]).map((p) => [p.id, p.photo_type])).toEqual(photos.map((p) => [p.id, p.photo_type]))

    const v = await upload(chatId, 'videos', 'a movie', 'video/mp4', '?content_type=video/mp4')
    const video = await api('POST', `/chats/${chatId}/videos`, { video: { s3_path: v } })
    expect(video.status, JSON.stringify(video.body)).toBe(201)
    expect(video.body).toEqual({ id: expect.any(Number), url: expect.any(String) })
    expect((await api('GET', `/chats/${chatId}/videos`)).body).toEqual([{ id: video.body!.id, url: expect.any(String) }])

    const chat = (await api('GET', `/chats/${chatId}`)).body!
    expect(chat.photos.map((p: Json) => p.id)).toEqual(photos.map((p) => p.id))
    expect(chat.videos.map((p: Json) => p.id)).toEqual([video.body!.id])
    // The agent's view of the chat shows them too.
    const mine = ((await http('GET', '/agent/v1/chats', { auth: ann })).body as unknown as Json[]).find((c) => c.id === chatId)!
    expect(mine.photos).toHaveLength(2)

    const said = await api('POST', `/chats/${chatId}/message`, { from_user_id: await endUserNum(t.services, tt.tenant.id, 87), message: { type: 'photo', media_id: photos[0]!.id } })
    expect(said.status, JSON.stringify(said.body)).toBe(201)
    expect(said.body).toMatchObject({ type: 'photo', media_id: String(photos[0]!.id), from_user_id: await endUserNum(t.services, tt.tenant.id, 87) })
    expect(await api('POST', `/chats/${chatId}/message`, { from_user_id: await endUserNum(t.services, tt.tenant.id, 87), message: { type: 'video', media_id: String(photos[0]!.id) } }))
      .toEqual({ status: 400, body: { message: `media_id ${photos[0]!.id} is not found` } })
    expect(await api('POST', `/chats/${chatId}/message`, { from_user_id: await endUserNum(t.services, tt.tenant.id, 87), message: { type: 'file', media_id: '999' } }))
      .toEqual({ status: 400, body: { message: 'media_id 999 is not found' } })
    // The end user's photo is also served by its media id.
    const bytes = await fetch(`${t.url}/apps/api/v1/chats/${chatId}/media/${photos[0]!.id}`, { headers: { authorization: tt.ccaiAuth } })
    expect(await bytes.text()).toBe('jpeg one')
  })

  it('refuses what was not uploaded for this chat, with the texts, attaching nothing', async () => {
    const chatId = await assignedChat(88)
    const otherChat = await assignedChat(89)
    const issuedElsewhere = await upload(otherChat, 'photos', 'x', 'image/png')
    const videoPath = await upload(chatId, 'videos', 'v', 'video/mp4')
    const textPath = await upload(chatId, 'photos', '<html>', 'text/html')
    const good = await upload(chatId, 'photos', 'ok', 'image/gif')
    const notUploaded = (await api('GET', `/chats/${chatId}/photos/upload_url`)).body!.s3_path as string
    const theirs = await t.services.files.createUpload(other.tenant.id, { purpose: 'chat-media' })
    const before = await attachedCount()
    const refuse = (body: unknown, message: string) => expect(api('POST', `/chats/${chatId}/photos`, body)).resolves.toEqual({ status: 400, body: { message } })
    await refuse({}, 'param is missing or the value is empty: photo')
    await refuse({ photo: [] }, 'param is missing or the value is empty: photo')
    await refuse({ photo: [{ photo_type: 'photo' }] }, 'param is missing or the value is empty: s3_path')
    await refuse({ photo: [{ s3_path: good, photo_type: 'selfie' }] }, 'photo_type is invalid')
    await refuse({ photo: [{ s3_path: `${tt.tenant.id}/chat-media/00000000-0000-4000-8000-000000000000.png` }] }, 's3_path is not an upload of this chat')
    await refuse({ photo: [{ s3_path: '../../etc/passwd' }] }, 's3_path is not an upload of this chat')
    await refuse({ photo: [{ s3_path: issuedElsewhere }] }, 's3_path is not an upload of this chat')
    await refuse({ photo: [{ s3_path: theirs.key }] }, 's3_path is not an upload of this chat')
    await refuse({ photo: [{ s3_path: videoPath }] }, 's3_path is not an upload of this chat')
    await refuse({ photo: [{ s3_path: notUploaded }] }, 's3_path has not been uploaded')
    await refuse({ photo: [{ s3_path: textPath }] }, 's3_path is not an image')
    // All or none: a good one with a bad one attaches neither.
    await refuse({ photo: [{ s3_path: good }, { s3_path: notUploaded }] }, 's3_path has not been uploaded')
    expect(await api('POST', `/chats/${chatId}/videos`, { video: [{ s3_path: videoPath }] })).toEqual({ status: 400, body: { message: 'param is missing or the value is empty: video' } })
    expect(await api('GET', `/chats/${chatId}/photos/upload_url?content_type=text/html`)).toEqual({ status: 400, body: { message: 'content_type is not an image' } })
    expect(await attachedCount()).toBe(before)
    expect((await api('POST', `/chats/${chatId}/photos`, { photo: { s3_path: good } })).status).toBe(201)
    await refuse({ photo: [{ s3_path: good }] }, 's3_path is already attached')
    expect(await attachedCount()).toBe(before + 1)
  })

  it('sends an agent’s file: message_received carries its media_id, the tenant downloads it; other tenants see 404', async () => {
    const chatId = await assignedChat(90)
    const pdf = Buffer.from('%PDF-1.7 the invoice')
    const sent = await http('POST', `/agent/v1/chats/${chatId}/attachments?file_name=${encodeURIComponent('invoice 7.pdf')}`, { auth: ann, raw: pdf, type: 'application/pdf' })
    expect(sent.status, JSON.stringify(sent.body)).toBe(201)
    expect(sent.body).toMatchObject({ chat_id: chatId, type: 'file', content: 'invoice 7.pdf', from_agent_id: 1, media_id: expect.stringMatching(/^\d+$/) })
    const mediaId = sent.body!.media_id as string
    const hook = await waitFor('the message_received webhook', () => receiver.verified().find((h) => {
      const j = h.json as Json
      return j.type === 'message_received' && j.chat_id === chatId && j.data.media_id === mediaId
    }), 15_000)
    expect((hook.json as Json).data).toMatchObject({ type: 'file', from_agent_id: 1, from_user_id: null })

    const res = await fetch(`${t.url}/apps/api/v1/chats/${chatId}/media/${mediaId}`, { headers: { authorization: tt.ccaiAuth } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/pdf')
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''invoice%207.pdf")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(Buffer.from(await res.arrayBuffer())).toEqual(pdf)

    const png = await http('POST', `/agent/v1/chats/${chatId}/attachments`, { auth: ann, raw: Buffer.from('png'), type: 'image/png' })
    expect(png.body).toMatchObject({ type: 'photo', content: null })
    // An end user may answer with a file message naming the agent's media.
    expect((await api('POST', `/chats/${chatId}/message`, { from_user_id: await endUserNum(t.services, tt.tenant.id, 90), message: { type: 'file', media_id: mediaId } })).status).toBe(201)

    expect(await http('GET', `/apps/api/v1/chats/${chatId}/media/${mediaId}`, { auth: other.ccaiAuth })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await http('GET', `/apps/api/v1/chats/${chatId}/media/99999`, { auth: tt.ccaiAuth })).toEqual({ status: 404, body: { message: 'Not Found' } })
    expect(await http('GET', `/apps/api/v1/chats/${chatId}/media/abc`, { auth: tt.ccaiAuth })).toEqual({ status: 404, body: { message: 'Not Found' } })
    for (const path of [`/chats/${chatId}/photos`, `/chats/${chatId}/videos`, `/chats/${chatId}/photos/upload_url`, `/chats/${chatId}/videos/upload_url`]) {
      expect(await api('GET', path, undefined, other), path).toEqual({ status: 404, body: { message: 'Not Found' } })
    }
    expect(await api('POST', `/chats/${chatId}/videos`, { video: { s3_path: 'x' } }, other)).toEqual({ status: 404, body: { message: 'Not Found' } })
    // Not Ann's chat: 404, nothing stored.
    const before = await t.store.db.selectFrom('cc_media').select('id').where('tenant_id', '=', tt.tenant.id).execute()
    expect((await http('POST', `/agent/v1/chats/99999/attachments`, { auth: ann, raw: Buffer.from('x'), type: 'text/plain' })).status).toBe(404)
    expect(await t.store.db.selectFrom('cc_media').select('id').where('tenant_id', '=', tt.tenant.id).execute()).toEqual(before)
    expect((await http('POST', `/agent/v1/chats/${chatId}/attachments`, { auth: ann })).status).toBe(400)
  })

  it('refuses uploads and attachments on ended chats ("Chat is already ended") and on dismissed ones; downloads stay', async () => {
    const chatId = await assignedChat(91)
    const path = await upload(chatId, 'photos', 'late', 'image/png')
    const sent = await http('POST', `/agent/v1/chats/${chatId}/attachments`, { auth: ann, raw: Buffer.from('kept'), type: 'text/plain' })
    await t.store.db.updateTable('cc_sessions').set({ status: 'dismissed' }).where('tenant_id', '=', tt.tenant.id).where('num', '=', chatId).execute()
    expect(await api('POST', `/chats/${chatId}/photos`, { photo: [{ s3_path: path }] })).toEqual({ status: 400, body: { message: 'Chat is dismissed; resume it first' } })
    expect((await api('GET', `/chats/${chatId}/photos`)).status).toBe(200)
    await t.store.db.updateTable('cc_sessions').set({ status: 'assigned' }).where('tenant_id', '=', tt.tenant.id).where('num', '=', chatId).execute()
    expect((await http('POST', `/agent/v1/chats/${chatId}/end`, { auth: ann })).status).toBe(200)
    const ended = { status: 400, body: { message: 'Chat is already ended' } }
    expect(await api('POST', `/chats/${chatId}/photos`, { photo: [{ s3_path: path }] })).toEqual(ended)
    expect(await api('GET', `/chats/${chatId}/photos/upload_url`)).toEqual(ended)
    expect(await api('GET', `/chats/${chatId}/videos/upload_url`)).toEqual(ended)
    expect(await api('GET', `/chats/${chatId}/photos`)).toEqual(ended)
    expect(await api('GET', `/chats/${chatId}/videos`)).toEqual(ended)
    expect((await http('POST', `/agent/v1/chats/${chatId}/attachments`, { auth: ann, raw: Buffer.from('x'), type: 'text/plain' })).status).toBe(400)
    const res = await fetch(`${t.url}/apps/api/v1/chats/${chatId}/media/${sent.body!.media_id}`, { headers: { authorization: tt.ccaiAuth } })
    expect(await res.text()).toBe('kept')
  })
})
