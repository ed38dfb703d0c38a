import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB, InboundMessagesTable, OutboxMessagesTable } from '../../db/schema.ts'
import type { Channel } from './delivery.types.ts'
import type { InboundMessage, OutboxMessage, SuppressionReason } from './delivery.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** Longest error text kept on a message. */
const MAX_ERROR = 2000

function toOutbox(row: Selectable<OutboxMessagesTable>): OutboxMessage {
  return {
    id: row.id, tenantId: row.tenant_id, channel: row.channel as Channel, personId: row.person_id,
    to: row.recipient, from: row.sender, subject: row.subject, body: row.body, data: row.payload,
    idempotencyKey: row.idempotency_key, status: row.status, provider: row.provider,
    providerMessageId: row.provider_message_id, attempts: row.attempts, lastError: row.last_error,
    sendAt: row.send_at, createdAt: row.created_at, updatedAt: row.updated_at, sentAt: row.sent_at,
    suppressedReason: row.suppressed_reason ?? null, complianceReply: row.compliance_reply ?? false,
  }
}

function toInbound(row: Selectable<InboundMessagesTable>): InboundMessage {
  return {
    id: row.id, tenantId: row.tenant_id, channel: row.channel as Channel, personId: row.person_id,
    from: row.sender, to: row.recipient, body: row.body, data: row.payload, provider: row.provider,
    providerMessageId: row.provider_message_id, status: row.status, receivedAt: row.received_at,
    processedAt: row.processed_at,
  }
}

export interface NewOutboxRow {
  channel: Channel
  personId: string | null
  to: string
  from: string | null
  subject: string | null
  body: string
  data: Record<string, unknown>
  idempotencyKey: string
  sendAt: Date
  /** A carrier-required reply: never suppressed. */
  complianceReply?: boolean
  /** Suppressed at enqueue: the row is written `suppressed` with this reason, and never sent. */
  suppressedReason?: SuppressionReason | 'consent_required' | undefined
  /** The caller attempts it at once: written `sending`, its first attempt counted (unless suppressed). */
  claimed?: boolean
}

export interface NewInboundRow {
  channel: Channel
  personId: string | null
  from: string
  to: string | null
  body: string
  data: Record<string, unknown>
  provider: string
  providerMessageId: string | null
}

