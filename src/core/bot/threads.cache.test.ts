import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { eventually } from '../../../test/helpers/wait.ts'

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

describe('the current thread version stays exact while it is kept in the process', () => {
  it('sees its own loads at once, and a version another process (or SQL) adds on its announcement', async () => {
    const current = () => t.services.threads.current(acme.tenant)
    expect((await current()).version).toBe(0)
    await t.services.threads.load(acme.tenant, 'threads:\n  hello:\n    steps:\n      - say: Hi\n')
    expect((await current()).version).toBe(1)
    expect((await current()).thread('hello')).toBeDefined()
    // Another process loads version 2 (here: straight SQL).
    await other.query(`INSERT INTO bot_thread_versions (tenant_id, version, document, source, format)
      VALUES ($1, 2, $2, $3, 'yaml')`, [acme.tenant.id, JSON.stringify({ threads: { bye: { steps: [{ say: 'Bye' }] } } }), 'threads: {}'])
    const seen = await eventually(current, (s) => s.version === 2)
    expect(seen.version).toBe(2)
    expect(seen.thread('bye')).toBeDefined()
    expect(seen.thread('hello')).toBeUndefined()
    // A ping uses that version.
    const { person } = await t.services.people.create(acme.tenant, { phone: '+14155550199' })
    const pinged = await t.services.bot.ping(acme.tenant, { personRef: person.cassId, threadName: 'bye', wait: false })
    expect(pinged.messages.map((m) => m.body)).toEqual(['Bye'])
  })
})
