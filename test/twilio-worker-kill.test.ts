import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from './factories/tenants.ts'
import { startTestApp, type TestApp } from './helpers/app.ts'
import { MAIN } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'
import { TwilioPeer } from './peers/twilio.ts'

// A real `switchboard worker` process sending through Twilio (the local peer, which answers slowly)
// is killed with SIGKILL in the middle of a batch; a second worker process takes over. The peer
// does not de-duplicate on I-Twilio-Idempotency-Token (Twilio does not document that it does), so
// every send it accepts is a message sent, and it counts them: every message exactly once, none
// lost. The sends the killed worker had in flight reached the peer, but their outcome was never
// recorded; the second worker asks Twilio's Messages list before sending them again and records
// what it finds instead.
let t: TestApp
let tenant: TestTenant
let peer: TwilioPeer
const SENDER = '+15005550006'
const dataDir = mkdtempSync(join(tmpdir(), 'sb-twilio-kill-'))
const running = new Set<ChildProcess>()

beforeAll(async () => {
  peer = await new TwilioPeer({ numbers: [SENDER], dedupe: false }).start()
  peer.delayMs = 150
  t = await startTestApp({ isolated: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' } })
  tenant = await createTenant(t.services)
  await t.services.providerSettings.set(tenant.tenant, 'sms', 'twilio', {
    accountSid: peer.accountSid, authToken: peer.authToken, from: SENDER, baseUrl: peer.url, ratePerSecond: '1000',
  })
})
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await t?.close()
  await peer?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

function startWorker(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [MAIN, 'worker'], {
    env: {
      ...process.env, DATABASE_URL: t.store.url, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: '0'.repeat(64), LOG_LEVEL: 'warn',
      SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_JOB_SUPERVISE_SECONDS: '1', SWITCHBOARD_DELIVERY_RETRY_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  return { child, output: () => output }
}

describe('a worker killed with SIGKILL mid-batch', () => {
  it('loses no message and sends none twice after another worker takes over', async () => {
    const recipients = Array.from({ length: 30 }, () => uniquePhone())
    const ids: string[] = []
    for (const to of recipients) ids.push((await t.services.delivery.send(tenant.tenant, { channel: 'sms', to, body: `reminder for ${to}` })).message.id)

    const first = startWorker()
    await waitFor(`the first worker to be mid-batch\n${first.output()}`, () => peer.messages.length >= 6, 30_000)
    const exited = new Promise((resolve) => first.child.once('exit', resolve))
    first.child.kill('SIGKILL')
    await exited
    const atKill = peer.messages.length
    expect(atKill).toBeLessThan(recipients.length)

    const second = startWorker()
    await waitFor('every message to be sent', async () => {
      const rows = await t.store.db.selectFrom('outbox_messages').select('status').where('tenant_id', '=', tenant.tenant.id).execute()
      return rows.length === ids.length && rows.every((r) => r.status === 'sent')
    }, 60_000).catch(async (err: Error) => {
      const jobs = await sql<{ state: string; n: number }>`SELECT state::text, count(*)::int AS n FROM pgboss.job WHERE name = 'delivery.send' GROUP BY state`.execute(t.store.db)
      const rows = await t.store.db.selectFrom('outbox_messages').select(['status']).where('tenant_id', '=', tenant.tenant.id).execute()
      throw new Error(`${err.message}: outbox ${JSON.stringify(rows.map((r) => r.status))}, jobs ${JSON.stringify(jobs.rows)}, peer ${peer.messages.length}/${peer.requests}\n${second.output()}`)
    })
    second.child.kill('SIGTERM')

    // Exactly once per message, as the peer counted what it sent; and the outbox names the message
    // Twilio made. The attempts the kill left unrecorded were reconciled through the list.
    expect(peer.messages).toHaveLength(recipients.length)
    for (const to of recipients) expect(peer.sentTo(to)).toHaveLength(1)
    expect(peer.idempotentRepeats).toBe(0)
    expect(peer.listRequests).toBeGreaterThan(0)
    const rows = await t.store.db.selectFrom('outbox_messages').select(['id', 'provider_message_id']).where('tenant_id', '=', tenant.tenant.id).execute()
    for (const row of rows) expect(peer.messages.find((m) => m.idempotencyToken === row.id)?.sid).toBe(row.provider_message_id)
  }, 120_000)
})
