import type { Notifier } from '../db/notifier.ts'

/** How often subscribers look anyway while notifications may be missed (no listening connection). */
const UNHEALTHY_POLL_MS = 2_000
/** A safety net even when notifications flow. */
const HEALTHY_POLL_MS = 30_000

/** Something to wake when what it follows (a person's web chat, an agent's events) may have changed. */
export interface LiveSubscriber {
  readonly key: string
  poke(): void
}

/**
 * This process's listeners of one notification channel, by key (`<tenant id>:<person id>` for the
 * web chat, `<tenant id>:<agent id>` for agents). One LISTEN per process (on the first
 * subscription) fans out in-process; a notification carries ids only, and each subscriber reads
 * what is new itself. When notifications may have been missed (the listening
 * connection was lost, or this process borrows another's embedded store) every subscriber looks
 * again, and keeps polling until notifications are trusted again.
 */
export class LiveChannel {
  readonly #notifier: Notifier
  readonly #channel: string
  readonly #subscribers = new Map<string, Set<LiveSubscriber>>()
  #listening: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #lastPoll = 0

  constructor(notifier: Notifier, channel: string) {
    this.#notifier = notifier
    this.#channel = channel
    notifier.onReset(() => this.#pokeAll())
  }

  /** Start delivering pokes to `sub` (for its `key`, `<tenant id>:<person id>`). */
  async add(sub: LiveSubscriber): Promise<void> {
    const set = this.#subscribers.get(sub.key) ?? new Set()
    set.add(sub)
    this.#subscribers.set(sub.key, set)
    this.#listening ??= this.#listen()
    await this.#listening
    this.#timer ??= setInterval(() => this.#tick(), 1_000).unref()
  }

  remove(sub: LiveSubscriber): void {
    const set = this.#subscribers.get(sub.key)
    if (!set) return
    set.delete(sub)
    if (set.size === 0) this.#subscribers.delete(sub.key)
    if (this.#subscribers.size === 0 && this.#timer) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** Subscribers in this process. */
  get size(): number {
    let n = 0
    for (const set of this.#subscribers.values()) n += set.size
    return n
  }

  async #listen(): Promise<void> {
    try {
      await this.#notifier.listen(this.#channel, (payload) => {
        // One key, or several comma-separated (a statement that touched many announces them together).
        for (const key of payload.split(',')) for (const sub of this.#subscribers.get(key) ?? []) sub.poke()
      })
    } catch {
      // Not listening: the poll below keeps subscribers up to date.
      this.#listening = undefined
    }
  }

  #tick() {
    const every = this.#notifier.healthy && this.#listening ? HEALTHY_POLL_MS : UNHEALTHY_POLL_MS
    if (Date.now() - this.#lastPoll < every) return
    this.#lastPoll = Date.now()
    if (!this.#listening) this.#listening = this.#listen()
    this.#pokeAll()
  }

  #pokeAll() {
    for (const set of this.#subscribers.values()) for (const sub of set) sub.poke()
  }
}
