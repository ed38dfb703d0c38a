/**
 * Twilio Programmable Voice as a call-control provider: legs are REST-created calls
 * (`POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded) that, once answered, fetch
 * TwiML from Switchboard putting them into a conference named by our call id; hold and resume go
 * through the conference's Participants resource; hang-up updates the call to `completed`; status
 * and recording callbacks are signed with `X-Twilio-Signature`.
 *
 * Settings (`switchboard provider set --tenant <t> voice twilio accountSid=AC… authToken=… from=+1…`):
 * - `accountSid` (required), and `authToken` or an API key (`apiKeySid` + `apiKeySecret`) for the
 *   API. Callback signatures are made with the account's `authToken`, so callbacks need it.
 * - `from`: the default caller id (E.164), used when a leg names none.
 * - `baseUrl` (default https://api.twilio.com; tests point it at a local peer), `timeoutMs`
 *   (default 10000) — the same account settings as the SMS adapter (`../twilio.ts`).
 */
import type { ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { badSettings, optionalString } from '../support.ts'
import {
  firstParam, readTwilioAccountSettings, twilioAccount, twilioFailure, twilioFormParams, verifyTwilioWebhook, type TwilioAnswer,
} from '../twilio.ts'
import { ProviderError, type RawWebhook } from '../types.ts'
import { DEFLECTION_CHOICE_DIGITS, type AnswerDocument, type AnswerStep, type CallControlProvider, type CallLegEvent, type CallLegRequest, type CallLegStatus, type PlacedLeg } from './types.ts'

const VENDOR = 'twilio'
const E164 = /^\+[1-9]\d{1,14}$/

/**
 * Twilio error codes of a call that can never be placed as it is, with readable codes; other 4xx
 * answers are permanent as `twilio_<code>` (see `twilioFailure`).
 */
const VOICE_CODES: Readonly<Record<number, string>> = {
  21211: 'invalid_recipient', // invalid 'To' phone number
  21217: 'invalid_recipient', // 'To' is not a valid phone number
  21214: 'unreachable_recipient', // 'To' cannot be reached
  21215: 'region_not_permitted', // geo permissions: the account may not call that country
  21216: 'region_not_permitted', // the number is on a blocked (high-risk) list
  21210: 'invalid_sender', // 'From' is not a verified or owned number
  21212: 'invalid_sender', // invalid 'From'
  21205: 'invalid_answer_url', // the `Url` is not a valid URL
  20003: 'unauthorized',
  20404: 'not_found',
}

/** Twilio's `CallStatus` words as leg statuses. */
const CALL_STATUS: Readonly<Record<string, CallLegStatus>> = {
  queued: 'initiated', initiated: 'initiated', ringing: 'ringing', 'in-progress': 'answered', completed: 'completed',
  busy: 'busy', 'no-answer': 'no_answer', failed: 'failed', canceled: 'canceled',
}

/** Conferences remembered by call id (a hold looks the conference up once), at most this many. */
const MAX_CONFERENCES = 1000

/**
 * Check a tenant's Twilio voice settings without building anything: the account settings of the
 * SMS adapter, a caller id `from` in E.164, and the `authToken` that callbacks are signed with.
 * Throws ProviderError `invalid_settings` with a message the tenant can act on.
 */
export function validateTwilioVoiceSettings(settings: ChannelSettings): void {
  const { authToken } = readTwilioAccountSettings(settings)
  const from = optionalString(VENDOR, settings, 'from')
  if (!from) throw badSettings(VENDOR, 'set "from": the caller id calls are placed from (an E.164 number of the account, e.g. +15005550006)')
  if (!E164.test(from)) throw badSettings(VENDOR, `setting "from" must be an E.164 number such as +15005550006, got "${from}"`)
  if (!authToken) throw badSettings(VENDOR, 'set "authToken": Twilio signs voice status callbacks with it (an API key alone cannot check them)')
}

/** Text for XML content and attribute values. */
function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
}

/** What a deflected caller hears: the choices offered, by digit. */
const CHOICE_TEXT = { voicemail: 'leave a message', schedule_call: 'be called back when we are open' } as const

/**
 * The TwiML of a leg that does not join a conference: a voicemail (a prompt, then `<Record>` whose
 * finished recording is posted, signed, to the leg's status callback URL as a recording callback,
 * and whose end goes to `inputUrl`); a deflection choice (`<Gather>` one digit, posted to
 * `inputUrl`; no digit: goodbye); the confirmation of a call back; a hang-up.
 */
