import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'
import { startTestApp } from '../../../test/helpers/app.ts'
import { openTestStore } from '../../../test/helpers/store.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { Store } from '../../db/store.ts'
import { JobQueue } from '../../jobs/index.ts'
import { outboundWebhookJob } from '../../jobs/outbound-webhook.job.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { GuardedHttpClient } from '../../lib/url-safety.ts'
import { TenantsService } from '../tenants/index.ts'
import { OutboundWebhooksService, SEND_WEBHOOK_JOB, webhookJobKey, type OutboundWebhook, type WebhookTarget } from './index.ts'

// Outbound webhooks end to end: the service and its job on a pg-boss schema of this file's own
// (no other file's workers take these jobs), POSTing to real local receivers that check the
// signature with their own implementation of the recipe. The URL policy allows 127.0.0.1 only
// (as SWITCHBOARD_ALLOWED_URL_HOSTS would), so every other private address stays refused.
let store: Store
let jobs: JobQueue
let webhooks: OutboundWebhooksService
let http: GuardedHttpClient
const schema = `pgboss_webhooks_${randomUUID().slice(0, 8)}`
/** tenant → topic → target; what the WebhookTargets port answers. */
const targets = new Map<TenantId, Map<string, WebhookTarget>>()
/** Every question the port was asked, in order. */
const asked: Array<{ tenantId: TenantId; topic: string }> = []
const receivers: WebhookReceiver[] = []

beforeAll(async () => {
  store = await openTestStore()
  jobs = new JobQueue({ db: store.db, url: store.url, schema, poolSize: 3 })
  http = new GuardedHttpClient({ policy: { allowPrivate: false, allowedHosts: ['127.0.0.1'] } })
  webhooks = new OutboundWebhooksService(store.db, jobs, {
    http,
    timeoutMs: 1500,
    // Long: an event waiting behind an earlier one must be woken when that one settles, not by this.
    orderRecheckMs: 60_000,
    targets: {
      async resolve(tenantId, topic) {
        asked.push({ tenantId, topic })
        return targets.get(tenantId)?.get(topic) ?? null
      },
    },
  })
  jobs.define(outboundWebhookJob({ webhooks, retry: { retryDelaySeconds: 1, retryLimit: 3 } }))
  await jobs.start()
  await jobs.work({ pollingIntervalSeconds: 0.5 })
})
afterAll(async () => {
  await jobs?.stop({ timeoutMs: 2000 })
  http?.close()
  for (const r of receivers) await r.close()
  if (store) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(store.db)
  await store?.close()
})

async function tenant(): Promise<TenantId> {
  return (await new TenantsService(store.db, Buffer.alloc(32, 7)).create(`Hooks ${randomUUID()}`)).tenant.id
}
async function receiver(secrets: string[]): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(secrets)
  receivers.push(r)
  return r
}
function target(tenantId: TenantId, topic: string, url: string, secrets: string[]): void {
  const mine = targets.get(tenantId) ?? new Map<string, WebhookTarget>()
  mine.set(topic, { url, secrets })
  targets.set(tenantId, mine)
}
const event = (type: string, chatId: number, data: object = {}) => ({ type, chat_id: chatId, timestamp: new Date().toISOString(), data })
const settled = (tenantId: TenantId, id: string, timeoutMs = 20_000) => waitFor(`event ${id} to settle`, async () => {
  const w = await webhooks.get(tenantId, id)
  return w && w.status !== 'pending' ? w : undefined
}, timeoutMs)
const jobKey = (id: string) => jobs.findKey(SEND_WEBHOOK_JOB, webhookJobKey(id))

