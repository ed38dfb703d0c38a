import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeNow, listenLocal } from '../../../test/peers/listen.ts'
import { sign } from '../../../test/peers/twilio.ts'
import { readConferenceTwiml, TwilioVoicePeer } from '../../../test/peers/twilio-voice.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { ProviderRegistry } from '../registry.ts'
import type { RawWebhook } from '../types.ts'
import { ProviderError } from '../types.ts'
import { registerChannelVendors } from '../vendors.ts'
import { createTwilioCallControl, parseTwilioCallWebhook, validateTwilioVoiceSettings } from './twilio.ts'
import type { CallControlProvider, CallLegEvent, CallLegRequest } from './types.ts'

// The Twilio voice provider against a local Twilio (test/peers/twilio-voice.ts) over real HTTP. A
// small local server plays Switchboard's side of the two URLs Twilio calls back
// (`/webhooks/twilio/voice/<tenant>/answer?leg=…` and `/status?leg=…`, README "Twilio voice"): it
// refuses a request `verifySignature` does not accept, serves `answerDocument` as TwiML and reads
// callbacks with `parseCallWebhook`.
const policy = { allowPrivate: true, allowedHosts: [] }
const TENANT = randomUUID()
const FROM = '+15005550006'
let peer: TwilioVoicePeer
let provider: CallControlProvider
let server: Server
let base = ''
/** Legs the test placed, by our leg id: what the answer URL needs to build the TwiML. */
const legs = new Map<string, { callId: string; record: boolean }>()
/** Events read from verified callbacks, by leg id. */
const events = new Map<string, CallLegEvent[]>()
/** Requests our side refused (a bad signature). */
const refused: Array<{ path: string }> = []

function settings(overrides: Record<string, unknown> = {}) {
  return { provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: FROM, baseUrl: peer.url, ...overrides }
}

beforeAll(async () => {
  peer = await new TwilioVoicePeer({ apiKeys: { ['SK' + 'k'.repeat(32)]: 'key-secret' } }).start()
  provider = createTwilioCallControl(settings(), { urlPolicy: policy })
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
      const raw: RawWebhook = { method: req.method ?? 'POST', url: base + (req.url ?? '/'), headers: req.headers, body }
      const path = (req.url ?? '').split('?')[0]!
      if (!provider.verifySignature(raw)) {
        refused.push({ path })
        res.writeHead(403).end('bad signature')
        return
      }
      const legId = new URL(raw.url).searchParams.get('leg') ?? ''
      if (path === `/webhooks/twilio/voice/${TENANT}/answer`) {
        const leg = legs.get(legId)
        if (!leg) return void res.writeHead(404).end()
        const doc = provider.answerDocument({ callId: leg.callId, legId, record: leg.record, statusCallbackUrl: statusUrl(legId) })
        res.writeHead(200, { 'content-type': doc.contentType }).end(doc.body)
        return
      }
      if (path === `/webhooks/twilio/voice/${TENANT}/status`) {
        const list = events.get(legId) ?? []
        list.push(...provider.parseCallWebhook(raw))
        events.set(legId, list)
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end('<?xml version="1.0" encoding="UTF-8"?><Response/>')
        return
      }
      res.writeHead(404).end()
    })
  })
  base = await listenLocal(server)
})

afterAll(async () => {
  await peer?.stop()
  await provider?.close?.()
  if (server) await closeNow(server)
})

const statusUrl = (legId: string) => `${base}/webhooks/twilio/voice/${TENANT}/status?leg=${legId}`
const answerUrl = (legId: string) => `${base}/webhooks/twilio/voice/${TENANT}/answer?leg=${legId}`

function leg(to: string, overrides: Partial<CallLegRequest> = {}): CallLegRequest {
  const legId = randomUUID()
  const callId = overrides.callId ?? randomUUID()
  const request: CallLegRequest = {
    legId, callId, to, from: FROM, statusCallbackUrl: statusUrl(legId), answerUrl: answerUrl(legId), ringTimeoutSeconds: 20, record: false, ...overrides,
  }
  legs.set(request.legId, { callId: request.callId, record: request.record })
  return request
}

let numberSeq = 0
/** A fresh callee number per test. */
const callee = () => `+1415555${String(1000 + numberSeq++).padStart(4, '0')}`

