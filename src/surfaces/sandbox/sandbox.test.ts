import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

let t: TestApp
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  t = await startTestApp({ workers: true })
  // `workers`: this file also runs the job workers, as `serve` does.
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
})
afterAll(async () => t?.close())

type Json = Record<string, unknown>
const json = (r: { body: string }) => JSON.parse(r.body) as Json
const data = (r: { body: string }) => json(r).data as Json
const list = (r: { body: string }) => json(r).data as Json[]

function post(tt: TestTenant, url: string, payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url, headers: { authorization: tt.cassAuth, 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
}
function get(tt: TestTenant, url: string) {
  return t.app.inject({ method: 'GET', url, headers: { authorization: tt.cassAuth } })
}

describe('authentication', () => {
  it('asks for the tenant’s Cass credentials as Basic auth, on the API and the page', async () => {
    const wrong = 'Basic ' + Buffer.from(`${acme.credentials.cass.client}:nope`).toString('base64')
    const unknown = 'Basic ' + Buffer.from('no-such-client:x').toString('base64')
    for (const authorization of [undefined, wrong, unknown, 'Bearer abc']) {
      const api = await t.app.inject({ url: '/sandbox/api/outbox', headers: authorization ? { authorization } : {} })
      expect(api.statusCode).toBe(401)
      expect(api.headers['www-authenticate']).toBe('Basic realm="Switchboard sandbox", charset="UTF-8"')
      expect(json(api)).toEqual({ message: 'Unauthorized' })
    }
    const page = await t.app.inject({ url: '/sandbox' })
    expect(page.statusCode).toBe(401)
    expect(page.headers['www-authenticate']).toMatch(/^Basic /)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    // Credentials are checked before the body is read: nothing is written without them.
    const write = await t.app.inject({ method: 'POST', url: '/sandbox/api/outbox', headers: { 'content-type': 'application/json' }, payload: '{"channel":"sms","to":"+14155552671","body":"x"}' })
    expect(write.statusCode).toBe(401)
  })
})

describe('POST /sandbox/api/outbox', () => {
  it('queues a message that the sandbox provider sends: queued → sent, listed newest first', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    const first = await post(tt, '/sandbox/api/outbox', { channel: 'sms', to: phone, body: 'Hello' })
    expect(first.statusCode).toBe(201)
    expect(data(first)).toMatchObject({ channel: 'sms', to: phone, body: 'Hello', status: 'queued', provider: null, attempts: 0, sent_at: null, from: null, subject: null })
    const second = await post(tt, '/sandbox/api/outbox', { channel: 'email', to: 'jane@example.org', subject: 'Hi', body: 'Mail body' })
    expect(second.statusCode).toBe(201)

    await waitFor('both to be sent', async () => list(await get(tt, '/sandbox/api/outbox')).every((m) => m.status === 'sent'))
    const all = list(await get(tt, '/sandbox/api/outbox'))
    expect(all.map((m) => m.id)).toEqual([data(second).id, data(first).id])
    expect(all[1]).toMatchObject({ status: 'sent', provider: 'sandbox', provider_message_id: expect.stringMatching(/^sandbox-/), attempts: 1, sent_at: expect.any(String) })
    expect(list(await get(tt, '/sandbox/api/outbox?channel=email')).map((m) => m.id)).toEqual([data(second).id])
    expect(list(await get(tt, '/sandbox/api/outbox?limit=1')).map((m) => m.id)).toEqual([data(second).id])
    const one = await get(tt, `/sandbox/api/outbox/${String(data(first).id)}`)
    expect(one.statusCode).toBe(200)
    expect(data(one)).toMatchObject({ id: data(first).id, status: 'sent' })
    // Tenants never see each other's outbox.
    expect(list(await get(other, '/sandbox/api/outbox')).map((m) => m.id)).not.toContain(data(first).id)
    expect((await get(other, `/sandbox/api/outbox/${String(data(first).id)}`)).statusCode).toBe(404)
  })

  it('answers 200 with the first message for a repeated idempotency key', async () => {
    const body = { channel: 'push', to: 'device-1', body: 'Ping', idempotency_key: 'once' }
    const a = await post(acme, '/sandbox/api/outbox', body)
    const b = await post(acme, '/sandbox/api/outbox', body)
    expect([a.statusCode, b.statusCode]).toEqual([201, 200])
    expect(data(b).id).toBe(data(a).id)
  })

  it('answers bad input with 400 and a message, and writes nothing', async () => {
    const tt = await createTenant(t.services)
    const cases: Array<[unknown, RegExp]> = [
      [{}, /channel is required/],
      [{ channel: 'fax', to: '+14155552671', body: 'x' }, /channel/],
      [{ channel: 'sms', to: '+1', body: 'x' }, /invalid phone number \+1/],
      [{ channel: 'email', to: 'not-an-address', body: 'x' }, /invalid e-mail address/],
      [{ channel: 'sms', to: '+14155552671' }, /body is required/],
      [{ channel: 'sms', to: '+14155552671', body: '' }, /body/],
      [{ channel: 'sms', to: '+14155552671', body: '   ' }, /body must be/],
      [{ channel: 'sms', to: '+14155552671', body: 'nul\u0000' }, /body must be/],
      [{ channel: 'sms', to: '+14155552671', body: 'x', extra: 1 }, /Unknown parameter extra/],
      [{ channel: 'sms', to: 42, body: 'x' }, /to must be string/], // a JSON body is taken as typed, never coerced
      [{ channel: 'sms', to: ['+14155552671'], body: 'x' }, /to must be string/],
      [[1, 2], /body must be object|Invalid/],
      ['{"channel": "sms",', /Malformed JSON/],
    ]
    for (const [payload, message] of cases) {
      const r = await post(tt, '/sandbox/api/outbox', payload)
      expect(r.statusCode, JSON.stringify(payload)).toBe(400)
      expect(json(r).message, JSON.stringify(payload)).toMatch(message)
      expect(Object.keys(json(r))).toEqual(['message'])
    }
    const empty = await t.app.inject({ method: 'POST', url: '/sandbox/api/outbox', headers: { authorization: tt.cassAuth } })
    expect(empty.statusCode).toBe(415)
    // A form can post text/plain from any site with the browser's cached credentials: refused.
    const plain = await post(tt, '/sandbox/api/outbox', '{"channel":"sms","to":"+14155552671","body":"x"}', { 'content-type': 'text/plain' })
    expect(plain.statusCode).toBe(415)
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'channel=fax', 'foo=1']) {
      const r = await get(tt, `/sandbox/api/outbox?${q}`)
      expect(r.statusCode, q).toBe(400)
      expect(typeof json(r).message).toBe('string')
    }
    expect(list(await get(tt, '/sandbox/api/outbox'))).toEqual([])
  })
})

