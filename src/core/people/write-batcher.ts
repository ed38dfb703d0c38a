/**
 * Group commit for single-row writes: concurrent callers' items are written together, one
 * statement (and one commit) for many, with at most `maxInFlight` writes under way. A write takes
 * the first waiting item and every later waiting item of the same group (`groupOf`) that shares no
 * key (`keysOf`) with one already taken, up to `maxBatch`; items that clash wait for a later write.
 * When a write of several items fails, each of them is written again alone, so every caller gets
 * its own answer (its own constraint violation, say) and no item is refused for another's fault.
 */
export interface WriteBatcherOptions<I, O> {
  /** Items of different groups are never written together (say: another tenant, other columns). */
  groupOf(item: I): string
  /** Items sharing a key are never written together (say: the same phone, the same person). */
  keysOf(item: I): string[]
  /** Write the items; answers one result per item, in order. */
  write(items: I[]): Promise<O[]>
  maxBatch: number
  maxInFlight: number
}

interface Waiting<I, O> {
  item: I
  resolve(value: O): void
  reject(err: unknown): void
}

export class WriteBatcher<I, O> {
  readonly #options: WriteBatcherOptions<I, O>
  #waiting: Array<Waiting<I, O>> = []
  #inFlight = 0

  constructor(options: WriteBatcherOptions<I, O>) {
    this.#options = options
  }

  /** Write one item, together with whatever else is waiting. */
  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    const { maxBatch, maxInFlight, groupOf, keysOf } = this.#options
    while (this.#inFlight < maxInFlight && this.#waiting.length > 0) {
      const group = groupOf(this.#waiting[0]!.item)
      const taken: Array<Waiting<I, O>> = []
      const rest: Array<Waiting<I, O>> = []
      const keys = new Set<string>()
      for (const w of this.#waiting) {
        const itemKeys = keysOf(w.item)
        if (taken.length < maxBatch && groupOf(w.item) === group && !itemKeys.some((k) => keys.has(k))) {
          for (const k of itemKeys) keys.add(k)
          taken.push(w)
        } else rest.push(w)
      }
      this.#waiting = rest
      this.#inFlight++
      void this.#write(taken).finally(() => {
        this.#inFlight--
        this.#pump()
      })
    }
  }

  async #write(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const results = await this.#options.write(batch.map((w) => w.item))
      if (results.length !== batch.length) throw new Error(`a batched write answered ${results.length} results for ${batch.length} items`)
      batch.forEach((w, i) => w.resolve(results[i]!))
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err)
        return
      }
      // One item's fault (a unique violation) fails the whole statement: each is tried alone.
      await Promise.all(batch.map((w) => this.#write([w])))
    }
  }
}