describe('delivery', () => {
  it('POSTs the exact bytes enqueued, signed with the one secret (primary= only), and records the delivery', async () => {
    const a = await tenant()
    const peer = await receiver(['s3cret-one'])
    target(a, 'chat.message_received', `${peer.url}/hooks/chat`, ['s3cret-one'])
    const body = event('message_received', 7, { text: 'héllo “quoted” ✓', nested: { b: 1, a: [1, 2] } })
    const { webhook, created } = await webhooks.enqueue(store.db, a, { topic: 'chat.message_received', body, idempotencyKey: `m-${randomUUID()}` })
    expect(created).toBe(true)
    expect(webhook).toMatchObject({ tenantId: a, status: 'pending', attempts: 0, body: JSON.stringify(body) })
    const done = await settled(a, webhook.id)
    expect(done).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 204, url: `${peer.url}/hooks/chat`, lastError: null, lastErrorCode: null })
    expect(done.deliveredAt).toBeInstanceOf(Date)
    expect(peer.received).toHaveLength(1)
    const got = peer.received[0]!
    expect(got).toMatchObject({ path: '/hooks/chat', matchedSecret: 0, body: JSON.stringify(body) })
    expect(got.signature).toMatch(/^primary=[A-Za-z0-9+/]+=*$/)
    expect(got.timestamp).toMatch(/^\d{10}$/)
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).toBeLessThan(60)
    expect(got.headers).toMatchObject({ 'content-type': 'application/json', 'x-webhook-id': webhook.id, 'x-webhook-topic': 'chat.message_received' })
    expect(JSON.parse(got.body)).toEqual(body)
    expect(await jobKey(webhook.id)).toMatchObject({ state: 'completed', tenantId: a })
  })

  it('signs with both secrets during a rotation: a consumer holding either one verifies', async () => {
    const a = await tenant()
    const oldOnly = await receiver(['old-secret'])
    const newOnly = await receiver(['new-secret'])
    target(a, 'chat.chat_ended', oldOnly.url, ['new-secret', 'old-secret'])
    target(a, 'chat.chat_dismissed', newOnly.url, ['new-secret', 'old-secret'])
    const one = await webhooks.enqueue(store.db, a, { topic: 'chat.chat_ended', body: event('chat_ended', 1), idempotencyKey: 'end-1' })
    const two = await webhooks.enqueue(store.db, a, { topic: 'chat.chat_dismissed', body: event('chat_dismissed', 2), idempotencyKey: 'dismiss-2' })
    expect((await settled(a, one.webhook.id)).status).toBe('delivered')
    expect((await settled(a, two.webhook.id)).status).toBe('delivered')
    for (const peer of [oldOnly, newOnly]) {
      expect(peer.received).toHaveLength(1)
      expect(peer.received[0]!.signature).toMatch(/^primary=\S+ secondary=\S+$/)
      expect(peer.received[0]!.matchedSecret).toBe(0)
    }
    // The receiver with only the old secret matched the secondary signature: its signature differs from the primary.
    const [primary, secondary] = oldOnly.received[0]!.signature!.split(' ')
    expect(primary!.slice(8)).not.toBe(secondary!.slice(10))
  })

  it('retries 500s with backoff and delivers the same bytes; the attempts and last answer are recorded', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat.participant_joined', peer.url, ['k'])
    peer.failNext(2, { status: 500 })
    const { webhook } = await webhooks.enqueue(store.db, a, { topic: 'chat.participant_joined', body: event('participant_joined', 3, { id: 9 }), idempotencyKey: 'join' })
    // Between attempts the event stays pending with the last answer.
    await waitFor('the first failure', async () => (await webhooks.get(a, webhook.id))?.attempts === 1)
    expect(await webhooks.get(a, webhook.id)).toMatchObject({ status: 'pending', responseStatus: 500, lastErrorCode: 'http_error', lastError: expect.stringContaining('HTTP 500') })
    const done = await settled(a, webhook.id)
    expect(done).toMatchObject({ status: 'delivered', attempts: 3, responseStatus: 204, lastError: null })
    expect(peer.received.map((r) => r.answered)).toEqual([500, 500, 204])
    expect(new Set(peer.received.map((r) => r.body))).toEqual(new Set([webhook.body]))
    expect(peer.received.every((r) => r.matchedSecret === 0)).toBe(true)
  })

  it('retries a timeout (and 429) and delivers', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat.participant_left', peer.url, ['k'])
    peer.failNext(1, { status: 204, delayMs: 2500 })
    peer.failNext(1, { status: 429, retryAfterSeconds: 1 })
    const { webhook } = await webhooks.enqueue(store.db, a, { topic: 'chat.participant_left', body: event('participant_left', 4), idempotencyKey: 'left' })
    const done = await settled(a, webhook.id)
    expect(done).toMatchObject({ status: 'delivered', attempts: 3 })
    expect(peer.received).toHaveLength(3)
  })

  it('fails a 400 at once: not retried, the answer recorded, the job dead-lettered', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat.message_received', peer.url, ['k'])
    peer.failNext(1, { status: 400 })
    const { webhook } = await webhooks.enqueue(store.db, a, { topic: 'chat.message_received', body: event('message_received', 5), idempotencyKey: 'bad' })
    const done = await settled(a, webhook.id)
    expect(done).toMatchObject({ status: 'failed', attempts: 1, responseStatus: 400, lastErrorCode: 'http_error', lastError: 'HTTP 400: failing on purpose (400)', deliveredAt: null })
    await waitFor('the dead key', async () => (await jobKey(webhook.id))?.state === 'dead')
    // The retry delay is 1-2 s: a retry would have come by now.
    await new Promise((r) => setTimeout(r, 2500))
    expect(peer.received).toHaveLength(1)
    expect((await webhooks.get(a, webhook.id))?.attempts).toBe(1)
  })

  it('gives up after the bounded retries, keeping the last error', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat.chat_ended', peer.url, ['k'])
    peer.failNext(10, { status: 503 })
    const { webhook } = await webhooks.enqueue(store.db, a, { topic: 'chat.chat_ended', body: event('chat_ended', 6), idempotencyKey: 'down' })
    const done = await settled(a, webhook.id, 30_000)
    expect(done).toMatchObject({ status: 'failed', attempts: 4, responseStatus: 503, lastErrorCode: 'http_error', lastError: expect.stringContaining('HTTP 503') })
    expect(peer.received).toHaveLength(4)
  })
})

