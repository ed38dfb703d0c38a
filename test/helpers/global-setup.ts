import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { loadConfig } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { openStore, serveEmbedded, type Store } from '../../src/db/store.ts'
import { createServices } from '../../src/services.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** `pglite`: each test file loads `templateFile`; `postgres`: all files share `databaseUrl`. */
    store: 'pglite' | 'postgres'
    /** PGlite: a dumped data directory, migrated, with the job queue's schema and queues. */
    templateFile: string
    /** PGlite: a dumped data directory straight after initdb (for tests of migrating). */
    emptyTemplateFile: string
    /** PostgreSQL: the run's shared database. */
    databaseUrl: string
    /** PostgreSQL: the migrated database that the shared one and every isolated one are copies of. */
    templateDatabase: string
  }
}

/**
 * Install what the app needs before its first request, as a fresh database of the run would get it
 * from the first app: our migrations, then pg-boss's schema and our queues (what `jobs.start()`
 * does; seconds on PGlite, so once here instead of once per test file).
 */
async function prepare(store: Store): Promise<void> {
  await migrate(store.pool)
  const config = loadConfig({ SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent' })
  const services = createServices(config, store)
  await services.jobs.start()
  await services.jobs.stop()
  await services.providers.close()
}

/** Close a store, and its pool even when nothing went through Kysely (whose destroy would end it). */
async function closeStore(store: Store): Promise<void> {
  await store.close()
  if (!store.pool.ending) await store.pool.end()
}

/**
 * Prepare one migrated database for the whole run (both projects), so no test file migrates:
 * - PGlite: dumped data directories every test file starts a fresh in-memory instance from
 *   (`templateFile`, and `emptyTemplateFile` for the migration tests).
 * - PostgreSQL: a migrated template database made for this run; the run's shared database and
 *   every isolated one (`openTestStore({isolated: true})`) are `CREATE DATABASE … TEMPLATE` copies
 *   of it. All are dropped after the run.
 */
export default async function setup(project: TestProject) {
  const mode = process.env.SWITCHBOARD_TEST_DB === 'postgres' ? 'postgres' : 'pglite'
  project.provide('store', mode)
  project.provide('templateFile', '')
  project.provide('emptyTemplateFile', '')
  project.provide('databaseUrl', '')
  project.provide('templateDatabase', '')
  if (mode === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'))
    const served = await serveEmbedded('memory://')
    const dump = async (name: string) => {
      const file = join(dir, name)
      writeFileSync(file, Buffer.from(await (await served.pglite.dumpDataDir('none')).arrayBuffer()))
      return file
    }
    project.provide('emptyTemplateFile', await dump('empty.tar'))
    const store = await openStore({ embedded: served, dataDir: '/nonexistent', poolSize: 1 })
    try {
      await prepare(store)
      project.provide('templateFile', await dump('template.tar'))
    } finally {
      await closeStore(store)
    }
    return () => rmSync(dir, { recursive: true, force: true })
  }

  const admin = process.env.SWITCHBOARD_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `switchboard_test_${Date.now()}_${process.pid}`
  const template = `${name}_template`
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: admin })
    await c.connect()
    try {
      await c.query(statement)
    } finally {
      await c.end()
    }
  }
  const urlOf = (db: string) => {
    const url = new URL(admin)
    url.pathname = '/' + db
    return url.toString()
  }
  const drop = async () => {
    await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await run(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
  }
  try {
    await run(`CREATE DATABASE ${template}`)
    const store = await openStore({ databaseUrl: urlOf(template), dataDir: '/nonexistent', poolSize: 1 })
    try {
      await prepare(store)
    } finally {
      await closeStore(store)
    }
    // A template must have no connections while it is copied; nothing connects to it after this.
    await run(`CREATE DATABASE ${name} TEMPLATE ${template}`)
  } catch (err) {
    await drop()
    throw err
  }
  project.provide('databaseUrl', urlOf(name))
  project.provide('templateDatabase', template)
  return drop
}
