import { RateLimitedError } from '../core/errors.ts'

/**
 * A fixed-window request counter per key, in this process (a public endpoint's abuse guard; with
 * several API processes each counts its own share). Memory stays bounded: windows are dropped as
 * they end, and at most `maxKeys` keys are tracked (beyond that, the oldest window is forgotten).
 */
export class RateLimiter {
  readonly #limit: number
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #windows = new Map<string, { count: number; resetAt: number }>()

  constructor(limit: number, windowMs: number, maxKeys = 50_000) {
    this.#limit = limit
    this.#windowMs = windowMs
    this.#maxKeys = maxKeys
  }

  /** Count one request for `key`: undefined when allowed, else the seconds until the window ends. `limit` overrides the limiter's own (a per-tenant limit). */
  hit(key: string, now = Date.now(), limit = this.#limit): number | undefined {
    let w = this.#windows.get(key)
    if (!w || w.resetAt <= now) {
      this.#windows.delete(key)
      if (this.#windows.size >= this.#maxKeys) this.#prune(now)
      w = { count: 0, resetAt: now + this.#windowMs }
      this.#windows.set(key, w)
    }
    w.count++
    return w.count > limit ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : undefined
  }

  /** Count one request for `key` and throw RateLimitedError (details: `retryAfter` seconds) when over the limit. */
  take(key: string, now = Date.now(), limit = this.#limit): void {
    const retry = this.hit(key, now, limit)
    if (retry !== undefined) throw new RateLimitedError('rate_limited', 'too many requests', { retryAfter: retry })
  }

  #prune(now: number) {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k)
    // Insertion order: the first keys are the oldest windows.
    while (this.#windows.size >= this.#maxKeys) this.#windows.delete(this.#windows.keys().next().value!)
  }
}
