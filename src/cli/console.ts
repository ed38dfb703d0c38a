import { parseArgs } from 'node:util'
import { createServices } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'
import type { Config } from '../config.ts'

/** The usage lines of `switchboard console`. */
export const CONSOLE_USAGE = `  console user create --tenant <name> --email <e> --role <role> [--name <n>] [--json]
                                     create a web console user (owner, admin, supervisor, agent,
                                     clinician) and print the generated password (shown once)
  console user list --tenant <name> [--json]
                                     list the tenant's console users`

/** `switchboard console user create|list`. */
export async function consoleCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [noun, sub, ...rest] = args
  if (noun !== 'user' || (sub !== 'create' && sub !== 'list')) fail(`console: unknown subcommand "${[noun, sub].filter(Boolean).join(' ')}"\n\n${usage}`)
  const { values } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  })
  if (!values.tenant) fail(`console user ${sub}: --tenant <name> is required`)
  if (sub === 'create' && (!values.email || !values.role)) fail('console user create: --email and --role are required')
  if (sub === 'list' && (values.email !== undefined || values.role !== undefined || values.name !== undefined)) fail('console user list: takes only --tenant and --json')
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) return fail(`console user ${sub}: no tenant named "${values.tenant}"`, 1)
    if (sub === 'create') {
      const { user, password } = await services.console.createUser(tenant.id, { email: values.email!, role: values.role!, name: values.name })
      io.stdout.write(values.json
        ? JSON.stringify({ id: user.id, email: user.email, role: user.role, password }) + '\n'
        : `Console user ${user.email} (${user.role}) of "${tenant.name}": password ${password}\nSign in at ${config.publicUrl}/console. The password is shown once.\n`)
      return
    }
    const users = await services.console.listUsers(tenant.id)
    if (values.json) io.stdout.write(JSON.stringify(users.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.createdAt }))) + '\n')
    else for (const u of users) io.stdout.write(`${u.role.padEnd(10)}  ${u.email}${u.name ? `  (${u.name})` : ''}\n`)
  })
}
