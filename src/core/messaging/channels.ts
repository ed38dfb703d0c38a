import { randomUUID } from 'node:crypto'
import { isUuid } from '../../lib/uuid.ts'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups, Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { Organizations } from './organizations.ts'
import type { OrgPreferences } from './org-preferences.ts'
import { ORGANIZATION_VIEWER, type DirectoryViewer } from './directory.service.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** The kinds of channel (`spec/courier.md` §1.9, #22 `filter[type]`). */
export const SUBSCRIPTION_TYPES = ['direct-message', 'group-message', 'multicast', 'none', 'open', 'single'] as const
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number]

/** A subscriber of a channel: an individual (a core person) and their place in it. */
export interface Subscriber {
  /** The individual id on the wire: the person's Cass person id. */
  readonly individualId: string
  readonly person: Person
  readonly admin: boolean
  readonly pinned: boolean
  readonly preferences: Record<string, unknown>
  /** Read marker: every message with `seq` up to here is read. */
  readonly ackSeq: number
  readonly ackAt: Date | null
  /** The directory user (care-team member) this individual is, if any. */
  readonly userId: string | null
}

/** The embedded `individual-group` of a channel (#46 `include-individual-group`). */
export interface ChannelGroup {
  readonly id: string
  readonly name: string
  readonly organizationId: string
  readonly individuals: readonly { person: Person; birthDate: string | null; preferredName: string | null; ownerId: string }[]
  readonly leaders: readonly { id: string; firstName: string | null; lastName: string | null }[]
}

/** A channel as the messaging API reads it; `caller` fields are for the acting individual, if any. */
export interface Channel {
  readonly id: string
  readonly organizationId: string
  readonly name: string
  readonly label: string | null
  readonly subscriptionType: SubscriptionType
  readonly floating: boolean
  readonly eventSettings: Record<string, unknown>
  readonly individualGroupId: string | null
  readonly textNumberId: string | null
  readonly createdBy: Person | null
  readonly archived: boolean
  readonly smsActive: boolean
  readonly createdAt: Date
  readonly lastModifiedAt: Date
  readonly subscribers: readonly Subscriber[]
  readonly lastMessage: { id: string; message: string; postedAt: Date; removed: boolean } | null
  /** Messages the acting individual has not read (null: no acting individual). */
  readonly callerUnread: number | null
  /** The organisation's `group-provider-ack` preference. */
  readonly groupProviderAck: boolean
  /** The channel's current bookmark: its newest (#34). */
  readonly bookmark: { id: string; messageId: string } | null
  /** The individual group's name (a nameless channel's title with `use-group-name`). */
  readonly groupName: string | null
  /** The SMS path's own first message (#51), if set. */
  readonly smsInitialMessage: string | null
  readonly smsInitialMessageJs: Record<string, unknown> | null
}

export interface CreateChannel {
  readonly organizationId: string
  readonly name?: string
  readonly label?: string | null
  readonly subscriptionType?: SubscriptionType
  readonly floating?: boolean
  readonly eventSettings?: Record<string, unknown>
  readonly individualGroupId?: string | null
  readonly textNumberId?: string | null
  /** Subscribers, by individual id. */
  readonly individualIds?: readonly string[]
  /** The acting individual (becomes an admin subscriber). */
  readonly actingIndividualId?: string
  /** Who creates it: a user sees (and may name) only the groups they are a member of. */
  readonly viewer?: DirectoryViewer
}

/** One JSON-Patch operation of #47. */
export interface PatchOp { readonly op: string; readonly path: string; readonly value?: unknown }

export interface ChannelQuery {
  readonly organizationId?: string
  /** Channels this individual subscribes to (also the acting individual for unread counts). */
  readonly individualId?: string
  readonly participantId?: string
  readonly archived?: boolean
  readonly floating?: boolean
  readonly individualGroupId?: string
  readonly modified?: (at: Date) => boolean
  /** Who lists: a user sees only the channels their individual subscribes to. */
  readonly viewer?: DirectoryViewer
  readonly limit: number
  readonly offset: number
}

type Where = { pointer?: string; parameter?: string }

/** Told, in the change's transaction, of individuals (person ids) who became subscribers of a channel. */
export interface ChannelSharedPort {
  /** Queue what the sharing causes; true when something was queued (then `wake` after the commit). */
  shared(trx: Transaction<DB>, tenantId: TenantId, s: { channelId: string; personIds: readonly string[]; by: string | null }): Promise<boolean>
  /** Whether `shared` could queue anything for the tenant at all: asked once per `createMany`, which skips the port when not. */
  listening?(trx: Transaction<DB>, tenantId: TenantId): Promise<boolean>
  wake(): void
}

/**
 * The texts domain's numbers as a channel's SMS path uses them (`text-number-id`): one of the
 * organisation's text-account numbers, as the sender of the path's SMS.
 */
