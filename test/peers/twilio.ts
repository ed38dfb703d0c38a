/**
 * A local Twilio: a real HTTP server speaking the Messages API's shape
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, Basic auth), checking
 * credentials and form fields the way Twilio does and answering with Twilio's error JSON
 * (`{code, message, more_info, status}`), and the Messages list (`GET …/Messages.json` with `To`,
 * `From`, `DateSent` / `DateSent>` / `DateSent<`, `PageSize`, paged by `next_page_uri`, newest
 * first, in Twilio's JSON). It can honour `I-Twilio-Idempotency-Token` (a repeated token answers the
 * first message again and sends nothing) — Twilio does not document that, so `dedupe = false`
 * turns it off and every accepted POST is a message sent. It counts what it received, can be told
 * to fail (500, 429 with Retry-After, hang) for the next sends, and can post signed webhooks back
 * (status callbacks, inbound messages) the way Twilio signs them.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface TwilioPeerOptions {
  accountSid?: string
  authToken?: string
  /** API keys (`SK…` → secret) accepted for the account besides the auth token. */
  apiKeys?: Record<string, string>
  /** Sender numbers the account owns (E.164, used as is for WhatsApp too). */
  numbers?: string[]
  /** Recipients that replied STOP: sends to them answer 21610. */
  optedOut?: string[]
  /** Honour `I-Twilio-Idempotency-Token` (default true; see `dedupe`). */
  dedupe?: boolean
}

/** One message the peer accepted. */
export interface PeerMessage {
  sid: string
  to: string
  from: string | undefined
  messagingServiceSid: string | undefined
  body: string
  mediaUrls: string[]
  statusCallback: string | undefined
  idempotencyToken: string | undefined
  at: number
}

/** What to do with the next requests instead of answering normally. */
export type Fault =
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  /** Take the request (and create the message) but answer only after `ms`. */
  | { kind: 'hang'; ms: number }

const E164 = /^\+[1-9]\d{1,14}$/

/** Answer with Twilio's JSON error body `{code, message, more_info, status}`. */
export function twilioError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status })
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(body)
}

