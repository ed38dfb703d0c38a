import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from '../messaging/directory.service.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { Person, PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'

type BadgeRow = Selectable<DB['msg_badge_counts']>

/** The most values one bulk call (#21) sets. */
export const MAX_BULK_BADGE_COUNTS = 1000
/** A category's longest name (as `filter[category]` of #132). */
export const BADGE_TYPE_MAX = 32
const COUNT_MAX = 1_000_000

/** An individual's unread counter of one category in an organisation (#18–#20). */
export interface BadgeCount {
  readonly id: string
  readonly organizationId: string
  readonly individualId: string
  readonly type: string
  readonly count: number
  /** When the caller counted (as it said); null when it did not say. */
  readonly timestamp: Date | null
  readonly lastModifiedAt: Date
}

export interface SetBadgeCount {
  readonly count: number
  readonly individualId: string
  readonly organizationId: string
  readonly timestamp?: string | undefined
  readonly type: string
}

const notFound = (id: string) => new NotFoundError('resource_not_found', `No badge-counts with id ${id}`, { type: 'badge-counts', id })

/**
 * Badge counts: one counter per individual, organisation and category (`type`). Setting one (#19,
 * #21) replaces the count of that key — the same id every time — unless the stored count carries a
 * later `timestamp` than the one given (a late, older write does not undo a newer one). A push's
 * badge is the sum of the individual's counters.
 */
