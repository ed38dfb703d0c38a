import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { Type } from 'typebox'
import type { DB, OperationLogs } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { ORGANIZATION_VIEWER, type DirectoryService, type DirectoryViewer } from './directory.service.ts'
import type { Organizations } from './organizations.ts'
import { UUID } from '../../lib/uuid.ts'

type OperationRow = Selectable<DB['msg_operations']>

/** The operation types (#63's `filter[type]`: the only documented value). */
export const OPERATION_TYPES = ['move-group'] as const
export type OperationType = (typeof OPERATION_TYPES)[number]
/** `pending` (queued), `running`, `completed`, `failed` (the logs say why). */
export type OperationStatus = 'pending' | 'running' | 'completed' | 'failed'

/** The arguments of `move-group` (README "Messaging operations"). */
export interface MoveGroupArgs {
  /** The care team whose channels move. */
  readonly 'from-individual-group-id': string
  /** The care team they move to. */
  readonly 'to-individual-group-id': string
  /** Whether the target team's users (their individuals) join each moved channel (default true). */
  readonly 'subscribe-leaders'?: boolean
}
const MOVE_GROUP_KEYS = ['from-individual-group-id', 'to-individual-group-id', 'subscribe-leaders'] as const

/** Payload of `messaging.operation`: which operation of which tenant to run. */
export const OperationPayload = Type.Object({ tenantId: TenantIdSchema, operationId: Type.String({ minLength: 36, maxLength: 36 }) }, { additionalProperties: false })
/** The job that runs a messaging operation (handler in src/jobs/messaging-operation.job.ts). */
export const OPERATION_JOB = { name: 'messaging.operation', payload: OperationPayload } as const satisfies JobType

