import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { MAIN } from '../../test/helpers/process.ts'
import { waitFor } from '../../test/helpers/wait.ts'

// The real `switchboard worker` process against this file's database: jobs enqueued while no
// worker runs are delivered when one starts, and a SIGTERM stops it cleanly.
let t: TestApp
let tenant: TestTenant
const dataDir = mkdtempSync(join(tmpdir(), 'sb-worker-'))
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>()

beforeAll(async () => {
  // A database of its own: the worker started here must be the only one that can send these.
  t = await startTestApp({ isolated: true })
  tenant = await createTenant(t.services)
})
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await t?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Start `switchboard worker` and wait until it says its workers run (so a SIGTERM is handled). */
async function startWorker() {
  const child = spawn(process.execPath, [MAIN, 'worker'], {
    env: { ...process.env, DATABASE_URL: t.store.url, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: '0'.repeat(64), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running.delete(child)
    resolve(code)
  }))
  await waitFor(`the worker to start\n${output}`, async () => output.includes('workers and scheduler started'), 30_000)
  return {
    output: () => output,
    async stop(): Promise<number | null> {
      child.kill('SIGTERM')
      return exited
    },
  }
}

async function statusOf(id: string): Promise<string> {
  return (await t.services.delivery.getOutbox(tenant.tenant, id)).status
}

describe('switchboard worker', () => {
  it('delivers what was queued while no worker ran, stops cleanly on SIGTERM, and picks up again after a restart', async () => {
    const first = await t.services.delivery.send(tenant.tenant, { channel: 'sms', to: uniquePhone(), body: 'queued before any worker' })
    // This file's database has no worker at all until we start one.
    expect(await statusOf(first.message.id)).toBe('queued')

    const worker = await startWorker()
    await waitFor(`the worker to send it\n${worker.output()}`, async () => (await statusOf(first.message.id)) === 'sent', 30_000)
    expect(await worker.stop()).toBe(0)
    expect(worker.output()).not.toMatch(/"level":(50|60)/)

    // Queued while the worker is down: the next worker process sends it.
    const second = await t.services.delivery.send(tenant.tenant, { channel: 'email', to: 'restart@example.org', body: 'queued between workers' })
    expect(await statusOf(second.message.id)).toBe('queued')
    const again = await startWorker()
    await waitFor(`the restarted worker to send it\n${again.output()}`, async () => (await statusOf(second.message.id)) === 'sent', 30_000)
    expect(await again.stop()).toBe(0)
    expect(again.output()).not.toMatch(/"level":(50|60)/)
    expect((await t.services.delivery.getOutbox(tenant.tenant, second.message.id)).attempts).toBe(1)
  })
})
