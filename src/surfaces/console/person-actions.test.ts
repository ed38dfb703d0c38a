import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import type { ConsoleRole } from '../../core/console/index.ts'

// The console's person actions (issue 11, second slice) through HTTP on a real store: edit a
// person, add and lift suppressions, record consents — each with its role check, CSRF, documented
// errors that change nothing, and an entry in the person's timeline; the timeline paged with a
// cursor; its live stream (Server-Sent Events) announcing a new entry; another tenant sees nothing.

let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let addressCounter = 0
const nextAddress = () => `10.12.${Math.floor(++addressCounter / 250)}.${addressCounter % 250 + 1}`
interface Signed { cookie: string; csrf: string; address: string }
const users = new Map<string, Signed>()

beforeAll(async () => {
  t = await startTestApp({ listen: true })
  a = await createTenant(t.services)
  b = await createTenant(t.services)
})
afterAll(async () => t?.close())

/** A signed-in console user of `tenant` with `role` (one per tenant and role). */
async function as(role: ConsoleRole, tenant: TestTenant = a): Promise<Signed> {
  const key = `${tenant.tenant.id}:${role}`
  const known = users.get(key)
  if (known) return known
  const email = `${role}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@example.org`
  const { password } = await t.services.console.createUser(tenant.tenant.id, { email, role, password: 'a-long-enough-password' })
  const address = nextAddress()
  const r = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password }) })
  expect(r.statusCode, r.body).toBe(200)
  const signed = { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (JSON.parse(r.body) as Json).csrf_token as string, address }
  users.set(key, signed)
  return signed
}

function call(s: Signed, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, extra: Record<string, string> = {}) {
  return t.app.inject({
    method, url, remoteAddress: s.address,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}

/** A new person of tenant `a` (Cass API), with an e-mail as the messaging directory would set it. */
async function newPerson(first = 'Rosa', tenant: TestTenant = a): Promise<{ id: string; phone: string; email: string }> {
  const phone = uniquePhone()
  const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: tenant.cassAuth }, payload: { phone, first_name: first, last_name: 'Lindqvist' } })
  expect(r.statusCode, r.body).toBe(200)
  const person = await t.services.people.getByRef(tenant.tenant, (JSON.parse(r.body) as Json).person_id as string)
  const email = `${first.toLowerCase()}.${person.id.slice(0, 8)}@example.org`
  await sql`UPDATE people SET email = ${email} WHERE id = ${person.id}`.execute(t.store.db)
  return { id: person.id, phone, email }
}

async function timeline(s: Signed, personId: string, query = ''): Promise<Json> {
  const r = await call(s, 'GET', `/console/api/people/${personId}/timeline${query}`)
  expect(r.statusCode, r.body).toBe(200)
  return JSON.parse(r.body) as Json
}

