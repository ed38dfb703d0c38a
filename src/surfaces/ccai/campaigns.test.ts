import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Campaign contacts K1–K7 (spec/ccai.md §2.5, §3.8, §4.3) over HTTP: the seed's samples as contract
// tests, every refusal in the spec's words with nothing written, the import job (CSV and JSON, good
// and bad rows) polled through K4/K5, DNC numbers added as "Do Not Call", and campaigns declared in
// the setup file keeping their ids across reloads.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp({ workers: true })
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
const SETUP = (extra = '') => `
settings: { rate_limit: 100000 }
teams: [{ name: Sales }]
agents: [{ email: camp@example.org, first_name: C, last_name: P, teams: [Sales] }]
menus: [{ name: Phone, type: ivr, children: [{ name: Outbound, channels: [call], teams: [Sales] }] }]
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns:
  - { name: Renewals, caller_id: "+1 628-555-0199", queue: "Phone / Outbound", mode: predictive, pacing_ratio: 1.5,
      calling_hours: { weekly: [{ day: monday, open: "09:00", close: "18:00" }] }, retry: { max_attempts: 2, delay: 30m, statuses: [Not Picked Up] } }
${extra}`

async function tenant(extra = ''): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, SETUP(extra), 'yaml')
  return tt
}
async function call(tt: TestTenant, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
  const r = await t.app.inject({
    method, url: `/apps/api/v1/outbound_dialer/campaigns/${url}`, headers: { authorization: tt.ccaiAuth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null, headers: r.headers }
}
function multipart(parts: Array<{ name: string; filename?: string; content: string }>) {
  const boundary = '----sbcampaign' + Math.random().toString(16).slice(2)
  const body = parts.map((p) => `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n\r\n${p.content}\r\n`).join('') + `--${boundary}--\r\n`
  return { body, type: `multipart/form-data; boundary=${boundary}` }
}
async function upload(tt: TestTenant, campaign: number, content: string, filename = 'contacts.csv') {
  const form = multipart([{ name: 'file', filename, content }])
  const r = await t.app.inject({ method: 'POST', url: `/apps/api/v1/outbound_dialer/campaigns/${campaign}/contacts/import`, headers: { authorization: tt.ccaiAuth, 'content-type': form.type }, payload: form.body })
  return { status: r.statusCode, body: JSON.parse(r.body) as Json, headers: r.headers }
}
const contactRows = (tt: TestTenant) => t.store.db.selectFrom('cc_campaign_contacts').selectAll().where('tenant_id', '=', tt.tenant.id).orderBy('num').execute()
async function finished(tt: TestTenant, campaign: number, job: number): Promise<Json> {
  return waitFor('the import to finish', async () => {
    const r = await call(tt, 'GET', `${campaign}/contacts/jobs/${job}`)
    return r.body.status === 'finished' || r.body.status === 'failed' ? r.body : undefined
  }, 60_000)
}
const SAMPLE = { name: 'string', email: 'customer@somedomain.com', phone_number: '+1 111-111-1111', outbound_number: '+1 760-867-5309', external_unique_id: 'UID_123456' }

describe('K1 add a contact, K2 list', () => {
  it('the seed’s body: 201 with the contact in the shape of §3.8, status Upcoming, numbers in E.164', async () => {
    const tt = await tenant()
    const r = await call(tt, 'POST', '1/contacts', SAMPLE)
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      assigned_call_id: null, assigned_participant_id: null, campaign_id: 1, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), id: 1,
      name: 'string', outbound_number: '+17608675309', priority: null, status: 'Upcoming', unique_id: 'UID_123456', updated_at: expect.any(String),
      phone_number: '+11111111111', phone: '+11111111111', email: 'customer@somedomain.com', external_unique_id: 'UID_123456',
    })
    // The documented key order of the seed's list sample, then the extra keys.
    expect(Object.keys(r.body).slice(0, 11)).toEqual(['assigned_call_id', 'assigned_participant_id', 'campaign_id', 'created_at', 'id', 'name', 'outbound_number', 'priority', 'status', 'unique_id', 'updated_at'])
    const list = await call(tt, 'GET', '1/contacts')
    expect(list.status).toBe(200)
    expect(list.body).toEqual([r.body])
  })

  it('a number on the company DNC list is added as "Do Not Call"', async () => {
    const tt = await tenant()
    const phone = uniquePhone()
    const listed = await t.app.inject({ method: 'POST', url: '/apps/api/v1/outbound_dialer/dnc', headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' }, payload: { contacts: [{ phone_number: phone }] } })
    expect(listed.statusCode).toBe(200)
    expect((await call(tt, 'POST', '1/contacts', { phone_number: phone, name: 'Listed' })).body.status).toBe('Do Not Call')
    expect((await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone(), name: 'Free' })).body.status).toBe('Upcoming')
  })

  it('refusals in the spec’s words, nothing written', async () => {
    const tt = await tenant()
    const phone = uniquePhone()
    expect((await call(tt, 'POST', '1/contacts', { phone_number: phone })).status).toBe(201)
    const cases: Array<[string, unknown, number, string]> = [
      ['1/contacts', { phone_number: phone }, 400, 'phone_number has already been taken'],
      ['1/contacts', { phone_number: `+1 (${phone.slice(2, 5)}) ${phone.slice(5)}` }, 400, 'phone_number has already been taken'],
      ['1/contacts', { phone_number: '12345' }, 400, 'phone_number is invalid'],
      ['1/contacts', { phone_number: 'call me' }, 400, 'phone_number is invalid'],
      ['1/contacts', { name: 'No phone' }, 400, 'param is missing or the value is empty: phone_number'],
      ['1/contacts', { phone_number: '' }, 400, 'param is missing or the value is empty: phone_number'],
      ['1/contacts', { phone_number: uniquePhone(), outbound_number: 'nope' }, 400, 'outbound_number is invalid'],
      ['1/contacts', { phone_number: uniquePhone(), email: 'not-an-email' }, 400, 'email is invalid'],
      ['1/contacts', { phone_number: uniquePhone(), name: { first: 'x' } }, 400, 'name is invalid'],
      ['2/contacts', { phone_number: uniquePhone() }, 404, 'Not Found'],
      ['abc/contacts', { phone_number: uniquePhone() }, 404, 'Not Found'],
      ['99999999999/contacts', { phone_number: uniquePhone() }, 404, 'Not Found'],
    ]
    for (const [url, body, status, message] of cases) {
      const r = await call(tt, 'POST', url, body)
      expect([r.status, r.body], `${url} ${JSON.stringify(body)}`).toEqual([status, { message }])
    }
    expect(await contactRows(tt)).toHaveLength(1)
    expect(await call(tt, 'GET', '2/contacts')).toMatchObject({ status: 404, body: { message: 'Not Found' } })
  })
})

