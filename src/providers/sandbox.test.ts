import { describe, expect, it } from 'vitest'
import { ProviderRegistry } from './registry.ts'
import { SANDBOX_FAILURES, createSandboxProvider, type SandboxRecord } from './sandbox.ts'
import { CHANNELS, ProviderError } from './types.ts'

describe('sandbox provider', () => {
  it('accepts every channel and records what would have gone out', async () => {
    const records: SandboxRecord[] = []
    for (const channel of CHANNELS) {
      const p = createSandboxProvider(channel, { onSend: (r) => records.push(r) })
      const result = await p.send({ id: `m-${channel}`, channel, to: 'someone', body: `hello on ${channel}` })
      expect(result).toEqual({ providerMessageId: expect.stringMatching(/^sandbox-[0-9a-f-]{36}$/), status: 'sent' })
    }
    expect(records.map((r) => [r.message.channel, r.message.body])).toEqual(CHANNELS.map((c) => [c, `hello on ${c}`]))
  })

  it('rejects its magic recipients: permanently, or as a retryable outage', async () => {
    const sms = createSandboxProvider('sms')
    await expect(sms.send({ id: '1', channel: 'sms', to: SANDBOX_FAILURES.permanent[0], body: 'x' })).rejects.toMatchObject({ code: 'invalid_recipient', retryable: false })
    const email = createSandboxProvider('email')
    const err = await email.send({ id: '2', channel: 'email', to: 'Unavailable@Sandbox.invalid', body: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderError)
    expect(err).toMatchObject({ code: 'unavailable', retryable: true, status: 503 })
  })
})

describe('provider registry', () => {
  it('gives the sandbox to a tenant without settings, and a registered vendor to one that names it', async () => {
    const registry = new ProviderRegistry()
    expect(registry.resolve('sms').id).toBe('sandbox')
    expect(registry.resolve('sms', { provider: 'sandbox' })).toBe(registry.resolve('sms'))
    expect(() => registry.resolve('sms', { provider: 'twilio' })).toThrow(ProviderError)
    registry.register('fake', (channel, settings) => ({
      id: 'fake', channel, async send() { return { providerMessageId: String(settings.account), status: 'delivered' as const } },
    }))
    const fake = registry.resolve('voice', { provider: 'fake', account: 'AC1' })
    expect(fake.id).toBe('fake')
    expect(await fake.send({ id: '1', channel: 'voice', to: '+14155552671', body: 'x' })).toEqual({ providerMessageId: 'AC1', status: 'delivered' })
    expect(registry.vendors()).toEqual(['sandbox', 'fake'])
  })
})