/** The statuses read for a leg, once its last callback is in. */
async function statusesUntil(legId: string, last: string): Promise<CallLegEvent[]> {
  return waitFor(`the ${last} callback of leg ${legId}`, () => {
    const list = events.get(legId) ?? []
    return list.some((e) => e.status === last && e.recordingUrl === undefined) ? [...list] : undefined
  }, 60_000)
}

describe('placing legs against the local Twilio', () => {
  it('answered then hung up: the peer fetches our TwiML, the signed callbacks read as initiated → ringing → answered → completed with a duration', async () => {
    const to = callee()
    peer.script(to, { kind: 'answer', afterMs: 20 })
    const request = leg(to, { record: true })
    const placed = await provider.placeLeg(request)
    expect(placed.providerCallId).toMatch(/^CA[0-9a-f]{32}$/)
    const call = peer.call(placed.providerCallId)!
    // The REST request carried Twilio's form fields.
    expect(call).toMatchObject({
      to, from: FROM, url: request.answerUrl, method: 'POST', statusCallback: request.statusCallbackUrl, statusCallbackMethod: 'POST',
      statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'], timeout: 20, idempotencyToken: request.legId,
    })
    await waitFor('the leg answered', () => (events.get(request.legId) ?? []).some((e) => e.status === 'answered'), 60_000)
    // The TwiML our side served puts the leg into the call's conference, recording.
    expect(call.twimlError).toBeUndefined()
    expect(call.conference).toBe(request.callId)
    expect(call.conferenceAttributes).toMatchObject({ record: 'record-from-start', recordingStatusCallback: request.statusCallbackUrl })

    // Let at least a second of conversation pass, then hang up through the provider.
    await new Promise((r) => setTimeout(r, 1100))
    await provider.hangUp(placed.providerCallId)
    expect(call.updates).toEqual([{ Status: 'completed' }])
    // The leg's own status callbacks (the recording's callback, read below, may come before the last).
    const list = (await statusesUntil(request.legId, 'completed')).filter((e) => e.recordingUrl === undefined)
    expect(list.map((e) => e.status)).toEqual(['initiated', 'ringing', 'answered', 'completed'])
    for (const e of list) {
      expect(e).toMatchObject({ kind: 'call_leg', providerCallId: placed.providerCallId, legId: request.legId })
      expect(e.at).toBeInstanceOf(Date)
    }
    expect(list.map((e) => e.providerStatus)).toEqual(['initiated', 'ringing', 'in-progress', 'completed'])
    expect(list[3]!.durationSeconds).toBeGreaterThanOrEqual(1)
    expect(list.slice(0, 3).every((e) => e.durationSeconds === undefined)).toBe(true)
    // The conference ended with its only participant: the recording callback names the finished recording.
    const recording = await waitFor('the recording callback', () => (events.get(request.legId) ?? []).find((e) => e.recordingUrl !== undefined), 60_000)
    expect(recording).toMatchObject({ status: 'completed', legId: request.legId, providerStatus: 'recording-completed' })
    expect(recording.recordingUrl).toMatch(new RegExp(`^${peer.url}/2010-04-01/Accounts/${peer.accountSid}/Recordings/RE[0-9a-f]{32}$`))
    expect(refused).toEqual([])

    // Hanging up a call that already ended is not an error, whether Twilio answers with the
    // unchanged call or with 21220 (not in progress).
    await call.done
    await provider.hangUp(placed.providerCallId)
    peer.refuseEndedCallUpdates = true
    try {
      await provider.hangUp(placed.providerCallId)
    } finally {
      peer.refuseEndedCallUpdates = false
    }
    // A call Twilio does not know is an error (404, permanent).
    await expect(provider.hangUp('CA' + 'f'.repeat(32))).rejects.toMatchObject({ code: 'not_found', retryable: false, status: 404 })
  })

  it('a leg that is not recorded asks for no recording in its TwiML', async () => {
    const to = callee()
    peer.script(to, { kind: 'answer', hangUpAfterMs: 10 })
    const request = leg(to)
    const placed = await provider.placeLeg(request)
    const list = await statusesUntil(request.legId, 'completed')
    expect(list.map((e) => e.status)).toEqual(['initiated', 'ringing', 'answered', 'completed'])
    const call = peer.call(placed.providerCallId)!
    expect(call.conferenceAttributes?.record).toBeUndefined()
    expect(call.conferenceAttributes?.recordingStatusCallback).toBeUndefined()
    await call.done
    expect(peer.recordingCallbacks.some((c) => c.url === request.statusCallbackUrl)).toBe(false)
  })

  it('busy, no answer (after the ring timeout) and failed end the leg with Twilio’s word and error code', async () => {
    const busy = callee()
    const silent = callee()
    const broken = callee()
    peer.script(busy, { kind: 'busy', afterMs: 10 })
    peer.script(silent, { kind: 'no-answer' })
    peer.script(broken, { kind: 'failed', errorCode: '32009' })
    const [b, n, f] = [leg(busy), leg(silent, { ringTimeoutSeconds: 1 }), leg(broken)]
    await Promise.all([b, n, f].map((r) => provider.placeLeg(r)))
    // Twilio rings for at least 5 s.
    expect(peer.calls.find((c) => c.to === silent)!.timeout).toBe(5)
    const [busyEvents, silentEvents, failedEvents] = await Promise.all([
      statusesUntil(b.legId, 'busy'), statusesUntil(n.legId, 'no_answer'), statusesUntil(f.legId, 'failed'),
    ])
    expect(busyEvents.map((e) => e.status)).toEqual(['initiated', 'ringing', 'busy'])
    expect(busyEvents[2]).toMatchObject({ providerStatus: 'busy', durationSeconds: undefined, errorCode: undefined })
    expect(silentEvents.map((e) => e.status)).toEqual(['initiated', 'ringing', 'no_answer'])
    expect(silentEvents[2]!.providerStatus).toBe('no-answer')
    expect(failedEvents.map((e) => e.status)).toEqual(['initiated', 'failed'])
    expect(failedEvents[1]).toMatchObject({ providerStatus: 'failed', errorCode: '32009' })
  })

  it('hanging up a ringing leg cancels it', async () => {
    const to = callee()
    peer.script(to, { kind: 'no-answer' })
    const request = leg(to)
    const placed = await provider.placeLeg(request)
    await waitFor('ringing', () => (events.get(request.legId) ?? []).some((e) => e.status === 'ringing'), 60_000)
    await provider.hangUp(placed.providerCallId)
    const list = await statusesUntil(request.legId, 'canceled')
    expect(list.map((e) => e.status)).toEqual(['initiated', 'ringing', 'canceled'])
  })

  it('a repeated leg id is one call (Twilio’s idempotency token)', async () => {
    const to = callee()
    peer.script(to, { kind: 'busy' })
    const request = leg(to)
    const first = await provider.placeLeg(request)
    const again = await provider.placeLeg(request)
    expect(again).toEqual(first)
    expect(peer.calls.filter((c) => c.to === to)).toHaveLength(1)
    await statusesUntil(request.legId, 'busy')
  })

  it('holds and resumes a leg through the conference’s Participants resource', async () => {
    const callId = randomUUID()
    const [user, agent] = [callee(), callee()]
    peer.script(user, { kind: 'answer' })
    peer.script(agent, { kind: 'answer' })
    const [u, a] = [leg(user, { callId }), leg(agent, { callId })]
    const [pu, pa] = await Promise.all([provider.placeLeg(u), provider.placeLeg(a)])
    await waitFor('both legs answered', () => [u, a].every((r) => (events.get(r.legId) ?? []).some((e) => e.status === 'answered')), 60_000)
    const conference = peer.conferences.find((c) => c.friendlyName === callId)!
    expect([...conference.participants.keys()].sort()).toEqual([pu.providerCallId, pa.providerCallId].sort())

    await provider.hold(pu.providerCallId, callId, true)
    expect(conference.participants.get(pu.providerCallId)!.hold).toBe(true)
    await provider.hold(pu.providerCallId, callId, false)
    expect(conference.participants.get(pu.providerCallId)!.hold).toBe(false)
    expect(peer.participantUpdates.filter((p) => p.conferenceSid === conference.sid)).toEqual([
      { conferenceSid: conference.sid, callSid: pu.providerCallId, form: { Hold: 'true' } },
      { conferenceSid: conference.sid, callSid: pu.providerCallId, form: { Hold: 'false' } },
    ])
    // The conference was looked up by its friendly name once.
    expect(peer.requests.filter((r) => r.path.endsWith('/Conferences.json'))).toHaveLength(1)

    // A leg that is not in the conference: Twilio's 404, permanent.
    await expect(provider.hold('CA' + '0'.repeat(32), callId, true)).rejects.toMatchObject({ code: 'not_found', retryable: false, status: 404 })
    // No conference of that name in progress.
    await expect(provider.hold(pu.providerCallId, randomUUID(), true)).rejects.toMatchObject({ code: 'conference_not_found', retryable: false })

    await Promise.all([provider.hangUp(pu.providerCallId), provider.hangUp(pa.providerCallId)])
    await Promise.all([statusesUntil(u.legId, 'completed'), statusesUntil(a.legId, 'completed')])
    expect(conference.status).toBe('completed')
  })
})

