import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB, OutboundWebhooksTable } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { OutboundWebhook, OutboundWebhookErrorCode, OutboundWebhookStatus } from './outbound-webhooks.types.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** Longest error text kept: enough to say what the endpoint answered, bounded. */
const MAX_ERROR = 2000

function toWebhook(row: Selectable<OutboundWebhooksTable>): OutboundWebhook {
  return {
    id: row.id, tenantId: row.tenant_id, topic: row.topic, orderingKey: row.ordering_key, idempotencyKey: row.idempotency_key,
    body: row.body, status: row.status, attempts: row.attempts, url: row.url, responseStatus: row.response_status,
    lastErrorCode: row.last_error_code as OutboundWebhookErrorCode | null, lastError: row.last_error,
    createdAt: row.created_at, updatedAt: row.updated_at, deliveredAt: row.delivered_at,
  }
}

/** What one attempt (or the decision not to make one) records. */
export interface WebhookOutcome {
  readonly status: OutboundWebhookStatus
  /** A POST was made (counted in `attempts`). */
  readonly attempted: boolean
  readonly url?: string | null | undefined
  readonly responseStatus?: number | null | undefined
  readonly errorCode?: OutboundWebhookErrorCode | null | undefined
  readonly error?: string | null | undefined
}

/** Data access for outbound webhooks; every method takes the tenant first. */
export class OutboundWebhooksRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** Insert unless the tenant used the key before; undefined then (nothing written). */
  async insert(db: Executor, tenantId: TenantId, row: { topic: string; orderingKey: string | null; idempotencyKey: string; body: string }): Promise<OutboundWebhook | undefined> {
    const inserted = await db.insertInto('outbound_webhooks')
      .values({ tenant_id: tenantId, topic: row.topic, ordering_key: row.orderingKey, idempotency_key: row.idempotencyKey, body: row.body })
      .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst()
    return inserted ? toWebhook(inserted) : undefined
  }

  async findByKey(db: Executor, tenantId: TenantId, idempotencyKey: string): Promise<OutboundWebhook | undefined> {
    const row = await db.selectFrom('outbound_webhooks').selectAll()
      .where('tenant_id', '=', tenantId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst()
    return row ? toWebhook(row) : undefined
  }

  async find(db: Executor, tenantId: TenantId, id: string): Promise<OutboundWebhook | undefined> {
    const row = await db.selectFrom('outbound_webhooks').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    return row ? toWebhook(row) : undefined
  }

  /** The earliest pending event of the same ordering key enqueued before this one, if any. */
  async pendingBefore(tenantId: TenantId, webhook: OutboundWebhook): Promise<{ id: string } | undefined> {
    if (webhook.orderingKey === null) return undefined
    return this.#db.selectFrom('outbound_webhooks').select('id')
      .where('tenant_id', '=', tenantId).where('ordering_key', '=', webhook.orderingKey).where('status', '=', 'pending')
      .where('seq', '<', (eb) => eb.selectFrom('outbound_webhooks').select('seq').where('tenant_id', '=', tenantId).where('id', '=', webhook.id))
      .orderBy('seq').limit(1)
      .executeTakeFirst()
  }

  /** The next pending event of the same ordering key after this one, if any. */
  async pendingAfter(tenantId: TenantId, webhook: OutboundWebhook): Promise<{ id: string } | undefined> {
    if (webhook.orderingKey === null) return undefined
    return this.#db.selectFrom('outbound_webhooks').select('id')
      .where('tenant_id', '=', tenantId).where('ordering_key', '=', webhook.orderingKey).where('status', '=', 'pending')
      .where('seq', '>', (eb) => eb.selectFrom('outbound_webhooks').select('seq').where('tenant_id', '=', tenantId).where('id', '=', webhook.id))
      .orderBy('seq').limit(1)
      .executeTakeFirst()
  }

  /**
   * Record an outcome on a pending event; undefined when it is no longer pending (settled by an
   * earlier run of its job), so a late outcome never overwrites a settled one.
   */
  async record(tenantId: TenantId, id: string, outcome: WebhookOutcome): Promise<OutboundWebhook | undefined> {
    const row = await this.#db.updateTable('outbound_webhooks')
      .set({
        status: outcome.status,
        attempts: outcome.attempted ? sql`attempts + 1` : sql`attempts`,
        ...(outcome.url !== undefined ? { url: outcome.url } : {}),
        ...(outcome.responseStatus !== undefined ? { response_status: outcome.responseStatus } : {}),
        last_error_code: outcome.errorCode ?? null,
        last_error: outcome.error ? outcome.error.slice(0, MAX_ERROR) : null,
        delivered_at: outcome.status === 'delivered' ? sql`now()` : null,
        updated_at: sql`now()`,
      })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst()
    return row ? toWebhook(row) : undefined
  }

  /** Newest first. */
  async list(tenantId: TenantId, opts: { status?: OutboundWebhookStatus | undefined; topic?: string | undefined; limit: number }): Promise<OutboundWebhook[]> {
    let q = this.#db.selectFrom('outbound_webhooks').selectAll().where('tenant_id', '=', tenantId)
    if (opts.status) q = q.where('status', '=', opts.status)
    if (opts.topic) q = q.where('topic', '=', opts.topic)
    const rows = await q.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(opts.limit).execute()
    return rows.map(toWebhook)
  }
}
