import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { startTwilioVoiceApp } from '../../../test/helpers/twilio-voice-app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { TwilioVoicePeer } from '../../../test/peers/twilio-voice.ts'

// Calls on Twilio Programmable Voice end to end: the app listening on a real port (its public URL is
// what Twilio signs), a tenant whose `voice` is Twilio pointed at the local Twilio
// (test/peers/twilio-voice.ts). POST /calls places the agent's and the end user's legs through the
// REST API; the peer fetches each leg's TwiML from /webhooks/twilio/voice/<tenant>/answer and posts
// signed status callbacks to /status, which move the call: connected when both answered, finished
// when the person hangs up, failed busy when the line is busy. A forged callback changes nothing.
let t: TestApp
let peer: TwilioVoicePeer
let port = 0
const CALLER_ID = '+16285550199'

let close: (() => Promise<void>) | undefined
beforeAll(async () => {
  ;({ t, peer, port, close } = await startTwilioVoiceApp([CALLER_ID, '+15005550006']))
}, 180_000)
afterAll(async () => close?.())

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

async function twilioTenant(): Promise<{ tt: TestTenant; email: string; token: string }> {
  const tt = await createTenant(t.services)
  const email = `voice.${randomUUID().slice(0, 8)}@example.org`
  await t.services.ccSetup.load(tt.tenant.id, `
settings: { rate_limit: 100000, wrap_up_timeout: 0s }
teams: [{ name: Desk }]
agents: [{ email: ${email}, first_name: Tia, last_name: Wilio, teams: [Desk], permissions: [outbound_call], password: "twilio-agent-pass-1" }]
menus: [{ name: Phone, type: ivr, children: [{ name: Support, channels: [call], teams: [Desk] }] }]
phone_numbers: [{ number: "${CALLER_ID}" }]
`, 'yaml')
  await t.services.providerSettings.set(tt.tenant, 'voice', 'twilio', { accountSid: peer.accountSid, authToken: peer.authToken, from: CALLER_ID, baseUrl: peer.url })
  const login = await t.app.inject({ method: 'POST', url: '/agent/v1/login', headers: { 'content-type': 'application/json' }, payload: { email, password: 'twilio-agent-pass-1', company: tt.credentials.ccai.subdomain } })
  expect(login.statusCode, login.body).toBe(200)
  const token = (JSON.parse(login.body) as Json).token as string
  const status = await t.app.inject({ method: 'PUT', url: '/agent/v1/status', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: { status: 'Available' } })
  expect(status.statusCode, status.body).toBe(200)
  return { tt, email, token }
}

async function placeCall(tt: TestTenant, email: string, to: string): Promise<Json> {
  const r = await t.app.inject({
    method: 'POST', url: '/apps/api/v1/calls', headers: { authorization: tt.ccaiAuth, 'content-type': 'application/json' },
    payload: JSON.stringify({ call_type: 'Voice Outbound (API)', agent_email: email, end_user_number: to }),
  })
  expect(r.statusCode, r.body).toBe(201)
  return JSON.parse(r.body) as Json
}
const callIs = (tt: TestTenant, num: number, status: string) => waitFor(`call ${num} ${status}`, async () => {
  const c = await t.services.calls.get(tt.tenant.id, num)
  return c.status === status ? c : undefined
}, 60_000)

describe('calls over Twilio Programmable Voice (local peer)', () => {
  it('dials both legs through REST, serves their TwiML, connects on the signed callbacks and finishes when the person hangs up', async () => {
    const { tt, email } = await twilioTenant()
    const person = '+14155550142'
    peer.script(person, { kind: 'answer', afterMs: 200 })
    const created = await placeCall(tt, email, person)
    expect(created).toMatchObject({ status: 'assigned', call_type: 'Voice Outbound (API)' })
    const connected = await callIs(tt, created.id, 'connected')
    expect(connected.voipProvider).toBe('voip_provider_twilio')
    // Two legs at Twilio: the agent's softphone and the person, from the caller id, into one conference named by the call.
    const legs = peer.calls.filter((c) => c.to === person || c.to.startsWith('client:agent-')).filter((c) => c.statusCallback?.includes(tt.tenant.id))
    expect(legs.map((c) => c.to).sort()).toEqual([person, expect.stringMatching(/^client:agent-\d+$/)].sort())
    for (const leg of legs) {
      expect(leg.from).toBe(CALLER_ID)
      expect(leg.statusCallback).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/status\\?leg=[0-9a-f-]{36}$`))
      expect(leg.url).toMatch(new RegExp(`/webhooks/twilio/voice/${tt.tenant.id}/answer\\?leg=[0-9a-f-]{36}$`))
      // The TwiML our server answered put the leg in the call's conference (the peer checked its shape).
      expect(leg.twimlError).toBeUndefined()
      expect(leg.conference).toBe(legs[0]!.conference)
    }
    // The person hangs up: Twilio's `completed` callback finishes the call, disconnected by the end user.
    peer.calleeHangsUp(legs.find((c) => c.to === person)!.sid)
    const finished = await callIs(tt, created.id, 'finished')
    expect(finished.disconnectedBy).toBe('disconnected_by_end_user')
    // Every callback the peer posted was accepted (signed with the tenant's auth token, at the public URL).
    await Promise.all(legs.map((l) => l.done))
    for (const leg of legs) expect(leg.callbacks.every((c) => c.answered === 200), JSON.stringify(leg.callbacks.map((c) => [c.params.CallStatus, c.answered]))).toBe(true)
  })

  it('fails the call as busy when the line is busy, and refuses a forged callback without changing anything', async () => {
    const { tt, email } = await twilioTenant()
    const person = '+14155550143'
    peer.script(person, { kind: 'busy', afterMs: 100 })
    const created = await placeCall(tt, email, person)
    const failed = await callIs(tt, created.id, 'failed')
    expect(failed.failReason).toBe('busy')

    // A callback nobody signed (or signed with another token) is 403 and moves nothing.
    const leg = await t.store.db.selectFrom('cc_call_legs').select(['id', 'provider_call_id']).where('tenant_id', '=', tt.tenant.id).where('party', '=', 'agent').executeTakeFirstOrThrow()
    const forged = await fetch(`http://127.0.0.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/status?leg=${leg.id}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' },
      body: new URLSearchParams({ CallSid: leg.provider_call_id ?? 'CA0', CallStatus: 'in-progress', AccountSid: peer.accountSid }).toString(),
    })
    expect(forged.status).toBe(403)
    expect((await t.services.calls.get(tt.tenant.id, created.id)).status).toBe('failed')
    // The answer URL of a leg that is over hangs it up.
    const unsigned = await fetch(`http://127.0.0.1:${port}/webhooks/twilio/voice/${tt.tenant.id}/answer?leg=${leg.id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
    expect(unsigned.status).toBe(403)
  })
})
