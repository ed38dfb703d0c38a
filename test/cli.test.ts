import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, inject } from 'vitest'
import pg from 'pg'
import { freePort, MAIN, runCli, serversKilledAfterAll, startServer, storeEnv } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'

// These tests run the real CLI and server as child processes (the rest of the CLI is tested
// in-process in src/cli/*.test.ts). On PGlite they use a fresh data dir
// (the embedded store exactly as `npm start` runs it); on PostgreSQL the run's test database.
const postgres = inject('store') === 'postgres'
const baseEnv = (dataDir: string) => storeEnv(dataDir)
const running = serversKilledAfterAll()

describe('switchboard CLI', () => {
  it('creates a tenant with --json, lists it, and the credentials work on the API, while a server runs on the same store', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-cli-'))
    const server = await startServer(baseEnv(dataDir), 'serve', 120_000)
    running.push(server)

    const name = `Clinic ${Date.now()}`
    const created = await runCli(['tenant', 'create', '--name', name, '--json'], baseEnv(dataDir))
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const t = JSON.parse(created.stdout) as Record<string, Record<string, string>> & { id: string; name: string }
    expect(Object.keys(t)).toEqual(['id', 'name', 'cass', 'ccai', 'courier', 'console'])
    expect(t.name).toBe(name)
    expect(Object.keys(t.cass!)).toEqual(['client', 'token'])
    expect(Object.keys(t.ccai!)).toEqual(['subdomain', 'token', 'company_secret'])
    expect(Object.keys(t.courier!)).toEqual(['organization_id', 'api_key'])

    const auth = 'Basic ' + Buffer.from(`${t.cass!.client}:${t.cass!.token}`).toString('base64')
    const r = await fetch(server.url + '/external_person', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ external_id: 'cli-1', protocol: 'web' }) })
    expect(r.status).toBe(200)
    const personId = ((await r.json()) as { person_id: string }).person_id

    const list = await runCli(['tenant', 'list', '--json'], baseEnv(dataDir))
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((x) => x.name)).toContain(name)

    // Tokens are stored hashed, never as issued.
    const dump = await runCli(['tenant', 'list'], baseEnv(dataDir))
    expect(dump.stdout).not.toContain(t.cass!.token)

    // A clean stop, then a restart keeps the data.
    expect(await server.stop('SIGTERM')).toBe(0)
    const again = await startServer(baseEnv(dataDir), 'serve', 120_000)
    running.push(again)
    const g = await fetch(`${again.url}/external_person/${personId}`, { headers: { authorization: auth } })
    expect(g.status).toBe(200)
    expect(((await g.json()) as { external_id: string }).external_id).toBe('cli-1')
    expect(await again.stop('SIGTERM')).toBe(0)
  })

  it('prints the demo tenant and curl examples on the first start of an empty store', { timeout: 300_000 }, async () => {
    if (postgres) {
      // The shared PostgreSQL test database already has tenants; the first-start path is the embedded one.
      expect(inject('databaseUrl')).not.toBe('')
      return
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-first-'))
    const server = await startServer(baseEnv(dataDir), 'serve', 120_000)
    running.push(server)
    // The port is bound (and /readyz answers) before the Demo tenant is made and printed.
    await eventually(() => server.output().includes('(saved to '), 120_000)
    expect(server.output()).toContain('Tenant "Demo"')
    expect(server.output()).toMatch(/curl -s -u 'demo:[\w-]+'/)
    const saved = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }
    const auth = 'Basic ' + Buffer.from(`${saved.cass.client}:${saved.cass.token}`).toString('base64')
    const r = await fetch(server.url + '/external_person', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{"first_name":"Jane","phone":"+14155552671","external_id":"jane-1"}' })
    expect(r.status).toBe(200)
    // The demo contact center: four agents with passwords generated for this install, the SMS number.
    const cc = (JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { contact_center: { agents: Array<{ id: number; email: string; password: string }>; sms_number: string } }).contact_center
    expect(cc.sms_number).toBe('+14155550100')
    expect(cc.agents.map((a) => [a.id, a.email])).toEqual([
      [1, 'ana.front@demo.switchboard.local'], [2, 'ben.front@demo.switchboard.local'], [3, 'cleo.nurse@demo.switchboard.local'], [4, 'dev.lead@demo.switchboard.local'],
    ])
    for (const a of cc.agents) {
      expect(a.password).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/)
      expect(server.output()).toContain(`agent ${a.id}  ${a.email}  ${a.password}`)
    }
    // The ids the README's contact-center examples use: the voice number, an IVR and a mobile call queue, the campaign with its contacts.
    const ids = (JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { contact_center: { outbound_number: string; ivr_menu_id: number; mobile_menu_id: number; campaign_id: number; ticket_id: string } }).contact_center
    expect(ids).toMatchObject({ outbound_number: '+14155550100', campaign_id: 1, ivr_menu_id: 2, mobile_menu_id: 5, ticket_id: 'DEMO-1001' })
    const demoAuth = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { ccai: { subdomain: string; token: string } }
    const ccai = { authorization: 'Basic ' + Buffer.from(`${demoAuth.ccai.subdomain}:${demoAuth.ccai.token}`).toString('base64') }
    // The demo CRM ticket (C2's ticket_id), on the admin API.
    const cassCreds = (JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }).cass
    const ticket = await fetch(`${server.url}/admin/tickets/${ids.ticket_id}`, { headers: { authorization: 'Basic ' + Buffer.from(`${cassCreds.client}:${cassCreds.token}`).toString('base64') } })
    expect(ticket.status).toBe(200)
    expect(((await ticket.json()) as { data: { contact: { phone: string } } }).data.contact.phone).toBe('+14155550125')
    const contacts = await fetch(`${server.url}/apps/api/v1/outbound_dialer/campaigns/${ids.campaign_id}/contacts`, { headers: ccai })
    expect(contacts.status).toBe(200)
    expect(((await contacts.json()) as Array<{ phone_number: string; status: string }>).map((c) => [c.phone_number, c.status])).toEqual([['+14155550123', 'Upcoming'], ['+14155550124', 'Upcoming']])
    for (const [menu, type, path] of [[ids.ivr_menu_id, 'ivr_menu', 'Main line / Appointments'], [ids.mobile_menu_id, 'mobile_menu', 'App support / Billing']] as const) {
      const queue = await fetch(`${server.url}/apps/api/v1/wait_times?lang=en&channel_type=voice_call&menu_id=${menu}`, { headers: ccai })
      expect(queue.status).toBe(200)
      expect(await queue.json()).toEqual([expect.objectContaining({ menu_id: menu, menu_type: type, materialized_path: path })])
    }
    const login = await fetch(server.url + '/agent/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: cc.agents[0]!.email, password: cc.agents[0]!.password, company: 'demo' }) })
    expect(login.status).toBe(200)
    expect(((await login.json()) as { agent: { id: number } }).agent.id).toBe(1)
    // The demo directory: a clinician's user token that the messaging API takes, the care team, its patients.
    const courier = (JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { courier: { user_id: string; user_token: string; individual_group_id: string; individual_ids: string[] } }).courier
    expect(courier.individual_ids).toHaveLength(3)
    const team = await fetch(`${server.url}/v1/individual-groups/${courier.individual_group_id}/`, { headers: { authorization: `Bearer ${courier.user_token}` } })
    expect(team.status).toBe(200)
    expect(((await team.json()) as { data: { attributes: { leaders: Array<{ id: string }> } } }).data.attributes.leaders).toContainEqual({ id: courier.user_id })
    // The demo message templates (issue 13): their ids saved; the clinician validates a reminder for a patient (#139).
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { courier: { template_ids: string[]; organization_id: string } }
    expect(demo.courier.template_ids).toEqual(['appointment-reminder', 'medication-refill', 'care-check-in'])
    const validated = await fetch(`${server.url}/v1/users/${courier.user_id}/validate-multicast-params/`, {
      method: 'POST', headers: { authorization: `Bearer ${courier.user_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'template-id': 'appointment-reminder', 'individual-id': courier.individual_ids[0], 'organization-id': demo.courier.organization_id, data: { clinic: 'North Clinic', date: '2026-12-24', time: '09:30' } }),
    })
    expect([validated.status, await validated.json()]).toEqual([201, { info: 'template appointment-reminder renders push, sms, email in en for this individual', success: true }])
    // The console (issue 11): the owner's sign-in is printed once and saved; it signs in; the page is served.
    const owner = (JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { console: { email: string; password: string } }).console
    expect(owner.email).toBe('owner@demo.switchboard.local')
    expect(server.output()).toContain(`/console  sign in as ${owner.email}  password ${owner.password}`)
    const consoleLogin = await fetch(server.url + '/console/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(owner) })
    expect(consoleLogin.status).toBe(200)
    expect(consoleLogin.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/)
    const page = await fetch(server.url + '/console/people')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="root"></div>')
    expect(existsSync(join(dataDir, 'embedded.json'))).toBe(true)
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(existsSync(join(dataDir, 'embedded.json'))).toBe(false)
  })

  it('finishes in-flight requests on SIGTERM and exits 0', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-term-'))
    const server = await startServer(baseEnv(dataDir), 'serve', 120_000)
    running.push(server)
    const created = await runCli(['tenant', 'create', '--name', `Term ${Date.now()}`, '--json'], baseEnv(dataDir))
    const t = JSON.parse(created.stdout) as { cass: { client: string; token: string } }
    const auth = 'Basic ' + Buffer.from(`${t.cass.client}:${t.cass.token}`).toString('base64')
    // Ten requests whose headers and half of their body have arrived: in flight when SIGTERM comes.
    const encoder = new TextEncoder()
    const inFlight = Array.from({ length: 10 }, (_, i) => {
      let controller!: ReadableStreamDefaultController<Uint8Array>
      const body = new ReadableStream<Uint8Array>({ start: (c) => { controller = c } })
      const json = JSON.stringify({ external_id: `term-${i}`, protocol: 'web' })
      controller.enqueue(encoder.encode(json.slice(0, 10)))
      const response = fetch(server.url + '/external_person', {
        method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body, duplex: 'half',
      } as RequestInit).then((r) => r.status, (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message)
      return { response, finish: () => { controller.enqueue(encoder.encode(json.slice(10))); controller.close() } }
    })
    await new Promise((r) => setTimeout(r, 500))
    const code = server.stop('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    for (const r of inFlight) r.finish()
    const statuses = await Promise.all(inFlight.map((r) => r.response))
    expect(await code, server.output()).toBe(0)
    expect(statuses).toEqual(Array(10).fill(200))
    // Refused once closed: a new request is not accepted.
    await expect(fetch(server.url + '/healthz')).rejects.toThrow()
  })

  it('`npm start` stops its server when npm is stopped (a supervisor signals npm, not node): nothing left listening', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-npm-'))
    const port = await freePort()
    const npm = spawn('npm', ['start'], { cwd: process.cwd(), env: { ...process.env, LOG_LEVEL: 'warn', ...baseEnv(dataDir), PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    npm.stdout.on('data', (d: Buffer) => { out += d })
    npm.stderr.on('data', (d: Buffer) => { out += d })
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)))
    const url = `http://127.0.0.1:${port}`
    await waitFor('npm start to answer /readyz', async () => (await fetch(url + '/readyz').catch(() => undefined))?.ok, 150_000, 200).catch((err: Error) => {
      npm.kill('SIGKILL')
      throw new Error(`${err.message}\n${out}`)
    })
    npm.kill('SIGTERM')
    expect(await exited, out).not.toBeNull()
    // The server went with it (it used to keep running, orphaned, holding the port and the store).
    await waitFor('the server to stop listening', async () => (await fetch(url + '/healthz').then(() => false, () => true)), 30_000, 200)
  })

  it('binds the port before it creates or prints anything: a port in use stops the start naming it, nothing made', { timeout: 300_000 }, async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()))
    const port = (taken.address() as { port: number }).port
    try {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'sb-inuse-')), 'data')
      const r = await runCli(['serve'], { ...baseEnv(dataDir), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`)
      expect(r.stdout).not.toContain('Tenant "Demo"')
      expect(r.stdout).not.toContain('curl')
      expect(existsSync(join(dataDir, 'demo-tenant.json'))).toBe(false)
      expect(existsSync(join(dataDir, 'pglite'))).toBe(false)
    } finally {
      taken.close()
    }
  })

  it('PORT=0 prints the port it really listens on; a later start says where the Demo credentials are', { timeout: 180_000 }, async () => {
    if (postgres) {
      // The shared PostgreSQL test database already has tenants; the first-start path is the embedded one.
      expect(inject('databaseUrl')).not.toBe('')
      return
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-port0-'))
    const first = spawnServe({ ...baseEnv(dataDir), PORT: '0' })
    const printed = await first.waitFor(/(http:\/\/127\.0\.0\.1:(\d+))\/external_person/)
    expect(printed[2]).not.toBe('0')
    expect(first.stdout()).toContain(`(saved to ${join(dataDir, 'demo-tenant.json')})`)
    expect((await fetch(printed[1] + '/healthz')).status).toBe(200)
    expect(await first.stop('SIGTERM')).toBe(0)

    const savedFirst = readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')
    const later = spawnServe({ ...baseEnv(dataDir), PORT: '0' })
    await later.waitFor(/credentials are in .*demo-tenant\.json/)
    expect(later.stdout()).not.toContain('Tenant "Demo"')
    expect(later.stdout()).not.toContain('agent 1 ')
    // A second start neither reloads the demo contact center nor changes the saved passwords.
    expect(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')).toBe(savedFirst)
    expect(await later.stop('SIGTERM')).toBe(0)
  })

  it('acknowledges Ctrl-C during start-up at once and stops, leaving the store usable', { timeout: 180_000 }, async () => {
    // The embedded store on either run: its start-up (PGlite, migrations) is the long one.
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-sigint-'))
    const env = { SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '' }
    const starting = spawnServe({ ...env, PORT: '0' })
    // The lock is taken after the signal handlers are set (a signal before them ends the process
    // the default way), and before PGlite opens.
    await eventually(() => existsSync(join(dataDir, 'embedded.lock')))
    starting.child.kill('SIGINT')
    await starting.waitForStderr(/SIGINT received during start-up: stopping/)
    expect(await starting.exited).toBe(0)
    expect(starting.stdout()).not.toContain('Tenant "Demo"')
    expect(existsSync(join(dataDir, 'embedded.lock'))).toBe(false)
    const r = await runCli(['tenant', 'list', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
  })

  it('starts on PostgreSQL from a directory without data/ (the Demo credentials file is made there)', { timeout: 180_000 }, async () => {
    if (!postgres) {
      expect(inject('databaseUrl')).toBe('')
      return
    }
    const admin = process.env.SWITCHBOARD_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
    const name = `sb_store_nodata_${Date.now()}_${process.pid}`
    const run = async (sql: string) => {
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      try {
        await c.query(sql)
      } finally {
        await c.end()
      }
    }
    await run(`CREATE DATABASE ${name}`)
    try {
      const url = new URL(admin)
      url.pathname = '/' + name
      const cwd = mkdtempSync(join(tmpdir(), 'sb-nodata-'))
      const server = spawnServe({ DATABASE_URL: url.toString(), SWITCHBOARD_SECRET_KEY: '2'.repeat(64), SWITCHBOARD_DATA_DIR: '', PORT: '0' }, cwd)
      const printed = await server.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\/external_person/)
      const saved = JSON.parse(readFileSync(join(cwd, 'data', 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }
      const auth = 'Basic ' + Buffer.from(`${saved.cass.client}:${saved.cass.token}`).toString('base64')
      const r = await fetch(printed[1] + '/external_person', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{"external_id":"pg-1","protocol":"web"}' })
      expect(r.status).toBe(200)
      expect(await server.stop('SIGTERM')).toBe(0)
    } finally {
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  })
})

async function eventually(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** `switchboard serve` as a child process whose output the test reads as it comes. */
function spawnServe(env: Record<string, string>, cwd?: string) {
  const child = spawn(process.execPath, [MAIN, 'serve'], { env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitIn = async (read: () => string, pattern: RegExp, timeoutMs = 150_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = read().match(pattern)
      if (m) return m
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} (exit ${child.exitCode ?? child.signalCode}):\n${stdout}\n${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const server = {
    child, exited, stdout: () => stdout,
    waitFor: (pattern: RegExp) => waitIn(() => stdout, pattern),
    waitForStderr: (pattern: RegExp) => waitIn(() => stderr, pattern),
    async stop(signal: NodeJS.Signals) {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
  running.push({ child, url: '', output: () => stdout + stderr, stop: server.stop })
  return server
}
