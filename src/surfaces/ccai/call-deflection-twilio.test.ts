import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { startTwilioVoiceApp } from '../../../test/helpers/twilio-voice-app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { sign } from '../../../test/peers/twilio.ts'
import type { TwilioVoicePeer, PeerCall } from '../../../test/peers/twilio-voice.ts'

// Deflected calls on Twilio Programmable Voice (local peer): the person's leg runs TwiML that is no
// conference. Voicemail: a prompt and `<Record>` whose recording comes by a SIGNED recording
// callback → `voicemail_received` with the recording's URL and duration. "Schedule a call": a
// `<Gather>` whose digit is posted (signed) to /webhooks/twilio/voice/<tenant>/input → 1 records a
// voicemail, 2 makes a `scheduled` child call and confirms. Forged callbacks are 403 and change nothing.
let t: TestApp
let peer: TwilioVoicePeer
let port = 0
const CALLER_ID = '+16285550198'

let close: (() => Promise<void>) | undefined
beforeAll(async () => {
  ;({ t, peer, port, close } = await startTwilioVoiceApp([CALLER_ID]))
}, 180_000)
afterAll(async () => close?.())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

async function twilioTenant(): Promise<TestTenant> {
  const tt = await createTenant(t.services)
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: Desk }]
menus:
  - name: Phone
    type: ivr
    children:
      - { name: Night, channels: [call], teams: [Desk], hours: { weekly: [] }, after_hours: { deflection: [voicemail] } }
      - { name: Full, channels: [call], teams: [Desk], over_capacity: { max_queued: 0, deflection: [voicemail, schedule_call] } }
