import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { cliOver, type CliRun } from './testing.ts'

// The URL policy of the operator's default: no private addresses allowed.
let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store, { SWITCHBOARD_ALLOWED_URL_HOSTS: '', SWITCHBOARD_ALLOW_PRIVATE_URLS: '' })
})
afterAll(async () => t?.close())

describe('switchboard provider (in-process)', () => {
  it('sets, lists (secrets masked) and unsets a tenant’s provider; refuses bad input with exit 1', async () => {
    const name = `Provider CLI ${Date.now()}`
    expect((await cli(['tenant', 'create', '--name', name, '--json'])).code).toBe(0)

    const accountSid = 'AC' + 'a1'.repeat(16)
    const authToken = 'tok_' + 'f00d'.repeat(8)
    const file = join(mkdtempSync(join(tmpdir(), 'sb-provider-')), 'twilio.json')
    writeFileSync(file, JSON.stringify({ accountSid, authToken }))
    const set = await cli(['provider', 'set', '--tenant', name, 'sms', 'twilio', '--json-file', file, '--option', 'from=+15005550006', '--option', 'ratePerSecond:=5', '--json'])
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ channel: 'sms', vendor: 'twilio', configured: true, options: { accountSid, authToken: `****${authToken.slice(-4)}`, from: '+15005550006', ratePerSecond: 5 } })
    expect(set.stdout).not.toContain(authToken)

    const listed = await cli(['provider', 'list', '--tenant', name])
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
      [['provider', 'set', '--tenant', name, 'sms', 'twilio', 'accountSid'], /expected <channel> <vendor> \[key=value \.\.\.\], got "accountSid"/],
      [['provider', 'set', '--tenant', name, 'sms', 'twilio', `accountSid=${accountSid}`, 'ratePerSecond:={'], /option ratePerSecond: the value after := is not JSON/],
    ]
    for (const [args, message] of failures) {
      const r = await cli(args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
    // The refused sets changed nothing.
    expect(JSON.parse((await cli(['provider', 'list', '--tenant', name, '--json'])).stdout).data[0]).toMatchObject({ vendor: 'twilio', options: { ratePerSecond: 5 } })

    const unset = await cli(['provider', 'unset', '--tenant', name, 'sms'])
    expect(unset).toMatchObject({ code: 0, stdout: 'sms: back to the sandbox\n' })
    const after = JSON.parse((await cli(['provider', 'list', '--tenant', name, '--json'])).stdout) as { data: Array<{ vendor: string }> }
    expect(after.data.every((p) => p.vendor === 'sandbox')).toBe(true)
  })

  it('takes options bare after the vendor as the README shows them (key=value, key:=<json>), with --option after them', async () => {
    const name = `Provider bare ${Date.now()}`
    expect((await cli(['tenant', 'create', '--name', name, '--json'])).code).toBe(0)
    const accountSid = 'AC' + 'b2'.repeat(16)
    const set = await cli(['provider', 'set', '--tenant', name, 'sms', 'twilio', `accountSid=${accountSid}`, 'authToken=secret-token-1234', 'from=+15551234567', 'ratePerSecond:=3', '--option', 'ratePerSecond:=4', '--json'])
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ vendor: 'twilio', options: { accountSid, authToken: '****1234', from: '+15551234567', ratePerSecond: 4 } })
  })
})

// A tenant puts its calls on Twilio Programmable Voice with `provider set … voice twilio …`: the
// settings are checked as voice settings (README "Twilio voice"), stored, listed masked.
describe('switchboard provider set … voice twilio', () => {
  it('stores valid voice settings and refuses what cannot place or verify calls, with what to fix', async () => {
    const name = `Voice CLI ${Date.now()}`
    expect((await cli(['tenant', 'create', '--name', name, '--json'])).code).toBe(0)
    const accountSid = 'AC' + 'b2'.repeat(16)
    const authToken = 'tok_' + 'beef'.repeat(8)

    const failures: Array<[string[], RegExp]> = [
      [[`accountSid=${accountSid}`, `authToken=${authToken}`], /twilio on voice: .*set "from": the caller id calls are placed from/],
      [[`accountSid=${accountSid}`, `authToken=${authToken}`, 'from=555-0100'], /setting "from" must be an E\.164 number such as \+15005550006, got "555-0100"/],
      [[`accountSid=${accountSid}`, 'apiKeySid=SK1', 'apiKeySecret=s', 'from=+15005550006'], /set "authToken": Twilio signs voice status callbacks with it/],
      [['accountSid=AC1', `authToken=${authToken}`, 'from=+15005550006'], /setting "accountSid" must be AC followed by 32 characters/],
    ]
    for (const [options, message] of failures) {
      const r = await cli(['provider', 'set', '--tenant', name, 'voice', 'twilio', ...options])
      expect(r.code, options.join(' ')).toBe(1)
      expect(r.stderr, options.join(' ')).toMatch(message)
    }
    // Nothing was stored by the refusals.
    const before = JSON.parse((await cli(['provider', 'list', '--tenant', name, '--json'])).stdout) as { data: Array<{ channel: string; vendor: string }> }
    expect(before.data.find((p) => p.channel === 'voice')?.vendor).toBe('sandbox')

    const set = await cli(['provider', 'set', '--tenant', name, 'voice', 'twilio', `accountSid=${accountSid}`, `authToken=${authToken}`, 'from=+15005550006', '--json'])
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ channel: 'voice', vendor: 'twilio', configured: true, options: { accountSid, authToken: `****${authToken.slice(-4)}`, from: '+15005550006' } })
    expect(set.stdout).not.toContain(authToken)
    const listed = JSON.parse((await cli(['provider', 'list', '--tenant', name, '--json'])).stdout) as { data: Array<{ channel: string; vendor: string }> }
    expect(listed.data.find((p) => p.channel === 'voice')?.vendor).toBe('twilio')
    // SMS stays the sandbox: voice settings are the voice channel's only.
    expect(listed.data.find((p) => p.channel === 'sms')?.vendor).toBe('sandbox')
  })
})
