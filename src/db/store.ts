import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { createPool } from './pool.ts'
import { pgliteNotifier, postgresNotifier, silentNotifier, type Notifier } from './notifier.ts'
import type { DB } from './schema.ts'

/** The open database: a `pg` pool and Kysely over it, whichever store backs it. */
export interface Store {
  readonly db: Kysely<DB>
  readonly pool: pg.Pool
  /** The connection URL (for pg-boss and for other processes). */
  readonly url: string
  /** `embedded` when this process hosts PGlite; `embedded-remote` when it uses another process's. */
  readonly kind: 'postgres' | 'embedded' | 'embedded-remote'
  /** Cross-process events (LISTEN/NOTIFY, or PGlite's in-process listeners). */
  readonly notifier: Notifier
  close(): Promise<void>
}

export interface OpenStoreOptions {
  databaseUrl?: string | undefined
  dataDir: string
  /** Pool size; the embedded store serialises queries anyway, so it needs few. */
  poolSize?: number
  /** An embedded server this process already hosts (tests): use it instead of `databaseUrl`. */
  embedded?: EmbeddedServer
}

// int8 (legacy ids, counts) stays a string: JavaScript numbers lose precision past 2^53.
// numeric too. Timestamps become Date (pg's default).

function makeStore(url: string, kind: Store['kind'], poolSize: number, notifier: Notifier, onClose: () => Promise<void>): Store {
  const pool = createPool(url, poolSize)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  let closed = false
  return {
    db, pool, url, kind, notifier,
    async close() {
      if (closed) return
      closed = true
      await notifier.close()
      await db.destroy()
      await onClose()
    },
  }
}

interface EmbeddedInfo { pid: number; port: number }

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

function embeddedUrl(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
}

/** A PGlite instance served on a loopback port. */
export interface EmbeddedServer {
  readonly url: string
  readonly pglite: import('@electric-sql/pglite').PGlite
  /** Receive every notification committed through the socket server. */
  onNotification(handler: (channel: string, payload: string) => void): void
  stop(): Promise<void>
}

/**
 * Host PGlite from `dir` (a data directory, or `memory://`) and serve it on a loopback port so
 * the app uses the same `pg` code path as on PostgreSQL. `loadDataDir` seeds a fresh instance
 * (tests start from an already-migrated copy).
 */
export async function serveEmbedded(dir: string, loadDataDir?: Blob): Promise<EmbeddedServer> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { EmbeddedSocketServer } = await import('./embedded-server.ts')
  const pglite = await PGlite.create(dir, loadDataDir ? { loadDataDir } : {})
  const server = new EmbeddedSocketServer(pglite)
  const port = await server.listen(0)
  return {
    url: embeddedUrl(port),
    pglite,
    onNotification(handler) {
      server.onNotification = handler
    },
    async stop() {
      await server.stop()
      await pglite.close()
    },
  }
}

/**
 * Open the configured store. With `DATABASE_URL`, that PostgreSQL server. Otherwise the embedded
 * PGlite store in `<dataDir>/pglite`: PGlite allows one process per data directory, so the first
 * process hosts it on a loopback port recorded in `<dataDir>/embedded.json`, and any later process
 * (the CLI while a server runs) connects to that port instead of opening the files twice.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const poolSize = options.poolSize ?? 10
  if (options.embedded) {
    const served = options.embedded
    return makeStore(served.url, 'embedded', poolSize, pgliteNotifier(served), () => served.stop())
  }
  if (options.databaseUrl) return makeStore(options.databaseUrl, 'postgres', poolSize, postgresNotifier(options.databaseUrl), async () => {})

  mkdirSync(options.dataDir, { recursive: true })
  const infoFile = join(options.dataDir, 'embedded.json')
  if (existsSync(infoFile)) {
    try {
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as EmbeddedInfo
      if (info.pid !== process.pid && pidAlive(info.pid) && (await canConnect(embeddedUrl(info.port)))) {
        return makeStore(embeddedUrl(info.port), 'embedded-remote', Math.min(poolSize, 4), silentNotifier(), async () => {})
      }
    } catch {
      // unreadable or stale: we host it ourselves below
    }
  }
  const hosted = await serveEmbedded(join(options.dataDir, 'pglite'))
  const port = Number(new URL(hosted.url).port)
  writeFileSync(infoFile, JSON.stringify({ pid: process.pid, port } satisfies EmbeddedInfo))
  return makeStore(hosted.url, 'embedded', poolSize, pgliteNotifier(hosted), async () => {
    await hosted.stop()
    try {
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as EmbeddedInfo
      if (info.pid === process.pid) rmSync(infoFile)
    } catch {
      // already gone
    }
  })
}
