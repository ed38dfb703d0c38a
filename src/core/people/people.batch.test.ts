import { Kysely, PostgresDialect } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import type { DB } from '../../db/schema.ts'
import { PeopleService } from './people.service.ts'

// Concurrent creates and updates are written together (group commit). These check that it takes
// fewer statements than callers, and that every caller still gets its own answer: a conflict of
// one does not fail the others, and two creates of one phone still make one person.
let t: TestApp
let acme: TestTenant
let db: Kysely<DB>
let people: PeopleService
let statements = 0

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  // Our own service over the test store, counting the statements it sends.
  db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: t.store.pool }), log: (e) => { if (e.level === 'query') statements++ } })
  people = new PeopleService(db)
})
afterAll(async () => {
  await t?.close()
})

describe('concurrent person writes are grouped', () => {
  it('30 simultaneous creates take fewer statements than creates, and make 30 people', async () => {
    statements = 0
    const phones = Array.from({ length: 30 }, () => uniquePhone())
    const results = await Promise.all(phones.map((phone, n) => people.create(acme.tenant, { phone, firstName: `P${n}`, externalId: `batch-${phone}` })))
    expect(results.every((r) => r.created)).toBe(true)
    expect(results.map((r) => r.person.phone)).toEqual(phones)
    expect(results.map((r) => r.person.externalId)).toEqual(phones.map((p) => `batch-${p}`))
    expect(new Set(results.map((r) => r.person.cassId)).size).toBe(30)
    expect(new Set(results.map((r) => r.person.legacyId)).size).toBe(30)
    expect(statements).toBeLessThan(15)
    for (const r of results) expect(await t.services.people.getByRef(acme.tenant, r.person.cassId)).toMatchObject({ phone: r.person.phone, firstName: r.person.firstName })
  })

  it('simultaneous creates of one phone among others make one person of it; the others are created', async () => {
    const shared = uniquePhone()
    const inputs = [
      ...Array.from({ length: 10 }, () => ({ phone: shared })),
      ...Array.from({ length: 10 }, () => ({ phone: uniquePhone() })),
    ]
    const results = await Promise.all(inputs.map((input) => people.create(acme.tenant, input)))
    const ofShared = results.slice(0, 10)
    expect(ofShared.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(ofShared.map((r) => r.person.id)).size).toBe(1)
    expect(results.slice(10).every((r) => r.created)).toBe(true)
  })

  it('30 simultaneous updates take fewer statements than updates; one that conflicts fails alone', async () => {
    const created = await Promise.all(Array.from({ length: 31 }, () => people.create(acme.tenant, { phone: uniquePhone() })))
    const [holder, ...targets] = created.map((r) => r.person)
    statements = 0
    const outcomes = await Promise.allSettled(targets.map((p, n) => people.update(acme.tenant, n % 2 ? p.cassId : p.legacyId, n === 7 ? { phone: holder!.phone! } : { firstName: `Renamed ${n}` })))
    const failed = outcomes.flatMap((o, n) => (o.status === 'rejected' ? [{ n, err: o.reason as { code?: string } }] : []))
    expect(failed.map((f) => [f.n, f.err.code])).toEqual([[7, 'phone_taken']])
    expect(statements).toBeLessThan(30)
    for (const [n, p] of targets.entries()) {
      const now = await t.services.people.getByRef(acme.tenant, p.cassId)
      expect(now.firstName).toBe(n === 7 ? null : `Renamed ${n}`)
      expect(now.phone).toBe(p.phone)
    }
  })

  it('an update of an unknown person or another tenant\'s, grouped with others, gets its own answer', async () => {
    const other = await createTenant(t.services)
    const theirs = (await people.create(other.tenant, { phone: uniquePhone() })).person
    const mine = (await Promise.all(Array.from({ length: 5 }, () => people.create(acme.tenant, { phone: uniquePhone() })))).map((r) => r.person)
    const outcomes = await Promise.allSettled([
      ...mine.map((p) => people.update(acme.tenant, p.cassId, { lastName: 'Ok' })),
      people.update(acme.tenant, theirs.cassId, { lastName: 'No' }),
      people.update(acme.tenant, '00000000-0000-4000-8000-000000000000', { lastName: 'No' }),
    ])
    expect(outcomes.slice(0, 5).every((o) => o.status === 'fulfilled')).toBe(true)
    expect(outcomes.slice(5).map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'ok'))).toEqual(['person_not_in_tenant', 'person_not_found'])
    expect((await t.services.people.getByRef(other.tenant, theirs.cassId)).lastName).toBeNull()
  })
})
