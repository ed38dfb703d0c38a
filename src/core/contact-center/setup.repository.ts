import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { AgentStatus, CcSettings, Menu, MenuConfig, PhoneNumber, StatusKind, Team } from './contact-center.types.ts'
import type { CcChannel, MenuType } from './setup.schema.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** The kinds of per-tenant integer ids the Apps API hands out. */
export type NumKind = 'team' | 'status' | 'agent' | 'menu' | 'end_user' | 'chat' | 'message' | 'participant' | 'escalation' | 'media' | 'job' | 'transfer' | 'campaign' | 'campaign_contact' | 'campaign_import'

/**
 * `count` fresh per-tenant ids of `kind`, in ascending order. The counter row is locked until the
 * caller's transaction ends, so ids are never handed out twice (and a rolled-back transaction gives
 * them back).
 */
export async function nextNums(trx: Transaction<DB>, tenantId: TenantId, kind: NumKind, count = 1): Promise<number[]> {
  return takeNums(trx, tenantId, kind, count)
}

async function takeNums(db: Executor, tenantId: TenantId, kind: NumKind, count: number): Promise<number[]> {
  if (count <= 0) return []
  const row = await db.insertInto('cc_counters').values({ tenant_id: tenantId, kind, last: count })
    .onConflict((oc) => oc.columns(['tenant_id', 'kind']).doUpdateSet({ last: sql`cc_counters.last + ${count}` }))
    .returning('last').executeTakeFirstOrThrow()
  const last = Number(row.last)
  return Array.from({ length: count }, (_, i) => last - count + 1 + i)
}

/**
 * `count` fresh per-tenant ids of `kind` taken at once, outside any transaction (`db` must not be
 * one): the counter row is locked only for this one statement. For the busy paths (messages, chat
 * starts, accepts), whose transactions would otherwise queue one behind another on the tenant's
 * counter row until each commits. An id taken here and then not used (the caller's transaction
 * refused or rolled back) is a gap; ids of concurrent callers may commit out of order.
 */
export async function reserveNums(db: Kysely<DB>, tenantId: TenantId, kind: NumKind, count = 1): Promise<number[]> {
  if (db.isTransaction) throw new Error('reserveNums takes ids outside a transaction; use nextNums inside one')
  return takeNums(db, tenantId, kind, count)
}

/** Settings as stored (webhook secrets still sealed). */
export interface StoredSettings extends Omit<CcSettings, 'webhookSecretCount'> {
  readonly webhookSecretsSealed: readonly string[]
}

