import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TwilioNumbersPeer } from '../../../test/peers/twilio-numbers.ts'
import { ProviderError } from '../types.ts'
import { createSandboxNumbers, createTwilioNumbers, numbersProviderFor } from './index.ts'

// The numbers providers: the sandbox's deterministic offers and lookups, and the Twilio adapter
// against the local peer (sub-account, area-code search, purchase, held numbers, Lookup v2) with its
// failures as ProviderErrors (retryable for outages and rate limits, not for bad credentials).
const policy = { allowPrivate: true, allowedHosts: [] }
let peer: TwilioNumbersPeer
beforeAll(async () => {
  peer = await new TwilioNumbersPeer().start()
})
afterAll(async () => peer?.stop())

const twilio = (authToken = peer.authToken) => createTwilioNumbers({ provider: 'twilio', accountSid: peer.accountSid, authToken, baseUrl: peer.url }, { urlPolicy: policy })

describe('sandbox numbers', () => {
  it('offers +1AAA5550100… in order, holds any number, answers lookups by the last digit', async () => {
    const s = createSandboxNumbers()
    const { accountId } = await s.createAccount('x')
    expect(accountId).toMatch(/^SB[0-9a-f]{32}$/)
    const offered = await s.searchNumbers(accountId, '415')
    expect(offered).toHaveLength(100)
    expect(offered.slice(0, 2).map((n) => n.phoneNumber)).toEqual(['+14155550100', '+14155550101'])
    expect(await s.searchNumbers(accountId, '015')).toEqual([])
    const bought = await s.buyNumber(accountId, '+14155550100', { smsUrl: 'https://example.org/webhooks/sandbox/t/sms' })
    expect(bought.id).toMatch(/^SP[0-9a-f]{32}$/)
    expect((await s.findNumber(accountId, '+14155550100'))?.id).toBe(bought.id)
    expect(await s.lookup('+14155550100')).toMatchObject({ type: 'mobile', carrierName: 'Sandbox Mobile' })
    expect(await s.lookup('+14155550107')).toMatchObject({ type: 'landline' })
    expect(await s.lookup('+14155550108')).toMatchObject({ type: 'nonFixedVoip' })
    expect(await s.lookup('+14155550109')).toMatchObject({ type: '', error: 'not_found' })
  })

  it('is what a tenant without Twilio SMS settings gets', () => {
    expect(numbersProviderFor(undefined).id).toBe('sandbox')
    expect(numbersProviderFor({ provider: 'sandbox' }).id).toBe('sandbox')
    expect(numbersProviderFor({ provider: 'twilio', accountSid: 'AC' + '0'.repeat(32), authToken: 'x' }).id).toBe('twilio')
    expect(() => numbersProviderFor({ provider: 'twilio', accountSid: 'AC' + '0'.repeat(32) })).toThrow(ProviderError)
  })
})

describe('Twilio numbers (the local peer)', () => {
  it('creates a sub-account, searches an area code, buys a number into it, finds it held, looks a number up', async () => {
    const t = twilio()
    const { accountId, webhookSecret } = await t.createAccount('Clinic / North')
    expect(peer.accounts.get(accountId)?.friendlyName).toBe('Clinic / North')
    // The sub-account's own auth token, which Twilio signs its numbers' webhooks with.
    expect(webhookSecret).toBe(peer.accounts.get(accountId)?.authToken)
    const offered = await t.searchNumbers(accountId, '628')
    expect(offered.map((n) => n.phoneNumber)).toEqual(['+16282000000', '+16282000001', '+16282000002', '+16282000003', '+16282000004'])
    expect(offered[0]).toMatchObject({ id: '', capabilities: { sms: true, mms: true, voice: true }, region: 'CA', rateCenter: 'PEERVILLE' })
    const bought = await t.buyNumber(accountId, '+16282000000', { smsUrl: 'https://sb.example.org/webhooks/twilio/t1/sms' })
    expect(bought.id).toMatch(/^PN[0-9a-f]{32}$/)
    expect(peer.accounts.get(accountId)?.numbers.get('+16282000000')).toMatchObject({ smsUrl: 'https://sb.example.org/webhooks/twilio/t1/sms', smsMethod: 'POST' })
    await t.setWebhooks(accountId, bought.id, { smsUrl: 'https://sb.example.org/webhooks/twilio/t2/sms' })
    expect(peer.accounts.get(accountId)?.numbers.get('+16282000000')?.smsUrl).toBe('https://sb.example.org/webhooks/twilio/t2/sms')
    await expect(t.setWebhooks(accountId, 'PN' + '0'.repeat(32), { smsUrl: 'https://x.example.org/' })).rejects.toMatchObject({ retryable: false })
    expect((await t.findNumber(accountId, '+16282000000'))?.id).toBe(bought.id)
    expect(await t.findNumber(accountId, '+16282000001')).toBeUndefined()
    expect((await t.searchNumbers(accountId, '628')).map((n) => n.phoneNumber)).not.toContain('+16282000000')
    peer.lookups.set('+16282000009', { valid: false })
    expect(await t.lookup('+16282000008')).toEqual({ type: 'mobile', carrierName: 'Peer Wireless', mobileCountryCode: '310', mobileNetworkCode: '120', error: '' })
    expect((await t.lookup('+16282000009')).error).toBe('invalid: NOT_A_NUMBER')
  })

  it('failures are ProviderErrors: bad credentials permanent, outages and rate limits retryable, an unknown sub-account permanent', async () => {
    const wrong = await twilio('wrong').createAccount('x').catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(ProviderError)
    expect(wrong).toMatchObject({ retryable: false, status: 401 })
    for (const status of [500, 429] as const) {
      peer.failNext = { status, times: 1 }
      const err = await twilio().createAccount('x').catch((e: unknown) => e)
      expect(err).toMatchObject({ retryable: true, status })
    }
    const missing = await twilio().searchNumbers('AC' + 'f'.repeat(32), '628').catch((e: unknown) => e)
    expect(missing).toMatchObject({ retryable: false, status: 404 })
    const bad = await twilio().searchNumbers('nope', '628').catch((e: unknown) => e)
    expect(bad).toMatchObject({ code: 'invalid_account', retryable: false })
  })

  it('refuses a private base URL under the strict outbound policy', async () => {
    const strict = createTwilioNumbers({ provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, baseUrl: peer.url })
    expect(await strict.createAccount('x').catch((e: unknown) => e)).toMatchObject({ code: 'unsafe_endpoint', retryable: false })
  })
})
