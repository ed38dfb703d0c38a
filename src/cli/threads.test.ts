import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { cliOver, tenantViaCli, type CliRun } from './testing.ts'

let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

describe('switchboard threads (in-process)', () => {
  it('checks and loads a thread file into a tenant; refuses a bad file with every problem, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-threads-'))
    const { name, auth, cassClient } = await tenantViaCli(cli, 'Threads')

    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'threads:\n  good_thread:\n    steps:\n      - say: hi\n      - next: wrap_upp\n')
    const refused = await cli(['threads', 'load', '--tenant', name, bad])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('threads.good_thread.steps[1].next: unknown thread "wrap_upp"')
    const checked = await cli(['threads', 'check', bad])
    expect(checked.code).toBe(1)

    const good = join(dir, 'good.json')
    writeFileSync(good, JSON.stringify({ threads: { good_thread: { steps: [{ say: 'hi' }, { next: 'wrap_up' }] }, wrap_up: { steps: [{ end: 'Bye' }] } } }))
    expect(await cli(['threads', 'check', good])).toMatchObject({ code: 0, stdout: `${good}: valid (2 threads)\n` })
    const loaded = await cli(['threads', 'load', '--tenant', name, good, '--json'])
    expect(loaded.stderr).toBe('')
    expect(JSON.parse(loaded.stdout)).toEqual({ tenant: name, version: 1, threads: ['good_thread', 'wrap_up'] })
    const current = await t.app.inject({ url: '/admin/threads', headers: { authorization: auth } })
    expect(current.json()).toMatchObject({ version: 1, format: 'json', threads: ['good_thread', 'wrap_up', 'STORE_EXT_ID', 'STORE_EXT_UN', 'STORE_EXT_ORG'] })
    // By the Cass client name too, and without --json.
    const again = await cli(['threads', 'load', '--tenant', cassClient, good])
    expect(again).toMatchObject({ code: 0, stdout: `Loaded 2 threads into "${name}" as version 2: good_thread, wrap_up\n` })

    const unknown = await cli(['threads', 'load', '--tenant', 'no such tenant', good])
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'threads load: no tenant named "no such tenant"'])
    expect(await cli(['threads', 'load', good])).toMatchObject({ code: 2, stderr: 'threads load: --tenant <name> is required\n' })
    expect((await cli(['threads', 'check', join(dir, 'missing.yaml')])).stderr).toMatch(/^threads: cannot read .*missing\.yaml/)
  })
})
