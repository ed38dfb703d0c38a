import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
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

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))

/**
 * What the PGlite dumps depend on: PGlite's and pg-boss's versions, the migrations and how they run,
 * and this file. The job queues need not be in it: starting the queue creates or updates them.
 */
function templateKey(): string {
  const hash = createHash('sha256')
  const files = [
    'node_modules/@electric-sql/pglite/package.json', 'node_modules/pg-boss/package.json', 'src/db/migrate.ts', 'test/helpers/global-setup.ts',
    ...readdirSync(root('migrations')).sort().map((f) => `migrations/${f}`),
  ]
  for (const f of files) hash.update(f).update('\0').update(readFileSync(root(f))).update('\0')
  return hash.digest('hex').slice(0, 16)
}

/**
 * The PGlite dumps: made once (initdb alone takes seconds) and kept in the system's temporary
 * directory under a key of everything they depend on, so later runs on this machine reuse them.
 * Keys unused for a day are removed (a run touches its own).
 */
async function pgliteTemplates(): Promise<{ empty: string; migrated: string }> {
  const cache = join(tmpdir(), 'switchboard-test-templates')
  const dir = join(cache, templateKey())
  const empty = join(dir, 'empty.tar')
  const migrated = join(dir, 'migrated.tar')
  const now = new Date()
  if (existsSync(empty) && existsSync(migrated)) {
    utimesSync(dir, now, now)
    return { empty, migrated }
  }
  mkdirSync(dir, { recursive: true })
  const used = (d: string) => {
    try {
      return statSync(d).mtimeMs
    } catch {
      return 0 // removed meanwhile by another run
    }
  }
  // Only keys unused for a day go: another run on this machine (another checkout, a run of other
  // migrations) may be using its key right now, and evicting by count removed a running CI's dumps.
  const others = readdirSync(cache).map((d) => join(cache, d)).filter((d) => d !== dir)
  for (const old of others.filter((d) => now.getTime() - used(d) > 24 * 3600_000)) rmSync(old, { recursive: true, force: true })
  const served = await serveEmbedded('memory://')
  // Written under a name of this process's own, then renamed: runs at once never see half a file.
  const dump = async (file: string) => {
    const partial = `${file}.${process.pid}`
    writeFileSync(partial, Buffer.from(await (await served.pglite.dumpDataDir('none')).arrayBuffer()))
    renameSync(partial, file)
  }
  await dump(empty)
  const store = await openStore({ embedded: served, dataDir: '/nonexistent', poolSize: 1 })
  try {
    await prepare(store)
    await dump(migrated)
  } finally {
    await closeStore(store)
  }
  return { empty, migrated }
}

/**
 * Prepare one migrated database for the whole run (both projects), so no test file migrates:
 * - PGlite: dumped data directories every in-memory instance of the run starts from
 *   (`templateFile`, and `emptyTemplateFile` for the migration tests), kept for later runs.
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
    const { empty, migrated } = await pgliteTemplates()
    project.provide('emptyTemplateFile', empty)
    project.provide('templateFile', migrated)
    return
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
