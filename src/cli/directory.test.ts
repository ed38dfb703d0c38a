import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { collectorEvery } from './directory.ts'
import { cliOver, type CliRun } from './testing.ts'

const DEMO = fileURLToPath(new URL('../../examples/directory/demo.yaml', import.meta.url))

let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

describe('switchboard directory (in-process)', () => {
  it('imports YAML and CSV files with counts, refuses a bad one with its problems (exit 1), and issues a user token the API accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-directory-'))
    const name = `Directory ${Date.now()}`
    expect((await cli(['tenant', 'create', '--name', name, '--json'])).code).toBe(0)

    const first = await cli(['directory', 'import', '--tenant', name, DEMO, '--json'])
    expect(first.stderr).toBe('')
    expect(JSON.parse(first.stdout)).toEqual({
      tenant: name, organizations: { created: 1, updated: 0, unchanged: 0 }, individuals: { created: 5, updated: 0, unchanged: 0 },
      users: { created: 2, updated: 0, unchanged: 0 }, groups: { created: 2, updated: 0, unchanged: 0 },
    })
    const again = await cli(['directory', 'import', '--tenant', name, DEMO])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('  individuals    0 created, 0 updated, 5 unchanged')

    const csv = join(dir, 'people.csv')
    writeFileSync(csv, 'external_id,first_name,phone\nnew-1,Nia,+14155550111\ndemo-patient-1,Maya,+14155550101\n')
    const imported = await cli(['directory', 'import', '--tenant', name, csv, '--json'])
    expect(JSON.parse(imported.stdout).individuals).toEqual({ created: 1, updated: 1, unchanged: 0 })

    const bad = join(dir, 'bad.csv')
    writeFileSync(bad, 'external_id,phone\nb-1,+14155550122\nb-2,nope\n')
    const refused = await cli(['directory', 'import', '--tenant', name, bad])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe('directory import: the file is not valid, nothing was imported:\n  individuals[1] (line 3).phone: not a phone number "nope"\n')
    const tenant = (await t.services.tenants.findByName(name))!
    await expect(t.services.people.getByExternalId(tenant, 'b-1')).rejects.toThrow()

    const token = await cli(['directory', 'user-token', '--tenant', name, '--email', 'grace.okafor@demo.switchboard.local', '--json'])
    const issued = JSON.parse(token.stdout) as { user_id: string; user_token: string }
    const me = await t.app.inject({ url: '/v1/users/', headers: { authorization: `Bearer ${issued.user_token}` } })
    expect(me.statusCode, me.body).toBe(200)
    expect(JSON.parse(me.body).data.map((u: { id: string }) => u.id)).toEqual([issued.user_id])

    expect(await cli(['directory', 'user-token', '--tenant', name, '--email', 'nobody@example.com'])).toMatchObject({ code: 1, stderr: `directory user-token: no user with email "nobody@example.com" in "${name}"\n` })
    expect(await cli(['directory', 'import', DEMO])).toMatchObject({ code: 2, stderr: 'directory import: --tenant <name> is required\n' })
    expect((await cli(['directory', 'import', '--tenant', 'no such tenant', DEMO])).stderr.trim()).toBe('directory import: no tenant named "no such tenant"')
    expect((await cli(['directory', 'import', '--tenant', name, join(dir, 'missing.yaml')])).stderr).toMatch(/^directory import: cannot read .*missing\.yaml/)
  })
})

describe('collectorEvery', () => {
  it('runs a full collection each time the imported rows pass the next mark', async () => {
    const { PerformanceObserver, constants } = await import('node:perf_hooks')
    const majors: number[] = []
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.startTime)
    })
    observer.observe({ entryTypes: ['gc'] })
    const collect = collectorEvery(1000)
    const seen = async () => {
      await new Promise((r) => setTimeout(r, 50))
      return majors.length
    }
    const before = await seen()
    collect(1000)
    const first = await seen()
    expect(first).toBeGreaterThan(before)
    collect(1500)
    collect(2500)
    expect(await seen()).toBeGreaterThan(first)
    observer.disconnect()
  })
})
