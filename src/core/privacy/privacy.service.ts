import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue } from '../../jobs/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from '../messaging/index.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import { PURGE_AREAS, type PurgeScope, type PurgeSubject } from './purge.areas.ts'
import { PURGE_ENTITY_TYPES, PURGE_JOB, type Purge, type PurgeInput, type PurgeStatus } from './privacy.types.ts'
import { UUID } from '../../lib/uuid.ts'

type PurgeRow = Selectable<DB['privacy_purges']>

/** Caller-supplied ids: printable, no control characters, bounded. */
const CALLER_ID = /^[^\u0000-\u001f\u007f]{1,200}$/

function toPurge(r: PurgeRow): Purge {
  return {
    id: r.id, requestId: r.request_id, referenceId: r.reference_id, entityType: r.entity_type, entityId: r.entity_id, archive: r.archive,
    requestedBy: r.requested_by, status: r.status as PurgeStatus, counts: r.counts, createdAt: r.created_at, completedAt: r.completed_at,
  }
}

/** What the purge needs of the file store: delete a stored file (false when it was not there). */
export interface PurgeFiles {
  delete(tenantId: TenantId, key: string): Promise<boolean>
}

/**
 * Purge-data (`spec/courier.md` #86): erase an individual everywhere — or, with `archive`, move
 * what would be erased into an archive document only the operator reads — as a job, idempotent
 * by the caller's request id, leaving an audit record (`privacy_purges`) with counts per kind and
 * no erased content. The erasing runs the areas of purge.areas.ts in one transaction; stored
 * files go after it commits (their keys are kept on the record until they are gone).
 */
