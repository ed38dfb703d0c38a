import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { NotificationScheduler } from '../../jobs/notification-scheduler.ts'
import type { Person } from '../people/index.ts'
import type { FireStats } from './index.ts'

// The check-in and autoping scheduler against a real database: notifications the bot scheduled
// (through /ping_person and thread steps) fire at their time, exactly once, on the person's
// protocol; web people's wait for the Notification API; autopings only fire for silent people.

let t: TestApp
let acme: TestTenant

const THREADS = `
threads:
  start:
    steps:
      - say: "Welcome"
      - checkin: { after: 1s, thread: daily }
  morning:
    steps:
      - checkin: { after: 1d, at: "09:00", thread: daily }
  daily:
    steps:
      - say: "Daily check-in: how are you, <<NAME>>?"
  quiet:
    steps:
      - autoping: { after: 1s, thread: nudge }
      - ask: "How are you? good or bad"
        choices:
          - { match: [good], say: "Great!", end: true }
          - { match: [bad], say: "Sorry", end: true }
  nudge:
    steps:
      - say: "Still there?"
`

beforeAll(async () => {
  // A database of its own: the firing here must not fire (or be raced by) other files' notifications.
  t = await startTestApp({ workers: true, isolated: true })
  acme = await createTenant(t.services)
  await t.services.threads.load(acme.tenant, THREADS, 'yaml')
})
afterAll(async () => t?.close())

const ping = (personId: string, thread: string) =>
  t.app.inject({ method: 'POST', url: '/ping_person', headers: { authorization: acme.cassAuth }, payload: { person_id: personId, thread_name: thread, is_asynch: 'true' } })

const rowsOf = (personId: string) =>
  t.store.db.selectFrom('scheduled_notifications').selectAll().where('tenant_id', '=', acme.tenant.id).where('person_id', '=', personId).orderBy('created_at').execute()

const outboxTo = async (personId: string) =>
  (await t.store.db.selectFrom('outbox_messages').select(['body', 'channel', 'recipient as to', 'idempotency_key']).where('tenant_id', '=', acme.tenant.id).where('person_id', '=', personId)
    .orderBy('created_at').orderBy('idempotency_key').execute())

/** Fire until `done` holds (notifications scheduled "after 1s" need that second to pass). */
async function fireUntil(what: string, done: () => Promise<boolean>): Promise<FireStats[]> {
  const all: FireStats[] = []
  await waitFor(what, async () => {
    all.push(await t.services.firing.fireDue())
    return done()
  }, 15_000, 100)
  return all
}

/** Make a person's pending notifications due now (instead of waiting out "after 1d"). */
async function makeDue(personId: string) {
  await sql`UPDATE scheduled_notifications SET due_at = now() - interval '1 second' WHERE tenant_id = ${acme.tenant.id} AND person_id = ${personId} AND status = 'pending'`.execute(t.store.db)
}

