import { describe, expect, it } from 'vitest'
import { twilioSignature } from '../lib/twilio-signature.ts'
import { createTwilioProvider, parseTwilioWebhook } from './twilio.ts'
import type { RawWebhook } from './types.ts'

// The Twilio provider's side of the one webhook pipeline: it checks X-Twilio-Signature and reads a
// messaging webhook into events; core applies them (src/surfaces/twilio/twilio.test.ts runs the
// whole path through HTTP).
const SID = 'SM' + '1'.repeat(32)
const URL_ = 'https://hub.example.org/webhooks/twilio/t1/status?message=0b6a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b'

describe('parseTwilioWebhook', () => {
  it('reads a status callback: the status, Twilio’s word and error code, and our message id from the callback URL', () => {
    expect(parseTwilioWebhook({ MessageSid: SID, MessageStatus: 'undelivered', ErrorCode: '30003' }, URL_)).toEqual([{
      kind: 'status', status: 'undelivered', providerMessageIds: [SID], providerStatus: 'undelivered', errorCode: '30003',
      messageId: '0b6a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b',
    }])
    expect(parseTwilioWebhook({ SmsSid: SID, SmsStatus: 'Read' })).toEqual([{ kind: 'status', status: 'delivered', providerMessageIds: [SID], providerStatus: 'read' }])
    expect(parseTwilioWebhook({ MessageSid: SID, MessageStatus: 'queued' })).toMatchObject([{ status: 'sent', providerStatus: 'queued' }])
    expect(parseTwilioWebhook({ MessageSid: SID, MessageStatus: 'failed', ErrorCode: '' })).toMatchObject([{ status: 'failed', errorCode: undefined }])
  })

  it('gives no event for a status word it does not know (acknowledged, not retried), prototype names included', () => {
    for (const word of ['canceled-ish', 'constructor', '__proto__', 'toString']) expect(parseTwilioWebhook({ MessageSid: SID, MessageStatus: word }), word).toEqual([])
  })

  it('reads an inbound message: WhatsApp by its prefix, media, a caption-less picture as [media], the profile name, a phone sender to admit', () => {
    expect(parseTwilioWebhook({
      MessageSid: SID, From: 'whatsapp:+14155550100', To: 'whatsapp:+15005550006', Body: ' ', ProfileName: 'Ana', SmsStatus: 'received',
      NumMedia: '2', MediaUrl0: 'https://api.twilio.com/m/1', MediaContentType0: 'image/png', MediaUrl1: 'https://api.twilio.com/m/2',
    })).toEqual([{
      kind: 'message',
      message: {
        channel: 'whatsapp', from: '+14155550100', to: '+15005550006', body: '[media]', providerMessageId: SID, data: { profile_name: 'Ana' },
        media: [{ url: 'https://api.twilio.com/m/1', contentType: 'image/png' }, { url: 'https://api.twilio.com/m/2', contentType: undefined }],
        admitSender: true,
      },
    }])
    expect(parseTwilioWebhook({ MessageSid: SID, From: '+14155550100', Body: 'hi' })).toEqual([{
      kind: 'message', message: { channel: 'sms', from: '+14155550100', to: undefined, body: 'hi', providerMessageId: SID, data: {}, admitSender: true },
    }])
  })

  it('refuses a body it cannot read with invalid_webhook', () => {
    for (const body of [{}, { MessageSid: SID }, { MessageSid: SID, Body: 'no sender' }, 'not a form', null, { MessageStatus: 'sent' }]) {
      expect(() => parseTwilioWebhook(body), JSON.stringify(body)).toThrow(expect.objectContaining({ code: 'invalid_webhook', retryable: false }))
    }
  })
})

describe('the Twilio provider’s signature check', () => {
  const settings = { provider: 'twilio', accountSid: 'AC' + 'a'.repeat(32), authToken: 'secret-token', from: '+15005550006' }
  const body = { MessageSid: SID, MessageStatus: 'delivered' }
  const signed = (url: string, params: Record<string, string>, token = 'secret-token'): RawWebhook => ({
    method: 'POST', url, headers: { 'x-twilio-signature': twilioSignature(token, url, params) }, body: params,
  })

  it('accepts Twilio’s signature over the URL and the parameters, and nothing else', async () => {
    const twilio = createTwilioProvider('sms', settings)
    expect(twilio.verifySignature!(signed(URL_, body))).toBe(true)
    expect(twilio.verifySignature!({ ...signed(URL_, body), url: URL_.replace('t1', 't2') })).toBe(false)
    expect(twilio.verifySignature!({ ...signed(URL_, body), body: { ...body, MessageStatus: 'failed' } })).toBe(false)
    expect(twilio.verifySignature!(signed(URL_, body, 'other-token'))).toBe(false)
    expect(twilio.verifySignature!({ ...signed(URL_, body), headers: {} })).toBe(false)
    // An account configured with an API key only has no auth token to check signatures with.
    const keyOnly = createTwilioProvider('sms', { ...settings, authToken: undefined, apiKeySid: 'SK' + 'b'.repeat(32), apiKeySecret: 'k' })
    expect(keyOnly.verifySignature!(signed(URL_, body))).toBe(false)
    await twilio.close?.()
    await keyOnly.close?.()
  })
})