export function twimlOf(step: Exclude<AnswerStep, { kind: 'conference' }>, statusCallbackUrl: string, inputUrl: string): string {
  const say = (text: string) => `<Say>${xmlEscape(text)}</Say>`
  let inner: string
  switch (step.kind) {
    case 'voicemail':
      inner = say('Please leave a message after the tone. Hang up when you are done.')
        + `<Record action="${xmlEscape(inputUrl)}" method="POST" maxLength="300" playBeep="true" recordingStatusCallback="${xmlEscape(statusCallbackUrl)}" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed"/>`
      break
    case 'deflection': {
      const menu = step.options.map((o) => `Press ${DEFLECTION_CHOICE_DIGITS[o]} to ${CHOICE_TEXT[o]}.`).join(' ')
      inner = `<Gather action="${xmlEscape(inputUrl)}" method="POST" numDigits="1" timeout="10">${say(`Sorry, nobody can take your call right now. ${menu}`)}</Gather>${say('We did not get a choice. Goodbye.')}<Hangup/>`
      break
    }
    case 'scheduled':
      inner = say(`Thank you. We will call you back at ${step.at.toISOString().slice(0, 16).replace('T', ' ')} UTC. Goodbye.`) + '<Hangup/>'
      break
    case 'hangup':
      inner = '<Hangup/>'
      break
  }
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`
}

/** Our leg id from a callback URL's `?leg=`. */
function legOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('leg') || undefined
  } catch {
    return undefined
  }
}

function invalidWebhook(message: string): ProviderError {
  return new ProviderError('invalid_webhook', `twilio voice webhook: ${message}`, { retryable: false })
}

/** A JSON answer's body, or a retryable `bad_response` (a 2xx we cannot read is Twilio misbehaving). */
function json<T>(answer: TwilioAnswer, what: string): T {
  try {
    return JSON.parse(answer.body) as T
  } catch {
    throw new ProviderError('bad_response', `twilio ${answer.status}: the ${what} is not JSON`, { retryable: true, status: answer.status })
  }
}

/**
 * The events of a Twilio voice callback (`url`: the URL Twilio called, which its signature covers).
 * A call status callback (`CallSid`, `CallStatus`): the leg's status (queued and initiated are
 * `initiated`, in-progress is `answered`), Twilio's word, `Timestamp`, `CallDuration` on
 * `completed`, `ErrorCode`. A recording callback (`RecordingSid`, `RecordingStatus`): a finished
 * recording (`completed`) is a `completed` event of the leg carrying `recordingUrl`; recordings
 * still in progress, absent or failed give no event. The leg id comes from the URL's `?leg=`.
 * Status words we do not know give no event (acknowledged, ignored). Throws ProviderError
 * `invalid_webhook`.
 */
export function parseTwilioCallWebhook(body: unknown, url: string): CallLegEvent[] {
  const params = twilioFormParams(body)
  const legId = legOf(url)
  const errorCode = firstParam(params, 'ErrorCode') || undefined
  const timestamp = Date.parse(firstParam(params, 'Timestamp') ?? '')
  const at = Number.isFinite(timestamp) ? new Date(timestamp) : undefined
  const recordingSid = firstParam(params, 'RecordingSid')
  if (recordingSid !== undefined) {
    const word = firstParam(params, 'RecordingStatus')
    if (!word) throw invalidWebhook('RecordingStatus is required with RecordingSid')
    const providerCallId = firstParam(params, 'CallSid') || firstParam(params, 'ConferenceSid')
    if (!providerCallId) throw invalidWebhook('CallSid or ConferenceSid is required')
    const recordingUrl = firstParam(params, 'RecordingUrl')
    if (word !== 'completed' || !recordingUrl || !/^https?:\/\//i.test(recordingUrl)) return []
    const length = firstParam(params, 'RecordingDuration')
    const durationSeconds = length !== undefined && /^\d{1,9}$/.test(length) ? Number(length) : undefined
    return [{ kind: 'call_leg', providerCallId, legId, status: 'completed', at, recordingUrl, durationSeconds, providerStatus: `recording-${word}`, errorCode }]
  }
  const sid = firstParam(params, 'CallSid')
  if (!sid) throw invalidWebhook('CallSid is required')
  const word = firstParam(params, 'CallStatus')
  if (!word) throw invalidWebhook('CallStatus (a status callback) or RecordingSid (a recording callback) is required')
  const key = word.toLowerCase()
  const status = Object.hasOwn(CALL_STATUS, key) ? CALL_STATUS[key] : undefined
  if (!status) return []
  const duration = firstParam(params, 'CallDuration')
  const durationSeconds = status === 'completed' && duration !== undefined && /^\d{1,9}$/.test(duration) ? Number(duration) : undefined
  return [{ kind: 'call_leg', providerCallId: sid, legId, status, at, durationSeconds, providerStatus: key, errorCode }]
}

/**
 * The Twilio voice provider for one tenant's settings. Requests go over a keep-alive agent owned
 * by the provider; `close()` releases it.
 */
export function createTwilioCallControl(settings: ChannelSettings, options: ProviderOptions = {}): CallControlProvider {
  validateTwilioVoiceSettings(settings)
  const defaultFrom = optionalString(VENDOR, settings, 'from')!
  const account = twilioAccount(settings, options)
  const authToken = account.authToken
  /** Conference sids by our call id (friendly name), most recently used last. */
  const conferences = new Map<string, string>()

  async function checked(answer: Promise<TwilioAnswer>, ok: (a: TwilioAnswer) => boolean = (a) => a.status === 200 || a.status === 201): Promise<TwilioAnswer> {
    const a = await answer
    if (!ok(a)) throw twilioFailure(a, VOICE_CODES)
    return a
  }

  /** The in-progress conference named `callId` (Twilio's Conferences list by FriendlyName). */
  async function conferenceSid(callId: string): Promise<string> {
    const known = conferences.get(callId)
    if (known) {
      conferences.delete(callId)
      conferences.set(callId, known)
      return known
    }
    const query = new URLSearchParams({ FriendlyName: callId, Status: 'in-progress', PageSize: '20' })
    const answer = await checked(account.request(new URL(`${account.accountUrl}/Conferences.json?${query.toString()}`), 'GET', {}), (a) => a.status === 200)
    const list = json<{ conferences?: Array<{ sid?: unknown; friendly_name?: unknown }> }>(answer, 'conference list')
    const found = (Array.isArray(list.conferences) ? list.conferences : []).find((c) => c.friendly_name === callId && typeof c.sid === 'string')
    if (!found) throw new ProviderError('conference_not_found', `twilio: no conference "${callId}" in progress`, { retryable: false })
    if (conferences.size >= MAX_CONFERENCES) conferences.delete(conferences.keys().next().value!)
    conferences.set(callId, found.sid as string)
    return found.sid as string
  }

  return {
    id: VENDOR,
    voipProvider: 'voip_provider_twilio',

    async placeLeg(request: CallLegRequest): Promise<PlacedLeg> {
      const form = new URLSearchParams()
      form.set('To', request.to)
      form.set('From', request.from || defaultFrom)
      form.set('Url', request.answerUrl)
      form.set('Method', 'POST')
      form.set('StatusCallback', request.statusCallbackUrl)
      form.set('StatusCallbackMethod', 'POST')
      for (const event of ['initiated', 'ringing', 'answered', 'completed']) form.append('StatusCallbackEvent', event)
      // Twilio rings at most 600 s and at least 5 s.
      const ring = Number.isFinite(request.ringTimeoutSeconds) ? Math.round(request.ringTimeoutSeconds) : 60
      form.set('Timeout', String(Math.min(600, Math.max(5, ring))))
      // Recording is the conference's (`record` in the answer TwiML): one recording of every party,
      // not one per leg as `Record=true` here would make.
      const answer = await checked(account.postForm('/Calls.json', form, { 'i-twilio-idempotency-token': request.legId }))
      const sid = json<{ sid?: unknown }>(answer, 'call').sid
      if (typeof sid !== 'string' || sid === '') {
        throw new ProviderError('bad_response', `twilio ${answer.status}: the answer has no call sid`, { retryable: true, status: answer.status })
      }
      return { providerCallId: sid }
    },

    async hold(providerCallId: string, callId: string, onHold: boolean): Promise<void> {
      const conference = await conferenceSid(callId)
      const form = new URLSearchParams({ Hold: onHold ? 'true' : 'false' })
      const path = `/Conferences/${encodeURIComponent(conference)}/Participants/${encodeURIComponent(providerCallId)}.json`
      try {
        await checked(account.postForm(path, form))
      } catch (err) {
        // The conference ended and another one of that name may run now: look it up afresh next time.
        if (err instanceof ProviderError && err.status === 404) conferences.delete(callId)
        throw err
      }
    },

    async hangUp(providerCallId: string): Promise<void> {
      const form = new URLSearchParams({ Status: 'completed' })
      // `completed` ends a ringing call as well as an answered one; Twilio answers a call that
      // already ended with its resource unchanged, or 21220 (not in progress): both are done.
      await checked(account.postForm(`/Calls/${encodeURIComponent(providerCallId)}.json`, form), (a) => {
        if (a.status === 200 || a.status === 201) return true
        if (a.status !== 400) return false
        try {
          return (JSON.parse(a.body) as { code?: unknown }).code === 21220
        } catch {
          return false
        }
      })
    },

    answerDocument({ callId, record, statusCallbackUrl, step, inputUrl }): AnswerDocument {
      if (step && step.kind !== 'conference') return { contentType: 'text/xml; charset=utf-8', body: twimlOf(step, statusCallbackUrl, inputUrl ?? statusCallbackUrl) }
      const attributes = [
        'startConferenceOnEnter="true"',
        // Either party leaving ends nothing by itself: core decides (hang-up, transfer, hold).
        'endConferenceOnExit="false"',
        'beep="false"',
      ]
      if (record) {
        attributes.push('record="record-from-start"', `recordingStatusCallback="${xmlEscape(statusCallbackUrl)}"`,
          'recordingStatusCallbackMethod="POST"', 'recordingStatusCallbackEvent="completed"')
      }
      const body = '<?xml version="1.0" encoding="UTF-8"?>'
        + `<Response><Dial><Conference ${attributes.join(' ')}>${xmlEscape(callId)}</Conference></Dial></Response>`
      return { contentType: 'text/xml; charset=utf-8', body }
    },

    verifySignature: (req: RawWebhook) => verifyTwilioWebhook(authToken, req),
    parseCallWebhook: (req: RawWebhook) => parseTwilioCallWebhook(req.body, req.url),
    close: async () => account.close(),
  }
}
