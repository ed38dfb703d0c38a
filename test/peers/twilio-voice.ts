/**
 * A local Twilio Programmable Voice: a real HTTP server speaking the Calls REST API's shape
 * (`POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded, Basic auth with the auth
 * token or an API key), checking credentials and form fields the way Twilio does and answering
 * with Twilio's call resource JSON or its error JSON (`{code, message, more_info, status}`).
 *
 * Each call's callee follows a script the test sets per number (answer after N ms, busy, no
 * answer until the call's `Timeout`, failed). When the callee answers, the peer fetches the call's
 * `Url` with a signed POST, as Twilio does, and checks that the TwiML puts the call into a
 * `<Conference>`; it posts SIGNED status callbacks (form-encoded, `X-Twilio-Signature` over the URL
 * and the sorted parameters) to `StatusCallback` for the events asked in `StatusCallbackEvent`
 * (the final one always), with `CallDuration` and `ErrorCode`, and a recording callback to the
 * conference's `recordingStatusCallback` when the TwiML asked to record and the conference ends.
 * A document that is no conference is run as a voice menu: `<Gather>` (the callee's `digits` are
 * posted, signed, to its action and the answer run next), `<Record>` (the callee speaks, hangs up;
 * the action is posted, the call completes, then the signed recording callback), `<Say>`/`<Hangup>`.
 * Conferences are listed by `FriendlyName` (`GET …/Conferences.json`), participants are held and
 * resumed (`POST …/Conferences/{CF}/Participants/{CA}.json` `Hold=true|false`), and calls are ended
 * (`POST …/Calls/{CA}.json` `Status=completed|canceled`). It can be told to fail the next requests
 * (5xx, 429 with Retry-After).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { closeNow, listenLocal } from './listen.ts'
import { sign, twilioError } from './twilio.ts'

/** What the callee of a number does. */
export type CalleeScript =
  /**
   * Answers after `afterMs` (default 0); hangs up after `hangUpAfterMs` if given, else stays until the call is ended by REST.
   * Asked by a `<Gather>`, presses `digits` (none: lets it time out); asked to `<Record>`, speaks for `speakMs` (default 200) and hangs up.
   */
  | { kind: 'answer'; afterMs?: number; hangUpAfterMs?: number; digits?: string; speakMs?: number }
  /** Busy after `afterMs` of ringing (default 0). */
  | { kind: 'busy'; afterMs?: number }
  /** Rings until the call's `Timeout`. */
  | { kind: 'no-answer' }
  /** The call cannot be connected (Twilio's ErrorCode, default 32009: the carrier refused). */
  | { kind: 'failed'; errorCode?: string }

/** A status or recording callback the peer posted, and what our server answered (0: no answer). */
export interface PostedCallback {
  readonly url: string
  readonly params: Record<string, string>
  readonly answered: number
}

/** One call the peer created. */
export interface PeerCall {
  readonly sid: string
  readonly to: string
  readonly from: string
  readonly url: string
  readonly method: string
  readonly statusCallback: string | undefined
  readonly statusCallbackEvents: readonly string[]
  readonly statusCallbackMethod: string
  readonly timeout: number
  readonly idempotencyToken: string | undefined
  /** Twilio's CallStatus now. */
  status: string
  answeredAt?: number
  /** The TwiML the answer URL returned, and why the peer could not use it. */
  twiml?: string
  twimlError?: string
  /** Every TwiML document the call ran, in order (answer URL, then `<Gather>`/`<Record>` actions). */
  readonly documents: string[]
  /** The recording a `<Record>` made (its callback is posted after the call ended, as Twilio does). */
  recording?: { readonly sid: string; readonly url: string; readonly duration: number }
  /** The conference (friendly name) the TwiML put the call in, and its attributes. */
  conference?: string
  conferenceAttributes?: Record<string, string>
  /** Every form the call resource was updated with (`Status=completed`). */
  readonly updates: Array<Record<string, string>>
  /** Callbacks posted about this call, in order. */
  readonly callbacks: PostedCallback[]
  /** Settles when the call has ended and every callback about it was posted. */
  done: Promise<void>
}

interface PeerConference {
  readonly sid: string
  readonly friendlyName: string
  status: 'in-progress' | 'completed'
  readonly participants: Map<string, { hold: boolean }>
  recording?: { readonly callback: string | undefined; readonly startedAt: number }
  readonly createdAt: number
}

