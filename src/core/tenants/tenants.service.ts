import type { Kysely, Transaction } from 'kysely'
import type { Notifier } from '../../db/notifier.ts'
import type { DB } from '../../db/schema.ts'
import { hashSecret, openSecret, randomSecret, sealSecret, secretMatches } from '../../lib/secrets.ts'
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

/** The channel `migrations/0012` announces changed credentials on (payload: `<surface> <kind> <key>`). */
const CREDENTIALS_CHANGED = 'switchboard_credentials_changed'

/** What the company secret is sealed for: its tenant, so a sealed value copied to another tenant's row does not open as theirs. */
const companySecretContext = (tenantId: TenantId) => `company_secret:${tenantId}`

/**
 * Tenants: creation with credentials for every surface, lookup, and credential checks. Secrets are
 * checked against their SHA-256 hash; the contact-center company secret is also kept sealed under
 * the master key, because verifying HS256 signatures needs the secret itself.
 */
export class TenantsService {
  readonly #db: Kysely<DB>
  readonly #key: Buffer
  readonly #repo: TenantsRepository
  readonly #cache = new Map<string, { tenant: Tenant; secretHash: string; at: number }>()
  readonly #verified = new Map<string, { tenant: Tenant; at: number }>()
  /** The key of a secret presented alone (`authenticateSecret`): which credential to verify it against. */
  readonly #keysBySecret = new Map<string, string>()
  /** Bumped whenever cached credentials are dropped: a read that raced it is not kept. */
  #generation = 0

  /**
   * `secretKey`: the master key (SWITCHBOARD_SECRET_KEY) sealing recoverable secrets. With
   * `events`, a credential changed by any process (a rotation) is dropped from this process's caches
   * as the change commits; without them, or while notifications may be missed, a cached credential
   * is trusted for at most AUTH_CACHE_MS.
   */
  constructor(db: Kysely<DB>, secretKey: Buffer, events?: Notifier) {
    this.#db = db
    this.#key = secretKey
    this.#repo = new TenantsRepository(db)
    if (events) {
      events.onReset(() => this.#forgetAll())
      events.listen(CREDENTIALS_CHANGED, (payload) => {
        const [surface, kind, key] = payload.split(' ')
        if (surface && kind && key !== undefined) this.#forget(surface as Surface, kind as CredentialKind, key)
      }).catch(() => this.#forgetAll())
    }
  }

  /**
   * Create a tenant and issue credentials for all three surfaces (shown once, stored hashed; the
   * company secret also sealed, see `companySecret`).
   */
  async create(name: string): Promise<{ tenant: Tenant; credentials: IssuedCredentials }>
  async create<T>(name: string, within: (trx: Transaction<DB>, tenant: Tenant) => Promise<T>): Promise<{ tenant: Tenant; credentials: IssuedCredentials; made: T }>
  /**
   * `within` runs in the same transaction once the tenant exists (its console owner, say): if it
   * throws, no tenant is made either. Its own errors pass through unchanged.
   */
  async create<T>(name: string, within?: (trx: Transaction<DB>, tenant: Tenant) => Promise<T>): Promise<{ tenant: Tenant; credentials: IssuedCredentials; made?: T }> {
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
        await this.#repo.insertCredential(trx, row.id, 'ccai', 'company_secret', client, hashSecret(credentials.ccai.company_secret),
          sealSecret(this.#key, companySecretContext(row.id), credentials.ccai.company_secret))
        await this.#repo.insertCredential(trx, row.id, 'courier', 'api_key', row.id, hashSecret(credentials.courier.api_key))
        const tenant: Tenant = { id: row.id, name: trimmed, embedCode, cassClient: client, createdAt: row.created_at }
        if (!within) return { tenant, credentials }
        try {
          return { tenant, credentials, made: await within(trx, tenant) }
        } catch (err) {
          throw new WithinFailed(err)
        }
      })
    } catch (err) {
      if (err instanceof WithinFailed) throw err.cause
      if (uniqueViolation(err) !== undefined) throw new ConflictError('tenant_name_taken', `a tenant named "${trimmed}" already exists`, { name: trimmed })
      throw err
    }
  }

