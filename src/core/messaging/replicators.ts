import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError } from '../errors.ts'
import { UUID } from '../../lib/uuid.ts'

/** The directory import's name among the replicators (`classpath`). */
export const DIRECTORY_IMPORT_REPLICATOR = 'switchboard.messaging.DirectoryImport'

/** A replicator (#87, #88): an import/sync worker of the tenant and when it last ran. */
export interface Replicator {
  readonly id: string
  readonly classpath: string
  readonly createdAt: Date
  readonly lastPollAt: Date
}

/**
 * Replicators (`spec/courier.md` #87, #88): the workers that bring the directory in. Each records
 * its run (`ran`, in the run's own transaction, so a refused import records nothing); the API lists
 * them per tenant.
 */
export class ReplicatorsService {
  readonly #db: Kysely<DB>

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async list(tenantId: TenantId): Promise<Replicator[]> {
    const rows = await this.#db.selectFrom('msg_replicators').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute()
    return rows.map(toReplicator)
  }

  async find(tenantId: TenantId, id: string): Promise<Replicator> {
    const row = UUID.test(id) ? await this.#db.selectFrom('msg_replicators').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst() : undefined
    if (!row) throw new NotFoundError('resource_not_found', `No replicators with id ${id}`, { type: 'replicators', id })
    return toReplicator(row)
  }
}

/** Record that `classpath` ran for the tenant now (first run: the row is made). */
export async function replicatorRan(trx: Transaction<DB> | Kysely<DB>, tenantId: TenantId, classpath: string): Promise<void> {
  await trx.insertInto('msg_replicators').values({ tenant_id: tenantId, classpath })
    .onConflict((oc) => oc.columns(['tenant_id', 'classpath']).doUpdateSet({ last_poll_at: sql`now()` })).execute()
}

function toReplicator(r: { id: string; classpath: string; created_at: Date; last_poll_at: Date }): Replicator {
  return { id: r.id, classpath: r.classpath, createdAt: r.created_at, lastPollAt: r.last_poll_at }
}
