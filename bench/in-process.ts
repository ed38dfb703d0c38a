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
import { createServices, type Services } from '../src/services.ts'
import { ROOT } from './children.ts'

export interface BenchApp {
  readonly services: Services
  readonly store: Store
  readonly app: FastifyInstance
  /** What `tenant create --json` printed for the tenant "Bench". */
  readonly created: { id: string; ccai: { subdomain: string; token: string } }
}

/** Run `body` against a fresh database and app; `jobs`: start this process's job workers too. */
export async function withBenchApp<T>(name: string, baseUrl: string, body: (b: BenchApp) => Promise<T>, options: { jobs?: boolean } = {}): Promise<T> {
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
    const services = createServices(config, store)
    const app = await buildApp({ services, metrics: createMetrics(), logger: false })
    await app.ready()
    if (options.jobs) await services.jobs.work({ pollingIntervalSeconds: 0.5 })
    try {
      return await body({ services, store, app, created })
    } finally {
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
