import { readdirSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { createTestDatabase, serveTestEmbedded } from '../../test/helpers/store.ts'
import { migrate } from './migrate.ts'

// An EMPTY database for this file: a new in-memory PGlite as initdb left it, or a new database on the PostgreSQL server.
let url: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  if (inject('store') === 'postgres') {
    const own = await createTestDatabase('empty')
    url = own.url
    cleanup = own.drop
  } else {
    const served = await serveTestEmbedded('empty')
    url = served.url
    cleanup = () => served.stop()
  }
})
afterAll(async () => cleanup?.())

describe('migrate', () => {
  it('migrates an empty database once, even with several migrators at once, and builds the documented schema', async () => {
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: url, max: 1 }))
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)))
      const files = readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) => f.endsWith('.sql'))
      expect(results.flatMap((r) => r.applied).sort()).toEqual(files.sort())
      expect((await migrate(pools[0]!)).applied).toEqual([])

      const db = pools[0]!
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(
        ['tenants', 'tenant_credentials', 'people', 'person_identities', 'bot_threads', 'schema_migrations', 'person']))
      const personColumns = await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'person' ORDER BY ordinal_position`)
      expect(personColumns.rows.map((r) => r.column_name)).toEqual([
        'person_id', 'legacy_person_id', 'core_person_id', 'tenant_id', 'client_name', 'first_name', 'last_name',
        'phone', 'email', 'external_id', 'external_username', 'external_org', 'external_data_1', 'external_data_2',
        'external_data_3', 'protocol', 'language_type', 'gender', 'timezone', 'created_at', 'updated_at'])
      // The database itself refuses what the API must never write.
      const tenant = await db.query<{ id: string }>(`INSERT INTO tenants (name, embed_code) VALUES ('m', 'e') RETURNING id`)
      const tenantId = tenant.rows[0]!.id
      await expect(db.query(`INSERT INTO people (tenant_id, phone) VALUES ($1, '555')`, [tenantId])).rejects.toThrow(/check/)
      await expect(db.query(`INSERT INTO people (tenant_id, protocol) VALUES ($1, 'SMS')`, [tenantId])).rejects.toThrow(/check/)
      const p = await db.query<{ id: string }>(`INSERT INTO people (tenant_id, external_id) VALUES ($1, 'x1') RETURNING id`, [tenantId])
      await expect(db.query(`UPDATE people SET external_id = 'x2' WHERE id = $1`, [p.rows[0]!.id])).rejects.toThrow(/immutable/)
      await expect(db.query(`INSERT INTO people (tenant_id, external_id) VALUES ($1, 'x1')`, [tenantId])).rejects.toThrow(/unique|duplicate/)
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
  })
})
