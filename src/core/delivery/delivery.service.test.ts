import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { openTestStore } from '../../../test/helpers/store.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { Store } from '../../db/store.ts'
import { defineJobs } from '../../jobs/definitions.ts'
import { JobQueue } from '../../jobs/index.ts'
import { createServices, providerResolver, type Services } from '../../services.ts'
import { ProviderRegistry } from '../../providers/index.ts'
import { loadConfig } from '../../config.ts'
import { PeopleService } from '../people/index.ts'
import { SEND_BATCH_JOB, SEND_MESSAGE_JOB } from './delivery.jobs.ts'
import { SANDBOX_FAILURES } from '../../providers/sandbox.ts'
import { DeliveryService } from './delivery.service.ts'
import type { InboundMessage } from './delivery.types.ts'

// The delivery core wired by hand over the test store, with a pg-boss schema of this file's own:
// on the shared PostgreSQL database no other test file's workers may take these jobs (their
// services would not have this file's inbound handler).
let store: Store
let services: Services
let jobs: JobQueue
let delivery: DeliveryService
let people: PeopleService
let acme: TestTenant
let other: TestTenant
const schema = `pgboss_delivery_${randomUUID().slice(0, 8)}`

beforeAll(async () => {
  store = await openTestStore()
  services = createServices(loadConfig({ SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent' }), store)
  people = new PeopleService(store.db)
  jobs = new JobQueue({ db: store.db, url: store.url, schema, poolSize: 3 })
  delivery = new DeliveryService(store.db, jobs, { providers: providerResolver(new ProviderRegistry()), tracking: services.tracking, people: services.peopleLookups })
  defineJobs(jobs, { delivery })
  await jobs.start()
  await jobs.work({ pollingIntervalSeconds: 0.5 })
  acme = await createTenant(services)
  other = await createTenant(services)
})
afterAll(async () => {
  await jobs?.stop({ timeoutMs: 2000 })
  if (store) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(store.db)
  await store?.close()
})

const outboxCount = async (tenantId: string) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_messages WHERE tenant_id = ${tenantId}`.execute(store.db)).rows[0]!.n

async function bossJobState(jobId: string) {
  const r = await sql<{ state: string }>`SELECT state::text AS state FROM ${sql.table(`${schema}.job`)} WHERE id = ${jobId}`.execute(store.db)
  return r.rows[0]?.state
}

describe('send', () => {
  it('queues an outbox row with its job; the sandbox takes it and the status moves queued → sent', async () => {
    const phone = uniquePhone()
    const { person } = await people.create(acme.tenant, { phone, firstName: 'Ada' })
    const written = `${phone.slice(0, 2)} (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`
    const { message, created } = await delivery.send(acme.tenant, { channel: 'sms', to: written, body: 'Your appointment is tomorrow at 10:00' })
    expect(created).toBe(true)
    expect(message).toMatchObject({ tenantId: acme.tenant.id, channel: 'sms', to: phone, personId: person.id, status: 'queued', provider: null, attempts: 0 })
    const done = await waitFor('the message to be sent', async () => {
      const m = await delivery.getOutbox(acme.tenant, message.id)
      return m.status === 'sent' ? m : undefined
    })
    expect(done).toMatchObject({ provider: 'sandbox', providerMessageId: expect.stringMatching(/^sandbox-/), attempts: 1, lastError: null })
    expect(done.sentAt).toBeInstanceOf(Date)
    expect(await jobs.findKey(SEND_MESSAGE_JOB, `outbox:${message.id}`)).toMatchObject({ state: 'completed', tenantId: acme.tenant.id })
  })

  it('sends once per idempotency key', async () => {
    const key = `reminder-${randomUUID()}`
    const input = { channel: 'email', to: 'ada@example.org', subject: 'Reminder', body: 'See you soon', idempotencyKey: key }
    const results = await Promise.all([1, 2, 3].map(() => delivery.send(acme.tenant, input)))
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1)
    const id = results[0]!.message.id
    await waitFor('the message to be sent', async () => (await delivery.getOutbox(acme.tenant, id)).status === 'sent')
    expect((await delivery.getOutbox(acme.tenant, id)).attempts).toBe(1)
    // Another tenant may use the same key for its own message.
    expect((await delivery.send(other.tenant, input)).created).toBe(true)
  })

  it('writes concurrent sends together, yet answers each caller alone: an unknown person fails only its own send', async () => {
    const { person } = await people.create(acme.tenant, { phone: uniquePhone() })
    const key = `shared-${randomUUID()}`
    const stranger = randomUUID()
    const before = await outboxCount(acme.tenant.id)
    const settled = await Promise.allSettled([
      ...Array.from({ length: 40 }, (_, i) => delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: `bulk ${i}` })),
      delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'to nobody', personId: stranger }),
      delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'to the person', personId: person.id }),
      ...[1, 2, 3].map(() => delivery.send(acme.tenant, { channel: 'push', to: 'device-9', body: 'once', idempotencyKey: key })),
      delivery.send(other.tenant, { channel: 'sms', to: uniquePhone(), body: 'another tenant' }),
    ])
    const failed = settled.filter((r) => r.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'person_not_found', message: `unknown person ${stranger}` })
    const answers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    expect(answers).toHaveLength(45)
    const keyed = answers.filter((a) => a.message.idempotencyKey === key)
    expect(keyed.filter((a) => a.created)).toHaveLength(1)
    expect(new Set(keyed.map((a) => a.message.id)).size).toBe(1)
    expect(answers.find((a) => a.message.body === 'to the person')!.message.personId).toBe(person.id)
    expect(answers.find((a) => a.message.body === 'another tenant')!.message.tenantId).toBe(other.tenant.id)
    // 40 + the person's + one keyed message; the refused one wrote nothing.
    expect(await outboxCount(acme.tenant.id)).toBe(before + 42)
    await waitFor('every message to be sent', async () => {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_messages WHERE tenant_id = ${acme.tenant.id} AND body LIKE 'bulk %' AND status = 'sent'`.execute(store.db)
      return r.rows[0]!.n === 40
    })
  })

  it('sendMany checks every message first and writes all or none, in order', async () => {
    const before = await outboxCount(acme.tenant.id)
    await expect(delivery.sendMany(acme.tenant, [
      { channel: 'sms', to: uniquePhone(), body: 'fine' },
      { channel: 'sms', to: 'not a phone', body: 'bad' },
    ])).rejects.toMatchObject({ code: 'invalid_recipient', details: { index: 1 } })
    await expect(delivery.sendMany(acme.tenant, [
      { channel: 'sms', to: uniquePhone(), body: 'a', idempotencyKey: 'twice' },
      { channel: 'sms', to: uniquePhone(), body: 'b', idempotencyKey: 'twice' },
    ])).rejects.toMatchObject({ code: 'invalid_key', details: { index: 1 } })
    expect(await outboxCount(acme.tenant.id)).toBe(before)
    const phones = [uniquePhone(), uniquePhone(), uniquePhone()]
    const answers = await delivery.sendMany(acme.tenant, phones.map((to, i) => ({ channel: 'sms', to, body: `n${i}` })))
    expect(answers.map((a) => [a.message.to, a.message.body, a.created])).toEqual(phones.map((to, i) => [to, `n${i}`, true]))
  })

  it('joins the caller’s transaction: a rollback leaves no message and no job', async () => {
    const before = await outboxCount(acme.tenant.id)
    await expect(store.db.transaction().execute(async (trx) => {
      await delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'never' }, { trx })
      throw new Error('the change that caused it failed')
    })).rejects.toThrow('the change that caused it failed')
    expect(await outboxCount(acme.tenant.id)).toBe(before)

    const { message } = await store.db.transaction().execute((trx) => delivery.send(acme.tenant, { channel: 'push', to: 'device-token-1', body: 'committed' }, { trx }))
    jobs.wake(SEND_MESSAGE_JOB)
    await waitFor('the committed message', async () => (await delivery.getOutbox(acme.tenant, message.id)).status === 'sent')
  })

  it('holds a message until its send time', async () => {
    const { message } = await delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'later', sendAt: new Date(Date.now() + 3_600_000) })
    const now = await delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'now' })
    await waitFor('the due message', async () => (await delivery.getOutbox(acme.tenant, now.message.id)).status === 'sent')
    expect((await delivery.getOutbox(acme.tenant, message.id)).status).toBe('queued')
  })

  it('refuses bad input before writing anything', async () => {
    const before = await outboxCount(acme.tenant.id)
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ channel: 'fax', to: '+14155552671', body: 'x' }, 'invalid_channel'],
      [{ channel: 'sms', to: '12', body: 'x' }, 'invalid_recipient'],
      [{ channel: 'whatsapp', to: 'not a phone', body: 'x' }, 'invalid_recipient'],
      [{ channel: 'email', to: 'nobody', body: 'x' }, 'invalid_recipient'],
      [{ channel: 'push', to: '   ', body: 'x' }, 'invalid_recipient'],
      [{ channel: 'sms', to: uniquePhone(), body: '  ' }, 'invalid_body'],
      [{ channel: 'sms', to: uniquePhone(), body: 'nul \u0000 inside' }, 'invalid_body'],
      [{ channel: 'sms', to: uniquePhone(), body: 'x'.repeat(20_001) }, 'invalid_body'],
      [{ channel: 'email', to: 'a@b.co', subject: 's'.repeat(501), body: 'x' }, 'invalid_subject'],
      [{ channel: 'sms', to: uniquePhone(), body: 'x', data: { big: 'y'.repeat(20_000) } }, 'invalid_data'],
      [{ channel: 'sms', to: uniquePhone(), body: 'x', idempotencyKey: '' }, 'invalid_key'],
      [{ channel: 'sms', to: uniquePhone(), body: 'x', sendAt: new Date('nope') }, 'invalid_send_at'],
      [{ channel: 'sms', to: uniquePhone(), body: 'x', personId: 'not-a-uuid' }, 'invalid_person_id'],
    ]
    for (const [input, code] of bad) {
      await expect(delivery.send(acme.tenant, input as never), JSON.stringify(input).slice(0, 80)).rejects.toMatchObject({ code })
    }
    // Another tenant's person cannot be addressed.
    const { person } = await people.create(other.tenant, { phone: uniquePhone() })
    await expect(delivery.send(acme.tenant, { channel: 'sms', to: uniquePhone(), body: 'x', personId: person.id })).rejects.toMatchObject({ code: 'person_not_found' })
    expect(await outboxCount(acme.tenant.id)).toBe(before)
  })

  it('marks a message the provider rejects as failed at once, and dead-letters its job', async () => {
    // +15005550001 is the sandbox's invalid number.
    const { message } = await delivery.send(acme.tenant, { channel: 'sms', to: '+15005550001', body: 'x' })
    const failed = await waitFor('the failure', async () => {
      const m = await delivery.getOutbox(acme.tenant, message.id)
      return m.status === 'failed' ? m : undefined
    })
    expect(failed).toMatchObject({ attempts: 1, provider: 'sandbox', lastError: expect.stringContaining('invalid recipient') })
    await waitFor('the dead key', async () => (await jobs.findKey(SEND_MESSAGE_JOB, `outbox:${message.id}`))?.state === 'dead')
  })

  it('retries a provider outage with backoff, then marks the message failed with the last error', async () => {
    // unavailable@sandbox.invalid is the sandbox's outage address.
    const { message } = await delivery.send(acme.tenant, { channel: 'email', to: 'unavailable@sandbox.invalid', subject: 's', body: 'x' })
    const key = `outbox:${message.id}`
    const jobId = (await jobs.findKey(SEND_MESSAGE_JOB, key))!.jobId
    // Each failed attempt puts the message back in the queue with its error; we skip the backoff.
    await waitFor('every retry to fail', async () => {
      const m = await delivery.getOutbox(acme.tenant, message.id)
      if (m.status === 'failed') return true
      if ((await bossJobState(jobId)) === 'retry') {
        expect(m).toMatchObject({ status: 'queued', lastError: expect.stringContaining('unavailable') })
        await sql`UPDATE ${sql.table(`${schema}.job`)} SET start_after = now() WHERE id = ${jobId} AND state = 'retry'`.execute(store.db)
        jobs.wake(SEND_MESSAGE_JOB)
      }
      return false
    }, 30_000)
    expect(await delivery.getOutbox(acme.tenant, message.id)).toMatchObject({ status: 'failed', attempts: 6, lastError: expect.stringContaining('unavailable') })
    expect(await jobs.findKey(SEND_MESSAGE_JOB, key)).toMatchObject({ state: 'dead', attempts: 6 })
  })

  it('lists a tenant’s outbox newest first, by channel, and never another tenant’s', async () => {
    const t = await createTenant(services)
    const a = await delivery.send(t.tenant, { channel: 'sms', to: uniquePhone(), body: 'first' })
    const b = await delivery.send(t.tenant, { channel: 'email', to: 'x@example.org', body: 'second' })
    const c = await delivery.send(t.tenant, { channel: 'sms', to: uniquePhone(), body: 'third' })
    expect((await delivery.listOutbox(t.tenant)).map((m) => m.id)).toEqual([c, b, a].map((r) => r.message.id))
    expect((await delivery.listOutbox(t.tenant, { channel: 'sms' })).map((m) => m.body)).toEqual(['third', 'first'])
    expect((await delivery.listOutbox(t.tenant, { limit: 1 })).map((m) => m.body)).toEqual(['third'])
    expect((await delivery.listOutbox(other.tenant)).map((m) => m.id)).not.toContain(a.message.id)
    await expect(delivery.getOutbox(other.tenant, a.message.id)).rejects.toMatchObject({ code: 'message_not_found' })
    await expect(delivery.listOutbox(t.tenant, { limit: 0 })).rejects.toMatchObject({ code: 'invalid_limit' })
  })
})