describe('Twilio errors', () => {
  it('503 and 429 are retryable with the Retry-After they carry', async () => {
    peer.failNext(1, { kind: 'status', status: 503, retryAfterSeconds: 7 })
    const unavailable = await provider.placeLeg(leg(callee())).catch((e: unknown) => e)
    expect(unavailable).toBeInstanceOf(ProviderError)
    expect(unavailable).toMatchObject({ code: 'unavailable', retryable: true, status: 503, retryAfterMs: 7000 })
    peer.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 2 })
    await expect(provider.placeLeg(leg(callee()))).rejects.toMatchObject({ code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 2000 })
    peer.failNext(1, { kind: 'status', status: 500 })
    await expect(provider.hangUp('CA' + '1'.repeat(32))).rejects.toMatchObject({ code: 'unavailable', retryable: true })
  })

  it('an invalid number (21211), geo permissions (21215, 21216) and an unknown caller id (21210) are permanent', async () => {
    await expect(provider.placeLeg(leg('555-0100'))).rejects.toMatchObject({ code: 'invalid_recipient', retryable: false, status: 400 })
    const abroad = '+8613800138000'
    const blocked = '+882345678901'
    peer.geoBlocked.add(abroad)
    peer.blocklisted.add(blocked)
    const geo = await provider.placeLeg(leg(abroad)).then(() => undefined, (e: unknown) => e as ProviderError)
    expect(geo).toMatchObject({ code: 'region_not_permitted', retryable: false })
    expect(geo?.message).toContain('(21215)')
    await expect(provider.placeLeg(leg(blocked))).rejects.toMatchObject({ code: 'region_not_permitted', retryable: false })
    await expect(provider.placeLeg(leg(callee(), { from: '+15550001111' }))).rejects.toMatchObject({ code: 'invalid_sender', retryable: false })
    expect(peer.calls.some((c) => [abroad, blocked, '555-0100'].includes(c.to))).toBe(false)
  })

  it('wrong credentials are 20003, permanent; an API key of the account works', async () => {
    const wrong = createTwilioCallControl(settings({ authToken: 'not-the-token' }), { urlPolicy: policy })
    const err = await wrong.placeLeg(leg(callee())).then(() => undefined, (e: unknown) => e as ProviderError)
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false, status: 401 })
    expect(err?.message).toContain('(20003)')
    await wrong.close?.()
    const to = callee()
    peer.script(to, { kind: 'busy' })
    const keyed = createTwilioCallControl(settings({ apiKeySid: 'SK' + 'k'.repeat(32), apiKeySecret: 'key-secret', authToken: peer.authToken }), { urlPolicy: policy })
    const request = leg(to)
    await keyed.placeLeg(request)
    await statusesUntil(request.legId, 'busy')
    await keyed.close?.()
  })

  it('a private base URL is refused under the default URL policy (unsafe_endpoint, permanent)', async () => {
    const strict = createTwilioCallControl(settings())
    await expect(strict.placeLeg(leg(callee()))).rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false })
    await strict.close?.()
  })
})