/** A messaging operation (#63–#65). */
export interface Operation {
  readonly id: string
  readonly organizationId: string
  readonly type: OperationType
  readonly args: Readonly<Record<string, unknown>>
  readonly status: OperationStatus
  readonly logs: OperationLogs
  readonly createdBy: string
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface CreateOperation {
  readonly organizationId: string
  readonly type: string
  readonly args: Readonly<Record<string, unknown>>
}

/** Test and tuning hooks of a run (the job definition passes them). */
export interface OperationRunHooks {
  /** Channels moved per transaction (default 100). */
  readonly batchSize?: number
  /** Called after each committed batch with the channels moved so far by this run. */
  readonly afterBatch?: (moved: number) => void | Promise<void>
}

/** Log entries kept per operation (the oldest go first; the counters keep the totals). */
const MAX_ENTRIES = 200

/**
 * Messaging operations (#63–#65): asynchronous administrative jobs over messaging data, created
 * with a `type` and `args`, run by the `messaging.operation` job, and polled for `status` and
 * `logs`. The one type, `move-group`, moves every channel of one care team (individual group) —
 * with its messages, subscribers and read markers — to another care team, in batches, each batch
 * one transaction that also records its progress in `logs`: a run that crashes is retried and goes
 * on with the channels still in the source team, so nothing moves twice and none is left behind.
 */
export class OperationsService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #orgs: Organizations
  readonly #directory: DirectoryService

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; organizations: Organizations; directory: DirectoryService }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#orgs = deps.organizations
    this.#directory = deps.directory
  }

  /**
   * #64: a new operation, `pending`, its job enqueued in the same transaction. Args are checked
   * first (ValidationError `invalid_operation`, NotFoundError for a group the caller cannot see).
   */
  async create(tenant: Tenant, input: CreateOperation, createdBy: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Operation> {
    await this.#orgs.find(tenant, input.organizationId, { pointer: '/data/attributes/organization-id' })
    if (!(OPERATION_TYPES as readonly string[]).includes(input.type)) {
      throw new ValidationError('invalid_operation', `type must be one of ${OPERATION_TYPES.join(', ')}`, { pointer: '/data/attributes/type' })
    }
    const args = await this.#moveGroupArgs(tenant, input.organizationId, input.args, viewer)
    // Answered as inserted: the job may already be running by the time a re-read would happen.
    const created = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('msg_operations').values({
        tenant_id: tenant.id, organization_id: input.organizationId, type: input.type as OperationType, args: JSON.stringify(args),
        created_by: createdBy, logs: JSON.stringify({ entries: [entry('info', 'queued')], 'moved-channels': 0, 'moved-messages': 0 }),
      }).returningAll().executeTakeFirstOrThrow()
      await this.#jobs.enqueue(trx, OPERATION_JOB, { tenantId: tenant.id, operationId: row.id }, { key: `messaging_operation:${row.id}`, tenantId: tenant.id })
      return row
    })
    this.#jobs.wake(OPERATION_JOB)
    return present(created)
  }

  /** #65: one operation; a user token sees only the operations it created. */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Operation> {
    let q = this.#db.selectFrom('msg_operations').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id)
    if (viewer.kind === 'user') q = q.where('created_by', '=', viewer.userId)
    const row = await q.executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-operations with id ${id}`, { type: 'messaging-operations', id })
    return present(row)
  }

  /** #63: an organisation's operations, newest first; a user token's own only. */
  async list(tenant: Tenant, q: { organizationId: string; type?: string; limit: number; offset: number }, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<{ items: Operation[]; total: number }> {
    await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#db.selectFrom('msg_operations').where('tenant_id', '=', tenant.id).where('organization_id', '=', q.organizationId)
    if (q.type !== undefined) query = query.where('type', '=', q.type as OperationType)
    if (viewer.kind === 'user') query = query.where('created_by', '=', viewer.userId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(present), total: Number(total.n) }
  }

  /**
   * Run an operation (the job's handler). Safe to run again and twice at once: each batch locks the
   * channels it moves (SKIP LOCKED) and records them in the same transaction. A completed or failed
   * operation is left alone.
   */
  async run(tenantId: TenantId, id: string, hooks: OperationRunHooks = {}): Promise<void> {
    const op = await this.#db.selectFrom('msg_operations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!op || op.status === 'completed' || op.status === 'failed') return
    const args = op.args as unknown as MoveGroupArgs
    const from = args['from-individual-group-id']
    const to = args['to-individual-group-id']
    if (op.status === 'pending') {
      await this.#db.transaction().execute(async (trx) => {
        await this.#log(trx, tenantId, id, 'info', `moving the channels of individual group ${from} to ${to}`, {}, 'running')
      })
    }
    // The target may have gone since the operation was created (a directory import removed it).
    const target = await this.#db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', to).executeTakeFirst()
    if (!target) {
      await this.#db.transaction().execute(async (trx) => {
        await this.#log(trx, tenantId, id, 'error', `individual group ${to} no longer exists; nothing more was moved`, {}, 'failed')
      })
      return
    }
    const batchSize = hooks.batchSize ?? 100
    let moved = 0
    for (;;) {
      const n = await this.#db.transaction().execute(async (trx) => {
        const channels = await trx.selectFrom('msg_channels').select('id').where('tenant_id', '=', tenantId).where('individual_group_id', '=', from)
          .orderBy('id').limit(batchSize).forUpdate().skipLocked().execute()
        if (channels.length === 0) return 0
        const ids = channels.map((c) => c.id)
        await trx.updateTable('msg_channels').set({ individual_group_id: to, last_modified_at: sql`now()` })
          .where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()
        let joined = 0
        if (args['subscribe-leaders'] !== false) {
          // The target team's care team joins each channel, as it would a channel made for the team.
          const r = await sql<{ n: number }>`
            INSERT INTO msg_channel_subscribers (tenant_id, channel_id, individual_id)
            SELECT ${tenantId}::uuid, c.id, u.person_id
            FROM unnest(${ids}::uuid[]) AS c (id)
            CROSS JOIN (
              SELECT DISTINCT u.person_id FROM msg_group_users gu JOIN msg_users u ON u.id = gu.user_id
              WHERE gu.group_id = ${to}::uuid AND u.tenant_id = ${tenantId}::uuid AND u.person_id IS NOT NULL AND u.state = 'active'
            ) u
            ON CONFLICT DO NOTHING`.execute(trx)
          joined = Number(r.numAffectedRows ?? 0)
        }
        const messages = await trx.selectFrom('msg_messages').select((eb) => eb.fn.countAll<string>().as('n'))
          .where('tenant_id', '=', tenantId).where('channel_id', 'in', ids).executeTakeFirstOrThrow()
        await this.#log(trx, tenantId, id, 'info', `moved ${ids.length} channel(s) with ${messages.n} message(s)${joined > 0 ? `; ${joined} subscription(s) of the target team added` : ''}`, {
          'moved-channels': ids.length, 'moved-messages': Number(messages.n), 'added-subscriptions': joined,
        })
        return ids.length
      })
      if (n === 0) break
      moved += n
      await hooks.afterBatch?.(moved)
    }
    // Channels another run still holds are its to finish; only with none left is the move complete.
    await this.#db.transaction().execute(async (trx) => {
      const left = await trx.selectFrom('msg_channels').select('id').where('tenant_id', '=', tenantId).where('individual_group_id', '=', from).limit(1).executeTakeFirst()
      if (left) return
      const now = await trx.selectFrom('msg_operations').select('status').where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirstOrThrow()
      if (now.status === 'running') await this.#log(trx, tenantId, id, 'info', 'completed', {}, 'completed')
    })
  }

  /** Append a log entry, add to the counters and optionally set the status, in `trx`. */
  async #log(trx: Transaction<DB>, tenantId: TenantId, id: string, level: 'info' | 'error', message: string, add: Record<string, number>, status?: OperationStatus): Promise<void> {
    const row = await trx.selectFrom('msg_operations').select('logs').where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirstOrThrow()
    const logs: OperationLogs = { ...row.logs, entries: [...(row.logs.entries ?? []), entry(level, message)].slice(-MAX_ENTRIES) }
    for (const [k, v] of Object.entries(add)) logs[k] = Number(logs[k] ?? 0) + v
    await trx.updateTable('msg_operations').set({ logs: JSON.stringify(logs), last_modified_at: sql`clock_timestamp()`, ...(status ? { status } : {}) })
      .where('tenant_id', '=', tenantId).where('id', '=', id).execute()
  }

  /** Check `move-group`'s args: both groups the caller's to see, in the organisation, not the same. */
  async #moveGroupArgs(tenant: Tenant, organizationId: string, args: Readonly<Record<string, unknown>>, viewer: DirectoryViewer): Promise<MoveGroupArgs> {
    const at = (key: string) => `/data/attributes/args/${key}`
    for (const key of Object.keys(args)) {
      if (!(MOVE_GROUP_KEYS as readonly string[]).includes(key)) throw new ValidationError('invalid_operation', `move-group takes no argument ${JSON.stringify(key.slice(0, 64))} (it takes ${MOVE_GROUP_KEYS.join(', ')})`, { pointer: at(key) })
    }
    const group = async (key: 'from-individual-group-id' | 'to-individual-group-id') => {
      const v = args[key]
      if (typeof v !== 'string' || !UUID.test(v)) throw new ValidationError('invalid_operation', `move-group needs ${key}, the id (UUID) of an individual group`, { pointer: at(key) })
      const g = await this.#directory.group(tenant, v.toLowerCase(), viewer).catch((err: unknown) => {
        throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individual-groups with id ${v}`, { type: 'individual-groups', id: v, pointer: at(key) }) : err
      })
      if (g.organizationId !== organizationId) throw new ValidationError('invalid_operation', `individual group ${v} belongs to another organization`, { pointer: at(key) })
      return g.id
    }
    const from = await group('from-individual-group-id')
    const to = await group('to-individual-group-id')
    if (from === to) throw new ValidationError('invalid_operation', 'from-individual-group-id and to-individual-group-id must differ', { pointer: at('to-individual-group-id') })
    const subscribe = args['subscribe-leaders']
    if (subscribe !== undefined && typeof subscribe !== 'boolean') throw new ValidationError('invalid_operation', 'subscribe-leaders must be true or false', { pointer: at('subscribe-leaders') })
    return { 'from-individual-group-id': from, 'to-individual-group-id': to, ...(subscribe !== undefined ? { 'subscribe-leaders': subscribe } : {}) }
  }
}

function entry(level: 'info' | 'error', message: string) {
  return { time: new Date().toISOString(), level, message }
}

function present(r: OperationRow): Operation {
  return {
    id: r.id, organizationId: r.organization_id, type: r.type, args: r.args, status: r.status as OperationStatus, logs: r.logs,
    createdBy: r.created_by, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
  }
}