describe('the outbound URL policy', () => {
  it('refuses private, metadata and loopback-named targets without connecting, and never retries them', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    const port = new URL(peer.url).port
    const refused = [`http://localhost:${port}/`, 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/hook', `http://[::1]:${port}/`]
    const results: OutboundWebhook[] = []
    for (const [i, url] of refused.entries()) {
      target(a, `refused.${i}`, url, ['k'])
      const { webhook } = await webhooks.enqueue(store.db, a, { topic: `refused.${i}`, body: { i }, idempotencyKey: `refused-${i}` })
      results.push(await settled(a, webhook.id))
    }
    for (const [i, w] of results.entries()) {
      expect(w, refused[i]).toMatchObject({ status: 'failed', attempts: 0, lastErrorCode: 'unsafe_url', url: refused[i] })
      await waitFor('the dead key', async () => (await jobKey(w.id))?.state === 'dead')
    }
    expect(results[1]!.lastError).toContain('metadata')
    expect(peer.received).toHaveLength(0)
  })

  it('refuses a URL that is not http(s) or carries credentials, and a target without secrets', async () => {
    const a = await tenant()
    target(a, 'x.ftp', 'ftp://example.org/hook', ['k'])
    target(a, 'x.creds', 'http://user:pw@127.0.0.1:1/hook', ['k'])
    target(a, 'x.nosecret', 'http://127.0.0.1:1/hook', [])
    for (const topic of ['x.ftp', 'x.creds', 'x.nosecret']) {
      const { webhook } = await webhooks.enqueue(store.db, a, { topic, body: {}, idempotencyKey: topic })
      expect(await settled(a, webhook.id), topic).toMatchObject({ status: 'failed', attempts: 0, lastErrorCode: 'invalid_target' })
    }
  })
})

