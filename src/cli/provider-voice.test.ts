import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../../test/helpers/app.ts'
import { cliOver, type CliRun } from './testing.ts'

// A tenant puts its calls on Twilio Programmable Voice with `provider set … voice twilio …`: the
// settings are checked as voice settings (README "Twilio voice"), stored, listed masked.
let t: TestApp
let cli: (args: string[]) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp()
  cli = cliOver(t.store, { SWITCHBOARD_ALLOWED_URL_HOSTS: '', SWITCHBOARD_ALLOW_PRIVATE_URLS: '' })
})
afterAll(async () => t?.close())

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
