import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { silentNotifier } from '../../db/notifier.ts'
import { createServices } from '../../services.ts'
import { buildApp } from '../../app.ts'
import { createMetrics } from '../../http/metrics.ts'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { startServer } from '../../../test/helpers/process.ts'
import { openSse } from '../../../test/helpers/sse.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { contrastRatio, normalizeHex, readableOnWhite, textColorOn } from './contrast.ts'
import { TEST_THREADS } from '../../../test/fixtures/embed-threads.ts'

// The web chat embed through real HTTP: the page and its parameters, sessions, history, the live
// stream (and its resume), bad input, rate limits, and live delivery across processes.


let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp({ workers: true, listen: true })
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  await t.services.threads.load(acme.tenant, TEST_THREADS, 'yaml')
})
afterAll(async () => t?.close())

type Json = Record<string, unknown>
type Msg = { id: string; cursor: string; direction: string; text: string; quick_replies: string[]; pending: boolean }

const company = (tt: TestTenant) => tt.credentials.cass.client
const code = (tt: TestTenant) => tt.tenant.embedCode
const api = (tt: TestTenant) => `/embed/1/${company(tt)}/api`

async function post(path: string, body: unknown) {
  const r = await t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  return { status: r.statusCode, body: JSON.parse(r.body) as Json, headers: r.headers }
}
async function get(path: string) {
  const r = await t.app.inject({ url: path })
  return { status: r.statusCode, text: r.body, headers: r.headers }
}
async function session(tt: TestTenant, extra: Json = {}) {
  const r = await post(`${api(tt)}/session`, { auth_code: code(tt), ...extra })
  expect(r.status).toBe(200)
  return r.body as { token: string; person_id: string; anonymous: boolean; created: boolean; started_thread: string | null }
}
async function history(tt: TestTenant, token: string) {
  const r = await get(`${api(tt)}/messages?auth_code=${code(tt)}&token=${token}`)
  expect(r.status).toBe(200)
  return JSON.parse(r.text) as { messages: Msg[]; cursor: string }
}
const say = (tt: TestTenant, token: string, text: string) => post(`${api(tt)}/messages`, { auth_code: code(tt), token, text })
const stream = (tt: TestTenant, token: string, after = '0', headers: Record<string, string> = {}, base = t.url) =>
  openSse(`${base}${api(tt)}/events?auth_code=${code(tt)}&token=${token}&after=${after}`, headers)
const dataOf = (e: { data: string }) => JSON.parse(e.data) as Msg

/** The page's inline config. */
function pageConfig(html: string): Json {
  const m = /<script type="application\/json" id="sb-config">(.*?)<\/script>/s.exec(html)
  return JSON.parse(m![1]!) as Json
}

