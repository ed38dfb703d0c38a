import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { eventually } from '../../test/helpers/wait.ts'
import { TenantsService, type TenantId } from '../core/tenants/index.ts'
import { cliOver, type CliRun } from './testing.ts'

let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

describe('switchboard tenant (in-process)', () => {
  it('creates a tenant with --json, lists it, and the credentials work on the API; tokens are stored hashed', async () => {
    const name = `Clinic ${Date.now()}`
    const created = await cli(['tenant', 'create', '--name', name, '--json'])
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const c = JSON.parse(created.stdout) as Record<string, Record<string, string>> & { id: string; name: string }
    expect(Object.keys(c)).toEqual(['id', 'name', 'cass', 'ccai', 'courier', 'console'])
    expect(c.name).toBe(name)
    expect(Object.keys(c.cass!)).toEqual(['client', 'token'])
    expect(Object.keys(c.ccai!)).toEqual(['subdomain', 'token', 'company_secret'])
    expect(Object.keys(c.courier!)).toEqual(['organization_id', 'api_key'])
    // The console owner (issue 11): its sign-in works on the console API, and is stored hashed.
    expect(c.console).toEqual({ email: `owner@${c.cass!.client}.switchboard.local`, password: expect.stringMatching(/^\w{4}-\w{4}-\w{4}-\w{4}$/) })
    const signIn = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.99.0.1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(c.console) })
    expect(signIn.statusCode, signIn.body).toBe(200)
    expect(JSON.parse(signIn.body)).toMatchObject({ user: { role: 'owner', email: c.console!.email }, organization: { id: c.id, name } })
    const stored = await t.store.db.selectFrom('console_users').select('password_hash').where('tenant_id', '=', c.id as TenantId).execute()
    expect(stored).toHaveLength(1)
    expect(stored[0]!.password_hash).toMatch(/^scrypt\$/)
    expect(stored[0]!.password_hash).not.toContain(c.console!.password)

    const auth = 'Basic ' + Buffer.from(`${c.cass!.client}:${c.cass!.token}`).toString('base64')
    const r = await t.app.inject({ method: 'POST', url: '/external_person', headers: { authorization: auth }, payload: { external_id: 'cli-1', protocol: 'web' } })
    expect(r.statusCode).toBe(200)

    const list = await cli(['tenant', 'list', '--json'])
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((x) => x.name)).toContain(name)
    const dump = await cli(['tenant', 'list'])
    expect(dump.stdout).toContain(name)
    expect(dump.stdout).not.toContain(c.cass!.token)
  })

  it('prints the credentials with curl examples without --json, against SWITCHBOARD_PUBLIC_URL', async () => {
    const r = await cliOver(t.store, { SWITCHBOARD_PUBLIC_URL: 'https://sb.example.org/' })(['tenant', 'create', '--name', `Plain ${Date.now()}`])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/curl -s -u '[\w-]+:[\w-]+'/)
    expect(r.stdout).toContain(' https://sb.example.org/external_person')
    expect(r.stdout).toMatch(/^Console: https:\/\/sb\.example\.org\/console {2}sign in as owner@plain-\d+\.switchboard\.local {2}password \w{4}-\w{4}-\w{4}-\w{4} {2}\(the owner; shown once\)$/m)
  })

  it('--owner-email names the console owner; a bad one exits 2 and creates no tenant', async () => {
    const name = `Owned ${Date.now()}`
    const r = await cli(['tenant', 'create', '--name', name, '--owner-email', 'Boss@Clinic.example', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { console: { email: string } }).console.email).toBe('Boss@Clinic.example')
    const bad = await cli(['tenant', 'create', '--name', `${name} 2`, '--owner-email', 'boss'])
    expect(bad).toMatchObject({ code: 2, stderr: 'tenant create: --owner-email must be an e-mail address\n' })
    expect((await t.services.tenants.findByName(`${name} 2`))).toBeUndefined()
    expect(await cli(['tenant', 'list', '--owner-email', 'a@b.c'])).toMatchObject({ code: 2, stderr: 'tenant list: unknown option --owner-email\n' })
  })

  it('makes the tenant and its owner in one transaction: an owner that cannot be made leaves no tenant', async () => {
    const name = `Atomic ${Date.now()}`
    // Well formed, so the CLI's own check passes; the console refuses it (over 320 characters).
    const r = await cli(['tenant', 'create', '--name', name, '--owner-email', `${'a'.repeat(320)}@clinic.example`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('email must be an e-mail address')
    expect(await t.services.tenants.findByName(name)).toBeUndefined()
    // The name is free, and the same command with a good address makes both.
    const ok = await cli(['tenant', 'create', '--name', name, '--owner-email', 'owner@clinic.example', '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    const tenant = await t.services.tenants.findByName(name)
    expect((await t.services.console.listUsers(tenant!.id)).map((u) => [u.email, u.role])).toEqual([['owner@clinic.example', 'owner']])
  })

  it('console user create|list: users of a role with a generated password that signs in; bad input exits 1 or 2', async () => {
    const name = `Console CLI ${Date.now()}`
    expect((await cli(['tenant', 'create', '--name', name])).code).toBe(0)
    const made = await cli(['console', 'user', 'create', '--tenant', name, '--email', 'nurse@clinic.example', '--role', 'clinician', '--name', 'Nurse Joy', '--json'])
    expect(made.code, made.stderr).toBe(0)
    const u = JSON.parse(made.stdout) as { email: string; role: string; password: string }
    expect(u).toMatchObject({ email: 'nurse@clinic.example', role: 'clinician' })
    const signIn = await t.app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.99.0.2', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: u.email, password: u.password }) })
    expect(signIn.statusCode, signIn.body).toBe(200)
    const plain = await cli(['console', 'user', 'create', '--tenant', name, '--email', 'sup@clinic.example', '--role', 'supervisor'])
    expect(plain.stdout).toMatch(/^Console user sup@clinic\.example \(supervisor\) of "Console CLI \d+": password \w{4}-\w{4}-\w{4}-\w{4}\n/)
    const list = await cli(['console', 'user', 'list', '--tenant', name, '--json'])
    expect((JSON.parse(list.stdout) as Array<{ role: string }>).map((x) => x.role)).toEqual(['owner', 'clinician', 'supervisor'])
    expect((await cli(['console', 'user', 'list', '--tenant', name])).stdout).toContain('clinician   nurse@clinic.example  (Nurse Joy)')
    // Refused: a taken email, a bad role (exit 1, nothing made); usage errors (exit 2).
    expect(await cli(['console', 'user', 'create', '--tenant', name, '--email', 'NURSE@clinic.example', '--role', 'agent'])).toMatchObject({ code: 1 })
    expect((await cli(['console', 'user', 'create', '--tenant', name, '--email', 'x@clinic.example', '--role', 'janitor'])).code).toBe(1)
    expect((await cli(['console', 'user', 'create', '--tenant', `Nobody ${Date.now()}`, '--email', 'x@clinic.example', '--role', 'agent'])).code).toBe(1)
    expect((JSON.parse((await cli(['console', 'user', 'list', '--tenant', name, '--json'])).stdout) as unknown[]).length).toBe(3)
    expect(await cli(['console', 'user', 'create', '--tenant', name, '--email', 'x@clinic.example'])).toMatchObject({ code: 2, stderr: 'console user create: --email and --role are required\n' })
    expect((await cli(['console', 'user', 'delete', '--tenant', name])).code).toBe(2)
    expect(await cli(['console', 'user', 'list'])).toMatchObject({ code: 2, stderr: 'console user list: --tenant <name> is required\n' })
  })

  it('rotate-company-secret prints the new secret once (--json and plain); the old one stops authenticating', async () => {
    const name = `Rotate ${Date.now()}`
    const c = JSON.parse((await cli(['tenant', 'create', '--name', name, '--json'])).stdout) as { id: TenantId; ccai: { subdomain: string; company_secret: string } }
    const tenants = t.services.tenants
    await tenants.authenticate('ccai', 'company_secret', c.ccai.subdomain, c.ccai.company_secret)

    const r = await cli(['tenant', 'rotate-company-secret', '--tenant', name, '--json'])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const rotated = JSON.parse(r.stdout) as { id: string; name: string; ccai: { subdomain: string; company_secret: string } }
    expect(Object.keys(rotated)).toEqual(['id', 'name', 'ccai'])
    expect(Object.keys(rotated.ccai)).toEqual(['subdomain', 'company_secret'])
    expect(rotated).toMatchObject({ id: c.id, name, ccai: { subdomain: c.ccai.subdomain } })
    expect(rotated.ccai.company_secret).toMatch(/^[\w-]{32}$/)
    expect(rotated.ccai.company_secret).not.toBe(c.ccai.company_secret)
    // The CLI is another process in real use: the server's services (which cached the old secret)
    // take the new one at once, and refuse the old one as soon as the change is announced, well
    // before their 5 s cache would expire.
    await expect(tenants.authenticate('ccai', 'company_secret', c.ccai.subdomain, rotated.ccai.company_secret)).resolves.toMatchObject({ id: c.id })
    expect(await tenants.companySecret(c.id)).toBe(rotated.ccai.company_secret)
    const oldRefused = () => tenants.authenticate('ccai', 'company_secret', c.ccai.subdomain, c.ccai.company_secret).then(() => false, (e: { code?: string }) => e.code === 'bad_secret')
    expect(await eventually(oldRefused, (v) => v, 2_000)).toBe(true)
    const fresh = new TenantsService(t.store.db, t.config.secretKey)
    await expect(fresh.authenticate('ccai', 'company_secret', c.ccai.subdomain, c.ccai.company_secret)).rejects.toMatchObject({ code: 'bad_secret' })

    const plain = await cli(['tenant', 'rotate-company-secret', '--tenant', name])
    expect(plain.code).toBe(0)
    const secret = /company_secret=([\w-]+)/.exec(plain.stdout)?.[1]
    expect(plain.stdout).toContain(`Tenant "${name}" (${c.id})`)
    expect(plain.stdout).toContain(`subdomain=${c.ccai.subdomain}`)
    expect(plain.stdout).toContain('The previous company secret no longer works')
    expect(secret).toBeDefined()
    expect(await fresh.companySecret(c.id)).toBe(secret)
    // A process started now (nothing cached) refuses the previous one.
    await expect(new TenantsService(t.store.db, t.config.secretKey).authenticate('ccai', 'company_secret', c.ccai.subdomain, rotated.ccai.company_secret))
      .rejects.toMatchObject({ code: 'bad_secret' })

    // Run under another master key (a lost one): rotating still works and seals under the new key.
    const other = await cliOver(t.store, { SWITCHBOARD_SECRET_KEY: '1'.repeat(64) })(['tenant', 'rotate-company-secret', '--tenant', name, '--json'])
    expect(other.code).toBe(0)
    const recovered = (JSON.parse(other.stdout) as { ccai: { company_secret: string } }).ccai.company_secret
    expect(await new TenantsService(t.store.db, Buffer.from('1'.repeat(64), 'hex')).companySecret(c.id)).toBe(recovered)
    await expect(tenants.companySecret(c.id)).rejects.toThrow(/cannot be decrypted \(was SWITCHBOARD_SECRET_KEY changed\?\)/)
  })

  it('rotate-company-secret: an unknown tenant exits 1, missing or foreign flags exit 2', async () => {
    expect(await cli(['tenant', 'rotate-company-secret', '--tenant', `Nobody ${Date.now()}`])).toMatchObject({ code: 1, stdout: '' })
    expect((await cli(['tenant', 'rotate-company-secret', '--tenant', 'Nobody x'])).stderr).toBe('no tenant named "Nobody x"\n')
    expect(await cli(['tenant', 'rotate-company-secret'])).toMatchObject({ code: 2, stderr: 'tenant rotate-company-secret: --tenant <name> is required\n' })
    expect(await cli(['tenant', 'rotate-company-secret', '--name', 'x', '--tenant', 'y'])).toMatchObject({ code: 2, stderr: 'tenant rotate-company-secret: unknown option --name\n' })
    expect(await cli(['tenant', 'create', '--name', 'x', '--tenant', 'y'])).toMatchObject({ code: 2, stderr: 'tenant create: unknown option --tenant\n' })
  })

  it('refuses bad usage with exit 2 and the usage text', async () => {
    expect(await cli(['tenant', 'create'])).toMatchObject({ code: 2, stderr: 'tenant create: --name <name> is required\n' })
    const unknown = await cli(['tenant', 'rename'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('tenant: unknown subcommand "rename"')
    const flag = await cli(['tenant', 'list', '--colour'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("Unknown option '--colour'")
  })
})

describe('switchboard (in-process)', () => {
  it.each([
    ['PORT', { PORT: 'http' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://127.0.0.1/x' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }],
    ['HOST', { HOST: 'not a host' }],
    ['SWITCHBOARD_PUBLIC_URL', { SWITCHBOARD_PUBLIC_URL: 'notaurl' }],
    ['SWITCHBOARD_PUBLIC_URL', { SWITCHBOARD_PUBLIC_URL: 'ftp://files.example.org' }],
  ])('refuses to start with an invalid %s and names it', async (variable, env) => {
    const r = await cliOver(undefined, env)(['serve'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(variable)
    expect(r.stdout).toBe('')
  })

  it('explains usage for an unknown command', async () => {
    const r = await cliOver(undefined)(['frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "frobnicate"')
    expect(r.stderr).toContain('tenant create --name')
  })

  it('prints the usage for --help', async () => {
    const r = await cliOver(undefined)(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('provider set --tenant <name> <channel> <vendor> [key=value ...]')
    expect(r.stdout).toContain('tenant rotate-company-secret --tenant <name> [--json]')
  })
})
