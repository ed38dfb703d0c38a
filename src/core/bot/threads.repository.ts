import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { Thread, ThreadsDocument } from './threads.schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** Data access for a tenant's thread content: versions, and the current threads by name. */
export class ThreadsRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** Whether the tenant's current content has a thread of this name. */
  async exists(tenantId: TenantId, name: string): Promise<boolean> {
    const row = await this.#db.selectFrom('bot_threads').select('name').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst()
    return row !== undefined
  }

  /** The tenant's current version number; 0 when nothing was loaded. */
  async currentVersion(db: Executor, tenantId: TenantId): Promise<number> {
    const row = await db.selectFrom('bot_thread_versions').select(sql<number>`max(version)`.as('v')).where('tenant_id', '=', tenantId).executeTakeFirst()
    return row?.v ?? 0
  }

  async findVersion(tenantId: TenantId, version: number, db: Executor = this.#db): Promise<{ document: ThreadsDocument; source: string; format: 'yaml' | 'json'; createdAt: Date } | undefined> {
    const row = await db.selectFrom('bot_thread_versions').select(['document', 'source', 'format', 'created_at'])
      .where('tenant_id', '=', tenantId).where('version', '=', version).executeTakeFirst()
    return row ? { document: row.document as unknown as ThreadsDocument, source: row.source, format: row.format, createdAt: row.created_at } : undefined
  }

  /**
   * Store a new version (the next number) and make it current: the tenant's bot_threads rows are
   * replaced by its threads. Serialised per tenant by a transaction-scoped advisory lock.
   */
  async insertVersion(trx: Transaction<DB>, tenantId: TenantId, document: ThreadsDocument, source: string, format: 'yaml' | 'json'): Promise<number> {
    await sql`SELECT pg_advisory_xact_lock(hashtext('bot_threads:' || ${tenantId}))`.execute(trx)
    const version = (await this.currentVersion(trx, tenantId)) + 1
    await trx.insertInto('bot_thread_versions').values({ tenant_id: tenantId, version, document: JSON.stringify(document), source, format }).execute()
    await trx.deleteFrom('bot_threads').where('tenant_id', '=', tenantId).execute()
    const rows = Object.entries(document.threads).map(([name, thread]: [string, Thread]) => ({ tenant_id: tenantId, name, definition: JSON.stringify(thread), version }))
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto('bot_threads').values(rows.slice(i, i + 500)).execute()
    return version
  }
}
