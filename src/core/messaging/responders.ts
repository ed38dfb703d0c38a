import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { ORGANIZATION_VIEWER, type DirectoryService, type DirectoryViewer } from './directory.service.ts'
import type { Message, MessagesService } from './messages.ts'
import type { Organizations } from './organizations.ts'
import type { PluginsService } from './plugins.ts'
import { renderPlaceholders, unknownPlaceholders } from './placeholders.ts'
import { activeWindowStart, calendarProblem, DEFAULT_CALENDAR, type CalendarArgs } from './responder-calendar.ts'

type ResponderRow = Selectable<DB['msg_responders']>

/** The responder types: `auto-reply` posts `args.message` (placeholders rendered for the writer). */
export const RESPONDER_TYPES = ['auto-reply'] as const
export const RESPONDER_MESSAGE_MAX = 2000
/** The `source` of the messages responders post (the message resource's attribute). */
export const AUTO_RESPONDER_SOURCE = 'auto-responder'

/** A messaging responder (#73–#78). */
export interface Responder {
  readonly id: string
  readonly organizationId: string
  readonly individualGroupId: string
  readonly name: string
  readonly type: string
  readonly args: Record<string, unknown>
  readonly calendar: CalendarArgs
  readonly startAt: Date | null
  readonly endAt: Date | null
  readonly enabled: boolean
  readonly armedAt: Date
  readonly createdBy: string | null
  readonly lastModifiedBy: string | null
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface ResponderInput {
  readonly organizationId?: string
  readonly individualGroupId?: string
  readonly name?: string
  readonly type?: string
  readonly args?: Record<string, unknown>
  /** Members left out keep their value on update (rules `[]` and timezone `UTC` on create). */
  readonly calendar?: Partial<CalendarArgs>
  readonly startAt?: Date | null
  readonly endAt?: Date | null
}

export type ResponderSortField = 'created-at' | 'start-at' | 'end-at'

export interface ResponderQuery {
  readonly organizationId: string
  readonly enabled?: boolean
  readonly individualGroupId?: string
  readonly startAt?: (at: Date | null) => boolean
  readonly endAt?: (at: Date | null) => boolean
  readonly sort: readonly { field: ResponderSortField; descending: boolean }[]
  readonly limit: number
  readonly offset: number
}

const notFound = (id: string) => new NotFoundError('resource_not_found', `No messaging-responders with id ${id}`, { type: 'messaging-responders', id })
const invalid = (pointer: string, message: string) => new ValidationError('invalid_responder', message, { pointer: `/data/attributes${pointer}` })
const toResponder = (r: ResponderRow): Responder => ({
  id: r.id, organizationId: r.organization_id, individualGroupId: r.individual_group_id, name: r.name, type: r.type, args: r.args,
  calendar: r.calendar_args as unknown as CalendarArgs, startAt: r.start_at, endAt: r.end_at, enabled: r.enabled, armedAt: r.armed_at,
  createdBy: r.created_by, lastModifiedBy: r.last_modified_by, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
})

/** Check the type, args, calendar and window of a responder as it would be saved. */
function check(r: { type: string; args: Record<string, unknown>; calendar: CalendarArgs; startAt: Date | null; endAt: Date | null }): void {
  if (!(RESPONDER_TYPES as readonly string[]).includes(r.type)) throw invalid('/type', `type must be one of ${RESPONDER_TYPES.join(', ')}`)
  for (const key of Object.keys(r.args)) if (key !== 'message') throw invalid(`/args/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, 'an auto-reply responder takes only args.message')
  const message = r.args.message
  if (typeof message !== 'string' || message.trim() === '' || message.length > RESPONDER_MESSAGE_MAX) throw invalid('/args/message', `args.message must be a text of 1 to ${RESPONDER_MESSAGE_MAX} characters`)
  const unknown = unknownPlaceholders(message)
  if (unknown.length > 0) throw invalid('/args/message', `unknown placeholder {{${unknown[0]}}}; known: {{first-name}}, {{last-name}}, {{preferred-name}}, {{name}}, {{organization}}`)
  const problem = calendarProblem(r.calendar)
  if (problem) throw invalid(`/calendar-args${problem.at}`, problem.message)
  if (r.startAt && r.endAt && r.endAt.getTime() <= r.startAt.getTime()) throw invalid('/end-at', 'end-at must be after start-at')
}

/**
 * Messaging responders: auto-replies of an individual group (a care team) in its channels while
 * the responder is active (enabled, within `start-at`/`end-at`, inside its weekly calendar in its
 * time zone). `onPosted` is the hook MessagesService calls after a message is posted.
 */
export class RespondersService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #directory: DirectoryService
  readonly #plugins: PluginsService
  readonly #messages: MessagesService
  readonly #onError: (err: unknown, context: object) => void
  readonly #now: () => Date

  constructor(deps: {
    db: Kysely<DB>; organizations: Organizations; directory: DirectoryService; plugins: PluginsService; messages: MessagesService
    onError?: (err: unknown, context: object) => void; now?: () => Date
  }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#directory = deps.directory
    this.#plugins = deps.plugins
    this.#messages = deps.messages
    this.#onError = deps.onError ?? (() => {})
    this.#now = deps.now ?? (() => new Date())
  }

  #visible(tenant: Tenant, viewer: DirectoryViewer) {
    let q = this.#db.selectFrom('msg_responders as r').selectAll('r').where('r.tenant_id', '=', tenant.id)
    if (viewer.kind === 'user') {
      q = q.where((eb) => eb.exists(eb.selectFrom('msg_group_users as gu').select('gu.user_id').whereRef('gu.group_id', '=', 'r.individual_group_id').where('gu.user_id', '=', viewer.userId)))
    }
    return q
  }

  /** #73: an organisation's responders (a user's: those of their groups), filtered and sorted. */
  async list(tenant: Tenant, q: ResponderQuery, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<{ items: Responder[]; total: number }> {
    await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    if (q.individualGroupId !== undefined) {
      await this.#directory.group(tenant, q.individualGroupId, viewer).catch((err: unknown) => {
        throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individual-groups with id ${q.individualGroupId}`, { type: 'individual-groups', id: q.individualGroupId!, parameter: 'filter[individual-group-id]' }) : err
      })
    }
    let query = this.#visible(tenant, viewer).where('r.organization_id', '=', q.organizationId)
    if (q.enabled !== undefined) query = query.where('r.enabled', '=', q.enabled)
    if (q.individualGroupId !== undefined) query = query.where('r.individual_group_id', '=', q.individualGroupId)
    const all = (await query.execute()).map(toResponder).filter((r) => (!q.startAt || q.startAt(r.startAt)) && (!q.endAt || q.endAt(r.endAt)))
    // Absent bounds sort as the open ends they are: no start-at first, no end-at last.
    const key = (r: Responder, f: ResponderSortField) => f === 'created-at' ? r.createdAt.getTime() : f === 'start-at' ? (r.startAt?.getTime() ?? -Infinity) : (r.endAt?.getTime() ?? Infinity)
    all.sort((a, b) => {
      for (const s of [...q.sort, { field: 'created-at' as const, descending: false }]) {
        const d = key(a, s.field) - key(b, s.field)
        if (d !== 0 && !Number.isNaN(d)) return s.descending ? -d : d
      }
      return a.id.localeCompare(b.id)
    })
    return { items: all.slice(q.offset, q.offset + q.limit), total: all.length }
  }

  /** #75 */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Responder> {
    const row = await this.#visible(tenant, viewer).where('r.id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    return toResponder(row)
  }

  /** #74: a new responder, enabled. */
  async create(tenant: Tenant, input: ResponderInput & { organizationId: string; individualGroupId: string; name: string; type: string }, actor: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Responder> {
    await this.#orgs.find(tenant, input.organizationId, { pointer: '/data/attributes/organization-id' })
    await this.#group(tenant, input.individualGroupId, viewer)
    const r = { type: input.type, args: input.args ?? {}, calendar: { ...DEFAULT_CALENDAR, ...input.calendar }, startAt: input.startAt ?? null, endAt: input.endAt ?? null }
    check(r)
    const row = await this.#db.insertInto('msg_responders').values({
      tenant_id: tenant.id, organization_id: input.organizationId, individual_group_id: input.individualGroupId, name: input.name, type: r.type,
      args: JSON.stringify(r.args), calendar_args: JSON.stringify(r.calendar), start_at: r.startAt, end_at: r.endAt, created_by: actor, last_modified_by: actor,
    }).returningAll().executeTakeFirstOrThrow()
    return toResponder(row)
  }

  /** #76: change what is given (`start-at`/`end-at` null clears them); a change re-arms the responder. */
  async update(tenant: Tenant, id: string, input: ResponderInput, actor: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Responder> {
    const current = await this.get(tenant, id, viewer)
    if (input.individualGroupId !== undefined) await this.#group(tenant, input.individualGroupId, viewer)
    const r = {
      type: input.type ?? current.type, args: input.args ?? current.args, calendar: { ...current.calendar, ...input.calendar },
      startAt: input.startAt !== undefined ? input.startAt : current.startAt, endAt: input.endAt !== undefined ? input.endAt : current.endAt,
    }
    check(r)
    const row = await this.#db.updateTable('msg_responders').set({
      ...(input.name !== undefined ? { name: input.name } : {}), ...(input.individualGroupId !== undefined ? { individual_group_id: input.individualGroupId } : {}),
      type: r.type, args: JSON.stringify(r.args), calendar_args: JSON.stringify(r.calendar), start_at: r.startAt, end_at: r.endAt,
      armed_at: sql`now()`, last_modified_by: actor, last_modified_at: sql`now()`,
    }).where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw notFound(id)
    return toResponder(row)
  }

  /** #77, #78: enabling re-arms it (a new window begins). */
  async setEnabled(tenant: Tenant, id: string, enabled: boolean, actor: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<Responder> {
    const current = await this.get(tenant, id, viewer)
    const row = await this.#db.updateTable('msg_responders')
      .set({ enabled, ...(enabled && !current.enabled ? { armed_at: sql`now()` } : {}), last_modified_by: actor, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw notFound(id)
    return toResponder(row)
  }

  async #group(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<void> {
    await this.#directory.group(tenant, id, viewer).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individual-groups with id ${id}`, { type: 'individual-groups', id, pointer: '/data/attributes/individual-group-id' }) : err
    })
  }

  /**
   * The hook after a message is posted: when an individual who is not a care-team member wrote in
   * a channel of a group (the channel's `individual-group-id`, else the writer's groups) whose
   * responder is active now, the first such responder (oldest first) answers — once per channel
   * and active window. Never for auto-replies, organisation posts or drafts. Failures are reported
   * to `onError` and never fail the post.
   */
  async onPosted(tenant: Tenant, m: Message): Promise<void> {
    try {
      await this.#respond(tenant, m)
    } catch (err) {
      this.#onError(err, { tenantId: tenant.id, messageId: m.id })
    }
  }

  /**
   * `onPosted` for many messages posted together (a bulk message's batch): the same answers, with
   * the "does the tenant have any enabled responder" look done once for the batch, not per message.
   */
  async onPostedMany(tenant: Tenant, ms: readonly Message[]): Promise<void> {
    const maybe = ms.filter((m) => !(m.source === AUTO_RESPONDER_SOURCE || m.draft || !m.author))
    if (maybe.length === 0) return
    try {
      const any = await this.#db.selectFrom('msg_responders').select('id').where('tenant_id', '=', tenant.id).where('enabled', '=', true).limit(1).executeTakeFirst()
      if (!any) return
    } catch (err) {
      this.#onError(err, { tenantId: tenant.id, messageId: maybe[0]!.id })
      return
    }
    for (const m of maybe) await this.onPosted(tenant, m)
  }

  async #respond(tenant: Tenant, m: Message): Promise<void> {
    if (m.source === AUTO_RESPONDER_SOURCE || m.draft || !m.author) return
    const author = m.author
    // Most tenants have no responder: one indexed look before the rest of the posting path's reads.
    const any = await this.#db.selectFrom('msg_responders').select('id').where('tenant_id', '=', tenant.id).where('enabled', '=', true).limit(1).executeTakeFirst()
    if (!any) return
    const staff = await this.#db.selectFrom('msg_users').select('id').where('tenant_id', '=', tenant.id).where('person_id', '=', author.id).executeTakeFirst()
    if (staff) return
    const channel = await this.#db.selectFrom('msg_channels').select(['individual_group_id', 'archived_at']).where('tenant_id', '=', tenant.id).where('id', '=', m.channelId).executeTakeFirst()
    if (!channel || channel.archived_at) return
    const groups = channel.individual_group_id
      ? [channel.individual_group_id]
      : (await this.#db.selectFrom('msg_group_individuals').select('group_id').where('tenant_id', '=', tenant.id).where('person_id', '=', author.id).execute()).map((r) => r.group_id)
    if (groups.length === 0) return
    const candidates = (await this.#db.selectFrom('msg_responders').selectAll().where('tenant_id', '=', tenant.id).where('enabled', '=', true)
      .where('individual_group_id', 'in', groups).orderBy('created_at').orderBy('id').execute()).map(toResponder)
    const now = this.#now()
    for (const r of candidates) {
      const windowStart = activeWindowStart({ enabled: r.enabled, startAt: r.startAt, endAt: r.endAt, armedAt: r.armedAt, calendar: r.calendar }, now)
      if (!windowStart) continue
      const claimed = await this.#db.insertInto('msg_responder_replies')
        .values({ tenant_id: tenant.id, responder_id: r.id, channel_id: m.channelId, window_start: windowStart })
        .onConflict((oc) => oc.doNothing()).returning('responder_id').executeTakeFirst()
      if (!claimed) return
      const key = (q: Kysely<DB>) => q.updateTable('msg_responder_replies').where('tenant_id', '=', tenant.id).where('responder_id', '=', r.id)
        .where('channel_id', '=', m.channelId).where('window_start', '=', windowStart)
      try {
        const text = renderPlaceholders(String(r.args.message ?? ''), await this.#plugins.subject(tenant, [author]))
        const reply = await this.#messages.post(tenant, { channelId: m.channelId, message: text, source: AUTO_RESPONDER_SOURCE })
        await key(this.#db).set({ message_id: reply.id }).execute()
      } catch (err) {
        // Nothing was said: free the window for the next message.
        await this.#db.deleteFrom('msg_responder_replies').where('tenant_id', '=', tenant.id).where('responder_id', '=', r.id)
          .where('channel_id', '=', m.channelId).where('window_start', '=', windowStart).execute()
        throw err
      }
      return
    }
  }
}
