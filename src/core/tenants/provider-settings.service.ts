import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { decrypt, encrypt } from '../../lib/secrets.ts'
import { checkOutboundHost, checkOutboundUrl, STRICT_URL_POLICY, UnsafeUrlError, type Resolver, type UrlPolicy } from '../../lib/url-safety.ts'
import { CHANNELS, type Channel, type ChannelProviderSettings } from '../channels.ts'
import { ValidationError } from '../errors.ts'
import { ProviderSettingsRepository, type ProviderSettingsRow } from './provider-settings.repository.ts'
import type { Tenant } from './tenants.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** What core may know of the provider registry (it never imports providers): wired in services.ts. */
export interface ProviderCatalog {
  /** Vendors that can be configured, `sandbox` first. */
  vendors(): string[]
  /** Why `settings` cannot make the vendor's provider for `channel` (its validator's message), or undefined. */
  problem(channel: Channel, settings: ChannelProviderSettings): string | undefined
}

/** A tenant's provider for one channel, as shown: options with secrets masked. */
export interface ProviderSetting {
  readonly channel: Channel
  readonly vendor: string
  /** False: nothing stored, the default sandbox. */
  readonly configured: boolean
  /** The options, every value that may be a secret masked (`****` plus its last 4 characters). */
  readonly options: Readonly<Record<string, unknown>>
  readonly updatedAt: Date | null
}

export interface ProviderSettingsOptions {
  /** Which URLs in options may point at private addresses. Default: none. */
  readonly urlPolicy?: UrlPolicy
  /** How long a worker trusts settings it read before reading them again. Default 5 s. */
  readonly cacheMs?: number
  /** For tests: how URL hosts resolve. */
  readonly resolve?: Resolver
}

const DEFAULT_CACHE_MS = 5_000
const CACHE_MAX = 10_000
const MAX_OPTIONS_BYTES = 65_536
const OPTION_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
/** Option names whose values are shown in full: identifiers and addresses, never credentials. */
const PUBLIC_OPTION = /^(from|sender|senderid|sender_id|accountsid|account_sid|messagingservicesid|messaging_service_sid|host|port|secure|region|projectid|project_id|teamid|team_id|keyid|key_id|bundleid|bundle_id|topic|pageid|page_id|appid|app_id|production|environment|user|username|subject|contact|baseurl|base_url|apibase|api_base|apiurl|api_url|statuscallback|status_callback|statuscallbackurl|status_callback_url|webhookurl|webhook_url|ratepersecond|rate_per_second|persecond|per_second|timeoutms|timeout_ms)$/i
/** Options holding URLs this server (or the vendor, on our behalf) will call: checked for safety. */
const URL_OPTION = /(url|uri|callback|endpoint|webhook)$/i

interface Sealed { t: string; c: string; v: string; o: Record<string, unknown> }

/** `****` and the last 4 characters of a long secret; `****` alone for a short one or a non-string. */
export function maskValue(value: unknown): string {
  if (typeof value === 'string' && value.length >= 16) return `****${value.slice(-4)}`
  return '****'
}

/** Options as they may be shown: public names in full, anything else masked. */
export function maskOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const shown: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) {
    shown[k] = PUBLIC_OPTION.test(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) ? v : maskValue(v)
  }
  return shown
}

/**
 * Which vendor each tenant uses per channel, with its options (credentials included), sealed with
 * AES-256-GCM under the master key in `tenant_provider_settings`. Without a row a channel uses the
 * sandbox. The sealed text binds tenant and channel, so a row copied to another tenant does not
 * decrypt as theirs. Settings are never logged and never returned in full (`maskOptions`).
 */
export class ProviderSettingsService {
  readonly #repo: ProviderSettingsRepository
  readonly #key: Buffer
  readonly #catalog: ProviderCatalog
  readonly #policy: UrlPolicy
  readonly #cacheMs: number
  readonly #resolve: Resolver | undefined
  readonly #cache = new Map<string, { value: ChannelProviderSettings | undefined; at: number }>()

  constructor(db: Kysely<DB>, secretKey: Buffer, catalog: ProviderCatalog, options: ProviderSettingsOptions = {}) {
    this.#repo = new ProviderSettingsRepository(db)
    this.#key = secretKey
    this.#catalog = catalog
    this.#policy = options.urlPolicy ?? STRICT_URL_POLICY
    this.#cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS
    this.#resolve = options.resolve
  }