/** Data access of the setup: settings, teams, statuses, menus, numbers and the loaded versions. */
export class SetupRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** Serialise loads of one tenant (held until the transaction ends). */
  async lockTenant(trx: Transaction<DB>, tenantId: TenantId): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtext('switchboard.cc_setup'), hashtext(${tenantId}))`.execute(trx)
  }

  async settings(db: Executor, tenantId: TenantId): Promise<StoredSettings | undefined> {
    const r = await db.selectFrom('cc_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
    return r && {
      timeZone: r.time_zone, smsEnabled: r.sms_enabled, outboundSmsEnabled: r.outbound_sms_enabled,
      chatDismissalSeconds: r.chat_dismissal_seconds, chatExpirationSeconds: r.chat_expiration_seconds, offerTimeoutSeconds: r.offer_timeout_seconds, wrapUpSeconds: r.wrap_up_seconds,
      rateLimitPerSecond: r.rate_limit_per_second, webhookUrl: r.webhook_url, webhookSecretsSealed: r.webhook_secrets_sealed,
      confirmOutboundCalls: r.confirm_outbound_calls, outboundConfirmSeconds: r.outbound_confirm_seconds,
    }
  }

  async saveSettings(trx: Transaction<DB>, tenantId: TenantId, s: StoredSettings): Promise<void> {
    const row = {
      time_zone: s.timeZone, sms_enabled: s.smsEnabled, outbound_sms_enabled: s.outboundSmsEnabled,
      chat_dismissal_seconds: s.chatDismissalSeconds, chat_expiration_seconds: s.chatExpirationSeconds, offer_timeout_seconds: s.offerTimeoutSeconds, wrap_up_seconds: s.wrapUpSeconds,
      rate_limit_per_second: s.rateLimitPerSecond, webhook_url: s.webhookUrl, webhook_secrets_sealed: [...s.webhookSecretsSealed],
      confirm_outbound_calls: s.confirmOutboundCalls, outbound_confirm_seconds: s.outboundConfirmSeconds,
      updated_at: new Date(),
    }
    await trx.insertInto('cc_settings').values({ tenant_id: tenantId, ...row })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(row)).execute()
  }

  async teams(db: Executor, tenantId: TenantId, opts: { withDeleted?: boolean } = {}): Promise<Array<Team & { deleted: boolean }>> {
    let q = db.selectFrom('cc_teams').select(['id', 'num', 'name', 'deleted_at']).where('tenant_id', '=', tenantId)
    if (!opts.withDeleted) q = q.where('deleted_at', 'is', null)
    const rows = await q.orderBy('num').execute()
    return rows.map((r) => ({ id: r.id, num: Number(r.num), name: r.name, deleted: r.deleted_at !== null }))
  }

  async insertTeams(trx: Transaction<DB>, tenantId: TenantId, names: readonly string[]): Promise<void> {
    if (names.length === 0) return
    const nums = await nextNums(trx, tenantId, 'team', names.length)
    await trx.insertInto('cc_teams').values(names.map((name, i) => ({ tenant_id: tenantId, num: nums[i]!, name }))).execute()
  }

  /** Mark the tenant's teams deleted or not: every team named in `keep` lives, the rest are deleted. */
  async keepTeams(trx: Transaction<DB>, tenantId: TenantId, keep: readonly string[]): Promise<void> {
    if (keep.length) await trx.updateTable('cc_teams').set({ deleted_at: null }).where('tenant_id', '=', tenantId).where('name', 'in', [...keep]).execute()
    let q = trx.updateTable('cc_teams').set({ deleted_at: new Date() }).where('tenant_id', '=', tenantId).where('deleted_at', 'is', null)
    if (keep.length) q = q.where('name', 'not in', [...keep])
    await q.execute()
  }

  async statuses(db: Executor, tenantId: TenantId, opts: { withDeleted?: boolean } = {}): Promise<AgentStatus[]> {
    let q = db.selectFrom('cc_statuses').select(['id', 'num', 'name', 'kind']).where('tenant_id', '=', tenantId)
    if (!opts.withDeleted) q = q.where('deleted_at', 'is', null)
    const rows = await q.orderBy('num').execute()
    return rows.map((r) => ({ id: r.id, num: Number(r.num), name: r.name, kind: r.kind }))
  }

  async insertStatuses(trx: Transaction<DB>, tenantId: TenantId, statuses: ReadonlyArray<{ name: string; kind: StatusKind }>): Promise<void> {
    if (statuses.length === 0) return
    const nums = await nextNums(trx, tenantId, 'status', statuses.length)
    await trx.insertInto('cc_statuses').values(statuses.map((s, i) => ({ tenant_id: tenantId, num: nums[i]!, name: s.name, kind: s.kind }))).execute()
  }

  /** Custom statuses named in `keep` live, the other custom ones are deleted (system ones always live). */
  async keepCustomStatuses(trx: Transaction<DB>, tenantId: TenantId, keep: readonly string[]): Promise<void> {
    if (keep.length) await trx.updateTable('cc_statuses').set({ deleted_at: null }).where('tenant_id', '=', tenantId).where('name', 'in', [...keep]).execute()
    let q = trx.updateTable('cc_statuses').set({ deleted_at: new Date() }).where('tenant_id', '=', tenantId).where('kind', '=', 'away')
      .where('deleted_at', 'is', null).where('name', '<>', 'Unavailable')
    if (keep.length) q = q.where('name', 'not in', [...keep])
    await q.execute()
  }

  async menus(db: Executor, tenantId: TenantId, opts: { withDeleted?: boolean } = {}): Promise<Menu[]> {
    let q = db.selectFrom('cc_menus as m')
      .leftJoin('cc_menus as p', (j) => j.onRef('p.tenant_id', '=', 'm.tenant_id').onRef('p.id', '=', 'm.parent_id'))
      .select(['m.id', 'm.num', 'p.num as parent_num', 'm.menu_type', 'm.name', 'm.path', 'm.position', 'm.leaf', 'm.hidden', 'm.output_msg',
        'm.channels', 'm.languages', 'm.priority', 'm.config', 'm.deleted',
        sql<string[]>`coalesce((SELECT array_agg(t.num::text ORDER BY t.num) FROM cc_menu_teams mt JOIN cc_teams t ON t.tenant_id = mt.tenant_id AND t.id = mt.team_id AND t.deleted_at IS NULL WHERE mt.tenant_id = m.tenant_id AND mt.menu_id = m.id), '{}')`.as('team_nums')])
      .where('m.tenant_id', '=', tenantId)
    if (!opts.withDeleted) q = q.where('m.deleted', '=', false)
    const rows = await q.orderBy('m.num').execute()
    return rows.map((r) => ({
      id: r.id, num: Number(r.num), parentNum: r.parent_num === null ? null : Number(r.parent_num), menuType: r.menu_type, name: r.name, path: r.path,
      depth: r.path.split(' / ').length, position: r.position, leaf: r.leaf, hidden: r.hidden, outputMsg: r.output_msg,
      channels: r.channels as CcChannel[], languages: r.languages, priority: r.priority, teamNums: r.team_nums.map(Number),
      config: r.config as MenuConfig, deleted: r.deleted,
    }))
  }

  /** Insert or update one menu by (type, path); its id. */
  async upsertMenu(trx: Transaction<DB>, tenantId: TenantId, m: {
    parentId: string | null; menuType: MenuType; name: string; path: string; position: number; leaf: boolean; hidden: boolean
    outputMsg: string | null; channels: string[]; languages: string[]; priority: number; config: MenuConfig
  }): Promise<string> {
    const values = {
      parent_id: m.parentId, name: m.name, position: m.position, leaf: m.leaf, hidden: m.hidden, output_msg: m.outputMsg,
      channels: m.channels, languages: m.languages, priority: m.priority, config: JSON.stringify(m.config), deleted: false,
    }
    const existing = await trx.selectFrom('cc_menus').select('id').where('tenant_id', '=', tenantId)
      .where('menu_type', '=', m.menuType).where('path', '=', m.path).executeTakeFirst()
    if (existing) {
      await trx.updateTable('cc_menus').set(values).where('tenant_id', '=', tenantId).where('id', '=', existing.id).execute()
      return existing.id
    }
    const [num] = await nextNums(trx, tenantId, 'menu')
    const row = await trx.insertInto('cc_menus').values({ tenant_id: tenantId, num: num!, menu_type: m.menuType, path: m.path, ...values })
      .returning('id').executeTakeFirstOrThrow()
    return row.id
  }

  /** Menus not among `keep` (ids) are marked deleted. */
  async keepMenus(trx: Transaction<DB>, tenantId: TenantId, keep: readonly string[]): Promise<void> {
    let q = trx.updateTable('cc_menus').set({ deleted: true }).where('tenant_id', '=', tenantId).where('deleted', '=', false)
    if (keep.length) q = q.where('id', 'not in', [...keep])
    await q.execute()
  }

  /** Replace the teams serving each menu. */
  async setMenuTeams(trx: Transaction<DB>, tenantId: TenantId, links: ReadonlyArray<{ menuId: string; teamId: string }>): Promise<void> {
    await trx.deleteFrom('cc_menu_teams').where('tenant_id', '=', tenantId).execute()
    if (links.length) await trx.insertInto('cc_menu_teams').values(links.map((l) => ({ tenant_id: tenantId, menu_id: l.menuId, team_id: l.teamId }))).execute()
  }

  async phoneNumbers(db: Executor, tenantId: TenantId): Promise<PhoneNumber[]> {
    const rows = await db.selectFrom('cc_phone_numbers').select(['number', 'sms', 'voice', 'us']).where('tenant_id', '=', tenantId).where('deleted', '=', false).orderBy('number').execute()
    return rows
  }

  async replacePhoneNumbers(trx: Transaction<DB>, tenantId: TenantId, numbers: readonly PhoneNumber[]): Promise<void> {
    await trx.updateTable('cc_phone_numbers').set({ deleted: true }).where('tenant_id', '=', tenantId).execute()
    if (numbers.length === 0) return
    await trx.insertInto('cc_phone_numbers').values(numbers.map((n) => ({ tenant_id: tenantId, ...n, deleted: false })))
      .onConflict((oc) => oc.columns(['tenant_id', 'number']).doUpdateSet((eb) => ({ sms: eb.ref('excluded.sms'), voice: eb.ref('excluded.voice'), us: eb.ref('excluded.us'), deleted: false })))
      .execute()
  }

  async insertVersion(trx: Transaction<DB>, tenantId: TenantId, document: object, source: string, format: 'yaml' | 'json'): Promise<number> {
    const row = await trx.insertInto('cc_setup_versions')
      .values({
        tenant_id: tenantId, document: JSON.stringify(document), source, format, redacted: true,
        version: sql<number>`(SELECT coalesce(max(version), 0) + 1 FROM cc_setup_versions WHERE tenant_id = ${tenantId})`,
      })
      .returning('version').executeTakeFirstOrThrow()
    return row.version
  }

  async currentVersion(db: Executor, tenantId: TenantId): Promise<{ version: number; document: unknown; source: string; format: 'yaml' | 'json'; createdAt: Date } | undefined> {
    const r = await db.selectFrom('cc_setup_versions').select(['version', 'document', 'source', 'format', 'created_at']).where('tenant_id', '=', tenantId)
      .orderBy('version', 'desc').limit(1).executeTakeFirst()
    return r && { version: r.version, document: r.document, source: r.source, format: r.format, createdAt: r.created_at }
  }
}
