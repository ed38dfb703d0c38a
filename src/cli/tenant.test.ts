import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
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
    expect(Object.keys(c)).toEqual(['id', 'name', 'cass', 'ccai', 'courier'])
    expect(c.name).toBe(name)
    expect(Object.keys(c.cass!)).toEqual(['client', 'token'])
    expect(Object.keys(c.ccai!)).toEqual(['subdomain', 'token', 'company_secret'])
    expect(Object.keys(c.courier!)).toEqual(['organization_id', 'api_key'])

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
  })
})
