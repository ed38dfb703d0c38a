import { readFileSync } from 'node:fs'
import pg from 'pg'
import { inject } from 'vitest'
import { openStore, serveEmbedded, type EmbeddedServer, type Store } from '../../src/db/store.ts'

/** The run's dumped PGlite data directories, read once per worker (files of a worker share them). */
const dumps = new Map<string, Blob>()
function dump(file: string): Blob {
  let blob = dumps.get(file)
  if (!blob) dumps.set(file, (blob = new Blob([readFileSync(file)])))
  return blob
}

/** Run one statement on the PostgreSQL server's maintenance database (CREATE/DROP DATABASE). */
async function onServer(statement: string): Promise<void> {
  const admin = new URL(inject('databaseUrl'))
  admin.pathname = '/postgres'
  const c = new pg.Client({ connectionString: admin.toString() })
  await c.connect()
  try {
    await c.query(statement)
  } finally {
    await c.end()
  }
}

/**
 * A database of this file's own on the PostgreSQL server: a copy of the run's migrated template
 * (`template: 'migrated'`, a few hundred milliseconds, no migrating) or an empty one
 * (`template: 'empty'`). Dropped by the returned `drop()`.
 */
export async function createTestDatabase(template: 'migrated' | 'empty'): Promise<{ url: string; drop(): Promise<void> }> {
  const shared = new URL(inject('databaseUrl'))
  const name = `${shared.pathname.slice(1)}_${Math.random().toString(36).slice(2, 10)}`
  await onServer(template === 'migrated' ? `CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}` : `CREATE DATABASE ${name}`)
  const own = new URL(shared)
  own.pathname = '/' + name
  return { url: own.toString(), drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/**
 * A fresh in-memory PGlite served on a loopback port: migrated, with the job queue installed, from
 * the run's template, or (`empty`) as initdb left it.
 */
export async function serveTestEmbedded(template: 'migrated' | 'empty' = 'migrated'): Promise<EmbeddedServer> {
  return serveEmbedded('memory://', dump(inject(template === 'migrated' ? 'templateFile' : 'emptyTemplateFile')))
}

/** This worker's PGlite, shared by the test files it runs one after another (see openTestStore). */
let workerEmbedded: Promise<EmbeddedServer> | undefined
const notificationHandlers = new Set<(channel: string, payload: string) => void>()

/**
 * A view of this worker's PGlite for one store: its notifications reach every open store, and
 * stopping it leaves the instance running for the next file.
 */
async function sharedEmbedded(): Promise<EmbeddedServer> {
  workerEmbedded ??= serveTestEmbedded().then((served) => {
    served.onNotification((channel, payload) => {
      for (const h of notificationHandlers) h(channel, payload)
    })
    return served
  })
  const served = await workerEmbedded
  let handler: ((channel: string, payload: string) => void) | undefined
  return {
    url: served.url,
    pglite: served.pglite,
    onNotification(h) {
      if (handler) notificationHandlers.delete(handler)
      notificationHandlers.add((handler = h))
    },
    async stop() {
      if (handler) notificationHandlers.delete(handler)
    },
  }
}

/**
 * A migrated store for one test file, shared with other files the way the PostgreSQL server is
 * (tests isolate by making their own tenants):
 * - PostgreSQL: the run's database, shared by all files.
 * - PGlite: the worker's in-memory instance, loaded once from the run's template and shared by the
 *   files that worker runs one after another (PGlite takes a second to start; files of one worker
 *   never run at the same time).
 * With `isolated`, the file gets a database of its own (on PostgreSQL a copy of the run's template,
 * dropped on close; on PGlite a fresh instance, stopped on close): for tests whose background
 * workers must be the only ones on the database, or that count what is in it.
 */
export async function openTestStore(options: { isolated?: boolean } = {}): Promise<Store> {
  if (inject('store') === 'postgres') {
    if (!options.isolated) return openStore({ databaseUrl: inject('databaseUrl'), dataDir: '/nonexistent' })
    const own = await createTestDatabase('migrated')
    const store = await openStore({ databaseUrl: own.url, dataDir: '/nonexistent' })
    return { ...store, close: async () => { await store.close(); await own.drop() } }
  }
  return openStore({ embedded: options.isolated ? await serveTestEmbedded() : await sharedEmbedded(), dataDir: '/nonexistent' })
}
