import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from '../messaging/directory.service.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'

type DeviceRow = Selectable<DB['msg_user_devices']>
type LogRow = Selectable<DB['msg_user_device_logs']>

/** The device types (`spec/courier.md` §1.9). */
export const DEVICE_TYPES = ['apn', 'fcm', 'web'] as const
export type DeviceType = (typeof DEVICE_TYPES)[number]
/**
 * A token's longest form: a Web Push subscription JSON is several hundred characters. Tokens are
 * printable ASCII, so this also keeps the unique index's entries under PostgreSQL's btree limit.
 */
export const DEVICE_TOKEN_MAX = 2048
/** What a push to a device came to. */
export type PushStatus = 'sent' | 'failed' | 'suppressed' | 'unregistered' | 'no-credentials'

/** One push to a device to log (#120): the log line before it is stored. */
export type DeviceLogEntry = Omit<DeviceLog, 'error' | 'createdAt'> & {
  readonly error?: string | undefined
  readonly providerMessageId?: string | undefined
}

/** A registered push token of an individual (#118, #119). */
export interface UserDevice {
  readonly id: string
  /** The individual's id (the Cass person id). */
  readonly individualId: string
  readonly personId: string
  readonly type: DeviceType
  readonly token: string
  readonly appName: string
  readonly appVersion: string
  readonly model: string
  readonly osVersion: string
  readonly topic: string
  readonly sandbox: boolean
  readonly allowNotification: boolean
  /** False once the vendor reported the token unregistered (registering it again revives it). */
  readonly active: boolean
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface RegisterDevice {
  readonly individualId: string
  readonly type: string
  readonly token: string
  readonly appName?: string | undefined
  readonly appVersion?: string | undefined
  readonly model?: string | undefined
  readonly osVersion?: string | undefined
  readonly topic?: string | undefined
  readonly sandbox?: boolean | undefined
  readonly allowNotification?: boolean | undefined
}

export interface DeviceQuery {
  readonly allUsers: boolean
  readonly appName?: string | undefined
  readonly appVersion?: string | undefined
  readonly individualId?: string | undefined
  readonly model?: string | undefined
  readonly type?: string | undefined
  readonly token?: string | undefined
  readonly limit: number
  readonly offset: number
}

/** One push to a device and its outcome (#120). */
export interface DeviceLog {
  readonly id: string
  readonly deviceId: string
  readonly title: string
  readonly body: string
  readonly category: string
  readonly badgeCount: number
  readonly data: Record<string, unknown>
  readonly status: PushStatus
  readonly error: string | null
  readonly createdAt: Date
}

const at = (member: string) => ({ pointer: `/data/attributes/${member}` })
const bad = (why: string, member: string) => new ValidationError('invalid_user_device', why, at(member))
const notFound = (id: string) => new NotFoundError('resource_not_found', `No user-devices with id ${id}`, { type: 'user-devices', id })
const LIMITS: Record<string, number> = { 'app-name': 64, 'app-version': 20, model: 64, 'os-version': 64, topic: 255 }

/**
 * User devices: the push tokens of individuals' app installs. A token is one device in a tenant:
 * registering a token again (the same type) updates that device — moved to the individual given,
 * its metadata replaced, and active again — instead of adding a second. A device the vendor calls
 * unregistered is deactivated (kept, with its logs, and never pushed to again until registered
 * anew). The organisation key sees every device; a user token only those of its own individual.
 */
export class UserDevicesService {
  readonly #db: Kysely<DB>
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; peopleLookups: PeopleLookups }) {
    this.#db = deps.db
    this.#people = deps.peopleLookups
  }

  /** #119: register (or re-register) a device. ValidationError `invalid_user_device`; NotFoundError for an unknown individual. */
  async register(tenant: Tenant, input: RegisterDevice, viewer: DirectoryViewer): Promise<UserDevice> {
    if (!(DEVICE_TYPES as readonly string[]).includes(input.type)) throw bad(`type must be one of ${DEVICE_TYPES.join(', ')}`, 'type')
    const token = input.token.trim()
    if (token.length === 0 || token.length > DEVICE_TOKEN_MAX || !/^[\x20-\x7e]+$/.test(token)) throw bad(`token must be 1 to ${DEVICE_TOKEN_MAX} printable ASCII characters`, 'token')
    if (input.type === 'apn' && !/^[0-9a-fA-F]{32,200}$/.test(token)) throw bad('an apn token is the device token in hex', 'token')
    if (input.type === 'web') checkSubscription(token)
    const texts: Record<string, string | undefined> = { 'app-name': input.appName, 'app-version': input.appVersion, model: input.model, 'os-version': input.osVersion, topic: input.topic }
    for (const [member, v] of Object.entries(texts)) {
      if (v !== undefined && (v.length > LIMITS[member]! || v.includes('\u0000'))) throw bad(`${member} must be at most ${LIMITS[member]} characters`, member)
    }
    const person = await this.#people.findByCassId(this.#db, tenant.id, input.individualId)
    if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${input.individualId}`, { type: 'individuals', id: input.individualId, ...at('individual-id') })
    if (viewer.kind === 'user' && (await this.#ownPerson(tenant.id, viewer)) !== person.id) {
      throw new ForbiddenError('not_your_individual', 'a user token registers devices of its own individual only', at('individual-id'))
    }
    const values = {
      person_id: person.id, app_name: input.appName ?? '', app_version: input.appVersion ?? '', model: input.model ?? '', os_version: input.osVersion ?? '',
      topic: input.topic ?? '', sandbox: input.sandbox ?? false, allow_notification: input.allowNotification ?? true, active: true, deactivated_reason: null,
    }
    const row = await this.#db.insertInto('msg_user_devices').values({ tenant_id: tenant.id, type: input.type as DeviceType, token, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'type', 'token']).doUpdateSet({ ...values, last_modified_at: sql`now()` }))
      .returningAll().executeTakeFirstOrThrow()
    return this.#present(row, person.cassId)
  }

  /** #118: devices, oldest first. A user token sees its own individual's only (`all-users` is the organisation's). */
  async list(tenant: Tenant, q: DeviceQuery, viewer: DirectoryViewer): Promise<{ items: UserDevice[]; total: number }> {
    let query = this.#db.selectFrom('msg_user_devices as d').innerJoin('person_identities as i', (j) => j.onRef('i.tenant_id', '=', 'd.tenant_id').onRef('i.person_id', '=', 'd.person_id').on('i.surface', '=', 'cass'))
      .where('d.tenant_id', '=', tenant.id)
    if (viewer.kind === 'user') {
      if (q.allUsers) throw new ForbiddenError('organization_key_required', 'all-users is for the organisation API key; a user token lists its own devices', { parameter: 'all-users' })
      query = query.where('d.person_id', '=', await this.#ownPerson(tenant.id, viewer))
    }
    if (q.individualId !== undefined) query = query.where('i.public_id', '=', q.individualId.toLowerCase())
    if (q.appName !== undefined) query = query.where('d.app_name', '=', q.appName)
    if (q.appVersion !== undefined) query = query.where('d.app_version', '=', q.appVersion)
    if (q.model !== undefined) query = query.where('d.model', '=', q.model)
    if (q.type !== undefined) query = query.where('d.type', '=', q.type as DeviceType)
    if (q.token !== undefined) query = query.where('d.token', '=', q.token)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll('d').select('i.public_id').orderBy('d.created_at').orderBy('d.id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map((r) => this.#present(r, r.public_id)), total: Number(total.n) }
  }

  /** #120: the pushes to a device, newest first. NotFoundError for a device not the viewer's to see. */
  async logs(tenant: Tenant, deviceId: string, page: { limit: number; offset: number }, viewer: DirectoryViewer): Promise<{ items: DeviceLog[]; total: number }> {
    const device = await this.#db.selectFrom('msg_user_devices').select(['id', 'person_id']).where('tenant_id', '=', tenant.id).where('id', '=', deviceId).executeTakeFirst()
    if (!device) throw notFound(deviceId)
    if (viewer.kind === 'user' && (await this.#ownPerson(tenant.id, viewer).catch(() => undefined)) !== device.person_id) throw notFound(deviceId)
    const query = this.#db.selectFrom('msg_user_device_logs').where('tenant_id', '=', tenant.id).where('device_id', '=', deviceId)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute()
    return { items: rows.map(presentLog), total: Number(total.n) }
  }

  /** The active devices of a person that allow notifications, oldest first. */
  async pushable(tenantId: TenantId, personId: string): Promise<DeviceRow[]> {
    return this.#db.selectFrom('msg_user_devices').selectAll().where('tenant_id', '=', tenantId).where('person_id', '=', personId)
      .where('active', '=', true).where('allow_notification', '=', true).orderBy('created_at').orderBy('id').execute()
  }

  /** Record one push to a device and its outcome. */
  async log(tenantId: TenantId, entry: DeviceLogEntry): Promise<void> {
    await this.logMany(this.#db, tenantId, [entry])
  }

  /** Record pushes to devices and their outcomes, in the caller's transaction when given. */
  async logMany(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, entries: readonly DeviceLogEntry[]): Promise<void> {
    if (entries.length === 0) return
    await db.insertInto('msg_user_device_logs').values(entries.map((entry) => ({
      id: entry.id, tenant_id: tenantId, device_id: entry.deviceId, title: entry.title, body: entry.body, category: entry.category, badge_count: entry.badgeCount,
      data: JSON.stringify(entry.data), status: entry.status, error: entry.error ?? null, provider_message_id: entry.providerMessageId ?? null,
    }))).execute()
  }

  /** Deactivate a device whose token the vendor no longer knows. */
  async deactivate(tenantId: TenantId, deviceId: string, reason: string): Promise<void> {
    await this.#db.updateTable('msg_user_devices').set({ active: false, deactivated_reason: reason.slice(0, 500), last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', deviceId).execute()
  }

  /** A user token's own individual (person id); ForbiddenError `user_without_individual` when it has none. */
  async #ownPerson(tenantId: TenantId, viewer: Extract<DirectoryViewer, { kind: 'user' }>): Promise<string> {
    const u = await this.#db.selectFrom('msg_users').select('person_id').where('tenant_id', '=', tenantId).where('id', '=', viewer.userId).executeTakeFirst()
    if (!u?.person_id) throw new ForbiddenError('user_without_individual', 'this user has no individual of its own')
    return u.person_id
  }

  #present(r: DeviceRow, individualId: string): UserDevice {
    return {
      id: r.id, individualId, personId: r.person_id, type: r.type, token: r.token, appName: r.app_name, appVersion: r.app_version, model: r.model,
      osVersion: r.os_version, topic: r.topic, sandbox: r.sandbox, allowNotification: r.allow_notification, active: r.active, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
    }
  }
}

function presentLog(r: LogRow): DeviceLog {
  return {
    id: r.id, deviceId: r.device_id, title: r.title, body: r.body, category: r.category, badgeCount: r.badge_count, data: r.data,
    status: r.status, error: r.error, createdAt: r.created_at,
  }
}

/** A `web` token is the browser's PushSubscription JSON: `{endpoint, keys: {p256dh, auth}}`. */
function checkSubscription(token: string): void {
  let sub: { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | undefined
  try {
    sub = JSON.parse(token) as typeof sub
  } catch {
    sub = undefined
  }
  if (!sub || typeof sub !== 'object' || typeof sub.endpoint !== 'string' || !/^https?:\/\/\S+$/.test(sub.endpoint)
    || typeof sub.keys?.p256dh !== 'string' || typeof sub.keys.auth !== 'string') {
    throw bad('a web token is the PushSubscription JSON: {"endpoint": "https://…", "keys": {"p256dh": "…", "auth": "…"}}', 'token')
  }
}
