import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { SchedulingRepository } from './scheduling.repository.ts'
import type { QueuedNotification, ScheduleInput, ScheduledNotification } from './scheduling.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/**
 * Scheduled notifications: the check-ins and autopings the bot records, for the scheduler to fire
 * at `due_at`. Writes happen in the caller's transaction (the bot advancing a conversation), so a
 * check-in exists exactly when the step that scheduled it committed.
 */
export class SchedulingService {
  readonly #db: Kysely<DB>
  readonly #repo = new SchedulingRepository()

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /**
   * Record a notification due at `dueAt`, in `trx`. A repeated idempotency key records nothing
   * and returns the first row, `created: false`. Throws ValidationError `invalid_due_at`.
   */
  async schedule(trx: Transaction<DB>, input: ScheduleInput): Promise<{ notification: ScheduledNotification; created: boolean }> {
    if (!(input.dueAt instanceof Date) || Number.isNaN(input.dueAt.getTime())) throw new ValidationError('invalid_due_at', 'due time is not a valid time')
    const { tenantId, ...rest } = input
    return this.#repo.insert(trx, tenantId, rest)
  }

  /**
   * Replace a conversation's pending autoping: cancel the one waiting (if any) and, with `next`,
   * record the new one. Called whenever the bot starts waiting for the person again.
   */
  async replaceAutoping(trx: Transaction<DB>, tenantId: TenantId, conversationId: string, next?: Omit<ScheduleInput, 'tenantId' | 'type' | 'conversationId'>, opts: {
    /** The conversation was created in this transaction, so it has none to cancel. */
    fresh?: boolean
  } = {}): Promise<void> {
    if (!opts.fresh) await this.#repo.cancelPending(trx, tenantId, conversationId, 'autoping')
    if (next) await this.#repo.insert(trx, tenantId, { ...next, type: 'autoping', conversationId })
  }

  /** Cancel the pending autopings of conversations being replaced, in `trx`. */
  cancelAutopings(trx: Transaction<DB>, tenantId: TenantId, conversationIds: readonly string[]): Promise<void> {
    return this.#repo.cancelPendingMany(trx, tenantId, conversationIds, 'autoping')
  }

  /**
   * The Notification API: return and delete the person's queued notifications, by due time — the
   * check-ins and autopings still pending (they will not fire now), and those that fired for a `web`
   * person and wait for the client app. Atomic: two concurrent calls never both get one notification.
   * `personId` is the core id (resolve the caller's reference first).
   */
  takeQueued(tenant: Pick<Tenant, 'id'>, personId: string): Promise<QueuedNotification[]> {
    return this.#repo.takeQueued(this.#db, tenant.id, personId)
  }

  /** A person's notifications by due time (all, or of one status). */
  listForPerson(tenant: Pick<Tenant, 'id'>, personId: string, status?: ScheduledNotification['status']): Promise<ScheduledNotification[]> {
    return this.#repo.listForPerson(this.#db, tenant.id, personId, status)
  }
}
