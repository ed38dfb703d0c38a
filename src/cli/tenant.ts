import { parseArgs } from 'node:util'
import { ValidationError } from '../core/errors.ts'
import { createServices } from '../services.ts'
import { credentialsJson, describeCredentials } from './demo.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard tenant`. */
export const TENANT_USAGE = `  tenant create --name <name> [--owner-email <email>] [--json]
                                     create a tenant and its console owner login, and print
                                     their credentials (shown once)
  tenant list [--json]               list tenants
  tenant rotate-company-secret --tenant <name> [--json]
                                     issue a new contact-center company secret and print it (shown
                                     once); the old one stops working`

const SUBCOMMANDS = ['create', 'list', 'rotate-company-secret'] as const

/** `switchboard tenant create|list|rotate-company-secret`. */
export async function tenantCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, tenant: { type: 'string' }, 'owner-email': { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  })
  if (!(SUBCOMMANDS as readonly (string | undefined)[]).includes(sub)) fail(`tenant: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (sub === 'create' && !values.name) fail('tenant create: --name <name> is required')
  if (sub === 'rotate-company-secret' && !values.tenant) fail('tenant rotate-company-secret: --tenant <name> is required')
  // Each flag belongs to one subcommand: `rotate-company-secret --name x` must not rotate some default.
  if (sub !== 'create' && values.name !== undefined) fail(`tenant ${sub}: unknown option --name`)
  if (sub !== 'create' && values['owner-email'] !== undefined) fail(`tenant ${sub}: unknown option --owner-email`)
  if (sub !== 'rotate-company-secret' && values.tenant !== undefined) fail(`tenant ${sub}: unknown option --tenant`)
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    if (sub === 'create') {
      const ownerEmail = values['owner-email']
      // Checked before the tenant is made, so a bad address creates nothing.
      if (ownerEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(ownerEmail)) fail('tenant create: --owner-email must be an e-mail address')
      // The tenant and its owner in one transaction: a tenant is never left without a way in.
      const { tenant, credentials, made } = await services.tenants.create(values.name!, (trx, t) => services.console.createOwner(t, { trx, email: ownerEmail }))
      const owner = { email: made.user.email, password: made.password }
      io.stdout.write(values.json ? JSON.stringify(credentialsJson(tenant, credentials, owner)) + '\n' : describeCredentials(config, tenant, credentials, owner) + '\n')
      return
    }
    if (sub === 'rotate-company-secret') {
      const tenant = await services.tenants.findByName(values.tenant!)
      if (!tenant) throw new ValidationError('tenant_not_found', `no tenant named "${values.tenant}"`)
      const { subdomain, companySecret } = await services.tenants.rotateCompanySecret(tenant.id)
      io.stdout.write(values.json
        ? JSON.stringify({ id: tenant.id, name: tenant.name, ccai: { subdomain, company_secret: companySecret } }) + '\n'
        : [
            `Tenant "${tenant.name}" (${tenant.id})`,
            `  Contact-center Apps API:  subdomain=${subdomain}  company_secret=${companySecret}`,
            '',
            'The previous company secret no longer works (running servers accept it for at most 5 more seconds).',
            'This one is shown once: store it now.',
          ].join('\n') + '\n')
      return
    }
    const tenants = await services.tenants.list()
    if (values.json) io.stdout.write(JSON.stringify(tenants.map((t) => ({ id: t.id, name: t.name, cass_client: t.cassClient, created_at: t.createdAt }))) + '\n')
    else for (const t of tenants) io.stdout.write(`${t.id}  ${t.cassClient.padEnd(24)}  ${t.name}\n`)
  })
}
