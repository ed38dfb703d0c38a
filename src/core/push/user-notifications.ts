import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from '../messaging/directory.service.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { PeopleLookups, Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'

type Executor = Kysely<DB> | Transaction<DB>
type NotificationRow = Selectable<DB['msg_user_notifications']>

/** The longest `filter[category]` (spec §1.8). */
export const NOTIFICATION_CATEGORY_MAX = 32

/** What went out on each channel (`data` of #132–#134). */
export interface NotificationRenderings {
  readonly apn: Record<string, unknown>
  readonly fcm: Record<string, unknown>
  readonly sms: { readonly bodies: readonly string[] }
  readonly web: Record<string, unknown>
}

/** One notification an individual was sent (#132–#134). */
export interface UserNotification {
  readonly id: string
  readonly organizationId: string
  /** The individual's id (the Cass person id). */
  readonly individualId: string
  /** The individual's user (null when the individual is no user). */
  readonly userId: string | null
  readonly userFirstName: string | null
  readonly userLastName: string | null
  readonly multicastId: string | null
  readonly category: string
  readonly data: Record<string, unknown>
  readonly acknowledged: boolean
  readonly active: boolean
  readonly createdAt: Date
}

/** A notification to record (a multicast recipient's, or a push to an individual's). */
export interface NotificationRecord {
  readonly personId: string
  readonly organizationId: string
  readonly multicastId?: string | undefined
  readonly category: string
  readonly data: NotificationRenderings
  /** False when nothing reached the individual (no push, no SMS, no e-mail, no in-app part). */
  readonly active: boolean
}

export interface NotificationQuery {
  readonly acknowledged?: boolean | undefined
  readonly category?: string | undefined
  readonly includeInactive: boolean
  readonly individualId?: string | undefined
  readonly organizationId?: string | undefined
  readonly limit: number
  readonly offset: number
}

/** One day's count of an individual's notifications (#131). */
export interface NotificationCount {
  readonly day: string
  /** The individual's user id, or the individual's id when it is no user. */
  readonly userId: string
  readonly count: number
}

/** The push part of a rendering as APNs / FCM / Web Push carried it. */
export function pushRendering(p: { title: string; body: string; category?: string | undefined; data?: Readonly<Record<string, unknown>> | undefined }): Record<string, unknown> {
  return { title: p.title, body: p.body, category: p.category ?? '', data: { ...p.data } }
}

/**
 * User notifications: a record of every notification an individual was sent — a multicast (one per
 * recipient, written by the multicast's batch transaction) or a push to the individual (written
 * with its devices' push logs) — with what went out on each channel. Listed (active ones unless
 * `include[inactive]`), read, acknowledged singly or with every older one of the individual
 * (`ack-previous`), and counted per day (#131). Acknowledging does not touch badge counts: those are
 * the organisation's counters (#18–#21), set by it (README "User notifications"). The organisation
 * key sees every individual's; a user token only those of its own individual.
 */
