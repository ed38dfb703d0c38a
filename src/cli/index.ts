import { openStore, type Store } from '../db/store.ts'
import { createServices } from '../services.ts'
import { CONTACT_CENTER_USAGE, contactCenterCommand } from './contact-center.ts'
import { CliExit, configFrom, fail, migrateAll, withStore, type CliIo } from './io.ts'
import { PROVIDER_USAGE, providerCommand } from './provider.ts'
import { serveCommand } from './serve.ts'
import { TENANT_USAGE, tenantCommand } from './tenant.ts'
import { THREADS_USAGE, threadsCommand } from './threads.ts'
import { DIRECTORY_USAGE, directoryCommand } from './directory.ts'
import { PURGE_USAGE, purgeCommand } from './purge.ts'
import { CONSOLE_USAGE, consoleCommand } from './console.ts'
import { TEMPLATES_USAGE, templatesCommand } from './templates.ts'

export type { CliIo } from './io.ts'

/** `switchboard --help`. */
export const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve                              API + workers + scheduler in one process (default)
  api                                HTTP API only
  worker                             job workers and scheduler only
  migrate                            apply database migrations and exit
${TENANT_USAGE}
${PROVIDER_USAGE}
${THREADS_USAGE}
${CONTACT_CENTER_USAGE}
${DIRECTORY_USAGE}
${PURGE_USAGE}
${CONSOLE_USAGE}
${TEMPLATES_USAGE}

Environment: PORT (8080), HOST (127.0.0.1), DATABASE_URL (PostgreSQL; default: embedded store),
SWITCHBOARD_DATA_DIR (./data), SWITCHBOARD_SECRET_KEY (generated into the data dir), LOG_LEVEL (info).`

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [command = 'serve', ...args] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE + '\n')
    return 0
  }
  const config = configFrom(io)
  switch (command) {
    case 'serve': return serveCommand(config, { api: true, worker: true }, io)
    case 'api': return serveCommand(config, { api: true, worker: false }, io)
    case 'worker': return serveCommand(config, { api: false, worker: true }, io)
    case 'migrate': {
      const run = async (store: Store) => {
        const result = await migrateAll(store, config.secretKey)
        io.stdout.write(`migrations: ${result.applied.length} applied, ${result.total} in all\n`)
        if (result.redactedSetupVersions > 0) io.stdout.write(`contact-center setup versions: ${result.redactedSetupVersions} rewritten without clear secrets\n`)
      }
      if (io.store) {
        await run(io.store)
        return 0
      }
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
      try {
        await run(store)
      } finally {
        await store.close()
      }
      return 0
    }
    case 'tenant':
      await tenantCommand(config, args, io, USAGE)
      return 0
    case 'provider':
      await withStore(config, io, (store) => providerCommand(createServices(config, store), args, (text) => io.stdout.write(text + '\n')))
      return 0
    case 'threads':
      await threadsCommand(config, args, io, USAGE)
      return 0
    case 'contact-center':
      await contactCenterCommand(config, args, io, USAGE)
      return 0
    case 'directory':
      await directoryCommand(config, args, io, USAGE)
      return 0
    case 'purge':
      await purgeCommand(config, args, io, USAGE)
      return 0
    case 'console':
      await consoleCommand(config, args, io, USAGE)
      return 0
    case 'templates':
      await templatesCommand(config, args, io, USAGE)
      return 0
    default: return fail(`unknown command "${command}"\n\n${USAGE}`)
  }
}

/**
 * The whole CLI in-process: runs `argv` (without `node main.ts`) writing to `io.stdout`/`io.stderr`
 * and resolves with the exit code (0 ok, 1 a refused operation, 2 bad usage or configuration).
 * Nothing in it exits the process; `src/main.ts` does that with the code.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (err) {
    if (err instanceof CliExit) {
      io.stderr.write(err.message + '\n')
      return err.exitCode
    }
    const e = err as Error & { code?: string }
    if (e instanceof Error && e.name === 'AppError') {
      io.stderr.write(e.message + '\n')
      return 1
    }
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS_')) {
      io.stderr.write(`${e.message}\n\n${USAGE}\n`)
      return 2
    }
    io.stderr.write(`switchboard: ${e.stack ?? String(err)}\n`)
    return 1
  }
}
