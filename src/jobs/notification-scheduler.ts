import type { FireStats } from '../core/scheduling/index.ts'
import type { JobsLogger } from './types.ts'

/** Options of the firing loops of one worker process. */
export interface NotificationSchedulerOptions {
  /** Fires up to `limit` due notifications in one transaction (`NotificationFiring.fireDue`). */
  fire(opts: { limit: number }): Promise<FireStats>
  /** Rows per transaction. Default 50. */
  batchSize?: number
  /** Loops in this process, each with its own transaction. Default 2. */
  concurrency?: number
  /** How often an idle loop looks for due notifications, ms. Default 1000. */
  pollMs?: number
  logger?: JobsLogger
}

/** Counts of what a process's loops did (FireStats summed, without `claimed`). */
export interface SchedulerTotals { started: number; queued: number; cancelled: number; failed: number; retried: number }

const silent: JobsLogger = { info() {}, warn() {}, error() {}, debug() {} }

/**
 * The check-in and autoping scheduler of a worker process: a few loops that each fire a batch of due
 * notifications, go again at once while batches come back full, and otherwise sleep `pollMs`
 * (jittered, so the loops of many processes spread out). Any number of processes run it against one
 * database; `fireDue`'s SKIP LOCKED claims keep them on disjoint rows, and its one transaction per
 * batch makes every notification fire exactly once, also across crashes. So a notification fires
 * at most about `pollMs` after it is due while the workers keep up.
 */
export class NotificationScheduler {
  readonly #o: Required<Omit<NotificationSchedulerOptions, 'logger'>> & { logger: JobsLogger }
  #running = false
  #loops: Promise<void>[] = []
  readonly #sleepers = new Set<() => void>()
  #totals: SchedulerTotals = { started: 0, queued: 0, cancelled: 0, failed: 0, retried: 0 }

  constructor(options: NotificationSchedulerOptions) {
    this.#o = { batchSize: 50, concurrency: 2, pollMs: 1000, logger: silent, ...options }
  }

  /** What the loops of this process did since start. */
  get totals(): Readonly<SchedulerTotals> {
    return { ...this.#totals }
  }

  /** Start the loops (idempotent). */
  start(): void {
    if (this.#running) return
    this.#running = true
    for (let i = 0; i < this.#o.concurrency; i++) this.#loops.push(this.#loop())
  }

  /** Look for due notifications now instead of at the next poll. */
  wake(): void {
    for (const wake of this.#sleepers) wake()
  }

  /** Stop: no new batch begins; a batch in flight finishes (it commits or rolls back whole). */
  async stop(): Promise<void> {
    this.#running = false
    this.wake()
    await Promise.all(this.#loops)
    this.#loops = []
  }

  async #loop(): Promise<void> {
    let failures = 0
    while (this.#running) {
      let full = false
      try {
        const stats = await this.#o.fire({ limit: this.#o.batchSize })
        failures = 0
        full = stats.claimed >= this.#o.batchSize
        for (const k of ['started', 'queued', 'cancelled', 'failed', 'retried'] as const) this.#totals[k] += stats[k]
        if (stats.failed > 0) this.#o.logger.warn({ stats }, 'scheduled notifications failed to fire (see scheduled_notifications.last_error)')
        else if (stats.claimed > 0) this.#o.logger.debug({ stats }, 'fired scheduled notifications')
      } catch (err) {
        failures++
        this.#o.logger.error({ err }, 'firing scheduled notifications failed; the batch was rolled back and will be tried again')
      }
      if (full || !this.#running) continue
      // Idle (or failing: back off up to 30 s) until the next look.
      const base = failures > 0 ? Math.min(30_000, this.#o.pollMs * 2 ** failures) : this.#o.pollMs
      await this.#sleep(base * (0.75 + Math.random() * 0.5))
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#sleepers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#sleepers.add(done)
    })
  }
}
