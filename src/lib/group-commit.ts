/**
 * Group commit: concurrent callers that each need a small write are written together, one
 * transaction for many callers instead of one each. Every caller still gets its own answer: when a
 * group's write fails, its items are written again one at a time, so one caller's bad item (an
 * unknown person) never becomes the others' error.
 */

/** How a `GroupCommit` forms and writes its groups. */
export interface GroupCommitOptions<T, R> {
  /**
   * Write a group (one transaction) and answer each item, in order. Items of one group share their
   * `groupKey`, and no two share a member key.
   */
  write(items: readonly T[]): Promise<readonly R[]>
  /** Items with the same key may share a write (one tenant, one content version…). */
  groupKey(item: T): string
  /** At most one item per member key in a group (an idempotency key, a person). */
  memberKey?(item: T): string
  /**
   * Like `memberKey` for an item known by several keys (a person's phone and external id): no two
   * items of a group share any of them. Used together with `memberKey`, both count.
   */
  memberKeys?(item: T): readonly string[]
  /**
   * Hold an item back while another item with its member key is being written, so that it sees
   * that write (a person's next ping replaces the conversation the previous one makes).
   */
  serializeMembers?: boolean
  /** Writes in flight at once; each takes every fitting item waiting when it begins. */
  maxInFlight: number
  /** Items one write takes at most. */
  maxGroup: number
  /**
   * A failure that a single item's write may meet through no fault of its own (a row another
   * process wrote meanwhile): that item's write is tried once more.
   */
  retryAlone?(err: unknown): boolean
}

interface Waiting<T, R> {
  readonly item: T
  readonly group: string
  readonly members: readonly string[]
  resolve(answer: R): void
  reject(err: unknown): void
}

/** Batches concurrent writes into shared transactions (see the module comment). */
export class GroupCommit<T, R> {
  readonly #opts: GroupCommitOptions<T, R>
  #waiting: Array<Waiting<T, R>> = []
  #inFlight = 0
  /** Member keys being written now (with `serializeMembers`). */
  readonly #busy = new Set<string>()

  constructor(options: GroupCommitOptions<T, R>) {
    if (!(options.maxInFlight >= 1) || !(options.maxGroup >= 1)) throw new RangeError('maxInFlight and maxGroup must be at least 1')
    this.#opts = options
  }

  /** Writes in flight now (for tests and metrics). */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Items waiting for a write to take them. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** Write `item` together with whatever else is waiting; resolves with its own answer or rejects with its own error. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, group: this.#opts.groupKey(item), members: this.#membersOf(item), resolve, reject })
      this.#pump()
    })
  }

  #membersOf(item: T): readonly string[] {
    const one = this.#opts.memberKey?.(item)
    const many = this.#opts.memberKeys?.(item) ?? []
    return one === undefined ? many : [one, ...many]
  }

  #pump(): void {
    const serialize = this.#opts.serializeMembers === true
    while (this.#inFlight < this.#opts.maxInFlight) {
      // The first waiting item that may be written now, and every later one that fits its group.
      const head = serialize ? this.#waiting.find((w) => !w.members.some((m) => this.#busy.has(m))) : this.#waiting[0]
      if (!head) return
      const members = new Set<string>()
      const group: Array<Waiting<T, R>> = []
      const rest: Array<Waiting<T, R>> = []
      for (const w of this.#waiting) {
        const fits = group.length < this.#opts.maxGroup && w.group === head.group
          && !w.members.some((m) => members.has(m) || (serialize && this.#busy.has(m)))
        if (fits) {
          for (const m of w.members) members.add(m)
          group.push(w)
        } else rest.push(w)
      }
      this.#waiting = rest
      if (serialize) for (const m of members) this.#busy.add(m)
      this.#inFlight++
      void this.#write(group).finally(() => {
        if (serialize) for (const m of members) this.#busy.delete(m)
        this.#inFlight--
        this.#pump()
      })
    }
  }

  async #write(group: ReadonlyArray<Waiting<T, R>>): Promise<void> {
    const retryAlone = this.#opts.retryAlone ?? (() => false)
    try {
      const answers = await this.#opts.write(group.map((w) => w.item))
      if (answers.length !== group.length) throw new Error(`a group write answered ${answers.length} results for ${group.length} items`)
      group.forEach((w, i) => w.resolve(answers[i]!))
    } catch (err) {
      if (group.length === 1 && !retryAlone(err)) return group[0]!.reject(err)
      // One item's failure must not become the others': each on its own.
      for (const w of group) {
        const alone = () => this.#opts.write([w.item])
        try {
          const [answer] = await alone().catch((e: unknown) => (retryAlone(e) ? alone() : Promise.reject(e)))
          w.resolve(answer!)
        } catch (own) {
          w.reject(own)
        }
      }
    }
  }
}