describe('K6 update, K7 remove', () => {
  it('the seed’s bodies: update by contact_id, then remove (200 with the removed contact)', async () => {
    const tt = await tenant()
    const added = (await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone(), name: 'Before' })).body
    const upd = await call(tt, 'PATCH', '1/contact', { contact_id: added.id, name: 'string', email: 'customer@somedomain.com', phone_number: '+1 111-111-1111', external_unique_id: 'UID_123456' })
    expect(upd.status).toBe(200)
    expect(upd.body).toMatchObject({ id: added.id, name: 'string', email: 'customer@somedomain.com', phone_number: '+11111111111', unique_id: 'UID_123456', status: 'Upcoming', outbound_number: null })
    // contact_id as a string (§1.3); an absent key is unchanged.
    expect((await call(tt, 'PATCH', '1/contact', { contact_id: String(added.id), email: null })).body).toMatchObject({ name: 'string', email: null })
    // K7's extra matchers must match: a different phone answers as an unknown contact.
    expect(await call(tt, 'DELETE', '1/contact', { contact_id: added.id, phone_number: '+1 222-222-2222' })).toMatchObject({ status: 404, body: { message: 'Not Found' } })
    const del = await call(tt, 'DELETE', '1/contact', { contact_id: added.id, phone_number: '+1 111-111-1111', external_unique_id: 'UID_123456' })
    expect(del.status).toBe(200)
    expect(del.body).toMatchObject({ id: added.id, name: 'string', phone_number: '+11111111111' })
    expect(await contactRows(tt)).toHaveLength(0)
    expect(await call(tt, 'DELETE', '1/contact', { contact_id: added.id })).toMatchObject({ status: 404, body: { message: 'Not Found' } })
  })

  it('a changed number is checked against the DNC list again', async () => {
    const tt = await tenant()
    const listed = uniquePhone()
    await t.services.dnc.add(tt.tenant, [{ phone: listed, expiresAt: null }], { source: 'test' })
    const added = (await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone() })).body
    expect((await call(tt, 'PATCH', '1/contact', { contact_id: added.id, phone_number: listed })).body.status).toBe('Do Not Call')
    expect((await call(tt, 'PATCH', '1/contact', { contact_id: added.id, phone_number: uniquePhone() })).body.status).toBe('Upcoming')
    // A contact an agent skipped in preview is back in the pool, so its new number is checked too.
    await t.store.db.updateTable('cc_campaign_contacts').set({ status: 'Skipped' }).where('tenant_id', '=', tt.tenant.id).where('num', '=', added.id).execute()
    expect((await call(tt, 'PATCH', '1/contact', { contact_id: added.id, phone_number: listed })).body.status).toBe('Do Not Call')
  })

  it('refusals: missing contact_id, unknown contact or campaign, taken number, a contact the dialer holds', async () => {
    const tt = await tenant()
    const one = (await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone(), name: 'One' })).body
    const two = (await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone(), name: 'Two' })).body
    await t.store.db.updateTable('cc_campaign_contacts').set({ status: 'Dialing' }).where('tenant_id', '=', tt.tenant.id).where('num', '=', two.id).execute()
    const before = await contactRows(tt)
    for (const method of ['PATCH', 'DELETE'] as const) {
      const cases: Array<[string, unknown, number, string]> = [
        ['1/contact', { name: 'x' }, 400, 'param is missing or the value is empty: contact_id'],
        ['1/contact', { contact_id: '' }, 400, 'param is missing or the value is empty: contact_id'],
        ['1/contact', { contact_id: 4242 }, 404, 'Not Found'],
        ['1/contact', { contact_id: 'abc' }, 404, 'Not Found'],
        ['2/contact', { contact_id: one.id }, 404, 'Not Found'],
        ['1/contact', { contact_id: two.id, name: 'x' }, 400, 'Contact cannot be updated in status Dialing'],
      ]
      for (const [url, body, status, message] of cases) {
        const r = await call(tt, method, url, body)
        expect([r.status, r.body], `${method} ${url} ${JSON.stringify(body)}`).toEqual([status, { message }])
      }
    }
    expect(await call(tt, 'PATCH', '1/contact', { contact_id: one.id, phone_number: two.phone_number })).toMatchObject({ status: 400, body: { message: 'phone_number has already been taken' } })
    expect(await call(tt, 'PATCH', '1/contact', { contact_id: one.id, phone_number: 'x' })).toMatchObject({ status: 400, body: { message: 'phone_number is invalid' } })
    expect(await contactRows(tt)).toEqual(before)
  })
})