export class UserNotificationsService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; organizations: Organizations; peopleLookups: PeopleLookups }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#people = deps.peopleLookups
  }

  /** Record notifications in the caller's transaction; a multicast's recipient once (a rerun of its batch adds nothing). */
  async record(db: Executor, tenantId: TenantId, records: readonly NotificationRecord[]): Promise<void> {
    if (records.length === 0) return
    await sql`INSERT INTO msg_user_notifications (tenant_id, organization_id, person_id, user_id, multicast_id, category, data, active)
      SELECT ${tenantId}, v.organization_id, v.person_id,
        (SELECT u.id FROM msg_users u WHERE u.tenant_id = ${tenantId} AND u.person_id = v.person_id ORDER BY u.created_at LIMIT 1),
        v.multicast_id, v.category, v.data::jsonb, v.active
      FROM unnest(${records.map((r) => r.organizationId)}::uuid[], ${records.map((r) => r.personId)}::uuid[], ${records.map((r) => r.multicastId ?? null)}::uuid[],
        ${records.map((r) => r.category.slice(0, 255))}::text[], ${records.map((r) => JSON.stringify(r.data))}::text[], ${records.map((r) => r.active)}::boolean[])
        AS v(organization_id, person_id, multicast_id, category, data, active)
      ON CONFLICT (tenant_id, multicast_id, person_id) WHERE multicast_id IS NOT NULL DO NOTHING`.execute(db)
  }

  /** #132: notifications, oldest first. */
  async list(tenant: Tenant, q: NotificationQuery, viewer: DirectoryViewer): Promise<{ items: UserNotification[]; total: number }> {
    if (q.organizationId !== undefined) await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#base(tenant.id)
    if (viewer.kind === 'user') query = query.where('n.person_id', '=', await this.#ownPerson(tenant.id, viewer))
    if (q.individualId !== undefined) {
      const person = await this.#people.findByCassId(this.#db, tenant.id, q.individualId)
      if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${q.individualId}`, { type: 'individuals', id: q.individualId, parameter: 'individual-id' })
      query = query.where('n.person_id', '=', person.id)
    }
    if (q.organizationId !== undefined) query = query.where('n.organization_id', '=', q.organizationId.toLowerCase())
    if (q.acknowledged !== undefined) query = query.where('n.acknowledged', '=', q.acknowledged)
    if (q.category !== undefined) query = query.where('n.category', '=', q.category)
    if (!q.includeInactive) query = query.where('n.active', '=', true)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('c')).executeTakeFirstOrThrow()
    const rows = await this.#select(query).orderBy('n.created_at').orderBy('n.id').limit(q.limit).offset(q.offset).execute()
    return { items: await this.#present(tenant.id, rows), total: Number(total.c) }
  }

  /** #133: one notification; NotFoundError `resource_not_found` when it is not the viewer's. */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<UserNotification> {
    let query = this.#base(tenant.id).where('n.id', '=', id.toLowerCase())
    if (viewer.kind === 'user') query = query.where('n.person_id', '=', await this.#ownPerson(tenant.id, viewer).catch(() => '00000000-0000-0000-0000-000000000000'))
    const row = await this.#select(query).executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No user-notifications with id ${id}`, { type: 'user-notifications', id })
    return (await this.#present(tenant.id, [row]))[0]!
  }

  /** #134: acknowledge a notification, and with `ackPrevious` every older one of its individual. */
  async ack(tenant: Tenant, id: string, ackPrevious: boolean, viewer: DirectoryViewer): Promise<UserNotification> {
    const n = await this.get(tenant, id, viewer)
    const row = await this.#db.selectFrom('msg_user_notifications').select(['person_id', 'created_at']).where('tenant_id', '=', tenant.id).where('id', '=', n.id).executeTakeFirstOrThrow()
    let update = this.#db.updateTable('msg_user_notifications').set({ acknowledged: true, acknowledged_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('acknowledged', '=', false)
    update = ackPrevious
      ? update.where('person_id', '=', row.person_id).where((eb) => eb.or([eb('created_at', '<', row.created_at), eb('id', '=', n.id)]))
      : update.where('id', '=', n.id)
    await update.execute()
    return this.get(tenant, id, viewer)
  }

  /**
   * #131: notifications per UTC day and individual (active ones), newest day first; `bounds` are
   * `>=` / `<=` limits on their creation time.
   */
  async counts(tenant: Tenant, q: { bounds: ReadonlyArray<{ op: '>=' | '<='; at: Date }>; limit: number; offset: number }, viewer: DirectoryViewer): Promise<{ items: NotificationCount[]; total: number }> {
    let query = this.#db.selectFrom('msg_user_notifications as n')
      .innerJoin('person_identities as i', (j) => j.onRef('i.tenant_id', '=', 'n.tenant_id').onRef('i.person_id', '=', 'n.person_id').on('i.surface', '=', 'cass'))
      .where('n.tenant_id', '=', tenant.id).where('n.active', '=', true)
    if (viewer.kind === 'user') query = query.where('n.person_id', '=', await this.#ownPerson(tenant.id, viewer))
    for (const b of q.bounds) query = query.where('n.created_at', b.op, b.at)
    const day = sql<string>`to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
    const who = sql<string>`coalesce((SELECT u.id::text FROM msg_users u WHERE u.tenant_id = n.tenant_id AND u.person_id = n.person_id ORDER BY u.created_at LIMIT 1), i.public_id)`
    const grouped = query.select([day.as('day'), who.as('user_id'), sql<string>`count(*)`.as('c')]).groupBy([day, 'n.tenant_id', 'n.person_id', 'i.public_id'])
    const total = await this.#db.selectFrom(grouped.as('g')).select((eb) => eb.fn.countAll<string>().as('c')).executeTakeFirstOrThrow()
    const rows = q.limit === 0 ? [] : await this.#db.selectFrom(grouped.as('g')).selectAll().orderBy('day', 'desc').orderBy('user_id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map((r) => ({ day: r.day, userId: r.user_id, count: Number(r.c) })), total: Number(total.c) }
  }

  /** Rows as notifications: the user's names, or the individual's (read through the people domain) when it is no user. */
  async #present(tenantId: TenantId, rows: readonly SelectedRow[]): Promise<UserNotification[]> {
    const persons = rows.filter((r) => r.user_id === null).map((r) => r.person_id)
    const people = persons.length > 0 ? await this.#people.findMany(this.#db, tenantId, [...new Set(persons)]) : new Map<string, Person>()
    return rows.map((r) => present(r, people.get(r.person_id)))
  }

  #base(tenantId: TenantId): BaseQuery {
    return baseQuery(this.#db, tenantId)
  }

  #select(query: BaseQuery) {
    return query.selectAll('n').select(['i.public_id', 'u.first_name as user_first_name', 'u.last_name as user_last_name'])
  }

  /** A user token's own individual (person id); ForbiddenError `user_without_individual` when it has none. */
  async #ownPerson(tenantId: TenantId, viewer: Extract<DirectoryViewer, { kind: 'user' }>): Promise<string> {
    const u = await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenantId).where('id', '=', viewer.userId).executeTakeFirst()
    if (!u?.person_id) throw new ForbiddenError('user_without_individual', 'this user has no individual of its own')
    return u.person_id
  }
}

function baseQuery(db: Kysely<DB>, tenantId: TenantId) {
  return db.selectFrom('msg_user_notifications as n')
    .innerJoin('person_identities as i', (j) => j.onRef('i.tenant_id', '=', 'n.tenant_id').onRef('i.person_id', '=', 'n.person_id').on('i.surface', '=', 'cass'))
    .leftJoin('msg_users as u', (j) => j.onRef('u.tenant_id', '=', 'n.tenant_id').onRef('u.id', '=', 'n.user_id'))
    .where('n.tenant_id', '=', tenantId)
}
type BaseQuery = ReturnType<typeof baseQuery>

/** A category filter's check (≤ 32 characters, spec §1.8): ValidationError `invalid_user_notification`. */
export function checkCategory(category: string | undefined): void {
  if (category !== undefined && category.length > NOTIFICATION_CATEGORY_MAX) {
    throw new ValidationError('invalid_user_notification', `filter[category] is at most ${NOTIFICATION_CATEGORY_MAX} characters`, { parameter: 'filter[category]' })
  }
}

type SelectedRow = NotificationRow & { public_id: string; user_first_name: string | null; user_last_name: string | null }

function present(r: SelectedRow, person: Person | undefined): UserNotification {
  return {
    id: r.id, organizationId: r.organization_id, individualId: r.public_id, userId: r.user_id,
    userFirstName: r.user_id !== null ? r.user_first_name : person?.firstName ?? null, userLastName: r.user_id !== null ? r.user_last_name : person?.lastName ?? null,
    multicastId: r.multicast_id, category: r.category, data: r.data, acknowledged: r.acknowledged, active: r.active, createdAt: r.created_at,
  }
}
