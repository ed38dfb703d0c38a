import type { Person } from './people.types.ts'

/** How long an entry may serve without a change notification, as a safety net. */
const TTL_MS = 60_000
const MAX_ENTRIES = 50_000

interface Entry {
  person: Person
  at: number
}

/** What the cache needs from the store's cross-process events. */
export interface ChangeFeed {
  readonly healthy: boolean
}

/**
 * Read-through cache of people by Cass id (UUID and legacy id), for the hottest read of the person
 * API. Correctness rests on change notifications: the database announces every update or delete
 * of a person on commit (migration 0003), every process drops that person on hearing it, and a
 * process that changes a person drops it at once. A read that overlapped a change is not cached
 * (the generation check), and nothing is cached or served while notifications may be missed.
 */
export class PersonCache {
  readonly #feed: ChangeFeed
  readonly #byKey = new Map<string, Entry>()
  readonly #keysByPerson = new Map<string, string[]>()
  #generation = 0

  constructor(feed: ChangeFeed) {
    this.#feed = feed
  }

  /** The generation to pass back to `put` after reading from the database. */
  get generation(): number {
    return this.#generation
  }

  get(key: string): Person | undefined {
    if (!this.#feed.healthy) return undefined
    const entry = this.#byKey.get(key)
    if (!entry) return undefined
    if (Date.now() - entry.at > TTL_MS) {
      this.invalidate(entry.person.id)
      return undefined
    }
    return entry.person
  }

  /** Remember `person` under its ids, unless anything changed since `generation` was read. */
  put(person: Person, generation: number): void {
    if (!this.#feed.healthy || generation !== this.#generation) return
    if (this.#byKey.size >= MAX_ENTRIES) this.clear()
    const entry = { person, at: Date.now() }
    const keys = [person.cassId, person.legacyId].filter((k) => k !== '')
    for (const k of keys) this.#byKey.set(k, entry)
    this.#keysByPerson.set(person.id, keys)
  }

  /** Drop one person (by core id). */
  invalidate(personId: string): void {
    this.#generation++
    const keys = this.#keysByPerson.get(personId)
    if (!keys) return
    for (const k of keys) this.#byKey.delete(k)
    this.#keysByPerson.delete(personId)
  }

  /** Drop everything: notifications may have been missed. */
  clear(): void {
    this.#generation++
    this.#byKey.clear()
    this.#keysByPerson.clear()
  }
}