  /**
   * The tenant's contact-center company secret in the clear (to verify HS256 signatures), or null
   * when only its hash is stored (a tenant made before secrets were sealed: rotate it) or the tenant
   * has none. Throws SealedSecretError when it cannot be opened (another master key): an operator's
   * problem, which a surface must not answer as the client's fault nor with a bare 500.
   */
  async companySecret(tenantId: TenantId): Promise<string | null> {
    const row = await this.#repo.findActiveCredential(this.#db, tenantId, 'ccai', 'company_secret')
    if (!row || row.secretSealed === null) return null
    return openSecret(this.#key, companySecretContext(tenantId), row.secretSealed, `the company secret of tenant ${tenantId}`)
  }

  /**
   * Issue a new company secret for the tenant and return it (shown once): hash and sealed value are
   * replaced in one transaction, so the old secret stops authenticating as it commits, in this
   * process at once (its caches are dropped) and in other processes within their credential cache
   * time (5 s). Throws ValidationError `tenant_not_found` when the tenant has no company secret.
   */
  async rotateCompanySecret(tenantId: TenantId): Promise<{ subdomain: string; companySecret: string }> {
    const secret = randomSecret()
    const key = await this.#db.transaction().execute(async (trx) => {
      const row = await this.#repo.findActiveCredential(trx, tenantId, 'ccai', 'company_secret', true)
      if (!row) throw new ValidationError('tenant_not_found', `tenant ${tenantId} has no contact-center company secret`)
      await this.#repo.replaceSecret(trx, tenantId, row.id, hashSecret(secret), sealSecret(this.#key, companySecretContext(tenantId), secret))
      return row.key
    })
    this.#forget('ccai', 'company_secret', key)
    return { subdomain: key, companySecret: secret }
  }

  /** Drop what the credential caches hold for one credential, so a replaced secret is asked for again. */
  #forget(surface: Surface, kind: CredentialKind, key: string): void {
    const prefix = `${surface}\u0000${kind}\u0000${key}`
    this.#generation++
    this.#cache.delete(prefix)
    for (const k of this.#verified.keys()) if (k.startsWith(`${prefix}\u0000`)) this.#verified.delete(k)
  }

  #forgetAll(): void {
    this.#generation++
    this.#cache.clear()
    this.#verified.clear()
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
    return { name: row.name, smsHelpText: typeof help === 'string' ? help : null, smsConsentRequired: row.settings.sms_consent_required === true }
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
    if (patch.smsConsentRequired !== undefined) {
      if (typeof patch.smsConsentRequired !== 'boolean') throw new ValidationError('invalid_help_text', 'sms_consent_required must be true or false')
      changes.sms_consent_required = patch.smsConsentRequired
    }
    const settings = await this.#repo.mergeSettings(tenant.id, changes)
    const help = settings?.sms_help_text
    return { smsHelpText: typeof help === 'string' ? help : null, smsConsentRequired: settings?.sms_consent_required === true }
  }

  /**
   * The tenant whose `key` credential on `surface` matches `secret`.
   * Throws AuthError `unknown_client` when no such key exists, `bad_secret` when the secret is wrong.
   */
  async authenticate(surface: Surface, kind: CredentialKind, key: string, secret: string): Promise<Tenant> {
    return this.authenticateCached(surface, kind, key, secret) ?? this.#authenticate(surface, kind, key, secret)
  }

  /**
   * The tenant whose `kind` credential on `surface` is `secret` alone, without a key beside it (the
   * messaging API's `Bearer <api key>`): the key is found by the secret's hash, then verified as
   * `authenticate` does (cached the same way). Throws AuthError `bad_secret` when no key has it.
   */
  async authenticateSecret(surface: Surface, kind: CredentialKind, secret: string): Promise<Tenant> {
    const known = this.#keysBySecret.get(`${surface}\u0000${kind}\u0000${secret}`)
    if (known !== undefined) {
      const hit = this.authenticateCached(surface, kind, known, secret)
      if (hit) return hit
    }
    const key = await this.#repo.findKeyByHash(surface, kind, hashSecret(secret))
    if (key === undefined) throw new AuthError('bad_secret', 'no such key')
    if (this.#keysBySecret.size >= AUTH_CACHE_MAX) this.#keysBySecret.clear()
    this.#keysBySecret.set(`${surface}\u0000${kind}\u0000${secret}`, key)
    return this.authenticate(surface, kind, key, secret)
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
    const read = async () => {
      const generation = this.#generation
      const found = await this.#repo.findCredential(surface, kind, key)
      if (!found) {
        this.#cache.delete(cacheKey)
        throw new AuthError('unknown_client', 'no such client', { key })
      }
      const fresh = { ...found, at: now }
      // A read that raced a change announcement may hold the old secret: used once, not kept.
      if (generation === this.#generation) {
        if (this.#cache.size >= AUTH_CACHE_MAX) this.#cache.clear()
        this.#cache.set(cacheKey, fresh)
      }
      return fresh
    }
    let cached = true
    if (!entry || now - entry.at > AUTH_CACHE_MS) {
      entry = await read()
      cached = false
    }
    // A cached hash may predate a rotation in another process whose announcement has not arrived
    // yet: a secret it refuses is checked against the database before it is called wrong.
    if (cached && !secretMatches(secret, entry.secretHash)) entry = await read()
    if (!secretMatches(secret, entry.secretHash)) throw new AuthError('bad_secret', 'wrong secret', { key })
    if (this.#cache.get(cacheKey) !== entry) return entry.tenant
    if (this.#verified.size >= AUTH_CACHE_MAX) this.#verified.clear()
    // Keyed by the secret itself: only a caller who presents it again gets the hit.
    this.#verified.set(`${cacheKey}\u0000${secret}`, { tenant: entry.tenant, at: entry.at })
    return entry.tenant
  }
}

/** What `create`'s `within` threw, carried out of the transaction untouched (not taken for a taken name). */
class WithinFailed extends Error {
  constructor(cause: unknown) {
    super('tenant create: within failed', { cause })
  }
}
