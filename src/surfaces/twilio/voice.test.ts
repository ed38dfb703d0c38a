import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/helpers/process.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { sign } from '../../../test/peers/twilio.ts'
import { TwilioVoicePeer } from '../../../test/peers/twilio-voice.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import { registerBodyParsers } from '../../http/body-parsers.ts'
import { registerErrorHandling } from '../../http/errors.ts'
import { webhookErrorShape } from '../../http/webhook-errors.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { createTwilioCallControl } from '../../providers/voice/twilio.ts'
import type { CallControlProvider, CallLegEvent } from '../../providers/voice/types.ts'
import { registerTwilioVoiceRoutes } from './voice.ts'

// The voice routes of the Twilio webhook surface over real HTTP: a local Twilio
// (test/peers/twilio-voice.ts) places a leg through the Twilio voice provider, fetches the answer
// URL and posts signed callbacks to the routes, which check them with the tenant's provider and
// hand the events to the handler (the seam core's calls domain is wired to at merge).
let peer: TwilioVoicePeer
let app: FastifyInstance
let base = ''
let provider: CallControlProvider
const tenant: Tenant = { id: randomUUID() as TenantId, name: 'Voice', embedCode: 'x', cassClient: 'voice', createdAt: new Date() }
/** A tenant that exists but whose voice is not Twilio. */
const sandboxTenant: Tenant = { ...tenant, id: randomUUID() as TenantId }
const received: Array<{ tenant: string; events: CallLegEvent[] }> = []
/** Legs core would know: leg id → call id and recording. */
const legs = new Map<string, { callId: string; record: boolean }>()

beforeAll(async () => {
  peer = await new TwilioVoicePeer().start()
  provider = createTwilioCallControl({ provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', baseUrl: peer.url }, {
    urlPolicy: { allowPrivate: true, allowedHosts: [] },
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  app = Fastify()
  registerBodyParsers(app)
  await app.register(async (scope) => {
    registerErrorHandling(scope, webhookErrorShape())
    registerTwilioVoiceRoutes(scope, {
      publicUrl: base,
      findTenant: async (id) => [tenant, sandboxTenant].find((t) => t.id === id),
      reader: async (t) => (t.id === tenant.id ? provider : undefined),
      onEvents: async (t, events) => {
        received.push({ tenant: t.id, events })
      },
      answer: async (_t, legId) => {
        const leg = legs.get(legId)
        return leg && provider.answerDocument({ callId: leg.callId, legId, record: leg.record, statusCallbackUrl: statusUrl(legId) })
      },
    })
  }, { prefix: '/webhooks/twilio' })
  await app.listen({ port, host: '127.0.0.1' })
})

afterAll(async () => {
  await peer?.stop()
  await provider?.close?.()
  await app?.close()
})

const statusUrl = (legId: string, tenantId: string = tenant.id) => `${base}/webhooks/twilio/voice/${tenantId}/status?leg=${legId}`
const answerUrl = (legId: string, tenantId: string = tenant.id) => `${base}/webhooks/twilio/voice/${tenantId}/answer?leg=${legId}`
const eventsOf = (legId: string) => received.flatMap((r) => r.events).filter((e) => e.legId === legId)

/** Post a form the way Twilio does, signed with `token` (or not at all). */
async function post(url: string, params: Record<string, string>, token: string | null = peer.authToken) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token === null ? {} : { 'x-twilio-signature': sign(token, url, params) }) },
    body: new URLSearchParams(params).toString(),
  })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

describe('the Twilio voice routes', () => {
  it('serve the leg’s TwiML to the peer and hand its signed callbacks to the handler, in order', async () => {
    const to = '+14155550101'
    peer.script(to, { kind: 'answer', hangUpAfterMs: 50 })
    const legId = randomUUID()
    const callId = randomUUID()
    legs.set(legId, { callId, record: true })
    const placed = await provider.placeLeg({
      legId, callId, to, from: '+15005550006', statusCallbackUrl: statusUrl(legId), answerUrl: answerUrl(legId), ringTimeoutSeconds: 20, record: true,
    })
    await waitFor('the completed callback', () => eventsOf(legId).some((e) => e.status === 'completed' && e.recordingUrl === undefined), 60_000)
    await waitFor('the recording callback', () => eventsOf(legId).some((e) => e.recordingUrl !== undefined), 60_000)
    const call = peer.call(placed.providerCallId)!
    expect(call.twimlError).toBeUndefined()
    expect(call.conference).toBe(callId)
    expect(call.conferenceAttributes).toMatchObject({ record: 'record-from-start', recordingStatusCallback: statusUrl(legId) })
    expect(eventsOf(legId).filter((e) => e.recordingUrl === undefined).map((e) => e.status)).toEqual(['initiated', 'ringing', 'answered', 'completed'])
    expect(received.every((r) => r.tenant === tenant.id)).toBe(true)
    // Every callback was answered 200 with TwiML.
    expect([...call.callbacks, ...peer.recordingCallbacks].every((c) => c.answered === 200)).toBe(true)
  })

  it('answer a leg they do not know with a hang-up', async () => {
    const legId = randomUUID()
    const r = await post(answerUrl(legId), { CallSid: 'CA' + '1'.repeat(32), CallStatus: 'in-progress', AccountSid: peer.accountSid })
    expect(r).toEqual({ status: 200, type: 'text/xml; charset=utf-8', body: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>' })
  })

  it('refuse a forged or unsigned callback, an unknown tenant and a tenant without Twilio voice alike with 403, handing nothing on', async () => {
    const legId = randomUUID()
    const params = { CallSid: 'CA' + '2'.repeat(32), CallStatus: 'completed', CallDuration: '9', AccountSid: peer.accountSid }
    const before = received.length
    for (const r of [
      await post(statusUrl(legId), params, 'forged-token'),
      await post(statusUrl(legId), params, null),
      await post(answerUrl(legId), params, 'forged-token'),
      await post(statusUrl(legId, randomUUID()), params),
      await post(statusUrl(legId, 'not-a-tenant'), params),
      await post(statusUrl(legId, sandboxTenant.id), params),
    ]) {
      expect(r.status, r.body).toBe(403)
      expect(JSON.parse(r.body)).toEqual({ message: 'Forbidden' })
    }
    expect(received.length).toBe(before)
    // The same callback, signed: taken.
    expect((await post(statusUrl(legId), params)).status).toBe(200)
    expect(eventsOf(legId)).toMatchObject([{ status: 'completed', durationSeconds: 9, providerCallId: params.CallSid }])
  })

  it('answer 400 to a signed body that is no callback, and to an answer URL without a leg', async () => {
    const before = received.length
    const bad = await post(statusUrl(randomUUID()), { AccountSid: peer.accountSid })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body)).toEqual({ message: 'twilio voice webhook: CallSid is required' })
    const noLeg = await post(`${base}/webhooks/twilio/voice/${tenant.id}/answer`, { CallSid: 'CA' + '3'.repeat(32), CallStatus: 'in-progress' })
    expect(noLeg.status).toBe(400)
    expect(received.length).toBe(before)
  })
})
