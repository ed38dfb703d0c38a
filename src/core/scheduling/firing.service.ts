import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { NotificationType } from './scheduling.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/**
 * What the scheduler needs of a tenant's thread content: whether a thread exists. The content is
 * otherwise the bot's (its \`T\`); scheduling only passes it back, so it does not import the bot.
 */
export interface ThreadLookup {
  thread(name: string): unknown
}

/** What the scheduler needs of the bot: start a thread in its transaction, and wake delivery after. */
export interface ThreadStarter<T extends ThreadLookup = ThreadLookup> {
  startThread(trx: Transaction<DB>, tenant: { id: TenantId }, personId: string, threadName: string, opts: {
    startedBy: string; startKey: string; threads: T
  }): Promise<{ conversationId: string; messages: readonly unknown[] } | undefined>
  /** Start many people's threads of one tenant at once (one start per person); see BotService.startThreads. */
  startThreads(trx: Transaction<DB>, tenant: { id: TenantId }, starts: ReadonlyArray<{ personId: string; threadName: string; startedBy: string; startKey: string }>, opts: {
    threads: T
  }): Promise<ReadonlyArray<unknown>>
  wakeDelivery(): void
}

/** What the scheduler needs of the thread content: a tenant's current threads. */
export interface ThreadContent<T extends ThreadLookup = ThreadLookup> {
  current(tenant: { id: TenantId }): Promise<T>
}

/** What one `fireDue` call did. */
export interface FireStats {
  /** Due rows this call locked (≤ the limit: a full batch means more may be waiting). */
  readonly claimed: number
  /** Check-ins and autopings whose thread was started (messages queued in the delivery outbox). */
  readonly started: number
  /** Fired for `web` people: queued for the Notification API instead of sent. */
  readonly queued: number
  /** Autopings no longer due: the person answered or the conversation moved on. */
  readonly cancelled: number
  /** Gave up: the thread is gone, the person cannot be reached, or every retry failed. */
  readonly failed: number
  /** Put off to a later attempt (a transient error, or a conversation busy with the person's answer). */
  readonly retried: number
}

/** Attempts before a notification whose firing keeps failing is marked `failed`. */
export const MAX_FIRE_ATTEMPTS = 5
/** Errors that retrying cannot fix: the notification is marked `failed` at once. */
const PERMANENT = new Set(['thread_not_found', 'person_unreachable', 'person_not_found'])
/** Postgres: could not lock at once (NOWAIT). */
const LOCK_NOT_AVAILABLE = '55P03'

interface DueRow {
  id: string
  tenant_id: TenantId
  person_id: string
  type: NotificationType
  thread_name: string
  conversation_id: string | null
  attempts: number
  created_at: Date
  protocol: string
}

type Outcome = 'started' | 'queued' | 'cancelled'

/** A row failed in a batch run without savepoints: run the batch again with them. */
class RowFailed extends Error {
  constructor(cause: unknown) {
    super('a notification of the batch failed to fire', { cause })
  }
}

/**
 * Fires due check-ins and autopings, exactly once, with any number of firing loops and processes.
 *
 * One call claims a batch of due `pending` rows with `FOR UPDATE SKIP LOCKED` (so concurrent callers
 * take disjoint rows) and, in the same transaction, fires each: the bot starts the notification's
 * thread (its messages go to the delivery outbox with their send jobs; the conversation's start key
 * is `notification:<id>`), or, for a `web` person, the row is only marked as queued for the
 * Notification API; then the row becomes `fired`. The batch commits as a whole, so a crash at any
 * point leaves each row either pending with nothing sent, or fired with everything queued — never
 * lost, never twice. Each row runs in a savepoint: one that fails is rolled back alone and retried
 * later with backoff (or marked `failed` when retrying cannot help) while the rest of the batch fires.
 *
 * Autopings fire only while the person stays silent: the bot cancels a conversation's pending
 * autoping whenever the person answers; the firing also re-checks, under the conversation's lock,
 * that the conversation still runs and the person wrote nothing since the autoping was set.
 */
export class NotificationFiring<T extends ThreadLookup = ThreadLookup> {
  readonly #db: Kysely<DB>
  readonly #bot: ThreadStarter<T>
  readonly #threads: ThreadContent<T>

  constructor(db: Kysely<DB>, deps: { bot: ThreadStarter<T>; threads: ThreadContent<T> }) {
    this.#db = db
    this.#bot = deps.bot
    this.#threads = deps.threads
  }