export class BadgeCountsService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; organizations: Organizations; peopleLookups: PeopleLookups }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#people = deps.peopleLookups
  }

  /** #18: an individual's counters (of one organisation), in category order. */
  async list(tenant: Tenant, q: { individualId: string; organizationId?: string | undefined }, viewer: DirectoryViewer): Promise<{ items: BadgeCount[]; total: number }> {
    const person = await this.#person(tenant.id, q.individualId, { parameter: 'individual-id' })
    await this.#mayAct(tenant.id, viewer, person, { parameter: 'individual-id' })
    if (q.organizationId !== undefined) await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#db.selectFrom('msg_badge_counts').selectAll().where('tenant_id', '=', tenant.id).where('person_id', '=', person.id)
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId)
    const rows = await query.orderBy('type').orderBy('organization_id').execute()
    return { items: rows.map((r) => present(r, person.cassId)), total: rows.length }
  }

  /** #20 */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<BadgeCount> {
    const row = await this.#db.selectFrom('msg_badge_counts').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    const person = await this.#people.findById(this.#db, tenant.id, row.person_id)
    if (!person) throw notFound(id)
    if (viewer.kind === 'user' && !(await this.#isOwn(tenant.id, viewer, person))) throw notFound(id)
    return present(row, person.cassId)
  }

  /** #19: set one counter; the counter as stored after. */
  async set(tenant: Tenant, input: SetBadgeCount, viewer: DirectoryViewer): Promise<BadgeCount> {
    const [row] = await this.#setMany(tenant, [input], viewer, (member) => `/data/attributes/${member}`)
    return row!
  }

  /** #21: set many counters at once, all or none (every value is checked before any is written). */
  async setMany(tenant: Tenant, values: readonly SetBadgeCount[], viewer: DirectoryViewer): Promise<void> {
    if (values.length === 0) throw new ValidationError('invalid_badge_count', 'values must list at least one badge count', { pointer: '/data/attributes/values' })
    if (values.length > MAX_BULK_BADGE_COUNTS) throw new ValidationError('invalid_badge_count', `values lists at most ${MAX_BULK_BADGE_COUNTS}`, { pointer: '/data/attributes/values' })
    await this.#setMany(tenant, values, viewer, (member, i) => `/data/attributes/values/${i}/${member}`)
  }

  /** The sum of an individual's counters: the badge of its app icon. */
  async total(tenantId: TenantId, personId: string): Promise<number> {
    const r = await this.#db.selectFrom('msg_badge_counts').select((eb) => eb.fn.sum<string | number | null>('count').as('n'))
      .where('tenant_id', '=', tenantId).where('person_id', '=', personId).executeTakeFirst()
    return Number(r?.n ?? 0)
  }

  async #setMany(tenant: Tenant, values: readonly SetBadgeCount[], viewer: DirectoryViewer, pointer: (member: string, i: number) => string): Promise<BadgeCount[]> {
    const orgs = new Set((await this.#orgs.listAll(tenant)).map((o) => o.id))
    const people = await this.#people.findManyByCassIds(this.#db, tenant.id, values.map((v) => v.individualId))
    const checked: Array<{ v: SetBadgeCount; person: Person; timestamp: Date | null }> = []
    for (const [i, v] of values.entries()) {
      const bad = (why: string, member: string) => new ValidationError('invalid_badge_count', why, { pointer: pointer(member, i) })
      if (!Number.isInteger(v.count) || v.count < 0 || v.count > COUNT_MAX) throw bad(`count must be an integer 0 to ${COUNT_MAX}`, 'count')
      if (v.type.length === 0 || v.type.length > BADGE_TYPE_MAX || !/^[A-Za-z0-9_.:-]+$/.test(v.type)) throw bad(`type must be 1 to ${BADGE_TYPE_MAX} letters, digits or _ . : -`, 'type')
      let timestamp: Date | null = null
      if (v.timestamp !== undefined && v.timestamp !== '') {
        timestamp = new Date(v.timestamp)
        if (!/^\d{4}-\d{2}-\d{2}T/.test(v.timestamp) || Number.isNaN(timestamp.getTime())) throw bad('timestamp must be an ISO 8601 date-time', 'timestamp')
      }
      if (!orgs.has(v.organizationId)) {
        throw new NotFoundError('resource_not_found', `No organizations with id ${v.organizationId}`, { type: 'organizations', id: v.organizationId, pointer: pointer('organization-id', i) })
      }
      const person = people.get(v.individualId.toLowerCase())
      if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${v.individualId}`, { type: 'individuals', id: v.individualId, pointer: pointer('individual-id', i) })
      await this.#mayAct(tenant.id, viewer, person, { pointer: pointer('individual-id', i) })
      checked.push({ v, person, timestamp })
    }
    return this.#db.transaction().execute(async (trx) => {
      const out: BadgeCount[] = []
      for (const { v, person, timestamp } of checked) {
        await trx.insertInto('msg_badge_counts').values({
          tenant_id: tenant.id, organization_id: v.organizationId, person_id: person.id, type: v.type, count: v.count, timestamp,
        }).onConflict((oc) => oc.columns(['tenant_id', 'person_id', 'organization_id', 'type']).doUpdateSet({
          count: (eb) => eb.ref('excluded.count'), timestamp: (eb) => eb.ref('excluded.timestamp'), last_modified_at: sql`now()`,
        }).where(sql<boolean>`msg_badge_counts."timestamp" IS NULL OR excluded."timestamp" IS NULL OR excluded."timestamp" >= msg_badge_counts."timestamp"`)).execute()
        const row = await trx.selectFrom('msg_badge_counts').selectAll().where('tenant_id', '=', tenant.id).where('person_id', '=', person.id)
          .where('organization_id', '=', v.organizationId).where('type', '=', v.type).executeTakeFirstOrThrow()
        out.push(present(row, person.cassId))
      }
      return out
    })
  }

  async #person(tenantId: TenantId, individualId: string, where: { parameter?: string; pointer?: string }): Promise<Person> {
    const person = await this.#people.findByCassId(this.#db, tenantId, individualId)
    if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${individualId}`, { type: 'individuals', id: individualId, ...where })
    return person
  }

  /** A user token acts for its own individual only: ForbiddenError `not_your_individual` otherwise. */
  async #mayAct(tenantId: TenantId, viewer: DirectoryViewer, person: Person, where: { parameter?: string; pointer?: string }): Promise<void> {
    if (viewer.kind === 'user' && !(await this.#isOwn(tenantId, viewer, person))) {
      throw new ForbiddenError('not_your_individual', 'a user token reads and sets the badge counts of its own individual only', where)
    }
  }

  async #isOwn(tenantId: TenantId, viewer: Extract<DirectoryViewer, { kind: 'user' }>, person: Person): Promise<boolean> {
    const u = await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenantId).where('id', '=', viewer.userId).executeTakeFirst()
    return u?.person_id === person.id
  }
}

function present(r: BadgeRow, individualId: string): BadgeCount {
  return { id: r.id, organizationId: r.organization_id, individualId, type: r.type, count: r.count, timestamp: r.timestamp, lastModifiedAt: r.last_modified_at }
}
