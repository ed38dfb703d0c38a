import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { generatePassword, hashPassword, verifyPassword } from '../../lib/passwords.ts'
import { phoneCountry, toE164 } from '../../lib/phone.ts'
import { parseSetupText } from '../../lib/schema-problems.ts'
import { decrypt, encrypt } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { syncSetupTickets } from '../crm/index.ts'
import { ValidationError } from '../errors.ts'
import { parseDuration } from '../scheduling/index.ts'
import { AgentsRepository, type AgentProfile } from './agents.repository.ts'
import type { CcSettings, Menu, MenuConfig, PhoneNumber, SetupLoadResult, StatusKind } from './contact-center.types.ts'
import { DEFAULT_CALLING_HOURS, DEFAULT_RETRY } from './dialer.ts'
import { nextNums, SetupRepository, type StoredSettings } from './setup.repository.ts'
import { isMaskedSecret, maskSecret, openWebhookSecret, rewriteSetupSecrets, sealWebhookSecret, WEBHOOK_SECRET_KEYS, type WebhookSecretKey } from './setup-redaction.ts'
import { MENU_TYPES, normalizeMenuPath, SYSTEM_STATUSES, validateSetupDocument, type SetupDocument, type SetupMenu } from './setup.schema.ts'

/** Largest setup file accepted. */
export const MAX_SETUP_SOURCE = 4 * 1024 * 1024

/** The statuses every contact center has, and how each behaves. */
const SYSTEM_STATUS_KINDS: ReadonlyArray<{ name: string; kind: StatusKind }> = [
  { name: SYSTEM_STATUSES.available, kind: 'available' },
  { name: SYSTEM_STATUSES.unavailable, kind: 'away' },
  { name: SYSTEM_STATUSES.offline, kind: 'system' },
  { name: SYSTEM_STATUSES.inChat, kind: 'system' },
  { name: SYSTEM_STATUSES.inCall, kind: 'system' },
  { name: SYSTEM_STATUSES.wrapUp, kind: 'system' },
]

/** A campaign's calling hours when the file gives none: every day 08:00-21:00 in the contact's zone. */

/** Defaults of the settings a file leaves out. */
export const SETUP_DEFAULTS = {
  timeZone: 'UTC', chatDismissal: '10m', chatExpiration: '24h', offerTimeout: '30s', wrapUp: '2m', rateLimit: 10, outboundConfirm: '60s',
} as const

/**
 * Parse a setup file (YAML, or JSON with `format: 'json'`) and validate it. Throws ValidationError
 * `invalid_contact_center` with `errors`, each `path: problem`. `threadExists` checks virtual
 * agents against the tenant's bot threads (left out by `contact-center check`, which has no tenant).
 */
export function parseContactCenterSetup(source: string, format?: 'yaml' | 'json', threadExists?: (name: string) => boolean): SetupDocument {
  const fail = (errors: string[]): never => {
    throw new ValidationError('invalid_contact_center', errors[0]!, { errors })
  }
  const parsed = parseSetupText(source, format, 'the setup file', MAX_SETUP_SOURCE)
  if (!parsed.ok) return fail([parsed.problem])
  const result = validateSetupDocument(parsed.value, threadExists)
  if (!result.ok) return fail(result.errors)
  return result.document
}

/** Every menu of a file's tree with its path, depth-first in file order. */
export function flattenMenus(doc: SetupDocument): Array<{ node: SetupMenu; type: Menu['menuType']; path: string; parentPath: string | null; position: number }> {
  const out: Array<{ node: SetupMenu; type: Menu['menuType']; path: string; parentPath: string | null; position: number }> = []
  const walk = (node: SetupMenu, type: Menu['menuType'], parentPath: string | null, position: number) => {
    const path = parentPath === null ? node.name.trim() : `${parentPath} / ${node.name.trim()}`
    out.push({ node, type, path, parentPath, position })
    node.children?.forEach((c, i) => walk(c, type, path, i + 1))
  }
  doc.menus?.forEach((m, i) => walk(m as SetupMenu, MENU_TYPES[m.type], null, i + 1))
  return out
}

