import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { ConflictError, NotFoundError, uniqueViolation, ValidationError } from '../errors.ts'
import type { Person } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import type { DirectoryService } from './directory.service.ts'
import type { Organizations } from './organizations.ts'
import { renderPlaceholders, unknownPlaceholders, type PlaceholderSubject } from './placeholders.ts'

type PluginRow = Selectable<DB['msg_plugins']>

/**
 * The built-in plugin types and their `args`: `snippet` `{text}` expands to its text as it is;
 * `template` `{template}` expands its placeholders (placeholders.ts) for the channel's individual.
 */
export const PLUGIN_TYPES = {
  snippet: { arg: 'text' },
  template: { arg: 'template' },
} as const
export type PluginType = keyof typeof PLUGIN_TYPES
/** The longest text of a plugin's argument. */
export const PLUGIN_TEXT_MAX = 4000

/** A messaging plugin (#66–#72). */
export interface Plugin {
  readonly id: string
  readonly organizationId: string
  readonly name: string
  readonly type: string
  readonly args: Record<string, unknown>
  readonly enabled: boolean
  readonly createdBy: string | null
  readonly lastModifiedBy: string | null
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface PluginInput {
  readonly organizationId?: string
  readonly name?: string
  readonly type?: string
  readonly args?: Record<string, unknown>
}

const notFound = (id: string) => new NotFoundError('resource_not_found', `No messaging-plugins with id ${id}`, { type: 'messaging-plugins', id })
const toPlugin = (r: PluginRow): Plugin => ({
  id: r.id, organizationId: r.organization_id, name: r.name, type: r.type, args: r.args, enabled: r.enabled, createdBy: r.created_by,
  lastModifiedBy: r.last_modified_by, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
})

/** Check a type and its args; ValidationError `invalid_plugin` pointing at the member at fault. */
export function checkPluginArgs(type: string, args: Record<string, unknown>): void {
  const spec = (PLUGIN_TYPES as Record<string, { arg: string }>)[type]
  if (!spec) throw new ValidationError('invalid_plugin', `type must be one of ${Object.keys(PLUGIN_TYPES).join(', ')}`, { pointer: '/data/attributes/type' })
  for (const key of Object.keys(args)) {
    if (key !== spec.arg) throw new ValidationError('invalid_plugin', `a ${type} plugin takes only args.${spec.arg}`, { pointer: `/data/attributes/args/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` })
  }
  const at = { pointer: `/data/attributes/args/${spec.arg}` }
  const text = args[spec.arg]
  if (typeof text !== 'string' || text.length === 0 || text.length > PLUGIN_TEXT_MAX) throw new ValidationError('invalid_plugin', `args.${spec.arg} must be a text of 1 to ${PLUGIN_TEXT_MAX} characters`, at)
  if (type === 'template') {
    const unknown = unknownPlaceholders(text)
    if (unknown.length > 0) throw new ValidationError('invalid_plugin', `unknown placeholder {{${unknown[0]}}}; known: {{first-name}}, {{last-name}}, {{preferred-name}}, {{name}}, {{organization}}`, at)
  }
}

/**
 * Messaging plugins of an organisation: named (unique per organisation) texts that expand into a
 * message for a channel (#72), enabled or disabled (#70, #71).
 */
export class PluginsService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #channels: ChannelsService
  readonly #directory: DirectoryService

  constructor(deps: { db: Kysely<DB>; organizations: Organizations; channels: ChannelsService; directory: DirectoryService }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#channels = deps.channels
    this.#directory = deps.directory
  }