export interface ChannelTextNumbers {
  /** The tenant's text number `numberId` of an account of `organizationId`, as a sender (`from`, and the delivery `data` its vendor needs), or undefined. */
  sender(db: Executor, tenantId: TenantId, organizationId: string, numberId: string): Promise<{ from: string; data: Record<string, unknown> } | undefined>
}

/** Channel attributes a JSON-Patch `replace` may set (#47), by path. */
const PATCHABLE = ['/name', '/label', '/floating', '/subscription-type', '/event-settings', '/event-settings/enabled', '/text-number-id'] as const

/**
 * Messaging channels (#44–#54): a channel of an organisation with its subscribers (individuals),
 * archived or not; the acting individual's unread count comes from the messages' sequence numbers
 * against their read marker. Every method takes the tenant first and checks every id it is given
 * is the tenant's (404 otherwise, pointing at where it was given).
 */
export class ChannelsService {
  readonly #db: Kysely<DB>
  readonly #people: PeopleLookups
  readonly #orgs: Organizations
  readonly #prefs: OrgPreferences
  readonly #textNumbers: ChannelTextNumbers | undefined

  constructor(deps: { db: Kysely<DB>; peopleLookups: PeopleLookups; organizations: Organizations; orgPreferences: OrgPreferences; textNumbers?: ChannelTextNumbers }) {
    this.#db = deps.db
    this.#people = deps.peopleLookups
    this.#orgs = deps.organizations
    this.#prefs = deps.orgPreferences
    this.#textNumbers = deps.textNumbers
  }

