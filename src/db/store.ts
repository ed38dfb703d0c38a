import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { createPool } from './pool.ts'
import { pgliteNotifier, postgresNotifier, silentNotifier, type Notifier } from './notifier.ts'
import type { DB } from './schema.ts'
import { lockHolder, releaseLock, tryLock } from './dir-lock.ts'
import { ForwardingProxy } from './forwarding-proxy.ts'

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
  /** How long to wait for another process that holds the embedded data directory to serve it (ms). */
  ownerWaitMs?: number
  /** Stop waiting for another process's store (a signal during start-up). */
  signal?: AbortSignal
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

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  // A host that is stopping resets the connection; without a listener that 'error' event would
  // crash this process instead of answering "not yet".
  client.on('error', () => {})
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
      // PGlite may have closed itself already (an abort); closing again would only throw.
      if (!pglite.closed) await pglite.close()
    },
  }
}

/** How long a process waits for another process that holds the data directory to serve it. */
const OWNER_WAIT_MS = 60_000

function readInfo(file: string): EmbeddedInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedInfo
    return Number.isInteger(info.pid) && Number.isInteger(info.port) ? info : undefined
  } catch {
    return undefined
  }
}

/**
 * A stop asked for while PGlite creates a new data directory (initdb: many seconds) need not wait
 * for it: the half-made directory is removed when the process exits, before the lock is released
 * (an exit hook that runs ahead of the lock's own), so the next start creates it anew.
 */
function abandonOnAbort(signal: AbortSignal, files: string, opening: Promise<EmbeddedServer>): Promise<never> {
  return new Promise<never>((_, reject) => {
    const abandon = () => {
      process.prependListener('exit', () => rmSync(files, { recursive: true, force: true }))
      opening.then((s) => s.stop(), () => {}).catch(() => {})
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    }
    if (signal.aborted) abandon()
    else signal.addEventListener('abort', abandon, { once: true })
  })
}

/** The embedded store of one data directory, as this process sees it: hosted here, or borrowed. */
class EmbeddedDir {
  readonly dir: string
  readonly lockFile: string
  readonly infoFile: string
  hosted: EmbeddedServer | undefined

  constructor(dir: string) {
    this.dir = dir
    this.lockFile = join(dir, 'embedded.lock')
    this.infoFile = join(dir, 'embedded.json')
  }

  /**
   * Host the store here (when the lock can be taken) or find the port of the process that hosts
   * it, waiting while that process starts or stops; refuses with a clear message after `waitMs`.
   */
  async acquire(waitMs: number, signal?: AbortSignal): Promise<{ hosted: true; server: EmbeddedServer } | { hosted: false; port: number }> {
    const deadline = Date.now() + waitMs
    for (;;) {
      signal?.throwIfAborted()
      if (tryLock(this.lockFile)) return { hosted: true, server: await this.host(signal) }
      const holder = lockHolder(this.lockFile)
      const info = readInfo(this.infoFile)
      if (holder !== undefined && info?.pid === holder && (await canConnect(embeddedUrl(info.port)))) return { hosted: false, port: info.port }
      if (Date.now() > deadline) {
        throw new Error(`The embedded store in ${this.dir} is held by process ${holder ?? '?'} (lock file ${this.lockFile}), which has not served it within ${Math.round(waitMs / 1000)} s. ` +
          'Stop that process, or use DATABASE_URL; if no such process runs, remove the lock file.')
      }
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 150))
    }
  }

  /** With the lock held: open PGlite, serve it, and say where (written atomically). */
  async host(signal?: AbortSignal): Promise<EmbeddedServer> {
    const files = join(this.dir, 'pglite')
    const fresh = !existsSync(files)
    let server: EmbeddedServer
    try {
      const opening = serveEmbedded(files)
      server = signal && fresh ? await Promise.race([opening, abandonOnAbort(signal, files, opening)]) : await opening
    } catch (err) {
      // Abandoned: the lock stays held until the exit hooks have removed the half-made files.
      if (signal?.aborted && fresh) throw err
      releaseLock(this.lockFile)
      throw err
    }
    const tmp = `${this.infoFile}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify({ pid: process.pid, port: Number(new URL(server.url).port) } satisfies EmbeddedInfo))
    renameSync(tmp, this.infoFile)
    this.hosted = server
    return server
  }

  /** Stop hosting (if this process hosts it) and give the directory up. */
  async close(): Promise<void> {
    const server = this.hosted
    this.hosted = undefined
    if (!server) return
    try {
      await server.stop()
    } finally {
      if (readInfo(this.infoFile)?.pid === process.pid) rmSync(this.infoFile, { force: true })
      releaseLock(this.lockFile)
    }
  }
}

/**
 * Open the configured store. With `DATABASE_URL`, that PostgreSQL server. Otherwise the embedded
 * PGlite store in `<dataDir>/pglite`. PGlite allows one process per data directory: a process
 * takes the exclusive lock `<dataDir>/embedded.lock` (an atomic create holding its pid; a lock
 * whose process is gone is broken) *before* it opens PGlite, then hosts it on a loopback port
 * recorded in `<dataDir>/embedded.json`. Any other process (the CLI while a server runs, a second
 * server) waits for that port and borrows it through a local forwarding port; when the owner
 * stops, the borrower takes the lock and hosts the store itself (or borrows from a new owner).
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const poolSize = options.poolSize ?? 10
  if (options.embedded) {
    const served = options.embedded
    return makeStore(served.url, 'embedded', poolSize, pgliteNotifier(served), () => served.stop())
  }
  if (options.databaseUrl) return makeStore(options.databaseUrl, 'postgres', poolSize, postgresNotifier(options.databaseUrl), async () => {})

  mkdirSync(options.dataDir, { recursive: true })
  const dir = new EmbeddedDir(options.dataDir)
  const waitMs = options.ownerWaitMs ?? OWNER_WAIT_MS
  const first = await dir.acquire(waitMs, options.signal)
  if (first.hosted) {
    return makeStore(first.server.url, 'embedded', poolSize, pgliteNotifier(first.server), () => dir.close())
  }
  // Borrowed: when the owner's port stops answering, find the next one (possibly our own).
  const proxy = new ForwardingProxy(first.port, async () => {
    const next = await dir.acquire(waitMs)
    return next.hosted ? Number(new URL(next.server.url).port) : next.port
  })
  let port: number
  try {
    port = await proxy.listen()
  } catch (err) {
    await proxy.stop()
    throw err
  }
  return makeStore(embeddedUrl(port), 'embedded-remote', Math.min(poolSize, 4), silentNotifier(), async () => {
    await proxy.stop()
    await dir.close()
  })
}
