import { Kysely, PostgresDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { openTestStore } from '../../../test/helpers/store.ts'
import { loadConfig } from '../../config.ts'
import type { DB } from '../../db/schema.ts'
import type { Store } from '../../db/store.ts'
import { createServices, type Services } from '../../services.ts'
import { PeopleLookups } from './people.lookups.ts'

// What other domains read of the directory, in their own transactions: tenant-scoped, one
// statement per batch, and the one write they make (the bot's stored answers) announced like any
// change of a person.
let store: Store
let services: Services
let acme: TestTenant
let other: TestTenant
let db: Kysely<DB>
let statements = 0
const changed: string[] = []
const lookups = new PeopleLookups({ onChange: (id) => changed.push(id) })

beforeAll(async () => {
  store = await openTestStore()
  services = createServices(loadConfig({ SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent' }), store)
  acme = await createTenant(services)
  other = await createTenant(services)
  // The same store, counting the statements the lookups send.
  db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: store.pool }), log: (e) => { if (e.level === 'query') statements++ } })
})
afterAll(async () => {
  await store?.close()
})

describe('people lookups', () => {
  it('batch reads are one statement each, whatever the batch size, and see only the tenant', async () => {
    const phones = Array.from({ length: 20 }, () => uniquePhone())
    const mine = await Promise.all(phones.map((phone) => services.people.create(acme.tenant, { phone })))
    const theirs = await services.people.create(other.tenant, { phone: uniquePhone() })
    const ids = mine.map((r) => r.person.id)

    statements = 0
    const byPhone = await lookups.idsByPhones(db, acme.tenant.id, [...phones, theirs.person.phone!])
    const existing = await lookups.existingIds(db, acme.tenant.id, [...ids, theirs.person.id])
    const many = await lookups.findMany(db, acme.tenant.id, [...ids, theirs.person.id])
    expect(statements).toBe(3)
    expect([...byPhone.entries()].sort()).toEqual(phones.map((p, n) => [p, ids[n]]).sort())
    expect(existing).toEqual(new Set(ids))
    expect([...many.keys()].sort()).toEqual([...ids].sort())
    expect(many.get(ids[0]!)).toEqual(mine[0]!.person)

    // Nothing to look up is no statement at all.
    statements = 0
    expect((await lookups.idsByPhones(db, acme.tenant.id, [])).size).toBe(0)
    expect((await lookups.idsByEmails(db, acme.tenant.id, [])).size).toBe(0)
    expect((await lookups.existingIds(db, acme.tenant.id, [])).size).toBe(0)
    expect((await lookups.findMany(db, acme.tenant.id, [])).size).toBe(0)
    expect(statements).toBe(0)
  })

  it('e-mail addresses match case-insensitively, the oldest person of an address first', async () => {
    const older = (await services.people.create(acme.tenant, { phone: uniquePhone() })).person
    const newer = (await services.people.create(acme.tenant, { phone: uniquePhone() })).person
    const address = `Shared.${older.id}@Example.org`
    await sql`UPDATE people SET email = ${address} WHERE id IN (${older.id}, ${newer.id})`.execute(store.db)
    statements = 0
    const found = await lookups.idsByEmails(db, acme.tenant.id, [address.toUpperCase(), address])
    expect(statements).toBe(1)
    expect([...found.entries()]).toEqual([[address.toLowerCase(), older.id]])
    expect((await lookups.idsByEmails(db, other.tenant.id, [address])).size).toBe(0)
  })

  it('finds one person by core id, Cass id or external id, only in their tenant', async () => {
    const { person } = await services.people.create(acme.tenant, { externalId: `lookup-${uniquePhone()}`, protocol: 'web', firstName: 'Ada' })
    expect(await lookups.findById(db, acme.tenant.id, person.id)).toEqual(person)
    expect(await lookups.findByCassId(db, acme.tenant.id, person.cassId.toUpperCase())).toEqual(person)
    expect(await lookups.findByExternalId(db, acme.tenant.id, person.externalId!)).toEqual(person)
    expect(await lookups.findById(db, other.tenant.id, person.id)).toBeUndefined()
    expect(await lookups.findByCassId(db, other.tenant.id, person.cassId)).toBeUndefined()
    expect(await lookups.findByExternalId(db, other.tenant.id, person.externalId!)).toBeUndefined()
    // Not a UUID: no statement, no person.
    statements = 0
    expect(await lookups.findByCassId(db, acme.tenant.id, person.legacyId)).toBeUndefined()
    expect(statements).toBe(0)
  })

  it('tells whether another of the tenant’s people has an external id', async () => {
    const externalId = `taken-${uniquePhone()}`
    const { person: holder } = await services.people.create(acme.tenant, { phone: uniquePhone(), externalId })
    const { person: asker } = await services.people.create(acme.tenant, { phone: uniquePhone() })
    expect(await lookups.externalIdTaken(db, acme.tenant.id, asker.id, externalId)).toBe(true)
    expect(await lookups.externalIdTaken(db, acme.tenant.id, holder.id, externalId)).toBe(false)
    expect(await lookups.externalIdTaken(db, other.tenant.id, asker.id, externalId)).toBe(false)
  })

  it('stores an answer in the caller’s transaction, external_id only while unset, and announces the change', async () => {
    const { person } = await services.people.create(acme.tenant, { phone: uniquePhone(), firstName: 'Before' })
    // Cached by the directory (it has the change notifier) before the answer is stored.
    expect((await services.people.getByRef(acme.tenant, person.cassId)).firstName).toBe('Before')
    changed.length = 0
    await store.db.transaction().execute(async (trx) => {
      await services.peopleLookups.storeAnswer(trx, acme.tenant.id, person.id, 'firstName', 'After')
      await lookups.storeAnswer(trx, acme.tenant.id, person.id, 'externalId', 'first-answer')
      await lookups.storeAnswer(trx, acme.tenant.id, person.id, 'externalId', 'second-answer')
      await lookups.storeAnswer(trx, other.tenant.id, person.id, 'lastName', 'Not theirs')
    })
    expect(changed).toEqual([person.id, person.id, person.id])
    const after = await services.people.getByRef(acme.tenant, person.cassId)
    expect(after).toMatchObject({ firstName: 'After', externalId: 'first-answer', lastName: null })
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(person.updatedAt.getTime())

    // Rolled back, nothing is kept.
    await expect(store.db.transaction().execute(async (trx) => {
      await lookups.storeAnswer(trx, acme.tenant.id, person.id, 'externalData1', 'gone')
      throw new Error('roll back')
    })).rejects.toThrow('roll back')
    expect((await lookups.findById(db, acme.tenant.id, person.id))?.externalData1).toBeNull()
  })
})
