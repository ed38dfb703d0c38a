import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { eventually } from '../../../test/helpers/wait.ts'
import { PersonCache } from './people.cache.ts'
import type { Person } from './people.types.ts'

let t: TestApp
let acme: TestTenant
let other: pg.Pool // a second connection pool: another process, or an operator with psql

beforeAll(async () => {
  t = await startTestApp()
  acme = await createTenant(t.services)
  other = new pg.Pool({ connectionString: t.store.url, max: 1 })
})
afterAll(async () => {
  await other?.end()
  await t?.close()
})

describe('reads by id stay fresh when the person changes elsewhere', () => {
  it('a change made by another connection (another process, raw SQL) is seen by the next reads', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: uniquePhone(), firstName: 'Ann' })
    const get = () => t.services.people.getByRef(acme.tenant, person.cassId)
    expect((await get()).firstName).toBe('Ann')
    expect((await get()).firstName).toBe('Ann') // now served from the cache, when the store has change events
    await other.query(`UPDATE people SET first_name = 'Bea' WHERE id = $1`, [person.id])
    expect((await eventually(get, (p) => p.firstName === 'Bea')).firstName).toBe('Bea')
    // by legacy id too
    await other.query(`UPDATE people SET first_name = 'Cy' WHERE id = $1`, [person.id])
    const byLegacy = () => t.services.people.getByRef(acme.tenant, person.legacyId)
    expect((await eventually(byLegacy, (p) => p.firstName === 'Cy')).firstName).toBe('Cy')
  })

  it('one statement changing 160 people (more than one notification holds) leaves none of them stale', async () => {
    const created = await Promise.all(Array.from({ length: 160 }, (_, n) => t.services.people.create(acme.tenant, { phone: uniquePhone(), firstName: `Many ${n}` })))
    const people = created.map((c) => c.person)
    for (const p of people) expect((await t.services.people.getByRef(acme.tenant, p.cassId)).firstName).toMatch(/^Many /)
    await other.query(`UPDATE people SET first_name = 'Changed' WHERE id = ANY($1::uuid[])`, [people.map((p) => p.id)])
    const stale = await eventually(async () => {
      const now = await Promise.all(people.map((p) => t.services.people.getByRef(acme.tenant, p.cassId)))
      return now.filter((p) => p.firstName !== 'Changed').length
    }, (n) => n === 0)
    expect(stale).toBe(0)
  })

  it('a statement announces its changed people in one notification; a statement changing nobody announces nothing', async () => {
    const people = (await Promise.all(Array.from({ length: 4 }, () => t.services.people.create(acme.tenant, { phone: uniquePhone() })))).map((c) => c.person)
    const [last, ...three] = people
    const heard: string[] = []
    await t.store.notifier.listen('switchboard_person_changed', (payload) => heard.push(payload))
    await other.query(`UPDATE people SET last_name = 'Nobody' WHERE id = '00000000-0000-4000-8000-000000000000'`)
    await other.query(`UPDATE people SET last_name = 'Three' WHERE id = ANY($1::uuid[])`, [three.map((p) => p.id)])
    // Notifications arrive in commit order: once the last statement's is heard, the others' are too.
    await other.query(`UPDATE people SET last_name = 'Last' WHERE id = $1`, [last!.id])
    await eventually(async () => heard.length, () => heard.includes(last!.id))
    const ours = heard.filter((h) => h === '' || h.split(',').some((id) => people.some((p) => p.id === id)))
    expect(ours.map((h) => h.split(',').sort())).toEqual([three.map((p) => p.id).sort(), [last!.id]])
  })

  it('a PATCH through the API is visible to the very next GET of the same process', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: uniquePhone(), firstName: 'Dee' })
    const get = () => t.app.inject({ url: `/external_person/${person.cassId}`, headers: { authorization: acme.cassAuth } })
    expect((await get()).json().first_name).toBe('Dee')
    const r = await t.app.inject({ method: 'PATCH', url: `/external_person/${person.cassId}`, headers: { authorization: acme.cassAuth }, payload: { first_name: 'Eve' } })
    expect(r.statusCode).toBe(200)
    expect((await get()).json().first_name).toBe('Eve')
  })

  it('a deleted person is gone for readers', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: uniquePhone() })
    await t.services.people.getByRef(acme.tenant, person.cassId)
    await other.query(`DELETE FROM people WHERE id = $1`, [person.id])
    const outcome = await eventually(
      () => t.services.people.getByRef(acme.tenant, person.cassId).then(() => 'found', (e: { code?: string }) => e.code ?? 'error'),
      (v) => v !== 'found')
    expect(outcome).toBe('person_not_found')
  })

  it('another tenant never gets a cached person', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: uniquePhone() })
    await t.services.people.getByRef(acme.tenant, person.cassId)
    const intruder = await createTenant(t.services)
    await expect(t.services.people.getByRef(intruder.tenant, person.cassId)).rejects.toMatchObject({ code: 'person_not_in_tenant' })
  })
})

describe('PersonCache', () => {
  const person = { id: 'p1', cassId: 'c1', legacyId: '1001', tenantId: 't1', firstName: 'A' } as unknown as Person

  it('does not cache a read that overlapped a change, nor anything while events may be missed', () => {
    const feed = { healthy: true }
    const cache = new PersonCache(feed)
    const before = cache.generation
    cache.invalidate('p1') // a change notified while the read was in flight
    cache.put(person, before)
    expect(cache.get('c1')).toBeUndefined()
    cache.put(person, cache.generation)
    expect(cache.get('c1')).toBe(person)
    expect(cache.get('1001')).toBe(person)
    feed.healthy = false
    expect(cache.get('c1')).toBeUndefined()
    feed.healthy = true
    cache.clear()
    expect(cache.get('c1')).toBeUndefined()
  })
})