describe('GET /embed/1/{company}', () => {
  it('serves the chat page with every documented parameter, escaped, frameable, with a strict CSP', async () => {
    const q = new URLSearchParams({
      auth_code: code(acme), name: 'Tess <b>', color: '228fb1', avatar: 'https://cdn.example.org/tess.png', intro: 'Welcome. I would love to get to know you more,?\'',
      threadId: 'other', is_rounded: 'false', show_header: 'true',
    })
    const r = await get(`/embed/1/${company(acme)}?${q}`)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(r.headers['content-security-policy']).toContain("script-src 'self'")
    expect(r.headers['content-security-policy']).toContain('frame-ancestors *')
    expect(r.headers['x-frame-options']).toBeUndefined()
    expect(r.headers['referrer-policy']).toBe('no-referrer')
    expect(r.text).toContain('<title>Chat with Tess &lt;b&gt;</title>')
    expect(r.text).not.toContain('<b>')
    expect(r.text).toContain('src="https://cdn.example.org/tess.png"')
    expect(r.text).toContain('Welcome. I would love to get to know you more,?&#39;')
    expect(r.text).toContain('class="sb-square"')
    const cfg = pageConfig(r.text)
    expect(cfg).toMatchObject({ company: company(acme), authCode: code(acme), name: 'Tess <b>', threadId: 'other', personId: null, color: '#228fb1', colorText: '#000000', popup: false })

    // Defaults: rounded, header shown, the bot avatar served here, no intro.
    const d = await get(`/embed/1/${company(acme)}?auth_code=${code(acme)}&threadId=&personId=`)
    expect(d.status).toBe(200)
    expect(d.text).toContain('class="sb-rounded"')
    expect(d.text).toContain('src="/embed/assets/avatar.svg"')
    expect(d.text).not.toContain('<header class="sb-header" hidden')
    expect(pageConfig(d.text)).toMatchObject({ name: 'Assistant', threadId: null, personId: null })
    expect((await get(`/embed/1/${company(acme)}?auth_code=${code(acme)}&show_header=false`)).text).toContain('<header class="sb-header" hidden>')
  })

  it('picks black or white text for any colour, always at WCAG AA contrast', async () => {
    const dark = pageConfig((await get(`/embed/1/${company(acme)}?auth_code=${code(acme)}&color=000080`)).text)
    expect(dark).toMatchObject({ color: '#000080', colorText: '#ffffff', colorInk: '#000080' })
    const light = pageConfig((await get(`/embed/1/${company(acme)}?auth_code=${code(acme)}&color=FF0`)).text)
    expect(light).toMatchObject({ color: '#ffff00', colorText: '#000000' })
    expect(contrastRatio(String(light.colorInk).slice(1), 'ffffff')).toBeGreaterThanOrEqual(4.5)
    for (let i = 0; i < 4096; i += 7) {
      const hex = normalizeHex(i.toString(16).padStart(3, '0'))!
      expect(contrastRatio(hex, textColorOn(hex))).toBeGreaterThanOrEqual(4.5)
      expect(contrastRatio(readableOnWhite(hex), 'ffffff')).toBeGreaterThanOrEqual(4.5)
    }
  })

  it('answers friendly error pages: 404 for a wrong company, auth_code or person, 400 for a bad parameter', async () => {
    const cases: Array<[string, number, string]> = [
      [`/embed/1/${company(acme)}?auth_code=wrong`, 404, 'This chat link is not valid'],
      [`/embed/1/no-such-company?auth_code=${code(acme)}`, 404, 'This chat link is not valid'],
      // Another tenant's code does not open this tenant's chat.
      [`/embed/1/${company(acme)}?auth_code=${code(other)}`, 404, 'This chat link is not valid'],
      [`/embed/1/${company(acme)}`, 400, 'no auth_code'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&color=%23228fb1`, 400, 'hex colour'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&color=blue`, 400, 'hex colour'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&avatar=javascript:alert(1)`, 400, 'http or https'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&is_rounded=maybe`, 400, 'true or false'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&personId=10f5ddba-c63d-46aa-898a-ec478ba38f24`, 404, 'names a person'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&personId=not-an-id`, 404, 'names a person'],
      [`/embed/1/${company(acme)}?auth_code=${code(acme)}&threadId=no_such_thread`, 400, 'does not exist'],
    ]
    for (const [url, status, text] of cases) {
      const r = await get(url)
      expect([url, r.status]).toEqual([url, status])
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(r.text).toContain(text)
    }
  })

  it('serves the popup script and the page assets with validators', async () => {
    for (const [path, type] of [['/embed/popup.js', 'text/javascript'], ['/embed/assets/chat.js', 'text/javascript'], ['/embed/assets/chat.css', 'text/css'], ['/embed/assets/avatar.svg', 'image/svg+xml']]) {
      const r = await get(path!)
      expect(r.status).toBe(200)
      expect(String(r.headers['content-type'])).toContain(type!)
      const again = await t.app.inject({ url: path!, headers: { 'if-none-match': String(r.headers.etag) } })
      expect(again.statusCode).toBe(304)
    }
  })
})

