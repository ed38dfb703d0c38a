import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ValidationError } from '../core/errors.ts'
import type { ProviderSetting } from '../core/tenants/index.ts'
import type { Services } from '../services.ts'

/** The usage lines of `switchboard provider`. */
export const PROVIDER_USAGE = `  provider set --tenant <name> <channel> <vendor> [key=value ...] [key:=<json> ...] [--option key=value ...] [--json-file <file>] [--json]
                                     use a vendor for a channel (options stored encrypted; replaces what was set)
  provider list --tenant <name> [--json]
                                     each channel's vendor, secrets masked
  provider unset --tenant <name> <channel>
                                     back to the sandbox for a channel`

function describe(p: ProviderSetting): string {
  const head = `${p.channel.padEnd(10)} ${p.vendor}${p.configured ? '' : ' (default)'}`
  const options = Object.entries(p.options).map(([k, v]) => `             ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return [head, ...options].join('\n')
}

function present(p: ProviderSetting) {
  return { channel: p.channel, vendor: p.vendor, configured: p.configured, options: p.options, updated_at: p.updatedAt ? p.updatedAt.toISOString() : null }
}

/** `key=value` (a string) or `key:=<json>` (any JSON value), as `--option` takes them. */
export function parseOption(raw: string): [string, unknown] {
  const eq = raw.indexOf('=')
  if (eq <= 0 || (eq === 1 && raw[0] === ':')) throw new ValidationError('invalid_provider_options', `option ${raw}: expected key=value or key:=<json>`)
  if (raw[eq - 1] === ':') {
    const key = raw.slice(0, eq - 1)
    try {
      return [key, JSON.parse(raw.slice(eq + 1))]
    } catch {
      throw new ValidationError('invalid_provider_options', `option ${key}: the value after := is not JSON`)
    }
  }
  return [raw.slice(0, eq), raw.slice(eq + 1)]
}

/**
 * `switchboard provider set|list|unset`. Writes to stdout; a bad argument or value throws
 * (ValidationError: printed by main, exit 1). Nothing secret is printed: options are masked.
 */
export async function providerCommand(services: Services, args: string[], out: (text: string) => void): Promise<void> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      option: { type: 'string', multiple: true, default: [] },
      'json-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  })
  if (!values.tenant) throw new ValidationError('tenant_required', `provider ${sub ?? ''}: --tenant <name> is required`)
  const tenant = await services.tenants.findByName(values.tenant)
  if (!tenant) throw new ValidationError('tenant_not_found', `no tenant named "${values.tenant}"`)
  const settings = services.providerSettings

  if (sub === 'set') {
    const [channel, vendor, ...extra] = positionals
    // Options may follow the vendor bare (`accountSid=AC…`), as they do after `--option`.
    const bare = extra.filter((x) => /^[^=]+=/.test(x))
    if (!channel || !vendor || bare.length !== extra.length) {
      const stray = extra.find((x) => !/^[^=]+=/.test(x))
      throw new ValidationError('invalid_arguments', `provider set: expected <channel> <vendor> [key=value ...]${stray === undefined ? '' : `, got "${stray}"`}`)
    }
    let options: Record<string, unknown> = {}
    if (values['json-file']) {
      let parsed: unknown
      try {
        parsed = JSON.parse(readFileSync(values['json-file'], 'utf8'))
      } catch (err) {
        throw new ValidationError('invalid_provider_options', `--json-file ${values['json-file']}: ${(err as Error).message}`)
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ValidationError('invalid_provider_options', `--json-file ${values['json-file']}: expected a JSON object of options`)
      }
      options = parsed as Record<string, unknown>
    }
    for (const raw of [...bare, ...(values.option ?? [])]) {
      const [k, v] = parseOption(raw)
      options[k] = v
    }
    const result = await settings.set(tenant, channel, vendor, options)
    out(values.json ? JSON.stringify(present(result)) : describe(result))
  } else if (sub === 'list') {
    if (positionals.length > 0) throw new ValidationError('invalid_arguments', 'provider list takes no arguments')
    const all = await settings.list(tenant)
    out(values.json ? JSON.stringify({ data: all.map(present), vendors: settings.vendors() }) : [...all.map(describe), `vendors: ${settings.vendors().join(', ')}`].join('\n'))
  } else if (sub === 'unset') {
    const [channel, ...extra] = positionals
    if (!channel || extra.length > 0) throw new ValidationError('invalid_arguments', 'provider unset: expected <channel>')
    const removed = await settings.unset(tenant, channel)
    out(removed ? `${channel}: back to the sandbox` : `${channel}: already the sandbox`)
  } else {
    throw new ValidationError('invalid_arguments', `provider: unknown subcommand "${sub ?? ''}" (set, list, unset)`)
  }
}