describe('callbacks', () => {
  const url = 'https://hub.example.org/webhooks/twilio/voice/t1/status?leg=0b6a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b'
  const sid = 'CA' + '2'.repeat(32)
  const params = { AccountSid: 'AC' + '3'.repeat(32), CallSid: sid, CallStatus: 'completed', CallDuration: '42', Timestamp: 'Wed, 02 Dec 2026 10:00:00 +0000' }

  it('refuses forged, tampered and unsigned callbacks', async () => {
    const signed = (u: string, p: Record<string, string>, token = peer.authToken): RawWebhook => ({
      method: 'POST', url: u, headers: { 'x-twilio-signature': sign(token, u, p) }, body: p,
    })
    expect(provider.verifySignature(signed(url, params))).toBe(true)
    expect(provider.verifySignature(signed(url, params, 'other-token'))).toBe(false)
    expect(provider.verifySignature({ ...signed(url, params), url: url.replace('leg=0b', 'leg=1b') })).toBe(false)
    expect(provider.verifySignature({ ...signed(url, params), body: { ...params, CallDuration: '4200' } })).toBe(false)
    expect(provider.verifySignature({ ...signed(url, params), headers: {} })).toBe(false)

    // Over HTTP: our side answers 403 to a forged callback and reads nothing from it.
    const legId = randomUUID()
    const target = statusUrl(legId)
    const forged = await fetch(target, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign('forged', target, params) },
      body: new URLSearchParams(params).toString(),
    })
    expect(forged.status).toBe(403)
    const unsigned = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() })
    expect(unsigned.status).toBe(403)
    expect(events.get(legId)).toBeUndefined()
    expect(refused.filter((r) => r.path.endsWith('/status'))).toHaveLength(2)
    refused.length = 0
  })

  it('reads every CallStatus word, the timestamp, duration and error code; unknown words give no event', () => {
    const statuses: Record<string, string> = {
      queued: 'initiated', initiated: 'initiated', ringing: 'ringing', 'in-progress': 'answered', completed: 'completed',
      busy: 'busy', 'no-answer': 'no_answer', failed: 'failed', canceled: 'canceled',
    }
    for (const [word, status] of Object.entries(statuses)) {
      expect(parseTwilioCallWebhook({ ...params, CallStatus: word }, url), word).toEqual([{
        kind: 'call_leg', providerCallId: sid, legId: '0b6a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b', status, at: new Date('2026-12-02T10:00:00Z'),
        durationSeconds: status === 'completed' ? 42 : undefined, providerStatus: word, errorCode: undefined,
      }])
    }
    expect(parseTwilioCallWebhook({ CallSid: sid, CallStatus: 'failed', ErrorCode: '31005' }, 'https://x.example/status')).toEqual([{
      kind: 'call_leg', providerCallId: sid, legId: undefined, status: 'failed', at: undefined, durationSeconds: undefined, providerStatus: 'failed', errorCode: '31005',
    }])
    for (const word of ['answered-ish', 'constructor', '__proto__', 'toString']) expect(parseTwilioCallWebhook({ CallSid: sid, CallStatus: word }, url), word).toEqual([])
    // A duration that is not a number of seconds is left out.
    expect(parseTwilioCallWebhook({ CallSid: sid, CallStatus: 'completed', CallDuration: 'x' }, url)[0]!.durationSeconds).toBeUndefined()
  })

  it('reads a finished recording; recordings in progress, absent or failed give no event', () => {
    const recording = { AccountSid: 'AC' + '3'.repeat(32), ConferenceSid: 'CF' + '4'.repeat(32), RecordingSid: 'RE' + '5'.repeat(32), RecordingUrl: 'https://api.twilio.com/rec/1', RecordingStatus: 'completed' }
    expect(parseTwilioCallWebhook(recording, url)).toEqual([{
      kind: 'call_leg', providerCallId: recording.ConferenceSid, legId: '0b6a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b', status: 'completed', at: undefined,
      recordingUrl: 'https://api.twilio.com/rec/1', providerStatus: 'recording-completed', errorCode: undefined,
    }])
    expect(parseTwilioCallWebhook({ ...recording, CallSid: sid }, url)[0]!.providerCallId).toBe(sid)
    for (const word of ['in-progress', 'absent', 'failed']) expect(parseTwilioCallWebhook({ ...recording, RecordingStatus: word }, url), word).toEqual([])
  })

  it('refuses a body it cannot read with invalid_webhook', () => {
    for (const body of [{}, { CallStatus: 'completed' }, { CallSid: sid }, { RecordingSid: 'RE1', RecordingStatus: 'completed' }, { RecordingSid: 'RE1', CallSid: sid }, 'not a form', null]) {
      expect(() => parseTwilioCallWebhook(body, url), JSON.stringify(body)).toThrow(expect.objectContaining({ code: 'invalid_webhook', retryable: false }))
    }
  })
})