export interface SetupServiceDeps {
  db: Kysely<DB>
  /** The master key (sealing webhook secrets). */
  secretKey: Buffer
  /** Whether the tenant has a bot thread of this name (virtual agents). */
  threadNames: (tenantId: TenantId) => Promise<readonly string[]>
}

/**
 * The contact center's setup: loading a tenant's setup file in place, in one transaction (teams and
 * statuses by name, agents by email, menus by path, numbers by number; the Apps API ids stay), and
 * reading the current one back.
 */
export class SetupService {
  readonly #db: Kysely<DB>
  readonly #repo: SetupRepository
  readonly #agents: AgentsRepository
  readonly #deps: SetupServiceDeps

  constructor(deps: SetupServiceDeps) {
    this.#db = deps.db
    this.#deps = deps
    this.#repo = new SetupRepository(deps.db)
    this.#agents = new AgentsRepository(deps.db)
  }

  /** Parse and validate a file for this tenant (virtual agents checked against its threads). Throws `invalid_contact_center`. */
  async parse(tenantId: TenantId, source: string, format?: 'yaml' | 'json'): Promise<SetupDocument> {
    const threads = new Set(await this.#deps.threadNames(tenantId))
    return parseContactCenterSetup(source, format, (name) => threads.has(name))
  }

  /**
   * Load a setup file as the tenant's contact center. Everything changes in one transaction, or
   * nothing does. Agents gone from the file are deactivated (signed out, Offline); teams, statuses,
   * menus and numbers gone from it are marked deleted, so ids are never reused. An agent new to the
   * file without `password`/`password_hash` gets a generated password, returned once.
   */
  async load(tenantId: TenantId, source: string, format?: 'yaml' | 'json'): Promise<SetupLoadResult> {
    const fmt = format ?? (source.trimStart().startsWith('{') ? 'json' : 'yaml')
    const doc = await this.parse(tenantId, source, fmt)
    // Hash before the transaction: scrypt is slow on purpose, and locks should not wait for it.
    const given = new Map<string, string>()
    for (const a of doc.agents ?? []) if (a.password !== undefined) given.set(a.email.trim().toLowerCase(), a.password)
    return this.#db.transaction().execute(async (trx) => {
      await this.#repo.lockTenant(trx, tenantId)
      const secrets = await this.#webhookSecrets(trx, tenantId, doc)
      await this.#saveSettings(trx, tenantId, doc, secrets)
      const statuses = await this.#syncStatuses(trx, tenantId, doc)
      const teams = await this.#syncTeams(trx, tenantId, doc)
      const { generated, deactivated, agentCount, hashes } = await this.#syncAgents(trx, tenantId, doc, teams, statuses.offline, given)
      const { count: menus, ids: menuIds } = await this.#syncMenus(trx, tenantId, doc, teams)
      const numbers = (doc.phone_numbers ?? []).map((p): PhoneNumber => {
        const number = toE164(p.number)!
        return { number, sms: p.sms ?? true, voice: p.voice ?? true, us: phoneCountry(number) === 'US' }
      })
      await this.#repo.replacePhoneNumbers(trx, tenantId, numbers)
      await this.#syncCampaigns(trx, tenantId, doc, menuIds)
      // CRM tickets of the built-in adapter (issue 12, item 3): written by ticket id.
      await syncSetupTickets(trx, tenantId, (doc.tickets ?? []).map((t) => ({ ticketId: t.id, subject: t.subject, contact: t.contact })))
      // Kept with each clear password replaced by its hash and each webhook secret sealed (see setup-redaction.ts).
      const kept = await rewriteSetupSecrets(doc, source, fmt, {
        password: (email) => hashes.get(email)!,
        webhook: (k) => sealWebhookSecret(this.#deps.secretKey, tenantId, secrets[k]!),
      })
      const version = await this.#repo.insertVersion(trx, tenantId, kept.document, kept.source, fmt)
      return { version, teams: teams.size, agents: agentCount, menus, phoneNumbers: numbers.length, deactivatedAgents: deactivated, generatedPasswords: generated }
    })
  }