const activities = async (personId: string) => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM person_activities WHERE person_id = ${personId}`.execute(t.store.db)).rows[0]!.n)

describe('editing a person', () => {
  it('changes name, phone and e-mail; the change is in the timeline with who made it; the answer is the person', async () => {
    const owner = await as('owner')
    const p = await newPerson()
    const phone = uniquePhone()
    const r = await call(owner, 'PATCH', `/console/api/people/${p.id}`, { first_name: 'Rosalind', phone, email: 'Rosa.New@example.org' })
    expect(r.statusCode, r.body).toBe(200)
    expect(JSON.parse(r.body)).toMatchObject({ id: p.id, first_name: 'Rosalind', last_name: 'Lindqvist', phone, email: 'Rosa.New@example.org' })
    // The person API sees the change too.
    expect((await t.services.peopleSearch.find(a.tenant.id, p.id))).toMatchObject({ firstName: 'Rosalind', phone })
    const [first] = (await timeline(owner, p.id)).events as Json[]
    expect(first).toMatchObject({ kind: 'person_edited', direction: null, channel: 'console', actor: expect.stringMatching(/^console:owner-/) })
    expect(first!.text).toBe(`Edited first name: Rosa → Rosalind; phone: ${p.phone} → ${phone}; e-mail: ${p.email} → Rosa.New@example.org`)
    // Clearing the e-mail and the last name; nothing changed is not recorded.
    expect((await call(owner, 'PATCH', `/console/api/people/${p.id}`, { email: null, last_name: '' })).statusCode).toBe(200)
    const n = await activities(p.id)
    expect(JSON.parse((await call(owner, 'PATCH', `/console/api/people/${p.id}`, { first_name: 'Rosalind' })).body)).toMatchObject({ email: null, last_name: null })
    expect(await activities(p.id)).toBe(n)
  })

  it('refuses bad input, a taken phone, a missing CSRF token and other tenants with the documented errors, changing nothing', async () => {
    const owner = await as('owner')
    const p = await newPerson()
    const taken = await newPerson('Taken')
    const cases: Array<[unknown, number, string]> = [
      [{ phone: 'not a phone' }, 400, 'invalid_phone'],
      [{ email: 'nope' }, 400, 'invalid_person_action'],
      [{ first_name: 'x'.repeat(201) }, 400, 'validation_failed'],
      [{ nickname: 'x' }, 400, 'validation_failed'],
      [{}, 400, 'validation_failed'],
      [{ phone: taken.phone }, 409, 'phone_taken'],
    ]
    for (const [body, status, code] of cases) {
      const r = await call(owner, 'PATCH', `/console/api/people/${p.id}`, body)
      expect(r.statusCode, `${JSON.stringify(body)} ${r.body}`).toBe(status)
      expect(JSON.parse(r.body).code === code || status === 400, r.body).toBe(true)
      if (code !== 'validation_failed') expect(JSON.parse(r.body).code).toBe(code)
    }
    const noCsrf = await call({ ...owner, csrf: '' }, 'PATCH', `/console/api/people/${p.id}`, { first_name: 'Mallory' })
    expect(noCsrf.statusCode).toBe(403)
    expect(JSON.parse(noCsrf.body)).toEqual({ message: 'Missing or wrong CSRF token', code: 'console_csrf_failed' })
    const ownerB = await as('owner', b)
    expect((await call(ownerB, 'PATCH', `/console/api/people/${p.id}`, { first_name: 'Mallory' })).statusCode).toBe(404)
    expect(await t.services.peopleSearch.find(a.tenant.id, p.id)).toMatchObject({ firstName: 'Rosa', phone: p.phone, email: p.email })
    expect(await activities(p.id)).toBe(0)
  })
})

describe('suppressions and consents', () => {
  it('every role adds a suppression of the person’s phone; again is 200 with the entry that holds; sends are held back; the timeline says who', async () => {
    const agent = await as('agent')
    const p = await newPerson()
    const r = await call(agent, 'POST', `/console/api/people/${p.id}/suppressions`, { scope: 'sms', address: p.phone, reason: 'dnc', note: 'asked on the phone' })
    expect(r.statusCode, r.body).toBe(201)
    expect(JSON.parse(r.body)).toMatchObject({ created: true, suppression: { scope: 'sms', address: p.phone, reason: 'dnc', source: expect.stringMatching(/^console:agent-/) } })
    expect(await t.services.suppression.isSuppressed(a.tenant, 'sms', p.phone)).toMatchObject({ reason: 'dnc' })
    const again = await call(agent, 'POST', `/console/api/people/${p.id}/suppressions`, { scope: 'sms', address: p.phone, reason: 'manual' })
    expect(again.statusCode).toBe(200)
    expect(JSON.parse(again.body)).toMatchObject({ created: false, suppression: { reason: 'dnc' } })
    const events = (await timeline(agent, p.id)).events as Json[]
    expect(events.filter((e) => e.kind === 'suppression_added').map((e) => e.text)).toEqual([`Suppressed ${p.phone} on SMS (the do-not-contact list): asked on the phone`])
    const detail = JSON.parse((await call(agent, 'GET', `/console/api/people/${p.id}`)).body) as Json
    expect(detail.suppressions).toEqual([expect.objectContaining({ scope: 'sms', reason: 'dnc' })])
    expect(detail.actions).toEqual(['edit', 'add_suppression', 'consent_withdrawn', 'ping'])
  })

  it('refuses another address, an unknown scope, a reason that is not the organisation’s, and other tenants; nothing is written', async () => {
    const owner = await as('owner')
    const p = await newPerson()
    const cases: Array<[Json, number, string]> = [
      [{ scope: 'sms', address: uniquePhone(), reason: 'manual' }, 400, 'invalid_person_action'],
      [{ scope: 'fax', address: p.phone, reason: 'manual' }, 400, 'invalid_scope'],
      [{ scope: 'email', address: 'not-an-address', reason: 'manual' }, 400, 'invalid_address'],
      [{ scope: 'sms', address: p.phone, reason: 'stop_keyword' }, 400, 'invalid_person_action'],
    ]
    for (const [body, status, code] of cases) {
      const r = await call(owner, 'POST', `/console/api/people/${p.id}/suppressions`, body)
      expect(r.statusCode, r.body).toBe(status)
      expect(JSON.parse(r.body).code, r.body).toBe(code)
    }
    const ownerB = await as('owner', b)
    for (const [url, body] of [['suppressions', { scope: 'sms', address: p.phone, reason: 'manual' }], ['suppressions/lift', { scope: 'sms', address: p.phone }], ['consents', { scope: 'sms', address: p.phone, state: 'withdrawn' }]] as const) {
      const r = await call(ownerB, 'POST', `/console/api/people/${p.id}/${url}`, body)
      expect(r.statusCode, url).toBe(404)
      expect(JSON.parse(r.body).code).toBe('person_not_found')
    }
    expect(await t.services.suppression.list(a.tenant, { address: p.phone })).toEqual([])
    expect(await activities(p.id)).toBe(0)
  })

  it('lifts what the organisation put there (owners, admins, supervisors); the person’s own STOP needs their consent (409); agents and clinicians may not lift', async () => {
    const supervisor = await as('supervisor')
    const p = await newPerson()
    await t.services.suppression.add(a.tenant, { scope: 'email', address: p.email, reason: 'manual', source: 'admin-api' })
    await t.services.suppression.add(a.tenant, { scope: 'sms', address: p.phone, reason: 'stop_keyword', source: 'inbound:x' })
    for (const role of ['agent', 'clinician'] as const) {
      const r = await call(await as(role), 'POST', `/console/api/people/${p.id}/suppressions/lift`, { scope: 'email', address: p.email })
      expect(r.statusCode, role).toBe(403)
      expect(JSON.parse(r.body).code).toBe('forbidden')
    }
    const stop = await call(supervisor, 'POST', `/console/api/people/${p.id}/suppressions/lift`, { scope: 'sms', address: p.phone })
    expect(stop.statusCode).toBe(409)
    expect(JSON.parse(stop.body)).toEqual({ code: 'suppression_needs_consent', message: 'this suppression is the person\'s own opt-out (a STOP reply): record their consent to lift it' })
    const none = await call(supervisor, 'POST', `/console/api/people/${p.id}/suppressions/lift`, { scope: 'all', address: p.phone })
    expect(none.statusCode).toBe(404)
    expect(JSON.parse(none.body).code).toBe('suppression_not_found')
    expect(await activities(p.id)).toBe(0)

    const r = await call(supervisor, 'POST', `/console/api/people/${p.id}/suppressions/lift`, { scope: 'email', address: p.email.toUpperCase(), note: 'entered by mistake' })
    expect(r.statusCode, r.body).toBe(200)
    expect(JSON.parse(r.body).lifted).toMatchObject({ scope: 'email', reason: 'manual', source: 'admin-api' })
    expect(await t.services.suppression.isSuppressed(a.tenant, 'email', p.email)).toBeUndefined()
    expect(await t.services.suppression.isSuppressed(a.tenant, 'sms', p.phone)).toMatchObject({ reason: 'stop_keyword' })
    const [first] = (await timeline(supervisor, p.id)).events as Json[]
    expect(first).toMatchObject({ kind: 'suppression_lifted', text: `Lifted the suppression of ${p.email} on email (added by hand, by admin-api): entered by mistake` })
  })

  it('records a withdrawn consent (every role) as a suppression, and a given one (supervisors up) lifting only the person’s own opt-outs', async () => {
    const clinician = await as('clinician')
    const admin = await as('admin')
    const p = await newPerson()
    const w = await call(clinician, 'POST', `/console/api/people/${p.id}/consents`, { scope: 'sms', address: p.phone, state: 'withdrawn', note: 'said so at the visit' })
    expect(w.statusCode, w.body).toBe(201)
    expect(JSON.parse(w.body)).toMatchObject({ state: 'withdrawn', added: { scope: 'sms', reason: 'consent_withdrawn' } })
    expect(await t.services.suppression.isSuppressed(a.tenant, 'sms', p.phone)).toMatchObject({ reason: 'consent_withdrawn' })
    const denied = await call(clinician, 'POST', `/console/api/people/${p.id}/consents`, { scope: 'sms', address: p.phone, state: 'given' })
    expect(denied.statusCode).toBe(403)
    expect((await call(admin, 'POST', `/console/api/people/${p.id}/consents`, { scope: 'sms', address: p.phone, state: 'maybe' })).statusCode).toBe(400)
    // An organisation's DNC on every channel stays after the person's consent.
    await t.services.suppression.add(a.tenant, { scope: 'all', address: p.phone, reason: 'dnc', source: 'cli' })
    const g = await call(admin, 'POST', `/console/api/people/${p.id}/consents`, { scope: 'sms', address: p.phone, state: 'given', note: 'signed form' })
    expect(g.statusCode, g.body).toBe(201)
    expect(JSON.parse(g.body)).toMatchObject({ state: 'given', lifted: [{ reason: 'consent_withdrawn' }], remaining: [], added: null })
    expect(await t.services.suppression.isSuppressed(a.tenant, 'sms', p.phone)).toMatchObject({ scope: 'all', reason: 'dnc' })
    const texts = ((await timeline(admin, p.id)).events as Json[]).filter((e) => e.channel === 'console').map((e) => [e.kind, e.text])
    expect(texts).toEqual([
      ['consent_given', `Consent given for ${p.phone} on SMS; lifted a withdrawn consent: signed form`],
      ['consent_withdrawn', `Consent withdrawn for ${p.phone} on SMS: said so at the visit`],
    ])
  })
})

describe('the timeline, paged and live', () => {
  it('pages 450 entries newest first with a cursor, none lost or repeated; a bad cursor is 400', async () => {
    const owner = await as('owner')
    const p = await newPerson()
    await sql`INSERT INTO transcript_messages (tenant_id, person_id, direction, channel, text, created_at)
      SELECT ${a.tenant.id}, ${p.id}, CASE WHEN i % 2 = 0 THEN 'in' ELSE 'out' END, 'sms', 'message ' || i, now() - make_interval(secs => 1000 - i)
      FROM generate_series(1, 450) i`.execute(t.store.db)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await timeline(owner, p.id, `?limit=200${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`)
      seen.push(...(page.events as Json[]).map((e) => e.text as string))
      cursor = page.next_cursor as string | null
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(seen).toEqual(Array.from({ length: 450 }, (_, i) => `message ${450 - i}`))
    for (const bad of ['nonsense', Buffer.from('2026-01-01T00:00:00.000000|x|y').toString('base64url'), 'x'.repeat(201)]) {
      const r = await call(owner, 'GET', `/console/api/people/${p.id}/timeline?before=${bad}`)
      expect(r.statusCode, bad).toBe(400)
    }
  })

  it('streams `changed` when the person’s timeline gains an entry; another tenant gets 404, no session 401', async () => {
    const owner = await as('owner')
    const p = await newPerson()
    const controller = new AbortController()
    const res = await fetch(`${t.url}/console/api/people/${p.id}/timeline/stream`, { headers: { cookie: owner.cookie }, signal: controller.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = res.body!.getReader()
    let text = ''
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 30_000
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text}`)
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended: ${text}`)
        text += new TextDecoder().decode(value)
      }
    }
    try {
      await waitFor(/event: ready/)
      const r = await call(owner, 'POST', `/console/api/people/${p.id}/consents`, { scope: 'email', address: p.email, state: 'withdrawn' })
      expect(r.statusCode).toBe(201)
      await waitFor(/event: changed/)
    } finally {
      controller.abort()
    }
    const ownerB = await as('owner', b)
    expect((await fetch(`${t.url}/console/api/people/${p.id}/timeline/stream`, { headers: { cookie: ownerB.cookie } })).status).toBe(404)
    expect((await fetch(`${t.url}/console/api/people/${p.id}/timeline/stream`)).status).toBe(401)
  })

  it('pings a person into a thread: the bot\'s first message goes out and the ping is in the timeline; unknown threads and bad bodies change nothing', async () => {
    await t.services.threads.load(a.tenant, readFileSync(new URL('../../../examples/threads/demo.yaml', import.meta.url), 'utf8'), 'yaml')
    const agent = await as('agent')
    const listed = await call(agent, 'GET', '/console/api/threads')
    expect(listed.statusCode, listed.body).toBe(200)
    expect((JSON.parse(listed.body) as Json).threads).toEqual(expect.arrayContaining(['welcome', 'support', 'nudge']))
    const p = await newPerson('Ines')
    expect((JSON.parse((await call(agent, 'GET', `/console/api/people/${p.id}`)).body) as Json).actions).toContain('ping')
    const activities = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM person_activities WHERE person_id = ${p.id}`.execute(t.store.db)).rows[0]!.n)

    // Refused without a change: an unknown thread, a missing name, no CSRF token, another tenant's person.
    const unknown = await call(agent, 'POST', `/console/api/people/${p.id}/ping`, { thread_name: 'no_such_thread' })
    expect(unknown.statusCode, unknown.body).toBe(400)
    expect((JSON.parse(unknown.body) as Json).code).toBe('thread_not_found')
    expect((await call(agent, 'POST', `/console/api/people/${p.id}/ping`, {})).statusCode).toBe(400)
    expect((await call(agent, 'POST', `/console/api/people/${p.id}/ping`, { thread_name: 'welcome', colour: 'red' })).statusCode).toBe(400)
    expect((await call({ ...agent, csrf: '' }, 'POST', `/console/api/people/${p.id}/ping`, { thread_name: 'welcome' })).statusCode).toBe(403)
    expect((await call(await as('owner', b), 'POST', `/console/api/people/${p.id}/ping`, { thread_name: 'welcome' })).statusCode).toBe(404)
    expect(await activities()).toBe(0)

    const r = await call(agent, 'POST', `/console/api/people/${p.id}/ping`, { thread_name: 'welcome' })
    expect(r.statusCode, r.body).toBe(201)
    expect(JSON.parse(r.body)).toEqual({ thread_name: 'welcome' })
    const timeline = JSON.parse((await call(agent, 'GET', `/console/api/people/${p.id}/timeline`)).body) as Json
    const events = timeline.events as Json[]
    expect(events.find((e) => e.kind === 'pinged')).toMatchObject({ text: 'Pinged into the thread welcome', actor: expect.stringMatching(/^console:agent-/) })
    expect(events.some((e) => e.kind === 'message' && e.direction === 'out' && String(e.text).includes("I'm the Switchboard demo bot"))).toBe(true)
    expect(await activities()).toBe(1)
  })
})
