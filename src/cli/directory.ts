import { createReadStream, readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { DirectoryImportResult, DirectorySource } from '../core/messaging/index.ts'
import { createServices, type Services } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'
import type { Tenant } from '../core/tenants/index.ts'

/** The usage lines of `switchboard directory`. */
export const DIRECTORY_USAGE = `  directory import --tenant <name> <file> [--json]
                                     import the messaging directory (YAML, JSON, or CSV of individuals)
  directory user-token --tenant <name> --email <e> [--json]
                                     issue a user token for a care-team member (the old one stops working)`

/** The tenant by name or Cass client name; exit 1 when there is none. */
async function tenantNamed(services: Services, name: string, what: string): Promise<Tenant> {
  const tenant = (await services.tenants.findByName(name)) ?? (await services.tenants.list()).find((t) => t.cassClient === name)
  if (!tenant) fail(`${what}: no tenant named "${name}"`, 1)
  return tenant
}

/** A directory file as the import reads it: CSV streamed (counting bytes for the progress bar), the rest whole. */
function sourceOf(file: string, onBytes: (n: number) => void): DirectorySource {
  const ext = extname(file).toLowerCase()
  try {
    if (ext === '.csv') {
      statSync(file)
      // Read only when the import pulls (a 'data' listener would start the flow before it does).
      const chunks = async function* () {
        for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
          onBytes(chunk.length)
          yield chunk
        }
      }
      return { format: 'csv', chunks: chunks() }
    }
    return { format: ext === '.json' ? 'json' : 'yaml', text: readFileSync(file, 'utf8') }
  } catch (err) {
    return fail(`directory import: cannot read ${file}: ${(err as Error).message}`)
  }
}

/**
 * A full collection every `everyRows` imported rows. A streamed import keeps little alive, but V8
 * grows its heap lazily and an import of 100,000 rows left ~170 MB of garbage uncollected on top of
 * the app, so peak RSS went past 300 MB; collecting as the batches go keeps it flat (each
 * collection takes tens of milliseconds, a few per 100,000 rows). Asked of V8 here, for this
 * command only, rather than by a flag on every `switchboard` process.
 */
export function collectorEvery(everyRows: number): (rows: number) => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (() => void) | undefined
  let next = everyRows
  return (rows) => {
    if (rows < next || !gc) return
    next = rows + everyRows
    gc()
  }
}

/** A one-line progress bar redrawn in place (only on a terminal). */
function progressBar(io: CliIo, total: number | undefined): { update: (rows: number, bytes: number) => void; end: () => void } {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true
  let last = 0
  return {
    update: (rows, bytes) => {
      if (!tty || Date.now() - last < 100) return
      last = Date.now()
      const share = total ? Math.min(1, bytes / total) : undefined
      const bar = share === undefined ? '' : `[${'#'.repeat(Math.round(share * 30)).padEnd(30, '.')}] ${Math.floor(share * 100)}% `
      io.stderr.write(`\r${bar}${rows} individuals`)
    },
    end: () => {
      if (tty && last > 0) io.stderr.write('\n')
    },
  }
}

const line = (kind: string, c: DirectoryImportResult['individuals']) => `  ${kind.padEnd(14)} ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`

/** `switchboard directory import|user-token`. */
export async function directoryCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest, options: { tenant: { type: 'string' }, email: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true,
  })
  if (sub !== 'import' && sub !== 'user-token') fail(`directory: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (!values.tenant) fail(`directory ${sub}: --tenant <name> is required`)
  if (sub === 'user-token') {
    if (!values.email) fail('directory user-token: --email <e> is required')
    await withStore(config, io, async (store) => {
      const services = createServices(config, store)
      const tenant = await tenantNamed(services, values.tenant!, 'directory user-token')
      const issued = await services.directory.issueUserToken(tenant, values.email!).catch((err: { code?: string }) => {
        if (err.code === 'resource_not_found') fail(`directory user-token: no user with email "${values.email}" in "${tenant.name}"`, 1)
        throw err
      })
      io.stdout.write(values.json ? JSON.stringify({ tenant: tenant.name, user_id: issued.userId, user_token: issued.token }) + '\n' : `${issued.token}\n`)
    })
    return
  }
  const file = positionals[0]
  if (!file) fail('directory import: a directory file is required')
  let bytes = 0
  const source = sourceOf(file, (n) => (bytes += n))
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = await tenantNamed(services, values.tenant!, 'directory import')
    const bar = progressBar(io, source.format === 'csv' ? statSync(file).size : undefined)
    const collect = collectorEvery(5_000)
    let result: DirectoryImportResult
    try {
      result = await services.directory.import(tenant, source, (p) => {
        bar.update(p.individuals, bytes)
        collect(p.individuals)
      })
    } catch (err) {
      bar.end()
      const e = err as { code?: string; details?: { errors?: string[] } }
      if (e.code === 'invalid_directory') fail(['directory import: the file is not valid, nothing was imported:', ...(e.details?.errors ?? []).map((x) => `  ${x}`)].join('\n'), 1)
      throw err
    }
    bar.end()
    io.stdout.write(values.json
      ? JSON.stringify({ tenant: tenant.name, ...result }) + '\n'
      : [`Imported ${file} into "${tenant.name}":`, line('organizations', result.organizations), line('individuals', result.individuals), line('users', result.users), line('groups', result.groups)].join('\n') + '\n')
  })
}