  /**
   * The file of the current version as it was loaded, with agents' clear passwords replaced by
   * their hashes and webhook secrets masked (`****` + the last four characters; loading the masked
   * value again keeps the secret); undefined when none was loaded.
   */
  async currentSource(tenantId: TenantId): Promise<{ version: number; source: string; format: 'yaml' | 'json'; loadedAt: Date } | undefined> {
    const v = await this.#repo.currentVersion(this.#db, tenantId)
    if (!v) return undefined
    const served = await rewriteSetupSecrets(v.document as SetupDocument, v.source, v.format, {
      webhook: (_k, sealed) => {
        const clear = openWebhookSecret(this.#deps.secretKey, tenantId, sealed)
        return clear === undefined ? '****' : maskSecret(clear)
      },
    })
    return { version: v.version, source: served.source, format: v.format, loadedAt: v.createdAt }
  }

  /** The tenant's menus (queues), in id order, without deleted ones unless asked. */
  async menus(tenantId: TenantId, opts: { withDeleted?: boolean } = {}): Promise<Menu[]> {
    return this.#repo.menus(this.#db, tenantId, opts)
  }

  /** The tenant's settings, or undefined when no contact center was loaded. */
  async settings(tenantId: TenantId, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<CcSettings | undefined> {
    const s = await this.#repo.settings(db, tenantId)
    if (!s) return undefined
    const { webhookSecretsSealed, ...rest } = s
    return { ...rest, webhookSecretCount: webhookSecretsSealed.length }
  }

  /** Where the tenant's chat webhooks go (§1.12): the URL and the secrets, unsealed; null without one. */
  async webhookTarget(tenantId: TenantId): Promise<{ url: string; secrets: string[] } | null> {
    const s = await this.#repo.settings(this.#db, tenantId)
    if (!s?.webhookUrl || s.webhookSecretsSealed.length === 0) return null
    return { url: s.webhookUrl, secrets: s.webhookSecretsSealed.map((x) => decrypt(this.#deps.secretKey, x)) }
  }

  /**
   * The webhook secrets a file sets, in clear: a secret given in clear is that secret; the masked
   * value the server serves (`****` + last four) is the stored secret (primary or secondary) it
   * masks; a missing `primary_secret` keeps the stored primary; a missing `secondary_secret` means
   * none (how a rotation ends). Throws `invalid_contact_center` when a masked value matches no stored
   * secret or a primary is needed and none is stored.
   */
  async #webhookSecrets(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument): Promise<Partial<Record<WebhookSecretKey, string>>> {
    const w = doc.settings?.webhook
    if (!w) return {}
    // A stored secret that no longer opens (the master key changed) is as good as none: a clear one must be given.
    const stored = ((await this.#repo.settings(trx, tenantId))?.webhookSecretsSealed ?? []).flatMap((x) => {
      try {
        return [decrypt(this.#deps.secretKey, x)]
      } catch {
        return []
      }
    })
    const errors: string[] = []
    const out: Partial<Record<WebhookSecretKey, string>> = {}
    for (const k of WEBHOOK_SECRET_KEYS) {
      const given = w[k]
      if (given === undefined) {
        if (k === 'primary_secret') {
          if (stored[0] === undefined) errors.push('settings.webhook.primary_secret: required (no webhook secret is stored to keep)')
          else out[k] = stored[0]
        }
        continue
      }
      if (!isMaskedSecret(given)) {
        out[k] = given
        continue
      }
      const match = stored.find((x) => maskSecret(x) === given)
      if (match === undefined) errors.push(`settings.webhook.${k}: the masked value matches no stored webhook secret`)
      else out[k] = match
    }
    if (errors.length > 0) throw new ValidationError('invalid_contact_center', errors[0]!, { errors })
    return out
  }

  async #saveSettings(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument, given: Partial<Record<WebhookSecretKey, string>>): Promise<void> {
    const s = doc.settings ?? {}
    const seconds = (text: string) => Math.round(parseDuration(text)! / 1000)
    const secrets = s.webhook ? [given.primary_secret!, ...(given.secondary_secret ? [given.secondary_secret] : [])] : []
    const stored: StoredSettings = {
      timeZone: s.time_zone ?? SETUP_DEFAULTS.timeZone,
      smsEnabled: s.sms_enabled ?? false,
      outboundSmsEnabled: s.outbound_sms_enabled ?? false,
      chatDismissalSeconds: seconds(s.chat_dismissal_timeout ?? SETUP_DEFAULTS.chatDismissal),
      chatExpirationSeconds: seconds(s.chat_expiration_timeout ?? SETUP_DEFAULTS.chatExpiration),
      offerTimeoutSeconds: seconds(s.offer_timeout ?? SETUP_DEFAULTS.offerTimeout),
      wrapUpSeconds: seconds(s.wrap_up_timeout ?? SETUP_DEFAULTS.wrapUp),
      rateLimitPerSecond: s.rate_limit ?? SETUP_DEFAULTS.rateLimit,
      webhookUrl: s.webhook?.url ?? null,
      webhookSecretsSealed: secrets.map((x) => encrypt(this.#deps.secretKey, x)),
      confirmOutboundCalls: s.confirm_outbound_calls ?? false,
      outboundConfirmSeconds: seconds(s.outbound_confirm_timeout ?? SETUP_DEFAULTS.outboundConfirm),
    }
    await this.#repo.saveSettings(trx, tenantId, stored)
  }

  async #syncStatuses(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument): Promise<{ offline: string }> {
    const existing = await this.#repo.statuses(trx, tenantId, { withDeleted: true })
    const byName = new Map(existing.map((s) => [s.name.toLowerCase(), s]))
    const custom = (doc.statuses ?? []).map((s) => s.name.trim())
    const missing = [...SYSTEM_STATUS_KINDS, ...custom.map((name) => ({ name, kind: 'away' as const }))].filter((s) => !byName.has(s.name.toLowerCase()))
    await this.#repo.insertStatuses(trx, tenantId, missing)
    await this.#repo.keepCustomStatuses(trx, tenantId, custom)
    const offline = (await this.#repo.statuses(trx, tenantId)).find((s) => s.name === SYSTEM_STATUSES.offline)!
    return { offline: offline.id }
  }

  async #syncTeams(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument): Promise<Map<string, string>> {
    const names = (doc.teams ?? []).map((t) => t.name.trim())
    const existing = await this.#repo.teams(trx, tenantId, { withDeleted: true })
    const known = new Set(existing.map((t) => t.name))
    await this.#repo.insertTeams(trx, tenantId, names.filter((n) => !known.has(n)))
    await this.#repo.keepTeams(trx, tenantId, names)
    return new Map((await this.#repo.teams(trx, tenantId)).map((t) => [t.name, t.id]))
  }

  async #syncAgents(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument, teams: Map<string, string>, offlineStatusId: string, given: Map<string, string>) {
    const agents = doc.agents ?? []
    const existing = await this.#agents.existingByEmail(trx, tenantId)
    const profiles: AgentProfile[] = agents.map((a) => ({
      email: a.email.trim(), firstName: a.first_name.trim(), lastName: a.last_name.trim(), agentNumber: a.agent_number ?? null,
      location: a.location ?? null, roles: a.roles ?? ['Agent'], permissions: a.permissions ?? [], chatCapacity: a.chat_capacity ?? 3,
      phoneNumbers: (a.phone_numbers ?? []).map((p) => toE164(p)!), active: a.active ?? true,
    }))
    const ids = await this.#agents.upsertProfiles(trx, tenantId, profiles, offlineStatusId, existing)
    const generated: Array<{ email: string; password: string }> = []
    const hashes = new Map<string, string>()
    for (const a of agents) {
      const key = a.email.trim().toLowerCase()
      const id = ids.get(key)!
      const had = existing.get(key)?.passwordHash ?? null
      const plain = given.get(key)
      if (a.password_hash !== undefined) {
        if (a.password_hash !== had) await this.#agents.setPasswordHash(trx, tenantId, id, a.password_hash)
      } else if (plain !== undefined) {
        if (had === null || !(await verifyPassword(plain, had))) {
          const hash = await hashPassword(plain)
          await this.#agents.setPasswordHash(trx, tenantId, id, hash)
          hashes.set(key, hash)
        } else {
          hashes.set(key, had)
        }
      } else if (had === null) {
        const password = generatePassword()
        await this.#agents.setPasswordHash(trx, tenantId, id, await hashPassword(password))
        generated.push({ email: a.email.trim(), password })
      }
    }
    const deactivatedNow = await this.#agents.deactivateOthers(trx, tenantId, [...ids.values()])
    const inactive = profiles.filter((p) => !p.active).length
    await this.#agents.signOutDeactivated(trx, tenantId, offlineStatusId)
    const links = agents.flatMap((a) => (a.teams ?? []).map((t) => ({ agentId: ids.get(a.email.trim().toLowerCase())!, teamId: teams.get(t.trim())! })))
    await this.#agents.setAgentTeams(trx, tenantId, links)
    return { generated, deactivated: deactivatedNow.length + inactive, agentCount: profiles.length, hashes }
  }

  /** Campaigns by name: updated in place (their ids stay), new ones numbered, gone ones marked deleted. */
  async #syncCampaigns(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument, menuIds: Map<string, string>): Promise<void> {
    const leaves = flattenMenus(doc).filter((m) => (!m.node.children || m.node.children.length === 0) && m.node.channels?.includes('call'))
    const existing = new Map((await trx.selectFrom('cc_campaigns').select(['id', 'name']).where('tenant_id', '=', tenantId).execute()).map((r) => [r.name, r.id]))
    const keep: string[] = []
    for (const c of doc.campaigns ?? []) {
      const leaf = leaves.find((m) => m.path === normalizeMenuPath(c.queue))!
      const values = {
        caller_id: toE164(c.caller_id)!, menu_id: menuIds.get(`${leaf.type}:${leaf.path}`)!, mode: c.mode ?? 'progressive', pacing_ratio: c.pacing_ratio ?? 1,
        calling_hours: JSON.stringify(c.calling_hours ?? { weekly: DEFAULT_CALLING_HOURS }),
        retry: JSON.stringify({ max_attempts: c.retry?.max_attempts ?? DEFAULT_RETRY.maxAttempts, delay: c.retry?.delay ?? '1h', statuses: c.retry?.statuses ?? DEFAULT_RETRY.statuses }),
        preview: JSON.stringify(c.preview ?? {}),
        deleted: false, updated_at: new Date(),
      }
      const name = c.name.trim()
      const id = existing.get(name)
      if (id) await trx.updateTable('cc_campaigns').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).execute()
      else {
        const [num] = await nextNums(trx, tenantId, 'campaign')
        await trx.insertInto('cc_campaigns').values({ tenant_id: tenantId, num: num!, name, ...values }).execute()
      }
      keep.push(name)
    }
    let gone = trx.updateTable('cc_campaigns').set({ deleted: true }).where('tenant_id', '=', tenantId).where('deleted', '=', false)
    if (keep.length) gone = gone.where('name', 'not in', keep)
    await gone.execute()
  }

  async #syncMenus(trx: Transaction<DB>, tenantId: TenantId, doc: SetupDocument, teams: Map<string, string>): Promise<{ count: number; ids: Map<string, string> }> {
    const ids = new Map<string, string>()
    const links: Array<{ menuId: string; teamId: string }> = []
    for (const m of flattenMenus(doc)) {
      const n = m.node
      const leaf = !n.children || n.children.length === 0
      const config: MenuConfig = {
        ...(n.hours ? { hours: n.hours } : {}), ...(n.after_hours ? { after_hours: n.after_hours } : {}),
        ...(n.over_capacity ? { over_capacity: n.over_capacity } : {}), ...(n.manual_redirection ? { manual_redirection: n.manual_redirection } : {}),
        ...(n.virtual_agent ? { virtual_agent: n.virtual_agent } : {}),
      }
      const id = await this.#repo.upsertMenu(trx, tenantId, {
        parentId: m.parentPath === null ? null : ids.get(`${m.type}:${m.parentPath}`)!, menuType: m.type, name: n.name.trim(), path: m.path,
        position: m.position, leaf, hidden: n.hidden ?? false, outputMsg: n.output_msg ?? null,
        channels: leaf ? [...(n.channels ?? [])] : [], languages: leaf ? [...(n.languages ?? ['en'])] : [], priority: n.priority ?? 0, config,
      })
      ids.set(`${m.type}:${m.path}`, id)
      for (const t of n.teams ?? []) links.push({ menuId: id, teamId: teams.get(t.trim())! })
    }
    await this.#repo.keepMenus(trx, tenantId, [...ids.values()])
    await this.#repo.setMenuTeams(trx, tenantId, links)
    return { count: ids.size, ids }
  }
}