  /** #66: an organisation's plugins by name, filtered; and how many match. */
  async list(tenant: Tenant, q: { organizationId: string; name?: string; type?: string; limit: number; offset: number }): Promise<{ items: Plugin[]; total: number }> {
    await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#db.selectFrom('msg_plugins').where('tenant_id', '=', tenant.id).where('organization_id', '=', q.organizationId)
    if (q.name !== undefined) query = query.where('name', '=', q.name)
    if (q.type !== undefined) query = query.where('type', '=', q.type)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll().orderBy('name').orderBy('id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map(toPlugin), total: Number(total.n) }
  }

  /** #68 */
  async get(tenant: Tenant, id: string): Promise<Plugin> {
    const row = await this.#db.selectFrom('msg_plugins').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    return toPlugin(row)
  }

  /** #67: a new plugin, enabled. ConflictError `plugin_name_taken` when the organisation has the name. */
  async create(tenant: Tenant, input: Required<PluginInput>, actor: string): Promise<Plugin> {
    await this.#orgs.find(tenant, input.organizationId, { pointer: '/data/attributes/organization-id' })
    checkPluginArgs(input.type, input.args)
    const row = await this.#db.insertInto('msg_plugins').values({
      tenant_id: tenant.id, organization_id: input.organizationId, name: input.name, type: input.type, args: JSON.stringify(input.args),
      created_by: actor, last_modified_by: actor,
    }).returningAll().executeTakeFirstOrThrow().catch(taken)
    return toPlugin(row)
  }

  /** #69: change name, type and/or args (the args are checked against the resulting type). */
  async update(tenant: Tenant, id: string, input: PluginInput, actor: string): Promise<Plugin> {
    const current = await this.get(tenant, id)
    const type = input.type ?? current.type
    const args = input.args ?? current.args
    if (input.type !== undefined || input.args !== undefined) checkPluginArgs(type, args)
    const row = await this.#db.updateTable('msg_plugins').set({
      ...(input.name !== undefined ? { name: input.name } : {}), type, args: JSON.stringify(args), last_modified_by: actor, last_modified_at: sql`now()`,
    }).where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirst().catch(taken)
    if (!row) throw notFound(id)
    return toPlugin(row)
  }

  /** #70, #71 */
  async setEnabled(tenant: Tenant, id: string, enabled: boolean, actor: string): Promise<Plugin> {
    const row = await this.#db.updateTable('msg_plugins').set({ enabled, last_modified_by: actor, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw notFound(id)
    return toPlugin(row)
  }

  /**
   * #72: the plugin's message for a channel of the tenant. A template's placeholders come from the
   * channel's individual: its first subscriber who is not a care-team member (none: they render
   * empty). ConflictError `plugin_disabled` for a disabled plugin.
   */
  async expand(tenant: Tenant, id: string, channelId: string): Promise<{ message: string }> {
    const plugin = await this.get(tenant, id)
    const channel = await this.#channels.get(tenant, channelId).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No messaging-channels with id ${channelId}`, { type: 'messaging-channels', id: channelId, pointer: '/channel-id' }) : err
    })
    if (!plugin.enabled) throw new ConflictError('plugin_disabled', 'the plugin is disabled: enable it first')
    if (plugin.type === 'snippet') return { message: String(plugin.args.text ?? '') }
    return { message: renderPlaceholders(String(plugin.args.template ?? ''), await this.subject(tenant, channel.subscribers.map((s) => s.person))) }
  }

  /** What placeholders render from: the first of `people` who is not a care-team member (a user's individual). */
  async subject(tenant: Tenant, people: readonly Person[]): Promise<PlaceholderSubject | null> {
    if (people.length === 0) return null
    const staff = new Set((await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenant.id)
      .where('person_id', 'in', people.map((p) => p.id)).execute()).map((r) => r.person_id))
    const person = people.find((p) => !staff.has(p.id))
    if (!person) return null
    const individual = await this.#directory.individual(tenant, person.cassId)
    const org = await this.#orgs.find(tenant, individual.ownerId).catch(() => null)
    return { firstName: individual.firstName, lastName: individual.lastName, preferredName: individual.preferredName, organization: org?.displayName ?? null }
  }
}

function taken(err: unknown): never {
  if (uniqueViolation(err) === 'msg_plugins_name') throw new ConflictError('plugin_name_taken', 'the organisation already has a plugin of this name', { pointer: '/data/attributes/name' })
  throw err
}
