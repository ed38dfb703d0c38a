import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startServer, storeEnv, type ServerProcess } from './helpers/process.ts'

// `switchboard provider …` as a child process, on a fresh embedded data dir (or the run's
// PostgreSQL database), the way an operator runs it.
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
  it('sets, lists (secrets masked) and unsets a tenant’s provider; refuses bad input with exit 1', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-provider-'))
    // With a server on the store, each command borrows it instead of opening the embedded files.
    server = await startServer(env(dataDir))
    const name = `Provider CLI ${Date.now()}`
    expect((await runCli(['tenant', 'create', '--name', name, '--json'], env(dataDir))).code).toBe(0)

    const accountSid = 'AC' + 'a1'.repeat(16)
    const authToken = 'tok_' + 'f00d'.repeat(8)
    const file = join(dataDir, 'twilio.json')
    writeFileSync(file, JSON.stringify({ accountSid, authToken }))
    const set = await runCli(['provider', 'set', '--tenant', name, 'sms', 'twilio', '--json-file', file, '--option', 'from=+15005550006', '--option', 'ratePerSecond:=5', '--json'], env(dataDir))
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ channel: 'sms', vendor: 'twilio', configured: true, options: { accountSid, authToken: `****${authToken.slice(-4)}`, from: '+15005550006', ratePerSecond: 5 } })
    expect(set.stdout).not.toContain(authToken)

    const listed = await runCli(['provider', 'list', '--tenant', name], env(dataDir))
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^sms {8}twilio\n/)
    expect(listed.stdout).toContain(`authToken: ****${authToken.slice(-4)}`)
    expect(listed.stdout).toMatch(/email {6}sandbox \(default\)/)
    expect(listed.stdout).not.toContain(authToken)

    const failures: Array<[string[], RegExp]> = [
      [['provider', 'set', '--tenant', name, 'sms', 'nexmo'], /unknown vendor nexmo; available: sandbox/],
      [['provider', 'set', '--tenant', name, 'sms', 'twilio', '--option', 'from=+15005550006'], /twilio on sms: .*accountSid/],
      [['provider', 'set', '--tenant', name, 'sms', 'twilio', '--json-file', file, '--option', 'from=+15005550006', '--option', 'baseUrl=http://127.0.0.1:9/'], /option baseUrl: .*loopback address/],
      [['provider', 'set', '--tenant', 'No such tenant', 'sms', 'sandbox'], /no tenant named "No such tenant"/],
    ]
    for (const [args, message] of failures) {
      const r = await runCli(args, env(dataDir))
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
    // The refused sets changed nothing.
    expect(JSON.parse((await runCli(['provider', 'list', '--tenant', name, '--json'], env(dataDir))).stdout).data[0]).toMatchObject({ vendor: 'twilio', options: { ratePerSecond: 5 } })

    const unset = await runCli(['provider', 'unset', '--tenant', name, 'sms'], env(dataDir))
    expect(unset).toMatchObject({ code: 0, stdout: 'sms: back to the sandbox\n' })
    const after = JSON.parse((await runCli(['provider', 'list', '--tenant', name, '--json'], env(dataDir))).stdout) as { data: Array<{ vendor: string }> }
    expect(after.data.every((p) => p.vendor === 'sandbox')).toBe(true)
  })
})