export class PrivacyService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #files: PurgeFiles
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; files: PurgeFiles; people: PeopleLookups }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#files = deps.files
    this.#people = deps.people
  }

  /**
   * Record a purge and enqueue its job. The same request id again answers the first purge (and
   * enqueues nothing) when it names the same entity, else ConflictError `purge_request_conflict`.
   * Throws ValidationError `invalid_purge` (entity type, ids), NotFoundError `resource_not_found`
   * when the tenant has no such individual, ForbiddenError `forbidden` for a user token (only the
   * organisation's API key purges); nothing is written then.
   */
  async request(tenant: Pick<Tenant, 'id'>, input: PurgeInput, by: DirectoryViewer): Promise<Purge> {
    if (by.kind !== 'organization') throw new ForbiddenError('forbidden', 'only the organisation API key may purge data')
    const requestedBy = 'organization'
    if (!(PURGE_ENTITY_TYPES as readonly string[]).includes(input.entityType)) {
      throw new ValidationError('invalid_purge', `entity-type must be one of ${PURGE_ENTITY_TYPES.join(', ')}`, { pointer: '/data/attributes/entity-type' })
    }
    if (!CALLER_ID.test(input.requestId) || input.requestId.trim() === '') {
      throw new ValidationError('invalid_purge', 'request-id must be 1-200 printable characters', { pointer: '/data/attributes/request-id' })
    }
    if (input.referenceId !== undefined && !CALLER_ID.test(input.referenceId)) {
      throw new ValidationError('invalid_purge', 'reference-id must be 1-200 printable characters', { pointer: '/data/attributes/reference-id' })
    }
    const entityId = input.entityId.trim().toLowerCase()
    const archive = input.archive ?? false
    const existing = await this.#find(this.#db, tenant.id, input.requestId)
    if (existing) return this.#same(existing, entityId, input.entityType, archive)
    if (!UUID.test(entityId)) throw this.#noIndividual(input.entityId)
    return this.#db.transaction().execute(async (trx) => {
      const subject = await this.#subject(trx, tenant.id, entityId)
      if (!subject) throw this.#noIndividual(input.entityId)
      const row = await trx.insertInto('privacy_purges').values({
        tenant_id: tenant.id, request_id: input.requestId, reference_id: input.referenceId ?? null, entity_type: input.entityType,
        entity_id: entityId, archive, requested_by: requestedBy,
      }).onConflict((oc) => oc.columns(['tenant_id', 'request_id']).doNothing()).returningAll().executeTakeFirst()
      if (!row) {
        // A concurrent request with the same id won the insert.
        const won = await this.#find(trx, tenant.id, input.requestId)
        if (!won) throw new Error('purge request conflicted but none exists')
        return this.#same(won, entityId, input.entityType, archive)
      }
      await this.#jobs.enqueue(trx, PURGE_JOB, { tenantId: tenant.id, purgeId: row.id }, { key: `purge:${row.id}`, tenantId: tenant.id })
      return toPurge(row)
    }).then((p) => {
      this.#jobs.wake(PURGE_JOB)
      return p
    })
  }

  /**
   * The audit record of the tenant's purge with this request id (or its own id); NotFoundError
   * `resource_not_found` otherwise, and for a user token (purges are the organisation's).
   */
  async find(tenant: Pick<Tenant, 'id'>, id: string, by: DirectoryViewer = { kind: 'organization' }): Promise<Purge> {
    const row = by.kind !== 'organization' ? undefined : await this.#find(this.#db, tenant.id, id) ?? (UUID.test(id)
      ? await this.#db.selectFrom('privacy_purges').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined)
    if (!row) throw new NotFoundError('resource_not_found', `No system-purges with id ${id}`, { type: 'system-purges', id })
    return toPurge(row)
  }

  /**
   * The operator's view of an archived purge: its audit record and the archive document (the rows
   * as they were, and the keys of the stored files kept). Undefined when there is none.
   */
  async archiveOf(tenant: Pick<Tenant, 'id'>, requestId: string): Promise<{ purge: Purge; document: Record<string, unknown> } | undefined> {
    const purge = await this.find(tenant, requestId).catch(() => undefined)
    if (!purge) return undefined
    const row = await this.#db.selectFrom('privacy_archives').select('document').where('tenant_id', '=', tenant.id).where('purge_id', '=', purge.id).executeTakeFirst()
    return row ? { purge, document: row.document } : undefined
  }

  /**
   * Carry out a purge (the job's handler): erase or archive in one transaction, record the counts
   * and mark it completed; then delete the stored files. Safe to run again: a completed purge only
   * finishes deleting files it had left.
   */
  async run(tenantId: TenantId, purgeId: string): Promise<void> {
    // Visible while the erasing transaction runs (it commits everything else at once).
    await this.#db.updateTable('privacy_purges').set({ status: 'running', started_at: sql`coalesce(started_at, now())`, attempts: sql`attempts + 1` })
      .where('tenant_id', '=', tenantId).where('id', '=', purgeId).where('status', 'in', ['queued', 'running']).execute()
    const done = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('privacy_purges').selectAll().where('tenant_id', '=', tenantId).where('id', '=', purgeId).forUpdate().executeTakeFirst()
      if (!row || row.status !== 'running') return row
      const scope: PurgeScope = { trx, people: this.#people, subject: await this.#subject(trx, tenantId, row.entity_id) ?? gone(tenantId), archive: row.archive, counts: {}, archived: {}, files: [] }
      // An individual already gone (erased by an earlier purge) leaves nothing to do: counts stay empty.
      if (scope.subject.personId !== '') {
        for (const area of PURGE_AREAS) await area.run(scope)
      }
      if (row.archive) {
        await trx.insertInto('privacy_archives').values({ purge_id: row.id, tenant_id: tenantId, document: JSON.stringify(scope.archived) })
          .onConflict((oc) => oc.column('purge_id').doNothing()).execute()
      }
      return trx.updateTable('privacy_purges').set({
        status: 'completed', counts: JSON.stringify(scope.counts), pending_files: JSON.stringify(scope.files),
        completed_at: sql`now()`, last_error: null,
      }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow()
    })
    if (!done || done.pending_files.length === 0) return
    for (const key of done.pending_files) await this.#files.delete(tenantId, key)
    await this.#db.updateTable('privacy_purges').set({ pending_files: '[]' }).where('id', '=', done.id).execute()
  }

  /** The job gave up: the record says so (with the error, which carries no content). */
  async markFailed(tenantId: TenantId, purgeId: string, error: string): Promise<void> {
    await this.#db.updateTable('privacy_purges').set({ status: 'failed', last_error: error.slice(0, 500) })
      .where('tenant_id', '=', tenantId).where('id', '=', purgeId).where('status', '!=', 'completed').execute()
  }

  #same(existing: PurgeRow, entityId: string, entityType: string, archive: boolean): Purge {
    if (existing.entity_id !== entityId || existing.entity_type !== entityType || existing.archive !== archive) {
      throw new ConflictError('purge_request_conflict', `request-id ${existing.request_id} was already used for another purge`, { pointer: '/data/attributes/request-id' })
    }
    return toPurge(existing)
  }

  #noIndividual(id: string) {
    return new NotFoundError('resource_not_found', `No individuals with id ${id}`, { type: 'individuals', id, pointer: '/data/attributes/entity-id' })
  }

  async #find(db: Kysely<DB>, tenantId: TenantId, requestId: string): Promise<PurgeRow | undefined> {
    return db.selectFrom('privacy_purges').selectAll().where('tenant_id', '=', tenantId).where('request_id', '=', requestId).executeTakeFirst()
  }

  /** The tenant's individual with this (Cass) id, with its core id and addresses; undefined when unknown. */
  async #subject(db: Kysely<DB>, tenantId: TenantId, cassId: string): Promise<PurgeSubject | undefined> {
    const person = await this.#people.findByCassId(db, tenantId, cassId)
    if (!person) return undefined
    const endUsers = await db.selectFrom('cc_end_users').select(['phone', 'email']).where('tenant_id', '=', tenantId).where('person_id', '=', person.id).execute()
    const addresses = [...await this.#people.addressesOf(db, tenantId, person.id), ...endUsers.flatMap((u) => [u.phone, u.email?.toLowerCase() ?? null])]
      .filter((a): a is string => a !== null && a !== '')
    return { tenantId, personId: person.id, cassId: person.cassId, addresses: [...new Set(addresses)] }
  }
}

/** No one to erase (already gone): an empty subject the run recognises. */
function gone(tenantId: TenantId): PurgeSubject {
  return { tenantId, personId: '', cassId: '', addresses: [] }
}
