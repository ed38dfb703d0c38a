import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, inject } from 'vitest'
import { runCli, serversKilledAfterAll, startServer, storeEnv } from './helpers/process.ts'

// `switchboard threads load|check` as a child process, while a server runs on the same store, and
// the demo threads `npm start` loads into the Demo tenant on the first start (every other case:
// src/cli/threads.test.ts).
const postgres = inject('store') === 'postgres'
const baseEnv = (dataDir: string) => storeEnv(dataDir)
const running = serversKilledAfterAll()

describe('switchboard threads', () => {
  it('checks and loads a thread file into a tenant while the server runs; the demo tenant has the demo threads', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-threads-'))
    const server = await startServer(baseEnv(dataDir), 'serve', 120_000)
    running.push(server)
    const name = `Threads ${Date.now()}`
    const created = await runCli(['tenant', 'create', '--name', name, '--json'], baseEnv(dataDir))
    const t = JSON.parse(created.stdout) as { cass: { client: string; token: string } }
    const auth = 'Basic ' + Buffer.from(`${t.cass.client}:${t.cass.token}`).toString('base64')

    const good = join(dataDir, 'good.json')
    writeFileSync(good, JSON.stringify({ threads: { good_thread: { steps: [{ say: 'hi' }, { next: 'wrap_up' }] }, wrap_up: { steps: [{ end: 'Bye' }] } } }))
    const loaded = await runCli(['threads', 'load', '--tenant', name, good, '--json'], baseEnv(dataDir))
    expect(loaded.stderr).toBe('')
    expect(JSON.parse(loaded.stdout)).toEqual({ tenant: name, version: 1, threads: ['good_thread', 'wrap_up'] })
    const current = await fetch(server.url + '/admin/threads', { headers: { authorization: auth } })
    expect(await current.json()).toMatchObject({ version: 1, format: 'json', threads: ['good_thread', 'wrap_up', 'STORE_EXT_ID', 'STORE_EXT_UN', 'STORE_EXT_ORG'] })

    if (!postgres) {
      const demo = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }
      const demoAuth = 'Basic ' + Buffer.from(`${demo.cass.client}:${demo.cass.token}`).toString('base64')
      const r = await fetch(server.url + '/admin/threads', { headers: { authorization: demoAuth } })
      expect(await r.json()).toMatchObject({ version: 1, format: 'yaml', threads: ['welcome', 'support', 'wrap_up', 'daily_checkin', 'nudge', 'STORE_EXT_ID', 'STORE_EXT_UN', 'STORE_EXT_ORG'] })
    }
    expect(await server.stop('SIGTERM')).toBe(0)
  })
})
