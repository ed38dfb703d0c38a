import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../../test/helpers/app.ts'
import { countPeople, seedPerson } from '../../../../test/helpers/cass.ts'

// Simultaneous requests over real sockets: the database's unique indexes, not luck, decide.

let t: TestApp
let acme: TestTenant

beforeAll(async () => {
  t = await startTestApp({ listen: true })
  acme = await createTenant(t.services)
})
afterAll(async () => t?.close())

interface Answer { status: number; body: Record<string, unknown> }

async function call(method: string, path: string, body?: Record<string, string>): Promise<Answer> {
  const res = await fetch(t.url + path, {
    method,
    headers: { authorization: acme.cassAuth, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const N = 50

describe('concurrent creates', () => {
  it(`${N} simultaneous POST /external_person of one phone make one person: one 200, ${N - 1} × 409, one person_id`, async () => {
    const phone = uniquePhone()
    const before = await countPeople(t, acme.tenant.id)
    const answers = await Promise.all(Array.from({ length: N }, () => call('POST', '/external_person', { phone })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 409)).toHaveLength(N - 1)
    const ids = new Set(answers.map((a) => a.body.person_id))
    expect(ids.size).toBe(1)
    for (const a of answers) expect(a.body).toMatchObject({ existing_person: a.status === 409, phone })
    expect(await countPeople(t, acme.tenant.id)).toBe(before + 1)
  })

  it(`${N} simultaneous creates of one number, written differently, across both endpoints and all parameter styles`, async () => {
    const phone = uniquePhone()
    const digits = phone.slice(1)
    const spellings = [phone, digits, `00${digits}`, `+1 (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`]
    const requests = Array.from({ length: N }, (_, i) => {
      const p = spellings[i % spellings.length]!
      switch (i % 4) {
        case 0: return call('POST', '/external_person', { phone: p })
        case 1: return call('GET', `/external_person?phone=${encodeURIComponent(p)}`)
        case 2: return call('POST', '/add_external_person', { phone: p, new_id: '1' })
        default: return call('GET', `/add_external_person?new_id=1&phone=${encodeURIComponent(p)}`)
      }
    })
    const answers = await Promise.all(requests)
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array<number>(N - 1).fill(409)])
    expect(new Set(answers.map((a) => a.body.person_id)).size).toBe(1)
    const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM people WHERE tenant_id = ${acme.tenant.id} AND phone = ${phone}`.execute(t.store.db)
    expect(Number(rows.rows[0]!.n)).toBe(1)
  })

  it(`${N} simultaneous creates of one external_id (no phone) make one person`, async () => {
    const answers = await Promise.all(Array.from({ length: N }, () => call('POST', '/external_person', { external_id: 'conc-ext', protocol: 'web' })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 409)).toHaveLength(N - 1)
    expect(new Set(answers.map((a) => a.body.person_id)).size).toBe(1)
  })

  it('the legacy ids handed out under load are unique and all map to their UUIDs', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/add_external_person', { phone: uniquePhone() })))
    expect(answers.every((a) => a.status === 200)).toBe(true)
    const legacy = answers.map((a) => a.body.person_id as string)
    expect(new Set(legacy).size).toBe(legacy.length)
    const maps = await Promise.all(legacy.map((id) => call('GET', `/get_new_id?person_id=${id}`)))
    expect(maps.every((m) => m.status === 200)).toBe(true)
    expect(new Set(maps.map((m) => m.body.new_id)).size).toBe(legacy.length)
  })
})

describe('concurrent updates', () => {
  it('20 people claiming one external_id at once: exactly one gets it, the others 400 External_id already exist', async () => {
    const people = await Promise.all(Array.from({ length: 20 }, () => seedPerson(t, acme, { phone: uniquePhone() })))
    const answers = await Promise.all(people.map((p) => call('PATCH', `/external_person/${p.cassId}`, { external_id: 'contested' })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    const refused = answers.filter((a) => a.status === 400)
    expect(refused).toHaveLength(19)
    for (const a of refused) expect(a.body).toEqual({ message: 'External_id already exist' })
    const owners = await sql<{ n: string }>`SELECT count(*) AS n FROM people WHERE tenant_id = ${acme.tenant.id} AND external_id = 'contested'`.execute(t.store.db)
    expect(Number(owners.rows[0]!.n)).toBe(1)
  })

  it('one person given 20 different external_ids at once keeps exactly the first one to land', async () => {
    const p = await seedPerson(t, acme, { phone: uniquePhone() })
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call('PATCH', `/external_person/${p.legacyId}`, { external_id: `mine-${i}` })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 400)).toHaveLength(19)
    const winner = answers.findIndex((a) => a.status === 200)
    const read = await call('GET', `/external_person/${p.cassId}`)
    expect(read.body.external_id).toBe(`mine-${winner}`)
  })
})