phone_numbers: [{ number: "${CALLER_ID}" }]
`, 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'twilio', { accountSid: peer.accountSid, authToken: peer.authToken, from: CALLER_ID, baseUrl: peer.url })
  return tt
}
async function incoming(tt: TestTenant, menu: string, to: string): Promise<Json> {
  const num = (await t.store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tt.tenant.id).where('name', '=', menu).executeTakeFirstOrThrow()).num
  const r = await t.app.inject({
    method: 'POST', url: '/apps/api/v1/calls', headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' },
    payload: JSON.stringify({ call_type: 'IncomingCall', menu_id: num, end_user_number: to }),
  })
  expect(r.statusCode, r.body).toBe(201)
  return JSON.parse(r.body) as Json
}
const callIs = (tt: TestTenant, num: number, status: string) => waitFor(`call ${num} ${status}`, async () => {
  const c = await t.services.calls.get(tt.tenant.id, num)
  return c.status === status ? c : undefined
}, 60_000)
const peerCallTo = (tt: TestTenant, to: string) => waitFor(`Twilio to call ${to}`, () => peer.calls.find((c) => c.to === to && c.statusCallback?.includes(tt.tenant.id)), 60_000)
const legOf = (c: PeerCall) => new URL(c.statusCallback!).searchParams.get('leg')!
const childOf = async (tt: TestTenant, num: number) => (await t.store.db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', tt.tenant.id).where('parent_num', '=', num).execute()).map((r) => r.num)
/** A form post to one of our Twilio voice URLs, signed with `token` (the tenant's, or another). */
const post = (url: string, params: Record<string, string>, token: string) => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(token, url, params) }, body: new URLSearchParams(params).toString(),
})

describe('deflected calls over Twilio (local peer)', () => {
  it('voicemail: <Record> with a signed recording callback → voicemail_received with the URL and duration; a forged recording callback is 403', async () => {
    const tt = await twilioTenant()
    const person = '+14155550161'
    peer.script(person, { kind: 'answer', afterMs: 100, speakMs: 2500 })
    const created = await incoming(tt, 'Night', person)
    expect(created).toMatchObject({ status: 'voicemail', voicemail_reason: 'after_hours' })
    const call = await peerCallTo(tt, person)
    const leg = legOf(call)
    await waitFor('the voicemail TwiML', () => call.documents[0], 60_000)
    expect(call.documents[0]).toContain('<Say>Please leave a message after the tone.')
    expect(call.documents[0]).toMatch(new RegExp(`<Record action="http://127\\.0\\.0\\.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/input\\?leg=${leg}" method="POST" maxLength="300" playBeep="true" recordingStatusCallback="http://127\\.0\\.0\\.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/status\\?leg=${leg}"`))

    // While the person speaks, a recording callback signed with another token is refused and moves nothing.
    const statusUrl = `http://127.0.0.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/status?leg=${leg}`
    const forged = await post(statusUrl, { AccountSid: peer.accountSid, CallSid: call.sid, RecordingSid: 'RE' + '0'.repeat(32), RecordingUrl: 'https://evil.example/r.wav', RecordingStatus: 'completed', RecordingDuration: '9' }, 'f'.repeat(32))
    expect(forged.status).toBe(403)
    const forgedInput = await post(`http://127.0.0.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/input?leg=${leg}`, { CallSid: call.sid, Digits: '2' }, 'f'.repeat(32))
    expect(forgedInput.status).toBe(403)
    expect(await t.services.calls.get(tt.tenant.id, created.id)).toMatchObject({ status: 'voicemail', recordingUrl: null })

    const received = await callIs(tt, created.id, 'voicemail_received')
    await call.done
    expect(call.recording).toBeDefined()
    expect(received.recordingUrl).toBe(call.recording!.url)
    expect(received.callDuration).toBe(call.recording!.duration)
    expect(received.voipProvider).toBe('voip_provider_twilio')
    // The recording callback came after the call's own `completed`, as Twilio posts them; our server took both.
    expect(call.callbacks.at(-1)).toMatchObject({ answered: 200, params: expect.objectContaining({ CallStatus: 'completed' }) })
    expect(peer.recordingCallbacks.find((c) => c.params.CallSid === call.sid)).toMatchObject({ answered: 200 })
  })

  it('the choice: 2 schedules a call back (Gather → confirmation), 1 records a voicemail', async () => {
    const tt = await twilioTenant()
    const later = '+14155550162'
    peer.script(later, { kind: 'answer', afterMs: 100, digits: '2' })
    const before = Date.now()
    const deflected = await incoming(tt, 'Full', later)
    expect(deflected).toMatchObject({ status: 'deflected', voicemail_reason: 'over_capacity', deflection: 'over_capacity_deflection' })
    const call = await peerCallTo(tt, later)
    await call.done.then(() => waitFor('the call to end', () => call.status === 'completed', 60_000))
    await waitFor('both documents', () => call.documents.length >= 2, 60_000)
    expect(call.documents[0]).toMatch(/<Gather action="[^"]+\/input\?leg=[0-9a-f-]+" method="POST" numDigits="1" timeout="10"><Say>Sorry, nobody can take your call right now\. Press 1 to leave a message\. Press 2 to be called back when we are open\.<\/Say><\/Gather>/)
    expect(call.documents[1]).toMatch(/^<\?xml[^>]*\?><Response><Say>Thank you\. We will call you back at \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Goodbye\.<\/Say><Hangup\/><\/Response>$/)
    const [childNum] = await waitFor('the call back', async () => {
      const c = await childOf(tt, deflected.id)
      return c.length ? c : undefined
    }, 60_000)
    const child = await t.services.calls.get(tt.tenant.id, childNum!)
    expect(child).toMatchObject({ status: 'scheduled', parentNum: deflected.id, endUserPhone: later })
    expect(child.scheduledAt!.getTime()).toBeGreaterThanOrEqual(before + 15 * 60_000)
    const parent = await t.services.calls.get(tt.tenant.id, deflected.id)
    expect(parent.status).toBe('deflected')
    expect(parent.endsAt).not.toBeNull()

    const message = '+14155550163'
    peer.script(message, { kind: 'answer', afterMs: 100, digits: '1', speakMs: 1200 })
    const second = await incoming(tt, 'Full', message)
    expect(second).toMatchObject({ status: 'deflected' })
    const received = await callIs(tt, second.id, 'voicemail_received')
    const call2 = await peerCallTo(tt, message)
    expect(call2.documents[1]).toContain('<Record ')
    expect(received.recordingUrl).toBe(call2.recording!.url)
    expect(await childOf(tt, second.id)).toEqual([])
  })
})
