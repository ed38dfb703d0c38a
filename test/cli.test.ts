import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, inject } from 'vitest'
import { runCli, serversKilledAfterAll, startServer, storeEnv } from './helpers/process.ts'

// These tests run the real CLI and server as child processes. On PGlite they use a fresh data dir
// (the embedded store exactly as `npm start` runs it); on PostgreSQL the run's test database.
const postgres = inject('store') === 'postgres'
const baseEnv = (dataDir: string) => storeEnv(dataDir)
const running = serversKilledAfterAll()

describe('switchboard CLI', () => {
  it('creates a tenant with --json, lists it, and the credentials work on the API, while a server runs on the same store', { timeout: 90_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-cli-'))
    const server = await startServer(baseEnv(dataDir))
    running.push(server)

    const name = `Clinic ${Date.now()}`
    const created = await runCli(['tenant', 'create', '--name', name, '--json'], baseEnv(dataDir))
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const t = JSON.parse(created.stdout) as Record<string, Record<string, string>> & { id: string; name: string }
    expect(Object.keys(t)).toEqual(['id', 'name', 'cass', 'ccai', 'courier'])
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
    const again = await startServer(baseEnv(dataDir))
    running.push(again)
    const g = await fetch(`${again.url}/external_person/${personId}`, { headers: { authorization: auth } })
    expect(g.status).toBe(200)
    expect(((await g.json()) as { external_id: string }).external_id).toBe('cli-1')
    expect(await again.stop('SIGTERM')).toBe(0)
  })

  it('prints the demo tenant and curl examples on the first start of an empty store', { timeout: 90_000 }, async () => {
    if (postgres) {
      // The shared PostgreSQL test database already has tenants; the first-start path is the embedded one.
      expect(inject('databaseUrl')).not.toBe('')
      return
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-first-'))
    const server = await startServer(baseEnv(dataDir))
    running.push(server)
    expect(server.output()).toContain('Tenant "Demo"')
    expect(server.output()).toMatch(/curl -s -u 'demo:[\w-]+'/)
    const saved = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }
    const auth = 'Basic ' + Buffer.from(`${saved.cass.client}:${saved.cass.token}`).toString('base64')
    const r = await fetch(server.url + '/external_person', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{"first_name":"Jane","phone":"+14155552671","external_id":"jane-1"}' })
    expect(r.status).toBe(200)
    expect(existsSync(join(dataDir, 'embedded.json'))).toBe(true)
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(existsSync(join(dataDir, 'embedded.json'))).toBe(false)
  })

  it('finishes in-flight requests on SIGTERM and exits 0', { timeout: 90_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-term-'))
    const server = await startServer(baseEnv(dataDir))
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

  it.each([
    ['PORT', { PORT: 'http' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://127.0.0.1/x' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }],
  ])('refuses to start with an invalid %s and names it', async (variable, env) => {
    const r = await runCli(['serve'], { SWITCHBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'sb-bad-')), ...env })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(variable)
  })

  it('explains usage for an unknown command', async () => {
    const r = await runCli(['frobnicate'], { SWITCHBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'sb-bad-')) })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "frobnicate"')
    expect(r.stderr).toContain('tenant create --name')
  })
})
