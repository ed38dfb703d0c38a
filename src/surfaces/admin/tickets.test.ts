import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// CRM tickets of the built-in CRM adapter on the admin API (`/admin/tickets`) and in the
// contact-center setup file, through HTTP: bad input refused with nothing written, tenants apart.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
async function call(tt: TestTenant, method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Json }> {
  const r = await t.app.inject({
    method, url: `/admin${url}`, headers: { authorization: tt.cassAuth, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  })
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
}
const rows = (tt: TestTenant) => t.store.db.selectFrom('crm_tickets').selectAll().where('tenant_id', '=', tt.tenant.id).orderBy('ticket_id').execute()

describe('/admin/tickets', () => {
  it('creates, reads, lists, changes and deletes a ticket', async () => {
    const tt = await createTenant(t.services)
    const created = await call(tt, 'POST', '/tickets', { ticket_id: 'T-1001', subject: 'Late order', contact: { name: 'Ada Lovelace', phone: '+1 (415) 555-0101', email: 'Ada@Example.org' } })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.data).toMatchObject({
      ticket_id: 'T-1001', subject: 'Late order', source: 'admin', url: expect.stringMatching(/\/admin\/tickets\/T-1001$/),
      contact: { id: expect.stringMatching(/^contact-/), name: 'Ada Lovelace', phone: '+14155550101', email: 'ada@example.org' },
    })
    expect(await call(tt, 'GET', '/tickets/T-1001')).toEqual({ status: 200, body: created.body })
    await call(tt, 'POST', '/tickets', { ticket_id: 'T-0999', contact: { id: 'crm-7', phone: '+14155550102' } })
    const list = await call(tt, 'GET', '/tickets')
    expect(list.body.data.map((x: Json) => [x.ticket_id, x.contact.id])).toEqual([['T-0999', 'crm-7'], ['T-1001', created.body.data.contact.id]])
    expect((await call(tt, 'GET', '/tickets?limit=1&after=T-0999')).body.data.map((x: Json) => x.ticket_id)).toEqual(['T-1001'])

    const changed = await call(tt, 'PATCH', '/tickets/T-1001', { subject: null, contact: { phone: '+44 20 7946 0958', email: null } })
    expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    expect(changed.body.data).toMatchObject({ subject: null, contact: { id: created.body.data.contact.id, name: 'Ada Lovelace', phone: '+442079460958', email: null } })

    expect(await call(tt, 'DELETE', '/tickets/T-1001')).toEqual({ status: 204, body: null })
    expect(await call(tt, 'GET', '/tickets/T-1001')).toEqual({ status: 404, body: { message: 'no ticket T-1001', code: 'ticket_not_found' } })
    expect(await call(tt, 'DELETE', '/tickets/T-1001')).toMatchObject({ status: 404, body: { code: 'ticket_not_found' } })
    expect((await rows(tt)).map((r) => r.ticket_id)).toEqual(['T-0999'])
  })

  it('refuses bad input with 400 (409 for a taken id) and writes nothing', async () => {
    const tt = await createTenant(t.services)
    await call(tt, 'POST', '/tickets', { ticket_id: 'KEEP', contact: { name: 'Kept', phone: '+14155550103' } })
    const before = await rows(tt)
    const creates: Array<[unknown, number, string]> = [
      [{ contact: {} }, 400, 'invalid_request'],
      [{ ticket_id: 'T 1', contact: {} }, 400, 'ticket_invalid'],
      [{ ticket_id: '-x', contact: {} }, 400, 'ticket_invalid'],
      [{ ticket_id: 'T-2' }, 400, 'invalid_request'],
      [{ ticket_id: 'T-2', contact: { phone: '555-CALL' } }, 400, 'ticket_invalid'],
      [{ ticket_id: 'T-2', contact: { email: 'not-an-address' } }, 400, 'ticket_invalid'],
      [{ ticket_id: 'T-2', contact: { name: 'x'.repeat(201) } }, 400, 'invalid_request'],
      [{ ticket_id: 'T-2', contact: { name: 'a\u0000b' } }, 400, 'ticket_invalid'],
      [{ ticket_id: 'T-2', contact: {}, extra: 1 }, 400, 'invalid_request'],
      [{ ticket_id: 'T-2', contact: { phone: ['+14155550100'] } }, 400, 'invalid_request'],
      [{ ticket_id: 'KEEP', contact: {} }, 409, 'ticket_exists'],
      ['{not json', 400, 'invalid_request'],
    ]
    for (const [body, status, code] of creates) {
      const r = await call(tt, 'POST', '/tickets', body)
      expect({ body, status: r.status, code: r.body.code }).toEqual({ body, status, code })
    }
    expect((await call(tt, 'POST', '/tickets', 'ticket_id=x', 'application/x-www-form-urlencoded')).status).toBe(415)
    const patches: Array<[unknown, number, string]> = [
      [{ contact: { phone: '12' } }, 400, 'ticket_invalid'],
      [{ contact: { email: 'nobody' } }, 400, 'ticket_invalid'],
      [{ subject: 42, contact: { phone: '+14155550100' } }, 400, 'invalid_request'],
      [{ contact: { id: null } }, 400, 'invalid_request'],
    ]
    for (const [body, status, code] of patches) {
      const r = await call(tt, 'PATCH', '/tickets/KEEP', body)
      expect({ body, status: r.status, code: r.body.code }).toEqual({ body, status, code })
    }
    expect(await call(tt, 'PATCH', '/tickets/NOPE', { subject: 'x' })).toMatchObject({ status: 404, body: { code: 'ticket_not_found' } })
    expect(await rows(tt)).toEqual(before)
  })

  it('keeps tenants apart: another tenant’s ticket is not found, listed, changed or deleted', async () => {
    const a = await createTenant(t.services)
    const b = await createTenant(t.services)
    await call(a, 'POST', '/tickets', { ticket_id: 'SHARED-1', contact: { name: 'A', phone: '+14155550104' } })
    expect((await call(b, 'GET', '/tickets')).body.data).toEqual([])
    expect((await call(b, 'GET', '/tickets/SHARED-1')).status).toBe(404)
    expect((await call(b, 'PATCH', '/tickets/SHARED-1', { subject: 'mine' })).status).toBe(404)
    expect((await call(b, 'DELETE', '/tickets/SHARED-1')).status).toBe(404)
    // The same id is free in the other tenant, and each keeps its own contact.
    expect((await call(b, 'POST', '/tickets', { ticket_id: 'SHARED-1', contact: { name: 'B', phone: '+14155550105' } })).status).toBe(201)
    expect((await call(a, 'GET', '/tickets/SHARED-1')).body.data.contact).toMatchObject({ name: 'A', phone: '+14155550104' })
    expect(await t.services.crmTickets.findTicket(b.tenant.id, 'SHARED-1')).toMatchObject({ contact: { name: 'B' } })
    expect((await t.app.inject({ method: 'GET', url: '/admin/tickets' })).statusCode).toBe(401)
  })
})

