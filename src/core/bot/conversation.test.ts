import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// The bot end to end through HTTP: a ping, then the person answers through the sandbox's
// "answer as the person", the inbound worker advances the conversation, the transcript records all.

let t: TestApp
let acme: TestTenant

const THREADS = `
default_thread: hello
threads:
  hello:
    steps:
      - autoping: { after: 2h, thread: nudge }
      - ask: "How are you? 1 good, 2 bad"
        choices:
          - { match: [good, bien], label: Good, say: "Great!" }
          - { match: [bad, mal], label: Bad, next: support }
        otherwise: "Please reply good or bad"
      - ask: "What is your name?"
        store: { field: first_name }
        confirm: "Thanks <<NAME>>"
      - checkin: { after: 1d, at: "09:00", thread: hello }
      - end: "Bye"
  support:
    steps:
      - say: "Sorry to hear that"
  nudge:
    steps:
      - say: "Still there?"
`

beforeAll(async () => {
  t = await startTestApp({ workers: true })
  acme = await createTenant(t.services)
  await t.services.threads.load(acme.tenant, THREADS, 'yaml')
})
afterAll(async () => t?.close())

const transcriptRows = async (personId: string) =>
  (await sql<{ direction: string; text: string; thread_name: string | null; channel: string; person_id: string }>`
    SELECT direction, text, thread_name, channel, person_id FROM transcript WHERE core_person_id = ${personId} ORDER BY created_at, sort_key`.execute(t.store.db)).rows

function answer(from: string, body: string, channel = 'sms') {
  return t.app.inject({ method: 'POST', url: '/sandbox/api/inbound', headers: { authorization: acme.cassAuth, 'content-type': 'application/json' }, payload: { channel, from, body } })
}

