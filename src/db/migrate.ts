import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
/** Arbitrary constant: the advisory lock that serialises migrators across processes. */
const MIGRATION_LOCK = 7_302_001

export interface MigrationResult {
  applied: string[]
  total: number
}

/**
 * Apply the forward-only numbered `.sql` files that are not yet applied. Each file runs in its own
 * transaction that first takes a transaction-scoped advisory lock, so several instances starting at
 * once apply each migration exactly once (the lock is transaction-scoped so it also works over the
 * embedded store's multiplexed connections).
 */
export async function migrate(pool: pg.Pool, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_-]+\.sql$/.test(f)).sort()
  const applied: string[] = []
  const client = await pool.connect()
  try {
    // Under the lock too: two CREATE TABLE IF NOT EXISTS racing can both pass the check and then
    // collide on the table's row type (23505 / 42710), which IF NOT EXISTS does not cover.
    await client.query('BEGIN')
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK')
      throw err
    }
    for (const name of files) {
      const sql = await readFile(dir + name, 'utf8')
      await client.query('BEGIN')
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name])
        if (done.rowCount === 0) {
          await client.query(sql)
          await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name])
          applied.push(name)
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${name} failed: ${(err as Error).message}`, { cause: err })
      }
    }
  } finally {
    client.release()
  }
  return { applied, total: files.length }
}
