import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseArgs } from 'node:util'
import { parseContactCenterSetup, type SetupLoadResult } from '../core/contact-center/index.ts'
import { hashPassword } from '../lib/passwords.ts'
import { createServices } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard contact-center`. */
export const CONTACT_CENTER_USAGE = `  contact-center load --tenant <name> <file> [--json]
                                     load a contact-center setup file (YAML or JSON; - reads stdin)
                                     as the tenant's contact center; prints generated passwords once
  contact-center check <file>        validate a setup file without loading it
  contact-center show --tenant <name> [--json]
                                     print the tenant's current setup file (passwords as hashes,
                                     webhook secrets masked: loading it again keeps them)
  contact-center hash-password       read a password (stdin, or a prompt on a terminal) and print
                                     the hash to put in a setup file as an agent's password_hash`

/** Shortest agent password the setup file accepts (its `password` minLength). */
const MIN_PASSWORD = 8

/** `.json` is JSON, another extension YAML; stdin (`-`) is told apart by its first character. */
function setupFormat(file: string): 'yaml' | 'json' | undefined {
  if (file === '-') return undefined
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml'
}

async function readAll(io: CliIo): Promise<string> {
  const stream = io.stdin?.()
  if (!stream) return ''
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

async function readSetupFile(io: CliIo, file: string | undefined): Promise<string> {
  if (!file) fail('contact-center: a setup file is required (- reads stdin)')
  if (file === '-') return readAll(io)
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    return fail(`contact-center: cannot read ${file}: ${(err as Error).message}`)
  }
}

/** A setup file's problems, one per line with their path, exit 1. */
function failSetup(err: unknown): never {
  const e = err as { code?: string; details?: { errors?: string[] } }
  if (e.code === 'invalid_contact_center') fail(['contact-center: the file is not valid:', ...(e.details?.errors ?? []).map((x) => `  ${x}`)].join('\n'), 1)
  throw err
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** What `load` prints: one summary line, then each generated password (shown this once). */
function describeLoad(tenant: string, r: SetupLoadResult): string {
  const lines = [`Loaded the contact center of "${tenant}" as version ${r.version}: ${plural(r.teams, 'team')}, ${plural(r.agents, 'agent')}, `
    + `${plural(r.menus, 'menu')}, ${plural(r.phoneNumbers, 'phone number')}; ${plural(r.deactivatedAgents, 'agent')} deactivated`]
  if (r.generatedPasswords.length > 0) {
    lines.push('Generated sign-in passwords (shown once; stored hashed):')
    for (const g of r.generatedPasswords) lines.push(`  ${g.email}  ${g.password}`)
  }
  return lines.join('\n') + '\n'
}

/**
 * A password typed at a terminal, not echoed: raw mode, Enter ends it, Backspace removes, Ctrl-C
 * or Ctrl-D gives up.
 */
async function promptHidden(io: CliIo, stream: NonNullable<ReturnType<NonNullable<CliIo['stdin']>>>, prompt: string): Promise<string> {
  io.stderr.write(prompt)
  stream.setRawMode?.(true)
  stream.resume()
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = ''
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stream.off('data', onData)
            resolve(typed)
            return
          }
          if (ch === '\u0003' || ch === '\u0004') {
            stream.off('data', onData)
            reject(new Error('cancelled'))
            return
          }
          if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('')
          else typed += ch
        }
      }
      stream.on('data', onData)
    })
  } finally {
    stream.setRawMode?.(false)
    stream.pause()
    io.stderr.write('\n')
  }
}

/** The password to hash: the first line of stdin, or typed twice at a terminal. */
async function readPassword(io: CliIo): Promise<string> {
  const stream = io.stdin?.()
  if (stream?.isTTY) {
    try {
      const first = await promptHidden(io, stream, 'Password: ')
      const again = await promptHidden(io, stream, 'Again: ')
      if (first !== again) fail('contact-center hash-password: the passwords differ', 1)
      return first
    } catch (err) {
      if ((err as Error).message === 'cancelled') fail('contact-center hash-password: cancelled', 1)
      throw err
    }
  }
  const text = await readAll(io)
  // One password per run: the first line, without its line ending.
  return text.split(/\r?\n/)[0] ?? ''
}

/** `switchboard contact-center load|check|show|hash-password`. */
export async function contactCenterCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  const file = positionals[0]
  if (sub === 'hash-password') {
    if (positionals.length > 0 || values.tenant !== undefined || values.json) fail('contact-center hash-password: takes no arguments (the password comes on stdin or at the prompt)')
    const password = await readPassword(io)
    if (password.length === 0) fail('contact-center hash-password: no password given (pipe one on stdin, or run it in a terminal)', 1)
    if (password.length < MIN_PASSWORD) fail(`contact-center hash-password: a password has at least ${MIN_PASSWORD} characters`, 1)
    io.stdout.write(await hashPassword(password) + '\n')
    return
  }
  if (sub === 'check') {
    if (values.tenant !== undefined) fail('contact-center check: unknown option --tenant (check needs no tenant)')
    const source = await readSetupFile(io, file)
    try {
      const doc = parseContactCenterSetup(source, setupFormat(file!) ?? (source.trimStart().startsWith('{') ? 'json' : 'yaml'))
      const menus = (ms: typeof doc.menus): number => (ms ?? []).reduce((n, m) => n + 1 + menus((m as { children?: typeof doc.menus }).children), 0)
      io.stdout.write(`${file === '-' ? '(stdin)' : file}: valid (${plural(doc.teams?.length ?? 0, 'team')}, ${plural(doc.agents?.length ?? 0, 'agent')}, `
        + `${plural(menus(doc.menus), 'menu')}, ${plural(doc.phone_numbers?.length ?? 0, 'phone number')})\n`)
    } catch (err) {
      failSetup(err)
    }
    return
  }
  if (sub === 'show') {
    if (!values.tenant) fail('contact-center show: --tenant <name> is required')
    if (file !== undefined) fail('contact-center show: takes no file')
    await withStore(config, io, async (store) => {
      const services = createServices(config, store)
      const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
      if (!tenant) fail(`contact-center show: no tenant named "${values.tenant}"`, 1)
      const current = await services.ccSetup.currentSource(tenant.id)
      if (!current) fail(`contact-center show: "${tenant.name}" has no contact center loaded`, 1)
      io.stdout.write(values.json
        ? JSON.stringify({ tenant: tenant.name, version: current.version, format: current.format, loaded_at: current.loadedAt.toISOString(), source: current.source }) + '\n'
        : current.source.endsWith('\n') ? current.source : current.source + '\n')
    })
    return
  }
  if (sub !== 'load') fail(`contact-center: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (!values.tenant) fail('contact-center load: --tenant <name> is required')
  const source = await readSetupFile(io, file)
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) fail(`contact-center load: no tenant named "${values.tenant}"`, 1)
    const r = await services.ccSetup.load(tenant.id, source, setupFormat(file!)).catch(failSetup)
    io.stdout.write(values.json
      ? JSON.stringify({
        tenant: tenant.name, version: r.version, teams: r.teams, agents: r.agents, menus: r.menus, phone_numbers: r.phoneNumbers,
        deactivated_agents: r.deactivatedAgents, generated_passwords: r.generatedPasswords.map((g) => ({ email: g.email, password: g.password })),
      }) + '\n'
      : describeLoad(tenant.name, r))
  })
}