/** Data access for the outbox and inbound messages; every method takes the tenant first. */
export class DeliveryRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /**
   * Insert many rows in one statement; answers the inserted messages by idempotency key (a key the
   * tenant already used inserts nothing and is absent from the answer).
   */
  async insertOutboxMany(trx: Executor, tenantId: TenantId, rows: readonly NewOutboxRow[]): Promise<Map<string, OutboxMessage>> {
    if (rows.length === 0) return new Map()
    const inserted = await trx.insertInto('outbox_messages')
      .values(rows.map((row) => ({
        tenant_id: tenantId, channel: row.channel, person_id: row.personId, recipient: row.to, sender: row.from,
        subject: row.subject, body: row.body, payload: JSON.stringify(row.data), idempotency_key: row.idempotencyKey,
        send_at: row.sendAt, compliance_reply: row.complianceReply ?? false,
        status: row.suppressedReason ? 'suppressed' as const : row.claimed ? 'sending' as const : 'queued' as const, suppressed_reason: row.suppressedReason ?? null,
        attempts: row.claimed && !row.suppressedReason ? 1 : 0,
      })))
      .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
      .returningAll()
      .execute()
    return new Map(inserted.map((r) => [r.idempotency_key, toOutbox(r)]))
  }

  /** The tenant's messages with these idempotency keys, by key. */
  async findOutboxByKeys(db: Executor, tenantId: TenantId, keys: readonly string[]): Promise<Map<string, OutboxMessage>> {
    if (keys.length === 0) return new Map()
    const rows = await db.selectFrom('outbox_messages').selectAll().where('tenant_id', '=', tenantId).where('idempotency_key', 'in', keys).execute()
    return new Map(rows.map((r) => [r.idempotency_key, toOutbox(r)]))
  }

  async findOutbox(db: Executor, tenantId: TenantId, id: string): Promise<OutboxMessage | undefined> {
    const row = await db.selectFrom('outbox_messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    return row ? toOutbox(row) : undefined
  }

  async findOutboxByKey(db: Executor, tenantId: TenantId, key: string): Promise<OutboxMessage | undefined> {
    const row = await db.selectFrom('outbox_messages').selectAll().where('tenant_id', '=', tenantId).where('idempotency_key', '=', key).executeTakeFirst()
    return row ? toOutbox(row) : undefined
  }

  /** Newest first. */
  async listOutbox(tenantId: TenantId, opts: { limit: number; channel?: Channel | undefined }): Promise<OutboxMessage[]> {
    let q = this.#db.selectFrom('outbox_messages').selectAll().where('tenant_id', '=', tenantId)
    if (opts.channel) q = q.where('channel', '=', opts.channel)
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
    return rows.map(toOutbox)
  }

  /**
   * Take messages (each `{tenantId, id}`) for an attempt, in one statement: `queued` or `sending` (a
   * crashed attempt) becomes `sending` — or `suppressed`, with the reason, when its recipient is on
   * the tenant's suppression list (a live entry for its channel or all channels) and it is not a compliance
   * reply, so a STOP that committed before the attempt always wins. Answers the messages taken, by
   * id; a finished one is absent. Rows are locked in id order, so concurrent batches cannot deadlock.
   */
  async startAttempts(messages: ReadonlyArray<{ tenantId: TenantId; id: string }>): Promise<Map<string, OutboxMessage>> {
    if (messages.length === 0) return new Map()
    const result = await sql<Selectable<OutboxMessagesTable>>`
      WITH target AS (
        SELECT o.id, o.tenant_id, CASE WHEN o.compliance_reply THEN NULL ELSE (
          SELECT s.reason FROM suppressions s
          WHERE s.tenant_id = o.tenant_id
            AND s.address = CASE WHEN o.channel = 'email' THEN lower(o.recipient) ELSE o.recipient END
            AND s.scope IN (o.channel, 'all')
            AND (s.expires_at IS NULL OR s.expires_at > now())
          ORDER BY s.created_at LIMIT 1) END AS reason
        FROM outbox_messages o
        JOIN unnest(${messages.map((m) => m.tenantId)}::uuid[], ${messages.map((m) => m.id)}::uuid[]) AS v(tenant_id, id)
          ON o.tenant_id = v.tenant_id AND o.id = v.id
        WHERE o.status IN ('queued', 'sending')
        ORDER BY o.id
        FOR UPDATE OF o
      )
      UPDATE outbox_messages o SET
        status = CASE WHEN t.reason IS NULL THEN 'sending' ELSE 'suppressed' END,
        attempts = CASE WHEN t.reason IS NULL THEN o.attempts + 1 ELSE o.attempts END,
        suppressed_reason = t.reason,
        updated_at = now()
      FROM target t
      WHERE o.tenant_id = t.tenant_id AND o.id = t.id
      RETURNING o.*`.execute(this.#db)
    return new Map(result.rows.map((r) => [r.id, toOutbox(r)]))
  }

  /**
   * Suppression reasons for many addresses of a tenant at once, keyed `channel address` (addresses as
   * the outbox stores them): an entry for the channel or for all channels; absent when none.
   */
  async findSuppressions(db: Executor, tenantId: TenantId, wanted: ReadonlyArray<{ channel: Channel; address: string }>): Promise<Map<string, SuppressionReason>> {
    if (wanted.length === 0) return new Map()
    const norm = (channel: Channel, address: string) => (channel === 'email' ? address.toLowerCase() : address)
    const rows = await db.selectFrom('suppressions').select(['address', 'scope', 'reason'])
      .where('tenant_id', '=', tenantId)
      .where('address', 'in', [...new Set(wanted.map((w) => norm(w.channel, w.address)))])
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .orderBy('created_at')
      .execute()
    const found = new Map<string, SuppressionReason>()
    for (const w of wanted) {
      const address = norm(w.channel, w.address)
      const row = rows.find((r) => r.address === address && (r.scope === w.channel || r.scope === 'all'))
      if (row) found.set(`${w.channel} ${w.address}`, row.reason)
    }
    return found
  }

  /**
   * A message in its attempt (`sending`) becomes `suppressed` when its recipient is on the list
   * now (not for a compliance reply). True when it did: the attempt must not send.
   */
  async suppressIfListed(tenantId: TenantId, id: string): Promise<boolean> {
    const result = await sql<{ id: string }>`
      UPDATE outbox_messages o SET status = 'suppressed', suppressed_reason = s.reason, attempts = greatest(o.attempts - 1, 0), updated_at = now()
      FROM suppressions s
      WHERE o.tenant_id = ${tenantId} AND o.id = ${id} AND o.status = 'sending' AND NOT o.compliance_reply
        AND s.tenant_id = o.tenant_id AND s.scope IN (o.channel, 'all')
        AND s.address = CASE WHEN o.channel = 'email' THEN lower(o.recipient) ELSE o.recipient END
        AND (s.expires_at IS NULL OR s.expires_at > now())
      RETURNING o.id`.execute(this.#db)
    return result.rows.length > 0
  }

  /**
   * Which of these vendor message ids another outbox message of the tenant holds already (not
   * `exceptId`): a reconciling lookup must not take a message that belongs to another send.
   */
  async providerIdsHeld(tenantId: TenantId, provider: string, ids: readonly string[], exceptId: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.#db.selectFrom('outbox_messages').select('provider_message_id')
      .where('tenant_id', '=', tenantId).where('provider', '=', provider).where('provider_message_id', 'in', [...ids]).where('id', '<>', exceptId)
      .execute()
    return new Set(rows.map((r) => r.provider_message_id!))
  }

  /** A failed attempt that will be retried: back to `queued`, with the error. */
  async recordAttemptError(tenantId: TenantId, id: string, provider: string | null, error: string): Promise<void> {
    await this.#db.updateTable('outbox_messages')
      .set({ status: 'queued', provider, last_error: error.slice(0, MAX_ERROR), updated_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', 'in', ['queued', 'sending'])
      .execute()
  }

  /** Given up: `failed` with the last error, unless it was sent after all. */
  async markFailed(tenantId: TenantId, id: string, provider: string | null, error: string): Promise<void> {
    await this.#db.updateTable('outbox_messages')
      .set({ status: 'failed', provider: sql`coalesce(${provider}, provider)`, last_error: error.slice(0, MAX_ERROR), updated_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', 'in', ['queued', 'sending'])
      .execute()
  }

  /** Insert unless the vendor's message id was already stored; undefined then. */
  async insertInbound(trx: Executor, tenantId: TenantId, row: NewInboundRow): Promise<InboundMessage | undefined> {
    const inserted = await trx.insertInto('inbound_messages')
      .values({
        tenant_id: tenantId, channel: row.channel, person_id: row.personId, sender: row.from, recipient: row.to,
        body: row.body, payload: JSON.stringify(row.data), provider: row.provider, provider_message_id: row.providerMessageId,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'provider', 'provider_message_id']).where('provider_message_id', 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst()
    return inserted ? toInbound(inserted) : undefined
  }

  async findInbound(db: Executor, tenantId: TenantId, id: string): Promise<InboundMessage | undefined> {
    const row = await db.selectFrom('inbound_messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    return row ? toInbound(row) : undefined
  }

  async findInboundByProviderId(db: Executor, tenantId: TenantId, provider: string, providerMessageId: string): Promise<InboundMessage | undefined> {
    const row = await db.selectFrom('inbound_messages').selectAll()
      .where('tenant_id', '=', tenantId).where('provider', '=', provider).where('provider_message_id', '=', providerMessageId)
      .executeTakeFirst()
    return row ? toInbound(row) : undefined
  }

  /** Newest first. */
  async listInbound(tenantId: TenantId, opts: { limit: number; channel?: Channel | undefined }): Promise<InboundMessage[]> {
    let q = this.#db.selectFrom('inbound_messages').selectAll().where('tenant_id', '=', tenantId)
    if (opts.channel) q = q.where('channel', '=', opts.channel)
    const rows = await q.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
    return rows.map(toInbound)
  }

  async markInboundProcessed(tenantId: TenantId, id: string): Promise<void> {
    await this.#db.updateTable('inbound_messages')
      .set({ status: 'processed', processed_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'received')
      .execute()
  }
}
