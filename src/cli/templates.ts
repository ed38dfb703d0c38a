import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseArgs } from 'node:util'
import { parseTemplates } from '../core/templates/index.ts'
import { createServices } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard templates`. */
export const TEMPLATES_USAGE = `  templates load --tenant <name> <file> [--json]
                                     load a message template file (YAML or JSON) as the tenant's new version
  templates check <file>             validate a template file without loading it`

function templatesFormat(file: string): 'yaml' | 'json' {
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml'
}

function readTemplatesFile(file: string | undefined): string {
  if (!file) fail('templates: a template file is required')
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    return fail(`templates: cannot read ${file}: ${(err as Error).message}`)
  }
}

/** A template file's problems, one per line, exit 1. */
function failTemplates(err: unknown): never {
  const e = err as { code?: string; details?: { errors?: string[] } }
  if (e.code === 'invalid_templates') fail(['templates: the file is not valid, nothing was loaded:', ...(e.details?.errors ?? []).map((x) => `  ${x}`)].join('\n'), 1)
  throw err
}

/** `switchboard templates load|check`. */
export async function templatesCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  const file = positionals[0]
  if (sub === 'check') {
    const source = readTemplatesFile(file)
    try {
      const doc = parseTemplates(source, templatesFormat(file!))
      io.stdout.write(`${file}: valid (${Object.keys(doc.templates).length} templates)\n`)
    } catch (err) {
      failTemplates(err)
    }
    return
  }
  if (sub !== 'load') fail(`templates: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (!values.tenant) fail('templates load: --tenant <name> is required')
  const source = readTemplatesFile(file)
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) fail(`templates load: no tenant named "${values.tenant}"`, 1)
    const loaded = await services.templates.load(tenant, source, templatesFormat(file!)).catch(failTemplates)
    io.stdout.write(values.json
      ? JSON.stringify({ tenant: tenant.name, version: loaded.version, templates: loaded.templates }) + '\n'
      : `Loaded ${loaded.templates.length} templates into "${tenant.name}" as version ${loaded.version}: ${loaded.templates.join(', ')}\n`)
  })
}