describe('tickets in the contact-center setup file', () => {
  const setup = (tickets: string) => `
teams: [{ name: Desk }]
tickets:
${tickets}
`
  it('writes the file’s tickets by id on every load, keeps the contact id, leaves other tickets alone', async () => {
    const tt = await createTenant(t.services)
    await call(tt, 'POST', '/tickets', { ticket_id: 'ADMIN-1', contact: { phone: '+14155550106' } })
    const first = await call(tt, 'PUT', '/contact-center', setup(`  - { id: CASE-1, subject: Refund, contact: { name: Grace Hopper, phone: "+1 415 555 0107", email: grace@example.org } }
  - { id: CASE-2, contact: { id: crm-42, name: No Phone } }`), 'application/yaml')
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    const loaded = await call(tt, 'GET', '/tickets/CASE-1')
    expect(loaded.body.data).toMatchObject({ subject: 'Refund', source: 'setup', contact: { name: 'Grace Hopper', phone: '+14155550107', email: 'grace@example.org' } })
    expect((await call(tt, 'GET', '/tickets/CASE-2')).body.data.contact).toEqual({ id: 'crm-42', name: 'No Phone', phone: null, email: null })

    const again = await call(tt, 'PUT', '/contact-center', setup('  - { id: CASE-1, contact: { name: Grace B. Hopper, phone: "+14155550108" } }'), 'application/yaml')
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    const updated = (await call(tt, 'GET', '/tickets/CASE-1')).body.data
    expect(updated).toMatchObject({ subject: null, contact: { id: loaded.body.data.contact.id, name: 'Grace B. Hopper', phone: '+14155550108', email: null } })
    expect((await rows(tt)).map((r) => r.ticket_id)).toEqual(['ADMIN-1', 'CASE-1', 'CASE-2'])
  })

  it('reports every problem of the tickets at its path and writes nothing', async () => {
    const tt = await createTenant(t.services)
    const shape = await call(tt, 'PUT', '/contact-center', setup(`  - { id: "bad id", contact: { email: nobody } }
  - { contact: {} }`), 'application/yaml')
    expect(shape.status).toBe(400)
    expect(shape.body).toMatchObject({ code: 'invalid_contact_center' })
    expect(shape.body.errors).toEqual([
      'tickets[0].id: must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"', 'tickets[0].contact.email: not an email address', 'tickets[1]: missing "id"',
    ])
    const rules = await call(tt, 'PUT', '/contact-center', setup(`  - { id: DUP, contact: { phone: "12" } }
  - { id: DUP, contact: {} }`), 'application/yaml')
    expect(rules.status).toBe(400)
    expect(rules.body.errors).toEqual(['tickets[0].contact.phone: not a phone number with its country code', 'tickets[1].id: "DUP" is listed twice'])
    expect(await rows(tt)).toEqual([])
  })
})