describe('idempotency, tenants and order', () => {
  it('enqueues once per key per tenant: the same key again (at once, or later) sends nothing more', async () => {
    const a = await tenant()
    const b = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat.message_received', peer.url, ['k'])
    target(b, 'chat.message_received', peer.url, ['k'])
    const input = { topic: 'chat.message_received', body: event('message_received', 10), idempotencyKey: 'msg-10' }
    const results = await Promise.all([1, 2, 3].map(() => webhooks.enqueue(store.db, a, input)))
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(results.map((r) => r.webhook.id)).size).toBe(1)
    const id = results[0]!.webhook.id
    await settled(a, id)
    const again = await webhooks.enqueue(store.db, a, { ...input, body: event('message_received', 10, { changed: true }) })
    expect(again).toMatchObject({ created: false, webhook: { id, status: 'delivered', body: results[0]!.webhook.body } })
    // Another tenant's event with the same key is its own.
    const theirs = await webhooks.enqueue(store.db, b, input)
    expect(theirs.created).toBe(true)
    await settled(b, theirs.webhook.id)
    await new Promise((r) => setTimeout(r, 500))
    expect(peer.received.map((r) => r.headers['x-webhook-id'])).toEqual([id, theirs.webhook.id])
  })

  it('joins the caller’s transaction: a rollback leaves no event and no job', async () => {
    const a = await tenant()
    await expect(store.db.transaction().execute(async (trx) => {
      await webhooks.enqueue(trx, a, { topic: 'chat.chat_ended', body: {}, idempotencyKey: 'rolled-back' })
      throw new Error('the change that caused it failed')
    })).rejects.toThrow('the change that caused it failed')
    expect(await webhooks.list(a)).toEqual([])
    const { webhook } = await store.db.transaction().execute((trx) => webhooks.enqueue(trx, a, { topic: 'chat.chat_ended', body: {}, idempotencyKey: 'committed' }))
    webhooks.wake()
    expect(await settled(a, webhook.id)).toMatchObject({ status: 'dropped', lastErrorCode: 'no_target' })
  })

  it('keeps tenants apart: each job asks for and uses its own tenant’s target only', async () => {
    const a = await tenant()
    const b = await tenant()
    const c = await tenant()
    const peerA = await receiver(['secret-a'])
    const peerB = await receiver(['secret-b'])
    target(a, 'chat.message_received', peerA.url, ['secret-a'])
    target(b, 'chat.message_received', peerB.url, ['secret-b'])
    const fromA = await webhooks.enqueue(store.db, a, { topic: 'chat.message_received', body: event('message_received', 1, { from: 'a' }), idempotencyKey: 'same' })
    const fromB = await webhooks.enqueue(store.db, b, { topic: 'chat.message_received', body: event('message_received', 1, { from: 'b' }), idempotencyKey: 'same' })
    // C has no target: its event is dropped, and never goes to A's or B's.
    const fromC = await webhooks.enqueue(store.db, c, { topic: 'chat.message_received', body: event('message_received', 1, { from: 'c' }), idempotencyKey: 'same' })
    expect((await settled(a, fromA.webhook.id)).status).toBe('delivered')
    expect((await settled(b, fromB.webhook.id)).status).toBe('delivered')
    expect(await settled(c, fromC.webhook.id)).toMatchObject({ status: 'dropped', attempts: 0, lastErrorCode: 'no_target', lastError: 'no webhook target for chat.message_received' })
    expect(peerA.verified().map((r) => r.json)).toEqual([JSON.parse(fromA.webhook.body)])
    expect(peerB.verified().map((r) => r.json)).toEqual([JSON.parse(fromB.webhook.body)])
    expect(peerA.received).toHaveLength(1)
    expect(peerB.received).toHaveLength(1)
    expect(asked.filter((q) => q.tenantId === c)).toEqual([{ tenantId: c, topic: 'chat.message_received' }])
    // One tenant's id cannot reach another's event, through the job or the reads.
    await webhooks.attempt(b, fromA.webhook.id)
    expect(await webhooks.get(b, fromA.webhook.id)).toBeUndefined()
    expect((await webhooks.list(b)).map((w) => w.id)).toEqual([fromB.webhook.id])
    expect(peerA.received).toHaveLength(1)
  })

  it('delivers the events of one ordering key in enqueue order, holding later ones while an earlier one retries', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat', peer.url, ['k'])
    peer.failNext(2, { status: 502 })
    const chat = `chat:${randomUUID()}`
    const types = ['participant_joined', 'message_received', 'message_received', 'participant_left', 'chat_ended']
    const enqueued = await store.db.transaction().execute(async (trx) => {
      const out: OutboundWebhook[] = []
      for (const [i, type] of types.entries()) out.push((await webhooks.enqueue(trx, a, { topic: 'chat', body: event(type, 42, { n: i }), idempotencyKey: `${chat}:${i}`, orderingKey: chat })).webhook)
      return out
    })
    webhooks.wake()
    for (const w of enqueued) expect((await settled(a, w.id)).status).toBe('delivered')
    const delivered = peer.received.filter((r) => r.answered === 204).map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n)
    expect(delivered).toEqual([0, 1, 2, 3, 4])
    // Only the first event met the failures; the others waited without an attempt.
    expect(peer.received.slice(0, 3).map((r) => [(JSON.parse(r.body) as { data: { n: number } }).data.n, r.answered])).toEqual([[0, 502], [0, 502], [0, 204]])
    expect((await Promise.all(enqueued.map((w) => webhooks.get(a, w.id)))).map((w) => w!.attempts)).toEqual([3, 1, 1, 1, 1])
  })

  it('lets the next event of the key go when an earlier one fails for good', async () => {
    const a = await tenant()
    const peer = await receiver(['k'])
    target(a, 'chat', peer.url, ['k'])
    peer.failNext(1, { status: 410 })
    const key = `chat:${randomUUID()}`
    const first = await webhooks.enqueue(store.db, a, { topic: 'chat', body: { n: 0 }, idempotencyKey: `${key}:0`, orderingKey: key })
    const second = await webhooks.enqueue(store.db, a, { topic: 'chat', body: { n: 1 }, idempotencyKey: `${key}:1`, orderingKey: key })
    expect((await settled(a, first.webhook.id)).status).toBe('failed')
    expect((await settled(a, second.webhook.id)).status).toBe('delivered')
    expect(peer.received.map((r) => [r.body, r.answered])).toEqual([['{"n":0}', 410], ['{"n":1}', 204]])
  })
})