describe('receive', () => {
  it('stores an inbound message with the person matched by phone, and runs the inbound handlers in a worker', async () => {
    const seen: InboundMessage[] = []
    const off = delivery.onInbound(async (m) => {
      seen.push(m)
    })
    try {
      const phone = uniquePhone()
      const { person } = await people.create(acme.tenant, { phone })
      const { message, created } = await delivery.receive(acme.tenant, { channel: 'sms', from: phone.slice(1), body: 'YES', provider: 'sandbox' })
      expect(created).toBe(true)
      expect(message).toMatchObject({ channel: 'sms', from: phone, personId: person.id, body: 'YES', status: 'received', provider: 'sandbox' })
      await waitFor('the handlers', async () => (await delivery.listInbound(acme.tenant)).find((m) => m.id === message.id)?.status === 'processed')
      expect(seen.map((m) => m.id)).toEqual([message.id])

      // Someone not in the directory is stored without a person; e-mail matches case-insensitively.
      const stranger = await delivery.receive(acme.tenant, { channel: 'whatsapp', from: uniquePhone(), body: 'hi', provider: 'sandbox' })
      expect(stranger.message.personId).toBeNull()
      await sql`UPDATE people SET email = 'Grace@Example.org' WHERE id = ${person.id}`.execute(store.db)
      const mail = await delivery.receive(acme.tenant, { channel: 'email', from: 'grace@example.ORG', body: 'hello', provider: 'sandbox' })
      expect(mail.message.personId).toBe(person.id)
      // Other tenants' people are never matched.
      const elsewhere = await delivery.receive(other.tenant, { channel: 'sms', from: phone, body: 'hi', provider: 'sandbox' })
      expect(elsewhere.message.personId).toBeNull()
    } finally {
      off()
    }
  })

  it('stores a provider message id once', async () => {
    const input = { channel: 'sms', from: uniquePhone(), body: 'again', provider: 'sandbox', providerMessageId: `SM${randomUUID()}` }
    const first = await delivery.receive(acme.tenant, input)
    const second = await delivery.receive(acme.tenant, input)
    expect(first.created).toBe(true)
    expect(second).toMatchObject({ created: false, message: { id: first.message.id } })
  })

  it('refuses bad input', async () => {
    await expect(delivery.receive(acme.tenant, { channel: 'pager', from: '+14155552671', body: 'x', provider: 'sandbox' })).rejects.toMatchObject({ code: 'invalid_channel' })
    await expect(delivery.receive(acme.tenant, { channel: 'sms', from: 'abc', body: 'x', provider: 'sandbox' })).rejects.toMatchObject({ code: 'invalid_sender' })
    await expect(delivery.receive(acme.tenant, { channel: 'sms', from: uniquePhone(), body: '', provider: 'sandbox' })).rejects.toMatchObject({ code: 'invalid_body' })
  })
})

