import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { cliOver, tenantViaCli, type CliRun } from './testing.ts'

const DEMO = fileURLToPath(new URL('../../examples/templates/demo.yaml', import.meta.url))

let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

describe('switchboard templates (in-process)', () => {
  it('checks and loads a template file into a tenant; refuses a bad file with every problem, exit 1, nothing loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-templates-'))
    const { name, auth, cassClient } = await tenantViaCli(cli, 'Templates')

    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'templates:\n  reminder:\n    sms: "Hi {{ data.name | upcasee }}"\n    languages:\n      es: { email: { subject: Hola, text: hola } }\n')
    const refused = await cli(['templates', 'load', '--tenant', name, bad])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe([
      'templates: the file is not valid, nothing was loaded:',
      '  templates.reminder.sms: Liquid: undefined filter: upcasee, line:1, col:4',
      '  templates.reminder.languages.es.email: the template has no default email part (a variant only translates the default’s parts)',
    ].join('\n') + '\n')
    expect((await cli(['templates', 'check', bad])).code).toBe(1)
    const none = await t.app.inject({ url: '/admin/templates', headers: { authorization: auth } })
    expect(none.json()).toMatchObject({ data: { version: 0, templates: [] } })

    expect(await cli(['templates', 'check', DEMO])).toMatchObject({ code: 0, stdout: `${DEMO}: valid (3 templates)\n` })
    const loaded = await cli(['templates', 'load', '--tenant', name, DEMO, '--json'])
    expect(loaded.stderr).toBe('')
    expect(JSON.parse(loaded.stdout)).toEqual({ tenant: name, version: 1, templates: ['appointment-reminder', 'medication-refill', 'care-check-in'] })
    const current = await t.app.inject({ url: '/admin/templates', headers: { authorization: auth } })
    expect(current.json()).toMatchObject({ data: { version: 1, format: 'yaml', templates: [{ id: 'appointment-reminder' }, { id: 'medication-refill' }, { id: 'care-check-in' }] } })

    // JSON by its extension, by the Cass client name, without --json.
    const good = join(dir, 'good.json')
    writeFileSync(good, JSON.stringify({ templates: { hello: { sms: 'Hello {{ recipient.name }}' } } }))
    expect(await cli(['templates', 'load', '--tenant', cassClient, good])).toMatchObject({ code: 0, stdout: `Loaded 1 templates into "${name}" as version 2: hello\n` })
    expect((await t.app.inject({ url: '/admin/templates', headers: { authorization: auth } })).json()).toMatchObject({ data: { version: 2, format: 'json' } })

    const unknown = await cli(['templates', 'load', '--tenant', 'no such tenant', good])
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'templates load: no tenant named "no such tenant"'])
    expect(await cli(['templates', 'load', good])).toMatchObject({ code: 2, stderr: 'templates load: --tenant <name> is required\n' })
    expect((await cli(['templates', 'check', join(dir, 'missing.yaml')])).stderr).toMatch(/^templates: cannot read .*missing\.yaml/)
    expect((await cli(['templates', 'frob'])).code).toBe(2)
  })
})
