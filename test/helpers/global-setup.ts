import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { migrate } from '../../src/db/migrate.ts'
import { serveEmbedded } from '../../src/db/store.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** `pglite`: each test file loads `templateFile`; `postgres`: all files share `databaseUrl`. */
    store: 'pglite' | 'postgres'
    templateFile: string
    databaseUrl: string
  }
}

/**
 * Prepare one migrated database for the whole run: on PGlite a dumped data directory every test
 * file starts from (migrating once, not per file); on PostgreSQL a fresh database created for this
 * run and dropped after it. Tests isolate themselves by making their own tenants.
 */
export default async function setup(project: TestProject) {
  const mode = process.env.SWITCHBOARD_TEST_DB === 'postgres' ? 'postgres' : 'pglite'
  if (mode === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'))
    const served = await serveEmbedded('memory://')
    const pool = new pg.Pool({ connectionString: served.url, max: 1 })
    await migrate(pool)
    await pool.end()
    const dump = await served.pglite.dumpDataDir('none')
    const templateFile = join(dir, 'template.tar')
    writeFileSync(templateFile, Buffer.from(await dump.arrayBuffer()))
    await served.stop()
    project.provide('store', 'pglite')
    project.provide('templateFile', templateFile)
    project.provide('databaseUrl', '')
    return () => rmSync(dir, { recursive: true, force: true })
  }
  const admin = process.env.SWITCHBOARD_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `switchboard_test_${Date.now()}_${process.pid}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const url = new URL(admin)
  url.pathname = '/' + name
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 })
  await migrate(pool)
  await pool.end()
  project.provide('store', 'postgres')
  project.provide('templateFile', '')
  project.provide('databaseUrl', url.toString())
  return async () => {
    const c = new pg.Client({ connectionString: admin })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  }
}
