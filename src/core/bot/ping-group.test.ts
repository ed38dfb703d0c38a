import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// Concurrent pings are written together (one transaction, each statement once for the group).
// Each caller must still get exactly its own outcome.

let t: TestApp
let acme: TestTenant
let other: TestTenant

const THREADS = `
threads:
  hello:
    steps:
      - say: "Hello <<NAME>>"
      - ask: "How are you? 1 good, 2 bad"
        choices:
          - { match: ["1"], say: "Great!" }
          - { match: ["2"], say: "Sorry" }
      - end: "Bye"
`

beforeAll(async () => {
  t = await startTestApp({ workers: true })
  acme = await createTenant(t.services)
  other = await createTenant(t.services)
  for (const tt of [acme, other]) await t.services.threads.load(tt.tenant, THREADS)
})
afterAll(async () => {
  await t?.close()
})

const person = async (tt: TestTenant, firstName: string) => (await t.services.people.create(tt.tenant, { phone: uniquePhone(), firstName })).person

describe('pings written together', () => {
  it('answer each caller alone: all sent, a person pinged twice gets two conversations in turn, a bad one fails alone', async () => {
    const people = await Promise.all(Array.from({ length: 24 }, (_, i) => person(acme, `P${i}`)))
    const twice = people[0]!
    const stranger = await person(other, 'Other')
    const pings = [
      ...people.map((p) => t.services.bot.ping(acme.tenant, { personRef: p.cassId, threadName: 'hello', wait: true })),
      t.services.bot.ping(acme.tenant, { personRef: twice.cassId, threadName: 'hello', wait: true, messages: ['Second ping'] }),
      t.services.bot.ping(other.tenant, { personRef: stranger.cassId, threadName: 'hello', wait: false }),
      // A message Postgres cannot store (NUL): refused for this ping only.
      t.services.bot.ping(acme.tenant, { personRef: people[1]!.cassId, threadName: 'hello', wait: true, messages: ['bad\u0000text'] }),
    ]
    const settled = await Promise.allSettled(pings)
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason]] : []))
    expect(failed).toHaveLength(1)
    expect(failed[0]![0]).toBe(pings.length - 1)
    expect(failed[0]![1]).toMatchObject({ code: 'invalid_body' })
    const answers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    // Every synchronous ping's messages were handed to the provider before it answered.
    for (const a of answers.slice(0, people.length + 1)) {
      expect(a.messages.length).toBeGreaterThan(0)
      for (const m of a.messages) expect((await t.services.delivery.getOutbox(acme.tenant, m.id)).status).toBe('sent')
    }
    // Personalised per person, in the person's own conversation.
    expect(answers[5]!.messages.map((m) => m.body)).toEqual(['Hello P5', 'How are you? 1 good, 2 bad'])
    expect(answers[5]!.personId).toBe(people[5]!.id)
    // The person pinged twice: two conversations, the first replaced by the second, one active.
    const convs = await sql<{ status: string; id: string }>`SELECT status, id FROM conversations WHERE tenant_id = ${acme.tenant.id} AND person_id = ${twice.id} ORDER BY created_at`.execute(t.store.db)
    expect(convs.rows.map((r) => r.status).sort()).toEqual(['active', 'replaced'])
    expect(new Set([answers[0]!.conversationId, answers[people.length]!.conversationId])).toEqual(new Set(convs.rows.map((r) => r.id)))
    // The refused ping wrote nothing: people[1] has only its first conversation and its two messages.
    const own = await sql<{ n: number }>`SELECT count(*)::int AS n FROM conversations WHERE tenant_id = ${acme.tenant.id} AND person_id = ${people[1]!.id}`.execute(t.store.db)
    expect(own.rows[0]!.n).toBe(1)
    const transcript = await t.services.bot.transcript(acme.tenant, people[1]!.id)
    expect(transcript.map((e) => e.text)).toEqual(['Hello P1', 'How are you? 1 good, 2 bad'])
    // The other tenant's ping is its own.
    expect(answers[people.length + 1]!.messages.map((m) => m.tenantId)).toEqual([other.tenant.id, other.tenant.id])
  })
})