describe('person ids', () => {
  it('names people by the person API’s person_id (an imported individual’s too), which the person API finds', async () => {
    const phone = uniquePhone()
    await t.services.directory.import(acme.tenant, { format: 'yaml', text: `individuals:\n  - { external_id: sandbox-imported, first_name: Ima, last_name: Ported, phone: "${phone}" }\n` })
    const person = JSON.parse((await t.app.inject({ url: '/external_person?external_id=sandbox-imported', headers: { authorization: acme.cassAuth } })).body) as { person_id: string }
    const sent = await post(acme, '/sandbox/api/outbox', { channel: 'sms', to: phone, body: 'hello Ima' })
    expect(sent.statusCode, sent.body).toBe(201)
    const inbound = await post(acme, '/sandbox/api/inbound', { channel: 'sms', from: phone, body: 'hi back' })
    const listed = list(await get(acme, '/sandbox/api/outbox')).find((m) => m.id === data(sent).id)
    for (const m of [data(sent), listed, data(inbound)]) {
      expect(m?.person_id).toBe(person.person_id)
      expect((await t.app.inject({ url: `/external_person/${String(m?.person_id)}`, headers: { authorization: acme.cassAuth } })).statusCode).toBe(200)
    }
  })
})

describe('POST /sandbox/api/inbound', () => {
  it('enters the answer as an inbound message of its channel, with the person found by phone', async () => {
    const phone = uniquePhone()
    const created = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: acme.cassAuth }, payload: { phone, first_name: 'Jane' } })
    expect(created.statusCode).toBe(200)
    const r = await post(acme, '/sandbox/api/inbound', { channel: 'sms', from: phone.slice(1), body: 'STOP' })
    expect(r.statusCode).toBe(201)
    const msg = data(r)
    expect(msg).toMatchObject({ channel: 'sms', from: phone, body: 'STOP', provider: 'sandbox', person_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'received' })
    // The person API's person_id: the one an operator can look up.
    expect(msg.person_id).toBe((JSON.parse(created.body) as { person_id: string }).person_id)
    await waitFor('the inbound handlers', async () => list(await get(acme, '/sandbox/api/inbound')).find((m) => m.id === msg.id)?.status === 'processed')
    expect(list(await get(other, '/sandbox/api/inbound')).map((m) => m.id)).not.toContain(msg.id)

    for (const bad of [{ channel: 'sms', from: 'abc', body: 'x' }, { channel: 'sms', body: 'x' }, { channel: 'pager', from: phone, body: 'x' }, { channel: 'sms', from: phone, body: '' }]) {
      const e = await post(acme, '/sandbox/api/inbound', bad)
      expect(e.statusCode, JSON.stringify(bad)).toBe(400)
      expect(typeof json(e).message).toBe('string')
    }
  })
})

