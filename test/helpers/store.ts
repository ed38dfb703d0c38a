import { readFileSync } from 'node:fs'
import pg from 'pg'
import { inject } from 'vitest'
import { migrate } from '../../src/db/migrate.ts'
import { openStore, serveEmbedded, type Store } from '../../src/db/store.ts'

/**
 * A migrated store for one test file: on PGlite a fresh in-memory instance loaded from the run's
 * template, on PostgreSQL the run's database (shared by all files: tests isolate by tenant).
 * With `isolated`, PostgreSQL gets a database of its own for this file (made, migrated, dropped on
 * close): for tests whose background workers must be the only ones on the database.
 */
export async function openTestStore(options: { isolated?: boolean } = {}): Promise<Store> {
  if (inject('store') === 'postgres') {
    if (!options.isolated) return openStore({ databaseUrl: inject('databaseUrl'), dataDir: '/nonexistent' })
    const shared = new URL(inject('databaseUrl'))
    const name = `${shared.pathname.slice(1)}_${Math.random().toString(36).slice(2, 10)}`
    const admin = new URL(shared)
    admin.pathname = '/postgres'
    const run = async (statement: string) => {
      const c = new pg.Client({ connectionString: admin.toString() })
      await c.connect()
      try {
        await c.query(statement)
      } finally {
        await c.end()
      }
    }
    await run(`CREATE DATABASE ${name}`)
    const own = new URL(shared)
    own.pathname = '/' + name
    const store = await openStore({ databaseUrl: own.toString(), dataDir: '/nonexistent' })
    await migrate(store.pool)
    return { ...store, close: async () => { await store.close(); await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) } }
  }
  const template = new Blob([readFileSync(inject('templateFile'))])
  return openStore({ embedded: await serveEmbedded('memory://', template), dataDir: '/nonexistent' })
}