  /** `text-number-id`: a text number of the organisation's accounts, or NotFoundError at `where`. */
  async #textNumber(db: Executor, tenantId: TenantId, organizationId: string, numberId: string, where: Where): Promise<string> {
    const found = this.#textNumbers ? await this.#textNumbers.sender(db, tenantId, organizationId, numberId) : undefined
    if (!found) throw new NotFoundError('resource_not_found', `No text-account-numbers with id ${numberId}`, { type: 'text-account-numbers', id: numberId, ...where })
    return numberId
  }

  /**
   * The sender of a channel's SMS path: its `text-number-id` number (`from`, and what the vendor
   * needs to send from it), or undefined for the tenant's default SMS sender.
   */
  async smsSender(db: Executor, tenantId: TenantId, channel: { organization_id: string; text_number_id: string | null }): Promise<{ from: string; data: Record<string, unknown> } | undefined> {
    if (!channel.text_number_id || !this.#textNumbers) return undefined
    return this.#textNumbers.sender(db, tenantId, channel.organization_id, channel.text_number_id)
  }

  /** The people of `individualIds` (Cass ids), or NotFoundError naming the first unknown one at `pointer/<index>`. */
  async individuals(db: Executor, tenantId: TenantId, individualIds: readonly string[], where: { pointer?: string; parameter?: string }): Promise<Person[]> {
    const found = await this.#people.findManyByCassIds(db, tenantId, individualIds)
    return individualIds.map((id, i) => {
      const p = found.get(id.toLowerCase())
      if (!p) {
        const at = where.pointer !== undefined ? { pointer: individualIds.length > 1 || where.pointer.endsWith('-ids') ? `${where.pointer}/${i}` : where.pointer } : { parameter: where.parameter! }
        throw new NotFoundError('resource_not_found', `No individuals with id ${id}`, { type: 'individuals', id, ...at })
      }
      return p
    })
  }

  /** One individual by id, or NotFoundError at `where`. */
  async individual(db: Executor, tenantId: TenantId, individualId: string, where: { pointer?: string; parameter?: string }): Promise<Person> {
    const [p] = await this.individuals(db, tenantId, [individualId], where)
    return p!
  }

  /** #45: a new channel with its subscribers (the acting individual among them, as admin). */
  async create(tenant: Tenant, input: CreateChannel): Promise<Channel> {
    this.#orgs.get(tenant, input.organizationId, { pointer: '/data/attributes/organization-id' })
    const groupId = input.individualGroupId ? await this.#group(this.#db, tenant, input.individualGroupId, input.viewer ?? ORGANIZATION_VIEWER, { pointer: '/data/attributes/individual-group-id' }) : null
    const textNumberId = input.textNumberId ? await this.#textNumber(this.#db, tenant.id, input.organizationId, input.textNumberId, { pointer: '/data/attributes/text-number-id' }) : null
    const title = input.name ?? (await this.#prefs.list(tenant, input.organizationId, ['default-channel-title']))[0]?.value ?? ''
    let shared: ChannelSharedPort[] = []
    const id = await this.#db.transaction().execute(async (trx) => {
      const members = await this.individuals(trx, tenant.id, input.individualIds ?? [], { pointer: '/data/attributes/individual-ids' })
      const acting = input.actingIndividualId ? await this.individual(trx, tenant.id, input.actingIndividualId, { pointer: '/data/attributes/individual-id' }) : undefined
      const row = await trx.insertInto('msg_channels').values({
        tenant_id: tenant.id, organization_id: input.organizationId, name: title, label: input.label ?? null,
        subscription_type: input.subscriptionType ?? 'none', floating: input.floating ?? false,
        event_settings: JSON.stringify(input.eventSettings ?? { enabled: true }), individual_group_id: groupId, text_number_id: textNumberId,
        created_by: acting?.id ?? null,
      }).returning('id').executeTakeFirstOrThrow()
      const people = new Map<string, boolean>()
      for (const m of members) people.set(m.id, false)
      // The group's care team (its users, through their individuals) joins the channel.
      if (groupId) {
        const leaders = await trx.selectFrom('msg_group_users as gu').innerJoin('msg_users as u', 'u.id', 'gu.user_id')
          .select('u.person_id').where('gu.group_id', '=', groupId).where('u.tenant_id', '=', tenant.id).where('u.person_id', 'is not', null).where('u.state', '=', 'active').execute()
        for (const l of leaders) if (!people.has(l.person_id!)) people.set(l.person_id!, false)
      }
      if (acting) people.set(acting.id, true)
      if (people.size > 0) {
        await trx.insertInto('msg_channel_subscribers')
          .values([...people].map(([personId, admin]) => ({ tenant_id: tenant.id, channel_id: row.id, individual_id: personId, admin })))
          .execute()
      }
      // Every subscriber but the creator is shared the new channel.
      shared = await this.#announceShared(trx, tenant.id, { channelId: row.id, personIds: [...people.keys()].filter((p) => p !== acting?.id), by: acting?.id ?? null })
      return row.id
    })
    for (const port of shared) port.wake()
    return this.get(tenant, id, input.actingIndividualId)
  }

  /** The name `create` gives a channel of the organisation made without one: its `default-channel-title`. */
  async defaultTitle(tenant: Tenant, organizationId: string): Promise<string> {
    return (await this.#prefs.list(tenant, organizationId, ['default-channel-title']))[0]?.value ?? ''
  }

  /**
   * Many channels at once in the caller's transaction (bulk messages' auto-create): for each, the
   * rows `create` writes for a channel of `organizationId` with no name (pass `title`, from
   * `defaultTitle`), no group, these subscribers (people already checked to be the tenant's) and
   * an acting individual who becomes an admin subscriber. Two multi-row INSERTs, and the sharing
   * ports told of each channel as `create` tells them; answers the new channels' ids in the order
   * given and `wake`, to call after the commit.
   */
  async createMany(trx: Transaction<DB>, tenant: Tenant, organizationId: string, title: string, channels: readonly { memberIds: readonly string[]; actingId?: string }[]): Promise<{ ids: string[]; wake: () => void }> {
    if (channels.length === 0) return { ids: [], wake: () => {} }
    this.#orgs.get(tenant, organizationId, { pointer: '/data/attributes/organization-id' })
    const ids = channels.map(() => randomUUID())
    const subscribers = channels.flatMap((c, i) => {
      const people = new Map<string, boolean>()
      for (const m of c.memberIds) people.set(m, false)
      if (c.actingId) people.set(c.actingId, true)
      return [...people].map(([personId, admin]) => ({ tenant_id: tenant.id, channel_id: ids[i]!, individual_id: personId, admin }))
    })
    // Rows per statement: 9 parameters a channel, 4 a subscriber, well under 65,535.
    for (let i = 0; i < ids.length; i += 1000) {
      await trx.insertInto('msg_channels').values(ids.slice(i, i + 1000).map((id, j) => ({
        id, tenant_id: tenant.id, organization_id: organizationId, name: title, label: null, subscription_type: 'none', floating: false,
        event_settings: JSON.stringify({ enabled: true }), individual_group_id: null, text_number_id: null, created_by: channels[i + j]!.actingId ?? null,
      }))).execute()
    }
    for (let i = 0; i < subscribers.length; i += 2000) await trx.insertInto('msg_channel_subscribers').values(subscribers.slice(i, i + 2000)).execute()
    // Every subscriber but the creator is shared the new channel.
    const shared = new Set<ChannelSharedPort>()
    // A port with nothing listening in the tenant is asked once for the batch, not once per channel.
    const ports = (await Promise.all(this.#sharedPorts.map(async (p) => (!p.listening || await p.listening(trx, tenant.id) ? p : undefined)))).filter((p) => p !== undefined)
    for (const [i, c] of ports.length > 0 ? [...channels.entries()] : []) {
      const personIds = [...new Set(c.memberIds)].filter((p) => p !== c.actingId)
      for (const port of await this.#announceShared(trx, tenant.id, { channelId: ids[i]!, personIds, by: c.actingId ?? null }, ports)) shared.add(port)
    }
    return { ids, wake: () => { for (const port of shared) port.wake() } }
  }

  /** #46: one channel of the tenant; `actingIndividualId` for its caller fields. */
  async get(tenant: Tenant, id: string, actingIndividualId?: string, db: Executor = this.#db): Promise<Channel> {
    const acting = actingIndividualId ? await this.individual(db, tenant.id, actingIndividualId, { parameter: 'individual-id' }) : undefined
    const [channel] = await this.#load(db, tenant, [id], acting)
    if (!channel) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${id}`, { type: 'messaging-channels', id })
    return channel
  }

  /** #44: the tenant's channels, newest change first, with the filters of the query; and how many match. */
  async list(tenant: Tenant, q: ChannelQuery & { ids?: boolean }): Promise<{ items: Channel[]; total: number; ids?: string[] }> {
    if (q.organizationId) this.#orgs.get(tenant, q.organizationId, { parameter: 'organization-id' })
    const viewer = q.viewer ?? ORGANIZATION_VIEWER
    const groupId = q.individualGroupId ? await this.#group(this.#db, tenant, q.individualGroupId, viewer, { parameter: 'filter[individual-group-id]' }) : undefined
    const acting = q.individualId ? await this.individual(this.#db, tenant.id, q.individualId, { parameter: 'individual-id' }) : undefined
    const participant = q.participantId ? await this.individual(this.#db, tenant.id, q.participantId, { parameter: 'participant-id' }) : undefined
    const me = await this.viewerPerson(this.#db, tenant, viewer)
    let query = this.#db.selectFrom('msg_channels as c').select(['c.id', 'c.last_modified_at']).where('c.tenant_id', '=', tenant.id)
    if (groupId) query = query.where('c.individual_group_id', '=', groupId)
    if (q.organizationId) query = query.where('c.organization_id', '=', q.organizationId)
    if (q.archived !== undefined) query = query.where(q.archived ? sql<boolean>`c.archived_at IS NOT NULL` : sql<boolean>`c.archived_at IS NULL`)
    if (q.floating !== undefined) query = query.where('c.floating', '=', q.floating)
    for (const who of [acting, participant, me ?? undefined]) {
      if (who) {
        query = query.where((eb) => eb.exists(eb.selectFrom('msg_channel_subscribers as s').select(sql`1`.as('one'))
          .whereRef('s.tenant_id', '=', 'c.tenant_id').whereRef('s.channel_id', '=', 'c.id').where('s.individual_id', '=', who.id)))
      }
    }
    const rows = await query.orderBy('c.last_modified_at', 'desc').orderBy('c.id').execute()
    const matching = q.modified ? rows.filter((r) => q.modified!(r.last_modified_at)) : rows
    if (q.ids) return { items: [], total: matching.length, ids: matching.map((r) => r.id) }
    const page = matching.slice(q.offset, q.offset + q.limit).map((r) => r.id)
    return { items: await this.#load(this.#db, tenant, page, acting), total: matching.length }
  }

  /**
   * #22 `communication-messages`: an individual's (or the organisation's) channels as an inbox —
   * the list filters plus `type` (subscription type), `text` (in the channel's name or a posted
   * message) and `bookmarked` (no bookmarks exist yet: true matches none), sorted by
   * `last-timestamp` (the last posted message, else the creation), `unread-count` or
   * `ack-timestamp` (the acting individual's), newest / most first by default.
   */
  async inbox(tenant: Tenant, q: ChannelQuery & { type?: SubscriptionType; text?: string; bookmarked?: boolean; sort: readonly { field: string; descending: boolean }[] }): Promise<{ items: Channel[]; total: number }> {
    if (q.bookmarked === true) {
      if (q.organizationId) this.#orgs.get(tenant, q.organizationId, { parameter: 'organization-id' })
      return { items: [], total: 0 }
    }
    const all = await this.list(tenant, { ...q, limit: Number.MAX_SAFE_INTEGER, offset: 0, ids: true })
    const ids = all.ids ?? []
    if (ids.length === 0) return { items: [], total: 0 }
    const acting = q.individualId ? await this.individual(this.#db, tenant.id, q.individualId, { parameter: 'individual-id' }) : undefined
    let rows = await this.#db.selectFrom('msg_channels as c')
      .select((eb) => [
        'c.id', 'c.created_at', 'c.subscription_type', 'c.name',
        eb.selectFrom('msg_messages as m').select((e) => e.fn.max('m.posted_at').as('at')).whereRef('m.tenant_id', '=', 'c.tenant_id').whereRef('m.channel_id', '=', 'c.id').where('m.draft', '=', false).as('last_at'),
        ...(acting ? [
          eb.selectFrom('msg_channel_subscribers as s').select('s.ack_at').whereRef('s.tenant_id', '=', 'c.tenant_id').whereRef('s.channel_id', '=', 'c.id').where('s.individual_id', '=', acting.id).as('ack_at'),
        ] : [sql<Date | null>`NULL::timestamptz`.as('ack_at')]),
      ])
      .where('c.tenant_id', '=', tenant.id).where('c.id', 'in', ids).execute()
    if (q.type) rows = rows.filter((r) => r.subscription_type === q.type)
    if (q.text !== undefined) {
      const needle = q.text.toLowerCase()
      const hits = new Set((await this.#db.selectFrom('msg_messages').select('channel_id').distinct().where('tenant_id', '=', tenant.id).where('channel_id', 'in', rows.map((r) => r.id).concat(['00000000-0000-0000-0000-000000000000']))
        .where('draft', '=', false).where('removed', '=', false).where(sql<boolean>`strpos(lower(message), ${needle}) > 0`).execute()).map((r) => r.channel_id))
      rows = rows.filter((r) => hits.has(r.id) || r.name.toLowerCase().includes(needle))
    }
    const order = q.sort.length > 0 ? q.sort : [{ field: 'last-timestamp', descending: true }]
    // Unread counts come with the loaded channels: load them all only when they order the list.
    const byUnread = order.some((o) => o.field === 'unread-count')
    const loaded = new Map((byUnread ? await this.#load(this.#db, tenant, rows.map((r) => r.id), acting) : []).map((c) => [c.id, c]))
    const keyOf = (field: string, r: (typeof rows)[number]): number => {
      if (field === 'unread-count') return loaded.get(r.id)?.callerUnread ?? 0
      if (field === 'ack-timestamp') return r.ack_at ? new Date(r.ack_at).getTime() : 0
      return new Date(r.last_at ?? r.created_at).getTime()
    }
    rows.sort((x, y) => {
      for (const o of order) {
        const d = keyOf(o.field, x) - keyOf(o.field, y)
        if (d !== 0) return o.descending ? -d : d
      }
      return x.id.localeCompare(y.id)
    })
    const page = rows.slice(q.offset, q.offset + q.limit).map((r) => r.id)
    const items = byUnread ? page.map((id) => loaded.get(id)!) : await this.#load(this.#db, tenant, page, acting)
    return { items, total: rows.length }
  }

  /**
   * The individual a user token acts as (its directory user's individual); null for the
   * organisation. ForbiddenError `user_without_individual` when the user has none: channels are
   * between individuals, so such a user takes no part in them.
   */
  async viewerPerson(db: Executor, tenant: Tenant, viewer: DirectoryViewer): Promise<Person | null> {
    if (viewer.kind !== 'user') return null
    const row = await db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenant.id).where('id', '=', viewer.userId).executeTakeFirst()
    const person = row?.person_id ? (await this.#people.findMany(db, tenant.id, [row.person_id])).get(row.person_id) : undefined
    if (!person) throw new ForbiddenError('user_without_individual', 'this user has no individual in the directory, so it takes no part in channels')
    return person
  }

  /**
   * Who acts: the organisation acts as the individual it names (or as itself); a user as its own
   * individual, whether named or not — naming another is ForbiddenError `not_your_individual` at `where`.
   */
  async actingIndividual(tenant: Tenant, viewer: DirectoryViewer, given: string | undefined, where: Where): Promise<string | undefined> {
    const me = await this.viewerPerson(this.#db, tenant, viewer)
    if (!me) return given
    if (given !== undefined && given.toLowerCase() !== me.cassId) throw new ForbiddenError('not_your_individual', 'a user token acts only as its own individual', where)
    return me.cassId
  }

  /**
   * NotFoundError (`type` of `notFound`, at `where`) unless the viewer sees the channel: the
   * organisation sees every channel of the tenant, a user those its individual subscribes to.
   */
  async assertVisible(tenant: Tenant, channelId: string, viewer: DirectoryViewer, where: Where = {}, notFound: { type: string; id: string } = { type: 'messaging-channels', id: channelId }, db: Executor = this.#db): Promise<void> {
    const me = await this.viewerPerson(db, tenant, viewer)
    let q = db.selectFrom('msg_channels as c').select('c.id').where('c.tenant_id', '=', tenant.id).where('c.id', '=', channelId)
    if (me) {
      q = q.where((eb) => eb.exists(eb.selectFrom('msg_channel_subscribers as s').select(sql`1`.as('one'))
        .whereRef('s.tenant_id', '=', 'c.tenant_id').whereRef('s.channel_id', '=', 'c.id').where('s.individual_id', '=', me.id)))
    }
    if (!(await q.executeTakeFirst())) throw new NotFoundError('resource_not_found', `No ${notFound.type} with id ${notFound.id}`, { ...notFound, ...where })
  }

  /** #46 `include-individual-group`: the channel's group with its individuals and leaders (null without one). */
  async group(tenant: Tenant, channel: Channel): Promise<ChannelGroup | null> {
    if (!channel.individualGroupId) return null
    const g = await this.#db.selectFrom('msg_individual_groups').select(['id', 'name', 'organization_id']).where('tenant_id', '=', tenant.id).where('id', '=', channel.individualGroupId).executeTakeFirst()
    if (!g) return null
    const members = await this.#db.selectFrom('msg_group_individuals as gi').leftJoin('msg_individuals as d', 'd.person_id', 'gi.person_id')
      .select(['gi.person_id', sql<string | null>`d.birth_date::text`.as('birth_date'), 'd.preferred_name', 'd.owner_id']).where('gi.group_id', '=', g.id).execute()
    const people = await this.#people.findMany(this.#db, tenant.id, members.map((m) => m.person_id))
    const leaders = await this.#db.selectFrom('msg_group_users as gu').innerJoin('msg_users as u', 'u.id', 'gu.user_id')
      .select(['u.id', 'u.first_name', 'u.last_name']).where('gu.group_id', '=', g.id).orderBy('u.id').execute()
    return {
      id: g.id, name: g.name, organizationId: g.organization_id,
      individuals: members.filter((m) => people.has(m.person_id)).map((m) => ({ person: people.get(m.person_id)!, birthDate: m.birth_date, preferredName: m.preferred_name, ownerId: m.owner_id ?? tenant.id }))
        .sort((x, y) => x.person.cassId.localeCompare(y.person.cassId)),
      leaders: leaders.map((l) => ({ id: l.id, firstName: l.first_name, lastName: l.last_name })),
    }
  }

  /** The id of the tenant's individual group `id` that the viewer sees (a user: a group they are a member of), or NotFoundError at `where`. */
  async #group(db: Executor, tenant: Tenant, id: string, viewer: DirectoryViewer, where: Where): Promise<string> {
    let q = db.selectFrom('msg_individual_groups as g').select('g.id').where('g.tenant_id', '=', tenant.id).where('g.id', '=', id)
    if (viewer.kind === 'user') {
      q = q.where((eb) => eb.exists(eb.selectFrom('msg_group_users as gu').select('gu.user_id').whereRef('gu.group_id', '=', 'g.id').where('gu.user_id', '=', viewer.userId)))
    }
    const g = await q.executeTakeFirst()
    if (!g) throw new NotFoundError('resource_not_found', `No individual-groups with id ${id}`, { type: 'individual-groups', id, ...where })
    return g.id
  }

  /**
   * #47: apply JSON-Patch `replace` operations to the channel's attributes. Throws ValidationError
   * `invalid_patch` (pointing at the operation) for another op, path or value; nothing changes then.
   */
  async patch(tenant: Tenant, id: string, ops: readonly PatchOp[]): Promise<Channel> {
    const set: Record<string, unknown> = {}
    const current = await this.get(tenant, id)
    let eventSettings: Record<string, unknown> | undefined
    let textNumber: { id: string | null; at: number } | undefined
    ops.forEach((o, i) => {
      const bad = (why: string) => new ValidationError('invalid_patch', why, { pointer: `/data/attributes/${i}` })
      if (o.op !== 'replace' && o.op !== 'add') throw bad(`op must be replace (or add), not ${String(o.op)}`)
      if (!(PATCHABLE as readonly string[]).includes(o.path)) throw bad(`path must be one of ${PATCHABLE.join(', ')}`)
      const v = o.value
      if (o.path === '/name') {
        if (typeof v !== 'string' || v.length > 255) throw bad('name must be a string of at most 255 characters')
        set.name = v
      } else if (o.path === '/label') {
        if (v !== null && (typeof v !== 'string' || v.length > 255)) throw bad('label must be a string of at most 255 characters, or null')
        set.label = v
      } else if (o.path === '/floating') {
        if (typeof v !== 'boolean') throw bad('floating must be a boolean')
        set.floating = v
      } else if (o.path === '/subscription-type') {
        if (typeof v !== 'string' || !(SUBSCRIPTION_TYPES as readonly string[]).includes(v)) throw bad(`subscription-type must be one of ${SUBSCRIPTION_TYPES.join(', ')}`)
        set.subscription_type = v
      } else if (o.path === '/text-number-id') {
        if (v !== null && !isUuid(v)) throw bad('text-number-id must be the id of a text-account-number, or null')
        textNumber = { id: v === null ? null : v.toLowerCase(), at: i }
      } else if (o.path === '/event-settings') {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('event-settings must be an object')
        eventSettings = v as Record<string, unknown>
      } else {
        if (typeof v !== 'boolean') throw bad('event-settings/enabled must be a boolean')
        eventSettings = { ...(eventSettings ?? current.eventSettings), enabled: v }
      }
    })
    if (eventSettings) set.event_settings = JSON.stringify(eventSettings)
    if (textNumber) {
      set.text_number_id = textNumber.id === null ? null : await this.#textNumber(this.#db, tenant.id, current.organizationId, textNumber.id, { pointer: `/data/attributes/${textNumber.at}` })
    }
    if (Object.keys(set).length > 0) {
      await this.#db.updateTable('msg_channels').set({ ...set, last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
    }
    return this.get(tenant, id)
  }

  /** #48, #53: archive or unarchive (idempotent). */
  async setArchived(tenant: Tenant, id: string, archived: boolean): Promise<Channel> {
    await this.get(tenant, id)
    await this.#db.updateTable('msg_channels')
      .set({ archived_at: archived ? sql`coalesce(archived_at, now())` : null, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
    return this.get(tenant, id)
  }

  /** #52, #54: add or remove subscribers (adding one twice or removing a stranger changes nothing). */
  async subscribe(tenant: Tenant, id: string, individualIds: readonly string[], subscribe: boolean): Promise<Channel> {
    let shared: ChannelSharedPort[] = []
    await this.#db.transaction().execute(async (trx) => {
      await this.#lock(trx, tenant.id, id)
      const people = await this.individuals(trx, tenant.id, individualIds, { pointer: '/individual-ids' })
      if (people.length === 0) return
      if (subscribe) {
        const added = await trx.insertInto('msg_channel_subscribers').values(people.map((p) => ({ tenant_id: tenant.id, channel_id: id, individual_id: p.id })))
          .onConflict((oc) => oc.columns(['tenant_id', 'channel_id', 'individual_id']).doNothing()).returning('individual_id').execute()
        // Only the new subscribers are shared the channel (one already subscribed is not shared again).
        shared = await this.#announceShared(trx, tenant.id, { channelId: id, personIds: added.map((a) => a.individual_id), by: null })
      } else {
        await trx.deleteFrom('msg_channel_subscribers').where('tenant_id', '=', tenant.id).where('channel_id', '=', id).where('individual_id', 'in', people.map((p) => p.id)).execute()
      }
      await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', id).execute()
    })
    for (const port of shared) port.wake()
    return this.get(tenant, id)
  }

  // ── In-transaction sharing ports (announcers' individual-shared events) ──
  readonly #sharedPorts: ChannelSharedPort[] = []

  /**
   * Tell `port` of individuals who became subscribers of a channel (at its creation, the creator
   * excepted, or through #52), inside the change's transaction; `wake` is called after the commit.
   */
  addSharedPort(port: ChannelSharedPort): void {
    this.#sharedPorts.push(port)
  }

  /** The ports that queued something (to wake after the commit). */
  async #announceShared(trx: Transaction<DB>, tenantId: TenantId, s: { channelId: string; personIds: readonly string[]; by: string | null }, ports: readonly ChannelSharedPort[] = this.#sharedPorts): Promise<ChannelSharedPort[]> {
    const queued: ChannelSharedPort[] = []
    if (s.personIds.length === 0) return queued
    for (const port of ports) if (await port.shared(trx, tenantId, s)) queued.push(port)
    return queued
  }
  // ── end of the sharing ports ──

  /**
   * #50: set the acting individual's preferences of the channel (`values` by name, merged). Without
   * an individual the preferences are every subscriber's. Throws ForbiddenError `not_a_subscriber`.
   */
  async setPreferences(tenant: Tenant, id: string, values: readonly { name: string; value: unknown }[], individualId?: string): Promise<Channel> {
    await this.#db.transaction().execute(async (trx) => {
      await this.#lock(trx, tenant.id, id)
      const patch = JSON.stringify(Object.fromEntries(values.map((v) => [v.name, v.value])))
      let q = trx.updateTable('msg_channel_subscribers').set({ preferences: sql`preferences || ${patch}::jsonb` }).where('tenant_id', '=', tenant.id).where('channel_id', '=', id)
      if (individualId !== undefined) {
        const who = await this.individual(trx, tenant.id, individualId, { pointer: '/individual-id' })
        q = q.where('individual_id', '=', who.id)
        const r = await q.executeTakeFirst()
        if (Number(r.numUpdatedRows) === 0) throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to this channel', { pointer: '/individual-id' })
        return
      }
      await q.execute()
    })
    return this.get(tenant, id, individualId)
  }

  /** The channel row locked for a change of its subscribers; NotFoundError when not the tenant's. */
  async #lock(trx: Transaction<DB>, tenantId: TenantId, id: string): Promise<void> {
    const row = await trx.selectFrom('msg_channels').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${id}`, { type: 'messaging-channels', id })
  }

  /** Channels by id in the given order, with subscribers, last message and the acting individual's unread count. */
  async #load(db: Executor, tenant: Tenant, ids: readonly string[], acting: Person | undefined): Promise<Channel[]> {
    if (ids.length === 0) return []
    const tenantId = tenant.id
    const [rows, subs, last, bookmarks] = await Promise.all([
      db.selectFrom('msg_channels').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute(),
      db.selectFrom('msg_channel_subscribers').selectAll().where('tenant_id', '=', tenantId).where('channel_id', 'in', [...ids]).orderBy('created_at').orderBy('admin').orderBy('individual_id').execute(),
      db.selectFrom('msg_messages').select(['channel_id', 'id', 'message', 'posted_at', 'removed', 'seq'])
        .distinctOn('channel_id').where('tenant_id', '=', tenantId).where('channel_id', 'in', [...ids]).where('draft', '=', false)
        .orderBy('channel_id').orderBy('seq', 'desc').execute(),
      db.selectFrom('msg_bookmarks').select(['channel_id', 'id', 'message_id']).distinctOn('channel_id')
        .where('tenant_id', '=', tenantId).where('channel_id', 'in', [...ids]).orderBy('channel_id').orderBy('created_at', 'desc').orderBy('id').execute(),
    ])
    const unread = new Map<string, number>()
    if (acting) {
      const counts = await db.selectFrom('msg_messages as m')
        .innerJoin('msg_channel_subscribers as s', (j) => j.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.channel_id', '=', 'm.channel_id').on('s.individual_id', '=', acting.id))
        .select(['m.channel_id', sql<string>`count(*)`.as('n')])
        .where('m.tenant_id', '=', tenantId).where('m.channel_id', 'in', [...ids]).where('m.draft', '=', false).where('m.removed', '=', false)
        .whereRef('m.seq', '>', 's.ack_seq').where((eb) => eb.or([eb('m.author_id', 'is', null), eb('m.author_id', '!=', acting.id)]))
        .groupBy('m.channel_id').execute()
      for (const c of counts) unread.set(c.channel_id, Number(c.n))
    }
    const personIds = [...new Set([...subs.map((s) => s.individual_id), ...rows.flatMap((r) => (r.created_by ? [r.created_by] : []))])]
    const people = await this.#people.findMany(db, tenantId, personIds)
    const groupIds = [...new Set(rows.flatMap((r) => (r.individual_group_id ? [r.individual_group_id] : [])))]
    const [users, groups] = await Promise.all([
      personIds.length === 0 ? [] : db.selectFrom('msg_users').select(['id', 'person_id']).where('tenant_id', '=', tenantId).where('person_id', 'in', personIds).execute(),
      groupIds.length === 0 ? [] : db.selectFrom('msg_individual_groups').select(['id', 'name']).where('tenant_id', '=', tenantId).where('id', 'in', groupIds).execute(),
    ])
    const userOf = new Map(users.map((u) => [u.person_id!, u.id]))
    const acks = new Map<string, boolean>()
    for (const org of new Set(rows.map((r) => r.organization_id))) {
      const [pref] = await this.#prefs.list(tenant, org, ['group-provider-ack'])
      acks.set(org, String(pref?.value ?? pref?.valueJs?.value ?? 'false').toLowerCase() === 'true')
    }
    return ids.flatMap((id): Channel[] => {
      const r = rows.find((x) => x.id === id)
      if (!r) return []
      const l = last.find((x) => x.channel_id === id)
      return [{
        id: r.id, organizationId: r.organization_id, name: r.name, label: r.label, subscriptionType: r.subscription_type as SubscriptionType,
        floating: r.floating, eventSettings: r.event_settings, individualGroupId: r.individual_group_id, textNumberId: r.text_number_id,
        createdBy: r.created_by ? people.get(r.created_by) ?? null : null, archived: r.archived_at !== null, smsActive: r.sms_active,
        createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
        subscribers: subs.filter((s) => s.channel_id === id && people.has(s.individual_id)).map((s) => ({
          individualId: people.get(s.individual_id)!.cassId, person: people.get(s.individual_id)!, admin: s.admin, pinned: s.pinned,
          preferences: s.preferences, ackSeq: Number(s.ack_seq), ackAt: s.ack_at, userId: userOf.get(s.individual_id) ?? null,
        })),
        lastMessage: l ? { id: l.id, message: l.removed ? '' : l.message, postedAt: l.posted_at, removed: l.removed } : null,
        callerUnread: acting ? unread.get(id) ?? 0 : null,
        groupProviderAck: acks.get(r.organization_id) ?? false,
        bookmark: ((b) => (b ? { id: b.id, messageId: b.message_id } : null))(bookmarks.find((x) => x.channel_id === id)),
        groupName: groups.find((g) => g.id === r.individual_group_id)?.name ?? null,
        smsInitialMessage: r.sms_initial_message, smsInitialMessageJs: r.sms_initial_message_js,
      }]
    })
  }
}