describe('K3 import, K4/K5 its job', () => {
  it('CSV: 201 with the job and its Location, then good rows imported and bad rows reported by row', async () => {
    const tt = await tenant()
    const listed = uniquePhone()
    await t.services.dnc.add(tt.tenant, [{ phone: listed, expiresAt: null }], { source: 'test' })
    const [a, b] = [uniquePhone(), uniquePhone()]
    const csv = [
      'name,phone_number,email,outbound_number,external_unique_id',
      `Ann,${a},ann@example.org,,U1`,
      'Bad,12345,,,',
      `"Lee, Jr.",${listed},,+1 760-867-5309,U3`,
      `Dup,${a},,,`,
      `Mail,${b},nope,,`,
      'NoPhone,,,,',
    ].join('\r\n')
    const r = await upload(tt, 1, csv)
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ id: expect.any(Number), job_id: r.body.id, campaign_id: 1, status: 'created', filename: 'contacts.csv', total_rows: 0, finished_at: null })
    expect(r.headers.location).toBe(`/apps/api/v1/outbound_dialer/campaigns/1/contacts/jobs/${r.body.id}`)
    const job = await finished(tt, 1, r.body.id)
    expect(job).toMatchObject({ status: 'finished', total_rows: 6, imported_rows: 2, failed_rows: 4, finished_at: expect.any(String) })
    expect(job.errors).toEqual([
      { row: 2, message: 'phone_number is invalid' },
      { row: 4, message: 'phone_number has already been taken' },
      { row: 5, message: 'email is invalid' },
      { row: 6, message: 'param is missing or the value is empty: phone_number' },
    ])
    const contacts = (await call(tt, 'GET', '1/contacts')).body
    expect(contacts.map((c: Json) => [c.name, c.phone_number, c.status, c.unique_id, c.outbound_number])).toEqual([
      ['Ann', a, 'Upcoming', 'U1', null],
      ['Lee, Jr.', listed, 'Do Not Call', 'U3', '+17608675309'],
    ])
    // K5: newest first.
    const second = await upload(tt, 1, JSON.stringify([{ name: 'Z', phone_number: uniquePhone() }]), 'more.json')
    await finished(tt, 1, second.body.id)
    const jobs = (await call(tt, 'GET', '1/contacts/jobs')).body
    expect(jobs.map((j: Json) => [j.id, j.filename, j.imported_rows])).toEqual([[second.body.id, 'more.json', 1], [r.body.id, 'contacts.csv', 2]])
  })

  it('JSON: the spec’s array of objects; items that are not objects fail on their own', async () => {
    const tt = await tenant()
    const a = uniquePhone()
    const r = await upload(tt, 1, JSON.stringify([
      { name: 'string', phone_number: a, email: 'customer@somedomain.com', outbound_number: '+1 760-867-5309', external_unique_id: 'UID_1' },
      'just text',
      { name: 'No number' },
      { name: 'Bad caller', phone_number: uniquePhone(), outbound_number: 'x' },
    ]), 'multi_contacts.json')
    expect(r.status).toBe(201)
    const job = await finished(tt, 1, r.body.id)
    expect(job).toMatchObject({ status: 'finished', total_rows: 4, imported_rows: 1, failed_rows: 3 })
    expect(job.errors).toEqual([
      { row: 2, message: 'row is not a contact object' },
      { row: 3, message: 'param is missing or the value is empty: phone_number' },
      { row: 4, message: 'outbound_number is invalid' },
    ])
    expect((await contactRows(tt)).map((c) => [c.phone, c.unique_id, c.email])).toEqual([[a, 'UID_1', 'customer@somedomain.com']])
  })

  it('a file that cannot be read fails its job as a whole; nothing imported', async () => {
    const tt = await tenant()
    const bad = await upload(tt, 1, '[{"phone_number": "+14155550100"', 'broken.json')
    expect(await finished(tt, 1, bad.body.id)).toMatchObject({ status: 'failed', imported_rows: 0, errors: [{ row: 0, message: 'file is not valid JSON' }] })
    const noPhone = await upload(tt, 1, 'name,email\nA,a@example.org\n')
    expect(await finished(tt, 1, noPhone.body.id)).toMatchObject({ status: 'failed', errors: [{ row: 0, message: 'the CSV header names no phone_number column' }] })
    expect(await contactRows(tt)).toHaveLength(0)
  })

  it('refusals: no file, an unknown campaign or job', async () => {
    const tt = await tenant()
    const noFile = multipart([{ name: 'other', content: 'x' }])
    const cases = [
      { headers: { 'content-type': noFile.type }, payload: noFile.body },
      { headers: { 'content-type': 'application/json' }, payload: '{}' },
      { headers: { 'content-type': multipart([]).type }, payload: multipart([{ name: 'file', content: '' }]).body },
    ]
    for (const c of cases) {
      const r = await t.app.inject({ method: 'POST', url: '/apps/api/v1/outbound_dialer/campaigns/1/contacts/import', headers: { authorization: tt.ccaiAuth, ...c.headers }, payload: c.payload })
      expect([r.statusCode, JSON.parse(r.body)]).toEqual([400, { message: 'param is missing or the value is empty: file' }])
    }
    expect((await upload(tt, 7, 'phone_number\n+14155550100\n')).status).toBe(404)
    expect(await call(tt, 'GET', '1/contacts/jobs/1')).toMatchObject({ status: 404, body: { message: 'Not Found' } })
    expect(await call(tt, 'GET', '7/contacts/jobs')).toMatchObject({ status: 404, body: { message: 'Not Found' } })
    expect(await t.store.db.selectFrom('cc_campaign_imports').select('num').where('tenant_id', '=', tt.tenant.id).execute()).toEqual([])
  })
})

