import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startServer, storeEnv, type ServerProcess } from './helpers/process.ts'

// `switchboard provider …` as a child process, on a fresh embedded data dir (or the run's
// PostgreSQL database), the way an operator runs it (every other case: src/cli/provider.test.ts).
const env = (dataDir: string) => storeEnv(dataDir, {
  SWITCHBOARD_SECRET_KEY: '1'.repeat(64),
  SWITCHBOARD_ALLOWED_URL_HOSTS: '',
  SWITCHBOARD_ALLOW_PRIVATE_URLS: '',
})

let server: ServerProcess | undefined
afterAll(async () => {
  await server?.stop('SIGKILL')
})

describe('switchboard provider', () => {
  it('sets and lists a tenant’s provider while a server runs on the store; refuses bad input with exit 1', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-provider-'))
    // With a server on the store, each command borrows it instead of opening the embedded files.
    server = await startServer(env(dataDir), 'serve', 120_000)
    const name = `Provider CLI ${Date.now()}`
    expect((await runCli(['tenant', 'create', '--name', name, '--json'], env(dataDir))).code).toBe(0)

    // The README's example: options bare after the vendor.
    const accountSid = 'AC' + 'a1'.repeat(16)
    const authToken = 'tok_' + 'f00d'.repeat(8)
    const set = await runCli(['provider', 'set', '--tenant', name, 'sms', 'twilio', `accountSid=${accountSid}`, `authToken=${authToken}`, 'from=+15005550006', '--json'], env(dataDir))
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ channel: 'sms', vendor: 'twilio', configured: true, options: { accountSid, authToken: `****${authToken.slice(-4)}`, from: '+15005550006' } })

    const listed = await runCli(['provider', 'list', '--tenant', name], env(dataDir))
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^sms {8}twilio\n/)
    expect(listed.stdout).not.toContain(authToken)

    const refused = await runCli(['provider', 'set', '--tenant', name, 'sms', 'nexmo'], env(dataDir))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/unknown vendor nexmo; available: sandbox/)
    expect(await server!.stop('SIGTERM')).toBe(0)
  })
})