/** What to do with the next REST requests instead of answering them. */
export type VoiceFault =
  | { kind: 'status'; status: 500 | 502 | 503; retryAfterSeconds?: number }
  | { kind: 'rate-limit'; retryAfterSeconds: number }

const E164 = /^\+[1-9]\d{1,14}$/
const EVENTS = new Set(['initiated', 'ringing', 'answered', 'completed'])

function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!)
}

/** The conference a TwiML document dials into, or why it does not. */
export function readConferenceTwiml(xml: string): { name: string; attributes: Record<string, string> } | { error: string } {
  const m = /^(?:<\?xml[^>]*\?>)?\s*<Response>\s*<Dial>\s*<Conference((?:\s+[A-Za-z]+="[^"<]*")*)\s*>([^<]+)<\/Conference>\s*<\/Dial>\s*<\/Response>\s*$/.exec(xml)
  if (!m) return { error: 'not <Response><Dial><Conference>name</Conference></Dial></Response>' }
  const attributes: Record<string, string> = {}
  for (const a of m[1]!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) attributes[a[1]!] = xmlUnescape(a[2]!)
  return { name: xmlUnescape(m[2]!), attributes }
}

export class TwilioVoicePeer {
  readonly accountSid: string
  readonly authToken: string
  readonly numbers: Set<string>
  readonly apiKeys: Map<string, string>
  /** Numbers the account may not call (geo permissions: 21215) and numbers on Twilio's blocklist (21216). */
  readonly geoBlocked = new Set<string>()
  readonly blocklisted = new Set<string>()
  /** The callee's script by number; others follow `defaultScript`. */
  readonly scripts = new Map<string, CalleeScript>()
  defaultScript: CalleeScript = { kind: 'answer' }
  readonly calls: PeerCall[] = []
  readonly conferences: PeerConference[] = []
  /** Every participant update (hold/resume), in order. */
  readonly participantUpdates: Array<{ conferenceSid: string; callSid: string; form: Record<string, string> }> = []
  /** Answer an update of a call that already ended with Twilio's 21220 (not in progress) instead of the unchanged resource. */
  refuseEndedCallUpdates = false
  /** Recording callbacks posted (a conference's recording, when it ends). */
  readonly recordingCallbacks: PostedCallback[] = []
  /** Every REST request, with its path (no query). */
  readonly requests: Array<{ method: string; path: string }> = []
  url = ''
  readonly #faults: VoiceFault[] = []
  readonly #byToken = new Map<string, PeerCall>()
  readonly #interrupt = new Map<string, () => void>()
  #server: Server | undefined

  constructor(options: { accountSid?: string; authToken?: string; numbers?: string[]; apiKeys?: Record<string, string> } = {}) {
    this.accountSid = options.accountSid ?? 'AC' + randomBytes(16).toString('hex')
    this.authToken = options.authToken ?? randomBytes(16).toString('hex')
    this.numbers = new Set(options.numbers ?? ['+15005550006'])
    this.apiKeys = new Map(Object.entries(options.apiKeys ?? {}))
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) twilioError(res, 500, 20500, `peer error: ${String(err)}`)
    }))
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    for (const wake of this.#interrupt.values()) wake()
    await Promise.allSettled(this.calls.map((c) => c.done))
    if (this.#server) await closeNow(this.#server)
  }

  /** The callee at `to` follows `script`. */
  script(to: string, script: CalleeScript): void {
    this.scripts.set(to, script)
  }

  /** The next `count` REST requests meet `fault`. */
  failNext(count: number, fault: VoiceFault): void {
    for (let i = 0; i < count; i++) this.#faults.push(fault)
  }

  call(sid: string): PeerCall | undefined {
    return this.calls.find((c) => c.sid === sid)
  }

  /** The callee hangs up an answered call now (as a person putting the phone down). */
  calleeHangsUp(sid: string): void {
    this.#interrupt.get(sid)?.()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const [path = '', search = ''] = (req.url ?? '').split('?', 2)
    this.requests.push({ method: req.method ?? '', path })
    const account = /^\/2010-04-01\/Accounts\/([^/]+)(\/.*)$/.exec(path)
    if (!account) return twilioError(res, 404, 20404, 'The requested resource was not found')

    const auth = req.headers.authorization ?? ''
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : ''
    const colon = decoded.indexOf(':')
    const user = decoded.slice(0, colon)
    const pass = decoded.slice(colon + 1)
    if (!(colon > 0 && ((user === this.accountSid && pass === this.authToken) || this.apiKeys.get(user) === pass))) {
      return twilioError(res, 401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' })
    }
    if (account[1] !== this.accountSid) return twilioError(res, 404, 20404, `The requested resource ${path} was not found`)

    const fault = this.#faults.shift()
    if (fault?.kind === 'status') {
      return twilioError(res, fault.status, 20500, 'Internal Server Error', fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) })
    }
    if (fault?.kind === 'rate-limit') return twilioError(res, 429, 20429, 'Too Many Requests', { 'retry-after': String(fault.retryAfterSeconds) })

    const rest = account[2]!
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
    const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    if (req.method === 'POST' && !isForm) return twilioError(res, 400, 20001, 'Content-Type must be application/x-www-form-urlencoded')
    let m: RegExpExecArray | null
    if (req.method === 'POST' && rest === '/Calls.json') return this.#create(req, res, form)
    if (req.method === 'POST' && (m = /^\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest))) return this.#update(res, m[1]!, form)
    if (req.method === 'GET' && rest === '/Conferences.json') return this.#listConferences(res, new URLSearchParams(search))
    if (req.method === 'POST' && (m = /^\/Conferences\/([^/]+)\/Participants\/([^/]+)\.json$/.exec(rest))) {
      return this.#participant(res, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), form)
    }
    return twilioError(res, 404, 20404, `The requested resource ${path} was not found`)
  }

  #create(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void {
    const token = req.headers['i-twilio-idempotency-token']
    const idempotencyToken = typeof token === 'string' && token !== '' ? token : undefined
    const repeat = idempotencyToken ? this.#byToken.get(idempotencyToken) : undefined
    if (repeat) return this.#json(res, 201, this.#resource(repeat))

    const to = form.get('To')
    const from = form.get('From')
    const url = form.get('Url')
    if (!to) return twilioError(res, 400, 21201, "No 'To' number is specified")
    if (!E164.test(to) && !/^client:[A-Za-z0-9_.-]{1,120}$/.test(to)) return twilioError(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`)
    if (!from) return twilioError(res, 400, 21213, "No 'From' number is specified")
    if (!this.numbers.has(from)) return twilioError(res, 400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`)
    if (!url || !/^https?:\/\/[^\s]+$/.test(url)) return twilioError(res, 400, 21205, `Url is not a valid URL: ${url ?? ''}`)
    if (this.geoBlocked.has(to)) {
      return twilioError(res, 400, 21215, `Account not authorized to call ${to}. Perhaps you need to enable some international permissions: https://www.twilio.com/console/voice/calls/geo-permissions/low-risk`)
    }
    if (this.blocklisted.has(to)) return twilioError(res, 400, 21216, `Call blocked by Twilio blocklist: ${to}`)
    const method = (form.get('Method') ?? 'POST').toUpperCase()
    const statusCallback = form.get('StatusCallback') ?? undefined
    if (statusCallback !== undefined && !/^https?:\/\/[^\s]+$/.test(statusCallback)) return twilioError(res, 400, 21609, 'Invalid StatusCallback URL')
    const events = form.getAll('StatusCallbackEvent').flatMap((e) => e.split(/\s+/)).filter((e) => e !== '')
    if (events.some((e) => !EVENTS.has(e))) return twilioError(res, 400, 21626, `Invalid StatusCallbackEvent: ${events.join(' ')}`)
    const timeoutText = form.get('Timeout') ?? '60'
    const timeout = /^\d+$/.test(timeoutText) ? Number(timeoutText) : NaN
    if (!(timeout >= 1 && timeout <= 600)) return twilioError(res, 400, 21207, `Timeout must be between 1 and 600: ${timeoutText}`)

    const call: PeerCall = {
      sid: 'CA' + randomBytes(16).toString('hex'), to, from, url, method, statusCallback, statusCallbackEvents: events.length > 0 ? events : ['completed'],
      statusCallbackMethod: (form.get('StatusCallbackMethod') ?? 'POST').toUpperCase(), timeout, idempotencyToken,
      status: 'queued', updates: [], callbacks: [], done: Promise.resolve(), documents: [],
    }
    this.calls.push(call)
    if (idempotencyToken) this.#byToken.set(idempotencyToken, call)
    this.#json(res, 201, this.#resource(call))
    call.done = this.#run(call, this.scripts.get(to) ?? this.defaultScript)
  }

  /** Wait `ms`, or less when the call is interrupted (ended by REST, or the callee hangs up); true when interrupted. */
  #wait(call: PeerCall, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#interrupt.delete(call.sid)
        resolve(false)
      }, ms)
      this.#interrupt.set(call.sid, () => {
        clearTimeout(timer)
        this.#interrupt.delete(call.sid)
        resolve(true)
      })
    })
  }

  async #run(call: PeerCall, script: CalleeScript): Promise<void> {
    // Answer the create request first, as Twilio does: callbacks come after.
    await new Promise((r) => setImmediate(r))
    call.status = 'initiated'
    await this.#progress(call, 'initiated')
    if (script.kind === 'failed') return this.#end(call, 'failed', { ErrorCode: script.errorCode ?? '32009' })
    call.status = 'ringing'
    await this.#progress(call, 'ringing')
    if (script.kind === 'busy') {
      const interrupted = await this.#wait(call, script.afterMs ?? 0)
      return this.#end(call, interrupted ? 'canceled' : 'busy')
    }
    const ringMs = script.kind === 'no-answer' ? call.timeout * 1000 : Math.min(script.afterMs ?? 0, call.timeout * 1000)
    if (await this.#wait(call, ringMs)) return this.#end(call, 'canceled')
    if (script.kind === 'no-answer' || (script.afterMs ?? 0) > call.timeout * 1000) return this.#end(call, 'no-answer')

    // Answered: fetch the TwiML the call runs.
    call.status = 'in-progress'
    call.answeredAt = Date.now()
    let twiml = await this.#fetchTwiml(call)
    // A document that is no conference: a voice menu (`<Gather>`), a voicemail (`<Record>`), a goodbye.
    for (let steps = 0; 'error' in twiml && twiml.code === '12100' && call.twiml !== undefined && steps < 5; steps++) {
      if (steps === 0) await this.#progress(call, 'answered')
      const next = await this.#runVerbs(call, call.twiml, script.kind === 'answer' ? script : { kind: 'answer' })
      if (next === 'ended') return
      twiml = next
    }
    if ('error' in twiml) {
      call.twimlError = twiml.error
      return this.#end(call, 'completed', { ErrorCode: twiml.code })
    }
    call.conference = twiml.name
    call.conferenceAttributes = twiml.attributes
    const conference = this.#join(call, twiml.name, twiml.attributes)
    await this.#progress(call, 'answered')
    await this.#wait(call, script.hangUpAfterMs ?? 24 * 3_600_000)
    conference.participants.delete(call.sid)
    if (conference.participants.size === 0) await this.#endConference(conference)
    return this.#end(call, 'completed')
  }

  async #fetchTwiml(call: PeerCall, at?: string, extra: Record<string, string> = {}): Promise<{ name: string; attributes: Record<string, string> } | { error: string; code: string }> {
    const params = { ...this.#callParams(call), ...extra }
    const url = at ?? call.url
    const method = at ? 'POST' : call.method
    let answer: Response
    try {
      const signature = sign(this.authToken, url, method === 'GET' ? {} : params)
      answer = method === 'GET'
        ? await fetch(url, { headers: { 'x-twilio-signature': signature } })
        : await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-twilio-signature': signature, 'user-agent': 'TwilioProxy/1.1' },
          body: new URLSearchParams(params).toString(),
        })
    } catch (err) {
      return { error: `fetching ${url}: ${String(err)}`, code: '11200' }
    }
    const body = await answer.text()
    call.twiml = body
    call.documents.push(body)
    if (answer.status !== 200) return { error: `${url} answered ${answer.status}`, code: '11200' }
    if (!/^(?:text|application)\/xml\b/.test(answer.headers.get('content-type') ?? '')) return { error: 'the answer is not XML', code: '12300' }
    const read = readConferenceTwiml(body)
    return 'error' in read ? { ...read, code: '12100' } : read
  }

  /**
   * Run a document of `<Say>`, `<Gather>`, `<Record>`, `<Hangup>` (the conference is the caller's):
   * a `<Gather>` the callee answers posts `Digits` to its action (signed) and runs what comes back;
   * a `<Record>` records for `speakMs`, the callee hangs up, the action is posted, the call ends
   * `completed`, and then the recording callback is posted (signed) to `recordingStatusCallback`.
   */
  async #runVerbs(call: PeerCall, xml: string, script: Extract<CalleeScript, { kind: 'answer' }>): Promise<'ended' | { name: string; attributes: Record<string, string> } | { error: string; code: string }> {
    const body = /<Response>([\s\S]*)<\/Response>/.exec(xml)?.[1]
    if (body === undefined) {
      call.twimlError = 'not a <Response>'
      await this.#end(call, 'completed', { ErrorCode: '12100' })
      return 'ended'
    }
    const attrs = (text: string) => Object.fromEntries([...text.matchAll(/([A-Za-z]+)="([^"]*)"/g)].map((a) => [a[1]!, xmlUnescape(a[2]!)]))
    const gather = /<Gather((?:\s+[A-Za-z]+="[^"]*")*)\s*>[\s\S]*?<\/Gather>/.exec(body)
    if (gather && script.digits !== undefined) {
      const action = attrs(gather[1]!).action
      if (!action) return { error: '<Gather> without action', code: '12100' }
      return this.#fetchTwiml(call, action, { Digits: script.digits, FinishedOnKey: '' })
    }
    const record = /<Record((?:\s+[A-Za-z]+="[^"]*")*)\s*\/>/.exec(gather ? '' : body)
    if (record) {
      const a = attrs(record[1]!)
      const startedAt = Date.now()
      await this.#wait(call, script.speakMs ?? 200)
      const sid = 'RE' + randomBytes(16).toString('hex')
      const duration = Math.max(1, Math.ceil((Date.now() - startedAt) / 1000))
      const url = `${this.url}/2010-04-01/Accounts/${this.accountSid}/Recordings/${sid}`
      call.recording = { sid, url, duration }
      if (a.action) await this.#fetchTwiml(call, a.action, { RecordingUrl: url, RecordingDuration: String(duration), Digits: 'hangup' })
      await this.#end(call, 'completed')
      if (a.recordingStatusCallback) {
        await this.#post(undefined, a.recordingStatusCallback, {
          AccountSid: this.accountSid, CallSid: call.sid, RecordingSid: sid, RecordingUrl: url, RecordingStatus: 'completed',
          RecordingDuration: String(duration), RecordingChannels: '1', RecordingSource: 'RecordVerb', RecordingStartTime: new Date(startedAt).toUTCString(),
        })
      }
      return 'ended'
    }
    // Nothing to wait for (a goodbye, a hang-up, a `<Gather>` no one answers): the call is over.
    await this.#end(call, 'completed')
    return 'ended'
  }

  #join(call: PeerCall, name: string, attributes: Record<string, string>): PeerConference {
    let conference = this.conferences.find((c) => c.friendlyName === name && c.status === 'in-progress')
    if (!conference) {
      conference = { sid: 'CF' + randomBytes(16).toString('hex'), friendlyName: name, status: 'in-progress', participants: new Map(), createdAt: Date.now() }
      this.conferences.push(conference)
    }
    conference.participants.set(call.sid, { hold: false })
    if (attributes.record === 'record-from-start' && !conference.recording) {
      conference.recording = { callback: attributes.recordingStatusCallback, startedAt: Date.now() }
    }
    return conference
  }

  async #endConference(conference: PeerConference): Promise<void> {
    conference.status = 'completed'
    const recording = conference.recording
    if (!recording?.callback) return
    const sid = 'RE' + randomBytes(16).toString('hex')
    await this.#post(undefined, recording.callback, {
      AccountSid: this.accountSid, ConferenceSid: conference.sid, RecordingSid: sid,
      RecordingUrl: `${this.url}/2010-04-01/Accounts/${this.accountSid}/Recordings/${sid}`, RecordingStatus: 'completed',
      RecordingDuration: String(Math.ceil((Date.now() - recording.startedAt) / 1000)), RecordingChannels: '1',
      RecordingSource: 'DialVerb', RecordingStartTime: new Date(recording.startedAt).toUTCString(),
    })
  }

  #callParams(call: PeerCall): Record<string, string> {
    return {
      AccountSid: this.accountSid, CallSid: call.sid, From: call.from, To: call.to, Caller: call.from, Called: call.to,
      CallStatus: call.status, Direction: 'outbound-api', ApiVersion: '2010-04-01',
    }
  }

  /** A progress callback, when the call asked for that event. */
  async #progress(call: PeerCall, event: 'initiated' | 'ringing' | 'answered'): Promise<void> {
    if (!call.statusCallback || !call.statusCallbackEvents.includes(event)) return
    await this.#post(call, call.statusCallback, {
      ...this.#callParams(call), CallbackSource: 'call-progress-events', SequenceNumber: String(call.callbacks.length), Timestamp: new Date().toUTCString(),
    })
  }

  /** The call ends with `status`; the final callback is always posted. */
  async #end(call: PeerCall, status: string, extra: Record<string, string> = {}): Promise<void> {
    call.status = status
    const duration = call.answeredAt === undefined ? 0 : Math.ceil((Date.now() - call.answeredAt) / 1000)
    if (!call.statusCallback) return
    await this.#post(call, call.statusCallback, {
      ...this.#callParams(call), CallbackSource: 'call-progress-events', SequenceNumber: String(call.callbacks.length), Timestamp: new Date().toUTCString(),
      CallDuration: String(duration), Duration: String(Math.ceil(duration / 60)), ...extra,
    })
  }

  async #post(call: PeerCall | undefined, url: string, params: Record<string, string>): Promise<void> {
    let answered = 0
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-twilio-signature': sign(this.authToken, url, params), 'user-agent': 'TwilioProxy/1.1' },
        body: new URLSearchParams(params).toString(),
      })
      await res.arrayBuffer()
      answered = res.status
    } catch {
      answered = 0
    }
    ;(call?.callbacks ?? this.recordingCallbacks).push({ url, params, answered })
  }

  #update(res: ServerResponse, sid: string, form: URLSearchParams): void {
    const call = this.call(sid)
    if (!call) return twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json was not found`)
    const status = form.get('Status')
    if (status !== null && status !== 'completed' && status !== 'canceled') return twilioError(res, 400, 21218, `Invalid Status: ${status}`)
    const live = ['queued', 'initiated', 'ringing', 'in-progress'].includes(call.status)
    if (!live && this.refuseEndedCallUpdates) return twilioError(res, 400, 21220, 'Call is not in-progress. Cannot redirect.')
    call.updates.push(Object.fromEntries(form))
    // `canceled` ends only a call not yet answered; `completed` ends it either way.
    if (live && (status === 'completed' || call.status !== 'in-progress')) this.#interrupt.get(sid)?.()
    this.#json(res, 200, this.#resource(call))
  }

  #listConferences(res: ServerResponse, query: URLSearchParams): void {
    const name = query.get('FriendlyName')
    const status = query.get('Status')
    const list = this.conferences.filter((c) => (name === null || c.friendlyName === name) && (status === null || c.status === status))
    this.#json(res, 200, {
      conferences: list.map((c) => ({
        sid: c.sid, account_sid: this.accountSid, friendly_name: c.friendlyName, status: c.status, date_created: new Date(c.createdAt).toUTCString(),
        uri: `/2010-04-01/Accounts/${this.accountSid}/Conferences/${c.sid}.json`,
      })),
      page: 0, page_size: Number(query.get('PageSize') ?? '50'), start: 0, end: Math.max(0, list.length - 1), next_page_uri: null, previous_page_uri: null,
    })
  }

  #participant(res: ServerResponse, conferenceSid: string, callSid: string, form: URLSearchParams): void {
    const conference = this.conferences.find((c) => c.sid === conferenceSid)
    const participant = conference?.status === 'in-progress' ? conference.participants.get(callSid) : undefined
    if (!conference || !participant) {
      return twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${this.accountSid}/Conferences/${conferenceSid}/Participants/${callSid}.json was not found`)
    }
    const hold = form.get('Hold')
    if (hold !== null && hold !== 'true' && hold !== 'false') return twilioError(res, 400, 20001, `Invalid Hold: ${hold}`)
    this.participantUpdates.push({ conferenceSid, callSid, form: Object.fromEntries(form) })
    if (hold !== null) participant.hold = hold === 'true'
    this.#json(res, 200, {
      account_sid: this.accountSid, call_sid: callSid, conference_sid: conferenceSid, hold: participant.hold, muted: false, status: 'connected',
      end_conference_on_exit: false, start_conference_on_enter: true, uri: `/2010-04-01/Accounts/${this.accountSid}/Conferences/${conferenceSid}/Participants/${callSid}.json`,
    })
  }

  #resource(call: PeerCall): Record<string, unknown> {
    return {
      sid: call.sid, account_sid: this.accountSid, to: call.to, to_formatted: call.to, from: call.from, from_formatted: call.from,
      status: call.status, direction: 'outbound-api', api_version: '2010-04-01', parent_call_sid: null, price: null, price_unit: 'USD',
      date_created: new Date().toUTCString(), date_updated: new Date().toUTCString(), start_time: null, end_time: null, duration: null,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${call.sid}.json`,
    }
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
}
