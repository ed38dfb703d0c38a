import pg from 'pg'

/** Options of `createPool`. */
export interface PoolOptions {
  /**
   * Told about every connection error (a backend terminated, a reset, a server restart). The pool
   * discards such a connection and opens a new one when next needed; nothing else is to be done,
   * so the default ignores them.
   */
  onError?: (err: Error) => void
  /** Milliseconds an unused connection stays open. Default 30 s. */
  idleTimeoutMillis?: number
}

/**
 * A `pg` pool that survives its connections being cut.
 *
 * `pg` emits `error` on a client whose connection dies, and an `error` nobody listens to ends the
 * process. The pool listens on the clients it holds idle, but takes that listener off while a
 * client is checked out (a Kysely transaction, a migration), so `SELECT pg_terminate_backend(…)`,
 * a reset or a server restart used to kill every process that had a transaction open. Here each
 * client gets a listener for its whole life: the query that was running fails (its transaction
 * rolls back with the connection), the caller sees that error, and the pool drops the dead client
 * when it is released (it is no longer queryable) and connects afresh next time.
 *
 * TCP keep-alive is on, so a connection whose server vanished without closing it is noticed.
 */
export function createPool(url: string, max: number, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000, keepAlive: true })
  const report = (err: Error) => {
    try {
      options.onError?.(err)
    } catch {
      // a failing reporter must not turn a handled error into an unhandled one
    }
  }
  // An idle client's error: the pool removes the client itself.
  pool.on('error', report)
  // A checked-out client's error: the pool has no listener on it then.
  pool.on('connect', (client) => client.on('error', report))
  return pool
}
