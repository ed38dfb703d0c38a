import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB, ScheduledNotificationsTable } from '../../db/schema.ts'
import type { QueuedNotification, ScheduleInput, ScheduledNotification } from './scheduling.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

function toNotification(r: Selectable<ScheduledNotificationsTable>): ScheduledNotification {
  return {
    id: r.id, tenantId: r.tenant_id, personId: r.person_id, type: r.type, threadName: r.thread_name, dueAt: r.due_at,
    status: r.status, conversationId: r.conversation_id, idempotencyKey: r.idempotency_key, createdAt: r.created_at, firedAt: r.fired_at,
  }
}

/** Data access for scheduled notifications; every method takes the tenant first. */
export class SchedulingRepository {
  /** Insert unless the tenant used the key; the existing row then. */
  async insert(trx: Executor, tenantId: TenantId, input: Omit<ScheduleInput, 'tenantId'>): Promise<{ notification: ScheduledNotification; created: boolean }> {
    const row = await trx.insertInto('scheduled_notifications')
      .values({
        tenant_id: tenantId, person_id: input.personId, type: input.type, thread_name: input.threadName, due_at: input.dueAt,
        conversation_id: input.conversationId ?? null, idempotency_key: input.idempotencyKey,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst()
    if (row) return { notification: toNotification(row), created: true }
    const existing = await trx.selectFrom('scheduled_notifications').selectAll()
      .where('tenant_id', '=', tenantId).where('idempotency_key', '=', input.idempotencyKey).executeTakeFirstOrThrow()
    return { notification: toNotification(existing), created: false }
  }

  /** `cancelPending` for many conversations at once. */
  async cancelPendingMany(trx: Executor, tenantId: TenantId, conversationIds: readonly string[], type: ScheduleInput['type']): Promise<void> {
    if (conversationIds.length === 0) return
    await trx.updateTable('scheduled_notifications').set({ status: 'cancelled' })
      .where('tenant_id', '=', tenantId).where('conversation_id', 'in', conversationIds).where('type', '=', type).where('status', '=', 'pending')
      .execute()
  }

  /** Cancel a conversation's pending notifications of one type. */
  async cancelPending(trx: Executor, tenantId: TenantId, conversationId: string, type: ScheduleInput['type']): Promise<number> {
    const r = await trx.updateTable('scheduled_notifications').set({ status: 'cancelled' })
      .where('tenant_id', '=', tenantId).where('conversation_id', '=', conversationId).where('type', '=', type).where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(r.numUpdatedRows)
  }

  /**
   * Delete and return the person's queued notifications (pending ones, and those fired for a web
   * person and not fetched yet) in one statement: of two concurrent calls, each row goes to one.
   */
  async takeQueued(db: Executor, tenantId: TenantId, personId: string): Promise<QueuedNotification[]> {
    const rows = await db.deleteFrom('scheduled_notifications')
      .where('tenant_id', '=', tenantId).where('person_id', '=', personId)
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'fired'), eb('queued', '=', true)])]))
      .returning(['id', 'type', 'thread_name', 'due_at', 'status', sql<string>`(extract(epoch from due_at) * 1000000)::bigint::text`.as('due_us')])
      .execute()
    return rows
      .map((r) => ({ id: r.id, type: r.type, threadName: r.thread_name, dueAt: r.due_at, dueAtMicros: BigInt(r.due_us), status: r.status as 'pending' | 'fired' }))
      .sort((a, b) => (a.dueAtMicros < b.dueAtMicros ? -1 : a.dueAtMicros > b.dueAtMicros ? 1 : a.id < b.id ? -1 : 1))
  }

  async listForPerson(db: Executor, tenantId: TenantId, personId: string, status?: ScheduledNotification['status']): Promise<ScheduledNotification[]> {
    let q = db.selectFrom('scheduled_notifications').selectAll().where('tenant_id', '=', tenantId).where('person_id', '=', personId)
    if (status) q = q.where('status', '=', status)
    const rows = await q.orderBy('due_at').orderBy(sql`id`).execute()
    return rows.map(toNotification)
  }
}
