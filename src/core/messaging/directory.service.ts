import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { hashSecret, randomSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { AuthError, NotFoundError } from '../errors.ts'
import type { PeopleService } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import { DirectoryImport, type DirectoryImportResult, type DirectorySource, type ImportProgress } from './directory.import.ts'
import { UUID } from '../../lib/uuid.ts'

/** Who reads the directory: the organisation (its API key sees all) or one user (a user token). */
export type DirectoryViewer = { readonly kind: 'organization' } | { readonly kind: 'user'; readonly userId: string }
export const ORGANIZATION_VIEWER: DirectoryViewer = { kind: 'organization' }

/** An individual (`spec/courier.md` #25): a core person, with the directory's own fields. */
export interface Individual {
  /** The person's Cass person_id. */
  readonly id: string
  readonly personId: string
  readonly externalId: string | null
  readonly firstName: string | null
  readonly lastName: string | null
  readonly preferredName: string | null
  readonly birthDate: string | null
  readonly accountType: string
  /** The owning organisation (the tenant's id unless a clinic owns them). */
  readonly ownerId: string
  readonly lastModifiedAt: Date
}

/** An individual group (a care team, #24). */
export interface IndividualGroup {
  readonly id: string
  readonly externalId: string
  readonly name: string
  readonly parentId: string | null
  readonly organizationId: string
  /** Member individuals' ids (Cass person ids). */
  readonly individualIds: readonly string[]
  /** Member users' ids: the care team that leads the group. */
  readonly leaderIds: readonly string[]
  readonly lastSyncAt: Date
}

/** A user (a care-team member, #135–#137). */
export interface DirectoryUser {
  readonly id: string
  readonly email: string
  readonly username: string | null
  readonly firstName: string | null
  readonly lastName: string | null
  readonly phone: string | null
  readonly locale: string | null
  readonly tz: string | null
  /** The individual this user also is (Cass person id), if any. */
  readonly primaryIndividualId: string | null
  readonly notifications: readonly string[]
  readonly smsMode: string
  readonly state: string
  readonly lastSyncAt: Date
}

/** A sub-organisation (clinic) of the tenant. */
export interface Clinic {
  readonly id: string
  readonly externalId: string
  readonly name: string
  readonly displayName: string
  readonly timezone: string
  readonly updatedAt: Date
}

/** Filters of the users list (#135). */
export interface UserFilters {
  readonly email?: string
  readonly individualId?: string
  readonly username?: string
}

/** A user token's prefix: tells it from an organisation API key without a lookup. */
export const USER_TOKEN_PREFIX = 'sbu_'

const notFound = (type: string, id: string) => new NotFoundError('resource_not_found', `No ${type} with id ${id}`, { type, id })

/**
 * The messaging directory: imported (DirectoryImport), read by the API (read-only there, §0), and
 * the user tokens care-team members' apps authenticate with. A user sees themselves, the groups
 * they are a member of and those groups' individuals (and their own individual); the organisation
 * sees everything of the tenant.
 */
export class DirectoryService {
  readonly #db: Kysely<DB>
  readonly #import: DirectoryImport
  readonly #people: PeopleService

  constructor(db: Kysely<DB>, people: PeopleService) {
    this.#db = db
    this.#people = people
    this.#import = new DirectoryImport(db)
  }

  /** Import a directory file (see DirectoryImport). Throws ValidationError `invalid_directory`. */
  import(tenant: Tenant, source: DirectorySource, onProgress?: ImportProgress): Promise<DirectoryImportResult> {
    return this.#import.run(tenant, source, onProgress)
  }

  /** The tenant's clinics, in name order. */
  async clinics(tenantId: TenantId): Promise<Clinic[]> {
    const rows = await this.#db.selectFrom('msg_organizations').selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('id').execute()
    return rows.map((r) => ({ id: r.id, externalId: r.external_id, name: r.name, displayName: r.display_name ?? r.name, timezone: r.timezone, updatedAt: r.updated_at }))
  }

  /** One individual by id (the Cass person id); NotFoundError `resource_not_found` if not the viewer's to see. */
  async individual(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Individual> {
    if (!UUID.test(id)) throw notFound('individuals', id)
    // The person through the people domain (its cache included); the directory's own fields beside it.
    const person = await this.#people.getByRef(tenant, id).catch((err: unknown) => {
      throw err instanceof NotFoundError ? notFound('individuals', id) : err
    })
    if (viewer.kind === 'user') {
      const visible = await this.#db.selectFrom('msg_users as u').select('u.id').where('u.id', '=', viewer.userId).where('u.person_id', '=', person.id)
        .union(this.#db.selectFrom('msg_group_individuals as gi').innerJoin('msg_group_users as gu', 'gu.group_id', 'gi.group_id')
          .select('gu.user_id as id').where('gi.person_id', '=', person.id).where('gu.user_id', '=', viewer.userId))
        .executeTakeFirst()
      if (!visible) throw notFound('individuals', id)
    }
    const d = await this.#db.selectFrom('msg_individuals')
      .select(['account_type', sql<string | null>`birth_date::text`.as('birth_date'), 'preferred_name', 'owner_id', 'synced_at'])
      .where('tenant_id', '=', tenant.id).where('person_id', '=', person.id).executeTakeFirst()
    const synced = d?.synced_at ?? person.updatedAt
    return {
      id: person.cassId, personId: person.id, externalId: person.externalId, firstName: person.firstName, lastName: person.lastName,
      preferredName: d?.preferred_name ?? null, birthDate: d?.birth_date ?? null, accountType: d?.account_type ?? 'patient',
      ownerId: d?.owner_id ?? tenant.id, lastModifiedAt: synced > person.updatedAt ? synced : person.updatedAt,
    }
  }

  /**
   * #27: recompute an individual's communication summary. The directory keeps no summary of its
   * own yet (messages are another domain's), so this checks the individual and answers it as it is.
   */
  async recalculateSummary(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Individual> {
    return this.individual(tenant, id, viewer)
  }

  /** One individual group with its members; NotFoundError `resource_not_found` if not the viewer's to see. */
  async group(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<IndividualGroup> {
    if (!UUID.test(id)) throw notFound('individual-groups', id)
    let q = this.#db.selectFrom('msg_individual_groups as g').selectAll('g').where('g.tenant_id', '=', tenant.id).where('g.id', '=', id)
    if (viewer.kind === 'user') {
      q = q.where((eb) => eb.exists(eb.selectFrom('msg_group_users as gu').select('gu.user_id').whereRef('gu.group_id', '=', 'g.id').where('gu.user_id', '=', viewer.userId)))
    }
    const g = await q.executeTakeFirst()
    if (!g) throw notFound('individual-groups', id)
    const individuals = await this.#db.selectFrom('msg_group_individuals as gi')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'gi.person_id').on('i.surface', '=', 'cass'))
      .select('i.public_id').where('gi.group_id', '=', g.id).orderBy('i.public_id').execute()
    const leaders = await this.#db.selectFrom('msg_group_users').select('user_id').where('group_id', '=', g.id).orderBy('user_id').execute()
    return {
      id: g.id, externalId: g.external_id, name: g.name, parentId: g.parent_id, organizationId: g.organization_id,
      individualIds: individuals.map((r) => r.public_id), leaderIds: leaders.map((r) => r.user_id), lastSyncAt: g.synced_at,
    }
  }

  #users(tenantId: TenantId) {
    return this.#db.selectFrom('msg_users as u')
      .leftJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'u.person_id').on('i.surface', '=', 'cass'))
      .select([
        'u.id', 'u.email', 'u.username', 'u.first_name', 'u.last_name', 'u.phone', 'u.locale', 'u.tz', 'u.notifications',
        'u.sms_mode', 'u.state', 'u.synced_at', 'i.public_id as primary_individual_id',
      ])
      .where('u.tenant_id', '=', tenantId)
  }

  /** The tenant's users (a user sees only themselves), filtered, in email order, one page. */
  async users(tenant: Tenant, filters: UserFilters, page: { limit: number; offset: number }, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<{ items: DirectoryUser[]; total: number }> {
    let q = this.#users(tenant.id)
    if (viewer.kind === 'user') q = q.where('u.id', '=', viewer.userId)
    if (filters.email !== undefined) q = q.where('u.email', '=', filters.email.trim().toLowerCase())
    if (filters.username !== undefined) q = q.where('u.username', '=', filters.username)
    if (filters.individualId !== undefined) q = q.where('i.public_id', '=', filters.individualId.toLowerCase())
    const total = await q.clearSelect().select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await q.orderBy('u.email').limit(page.limit).offset(page.offset).execute()
    return { items: rows.map(toUser), total: Number(total.n) }
  }

  /** One user; NotFoundError `resource_not_found` if not the viewer's to see. */
  async user(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<DirectoryUser> {
    if (!UUID.test(id) || (viewer.kind === 'user' && viewer.userId !== id.toLowerCase())) throw notFound('users', id)
    const r = await this.#users(tenant.id).where('u.id', '=', id.toLowerCase()).executeTakeFirst()
    if (!r) throw notFound('users', id)
    return toUser(r)
  }

  /** #137 (deprecated): set how a user is told of new messages. */
  async setNotifications(tenant: Tenant, id: string, notifications: readonly string[], viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<DirectoryUser> {
    await this.user(tenant, id, viewer)
    await this.#db.updateTable('msg_users').set({ notifications: JSON.stringify([...new Set(notifications)]), updated_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id.toLowerCase()).execute()
    return this.user(tenant, id, viewer)
  }

  /**
   * A new user token for the tenant's user with this email (the previous one stops working); only
   * its hash is stored. NotFoundError `resource_not_found` for an unknown email.
   */
  async issueUserToken(tenant: Tenant, email: string): Promise<{ userId: string; token: string }> {
    const token = `${USER_TOKEN_PREFIX}${randomSecret(32)}`
    const row = await this.#db.updateTable('msg_users').set({ token_hash: hashSecret(token), updated_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('email', '=', email.trim().toLowerCase()).returning('id').executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No user with email ${email}`, { type: 'users', id: email })
    return { userId: row.id, token }
  }

  /** The tenant and user of a user token; AuthError `bad_secret` when it is no one's. */
  async authenticateUserToken(token: string): Promise<{ tenantId: TenantId; userId: string }> {
    const row = await this.#db.selectFrom('msg_users').select(['tenant_id', 'id']).where('token_hash', '=', hashSecret(token)).where('state', '=', 'active').executeTakeFirst()
    if (!row) throw new AuthError('bad_secret', 'no such user token')
    return { tenantId: row.tenant_id, userId: row.id }
  }
}

function toUser(r: {
  id: string; email: string; username: string | null; first_name: string | null; last_name: string | null; phone: string | null; locale: string | null
  tz: string | null; notifications: string[]; sms_mode: string; state: string; synced_at: Date; primary_individual_id: string | null
}): DirectoryUser {
  return {
    id: r.id, email: r.email, username: r.username, firstName: r.first_name, lastName: r.last_name, phone: r.phone, locale: r.locale, tz: r.tz,
    primaryIndividualId: r.primary_individual_id, notifications: r.notifications, smsMode: r.sms_mode, state: r.state, lastSyncAt: r.synced_at,
  }
}
