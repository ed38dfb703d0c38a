import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, serversKilledAfterAll, startServer, type ServerProcess } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'

// Several processes on one embedded data directory: exactly one may open PGlite (the owner, under
// the lock taken before it opens the files); the others borrow its port, and take over when it
// stops. Always the embedded store, whichever store the run tests.
const embeddedEnv = (dataDir: string, extra: Record<string, string> = {}) => ({ SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '', SWITCHBOARD_SECRET_KEY: '', ...extra })
const running = serversKilledAfterAll()

const basic = (c: { client: string; token: string }) => 'Basic ' + Buffer.from(`${c.client}:${c.token}`).toString('base64')

async function createPerson(server: ServerProcess, auth: string, externalId: string): Promise<number> {
  const r = await fetch(server.url + '/external_person', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ external_id: externalId, protocol: 'web' }) })
  return r.status
}

async function tenants(dataDir: string): Promise<Array<{ name: string }>> {
  const list = await runCli(['tenant', 'list', '--json'], embeddedEnv(dataDir))
  expect(list.code, list.stderr).toBe(0)
  return JSON.parse(list.stdout) as Array<{ name: string }>
}

/** Wait until the server answers /readyz 200 again (the borrower has found the store anew). */
async function readyAgain(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await fetch(server.url + '/readyz').then((r) => r.ok, () => false)
    if (ok) return
    if (Date.now() > deadline) throw new Error(`not ready again within ${timeoutMs} ms:\n${server.output()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('one embedded data directory, many processes', () => {
  it('processes started at once on a fresh directory share one store: one Demo tenant, every command works, credentials work, and it opens again', { timeout: 600_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const dataDir = mkdtempSync(join(tmpdir(), `sb-race-${round}-`))
      const env = embeddedEnv(dataDir)
      // Round 0: servers only (the first start must make exactly one Demo tenant); later rounds
      // also create a tenant at the same moment (the Demo is then made only if the store was empty).
      const servers = Promise.all(Array.from({ length: round === 0 ? 3 : 2 }, () => startServer(env, 'serve', 180_000)))
      const created = round === 0 ? undefined : runCli(['tenant', 'create', '--name', `Race ${round}`, '--json'], env)
      const listed = runCli(['tenant', 'list'], env)
      const started = await servers
      running.push(...started)
      expect((await listed).code, (await listed).stderr).toBe(0)
      const made = await created
      if (made) expect(made.code, made.stderr).toBe(0)

      // One owner: the lock names one of them, and embedded.json the same process.
      const lock = JSON.parse(readFileSync(join(dataDir, 'embedded.lock'), 'utf8')) as { pid: number }
      const info = JSON.parse(readFileSync(join(dataDir, 'embedded.json'), 'utf8')) as { pid: number }
      expect(info.pid).toBe(lock.pid)

      const names = (await tenants(dataDir)).map((t) => t.name)
      const demos = names.filter((n) => n === 'Demo').length
      expect(demos).toBe(existsSync(join(dataDir, 'demo-tenant.json')) ? 1 : 0)
      if (round === 0) expect(demos).toBe(1)
      if (made) expect(names.filter((n) => n === `Race ${round}`)).toHaveLength(1)

      const auths: string[] = []
      if (demos === 1) auths.push(basic((JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }).cass))
      if (made) auths.push(basic((JSON.parse(made.stdout) as { cass: { client: string; token: string } }).cass))
      for (const [i, s] of started.entries()) {
        for (const [j, auth] of auths.entries()) expect(await createPerson(s, auth, `p-${i}-${j}`), s.output()).toBe(200)
      }
      for (const s of started) expect(await s.stop('SIGTERM'), s.output()).toBe(0)
      expect(existsSync(join(dataDir, 'embedded.lock'))).toBe(false)

      // Whole after everyone stopped: it opens again and has what was written.
      expect((await tenants(dataDir)).map((t) => t.name).sort()).toEqual(names.sort())
      const again = await startServer(env, 'serve', 180_000)
      running.push(again)
      if (auths[0]) expect(await createPerson(again, auths[0], 'p-0-0'), again.output()).toBe(409)
      expect(await again.stop('SIGTERM')).toBe(0)
    }
  })

  it('a borrowing server takes the store over when its owner stops (cleanly or killed), and the owner borrows when it comes back', { timeout: 600_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-takeover-'))
    const env = embeddedEnv(dataDir)
    const owner = await startServer(env, 'serve', 180_000)
    running.push(owner)
    const borrower = await startServer(env, 'serve', 180_000)
    running.push(borrower)
    // Printed once the port is bound and the store checked, which may come just after /readyz answers.
    await waitFor('the borrower to say where the Demo credentials are', async () => borrower.output().includes('Demo tenant\'s credentials are in'), 60_000)
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo-tenant.json'), 'utf8')) as { cass: { client: string; token: string } }
    const auth = basic(demo.cass)
    expect(await createPerson(borrower, auth, 'before')).toBe(200)

    // The owner stops cleanly: the borrower hosts the store itself, and nothing was lost.
    expect(await owner.stop('SIGTERM')).toBe(0)
    await readyAgain(borrower, 120_000)
    expect(await createPerson(borrower, auth, 'before')).toBe(409)
    expect(await createPerson(borrower, auth, 'after-stop')).toBe(200)
    expect((JSON.parse(readFileSync(join(dataDir, 'embedded.json'), 'utf8')) as { pid: number }).pid).toBe(borrower.child.pid)

    // The first server comes back: it borrows from the new owner.
    const back = await startServer(env, 'serve', 180_000)
    running.push(back)
    expect(await createPerson(back, auth, 'after-stop')).toBe(409)

    // The new owner is killed (its lock left behind): the other one breaks the stale lock and hosts.
    expect(await borrower.stop('SIGKILL')).toBe(null)
    await readyAgain(back, 120_000)
    expect(await createPerson(back, auth, 'after-kill')).toBe(200)
    expect(await createPerson(back, auth, 'before')).toBe(409)
    expect(await back.stop('SIGTERM')).toBe(0)
    expect((await tenants(dataDir)).map((t) => t.name)).toEqual(['Demo'])
  })
})