describe('sessions', () => {
  it('creates an anonymous web person once, remembers them by the signed token, and starts the default thread once', async () => {
    const peopleBefore = await countPeople(acme)
    const first = await session(acme)
    expect(first).toMatchObject({ anonymous: true, created: true, started_thread: 'welcome', person_id: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    const again = await session(acme, { token: first.token })
    expect(again).toMatchObject({ person_id: first.person_id, anonymous: true, created: false, started_thread: null, token: first.token })
    expect(await countPeople(acme)).toBe(peopleBefore + 1)
    const person = await t.services.people.getByRef(acme.tenant, first.person_id)
    expect(person).toMatchObject({ protocol: 'web', phone: null, externalId: null })

    // A forged or foreign token is a new visitor, never someone else.
    const forged = first.token.slice(0, -2) + (first.token.endsWith('AA') ? 'BB' : 'AA')
    expect((await session(acme, { token: forged })).person_id).not.toBe(first.person_id)
    const elsewhere = await session(other, { token: first.token })
    expect(elsewhere.person_id).not.toBe(first.person_id)
    expect(elsewhere.started_thread).toBeNull() // the other tenant has no content
  })

  it('opens an identified session for the tenant’s person by UUID, and refuses a guessable legacy id and another tenant’s', async () => {
    const { person } = await t.services.people.create(acme.tenant, { externalId: `web-${Date.now()}`, protocol: 'web', firstName: 'Jane' })
    const s = await session(acme, { person_id: person.cassId, thread_id: 'other' })
    expect(s).toMatchObject({ person_id: person.cassId, anonymous: false, created: false, started_thread: 'other' })
    const legacy = await post(`${api(acme)}/session`, { auth_code: code(acme), person_id: person.legacyId })
    expect(legacy).toMatchObject({ status: 404, body: { message: 'Unknown personId' } })
    const foreign = await post(`${api(other)}/session`, { auth_code: code(other), person_id: person.cassId })
    expect(foreign).toMatchObject({ status: 404, body: { message: 'Unknown personId' } })
    const h = await waitFor('the thread’s message', async () => {
      const r = await history(acme, s.token)
      return r.messages.length > 0 && r
    })
    expect(h.messages.map((m) => m.text)).toEqual(['This is the other thread.'])
  })
})

describe('chatting', () => {
  it('streams the bot’s answers live with quick replies, keeps the history, and resumes after a cursor without loss or repeats', async () => {
    const s = await session(acme)
    const live = await stream(acme, s.token, '0')
    expect(live.status).toBe(200)
    expect(live.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const opening = (await live.waitFor(2)).map(dataOf)
    expect(opening.map((m) => [m.direction, m.text, m.quick_replies])).toEqual([
      ['out', "Hi there! I'm the test bot.", []],
      ['out', 'How are you feeling today?', ['Good', 'Not great']],
    ])
    expect(live.events.map((e) => e.id)).toEqual(opening.map((m) => m.cursor))

    const sent = await say(acme, s.token, 'good')
    expect(sent.status).toBe(202)
    const mine = (sent.body as { message: Msg }).message
    expect(mine).toMatchObject({ direction: 'in', text: 'good', pending: true, quick_replies: [] })
    const all = (await live.waitFor(5)).map(dataOf)
    expect(all.slice(2).map((m) => [m.direction, m.text, m.quick_replies])).toEqual([
      ['in', 'good', []],
      ['out', 'Glad to hear it!', []],
      ['out', 'Want a tip for the day?', ['Yes please', 'No thanks']],
    ])
    // The person's own message comes back with the id the POST answered (the page de-duplicates).
    expect(all[2]!.id).toBe(mine.id)
    // Cursors only grow.
    const cursors = all.map((m) => BigInt(m.cursor))
    expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors)

    // A reload: the history is the same conversation, and the cursor is its end.
    const h = await history(acme, s.token)
    expect(h.messages.map((m) => m.text)).toEqual(all.map((m) => m.text))
    expect(h.cursor).toBe(all[4]!.cursor)
    live.close()

    // Reconnect with Last-Event-ID (what EventSource sends): exactly what came after it.
    await say(acme, s.token, 'Yes please')
    const resumed = await stream(acme, s.token, '0', { 'last-event-id': all[4]!.cursor })
    const rest = (await resumed.waitFor(2)).map(dataOf)
    expect(rest.map((m) => m.text)).toEqual(['Yes please', 'Drink a glass of water.'])
    const after = await stream(acme, s.token, all[2]!.cursor)
    expect((await after.waitFor(4)).map((e) => dataOf(e).text)).toEqual(['Glad to hear it!', 'Want a tip for the day?', 'Yes please', 'Drink a glass of water.'])
    resumed.close()
    after.close()
  })

  it('keeps people apart: a token opens only its own chat, and only in its tenant', async () => {
    const a = await session(acme)
    const b = await session(acme)
    await say(acme, a.token, 'bad')
    await waitFor('a’s answer', async () => (await history(acme, a.token)).messages.some((m) => m.text === "I'm sorry to hear that."))
    expect((await history(acme, b.token)).messages.map((m) => m.text)).not.toContain('bad')
    const foreign = await get(`${api(other)}/messages?auth_code=${code(other)}&token=${a.token}`)
    expect(foreign.status).toBe(401)
  })

  it('refuses bad input with 4xx and writes nothing', async () => {
    const s = await session(acme)
    const inbound = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM inbound_messages WHERE tenant_id = ${acme.tenant.id}`.execute(t.store.db)).rows[0]!.n)
    const before = await inbound()
    const bad: Array<[Json, number, string]> = [
      [{ auth_code: code(acme), token: s.token, text: '' }, 400, 'text must NOT have fewer than 1 characters'],
      [{ auth_code: code(acme), token: s.token, text: '   ' }, 400, 'text must be 1-2000 characters'],
      [{ auth_code: code(acme), token: s.token, text: 'x'.repeat(2001) }, 400, 'text must NOT have more than 2000 characters'],
      [{ auth_code: code(acme), token: s.token, text: 'a\u0000b' }, 400, 'text must be 1-2000 characters'],
      [{ auth_code: code(acme), token: s.token }, 400, 'text is required'],
      [{ auth_code: code(acme), text: 'hi' }, 400, 'token is required'],
      [{ auth_code: code(acme), token: s.token, text: 'hi', extra: 1 }, 400, 'Unknown parameter extra'],
      [{ auth_code: code(acme), token: 'nope', text: 'hi' }, 401, 'the chat session is not valid; reload the page'],
      [{ auth_code: 'wrong', token: s.token, text: 'hi' }, 404, 'Unknown company or auth_code'],
      [{ auth_code: code(acme), token: s.token, text: ['a', 'b'] }, 400, 'text must be string'],
      [{ auth_code: code(acme), token: s.token, text: { a: 1 } }, 400, 'text must be string'],
    ]
    for (const [body, status, message] of bad) {
      const r = await post(`${api(acme)}/messages`, body)
      expect([JSON.stringify(body).slice(0, 80), r.status, r.body]).toEqual([JSON.stringify(body).slice(0, 80), status, { message }])
    }
    const notJson = await t.app.inject({ method: 'POST', url: `${api(acme)}/messages`, headers: { 'content-type': 'application/json' }, payload: '{"auth_code":' })
    expect(notJson.statusCode).toBe(400)
    expect((await get(`${api(acme)}/messages?auth_code=${code(acme)}&token=${s.token}&limit=0`)).status).toBe(400)
    expect((await get(`${api(acme)}/events?auth_code=${code(acme)}&token=${s.token}&after=-1`)).status).toBe(400)
    expect((await get(`${api(acme)}/events?auth_code=${code(acme)}&token=nope`)).status).toBe(401)
    expect((await post(`${api(acme)}/session`, { auth_code: code(acme), thread_id: 'no_such_thread' })).status).toBe(400)
    expect(await inbound()).toBe(before)
  })

  it('limits how fast one session can write (429 with Retry-After)', async () => {
    const s = await session(other)
    const statuses: number[] = []
    let retryAfter: unknown
    for (let i = 0; i < 31; i++) {
      const r = await say(other, s.token, `message ${i}`)
      statuses.push(r.status)
      if (r.status === 429) retryAfter = r.headers['retry-after']
    }
    expect(statuses.slice(0, 30).every((c) => c === 202)).toBe(true)
    expect(statuses[30]).toBe(429)
    expect(Number(retryAfter)).toBeGreaterThan(0)
  })

  it('documents its JSON endpoints in the OpenAPI document under the embed tag', async () => {
    const doc = JSON.parse((await get('/openapi/cass.json')).text) as { paths: Record<string, Record<string, { tags?: string[] }>> }
    for (const [path, method] of [['/embed/1/{company}/api/session', 'post'], ['/embed/1/{company}/api/messages', 'get'], ['/embed/1/{company}/api/messages', 'post'], ['/embed/1/{company}/api/events', 'get']]) {
      expect(doc.paths[path!]?.[method!]?.tags).toEqual(['embed'])
    }
  })
})

describe('several API processes', () => {
  it('delivers the bot’s answers live to a page connected to another process', async () => {
    if (inject('store') === 'postgres') {
      // A real second process: `switchboard api` on the same database, the bot's workers here.
      const server = await startServer({ DATABASE_URL: inject('databaseUrl'), SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/tmp/sjc-embed-test-data' }, 'api')
      try {
        await chatAcross(server.url)
      } finally {
        await server.stop()
      }
    } else {
      // The embedded store lives in this process; a process borrowing it hears no notifications
      // (as `embedded-remote` does) and must still deliver, by looking periodically.
      const services = createServices(t.config, { ...t.store, notifier: silentNotifier(), close: async () => {} })
      const second = await buildApp({ services, metrics: createMetrics(), logger: false })
      const url = await second.listen({ port: 0, host: '127.0.0.1' })
      try {
        await chatAcross(url)
      } finally {
        await second.close()
      }
    }
  })
})

/** Open the stream on `otherUrl`, write through this process: the answer arrives there. */
async function chatAcross(otherUrl: string) {
  const s = await session(acme)
  const h = await waitFor('the opening', async () => {
    const r = await history(acme, s.token)
    return r.messages.length === 2 && r
  })
  const live = await stream(acme, s.token, h.cursor, {}, otherUrl)
  try {
    expect(live.status).toBe(200)
    await say(acme, s.token, 'awful')
    const got = (await live.waitFor(3)).map(dataOf)
    expect(got.map((m) => m.text)).toEqual(['awful', "I'm sorry to hear that.", 'What is on your mind?'])
  } finally {
    live.close()
  }
}

async function countPeople(tt: TestTenant): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*) AS n FROM people WHERE tenant_id = ${tt.tenant.id}`.execute(t.store.db)
  return Number(r.rows[0]!.n)
}
