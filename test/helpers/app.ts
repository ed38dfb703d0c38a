import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { buildApp } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { Store } from '../../src/db/store.ts'
import { createMetrics } from '../../src/http/metrics.ts'
import { createServices, type CreateServicesOptions, type Services } from '../../src/services.ts'
import { openTestStore } from './store.ts'

export interface TestApp {
  app: FastifyInstance
  services: Services
  store: Store
  config: Config
  /** Base URL when started with `listen: true`. */
  url: string
  close(): Promise<void>
}

/** A test configuration: a fixed secret key, no data dir writes, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    SWITCHBOARD_SECRET_KEY: '0'.repeat(64),
    SWITCHBOARD_DATA_DIR: '/nonexistent',
    LOG_LEVEL: 'silent',
    ...overrides,
  })
}

/**
 * The whole app over a fresh test store; `listen` also binds it to a loopback port (`port`, default
 * any); `isolated` gives it a database of its own on PostgreSQL too (see openTestStore). `config`
 * overrides environment variables, `services` options of `createServices`.
 *
 * `workers` also runs the job workers, as `serve` does, on a pg-boss schema of this app's own
 * (dropped on close): files share one database, and a worker of another file, with that file's
 * configuration (its allowed URL hosts, retry policy, provider settings), must never take this
 * file's jobs. `workers: 'later'` gives the app its schema but leaves starting the workers
 * (`services.jobs.work`) to the test.
 */
export async function startTestApp(options: { listen?: boolean; isolated?: boolean; port?: number; config?: Record<string, string>; services?: CreateServicesOptions; workers?: boolean | 'later' } = {}): Promise<TestApp> {
  const store = await openTestStore({ isolated: options.isolated ?? false })
  const config = testConfig(options.config)
  const ownSchema = options.workers && !options.services?.jobs?.schema ? `pgboss_t_${randomUUID().slice(0, 8)}` : undefined
  const services = createServices(config, store, ownSchema ? { ...options.services, jobs: { ...options.services?.jobs, schema: ownSchema } } : options.services)
  const app = await buildApp({ services, metrics: createMetrics(), logger: false })
  let url = ''
  if (options.listen) url = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  else await app.ready()
  if (options.workers === true) await services.jobs.work({ pollingIntervalSeconds: 0.5 })
  return {
    app, services, store, config, url,
    async close() {
      const closing = Date.now()
      // Workers first, with a short limit: a job still running after 5 s is failed (and retried by
      // nobody, the schema goes), instead of holding the file's teardown for a minute.
      await services.jobs.stop({ timeoutMs: 5_000 })
      await app.close()
      if (Date.now() - closing > 10_000) console.warn(`test app: app.close() took ${Date.now() - closing} ms (jobs in flight at stop?)`)
      await services.providers.close()
      if (ownSchema) {
        // A lock still held on the schema must not hang the file's teardown: give up after 10 s and
        // leave it (the run's database is dropped at the end anyway; PGlite's is in memory).
        await store.db.transaction().execute(async (trx) => {
          await sql`SET LOCAL lock_timeout = '10s'`.execute(trx)
          await sql`DROP SCHEMA IF EXISTS ${sql.id(ownSchema)} CASCADE`.execute(trx)
        }).catch((err: unknown) => console.warn(`test app: could not drop ${ownSchema}: ${(err as Error).message}`))
      }
      await store.close()
    },
  }
}