describe('enqueue checks', () => {
  it('refuses what a caller got wrong, writing nothing', async () => {
    const a = await tenant()
    const bad: Array<Record<string, unknown>> = [
      { topic: '', body: {}, idempotencyKey: 'k' },
      { topic: 'has space', body: {}, idempotencyKey: 'k' },
      { topic: 't', body: {}, idempotencyKey: '' },
      { topic: 't', body: {}, idempotencyKey: 'x'.repeat(201) },
      { topic: 't', body: 'text', idempotencyKey: 'k' },
      { topic: 't', body: null, idempotencyKey: 'k' },
      { topic: 't', body: { big: 'y'.repeat(262_144) }, idempotencyKey: 'k' },
      { topic: 't', body: {}, idempotencyKey: 'k', orderingKey: '' },
    ]
    for (const input of bad) await expect(webhooks.enqueue(store.db, a, input as never), JSON.stringify(input).slice(0, 60)).rejects.toThrow(TypeError)
    expect(await webhooks.list(a)).toEqual([])
  })
})

describe('as wired in the services', () => {
  // createServices builds the service over the configured URL policy: private addresses (the local
  // receiver) are refused unless SWITCHBOARD_ALLOW_PRIVATE_URLS allows them.
  for (const allow of [false, true]) {
    it(`${allow ? 'delivers to' : 'refuses'} a private address with SWITCHBOARD_ALLOW_PRIVATE_URLS=${allow}`, async () => {
      const peer = await receiver(['k'])
      const own = `pgboss_webhooks_${randomUUID().slice(0, 8)}`
      const t = await startTestApp({
        config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: String(allow) },
        services: { jobs: { schema: own }, webhookTargets: { resolve: async () => ({ url: peer.url, secrets: ['k'] }) } },
      })
      try {
        await t.services.jobs.work({ pollingIntervalSeconds: 0.5 })
        const a = await tenant()
        const { webhook } = await t.services.outboundWebhooks.enqueue(t.store.db, a, { topic: 'chat', body: { allow }, idempotencyKey: 'wired' })
        const done = await waitFor('the event to settle', async () => {
          const w = await t.services.outboundWebhooks.get(a, webhook.id)
          return w && w.status !== 'pending' ? w : undefined
        })
        expect(done).toMatchObject(allow ? { status: 'delivered', attempts: 1 } : { status: 'failed', attempts: 0, lastErrorCode: 'unsafe_url' })
        expect(peer.received).toHaveLength(allow ? 1 : 0)
      } finally {
        await t.close()
        await sql`DROP SCHEMA IF EXISTS ${sql.id(own)} CASCADE`.execute(store.db)
      }
    })
  }
})
