import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseArgs } from 'node:util'
import { parseThreads } from '../core/bot/index.ts'
import { createServices } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard threads`. */
export const THREADS_USAGE = `  threads load --tenant <name> <file> [--json]
                                     load a bot thread file (YAML or JSON) as the tenant's new version
  threads check <file>               validate a thread file without loading it`

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

/** A thread file's problems, one per line, exit 1. */
function failThreads(err: unknown): never {
  const e = err as { code?: string; details?: { errors?: string[] } }
  if (e.code === 'invalid_threads') fail(['threads: the file is not valid:', ...(e.details?.errors ?? []).map((x) => `  ${x}`)].join('\n'), 1)
  throw err
}

/** `switchboard threads load|check`. */
export async function threadsCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  const file = positionals[0]
  if (sub === 'check') {
    const source = readThreadsFile(file)
    try {
      const doc = parseThreads(source, threadsFormat(file!))
      io.stdout.write(`${file}: valid (${Object.keys(doc.threads).length} threads)\n`)
    } catch (err) {
      failThreads(err)
    }
    return
  }
  if (sub !== 'load') fail(`threads: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (!values.tenant) fail('threads load: --tenant <name> is required')
  const source = readThreadsFile(file)
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) fail(`threads load: no tenant named "${values.tenant}"`, 1)
    const loaded = await services.threads.load(tenant, source, threadsFormat(file!)).catch(failThreads)
    io.stdout.write(values.json
      ? JSON.stringify({ tenant: tenant.name, version: loaded.version, threads: loaded.threads }) + '\n'
      : `Loaded ${loaded.threads.length} threads into "${tenant.name}" as version ${loaded.version}: ${loaded.threads.join(', ')}\n`)
  })
}
