import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// D1–D3 (spec/ccai.md §2.9, §2.16, §3.9) over HTTP: the documented samples as contract tests, every
// refusal in the spec's words, and the list being the one suppression list: a D1 entry holds back
// SMS on the delivery path and SMS sessions, a STOP reply shows in D3, an expired entry is absent.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const FUTURE = '2099-10-29 00:00:00 UTC'

async function contactCenter(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, sms_enabled: true, outbound_sms_enabled: true }
teams: [{ name: Desk }]
agents: [{ email: dnc@example.org, first_name: D, last_name: N, teams: [Desk] }]
menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]
phone_numbers: [{ number: "+1 628-555-0199" }]
`, 'yaml')
  return tt
}
async function call(tt: TestTenant, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, auth = tt.ccaiAuth): Promise<{ status: number; body: Json; raw: string }> {
  const r = await t.app.inject({
    method, url, headers: { authorization: auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null, raw: r.body }
}
const add = (tt: TestTenant, contacts: unknown) => call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc', { contacts })
const remove = (tt: TestTenant, phoneNumbers: unknown) => call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc/remove', { phone_numbers: phoneNumbers })
const check = (tt: TestTenant, phone: string) => call(tt, 'GET', `/apps/api/v1/outbound_dialer/dnc/check?phone_number=${encodeURIComponent(phone)}`)
const entries = (tt: TestTenant) => t.store.db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tt.tenant.id).orderBy('created_at').execute()
/** "+14155550123" written the way the vendor's samples write numbers: "+1-(415)-555-0123". */
const human = (e164: string) => `+1-(${e164.slice(2, 5)})-${e164.slice(5, 8)}-${e164.slice(8)}`

describe('D1 POST /outbound_dialer/dnc', () => {
  it('the documented sample: one result per item in order, input echoed as sent, expires_at omitted when not sent', async () => {
    const tt = await contactCenter()
    const r = await add(tt, [{ phone_number: '+1-(358)-213-1634', expires_at: FUTURE }, { phone_number: '+1-7187309219' }])
    expect(r.status).toBe(200)
    expect(r.raw).toBe(JSON.stringify([
      { phone_number: '+1-(358)-213-1634', expires_at: FUTURE, status: 'created' },
      { phone_number: '+1-7187309219', status: 'created' },
    ]))
    // Stored on the one suppression list, normalized: scope all, reason dnc.
    expect((await entries(tt)).map((e) => [e.scope, e.address, e.reason, e.source, e.expires_at?.toISOString() ?? null])).toEqual([
      ['all', '+13582131634', 'dnc', 'apps-api-dnc', '2099-10-29T00:00:00.000Z'],
      ['all', '+17187309219', 'dnc', 'apps-api-dnc', null],
    ])
    // The spec's own sample date has passed: that item fails on its own, the request is still 200.
    const past = await add(tt, [{ phone_number: '+1-(358)-213-1634', expires_at: '2022-10-29 00:00:00 UTC' }])
    expect(past.raw).toBe(JSON.stringify([{ phone_number: '+1-(358)-213-1634', expires_at: '2022-10-29 00:00:00 UTC', status: 'failed', error: 'expires_at cannot be past date/time' }]))
  })

  it('a listed number is updated (its expiry); duplicates in one request are processed in order', async () => {
    const tt = await contactCenter()
    const phone = uniquePhone()
    expect((await add(tt, [{ phone_number: phone }])).body).toEqual([{ phone_number: phone, status: 'created' }])
    const again = await add(tt, [{ phone_number: human(phone), expires_at: '2098-01-02 03:04:05 UTC' }, { phone_number: phone, expires_at: null }, { phone_number: phone, expires_at: 'soon' }])
    expect(again.body).toEqual([
      { phone_number: human(phone), expires_at: '2098-01-02 03:04:05 UTC', status: 'updated' },
      { phone_number: phone, expires_at: null, status: 'updated' },
      { phone_number: phone, expires_at: 'soon', status: 'failed', error: 'expires_at is invalid' },
    ])
    const rows = await entries(tt)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.expires_at).toBeNull()
    expect((await add(tt, [{ phone_number: phone, expires_at: '2097-05-06T07:08:09Z' }])).body).toEqual([{ phone_number: phone, expires_at: '2097-05-06T07:08:09Z', status: 'updated' }])
    expect((await check(tt, phone)).body).toEqual({ phone_number: phone, dnc: true, expires_at: '2097-05-06 07:08:09 UTC' })
  })

  it('refuses emergency numbers and malformed items per item, writing only the good ones', async () => {
    const tt = await contactCenter()
    const good = uniquePhone()
    const items: unknown[] = [
      { phone_number: '911' }, { phone_number: '+1 911' }, { phone_number: 112 }, { phone_number: '999', expires_at: FUTURE },
      { phone_number: '4155550100' }, { phone_number: '+1 415' }, { phone_number: 'call me' }, { phone_number: '' }, {}, { phone_number: null },
      { phone_number: ['+14155550100'] }, 'x', null, 42,
      { phone_number: good, expires_at: '2099-02-30 00:00:00 UTC' }, { phone_number: good, expires_at: 5 }, { phone_number: good, expires_at: '2000-01-01T00:00:00Z' },
      { phone_number: good, expires_at: FUTURE },
    ]
    const r = await add(tt, items)
    expect(r.status).toBe(200)
    const emergency = 'emergency phone number is not allowed'
    const invalid = 'phone_number is invalid'
    expect(r.body).toEqual([
      { phone_number: '911', status: 'failed', error: emergency },
      { phone_number: '+1 911', status: 'failed', error: emergency },
      { phone_number: 112, status: 'failed', error: emergency },
      { phone_number: '999', expires_at: FUTURE, status: 'failed', error: emergency },
      { phone_number: '4155550100', status: 'failed', error: invalid },
      { phone_number: '+1 415', status: 'failed', error: invalid },
      { phone_number: 'call me', status: 'failed', error: invalid },
      { phone_number: '', status: 'failed', error: invalid },
      { phone_number: null, status: 'failed', error: invalid },
      { phone_number: null, status: 'failed', error: invalid },
      { phone_number: ['+14155550100'], status: 'failed', error: invalid },
      { phone_number: null, status: 'failed', error: invalid },
      { phone_number: null, status: 'failed', error: invalid },
      { phone_number: null, status: 'failed', error: invalid },
      { phone_number: good, expires_at: '2099-02-30 00:00:00 UTC', status: 'failed', error: 'expires_at is invalid' },
      { phone_number: good, expires_at: 5, status: 'failed', error: 'expires_at is invalid' },
      { phone_number: good, expires_at: '2000-01-01T00:00:00Z', status: 'failed', error: 'expires_at cannot be past date/time' },
      { phone_number: good, expires_at: FUTURE, status: 'created' },
    ])
    expect((await entries(tt)).map((e) => e.address)).toEqual([good])
  })

  it('request-level refusals: 400 in the spec’s words, nothing written', async () => {
    const tt = await contactCenter()
    const cases: Array<[unknown, string]> = [
      [{}, 'param is missing or the value is empty: contacts'],
      [{ contacts: null }, 'param is missing or the value is empty: contacts'],
      [{ contacts: [] }, 'param is missing or the value is empty: contacts'],
      [{ contacts: '' }, 'param is missing or the value is empty: contacts'],
      [{ contacts: { phone_number: '+14155550100' } }, 'contacts is invalid'],
      [{ contacts: '+14155550100' }, 'contacts is invalid'],
      [{ contacts: Array.from({ length: 1001 }, () => ({ phone_number: uniquePhone() })) }, 'contacts must not have more than 1000 items'],
    ]
    for (const [body, message] of cases) {
      const r = await call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc', body)
      expect([r.status, r.body], JSON.stringify(body).slice(0, 80)).toEqual([400, { message }])
    }
    expect((await call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc', '{"contacts": [')).status).toBe(400)
    expect((await call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc', { contacts: [{ phone_number: uniquePhone() }] }, 'Basic bm9ib2R5Om5vcGU=')).status).toBe(401)
    expect(await entries(tt)).toEqual([])
    // 1000 items is the bound, not a refusal.
    const many = await add(tt, Array.from({ length: 1000 }, () => ({ phone_number: uniquePhone() })))
    expect(many.status).toBe(200)
    expect(many.body.every((i: Json) => i.status === 'created')).toBe(true)
  })
})

describe('D2 remove and D3 check', () => {
  it('removes listed numbers (POST and the DELETE alias), not found otherwise, echoing the input', async () => {
    const tt = await contactCenter()
    const [a, b, c, d] = [uniquePhone(), uniquePhone(), uniquePhone(), uniquePhone()]
    await add(tt, [{ phone_number: a }, { phone_number: b, expires_at: FUTURE }, { phone_number: c }])
    const r = await remove(tt, [human(a), a, 'nope', '911', 7, d])
    expect(r.status).toBe(200)
    expect(r.raw).toBe(JSON.stringify([
      { phone_number: human(a), status: 'removed' },
      { phone_number: a, status: 'failed', error: 'phone_number is not found' },
      { phone_number: 'nope', status: 'failed', error: 'phone_number is invalid' },
      { phone_number: '911', status: 'failed', error: 'phone_number is invalid' },
      { phone_number: 7, status: 'failed', error: 'phone_number is invalid' },
      { phone_number: d, status: 'failed', error: 'phone_number is not found' },
    ]))
    const del = await call(tt, 'DELETE', '/apps/api/v1/outbound_dialer/dnc/remove', { phone_numbers: b })
    expect([del.status, del.body]).toEqual([200, [{ phone_number: b, status: 'removed' }]])
    const byQuery = await call(tt, 'DELETE', `/apps/api/v1/outbound_dialer/dnc/remove?phone_numbers[]=${encodeURIComponent(c)}`)
    expect([byQuery.status, byQuery.body]).toEqual([200, [{ phone_number: c, status: 'removed' }]])
    expect(await entries(tt)).toEqual([])
    for (const body of [{}, { phone_numbers: [] }, { phone_numbers: null }]) {
      const bad = await call(tt, 'POST', '/apps/api/v1/outbound_dialer/dnc/remove', body)
      expect([bad.status, bad.body]).toEqual([400, { message: 'param is missing or the value is empty: phone_numbers' }])
    }
    expect((await call(tt, 'DELETE', '/apps/api/v1/outbound_dialer/dnc/remove')).body).toEqual({ message: 'param is missing or the value is empty: phone_numbers' })
    expect((await remove(tt, { a: 1 })).body).toEqual({ message: 'phone_numbers is invalid' })
  })

  it('checks a number: listed with its expiry, permanent, not listed; refusals in the spec’s words', async () => {
    const tt = await contactCenter()
    const [p, q, r] = [uniquePhone(), uniquePhone(), uniquePhone()]
    await add(tt, [{ phone_number: p, expires_at: '2030-10-29 00:00:00 UTC' }, { phone_number: q }])
    expect((await check(tt, human(p))).raw).toBe(JSON.stringify({ phone_number: human(p), dnc: true, expires_at: '2030-10-29 00:00:00 UTC' }))
    expect((await check(tt, q)).body).toEqual({ phone_number: q, dnc: true, expires_at: null })
    expect((await check(tt, r)).body).toEqual({ phone_number: r, dnc: false, expires_at: null })
    // The documented sample number, not an assigned area code, is still a number the list holds.
    await add(tt, [{ phone_number: '+1-(358)-213-1634' }])
    expect((await check(tt, '+1 358 213 1634')).body).toEqual({ phone_number: '+1 358 213 1634', dnc: true, expires_at: null })
    for (const [query, message] of [
      ['', 'param is missing or the value is empty: phone_number'],
      ['?phone_number=', 'param is missing or the value is empty: phone_number'],
      ['?phone_number=%20', 'param is missing or the value is empty: phone_number'],
      ['?phone_number=911', 'phone_number is invalid'],
      ['?phone_number=abc', 'phone_number is invalid'],
      ['?phone_number=4155550100', 'phone_number is invalid'],
      [`?phone_number=${encodeURIComponent(p)}&phone_number=${encodeURIComponent(q)}`, 'phone_number is invalid'],
    ]) {
      const res = await call(tt, 'GET', `/apps/api/v1/outbound_dialer/dnc/check${query}`)
      expect([res.status, res.body], query).toEqual([400, { message }])
    }
  })
})

describe('the DNC list is the suppression list', () => {
  const outbox = (tt: TestTenant, to: string, body: string, extra: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: '/sandbox/api/outbox', headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ channel: 'sms', to, body, ...extra }) })
      .then((r) => { expect(r.statusCode, r.body).toBe(201); return JSON.parse(r.body).data as Json })
  const settled = (tt: TestTenant, id: string) => waitFor('the message to settle', async () => {
    const m = JSON.parse((await t.app.inject({ method: 'GET', url: `/sandbox/api/outbox/${id}`, headers: { authorization: tt.cassAuth } })).body).data as Json
    return ['sent', 'suppressed', 'failed'].includes(String(m.status)) ? m : undefined
  })

  it('a D1 entry holds back SMS on the delivery path (at enqueue and at the attempt) and SMS sessions; D2 lifts it', async () => {
    const tt = await contactCenter()
    const phone = uniquePhone()
    // Queued for later first: the entry added meanwhile wins at the attempt.
    const { message: queued } = await t.services.delivery.send(tt.tenant, { channel: 'sms', to: phone, body: 'Later', sendAt: new Date(Date.now() + 1500) })
    expect((await add(tt, [{ phone_number: human(phone) }])).body[0].status).toBe('created')
    expect(await settled(tt, queued.id)).toMatchObject({ status: 'suppressed', suppressed_reason: 'dnc', attempts: 0, provider: null })
    const now = await outbox(tt, phone, 'Your appointment is tomorrow')
    expect(now).toMatchObject({ status: 'suppressed', suppressed_reason: 'dnc', provider: null })
    // WhatsApp reaches the same number: scope all holds it back too.
    expect(await settled(tt, (await outbox(tt, phone, 'wa', { channel: 'whatsapp' })).id)).toMatchObject({ status: 'suppressed', suppressed_reason: 'dnc' })
    const session = await call(tt, 'POST', '/apps/api/v1/sms', { chat_type: 'Messaging (SMS)', end_user_number: phone, outbound_number: '+16285550199', message: 'Hi' })
    expect([session.status, session.body]).toEqual([400, { message: 'Outbound SMS failed. Consumer has opted out of SMS (replied STOP).' }])
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'voice', phone)).toMatchObject({ scope: 'all', reason: 'dnc' })

    expect((await remove(tt, [phone])).body).toEqual([{ phone_number: phone, status: 'removed' }])
    expect(await settled(tt, (await outbox(tt, phone, 'Welcome back')).id)).toMatchObject({ status: 'sent', provider: 'sandbox' })
  })

  it('a STOP reply shows in D3 (and D2 does not lift it: only the person’s START does)', async () => {
    const tt = await contactCenter()
    const phone = uniquePhone()
    const inbound = await t.app.inject({ method: 'POST', url: '/sandbox/api/inbound', headers: { authorization: tt.cassAuth, 'content-type': 'application/json' }, payload: JSON.stringify({ channel: 'sms', from: phone, body: 'STOP', to: '+15005550006' }) })
    expect(inbound.statusCode).toBe(201)
    await waitFor('the STOP to be recorded', async () => (await check(tt, phone)).body.dnc === true)
    expect((await check(tt, phone)).body).toEqual({ phone_number: phone, dnc: true, expires_at: null })
    expect((await remove(tt, [phone])).body).toEqual([{ phone_number: phone, status: 'failed', error: 'phone_number is not found' }])
    expect((await check(tt, phone)).body.dnc).toBe(true)
    // The company's own entry on top of the STOP: D2 removes that one, the STOP stays.
    expect((await add(tt, [{ phone_number: phone, expires_at: FUTURE }])).body[0].status).toBe('created')
    expect((await remove(tt, [phone])).body[0].status).toBe('removed')
    expect((await check(tt, phone)).body).toEqual({ phone_number: phone, dnc: true, expires_at: null })
  })

  it('an expired entry is absent everywhere: check, remove, the send path; adding it again creates it', async () => {
    const tt = await contactCenter()
    const phone = uniquePhone()
    await add(tt, [{ phone_number: phone, expires_at: FUTURE }])
    expect((await check(tt, phone)).body.dnc).toBe(true)
    // Let the entry lapse (the clock of the database decides, as every check does).
    await sql`UPDATE suppressions SET expires_at = now() - interval '1 second' WHERE tenant_id = ${tt.tenant.id}`.execute(t.store.db)
    expect((await check(tt, phone)).body).toEqual({ phone_number: phone, dnc: false, expires_at: null })
    expect(await t.services.suppression.isSuppressed(tt.tenant, 'sms', phone)).toBeUndefined()
    expect(await settled(tt, (await outbox(tt, phone, 'After expiry')).id)).toMatchObject({ status: 'sent' })
    const admin = await t.app.inject({ method: 'GET', url: '/admin/suppressions', headers: { authorization: tt.cassAuth } })
    expect(JSON.parse(admin.body).data).toEqual([])
    expect((await add(tt, [{ phone_number: phone }])).body).toEqual([{ phone_number: phone, status: 'created' }])
    expect((await check(tt, phone)).body).toEqual({ phone_number: phone, dnc: true, expires_at: null })
    // A STOP on top of an expired SMS entry opts the number out again (the lapsed entry is replaced).
    await sql`UPDATE suppressions SET expires_at = now() - interval '1 second' WHERE tenant_id = ${tt.tenant.id}`.execute(t.store.db)
    expect((await remove(tt, [phone])).body).toEqual([{ phone_number: phone, status: 'failed', error: 'phone_number is not found' }])
    const stop = await t.services.suppression.add(tt.tenant, { scope: 'sms', address: phone, reason: 'stop_keyword', source: 'test', expiresAt: new Date(Date.now() + 60_000) })
    expect(stop.created).toBe(true)
    await sql`UPDATE suppressions SET expires_at = now() - interval '1 second' WHERE tenant_id = ${tt.tenant.id}`.execute(t.store.db)
    const again = await t.services.suppression.add(tt.tenant, { scope: 'sms', address: phone, reason: 'stop_keyword', source: 'again' })
    expect(again).toMatchObject({ created: true, entry: { source: 'again', expiresAt: null } })
    expect((await outbox(tt, phone, 'x'))).toMatchObject({ status: 'suppressed', suppressed_reason: 'stop_keyword' })
  })
})

it('the check is one index lookup on (tenant_id, address, scope), also beside a large list', async () => {
  const tt = await contactCenter()
  // A list of some size (the bench loads 1,000,000 on PostgreSQL), with statistics, so the planner
  // chooses as it would in production; tiny tables get whatever scan is cheapest.
  await sql`INSERT INTO suppressions (tenant_id, scope, address, reason, source)
    SELECT ${tt.tenant.id}, 'all', '+1415' || lpad(g::text, 7, '0'), 'dnc', 'test' FROM generate_series(1, 20000) AS g`.execute(t.store.db)
  await sql`ANALYZE suppressions`.execute(t.store.db)
  const plan = await sql`EXPLAIN SELECT expires_at FROM suppressions
    WHERE tenant_id = ${tt.tenant.id} AND address = '+14150012345' AND scope IN ('all', 'voice', 'sms', 'whatsapp')
      AND (expires_at IS NULL OR expires_at > now())`.execute(t.store.db)
  const text = plan.rows.map((r) => Object.values(r as object)[0]).join('\n')
  expect(text).toMatch(/Index Scan using suppressions_tenant_id_address_scope_key/)
  expect(text).not.toMatch(/Seq Scan|suppressions_tenant_newest/)
  expect((await check(tt, '+1 415 001 2345')).body).toEqual({ phone_number: '+1 415 001 2345', dnc: true, expires_at: null })
})