  /** Fire up to `limit` due notifications (default 100) in one transaction. */
  async fireDue(opts: { limit?: number } = {}): Promise<FireStats> {
    const limit = opts.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError('limit must be an integer 1-10000')
    const stats = { claimed: 0, started: 0, queued: 0, cancelled: 0, failed: 0, retried: 0 }
    // The tenants' content is read before the transaction: on the embedded store a transaction holds
    // the only database session, so nothing inside it may read through another connection.
    // Only the tenants of the first due rows: a backlog of thousands costs each call no more than this.
    const head = await this.#due(this.#db).select('n.tenant_id').orderBy('n.due_at').limit(limit * 4).execute()
    const tenantIds = [...new Set(head.map((r) => r.tenant_id))]
    if (tenantIds.length === 0) return { ...stats }
    const content = new Map<TenantId, T>()
    for (const id of tenantIds) content.set(id, await this.#threads.current({ id }))

    // First without savepoints (each costs two round trips and a subtransaction); if any row fails,
    // the batch rolls back whole and runs again with one savepoint per row, so only that row waits.
    let result: { stats: FireStats; sent: boolean }
    try {
      result = await this.#fireBatch(tenantIds, content, limit, false)
    } catch (err) {
      if (!(err instanceof RowFailed)) throw err
      result = await this.#fireBatch(tenantIds, content, limit, true)
    }
    if (result.sent) this.#bot.wakeDelivery()
    return result.stats
  }

  async #fireBatch(tenantIds: TenantId[], content: Map<TenantId, T>, limit: number, isolate: boolean): Promise<{ stats: FireStats; sent: boolean }> {
    const stats = { claimed: 0, started: 0, queued: 0, cancelled: 0, failed: 0, retried: 0 }
    let sent = false
    await this.#db.transaction().execute(async (trx) => {
      // The person's protocol comes with the claim, in this one statement, on purpose: the claim
      // locks its rows (FOR UPDATE OF n SKIP LOCKED, LIMIT) across tenants, and a second statement per
      // batch (or per tenant) through people/ would cost every firing round trip for one column.
      // The only read of the people table outside core/people (allowlisted in boundaries.test.ts).
      const rows: DueRow[] = await this.#due(trx)
        .innerJoin('people as p', (j) => j.onRef('p.tenant_id', '=', 'n.tenant_id').onRef('p.id', '=', 'n.person_id'))
        .select(['n.id', 'n.tenant_id', 'n.person_id', 'n.type', 'n.thread_name', 'n.conversation_id', 'n.attempts', 'n.created_at', 'p.protocol'])
        .where('n.tenant_id', 'in', tenantIds)
        .orderBy('n.due_at').limit(limit)
        .forUpdate('n').skipLocked()
        .execute()
      stats.claimed = rows.length
      // One lock order for everyone (by person): two batches that both touch persons A and B
      // queue behind each other instead of deadlocking on their conversations.
      rows.sort((a, b) => (a.person_id < b.person_id ? -1 : a.person_id > b.person_id ? 1 : a.id < b.id ? -1 : 1))
      let rest = rows
      if (!isolate) {
        // Check-ins of people who have one row in the batch start together, one statement per
        // step for all of them; a failure rolls the batch back for the one-by-one run.
        const once = new Map<string, number>()
        for (const r of rows) once.set(r.person_id, (once.get(r.person_id) ?? 0) + 1)
        const together = rows.filter((r) => r.type === 'checkin' && r.protocol !== 'web' && once.get(r.person_id) === 1)
        try {
          await this.#startTogether(trx, together, content)
        } catch (err) {
          throw new RowFailed(err)
        }
        stats.started += together.length
        if (together.length > 0) sent = true
        rest = rows.filter((r) => !together.includes(r))
      }
      for (const row of rest) {
        if (isolate) await sql`SAVEPOINT fire_one`.execute(trx)
        try {
          const outcome = await this.#fireOne(trx, row, content.get(row.tenant_id)!)
          if (isolate) await sql`RELEASE SAVEPOINT fire_one`.execute(trx)
          if (outcome === 'started') {
            stats.started++
            sent = true
          } else stats[outcome]++
        } catch (err) {
          if (!isolate) throw new RowFailed(err)
          await sql`ROLLBACK TO SAVEPOINT fire_one`.execute(trx)
          stats[await this.#recordFailure(trx, row, err)]++
        }
      }
    })
    return { stats, sent }
  }

  /** Fire check-ins together: per tenant, the bot starts them all at once; then every row is `fired`. */
  async #startTogether(trx: Transaction<DB>, rows: readonly DueRow[], content: Map<string, T>): Promise<void> {
    const byTenant = new Map<TenantId, DueRow[]>()
    for (const r of rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r])
    for (const [tenantId, group] of byTenant) {
      // A start key used before starts nothing: such a row is fired already in effect.
      await this.#bot.startThreads(trx, { id: tenantId }, group.map((r) => ({
        personId: r.person_id, threadName: r.thread_name, startedBy: r.type, startKey: `notification:${r.id}`,
      })), { threads: content.get(tenantId)! })
      await trx.updateTable('scheduled_notifications')
        .set({ status: 'fired', fired_at: sql<Date>`clock_timestamp()`, queued: false, retry_at: null })
        .where('tenant_id', '=', tenantId).where('id', 'in', group.map((r) => r.id)).execute()
    }
  }

  /** Pending rows that are due (and not waiting for a retry). */
  #due(db: Kysely<DB> | Transaction<DB>) {
    return db.selectFrom('scheduled_notifications as n')
      .where('n.status', '=', 'pending')
      .where('n.due_at', '<=', sql<Date>`now()`)
      .where((eb) => eb.or([eb('n.retry_at', 'is', null), eb('n.retry_at', '<=', sql<Date>`now()`)]))
  }

  async #fireOne(trx: Transaction<DB>, row: DueRow, threads: T): Promise<Outcome> {
    if (row.type === 'autoping' && !(await this.#stillSilent(trx, row))) {
      await trx.updateTable('scheduled_notifications').set({ status: 'cancelled', retry_at: null })
        .where('tenant_id', '=', row.tenant_id).where('id', '=', row.id).execute()
      return 'cancelled'
    }
    const queued = row.protocol === 'web'
    if (!queued) {
      // A start key used before starts nothing (undefined): the row is then fired already in effect.
      await this.#bot.startThread(trx, { id: row.tenant_id }, row.person_id, row.thread_name, {
        startedBy: row.type, startKey: `notification:${row.id}`, threads,
      })
    } else if (!threads.thread(row.thread_name)) {
      throw new ValidationError('thread_not_found', `no thread ${row.thread_name}`, { threadName: row.thread_name })
    }
    await trx.updateTable('scheduled_notifications')
      .set({ status: 'fired', fired_at: sql<Date>`clock_timestamp()`, queued, retry_at: null })
      .where('tenant_id', '=', row.tenant_id).where('id', '=', row.id).execute()
    return queued ? 'queued' : 'started'
  }

  /**
   * Whether the person stayed silent since the autoping was set: its conversation still runs (locked
   * here without waiting; a conversation busy with the person's answer right now throws
   * lock_not_available and the autoping is looked at again shortly) and nothing came in since.
   */
  async #stillSilent(trx: Transaction<DB>, row: DueRow): Promise<boolean> {
    if (row.conversation_id === null) return true
    const conversation = await trx.selectFrom('conversations').select('status')
      .where('tenant_id', '=', row.tenant_id).where('id', '=', row.conversation_id)
      .forUpdate().noWait().executeTakeFirst()
    if (!conversation || conversation.status !== 'active') return false
    // Received after the autoping was set (the message that led to it was received before the bot's
    // transaction that set it began), whether or not the bot has handled it yet.
    const answered = await trx.selectFrom('inbound_messages').select('id')
      .where('tenant_id', '=', row.tenant_id).where('person_id', '=', row.person_id)
      .where('received_at', '>', row.created_at).limit(1).executeTakeFirst()
    return answered === undefined
  }

  /** A row whose firing threw (already rolled back to its savepoint): retry later, or give up. */
  async #recordFailure(trx: Transaction<DB>, row: DueRow, err: unknown): Promise<'failed' | 'retried'> {
    const code = (err as { code?: unknown }).code
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 1000)
    const update = trx.updateTable('scheduled_notifications').where('tenant_id', '=', row.tenant_id).where('id', '=', row.id)
    if (code === LOCK_NOT_AVAILABLE) {
      // Busy, not broken: look again in a second without counting an attempt.
      await update.set({ retry_at: sql<Date>`now() + interval '1 second'` }).execute()
      return 'retried'
    }
    const attempts = row.attempts + 1
    const permanent = (err instanceof ValidationError || err instanceof NotFoundError) && typeof code === 'string' && PERMANENT.has(code)
    if (permanent || attempts >= MAX_FIRE_ATTEMPTS) {
      await update.set({ status: 'failed', attempts, last_error: message, retry_at: null }).execute()
      return 'failed'
    }
    // 5 s, 10 s, 20 s, 40 s…
    const delaySeconds = 5 * 2 ** (attempts - 1)
    await update.set({ attempts, last_error: message, retry_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})` }).execute()
    return 'retried'
  }
}
