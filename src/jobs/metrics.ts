import { Gauge, type Registry } from 'prom-client'
import type { JobQueue } from './queue.ts'

/**
 * `switchboard_jobs{queue,state}`: jobs in the queue's table by state, counted at scrape time so
 * the numbers are current and nothing polls the database between scrapes.
 */
export function registerJobMetrics(registry: Registry, jobs: Pick<JobQueue, 'counts'>): void {
  new Gauge({
    name: 'switchboard_jobs',
    help: 'Jobs by queue and state (created, retry, active, completed, cancelled, failed), counted at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      // Reset first: a state that emptied since the last scrape must not keep its old count.
      this.reset()
      for (const row of await jobs.counts()) this.set({ queue: row.queue, state: row.state }, row.count)
    },
  })
}
