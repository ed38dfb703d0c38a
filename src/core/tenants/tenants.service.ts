import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { hashSecret, randomSecret, secretMatches } from '../../lib/secrets.ts'
import { AuthError, ConflictError, ValidationError, uniqueViolation } from '../errors.ts'
import { TenantsRepository } from './tenants.repository.ts'
import type { CredentialKind, IssuedCredentials, MessagingSettings, Surface, Tenant } from './tenants.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** How long a verified credential is trusted without asking the database again. */
const AUTH_CACHE_MS = 5_000
const AUTH_CACHE_MAX = 10_000
/** Longest HELP answer: a few SMS segments. */
const MAX_HELP_TEXT = 640

/** Lower-case, dash-separated form of a name: "Acme Health" → "acme-health". */
export function slugify(name: string): string {
  const slug = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  return slug.slice(0, 60) || 'tenant'
}

/** Tenants: creation with credentials for every surface, lookup, and credential checks. */
export class TenantsService {
  readonly #db: Kysely<DB>
  readonly #repo: TenantsRepository
  readonly #cache = new Map<string, { tenant: Tenant; secretHash: string; at: number }>()
  readonly #verified = new Map<string, { tenant: Tenant; at: number }>()

  constructor(db: Kysely<DB>) {
    this.#db = db
    this.#repo = new TenantsRepository(db)
  }

  /** Create a tenant and issue credentials for all three surfaces (shown once, stored hashed). */
  async create(name: string): Promise<{ tenant: Tenant; credentials: IssuedCredentials }> {
    const trimmed = name.trim()
    if (trimmed.length === 0 || trimmed.length > 200) throw new ValidationError('invalid_tenant_name', 'tenant name must be 1-200 characters')
    const base = slugify(trimmed)
    try {
      return await this.#db.transaction().execute(async (trx) => {
        // A slug taken by another tenant ("Acme" vs "acme") gets a numeric suffix.
        let client = base
        for (let n = 2; await this.#repo.keyTaken(trx, 'cass', client); n++) client = `${base}-${n}`
        const embedCode = randomSecret(15)
        const row = await this.#repo.insertTenant(trx, trimmed, embedCode)
        const credentials: IssuedCredentials = {
          cass: { client, token: randomSecret() },
          ccai: { subdomain: client, token: randomSecret(), company_secret: randomSecret() },
          courier: { organization_id: row.id, api_key: randomSecret() },
        }
        await this.#repo.insertCredential(trx, row.id, 'cass', 'token', client, hashSecret(credentials.cass.token))
        await this.#repo.insertCredential(trx, row.id, 'ccai', 'token', client, hashSecret(credentials.ccai.token))
        await this.#repo.insertCredential(trx, row.id, 'ccai', 'company_secret', client, hashSecret(credentials.ccai.company_secret))
        await this.#repo.insertCredential(trx, row.id, 'courier', 'api_key', row.id, hashSecret(credentials.courier.api_key))
        const tenant: Tenant = { id: row.id, name: trimmed, embedCode, cassClient: client, createdAt: row.created_at }
        return { tenant, credentials }
      })
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new ConflictError('tenant_name_taken', `a tenant named "${trimmed}" already exists`, { name: trimmed })
      throw err
    }
  }

  list(): Promise<Tenant[]> {
    return this.#repo.list()
  }

  findByName(name: string): Promise<Tenant | undefined> {
    return this.#repo.findByName(name)
  }

  findById(id: string): Promise<Tenant | undefined> {
    return this.#repo.findById(id)
  }

  /**
   * The messaging settings of a tenant (with its name, which the carrier replies name), or
   * undefined when the tenant is gone. Read by workers, so it takes the id.
   */
  async messagingSettings(tenantId: TenantId): Promise<(MessagingSettings & { name: string }) | undefined> {
    const row = await this.#repo.findSettings(tenantId)
    if (!row) return undefined
    const help = row.settings.sms_help_text
    return { name: row.name, smsHelpText: typeof help === 'string' ? help : null }
  }

  /**
   * Change messaging settings; a field left out stays, `null` restores the default. Throws
   * ValidationError `invalid_help_text`.
   */
  async updateMessagingSettings(tenant: Pick<Tenant, 'id'>, patch: Partial<MessagingSettings>): Promise<MessagingSettings> {
    const changes: Record<string, unknown> = {}
    if (patch.smsHelpText !== undefined) {
      const text = patch.smsHelpText === null ? null : String(patch.smsHelpText).trim()
      if (text !== null && (text.length === 0 || text.length > MAX_HELP_TEXT || text.includes('\u0000'))) {
        throw new ValidationError('invalid_help_text', `the help text must be 1-${MAX_HELP_TEXT} characters`)
      }
      changes.sms_help_text = text
    }
    const settings = await this.#repo.mergeSettings(tenant.id, changes)
    const help = settings?.sms_help_text
    return { smsHelpText: typeof help === 'string' ? help : null }
  }

  /**
   * The tenant whose `key` credential on `surface` matches `secret`.
   * Throws AuthError `unknown_client` when no such key exists, `bad_secret` when the secret is wrong.
   */
  async authenticate(surface: Surface, kind: CredentialKind, key: string, secret: string): Promise<Tenant> {
    return this.authenticateCached(surface, kind, key, secret) ?? this.#authenticate(surface, kind, key, secret)
  }

  /**
   * The tenant when this exact credential was verified in the last few seconds, without a database
   * round trip or a hash: the per-request fast path. Undefined means "ask `authenticate`".
   */
  authenticateCached(surface: Surface, kind: CredentialKind, key: string, secret: string): Tenant | undefined {
    const hit = this.#verified.get(`${surface}\u0000${kind}\u0000${key}\u0000${secret}`)
    return hit && Date.now() - hit.at <= AUTH_CACHE_MS ? hit.tenant : undefined
  }

  async #authenticate(surface: Surface, kind: CredentialKind, key: string, secret: string): Promise<Tenant> {
    const cacheKey = `${surface}\u0000${kind}\u0000${key}`
    const now = Date.now()
    let entry = this.#cache.get(cacheKey)
    if (!entry || now - entry.at > AUTH_CACHE_MS) {
      const found = await this.#repo.findCredential(surface, kind, key)
      if (!found) {
        this.#cache.delete(cacheKey)
        throw new AuthError('unknown_client', 'no such client', { key })
      }
      if (this.#cache.size >= AUTH_CACHE_MAX) this.#cache.clear()
      entry = { ...found, at: now }
      this.#cache.set(cacheKey, entry)
    }
    if (!secretMatches(secret, entry.secretHash)) throw new AuthError('bad_secret', 'wrong secret', { key })
    if (this.#verified.size >= AUTH_CACHE_MAX) this.#verified.clear()
    // Keyed by the secret itself: only a caller who presents it again gets the hit.
    this.#verified.set(`${cacheKey}\u0000${secret}`, { tenant: entry.tenant, at: entry.at })
    return entry.tenant
  }
}
