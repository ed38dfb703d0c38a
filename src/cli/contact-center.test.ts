import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { cliOver, tenantViaCli, type CliRun } from './testing.ts'

// `switchboard contact-center load|check|hash-password` in-process over the test store; what it
// loads is checked through the admin API and an agent signing in on the agent API.
const DEMO = readFileSync(new URL('../../examples/contact-center/demo.yaml', import.meta.url), 'utf8')
const DEMO_THREADS = readFileSync(new URL('../../examples/threads/demo.yaml', import.meta.url), 'utf8')

let t: TestApp
let cli: (args: string[], input?: string) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const tenant = (prefix: string) => tenantViaCli(cli, prefix)

const login = (company: string, email: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email, password, company } })

describe('switchboard contact-center (in-process)', () => {
  it('checks a file without a tenant: every problem one per line at its path, exit 1; a good file (YAML, JSON, stdin) exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cc-'))
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, DEMO.replace('time_zone: America/New_York', 'time_zone: Mars/Olympus').replace('teams: [Nurses]\n', 'teams: [Nurzes]\n'))
    const refused = await cli(['contact-center', 'check', bad])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr.split('\n')).toEqual([
      'contact-center: the file is not valid:',
      '  settings.time_zone: unknown time zone "Mars/Olympus"',
      '  agents[2].teams[0]: unknown team "Nurzes"',
      '',
    ])
    const good = join(dir, 'demo.yaml')
    writeFileSync(good, DEMO)
    expect(await cli(['contact-center', 'check', good])).toEqual({ code: 0, stdout: `${good}: valid (2 teams, 4 agents, 8 menus, 1 phone number)\n`, stderr: '' })
    const json = join(dir, 'one.json')
    writeFileSync(json, JSON.stringify({ teams: [{ name: 'Desk' }] }))
    expect((await cli(['contact-center', 'check', json])).stdout).toBe(`${json}: valid (1 team, 0 agents, 0 menus, 0 phone numbers)\n`)
    expect(await cli(['contact-center', 'check', '-'], JSON.stringify({ teams: [{ name: 'Desk' }] }))).toMatchObject({ code: 0, stdout: '(stdin): valid (1 team, 0 agents, 0 menus, 0 phone numbers)\n' })
    expect(await cli(['contact-center', 'check', '-'], '')).toMatchObject({ code: 1, stderr: 'contact-center: the file is not valid:\n  (document): the setup file is empty\n' })
    expect((await cli(['contact-center', 'check', join(dir, 'missing.yaml')])).stderr).toMatch(/^contact-center: cannot read .*missing\.yaml/)
    expect(await cli(['contact-center', 'check'])).toMatchObject({ code: 2, stderr: 'contact-center: a setup file is required (- reads stdin)\n' })
  })

  it('loads the demo into a tenant, printing the generated passwords once; an agent signs in with one; a reload keeps them', async () => {
    const tt = await tenant('CC CLI')
    const dir = mkdtempSync(join(tmpdir(), 'sb-cc-'))
    const threads = join(dir, 'threads.yaml')
    writeFileSync(threads, DEMO_THREADS)
    expect((await cli(['threads', 'load', '--tenant', tt.name, threads])).code).toBe(0)
    const file = join(dir, 'demo.yaml')
    writeFileSync(file, DEMO)

    const loaded = await cli(['contact-center', 'load', '--tenant', tt.name, file, '--json'])
    expect(loaded.stderr).toBe('')
    expect(loaded.code).toBe(0)
    const body = JSON.parse(loaded.stdout) as Json
    expect(body).toMatchObject({ tenant: tt.name, version: 1, teams: 2, agents: 4, menus: 8, phone_numbers: 1, deactivated_agents: 0 })
    expect(body.generated_passwords).toHaveLength(4)
    const ana = body.generated_passwords[0] as { email: string; password: string }
    expect(ana.email).toBe('ana.front@demo.switchboard.local')
    const ok = await login(tt.subdomain, ana.email, ana.password)
    expect(ok.statusCode, ok.body).toBe(200)
    expect(JSON.parse(ok.body).agent).toMatchObject({ id: 1, email: ana.email })

    // Again, by the Cass client name and without --json: nothing generated, the password still works.
    const again = await cli(['contact-center', 'load', '--tenant', tt.cassClient, file])
    expect(again).toEqual({ code: 0, stderr: '', stdout: `Loaded the contact center of "${tt.name}" as version 2: 2 teams, 4 agents, 8 menus, 1 phone number; 0 agents deactivated\n` })
    expect((await login(tt.subdomain, ana.email, ana.password)).statusCode).toBe(200)
    const current = await t.app.inject({ url: '/admin/contact-center', headers: { authorization: tt.auth } })
    expect(JSON.parse(current.body).data).toMatchObject({ version: 2, format: 'yaml', source: DEMO })

    // Invalid for this tenant: the virtual agent's thread is unknown to it; nothing loaded.
    const other = await tenant('CC CLI bare')
    const refused = await cli(['contact-center', 'load', '--tenant', other.name, file])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe('contact-center: the file is not valid:\n  menus[2].children[1].virtual_agent.thread: unknown thread "support"\n')
    expect(JSON.parse((await t.app.inject({ url: '/admin/contact-center', headers: { authorization: other.auth } })).body).data).toMatchObject({ version: 0, source: null })

    const unknown = await cli(['contact-center', 'load', '--tenant', 'no such tenant', file])
    expect([unknown.code, unknown.stderr]).toEqual([1, 'contact-center load: no tenant named "no such tenant"\n'])
    expect(await cli(['contact-center', 'load', file])).toMatchObject({ code: 2, stderr: 'contact-center load: --tenant <name> is required\n' })
    expect(await cli(['contact-center', 'nope'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^contact-center: unknown subcommand "nope"\n\nUsage: switchboard/) })
  })

  it('hash-password prints a hash a setup file (read from stdin) takes as password_hash; the agent signs in with the password', async () => {
    const hashed = await cli(['contact-center', 'hash-password'], 'correct horse battery\n')
    expect(hashed.code).toBe(0)
    const hash = hashed.stdout.trim()
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(hashed.stdout).not.toContain('correct horse')

    const tt = await tenant('CC hash')
    const file = JSON.stringify({ teams: [{ name: 'Desk' }], agents: [{ email: 'ada@example.org', first_name: 'Ada', last_name: 'L', teams: ['Desk'], password_hash: hash }] })
    const loaded = await cli(['contact-center', 'load', '--tenant', tt.name, '-', '--json'], file)
    expect(loaded.stderr).toBe('')
    expect(JSON.parse(loaded.stdout)).toMatchObject({ version: 1, agents: 1, generated_passwords: [] })
    expect((await login(tt.subdomain, 'ada@example.org', 'correct horse battery')).statusCode).toBe(200)
    expect((await login(tt.subdomain, 'ada@example.org', 'correct horse batter')).statusCode).toBe(401)
    const current = JSON.parse((await t.app.inject({ url: '/admin/contact-center', headers: { authorization: tt.auth } })).body).data
    expect(current).toMatchObject({ version: 1, format: 'json' })

    expect(await cli(['contact-center', 'hash-password'], 'short\n')).toMatchObject({ code: 1, stdout: '', stderr: 'contact-center hash-password: a password has at least 8 characters\n' })
    expect(await cli(['contact-center', 'hash-password'], '')).toMatchObject({ code: 1, stdout: '' })
    expect(await cli(['contact-center', 'hash-password'])).toMatchObject({ code: 1, stderr: 'contact-center hash-password: no password given (pipe one on stdin, or run it in a terminal)\n' })
    expect((await cli(['contact-center', 'hash-password', 'secret-on-the-command-line'])).code).toBe(2)
  })

  it('keeps no clear agent password: the stored and served file has its hash instead, and loads again to the same state', async () => {
    const tt = await tenant('CC redact')
    const yaml = '# the desk\nteams:\n  - name: Desk\nagents:\n  - email: ada@example.org # lead\n    first_name: Ada\n    last_name: L\n    teams: [Desk]\n    password: "clear text password 1"\n'
    expect((await cli(['contact-center', 'load', '--tenant', tt.name, '-'], yaml)).code).toBe(0)
    expect((await cli(['contact-center', 'load', '--tenant', tt.name, '-'], JSON.stringify({ teams: [{ name: 'Desk' }], agents: [{ email: 'ada@example.org', first_name: 'Ada', last_name: 'L', teams: ['Desk'], password: 'clear text password 2' }] }))).code).toBe(0)
    const rows = await t.store.db.selectFrom('cc_setup_versions').select(['version', 'source', 'document']).where('tenant_id', '=', (await t.services.tenants.findByName(tt.name))!.id).orderBy('version').execute()
    expect(rows).toHaveLength(2)
    for (const r of rows) expect(JSON.stringify(r)).not.toMatch(/clear text password/)
    const hash = (await t.store.db.selectFrom('cc_agents').select('password_hash').where('email', '=', 'ada@example.org').where('tenant_id', '=', (await t.services.tenants.findByName(tt.name))!.id).executeTakeFirstOrThrow()).password_hash!
    expect(rows[0]!.source).toContain('# the desk')
    expect(rows[0]!.source).toContain('email: ada@example.org # lead')
    const served = JSON.parse((await t.app.inject({ url: '/admin/contact-center', headers: { authorization: tt.auth } })).body).data as { source: string; format: string }
    expect(served.format).toBe('json')
    expect(served.source).not.toMatch(/clear text password/)
    expect(JSON.parse(served.source).agents[0].password_hash).toBe(hash)
    // What GET serves loads again without changing the password.
    expect((await cli(['contact-center', 'load', '--tenant', tt.name, '-'], served.source)).code).toBe(0)
    expect((await login(tt.subdomain, 'ada@example.org', 'clear text password 2')).statusCode).toBe(200)
  })

  it('is in the usage text', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('contact-center load --tenant <name> <file> [--json]')
    expect(help.stdout).toContain('contact-center check <file>')
    expect(help.stdout).toContain('contact-center hash-password')
  })
})
