import type { FastifyInstance } from 'fastify'
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
 */
export async function startTestApp(options: { listen?: boolean; isolated?: boolean; port?: number; config?: Record<string, string>; services?: CreateServicesOptions } = {}): Promise<TestApp> {
  const store = await openTestStore({ isolated: options.isolated ?? false })
  const config = testConfig(options.config)
  const services = createServices(config, store, options.services)
  const app = await buildApp({ services, metrics: createMetrics(), logger: false })
  let url = ''
  if (options.listen) url = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  else await app.ready()
  return {
    app, services, store, config, url,
    async close() {
      await app.close()
      await services.providers.close()
      await store.close()
    },
  }
}
