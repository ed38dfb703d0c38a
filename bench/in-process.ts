// An in-process Switchboard on a fresh PostgreSQL database, for the benches that measure inside one
// process (bench/dnc.ts, bench/voice.ts): the database `sb_<name>_bench_<pid>` is created, a tenant
// "Bench" made by the real CLI, the app built on it (app.inject), and everything closed and the
// database dropped afterwards, also on failure.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openStore, type Store } from '../src/db/store.ts'
import { createMetrics } from '../src/http/metrics.ts'
import { createServices, type CreateServicesOptions, type Services } from '../src/services.ts'
import { ROOT } from './children.ts'

export interface BenchApp {
  readonly services: Services
  readonly store: Store
  readonly app: FastifyInstance
  /** What `tenant create --json` printed for the tenant "Bench". */
  readonly created: { id: string; ccai: { subdomain: string; token: string }; cass: { client: string; token: string } }
  /** The bench database's URL and the environment the app was configured from (to open more workers on it). */
  readonly databaseUrl: string
  readonly env: NodeJS.ProcessEnv
}

export interface BenchAppOptions {
  /** Start this process's job workers too. */
  readonly jobs?: boolean
  /** The workers' polling interval in seconds (0.5; `switchboard worker` polls every 2). */
  readonly pollingIntervalSeconds?: number
  /** Also run what a `switchboard worker` runs besides jobs: the routing and chat sweepers. */
  readonly sweepers?: boolean
  /** Options of the services (e.g. the dialer's round). */
  readonly services?: CreateServicesOptions
}

/** Run `body` against a fresh database and app; `jobs`: start this process's job workers too. */
export async function withBenchApp<T>(name: string, baseUrl: string, body: (b: BenchApp) => Promise<T>, options: BenchAppOptions = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `sb-${name}-bench-`))
  const dbName = `sb_${name}_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const url = new URL(baseUrl)
  url.pathname = `/${dbName}`
  try {
    const env = { ...process.env, DATABASE_URL: url.toString(), SWITCHBOARD_DATA_DIR: dir, LOG_LEVEL: 'silent' }
    const created = JSON.parse(execFileSync('node', ['src/main.ts', 'tenant', 'create', '--name', 'Bench', '--json'], { cwd: ROOT, env, encoding: 'utf8' })) as BenchApp['created']
    const config = loadConfig(env)
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
    const services = createServices(config, store, options.services)
    const app = await buildApp({ services, metrics: createMetrics(), logger: false })
    await app.ready()
    if (options.jobs) await services.jobs.work({ pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5 })
    if (options.sweepers) {
      services.routing.startSweeper()
      services.chats.startSweeper()
    }
    try {
      return await body({ services, store, app, created, databaseUrl: url.toString(), env })
    } finally {
      if (options.sweepers) {
        services.routing.stopSweeper()
        services.chats.stopSweeper()
      }
      if (options.jobs) await services.jobs.stop({ timeoutMs: 5_000 })
      await app.close()
      await services.providers.close()
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.end()
  }
}

/**
 * Another job-worker instance on the bench database, as a second `switchboard worker` would be: its
 * own store (connection pool), services and job workers in this process. `close` stops it.
 */
export async function openWorker(env: NodeJS.ProcessEnv, options: { pollingIntervalSeconds?: number; services?: CreateServicesOptions } = {}): Promise<{ services: Services; close: () => Promise<void> }> {
  const config = loadConfig(env)
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const services = createServices(config, store, options.services)
  await services.jobs.work({ pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5 })
  return {
    services,
    close: async () => {
      await services.jobs.stop({ timeoutMs: 5_000 })
      await services.providers.close()
      await store.close()
    },
  }
}