describe('check-ins', () => {
  it('a check-in a thread step scheduled fires once at its time: the bot sends its thread on the person’s protocol', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone(), firstName: 'Ada' })
    expect((await ping(person.cassId, 'start')).statusCode).toBe(200)
    const [scheduled] = await rowsOf(person.id)
    expect(scheduled).toMatchObject({ type: 'checkin', thread_name: 'daily', status: 'pending' })

    await fireUntil('the check-in to fire', async () => (await rowsOf(person.id))[0]!.status === 'fired')
    const [fired] = await rowsOf(person.id)
    expect(fired!.fired_at!.getTime()).toBeGreaterThanOrEqual(fired!.due_at.getTime())
    expect(fired!.queued).toBe(false)
    const sent = await outboxTo(person.id)
    expect(sent.map((m) => [m.channel, m.to, m.body])).toEqual([
      ['sms', person.phone, 'Welcome'],
      ['sms', person.phone, 'Daily check-in: how are you, Ada?'],
    ])
    const conversation = await t.store.db.selectFrom('conversations').selectAll().where('tenant_id', '=', acme.tenant.id).where('start_key', '=', `notification:${fired!.id}`).executeTakeFirstOrThrow()
    expect(conversation).toMatchObject({ person_id: person.id, thread_name: 'daily', started_by: 'checkin' })
    expect(sent[1]!.idempotency_key).toBe(`bot:${conversation.id}:1`)

    // Firing again finds nothing more to do for this person.
    await t.services.firing.fireDue()
    expect(await outboxTo(person.id)).toHaveLength(2)
    // The send job delivers it through the sandbox provider.
    await waitFor('the check-in message to be sent', async () =>
      (await t.store.db.selectFrom('outbox_messages').select('status').where('idempotency_key', '=', sent[1]!.idempotency_key).where('tenant_id', '=', acme.tenant.id).executeTakeFirst())?.status === 'sent')
  })

  it('"after 1d at 09:00" is due at nine tomorrow on the person’s clock', async () => {
    const { person } = await t.services.people.create(acme.tenant, { phone: uniquePhone(), timezone: 'America/New_York' })
    expect((await ping(person.cassId, 'morning')).statusCode).toBe(200)
    const [row] = await rowsOf(person.id)
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    const parts = (d: Date) => Object.fromEntries(local.formatToParts(d).map((p) => [p.type, p.value]))
    const due = parts(row!.due_at)
    expect(`${due.hour}:${due.minute}`).toBe('09:00')
    const tomorrow = parts(new Date(row!.created_at.getTime() + 86_400_000))
    expect(`${due.year}-${due.month}-${due.day}`).toBe(`${tomorrow.year}-${tomorrow.month}-${tomorrow.day}`)
  })

  it('many firing loops at once (and repeated calls) fire each due check-in exactly once', async () => {
    const people: Person[] = []
    for (let i = 0; i < 40; i++) people.push(await seedPerson(t, acme, { phone: uniquePhone() }))
    await t.store.db.transaction().execute(async (trx) => {
      for (const [i, p] of people.entries()) {
        await t.services.scheduling.schedule(trx, {
          tenantId: acme.tenant.id, personId: p.id, type: 'checkin', threadName: 'daily', dueAt: new Date(Date.now() - 1000 + i), idempotencyKey: `burst:${p.id}`,
        })
      }
    })
    const loops = [1, 2, 3].map(() => new NotificationScheduler({ fire: (o) => t.services.firing.fireDue(o), batchSize: 4, concurrency: 3, pollMs: 50 }))
    for (const l of loops) l.start()
    const ids = people.map((p) => p.id)
    const pending = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM scheduled_notifications WHERE person_id = ANY(${ids}::uuid[]) AND status = 'pending'`.execute(t.store.db)).rows[0]!.n)
    await Promise.all([waitFor('every check-in to fire', async () => (await pending()) === 0, 20_000), t.services.firing.fireDue({ limit: 3 }), t.services.firing.fireDue({ limit: 5 })])
    await Promise.all(loops.map((l) => l.stop()))

    const perPerson = await sql<{ person_id: string; messages: string; conversations: string }>`
      SELECT p.id AS person_id,
        (SELECT count(*) FROM outbox_messages o WHERE o.person_id = p.id) AS messages,
        (SELECT count(*) FROM conversations c WHERE c.person_id = p.id AND c.start_key LIKE 'notification:%') AS conversations
      FROM people p WHERE p.id = ANY(${ids}::uuid[])`.execute(t.store.db)
    expect(perPerson.rows).toHaveLength(40)
    for (const r of perPerson.rows) expect([r.person_id, Number(r.messages), Number(r.conversations)]).toEqual([r.person_id, 1, 1])
    expect(loops.reduce((n, l) => n + l.totals.started, 0)).toBeLessThanOrEqual(40)
  })

  it('a notification whose thread is gone fails with the reason, without holding up the rest of its batch', async () => {
    const a = await seedPerson(t, acme, { phone: uniquePhone() })
    const b = await seedPerson(t, acme, { phone: uniquePhone() })
    await t.store.db.transaction().execute(async (trx) => {
      await t.services.scheduling.schedule(trx, { tenantId: acme.tenant.id, personId: a.id, type: 'checkin', threadName: 'no_such_thread', dueAt: new Date(Date.now() - 1000), idempotencyKey: `gone:${a.id}` })
      await t.services.scheduling.schedule(trx, { tenantId: acme.tenant.id, personId: b.id, type: 'checkin', threadName: 'daily', dueAt: new Date(Date.now() - 1000), idempotencyKey: `ok:${b.id}` })
    })
    await fireUntil('both to be settled', async () => (await rowsOf(a.id))[0]!.status !== 'pending' && (await rowsOf(b.id))[0]!.status !== 'pending')
    expect(await rowsOf(a.id)).toMatchObject([{ status: 'failed', attempts: 1, last_error: 'no thread no_such_thread' }])
    expect(await rowsOf(b.id)).toMatchObject([{ status: 'fired' }])
    expect(await outboxTo(a.id)).toEqual([])
    expect(await outboxTo(b.id)).toHaveLength(1)
  })
})

describe('web people', () => {
  it('a due check-in is not sent: it waits, fired, for the Notification API, which hands it out once', async () => {
    const { person } = await t.services.people.create(acme.tenant, { externalId: `web-${Date.now()}`, protocol: 'web' })
    await t.store.db.transaction().execute((trx) => t.services.scheduling.schedule(trx, {
      tenantId: acme.tenant.id, personId: person.id, type: 'checkin', threadName: 'daily', dueAt: new Date(Date.now() - 1000), idempotencyKey: `web:${person.id}`,
    }))
    const stats = await fireUntil('the check-in to fire', async () => (await rowsOf(person.id))[0]!.status === 'fired')
    expect(stats.reduce((n, s) => n + s.queued, 0)).toBe(1)
    expect(await rowsOf(person.id)).toMatchObject([{ status: 'fired', queued: true }])
    expect(await outboxTo(person.id)).toEqual([])

    const r = await t.app.inject({ method: 'GET', url: `/notifications?person_id=${person.cassId}`, headers: { authorization: acme.cassAuth } })
    expect(r.statusCode, r.body).toBe(200)
    expect(r.json()).toMatchObject({ data: [{ type: 'checkin', thread_name: 'daily' }] })
    expect(await rowsOf(person.id)).toEqual([])
    const again = await t.app.inject({ method: 'GET', url: `/notifications/${person.cassId}`, headers: { authorization: acme.cassAuth } })
    expect(again.statusCode).toBe(400)
  })
})

describe('autopings', () => {
  it('fire for a person who stayed silent, and never for one who answered', async () => {
    const silent = await seedPerson(t, acme, { phone: uniquePhone() })
    const talker = await seedPerson(t, acme, { phone: uniquePhone() })
    const late = await seedPerson(t, acme, { phone: uniquePhone() })
    for (const p of [silent, talker, late]) expect((await ping(p.cassId, 'quiet')).statusCode).toBe(200)
    for (const p of [silent, talker, late]) expect(await rowsOf(p.id)).toMatchObject([{ type: 'autoping', thread_name: 'nudge', status: 'pending' }])

    // The talker answers before the autoping is due: the bot ends the conversation and cancels it.
    await t.services.delivery.receive(acme.tenant, { channel: 'sms', from: talker.phone!, body: 'good', provider: 'sandbox' })
    await waitFor('the bot to answer', async () => (await outboxTo(talker.id)).some((m) => m.body === 'Great!'))
    expect(await rowsOf(talker.id)).toMatchObject([{ status: 'cancelled' }])

    // The late one answers just as it comes due: whether the bot or the firing looks first, no nudge.
    await makeDue(late.id)
    await t.services.delivery.receive(acme.tenant, { channel: 'sms', from: late.phone!, body: 'bad', provider: 'sandbox' })
    await fireUntil('the silent person’s autoping to fire', async () => (await rowsOf(silent.id))[0]!.status === 'fired')
    await waitFor('the bot to answer the late one', async () => (await outboxTo(late.id)).some((m) => m.body === 'Sorry'))
    await t.services.firing.fireDue()

    expect((await outboxTo(silent.id)).map((m) => m.body)).toEqual(['How are you? good or bad', 'Still there?'])
    expect((await outboxTo(talker.id)).map((m) => m.body)).toEqual(['How are you? good or bad', 'Great!'])
    expect((await outboxTo(late.id)).map((m) => m.body)).toEqual(['How are you? good or bad', 'Sorry'])
    expect(await rowsOf(late.id)).toMatchObject([{ status: 'cancelled' }])
    const nudged = await t.store.db.selectFrom('conversations').select(['thread_name', 'started_by']).where('person_id', '=', silent.id).where('status', '!=', 'replaced').execute()
    expect(nudged).toEqual([{ thread_name: 'nudge', started_by: 'autoping' }])
  })
})
