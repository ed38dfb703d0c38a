import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { hashPassword } from '../../lib/passwords.ts'
import { AgentEvents } from './agent-events.ts'
import { recordAgentEvent } from './routing.service.ts'

// An agent's stream reads its events after a cursor, in id order. Two transactions that record
// events for one agent must therefore commit in the order of their ids: otherwise a stream that
// already read the later id would never see the earlier one.
let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

it('a stream misses no event of a transaction that started first and committed last', async () => {
  const tt = await createTenant(t.services)
  const hash = await hashPassword('agent-password')
  await t.services.ccSetup.load(tt.tenant.id, `teams: [{ name: Desk }]\nagents:\n  - { email: ev@example.org, first_name: E, last_name: V, teams: [Desk], password_hash: "${hash}" }\n`, 'yaml')
  const [agent] = await t.services.agents.list(tt.tenant.id, { kind: 'all' })
  const events = new AgentEvents(t.store.db, t.store.notifier)
  const seen: string[] = []
  const sub = await events.subscribe(tt.tenant.id, agent!.id, await events.head(tt.tenant.id, agent!.id), (e) => seen.push(String(e.data.n)))
  try {
    let releaseFirst!: () => void
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve))
    let firstRecorded!: () => void
    const recorded = new Promise<void>((resolve) => (firstRecorded = resolve))
    // The first transaction records its event and stays open.
    const first = t.store.db.transaction().execute(async (trx) => {
      await recordAgentEvent(trx, tt.tenant.id, agent!.id, 'test', { n: 'first' })
      firstRecorded()
      await firstMayCommit
    })
    await recorded
    // The second records and commits while the first is still open (it waits for it, if it must).
    const second = recordAgentEvent(t.store.db, tt.tenant.id, agent!.id, 'test', { n: 'second' })
    // Give the second every chance to commit, and the stream to read it, before the first commits.
    await new Promise((r) => setTimeout(r, 500))
    releaseFirst()
    await Promise.all([first, second])
    await waitFor('both events on the stream', () => seen.length >= 2, 10_000)
    expect(seen).toEqual(['first', 'second'])
  } finally {
    sub.close()
  }
})