describe('campaigns in the setup file', () => {
  it('keep their ids across reloads by name; a campaign gone from the file answers 404', async () => {
    const tt = await tenant(`  - { name: Winback, caller_id: "+16285550199", queue: "Phone/Outbound" }`)
    const rows = async () => t.store.db.selectFrom('cc_campaigns').select(['num', 'name', 'mode', 'pacing_ratio', 'calling_hours', 'retry', 'deleted']).where('tenant_id', '=', tt.tenant.id).orderBy('num').execute()
    const first = await rows()
    expect(first.map((r) => [r.num, r.name, r.mode, r.pacing_ratio, r.deleted])).toEqual([[1, 'Renewals', 'predictive', 1.5, false], [2, 'Winback', 'progressive', 1, false]])
    expect(first[0]!.retry).toEqual({ max_attempts: 2, delay: '30m', statuses: ['Not Picked Up'] })
    expect((first[1]!.calling_hours as { weekly: unknown[] }).weekly).toHaveLength(7)
    expect((await call(tt, 'POST', '2/contacts', { phone_number: uniquePhone() })).status).toBe(201)
    // Reload without Renewals and with Winback first: Winback keeps id 2, Renewals is gone.
    await t.services.ccSetup.load(tt.tenant.id, SETUP().replace(/campaigns:[\s\S]*$/, 'campaigns: [{ name: Winback, caller_id: "+16285550199", queue: "Phone / Outbound", mode: preview }]\n'), 'yaml')
    expect((await rows()).map((r) => [r.num, r.name, r.mode, r.deleted])).toEqual([[1, 'Renewals', 'predictive', true], [2, 'Winback', 'preview', false]])
    expect((await call(tt, 'GET', '2/contacts')).body).toHaveLength(1)
    expect(await call(tt, 'GET', '1/contacts')).toMatchObject({ status: 404, body: { message: 'Not Found' } })
  })

  it('a campaign naming an unknown queue, caller id or duplicate name is refused at its path', async () => {
    const tt = await createTenant(t.services)
    const bad = SETUP(`  - { name: Renewals, caller_id: "+1 415-555-0100", queue: "Phone / Nowhere" }`)
    await expect(t.services.ccSetup.load(tt.tenant.id, bad, 'yaml')).rejects.toMatchObject({
      code: 'invalid_contact_center',
      details: { errors: expect.arrayContaining([
        'campaigns[1].name: "Renewals" is listed twice',
        'campaigns[1].caller_id: +14155550100 is not one of phone_numbers with voice',
        'campaigns[1].queue: "Phone / Nowhere" is not a leaf menu serving calls',
      ]) },
    })
    await expect(t.services.ccSetup.load(tt.tenant.id, SETUP().replace('delay: 30m', 'delay: soon'), 'yaml')).rejects.toMatchObject({
      details: { errors: ['campaigns[0].retry.delay: not a duration (use 30s, 10m, 2h)'] },
    })
  })

  it('the demo setup declares a campaign that takes contacts', async () => {
    const tt = await createTenant(t.services)
    await t.services.threads.load(tt.tenant, readFileSync(new URL('../../../examples/threads/demo.yaml', import.meta.url), 'utf8'), 'yaml')
    await t.services.ccSetup.load(tt.tenant.id, readFileSync(new URL('../../../examples/contact-center/demo.yaml', import.meta.url), 'utf8'), 'yaml')
    expect((await t.services.campaigns.list(tt.tenant.id)).map((c) => [c.num, c.name, c.callerId, c.mode])).toEqual([[1, 'Flu shot reminders', '+14155550100', 'progressive']])
    expect((await call(tt, 'POST', '1/contacts', { phone_number: uniquePhone(), name: 'Demo' })).status).toBe(201)
  })

  it('the published JSON Schema describes campaigns', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/schemas/contact-center.json' })
    const schema = JSON.parse(r.body)
    expect(Object.keys(schema.properties.campaigns.items.properties)).toEqual(['name', 'caller_id', 'queue', 'mode', 'pacing_ratio', 'calling_hours', 'retry', 'preview'])
  })
})
