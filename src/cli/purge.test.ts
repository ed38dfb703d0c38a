import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { seedPerson } from '../../test/helpers/cass.ts'
import { cliOver, type CliRun } from './testing.ts'

// `switchboard purge show|archive`: the operator reads a purge's audit record and, for an
// `archive: true` purge, the archive document no API serves. The purge runs through its job's
// handler (PrivacyService.run) here; purge-data.test.ts runs it on the queue.
let t: TestApp
let tt: TestTenant
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  tt = await createTenant(t.services)
  cli = cliOver(t.store)
})
afterAll(async () => t?.close())

describe('switchboard purge', () => {
  it('shows the audit record and prints the archive of an archive: true purge; refuses unknown ones with exit 1', async () => {
    const person = await seedPerson(t, tt, { firstName: 'Quinn', phone: uniquePhone() })
    const purge = await t.services.privacy.request(tt.tenant, { entityType: 'individual', entityId: person.cassId, requestId: `cli-${person.cassId}`, archive: true }, { kind: 'organization' })
    const queued = await cli(['purge', 'show', '--tenant', tt.tenant.name, '--request-id', purge.requestId, '--json'])
    expect(queued.code, queued.stderr).toBe(0)
    expect(JSON.parse(queued.stdout)).toMatchObject({ request_id: purge.requestId, status: 'queued', archive: true, entity_id: person.cassId, counts: {} })
    expect((await cli(['purge', 'archive', '--tenant', tt.tenant.name, '--request-id', purge.requestId])).code).toBe(1)

    await t.services.privacy.run(tt.tenant.id, purge.id)
    const shown = await cli(['purge', 'show', '--tenant', tt.tenant.name, '--request-id', purge.requestId])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`${purge.requestId}: completed (archive), individual ${person.cassId}`)
    expect(shown.stdout).toMatch(/person\s+1/)
    const archived = await cli(['purge', 'archive', '--tenant', tt.tenant.name, '--request-id', purge.requestId])
    expect(archived.code, archived.stderr).toBe(0)
    const out = JSON.parse(archived.stdout)
    expect(out.purge).toMatchObject({ status: 'completed', counts: { person: 1, identities: 1 } })
    expect(out.archive.person.map((p: { first_name: string; phone: string }) => [p.first_name, p.phone])).toEqual([['Quinn', person.phone]])

    const missing = await cli(['purge', 'show', '--tenant', tt.tenant.name, '--request-id', 'never'])
    expect([missing.code, missing.stderr]).toEqual([1, `purge show: no purge with request id "never" in "${tt.tenant.name}"\n`])
    expect((await cli(['purge', 'show', '--tenant', 'no such tenant', '--request-id', 'x'])).code).toBe(1)
    expect((await cli(['purge', 'show', '--tenant', tt.tenant.name])).code).toBe(2)
    expect((await cli(['purge', 'nope'])).code).toBe(2)
  })
})