  /** Vendors that can be configured, `sandbox` first. */
  vendors(): string[] {
    return this.#catalog.vendors()
  }

  /**
   * Use `vendor` for the tenant's `channel` with these options (replacing what was set). Throws
   * ValidationError `invalid_channel`, `unknown_vendor`, `invalid_provider_options` (bad names or
   * values, or the vendor's own validation), `unsafe_url` (an option URL pointing at a private
   * address or carrying credentials); nothing is stored then.
   */
  async set(tenant: Pick<Tenant, 'id'>, channelRaw: string, vendorRaw: string, optionsRaw: unknown = {}): Promise<ProviderSetting> {
    const channel = this.#channel(channelRaw)
    const vendors = this.#catalog.vendors()
    if (typeof vendorRaw !== 'string' || !vendors.includes(vendorRaw)) {
      throw new ValidationError('unknown_vendor', `unknown vendor ${String(vendorRaw)}; available: ${vendors.join(', ')}`, { vendor: vendorRaw ?? null })
    }
    const vendor = vendorRaw
    const options = this.#options(optionsRaw)
    // The voice sandbox takes its simulation options (answer delay, manual answering, a fallback): README "Calls".
    if (vendor === 'sandbox' && channel !== 'voice' && Object.keys(options).length > 0) {
      throw new ValidationError('invalid_provider_options', 'the sandbox takes no options')
    }
    await this.#checkUrls(options)
    const problem = this.#catalog.problem(channel, { ...options, provider: vendor })
    if (problem !== undefined) throw new ValidationError('invalid_provider_options', `${vendor} on ${channel}: ${problem}`, { vendor, channel })
    const sealed = encrypt(this.#key, JSON.stringify({ t: tenant.id, c: channel, v: vendor, o: options } satisfies Sealed))
    const row = await this.#repo.upsert(tenant.id, channel, vendor, sealed)
    this.#cache.delete(`${tenant.id}:${channel}`)
    return this.#present(tenant.id, row)
  }

  /** The tenant's provider for a channel (the sandbox when none is set). Throws ValidationError `invalid_channel`. */
  async get(tenant: Pick<Tenant, 'id'>, channelRaw: string): Promise<ProviderSetting> {
    const channel = this.#channel(channelRaw)
    const row = await this.#repo.find(tenant.id, channel)
    return row ? this.#present(tenant.id, row) : sandbox(channel)
  }

  /** Every channel's provider for the tenant, in channel order. */
  async list(tenant: Pick<Tenant, 'id'>): Promise<ProviderSetting[]> {
    const rows = new Map((await this.#repo.list(tenant.id)).map((r) => [r.channel, r]))
    return CHANNELS.map((c) => {
      const row = rows.get(c)
      return row ? this.#present(tenant.id, row) : sandbox(c)
    })
  }

  /** Back to the sandbox for a channel. True when something was set. Throws ValidationError `invalid_channel`. */
  async unset(tenant: Pick<Tenant, 'id'>, channelRaw: string): Promise<boolean> {
    const channel = this.#channel(channelRaw)
    const removed = await this.#repo.delete(tenant.id, channel)
    this.#cache.delete(`${tenant.id}:${channel}`)
    return removed
  }

  /**
   * The decrypted settings the delivery worker hands to the provider registry (undefined: the
   * sandbox). Cached for a few seconds so the send job does not read them per message; a change
   * made in this process applies at once, one made in another within the cache time.
   */
  readonly channelSettings = async (tenantId: TenantId, channel: Channel): Promise<ChannelProviderSettings | undefined> => {
    const key = `${tenantId}:${channel}`
    const hit = this.#cache.get(key)
    const now = Date.now()
    if (hit && now - hit.at < this.#cacheMs) return hit.value
    const row = await this.#repo.find(tenantId, channel)
    const value = row ? { ...this.#open(tenantId, row).o, provider: row.vendor } : undefined
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear()
    this.#cache.set(key, { value, at: now })
    return value
  }

  #open(tenantId: TenantId, row: ProviderSettingsRow): Sealed {
    let sealed: Sealed
    try {
      sealed = JSON.parse(decrypt(this.#key, row.sealed)) as Sealed
    } catch {
      throw new Error(`the ${row.channel} provider settings of tenant ${tenantId} cannot be decrypted (was SWITCHBOARD_SECRET_KEY changed?)`)
    }
    if (sealed.t !== tenantId || sealed.c !== row.channel || sealed.v !== row.vendor) {
      throw new Error(`the ${row.channel} provider settings of tenant ${tenantId} were sealed for another tenant or channel`)
    }
    return sealed
  }

  #present(tenantId: TenantId, row: ProviderSettingsRow): ProviderSetting {
    const sealed = this.#open(tenantId, row)
    return { channel: row.channel as Channel, vendor: row.vendor, configured: true, options: maskOptions(sealed.o), updatedAt: row.updatedAt }
  }

  #channel(raw: string): Channel {
    if (typeof raw !== 'string' || !(CHANNELS as readonly string[]).includes(raw)) {
      throw new ValidationError('invalid_channel', `unknown channel ${String(raw)}; channels: ${CHANNELS.join(', ')}`, { channel: raw ?? null })
    }
    return raw as Channel
  }

  #options(raw: unknown): Record<string, unknown> {
    if (raw === undefined || raw === null) return {}
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('invalid_provider_options', 'options must be an object')
    for (const key of Object.keys(raw)) {
      if (!OPTION_KEY.test(key)) throw new ValidationError('invalid_provider_options', `option names are letters, digits and _ (at most 64), starting with a letter; got "${key.slice(0, 80)}"`)
      if (key === 'provider') throw new ValidationError('invalid_provider_options', 'option "provider" is reserved: name the vendor instead')
    }
    const json = JSON.stringify(raw)
    if (Buffer.byteLength(json) > MAX_OPTIONS_BYTES || json.includes('\\u0000')) {
      throw new ValidationError('invalid_provider_options', `options must be at most ${MAX_OPTIONS_BYTES} bytes of JSON without NUL characters`)
    }
    return JSON.parse(json) as Record<string, unknown>
  }

  /**
   * Every URL in the options, nested ones included (FCM's `serviceAccount.token_uri`, in an object
   * or in a JSON string), held to the outbound URL policy: values of URL-named options, and any
   * string a URL parser reads as http(s) (`http:127.0.0.1:18151` without `//` is one, as `new
   * URL` and so the providers read it). SMTP's `host` is checked as a host.
   */
  async #checkUrls(options: Record<string, unknown>): Promise<void> {
    for (const { path, key, value } of optionStrings(options)) {
      // A server named by host alone (SMTP's `host`) is held to the same policy as a URL's host.
      const isHost = path === key && /^host$/i.test(key)
      if (!isHost && !URL_OPTION.test(key) && !readsAsHttpUrl(value)) continue
      try {
        if (isHost) await checkOutboundHost(value.trim(), this.#policy, this.#resolve)
        else await checkOutboundUrl(value.trim(), this.#policy, this.#resolve)
      } catch (err) {
        if (err instanceof UnsafeUrlError) throw new ValidationError('unsafe_url', `option ${path}: ${isHost ? err.message.replace(/^https:\/\/.*?\/: /, '') : err.message}`, { option: path, reason: err.code })
        throw err
      }
    }
  }
}

/** Whether a URL parser reads `value` as an http(s) URL, or it names another scheme with `//` (refused then). */
function readsAsHttpUrl(value: string): boolean {
  if (/^\s*[a-z][a-z0-9+.-]*:\/\//i.test(value)) return true
  try {
    const protocol = new URL(value).protocol
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

/** Nesting deeper than this is not walked (options are at most 64 KiB of JSON anyway). */
const MAX_OPTION_DEPTH = 8

/**
 * Every string in the options with its dotted path and own key: nested objects and arrays, and
 * strings holding a JSON object or array (a service account pasted as text), are walked.
 */
function optionStrings(options: Record<string, unknown>): Array<{ path: string; key: string; value: string }> {
  const out: Array<{ path: string; key: string; value: string }> = []
  const walk = (value: unknown, path: string, key: string, depth: number) => {
    if (depth > MAX_OPTION_DEPTH) return
    if (typeof value === 'string') {
      const trimmed = value.trim()
      if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
        let parsed: unknown
        try {
          parsed = JSON.parse(trimmed)
        } catch {
          parsed = undefined
        }
        if (parsed !== undefined && typeof parsed === 'object' && parsed !== null) return walk(parsed, path, key, depth + 1)
      }
      out.push({ path, key, value })
      return
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, key, depth + 1))
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, `${path}.${k}`, k, depth + 1)
    }
  }
  for (const [k, v] of Object.entries(options)) walk(v, k, k, 0)
  return out
}

function sandbox(channel: Channel): ProviderSetting {
  return { channel, vendor: 'sandbox', configured: false, options: {}, updatedAt: null }
}
