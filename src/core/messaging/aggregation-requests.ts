import { sql, type Kysely, type Selectable } from 'kysely'
import { Type } from 'typebox'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'

type RequestRow = Selectable<DB['msg_aggregation_requests']>

/**
 * The columns an aggregation request computes per individual, from the stored messaging data:
 * - `unread-count`: messages (posted, not removed, not their own) after their read marker, in all
 *   the channels they subscribe to (archived ones included);
 * - `channel-count`: channels they subscribe to;
 * - `message-count`: messages they posted (not drafts, not removed);
 * - `last-message-at`: when the newest message (not a draft) of any of their channels was posted
 *   (ISO 8601), null without one;
 * - `last-ack-at`: when they last acknowledged a message in any channel, null if never.
 */
export const AGGREGATION_COLUMNS = ['unread-count', 'channel-count', 'message-count', 'last-message-at', 'last-ack-at'] as const
export type AggregationColumn = (typeof AGGREGATION_COLUMNS)[number]
/** Entries of one request at most. */
export const MAX_AGGREGATION_ENTRIES = 1000

/** Payload of `messaging.aggregate`: which request of which tenant to compute. */
export const AggregationPayload = Type.Object({ tenantId: TenantIdSchema, requestId: Type.String({ minLength: 36, maxLength: 36 }) }, { additionalProperties: false })
/** The job that computes an aggregation request (handler in src/jobs/aggregation-request.job.ts). */
export const AGGREGATION_JOB = { name: 'messaging.aggregate', payload: AggregationPayload } as const satisfies JobType

export interface AggregationEntry {
  readonly column: string
  readonly individualId: string
}

/** An aggregation request and, once computed, one result per entry in entry order. */
export interface AggregationRequest {
  readonly id: string
  readonly status: 'pending' | 'completed' | 'failed'
  readonly entries: readonly AggregationEntry[]
  /** Null until completed; `value` null when the individual is gone or has no such time. */
  readonly results: readonly { column: string; individualId: string; value: number | string | null }[] | null
  readonly error: string | null
  readonly createdBy: string | null
  readonly createdAt: Date
  readonly completedAt: Date | null
}

const toRequest = (r: RequestRow): AggregationRequest => ({
  id: r.id, status: r.status, entries: r.entries, results: r.results, error: r.error, createdBy: r.created_by, createdAt: r.created_at, completedAt: r.completed_at,
})

/**
 * Aggregation requests (#1): a batch of `{column, individual-id}` entries, checked at once (an
 * unknown column or individual is refused at its entry, nothing written), then computed by the
 * `messaging.aggregate` job enqueued in the same transaction; the results are read back by id.
 */