describe('GET /sandbox', () => {
  it('renders the tenant’s outbox, newest first, escaped, with a form to answer as the person', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    await post(tt, '/sandbox/api/outbox', { channel: 'sms', to: phone, body: 'Older message' })
    await post(tt, '/sandbox/api/outbox', { channel: 'email', to: 'x@example.org', subject: 'Subj', body: '<script>alert(1)</script> & more' })
    await waitFor('both sent', async () => list(await get(tt, '/sandbox/api/outbox')).every((m) => m.status === 'sent'))
    await post(acme, '/sandbox/api/outbox', { channel: 'sms', to: uniquePhone(), body: 'Not for this tenant' })

    const r = await t.app.inject({ url: '/sandbox', headers: { authorization: tt.cassAuth } })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(r.headers['cache-control']).toBe('no-store')
    const html = r.body
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/)
    expect(html).toContain(`<title>Sandbox — ${tt.tenant.name}</title>`)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more')
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('Not for this tenant')
    expect(html.indexOf('&lt;script&gt;')).toBeLessThan(html.indexOf('Older message'))
    expect(html).toContain('<caption>2 messages, newest first</caption>')
    expect(html).toContain('<span class="status status-sent">sent</span>')
    expect(html).toContain(`<input type="hidden" name="from" value="${phone}">`)
    expect(html).toContain(`Reply as ${phone}`)
    expect(html).toMatch(/<label[^>]*for="send-body">Message<\/label>/)

    const filtered = await t.app.inject({ url: '/sandbox?channel=email', headers: { authorization: tt.cassAuth } })
    expect(filtered.body).not.toContain('Older message')
    expect(filtered.body).toContain('<caption>1 message, newest first</caption>')
    expect((await t.app.inject({ url: '/sandbox?channel=fax', headers: { authorization: tt.cassAuth } })).statusCode).toBe(400)
  })

  it('posts its forms with the page’s token: a reply becomes an inbound message, a test send is queued', async () => {
    const tt = await createTenant(t.services)
    const phone = uniquePhone()
    await post(tt, '/sandbox/api/outbox', { channel: 'sms', to: phone, body: 'Are you coming?' })
    const page = (await t.app.inject({ url: '/sandbox', headers: { authorization: tt.cassAuth } })).body
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
    const headers = { authorization: tt.cassAuth, 'content-type': 'application/x-www-form-urlencoded' }

    const reply = await t.app.inject({ method: 'POST', url: '/sandbox/reply', headers, payload: form({ csrf, channel: 'sms', from: phone, body: 'Yes!' }) })
    expect(reply.statusCode).toBe(303)
    expect(reply.headers.location).toBe('/sandbox')
    expect(list(await get(tt, '/sandbox/api/inbound'))).toEqual([expect.objectContaining({ from: phone, body: 'Yes!', channel: 'sms' })])

    const send = await t.app.inject({ method: 'POST', url: '/sandbox/send', headers, payload: form({ csrf, channel: 'email', to: 'a@example.org', subject: '', body: 'From the form' }) })
    expect(send.statusCode).toBe(303)
    expect(list(await get(tt, '/sandbox/api/outbox'))[0]).toMatchObject({ channel: 'email', body: 'From the form' })

    // Without the page's token (a post from another site) nothing is written.
    for (const token of ['', 'forged', /name="csrf" value="([^"]+)"/.exec((await t.app.inject({ url: '/sandbox', headers: { authorization: acme.cassAuth } })).body)![1]!]) {
      const forged = await t.app.inject({ method: 'POST', url: '/sandbox/reply', headers, payload: form({ csrf: token, channel: 'sms', from: phone, body: 'forged' }) })
      expect(forged.statusCode).toBe(403)
      expect(forged.headers['content-type']).toMatch(/^text\/html/)
    }
    const bad = await t.app.inject({ method: 'POST', url: '/sandbox/send', headers, payload: form({ csrf, channel: 'sms', to: 'nope', body: 'x' }) })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('<p role="alert" class="error">invalid phone number nope</p>')
    expect(list(await get(tt, '/sandbox/api/inbound'))).toHaveLength(1)
    expect(list(await get(tt, '/sandbox/api/outbox'))).toHaveLength(2)
  })
})

describe('operations', () => {
  it('documents the sandbox API in OpenAPI and counts its jobs on /metrics', async () => {
    const doc = (await t.app.inject('/openapi/sandbox.json')).json() as { paths: Record<string, Record<string, { tags?: string[]; requestBody?: unknown }>> }
    expect(Object.keys(doc.paths['/sandbox/api/outbox']!)).toEqual(expect.arrayContaining(['get', 'post']))
    expect(Object.keys(doc.paths['/sandbox/api/inbound']!)).toEqual(expect.arrayContaining(['get', 'post']))
    expect(doc.paths['/sandbox/api/outbox']!.post!.tags).toEqual(['sandbox'])
    expect(doc.paths['/sandbox/api/outbox']!.post!.requestBody).toBeDefined()
    expect(doc.paths['/sandbox/']).toBeUndefined()
    const metrics = (await t.app.inject('/metrics')).body
    expect(metrics).toMatch(/switchboard_jobs\{queue="delivery.send",state="completed"\} \d+/)
  })
})