describe('answer documents', () => {
  it('are TwiML joining the conference named by the call id, XML-escaped, recording only when asked', () => {
    const plain = provider.answerDocument({ callId: 'c1', legId: 'l1', record: false, statusCallbackUrl: 'https://hub.example.org/s?leg=l1' })
    expect(plain.contentType).toBe('text/xml; charset=utf-8')
    expect(plain.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="false" beep="false">c1</Conference></Dial></Response>')
    const recorded = provider.answerDocument({ callId: 'a<b>&"c\'', legId: 'l1', record: true, statusCallbackUrl: 'https://hub.example.org/s?leg=l1&x="y"' })
    expect(recorded.body).toContain('>a&lt;b&gt;&amp;&quot;c&apos;</Conference>')
    expect(readConferenceTwiml(recorded.body)).toEqual({
      name: 'a<b>&"c\'',
      attributes: {
        startConferenceOnEnter: 'true', endConferenceOnExit: 'false', beep: 'false', record: 'record-from-start',
        recordingStatusCallback: 'https://hub.example.org/s?leg=l1&x="y"', recordingStatusCallbackMethod: 'POST', recordingStatusCallbackEvent: 'completed',
      },
    })
  })
})

describe('settings', () => {
  const good = { provider: 'twilio', accountSid: 'AC' + 'a'.repeat(32), authToken: 'token', from: '+15005550006' }
  const problem = (s: Record<string, unknown>) => {
    try {
      validateTwilioVoiceSettings({ provider: 'twilio', ...s })
      return undefined
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderError)
      expect(err).toMatchObject({ code: 'invalid_settings', retryable: false })
      return (err as Error).message
    }
  }

  it('say what to fix', () => {
    expect(problem(good)).toBeUndefined()
    expect(problem({ ...good, accountSid: undefined })).toBe('twilio: setting "accountSid" is required')
    expect(problem({ ...good, accountSid: 'AC123' })).toBe('twilio: setting "accountSid" must be AC followed by 32 characters')
    expect(problem({ ...good, authToken: undefined })).toBe('twilio: set "authToken", or "apiKeySid" and "apiKeySecret"')
    expect(problem({ ...good, authToken: undefined, apiKeySid: 'SK1', apiKeySecret: 's' }))
      .toBe('twilio: set "authToken": Twilio signs voice status callbacks with it (an API key alone cannot check them)')
    expect(problem({ ...good, from: undefined })).toBe('twilio: set "from": the caller id calls are placed from (an E.164 number of the account, e.g. +15005550006)')
    expect(problem({ ...good, from: '555-0100' })).toBe('twilio: setting "from" must be an E.164 number such as +15005550006, got "555-0100"')
    expect(problem({ ...good, baseUrl: 'ftp://x' })).toBe('twilio: setting "baseUrl" must be an http(s) URL')
    expect(problem({ ...good, timeoutMs: '5' })).toBe('twilio: setting "timeoutMs" must be an integer 100-120000')
    expect(() => createTwilioCallControl({ ...good, from: undefined })).toThrow(/set "from"/)
  })

  it('a tenant can set voice to twilio; bad voice settings are refused with the same message; SMS settings are checked as before', () => {
    const registry = registerChannelVendors(new ProviderRegistry())
    expect(registry.problem('voice', good)).toBeUndefined()
    expect(registry.problem('voice', { ...good, from: 'nope' })).toBe('twilio: setting "from" must be an E.164 number such as +15005550006, got "nope"')
    expect(registry.problem('sms', good)).toBeUndefined()
    expect(registry.problem('sms', { ...good, from: undefined })).toBe('twilio: set "from" (a sender number) or "messagingServiceSid"')
    expect(registry.problem('email', good)).toBe('twilio does not send email here (sms and whatsapp only)')
    // Voice over the messaging registry stays the sandbox's unless a tenant configures otherwise.
    expect(registry.resolve('voice').id).toBe('sandbox')
  })
})