describe('a conversation over sms, driven by the sandbox', () => {
  it('pings, takes answers, stores the name, schedules the check-in and the autoping, and keeps the transcript', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    const ping = await t.app.inject({ method: 'POST', url: '/ping_person', headers: { authorization: acme.cassAuth }, payload: { person_id: person.cassId, thread_name: 'hello' } })
    expect(ping.statusCode, ping.body).toBe(200)
    const autoping1 = await t.services.scheduling.listForPerson(acme.tenant, person.id, 'pending')
    expect(autoping1).toMatchObject([{ type: 'autoping', threadName: 'nudge', status: 'pending' }])

    expect((await answer(person.phone!, 'hmm')).statusCode).toBe(201)
    await waitFor('the re-prompt', async () => (await transcriptRows(person.id)).length === 3)
    expect((await answer(person.phone!, 'BIEN!')).statusCode).toBe(201)
    await waitFor('the next question', async () => (await transcriptRows(person.id)).length === 6)
    await answer(person.phone!, 'Zoë')
    await waitFor('the goodbye', async () => (await transcriptRows(person.id)).at(-1)?.text === 'Bye')

    expect((await transcriptRows(person.id)).map((r) => [r.direction, r.text, r.thread_name])).toEqual([
      ['out', 'How are you? 1 good, 2 bad', 'hello'],
      ['in', 'hmm', 'hello'],
      ['out', 'Please reply good or bad', 'hello'],
      ['in', 'BIEN!', 'hello'],
      ['out', 'Great!', 'hello'],
      ['out', 'What is your name?', 'hello'],
      ['in', 'Zoë', 'hello'],
      ['out', 'Thanks Zoë', 'hello'],
      ['out', 'Bye', 'hello'],
    ])
    expect((await transcriptRows(person.id))[0]).toMatchObject({ channel: 'sms', person_id: person.cassId })
    expect((await t.services.people.getByRef(acme.tenant, person.cassId)).firstName).toBe('Zoë')
    const notifications = await t.services.scheduling.listForPerson(acme.tenant, person.id)
    expect(notifications.filter((n) => n.status === 'pending').map((n) => [n.type, n.threadName])).toEqual([['checkin', 'hello']])
    expect(notifications.filter((n) => n.type === 'autoping' && n.status === 'cancelled').length).toBeGreaterThanOrEqual(3)
    expect(await t.services.bot.conversation(acme.tenant, person.id)).toMatchObject({ status: 'ended', threadName: 'hello' })
    // The core transcript lists the same, oldest first.
    expect((await t.services.bot.transcript(acme.tenant, person.id)).map((e) => e.text).at(-1)).toBe('Bye')
  })

  it('a person with no conversation gets the default thread; an unknown sender gets nothing', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    await answer(person.phone!, 'hello?')
    await waitFor('the default thread', async () => (await transcriptRows(person.id)).length === 2)
    expect((await transcriptRows(person.id)).map((r) => r.text)).toEqual(['hello?', 'How are you? 1 good, 2 bad'])
    const stranger = uniquePhone()
    const r = await answer(stranger, 'who is this')
    const id = JSON.parse(r.body).data.id
    await waitFor('the message to be processed', async () => (await t.services.delivery.listInbound(acme.tenant)).find((m) => m.id === id)?.status === 'processed')
  })

  it('people finish on the version they started; new conversations use the new version', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    await t.services.bot.ping(acme.tenant, { personRef: person.cassId, threadName: 'hello', wait: true })
    await t.services.threads.load(acme.tenant, THREADS.replace('"Great!"', '"Splendid!"').replace('"How are you? 1 good, 2 bad"', '"How do you do?"'), 'yaml')
    await answer(person.phone!, 'good')
    await waitFor('the answer', async () => (await transcriptRows(person.id)).some((r) => r.text === 'Great!'))
    const fresh = await seedPerson(t, acme, { phone: uniquePhone() })
    await t.services.bot.ping(acme.tenant, { personRef: fresh.cassId, threadName: 'hello', wait: true })
    expect((await transcriptRows(fresh.id)).map((r) => r.text)).toEqual(['How do you do?'])
  })

  it('a retried inbound message advances the conversation once', async () => {
    const person = await seedPerson(t, acme, { phone: uniquePhone() })
    await t.services.bot.ping(acme.tenant, { personRef: person.cassId, threadName: 'hello', wait: true })
    const { message } = await t.services.delivery.receive(acme.tenant, { channel: 'sms', from: person.phone!, body: '2', provider: 'sandbox' })
    await waitFor('processing', async () => (await transcriptRows(person.id)).length === 3)
    await t.services.bot.handleInbound(message)
    await t.services.bot.handleInbound(message)
    expect((await transcriptRows(person.id)).map((r) => r.text)).toEqual(['How do you do?', '2', 'Sorry to hear that'])
  })
})

describe('web chat', () => {
  it('bot.receive drives a web person’s conversation; messages go to the webchat channel', async () => {
    const { person } = await t.services.people.create(acme.tenant, { externalId: `web-${Date.now()}`, protocol: 'web' })
    await t.services.bot.ping(acme.tenant, { personRef: person.cassId, threadName: 'hello', wait: true })
    const first = await t.services.delivery.listOutbox(acme.tenant, { channel: 'webchat' })
    expect(first.find((m) => m.personId === person.id)).toMatchObject({ to: person.cassId, data: { quick_replies: ['Good', 'Bad'] } })
    expect(await t.services.bot.conversation(acme.tenant, person.id)).toMatchObject({ status: 'active', awaiting: 'choice', quickReplies: ['Good', 'Bad'] })
    await t.services.bot.receive(acme.tenant, person.cassId, 'Bad')
    await waitFor('the answer', async () => (await t.services.bot.transcript(acme.tenant, person.id)).some((e) => e.text === 'Sorry to hear that'))
    // The sandbox's answer form on the webchat channel, from the person's id, does the same.
    await t.services.bot.ping(acme.tenant, { personRef: person.cassId, threadName: 'hello', wait: true })
    await answer(person.cassId, '2', 'webchat')
    await waitFor('the sandbox answer', async () => (await t.services.bot.transcript(acme.tenant, person.id)).filter((e) => e.text === 'Sorry to hear that').length === 2)
  })
})
