import { parseArgs } from 'node:util'
import { createServices } from '../services.ts'
import { credentialsJson, describeCredentials } from './demo.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard tenant`. */
export const TENANT_USAGE = `  tenant create --name <name> [--json]
                                     create a tenant and print its credentials (shown once)
  tenant list [--json]               list tenants`

/** `switchboard tenant create|list`. */
export async function tenantCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true })
  if (sub !== 'create' && sub !== 'list') fail(`tenant: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (sub === 'create' && !values.name) fail('tenant create: --name <name> is required')
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    if (sub === 'create') {
      const { tenant, credentials } = await services.tenants.create(values.name!)
      io.stdout.write(values.json ? JSON.stringify(credentialsJson(tenant, credentials)) + '\n' : describeCredentials(config, tenant, credentials) + '\n')
      return
    }
    const tenants = await services.tenants.list()
    if (values.json) io.stdout.write(JSON.stringify(tenants.map((t) => ({ id: t.id, name: t.name, cass_client: t.cassClient, created_at: t.createdAt }))) + '\n')
    else for (const t of tenants) io.stdout.write(`${t.id}  ${t.cassClient.padEnd(24)}  ${t.name}\n`)
  })
}
