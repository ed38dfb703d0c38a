import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB, JobKeysTable } from '../db/schema.ts'
import type { JobKey } from './types.ts'
import type { TenantId } from '../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

function toJobKey(row: Selectable<JobKeysTable>): JobKey {
  return {
    queue: row.queue, key: row.key, jobId: row.job_id, tenantId: row.tenant_id, state: row.state,
    attempts: row.attempts, lastError: row.last_error, runAt: row.run_at, createdAt: row.created_at,
    updatedAt: row.updated_at, finishedAt: row.finished_at,
  }
}

/** Longest error text kept: enough for a stack-less message, bounded so a huge error cannot bloat rows. */
const MAX_ERROR = 4000

/**
 * The idempotency ledger (`job_keys`). Keys are per queue and not per tenant: a job key names the
 * thing it acts on (`outbox:<id>`), which is already unique, and system jobs have no tenant.
 */
export class JobKeysRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** Take the key for a new job; undefined when it was already taken (then nothing is written). */
  async insert(trx: Executor, row: { queue: string; key: string; jobId: string; tenantId: TenantId | null; runAt: Date }): Promise<boolean> {
    const inserted = await trx.insertInto('job_keys')
      .values({ queue: row.queue, key: row.key, job_id: row.jobId, tenant_id: row.tenantId, run_at: row.runAt })
      .onConflict((oc) => oc.columns(['queue', 'key']).doNothing())
      .returning('job_id')
      .executeTakeFirst()
    return inserted !== undefined
  }

  /**
   * Take many keys of one queue in one statement; returns the keys that were free (and are now
   * taken). Keys already taken are left as they were.
   */
  async insertMany(trx: Executor, queue: string, rows: ReadonlyArray<{ key: string; jobId: string; tenantId: TenantId | null; runAt: Date }>): Promise<Set<string>> {
    if (rows.length === 0) return new Set()
    const inserted = await trx.insertInto('job_keys')
      .values(rows.map((r) => ({ queue, key: r.key, job_id: r.jobId, tenant_id: r.tenantId, run_at: r.runAt })))
      .onConflict((oc) => oc.columns(['queue', 'key']).doNothing())
      .returning('key')
      .execute()
    return new Set(inserted.map((r) => r.key))
  }

  /** The job ids of keys of one queue, by key. */
  async jobIds(db: Executor, queue: string, keys: readonly string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map()
    const rows = await db.selectFrom('job_keys').select(['key', 'job_id']).where('queue', '=', queue).where('key', 'in', keys).execute()
    return new Map(rows.map((r) => [r.key, r.job_id]))
  }

  async find(db: Executor, queue: string, key: string): Promise<JobKey | undefined> {
    const row = await db.selectFrom('job_keys').selectAll().where('queue', '=', queue).where('key', '=', key).executeTakeFirst()
    return row ? toJobKey(row) : undefined
  }

  /**
   * Mark attempts as started, unless a key is finished or belongs to another job: the check a worker
   * makes before acting, for a batch of one queue in one statement. Answers the attempt number by
   * job id for the jobs that may run; a job absent from the answer must be skipped.
   */
  async claimMany(queue: string, jobs: ReadonlyArray<{ key: string; jobId: string }>): Promise<Map<string, number>> {
    if (jobs.length === 0) return new Map()
    const result = await sql<{ job_id: string; attempts: number }>`
      UPDATE job_keys k SET state = 'running', attempts = k.attempts + 1, updated_at = now()
      FROM unnest(${jobs.map((j) => j.key)}::text[], ${jobs.map((j) => j.jobId)}::uuid[]) AS v(key, job_id)
      WHERE k.queue = ${queue} AND k.key = v.key AND k.job_id = v.job_id AND k.state NOT IN ('completed', 'dead')
      RETURNING k.job_id, k.attempts`.execute(this.#db)
    return new Map(result.rows.map((r) => [r.job_id, r.attempts]))
  }

  /** Mark jobs of one queue completed, in one statement. */
  async completeMany(queue: string, jobs: ReadonlyArray<{ key: string; jobId: string }>): Promise<void> {
    if (jobs.length === 0) return
    await sql`
      UPDATE job_keys k SET state = 'completed', last_error = NULL, updated_at = now(), finished_at = now()
      FROM unnest(${jobs.map((j) => j.key)}::text[], ${jobs.map((j) => j.jobId)}::uuid[]) AS v(key, job_id)
      WHERE k.queue = ${queue} AND k.key = v.key AND k.job_id = v.job_id`.execute(this.#db)
  }

  async recordFailure(queue: string, key: string, jobId: string, error: string): Promise<void> {
    await this.#db.updateTable('job_keys')
      .set({ state: 'retrying', last_error: error.slice(0, MAX_ERROR), updated_at: sql`now()` })
      .where('queue', '=', queue).where('key', '=', key).where('job_id', '=', jobId)
      .where('state', 'not in', ['completed', 'dead'])
      .execute()
  }

  /** Record the dead-lettering; false when it was already recorded (the dead-letter job ran twice). */
  async markDead(queue: string, key: string, jobId: string, error: string): Promise<boolean> {
    const row = await this.#db.updateTable('job_keys')
      .set({ state: 'dead', last_error: error.slice(0, MAX_ERROR), updated_at: sql`now()`, finished_at: sql`now()` })
      .where('queue', '=', queue).where('key', '=', key).where('job_id', '=', jobId)
      .where('state', '!=', 'dead')
      .returning('job_id')
      .executeTakeFirst()
    return row !== undefined
  }

  /** Forget completed keys finished before `before`; dead keys stay as the dead-letter record. */
  async pruneCompleted(before: Date, limit: number): Promise<number> {
    const result = await sql<{ n: number }>`
      WITH gone AS (
        DELETE FROM job_keys WHERE ctid IN (
          SELECT ctid FROM job_keys WHERE state = 'completed' AND finished_at < ${before} LIMIT ${limit})
        RETURNING 1)
      SELECT count(*)::int AS n FROM gone`.execute(this.#db)
    return result.rows[0]?.n ?? 0
  }

  /** Keys of a queue in a state, newest first (the dead-letter list). */
  async listByState(queue: string, state: JobKey['state'], limit: number): Promise<JobKey[]> {
    const rows = await this.#db.selectFrom('job_keys').selectAll()
      .where('queue', '=', queue).where('state', '=', state)
      .orderBy('updated_at', 'desc').limit(limit).execute()
    return rows.map(toJobKey)
  }
}