/** Twilio's `X-Twilio-Signature` of a form post (this peer's own implementation, not the app's). */
export function sign(authToken: string, url: string, params: Record<string, string>): string {
  let data = url
  for (const k of Object.keys(params).sort()) data += k + params[k]
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

export class TwilioPeer {
  readonly accountSid: string
  readonly authToken: string
  readonly numbers: Set<string>
  readonly optedOut: Set<string>
  readonly apiKeys: Map<string, string>
  /** Every request to the Messages endpoint (sends and lists), including rejected and repeated ones. */
  requests = 0
  /** Requests for the Messages list (GET). */
  listRequests = 0
  /**
   * Whether a repeated `I-Twilio-Idempotency-Token` answers the first message instead of sending
   * again. Off, every accepted send is a new message, as nothing in Twilio's documentation
   * promises otherwise.
   */
  dedupe: boolean
  /** TCP connections opened to the peer (connection reuse shows as far fewer than requests). */
  connections = 0
  /** Accepted messages, one per distinct message (repeats of an idempotency token are not added). */
  readonly messages: PeerMessage[] = []
  /** Requests answered from the idempotency cache. */
  idempotentRepeats = 0
  /** A delay before every answer (a slow vendor), ms. */
  delayMs = 0
  readonly #byToken = new Map<string, PeerMessage>()
  readonly #faults: Fault[] = []
  #listFaults = 0
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  url = ''

  constructor(options: TwilioPeerOptions = {}) {
    this.accountSid = options.accountSid ?? 'AC' + randomBytes(16).toString('hex')
    this.authToken = options.authToken ?? randomBytes(16).toString('hex')
    this.numbers = new Set(options.numbers ?? ['+15005550006'])
    this.optedOut = new Set(options.optedOut ?? [])
    this.apiKeys = new Map(Object.entries(options.apiKeys ?? {}))
    this.dedupe = options.dedupe ?? true
  }

  /** Listen on a loopback port; `url` is then the base URL to give the provider. */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res))
    server.keepAliveTimeout = 30_000
    server.on('connection', (socket) => {
      this.connections++
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.#server = server
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
  }

  /** The next `count` sends (POSTs) meet `fault` instead of a normal answer. */
  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.#faults.push(fault)
  }

  /** The next `count` Messages list requests answer 500. */
  failListNext(count: number): void {
    this.#listFaults += count
  }

  /** Messages accepted for one recipient. */
  sentTo(to: string): PeerMessage[] {
    return this.messages.filter((m) => m.to === to || m.to === `whatsapp:${to}`)
  }

  /**
   * Post a status callback for a message to its StatusCallback URL, signed as Twilio signs it.
   * Returns the HTTP status our webhook answered.
   */
  async postStatus(sid: string, status: string, extra: Record<string, string> = {}, options: { signature?: string } = {}): Promise<number> {
    const m = this.messages.find((x) => x.sid === sid)
    if (!m?.statusCallback) throw new Error(`no message ${sid} with a StatusCallback`)
    const params = {
      AccountSid: this.accountSid, MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status,
      To: m.to, From: m.from ?? '', ApiVersion: '2010-04-01', ...extra,
    }
    return (await this.postWebhook(m.statusCallback, params, options)).status
  }

  /** Post a form to `url` with `X-Twilio-Signature` (or the given wrong one). */
  async postWebhook(url: string, params: Record<string, string>, options: { signature?: string } = {}): Promise<{ status: number; type: string | null; body: string }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-twilio-signature': options.signature ?? sign(this.authToken, url, params),
        'user-agent': 'TwilioProxy/1.1',
      },
      body: new URLSearchParams(params).toString(),
    })
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
  }

  /** Twilio's signature of a request, for tests that build their own. */
  sign(url: string, params: Record<string, string>): string {
    return sign(this.authToken, url, params)
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '')
    const [path, search] = (req.url ?? '').split('?', 2) as [string, string | undefined]
    const listMatch = req.method === 'GET' ? /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path) : null
    if ((req.method !== 'POST' || !match) && !listMatch) return twilioError(res, 404, 20404, 'The requested resource was not found')
    this.requests++
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))

    // Authentication: Basic AccountSid:AuthToken, or an API key of the account.
    const auth = req.headers.authorization ?? ''
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : ''
    const colon = decoded.indexOf(':')
    const user = decoded.slice(0, colon)
    const pass = decoded.slice(colon + 1)
    const authorised = colon > 0 && ((user === this.accountSid && pass === this.authToken) || (this.apiKeys.get(user) === pass))
    if (!authorised) return twilioError(res, 401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' })
    if (listMatch) {
      this.listRequests++
      if (listMatch[1] !== this.accountSid) return twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${listMatch[1]}/Messages.json was not found`)
      if (this.#listFaults > 0) {
        this.#listFaults--
        return twilioError(res, 500, 20500, 'Internal Server Error')
      }
      return this.#list(res, path, new URLSearchParams(search ?? ''))
    }
    if (!match) return twilioError(res, 404, 20404, 'The requested resource was not found')
    if (match[1] !== this.accountSid) return twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${match[1]}/Messages.json was not found`)
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return twilioError(res, 400, 21604, "A 'To' phone number is required.")
    }

    const fault = this.#faults.shift()
    if (fault?.kind === 'status') return twilioError(res, fault.status, 20500, 'Internal Server Error')
    if (fault?.kind === 'rate-limit') {
      return twilioError(res, 429, 20429, 'Too Many Requests', { 'retry-after': String(fault.retryAfterSeconds) })
    }

    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
    const token = req.headers['i-twilio-idempotency-token']
    const idempotencyToken = typeof token === 'string' && token !== '' ? token : undefined
    const repeat = idempotencyToken && this.dedupe ? this.#byToken.get(idempotencyToken) : undefined
    if (repeat) {
      this.idempotentRepeats++
      return this.#accepted(res, repeat, fault)
    }

    const to = form.get('To')
    const from = form.get('From') ?? undefined
    const service = form.get('MessagingServiceSid') ?? undefined
    const body = form.get('Body') ?? ''
    const media = form.getAll('MediaUrl')
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.")
    const whatsapp = to.startsWith('whatsapp:')
    const bareTo = whatsapp ? to.slice(9) : to
    if (!E164.test(bareTo)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`)
    if (!from && !service) return twilioError(res, 400, 21603, "A 'From' phone number is required.")
    if (from) {
      if (whatsapp !== from.startsWith('whatsapp:')) return twilioError(res, 400, 21910, 'Invalid From and To pair. From and To should be of the same channel')
      const bareFrom = from.startsWith('whatsapp:') ? from.slice(9) : from
      if (!this.numbers.has(bareFrom)) return twilioError(res, 400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`)
    }
    if (body === '' && media.length === 0) return twilioError(res, 400, 21602, 'Message body is required.')
    if (body.length > 1600) return twilioError(res, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.')
    if (this.optedOut.has(bareTo)) return twilioError(res, 400, 21610, 'Attempt to send to unsubscribed recipient')
    const callback = form.get('StatusCallback') ?? undefined
    if (callback !== undefined && !/^https?:\/\//.test(callback)) return twilioError(res, 400, 21609, 'Invalid StatusCallback URL')

    const message: PeerMessage = {
      sid: 'SM' + randomBytes(16).toString('hex'), to, from, messagingServiceSid: service, body, mediaUrls: media,
      statusCallback: callback, idempotencyToken, at: Date.now(),
    }
    this.messages.push(message)
    if (idempotencyToken) this.#byToken.set(idempotencyToken, message)
    return this.#accepted(res, message, fault)
  }

  /**
   * The Messages list as Twilio answers it: the account's messages filtered by `To`, `From` and the
   * sent date (`DateSent=YYYY-MM-DD`, `DateSent>=…` on or after, `DateSent<=…` on or before; a date,
   * or a date and time), newest first, `PageSize` (default 50, at most 1000) per page, with
   * `next_page_uri` until the last page.
   */
  #list(res: ServerResponse, path: string, query: URLSearchParams): void {
    const day = (v: string | null) => (v === null ? undefined : v.length <= 10 ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v))
    const on = day(query.get('DateSent'))
    const after = day(query.get('DateSent>'))
    const before = query.get('DateSent<')
    const beforeAt = before === null ? undefined : before.length <= 10 ? Date.parse(`${before}T00:00:00Z`) + 86_400_000 : Date.parse(before)
    if ([on, after, beforeAt].some((d) => d !== undefined && Number.isNaN(d))) return twilioError(res, 400, 20001, 'Invalid DateSent')
    const size = Math.min(Math.max(Number(query.get('PageSize') ?? '50') || 50, 1), 1000)
    const page = Math.max(Number(query.get('Page') ?? '0') || 0, 0)
    const to = query.get('To')
    const from = query.get('From')
    const all = this.messages.filter((m) => (to === null || m.to === to) && (from === null || m.from === from)
      && (on === undefined || (m.at >= on && m.at < on + 86_400_000)) && (after === undefined || m.at >= after) && (beforeAt === undefined || m.at < beforeAt))
      .sort((a, b) => b.at - a.at)
    const slice = all.slice(page * size, (page + 1) * size)
    const pageUri = (p: number) => {
      const q = new URLSearchParams(query)
      q.set('PageSize', String(size))
      q.set('Page', String(p))
      return `${path}?${q.toString()}`
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({
      messages: slice.map((m) => this.#resource(m)),
      end: page * size + slice.length - 1, start: page * size, page, page_size: size,
      first_page_uri: pageUri(0), previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      next_page_uri: (page + 1) * size < all.length ? pageUri(page + 1) : null, uri: pageUri(page),
    }))
  }

  /** A message as Twilio's API shows it (`created`: as the send's answer shows it, not sent yet). */
  #resource(m: PeerMessage, created = false): Record<string, unknown> {
    return {
      sid: m.sid, account_sid: this.accountSid, to: m.to, from: m.from ?? null, messaging_service_sid: m.messagingServiceSid ?? null,
      body: m.body, status: 'queued', num_media: String(m.mediaUrls.length), num_segments: '1', direction: 'outbound-api',
      api_version: '2010-04-01', date_created: new Date(m.at).toUTCString(), date_sent: created ? null : new Date(m.at).toUTCString(),
      date_updated: new Date(m.at).toUTCString(), error_code: null, error_message: null,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${m.sid}.json`,
    }
  }

  async #accepted(res: ServerResponse, m: PeerMessage, fault: Fault | undefined): Promise<void> {
    // A hang takes the message (as a slow Twilio would) and answers late: a client that gave up
    // retries, and its idempotency token must keep it from being sent twice.
    if (fault?.kind === 'hang') await new Promise((r) => setTimeout(r, fault.ms))
    if (res.destroyed) return
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify(this.#resource(m, true)))
  }
}