describe('sendMany batched (a multicast\'s batch)', () => {
  it('puts the due messages under one delivery.send-batch job, not a job each; each is sent once, keeping its own key', async () => {
    const inputs = [uniquePhone(), uniquePhone(), uniquePhone()].map((to, i) => ({ channel: 'sms', to, body: `batched ${i}`, idempotencyKey: `batch-${randomUUID()}` }))
    const answers = await store.db.transaction().execute((trx) => delivery.sendMany(acme.tenant, inputs, { trx, batched: true }))
    delivery.wake()
    const ids = answers.map((a) => a.message.id)
    expect(await jobs.findKey(SEND_BATCH_JOB, `outbox-batch:${ids[0]!}`)).toMatchObject({ tenantId: acme.tenant.id })
    for (const id of ids) expect(await jobs.findKey(SEND_MESSAGE_JOB, `outbox:${id}`)).toBeUndefined()
    await waitFor('every message sent', async () => (await Promise.all(ids.map((id) => delivery.getOutbox(acme.tenant, id)))).every((m) => m.status === 'sent'), 45_000)
    await waitFor('the batch job completed', async () => (await jobs.findKey(SEND_BATCH_JOB, `outbox-batch:${ids[0]!}`))?.state === 'completed', 45_000)
    // The job run again (a crash before its completion was recorded) sends nothing twice.
    await delivery.attemptBatch(acme.tenant.id, ids, new AbortController().signal)
    for (const id of ids) expect(await delivery.getOutbox(acme.tenant, id)).toMatchObject({ status: 'sent', attempts: 1 })
  })

  it('a refused message fails alone; a passing failure retries the job, and the retry attempts only what is left', async () => {
    const inputs = [uniquePhone(), SANDBOX_FAILURES.permanent[0], SANDBOX_FAILURES.temporary[0]].map((to, i) => ({ channel: 'sms', to, body: `mixed ${i}`, idempotencyKey: `batch-${randomUUID()}` }))
    const [ok, refused, passing] = (await delivery.sendMany(acme.tenant, inputs, { batched: true })).map((a) => a.message.id) as [string, string, string]
    await waitFor('the first attempt', async () => (await delivery.getOutbox(acme.tenant, passing)).lastError !== null, 45_000)
    expect(await delivery.getOutbox(acme.tenant, ok)).toMatchObject({ status: 'sent', attempts: 1 })
    expect(await delivery.getOutbox(acme.tenant, refused)).toMatchObject({ status: 'failed' })
    expect(await delivery.getOutbox(acme.tenant, passing)).toMatchObject({ status: 'queued' })
    expect((await jobs.findKey(SEND_BATCH_JOB, `outbox-batch:${ok}`))?.state).not.toBe('completed')
    // The job's retry (about 10 s later) attempts the passing one again, and neither of the others.
    await waitFor('the retry', async () => (await delivery.getOutbox(acme.tenant, passing)).attempts >= 2, 60_000)
    expect(await delivery.getOutbox(acme.tenant, ok)).toMatchObject({ status: 'sent', attempts: 1 })
    expect(await delivery.getOutbox(acme.tenant, refused)).toMatchObject({ status: 'failed', attempts: 1 })
  }, 90_000)
})