export class AggregationRequestsService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; peopleLookups: PeopleLookups }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#people = deps.peopleLookups
  }

  /**
   * #1: a new request, pending, its job queued. `onlyIndividualId`: the one individual the caller
   * may ask about (a user token: its own; another is ForbiddenError `not_your_individual`).
   */
  async create(tenant: Tenant, entries: readonly AggregationEntry[], createdBy: string, onlyIndividualId?: string): Promise<AggregationRequest> {
    if (entries.length === 0) throw new ValidationError('invalid_aggregation', 'entries must list at least one {column, individual-id}', { pointer: '/data/attributes/entries' })
    if (entries.length > MAX_AGGREGATION_ENTRIES) throw new ValidationError('invalid_aggregation', `entries lists at most ${MAX_AGGREGATION_ENTRIES}`, { pointer: '/data/attributes/entries' })
    entries.forEach((e, i) => {
      if (!(AGGREGATION_COLUMNS as readonly string[]).includes(e.column)) {
        throw new ValidationError('invalid_aggregation', `column must be one of ${AGGREGATION_COLUMNS.join(', ')}`, { pointer: `/data/attributes/entries/${i}/column` })
      }
      if (onlyIndividualId !== undefined && e.individualId.toLowerCase() !== onlyIndividualId.toLowerCase()) {
        throw new ForbiddenError('not_your_individual', 'a user token asks only about its own individual', { pointer: `/data/attributes/entries/${i}/individual-id` })
      }
    })
    const found = await this.#people.findManyByCassIds(this.#db, tenant.id, entries.map((e) => e.individualId))
    entries.forEach((e, i) => {
      if (!found.has(e.individualId.toLowerCase())) {
        throw new NotFoundError('resource_not_found', `No individuals with id ${e.individualId}`, { type: 'individuals', id: e.individualId, pointer: `/data/attributes/entries/${i}/individual-id` })
      }
    })
    const stored = entries.map((e) => ({ column: e.column, individualId: e.individualId.toLowerCase() }))
    const row = await this.#db.transaction().execute(async (trx) => {
      const made = await trx.insertInto('msg_aggregation_requests').values({ tenant_id: tenant.id, entries: JSON.stringify(stored), created_by: createdBy })
        .returningAll().executeTakeFirstOrThrow()
      await this.#jobs.enqueue(trx, AGGREGATION_JOB, { tenantId: tenant.id, requestId: made.id }, { key: `aggregation:${made.id}`, tenantId: tenant.id })
      return made
    })
    this.#jobs.wake(AGGREGATION_JOB)
    return toRequest(row)
  }

  /** One request of the tenant (`createdBy` given: only one that caller made), else NotFoundError. */
  async get(tenant: Tenant, id: string, createdBy?: string): Promise<AggregationRequest> {
    let q = this.#db.selectFrom('msg_aggregation_requests').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id)
    if (createdBy !== undefined) q = q.where('created_by', '=', createdBy)
    const row = await q.executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No aggregation-requests with id ${id}`, { type: 'aggregation-requests', id })
    return toRequest(row)
  }

  /** The job: compute a pending request's columns and store them (a settled request is left as it is). */
  async run(tenantId: TenantId, id: string): Promise<void> {
    const row = await this.#db.selectFrom('msg_aggregation_requests').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row || row.status !== 'pending') return
    const people = await this.#people.findManyByCassIds(this.#db, tenantId, row.entries.map((e) => e.individualId))
    const personIds = [...new Set([...people.values()].map((p) => p.id))]
    const columns = new Set(row.entries.map((e) => e.column))
    const values = new Map<string, Map<string, number | string | null>>()
    for (const c of columns) values.set(c, await this.#column(tenantId, c as AggregationColumn, personIds))
    const results = row.entries.map((e) => {
      const person = people.get(e.individualId.toLowerCase())
      const value = person ? values.get(e.column)?.get(person.id) ?? defaultOf(e.column) : null
      return { column: e.column, individualId: e.individualId, value }
    })
    await this.#db.updateTable('msg_aggregation_requests').set({ status: 'completed', results: JSON.stringify(results), completed_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').execute()
  }

  /** The job gave up: the request is `failed` with the last error. */
  async fail(tenantId: TenantId, id: string, error: string): Promise<void> {
    await this.#db.updateTable('msg_aggregation_requests').set({ status: 'failed', error: error.slice(0, 500), completed_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').execute()
  }

  /** One column for many people at once: value by person id (absent: the column's default). */
  async #column(tenantId: TenantId, column: AggregationColumn, personIds: readonly string[]): Promise<Map<string, number | string | null>> {
    const out = new Map<string, number | string | null>()
    if (personIds.length === 0) return out
    const db = this.#db
    const ids = [...personIds]
    if (column === 'channel-count') {
      const rows = await db.selectFrom('msg_channel_subscribers').select(['individual_id', sql<string>`count(*)`.as('n')])
        .where('tenant_id', '=', tenantId).where('individual_id', 'in', ids).groupBy('individual_id').execute()
      for (const r of rows) out.set(r.individual_id, Number(r.n))
    } else if (column === 'unread-count') {
      const rows = await db.selectFrom('msg_channel_subscribers as s')
        .innerJoin('msg_messages as m', (j) => j.onRef('m.tenant_id', '=', 's.tenant_id').onRef('m.channel_id', '=', 's.channel_id'))
        .select(['s.individual_id', sql<string>`count(*)`.as('n')])
        .where('s.tenant_id', '=', tenantId).where('s.individual_id', 'in', ids).where('m.draft', '=', false).where('m.removed', '=', false)
        .whereRef('m.seq', '>', 's.ack_seq').where((eb) => eb.or([eb('m.author_id', 'is', null), eb('m.author_id', '!=', eb.ref('s.individual_id'))]))
        .groupBy('s.individual_id').execute()
      for (const r of rows) out.set(r.individual_id, Number(r.n))
    } else if (column === 'message-count') {
      const rows = await db.selectFrom('msg_messages').select(['author_id', sql<string>`count(*)`.as('n')])
        .where('tenant_id', '=', tenantId).where('author_id', 'in', ids).where('draft', '=', false).where('removed', '=', false).groupBy('author_id').execute()
      for (const r of rows) out.set(r.author_id!, Number(r.n))
    } else if (column === 'last-message-at') {
      const rows = await db.selectFrom('msg_channel_subscribers as s')
        .innerJoin('msg_messages as m', (j) => j.onRef('m.tenant_id', '=', 's.tenant_id').onRef('m.channel_id', '=', 's.channel_id'))
        .select(['s.individual_id', (eb) => eb.fn.max('m.posted_at').as('at')])
        .where('s.tenant_id', '=', tenantId).where('s.individual_id', 'in', ids).where('m.draft', '=', false).groupBy('s.individual_id').execute()
      for (const r of rows) out.set(r.individual_id, r.at ? new Date(r.at).toISOString() : null)
    } else {
      const rows = await db.selectFrom('msg_channel_subscribers').select(['individual_id', (eb) => eb.fn.max('ack_at').as('at')])
        .where('tenant_id', '=', tenantId).where('individual_id', 'in', ids).groupBy('individual_id').execute()
      for (const r of rows) out.set(r.individual_id, r.at ? new Date(r.at).toISOString() : null)
    }
    return out
  }
}

/** A column's value for someone with nothing to count: 0 for counts, null for times. */
function defaultOf(column: string): number | null {
  return column.endsWith('-count') ? 0 : null
}
