import { createSandboxProvider, type SandboxOptions } from './sandbox.ts'
import { ProviderError, type Channel, type ChannelProvider } from './types.ts'

/**
 * A tenant's (decrypted) settings for one channel: which vendor, and that vendor's options
 * (account ids, credentials, sender numbers). Absent means the sandbox.
 */
export interface ChannelSettings {
  readonly provider: string
  readonly [option: string]: unknown
}

/** Builds a vendor's provider for a channel from a tenant's settings; throws ProviderError on bad settings. */
export type ProviderFactory = (channel: Channel, settings: ChannelSettings) => ChannelProvider

/** Checks a tenant's settings for a vendor and channel without building it; throws ProviderError when they cannot work. */
export type ProviderValidator = (channel: Channel, settings: ChannelSettings) => void

/**
 * Picks the provider for a channel from a tenant's settings. Only `sandbox` exists now, and it is
 * what a tenant without settings for a channel gets. Real vendors register a factory; settings
 * are read and decrypted by core, so providers never see the database.
 */
export class ProviderRegistry {
  readonly #factories = new Map<string, ProviderFactory>()
  readonly #validators = new Map<string, ProviderValidator>()
  /**
   * Built providers by channel and settings, so that one tenant's messages share a provider's
   * pooled connections and cached auth tokens (an SMTP pool, an HTTP/2 session, an OAuth token)
   * instead of building one per message. Changed settings are a new key; the oldest entry is
   * closed when there are too many.
   */
  readonly #built = new Map<string, ChannelProvider>()
  readonly #sandboxes = new Map<Channel, ChannelProvider>()
  readonly #sandboxOptions: SandboxOptions

  constructor(options: { sandbox?: SandboxOptions } = {}) {
    this.#sandboxOptions = options.sandbox ?? {}
  }

  /**
   * Make a vendor available by name. `validate` checks a tenant's settings without building the
   * provider (throw ProviderError with a message a tenant can act on); without it, `problem`
   * builds the provider once to find out, and closes it.
   */
  register(vendor: string, factory: ProviderFactory, options: { validate?: ProviderValidator } = {}): this {
    if (vendor === 'sandbox') throw new Error('the sandbox provider is built in')
    this.#factories.set(vendor, factory)
    if (options.validate) this.#validators.set(vendor, options.validate)
    return this
  }

  /**
   * Why `settings` cannot make a provider for `channel` (an unknown vendor, a channel the vendor
   * does not serve, missing or bad options), or undefined when they can. Sends nothing. Used when
   * a tenant configures a provider, so the mistake is a 400 then instead of failed messages later.
   */
  problem(channel: Channel, settings: ChannelSettings): string | undefined {
    const vendor = settings.provider
    if (vendor === 'sandbox') return undefined
    const factory = this.#factories.get(vendor)
    if (!factory) return `no provider "${vendor}"`
    try {
      const validate = this.#validators.get(vendor)
      if (validate) validate(channel, settings)
      else void factory(channel, settings).close?.().catch(() => {})
      return undefined
    } catch (err) {
      if (err instanceof ProviderError) return err.message
      throw err
    }
  }

  /** Vendors that can be configured, the sandbox first. */
  vendors(): string[] {
    return ['sandbox', ...this.#factories.keys()]
  }

  /**
   * The provider for `channel` under `settings`. An unknown vendor is a ProviderError that is not
   * retryable: a retry cannot fix configuration.
   */
  resolve<C extends Channel>(channel: C, settings?: ChannelSettings): ChannelProvider<C> {
    const vendor = settings?.provider ?? 'sandbox'
    if (vendor === 'sandbox') {
      let sandbox = this.#sandboxes.get(channel)
      if (!sandbox) {
        sandbox = createSandboxProvider(channel, this.#sandboxOptions) as ChannelProvider
        this.#sandboxes.set(channel, sandbox)
      }
      return sandbox as unknown as ChannelProvider<C>
    }
    const factory = this.#factories.get(vendor)
    if (!factory) throw new ProviderError('unknown_provider', `no provider "${vendor}" for ${channel}`, { retryable: false })
    const key = `${channel}\u0000${stableJson(settings)}`
    let built = this.#built.get(key)
    if (built) {
      // Most recently used last, so eviction drops the longest unused.
      this.#built.delete(key)
    } else {
      built = factory(channel, settings!)
      if (this.#built.size >= MAX_BUILT) {
        const [oldestKey, oldest] = this.#built.entries().next().value!
        this.#built.delete(oldestKey)
        void oldest.close?.().catch(() => {})
      }
    }
    this.#built.set(key, built)
    return built as unknown as ChannelProvider<C>
  }

  /** Close every built provider's connections (at shutdown); later resolves build afresh. */
  async close(): Promise<void> {
    const built = [...this.#built.values()]
    this.#built.clear()
    await Promise.allSettled(built.map((p) => p.close?.()))
  }
}

/** Providers kept built at once (tenants × configured channels of a process). */
const MAX_BUILT = 1000

/** JSON with object keys sorted, so equal settings give one cache key. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
