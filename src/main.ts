import { readFileSync, writeFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { pino, type Logger } from 'pino'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { migrate } from './db/migrate.ts'
import { openStore, type Store } from './db/store.ts'
import { createMetrics } from './http/metrics.ts'
import { createServices, type Services } from './services.ts'
import { PROVIDER_USAGE, providerCommand } from './cli/provider.ts'
import { NotificationScheduler } from './jobs/notification-scheduler.ts'
import type { IssuedCredentials, Tenant } from './core/tenants/index.ts'
import { parseThreads } from './core/bot/index.ts'

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve                              API + workers + scheduler in one process (default)
  api                                HTTP API only
  worker                             job workers and scheduler only
  migrate                            apply database migrations and exit
  tenant create --name <name> [--json]
                                     create a tenant and print its credentials (shown once)
  tenant list [--json]               list tenants
${PROVIDER_USAGE}
  threads load --tenant <name> <file> [--json]
                                     load a bot thread file (YAML or JSON) as the tenant's new version
  threads check <file>               validate a thread file without loading it

Environment: PORT (8080), HOST (127.0.0.1), DATABASE_URL (PostgreSQL; default: embedded store),
SWITCHBOARD_DATA_DIR (./data), SWITCHBOARD_SECRET_KEY (generated into the data dir), LOG_LEVEL (info).`

function fail(message: string, code = 2): never {
  process.stderr.write(message + '\n')
  process.exit(code)
}

/** The JSON `tenant create --json` prints. */
function credentialsJson(tenant: Tenant, c: IssuedCredentials) {
  return { id: tenant.id, name: tenant.name, cass: c.cass, ccai: c.ccai, courier: c.courier }
}

/** The tenant's web chat page URL (`/embed/1/{company}`), with the demo's look. */
function embedUrl(base: string, tenant: Tenant): string {
  const q = new URLSearchParams({ auth_code: tenant.embedCode, name: 'Tess', color: '228fb1', intro: 'Hello! I am here to help.' })
  return `${base}/embed/1/${encodeURIComponent(tenant.cassClient)}?${q.toString()}`
}

const htmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

function describeCredentials(config: Config, tenant: Tenant, c: IssuedCredentials): string {
  const base = config.publicUrl
  const basic = Buffer.from(`${c.cass.client}:${c.cass.token}`).toString('base64')
  return [
    `Tenant "${tenant.name}" (${tenant.id})`,
    `  Person & bot API (Cass):  client=${c.cass.client}  token=${c.cass.token}`,
    `  Contact-center Apps API:  subdomain=${c.ccai.subdomain}  token=${c.ccai.token}  company_secret=${c.ccai.company_secret}`,
    `  Courier messaging API:    organization_id=${c.courier.organization_id}  api_key=${c.courier.api_key}`,
    '',
    'Try it:',
    `  curl -s -u '${c.cass.client}:${c.cass.token}' -H 'content-type: application/json' \\`,
    `    -d '{"first_name":"Jane","phone":"+14155552671","external_id":"jane-1"}' ${base}/external_person`,
    `  curl -s -H 'Authorization: Basic ${basic}' '${base}/external_person?external_id=jane-1'`,
    '',
    'Web chat (the bot in a browser; add &personId=<person_id> to chat as a known person):',
    `  ${embedUrl(base, tenant)}`,
    '  Popup on any page, one line:',
    `  <script src="${base}/embed/popup.js" data-company="${htmlAttr(tenant.cassClient)}" data-auth-code="${htmlAttr(tenant.embedCode)}" data-name="Tess" async></script>`,
    '',
    `API docs: ${base}/docs`,
  ].join('\n')
}

async function openMigrated(config: Config): Promise<Store> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    await migrate(store.pool)
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}

/** First start: a demo tenant whose credentials are printed and kept in the data dir. */
async function ensureDemoTenant(config: Config, services: Services, log: Logger): Promise<void> {
  if ((await services.tenants.list()).length > 0) return
  const { tenant, credentials } = await services.tenants.create('Demo')
  await loadDemoThreads(services, tenant, log)
  const file = join(config.dataDir, 'demo-tenant.json')
  writeFileSync(file, JSON.stringify(credentialsJson(tenant, credentials), null, 2) + '\n', { mode: 0o600 })
  log.info({ tenantId: tenant.id, file }, 'created the demo tenant')
  process.stdout.write('\n' + describeCredentials(config, tenant, credentials) + `\n(saved to ${file})\n\n`)
}

/** The demo bot content `npm start` loads into the Demo tenant. */
const DEMO_THREADS = fileURLToPath(new URL('../examples/threads/demo.yaml', import.meta.url))

/** First start: the demo tenant gets the demo threads (a failure to load them must not stop the server). */
async function loadDemoThreads(services: Services, tenant: Tenant, log: Logger): Promise<void> {
  try {
    const loaded = await services.threads.load(tenant, readFileSync(DEMO_THREADS, 'utf8'), 'yaml')
    log.info({ tenantId: tenant.id, version: loaded.version, threads: loaded.threads }, 'loaded the demo threads')
  } catch (err) {
    log.warn({ err }, 'could not load the demo threads')
  }
}

async function runServer(config: Config, roles: { api: boolean; worker: boolean }): Promise<void> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime })
  // Signals are handled from the first moment: a stop asked for during start-up waits for the
  // start-up to finish, then shuts down cleanly (never a half-open store or an orphaned lock).
  let stopRequested: string | undefined
  const shutdown: { run?: (signal: string) => Promise<void> } = {}
  const onSignal = (signal: string) => {
    if (shutdown.run) void shutdown.run(signal)
    else stopRequested ??= signal
  }
  process.once('SIGTERM', () => onSignal('SIGTERM'))
  process.once('SIGINT', () => onSignal('SIGINT'))

  const store = await openMigrated(config)
  const services = createServices(config, store, { logger: log.child({ component: 'jobs' }) })
  const metrics = createMetrics()
  await ensureDemoTenant(config, services, log)
  if (roles.worker) {
    // Before the API: it then enqueues through this started queue, and its workers wake at once.
    await services.jobs.start({ supervise: true })
    await services.jobs.work()
  }
  // Check-ins and autopings: firing loops in every worker process (exactly once across processes).
  // On the embedded store a batch holds the only database session, so batches stay small there.
  const embedded = store.kind !== 'postgres'
  const scheduler = roles.worker
    ? new NotificationScheduler({
      fire: (o) => services.firing.fireDue(o), logger: log.child({ component: 'scheduler' }),
      batchSize: config.firingBatch ?? (embedded ? 20 : 200), concurrency: embedded ? 1 : 4,
    })
    : undefined
  scheduler?.start()
  const app = roles.api ? await buildApp({ services, metrics, logger: log }) : undefined
  if (app) {
    await app.listen({ port: config.port, host: config.host })
    log.info({ url: config.publicUrl, store: store.kind }, 'switchboard is listening')
  }
  if (roles.worker) log.info({ store: store.kind }, 'workers and scheduler started')

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down: finishing in-flight requests and jobs')
    const force = setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting')
      process.exit(1)
    }, 30_000)
    force.unref()
    try {
      if (app) await app.close()
      log.info('http server closed')
      // A firing batch in flight commits or rolls back whole; then no new one starts.
      await scheduler?.stop()
      // Jobs in flight finish (or, past the deadline, are failed to be retried) before the store closes.
      await services.jobs.stop({ timeoutMs: 20_000 })
      log.info('job workers stopped')
      // Pooled vendor connections (SMTP, HTTP/2 to APNs) close once no job can use them.
      await services.providers.close()
      await store.close()
      log.info('stopped')
      process.exit(0)
    } catch (err) {
      log.error({ err }, 'error while shutting down')
      process.exit(1)
    }
  }
  shutdown.run = stop
  if (stopRequested) await stop(stopRequested)
}

function threadsFormat(file: string): 'yaml' | 'json' {
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml'
}

function readThreadsFile(file: string | undefined): string {
  if (!file) fail('threads: a thread file is required')
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    return fail(`threads: cannot read ${file}: ${(err as Error).message}`)
  }
}

/** Print a thread file's problems, one per line, and exit 1. */
function failThreads(err: unknown): never {
  const e = err as { code?: string; details?: { errors?: string[] } }
  if (e.code === 'invalid_threads') fail(['threads: the file is not valid:', ...(e.details?.errors ?? []).map((x) => `  ${x}`)].join('\n'), 1)
  throw err
}

async function threadsCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  const file = positionals[0]
  if (sub === 'check') {
    const source = readThreadsFile(file)
    try {
      const doc = parseThreads(source, threadsFormat(file!))
      process.stdout.write(`${file}: valid (${Object.keys(doc.threads).length} threads)\n`)
    } catch (err) {
      failThreads(err)
    }
    return
  }
  if (sub !== 'load') fail(`threads: unknown subcommand "${sub ?? ''}"\n\n${USAGE}`)
  if (!values.tenant) fail('threads load: --tenant <name> is required')
  const source = readThreadsFile(file)
  const store = await openMigrated(config)
  try {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) fail(`threads load: no tenant named "${values.tenant}"`, 1)
    const loaded = await services.threads.load(tenant, source, threadsFormat(file!)).catch(failThreads)
    process.stdout.write(values.json
      ? JSON.stringify({ tenant: tenant.name, version: loaded.version, threads: loaded.threads }) + '\n'
      : `Loaded ${loaded.threads.length} threads into "${tenant.name}" as version ${loaded.version}: ${loaded.threads.join(', ')}\n`)
  } finally {
    await store.close()
  }
}

async function tenantCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args
  const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true })
  const store = await openMigrated(config)
  try {
    const services = createServices(config, store)
    if (sub === 'create') {
      if (!values.name) fail('tenant create: --name <name> is required')
      const { tenant, credentials } = await services.tenants.create(values.name)
      process.stdout.write(values.json ? JSON.stringify(credentialsJson(tenant, credentials)) + '\n' : describeCredentials(config, tenant, credentials) + '\n')
    } else if (sub === 'list') {
      const tenants = await services.tenants.list()
      if (values.json) process.stdout.write(JSON.stringify(tenants.map((t) => ({ id: t.id, name: t.name, cass_client: t.cassClient, created_at: t.createdAt }))) + '\n')
      else for (const t of tenants) process.stdout.write(`${t.id}  ${t.cassClient.padEnd(24)}  ${t.name}\n`)
    } else {
      fail(`tenant: unknown subcommand "${sub ?? ''}"\n\n${USAGE}`)
    }
  } finally {
    await store.close()
  }
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...args] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n')
    return
  }
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
  switch (command) {
    case 'serve': return runServer(config, { api: true, worker: true })
    case 'api': return runServer(config, { api: true, worker: false })
    case 'worker': return runServer(config, { api: false, worker: true })
    case 'migrate': {
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
      try {
        const result = await migrate(store.pool)
        process.stdout.write(`migrations: ${result.applied.length} applied, ${result.total} in all\n`)
      } finally {
        await store.close()
      }
      return
    }
    case 'tenant': return tenantCommand(config, args)
    case 'provider': {
      const store = await openMigrated(config)
      try {
        await providerCommand(createServices(config, store), args, (text) => process.stdout.write(text + '\n'))
      } finally {
        await store.close()
      }
      return
    }
    case 'threads': return threadsCommand(config, args)
    default: fail(`unknown command "${command}"\n\n${USAGE}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string }
  if (e.code === 'EADDRINUSE') fail(`cannot listen: ${e.message}`, 1)
  if (err instanceof Error && err.name === 'AppError') fail(err.message, 1)
  process.stderr.write(`switchboard: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
