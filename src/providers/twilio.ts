/**
 * Twilio Programmable Messaging for `sms` and `whatsapp`: the Messages API
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded), inbound-message and
 * status-callback webhooks, and the `X-Twilio-Signature` check.
 *
 * Settings (`switchboard provider set --tenant <t> sms twilio accountSid=AC… authToken=… from=+1…`):
 * - `accountSid` (required), and `authToken` or an API key (`apiKeySid` + `apiKeySecret`) for the
 *   API. Webhook signatures are always made with the account's `authToken`, so inbound webhooks
 *   need it.
 * - `from` (E.164 sender; for WhatsApp the number without `whatsapp:`) or `messagingServiceSid`.
 * - A message's `data.twilioAccountSid` sends it through that sub-account's Messages endpoint (a
 *   text account's numbers are held there; the parent's credentials act on it).
 * - `baseUrl` (default https://api.twilio.com; tests point it at a local peer), `timeoutMs`
 *   (default 10000), `ratePerSecond` (sends per second per sender, default 1; read by the job).
 */
import { verifyTwilioSignature } from '../lib/twilio-signature.ts'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { badSettings, optionalInteger, optionalString, requiredString, retryAfterMs, baseUrl as readBaseUrl } from './support.ts'
import {
  ProviderError, type Channel, type ChannelProvider, type InboundMedia, type OutboundMessage, type RawWebhook, type SendResult, type WebhookEvent,
  type WebhookStatus,
} from './types.ts'
import type { ChannelSettings } from './registry.ts'
import { vendorHttp, type ProviderOptions } from './http.ts'

const VENDOR = 'twilio'
const DEFAULT_BASE_URL = 'https://api.twilio.com'
const DEFAULT_TIMEOUT_MS = 10_000

/**
 * Twilio error codes that mean "this message can never go out as it is": the recipient or sender
 * is wrong, the recipient opted out, the account may not send there. Any other 4xx is permanent
 * too (a retry sends the same request); these get readable codes of their own.
 */
const PERMANENT_CODES: Readonly<Record<number, string>> = {
  21211: 'invalid_recipient', // invalid 'To' phone number
  21614: 'invalid_recipient', // 'To' is not a mobile number
  21612: 'unreachable_recipient', // 'To' cannot be reached from 'From'
  21408: 'region_not_permitted',
  21610: 'unsubscribed', // the recipient replied STOP
  21606: 'invalid_sender', // 'From' is not a valid message-capable number of the account
  21212: 'invalid_sender',
  21602: 'invalid_body', // body required
  21617: 'invalid_body', // body too long
  63016: 'outside_session_window', // WhatsApp: free-form message outside the 24 h window
  20003: 'unauthorized',
}

/** Twilio's status words, mapped onto the outbox's. `read` (WhatsApp) is still `delivered`. */
const STATUS_MAP: Readonly<Record<string, WebhookStatus>> = {
  accepted: 'sent', scheduled: 'sent', queued: 'sent', sending: 'sent', sent: 'sent',
  delivered: 'delivered', read: 'delivered', undelivered: 'undelivered', failed: 'failed',
}

/** `whatsapp:+E164` for WhatsApp, the E.164 number as it is for SMS. */
export function twilioAddress(channel: Channel, phone: string): string {
  if (channel !== 'whatsapp') return phone
  return phone.startsWith('whatsapp:') ? phone : `whatsapp:${phone}`
}

/** A Twilio address without its `whatsapp:` prefix. */
export function stripTwilioAddress(address: string): string {
  return address.startsWith('whatsapp:') ? address.slice('whatsapp:'.length) : address
}

/** The form parameters of a webhook body (Fastify's form parser gives an object of strings). */
export function twilioFormParams(body: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  if (!body || typeof body !== 'object') return out
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[]
  }
  return out
}

/** Whether a webhook request carries Twilio's `X-Twilio-Signature` under `authToken` (none: false). */
export function verifyTwilioWebhook(authToken: string | undefined, req: RawWebhook): boolean {
  if (!authToken) return false
  const header = req.headers['x-twilio-signature']
  return verifyTwilioSignature(authToken, req.url, twilioFormParams(req.body), Array.isArray(header) ? header[0] : header)
}

/** The first value of a form parameter. */
export function firstParam(params: Record<string, string | string[]>, name: string): string | undefined {
  const v = params[name]
  return Array.isArray(v) ? v[0] : v
}

/** Media URLs of an outbound message: `data.mediaUrls` (or `media_urls`, or one `mediaUrl`). */
function mediaUrls(data: Readonly<Record<string, unknown>> | undefined): string[] {
  const raw = data?.mediaUrls ?? data?.media_urls ?? data?.mediaUrl ?? data?.media_url
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  const urls: string[] = []
  for (const item of list) {
    if (typeof item !== 'string' || !/^https?:\/\//i.test(item)) {
      throw new ProviderError('invalid_media', 'twilio: media URLs must be http(s) URLs', { retryable: false })
    }
    urls.push(item)
  }
  if (urls.length > 10) throw new ProviderError('invalid_media', 'twilio: at most 10 media URLs per message', { retryable: false })
  return urls
}

/** Messages a reconciling lookup reads per page, and pages at most (newest first). */
const LIST_PAGE_SIZE = 100
const LIST_PAGES = 5

/** A page of Twilio's Messages list, as far as a reconciling lookup reads it. */
interface TwilioMessageList {
  messages?: Array<{ sid?: unknown; to?: unknown; body?: unknown; direction?: unknown; status?: string; date_created?: string }>
  next_page_uri?: unknown
}

/** An answer of Twilio's REST API. */
export interface TwilioAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Twilio's REST answers' JSON error: `{code, message, more_info, status}`. */
interface TwilioError {
  code?: number
  message?: string
  more_info?: string
  status?: number
}

/** One Twilio account's REST API as the SMS and voice adapters call it. */
export interface TwilioAccount {
  readonly accountSid: string
  /** The auth token, which webhook signatures are made with; undefined with an API key only. */
  readonly authToken: string | undefined
  /** `{baseUrl}/2010-04-01/Accounts/{AccountSid}`: resource paths are appended to it. */
  readonly accountUrl: string
  /** One request over the account's guarded keep-alive connections, answered within `timeoutMs`; network failures are retryable ProviderErrors. */
  request(target: URL, method: 'GET' | 'POST', headers: Record<string, string | number>, body?: string): Promise<TwilioAnswer>
  /** POST a form to `{accountUrl}{path}`. */
  postForm(path: string, form: URLSearchParams, headers?: Record<string, string>): Promise<TwilioAnswer>
  /** Release pooled connections. */
  close(): void
}

/**
 * The account part of a tenant's Twilio settings (the same for SMS, WhatsApp and voice):
 * `accountSid`, `authToken` or `apiKeySid` + `apiKeySecret`, `baseUrl`, `timeoutMs`. Throws
 * ProviderError `invalid_settings`. Builds no connection.
 */
export function readTwilioAccountSettings(settings: ChannelSettings) {
  const accountSid = requiredString(VENDOR, settings, 'accountSid')
  if (!/^AC[0-9a-zA-Z]{32}$/.test(accountSid)) throw badSettings(VENDOR, 'setting "accountSid" must be AC followed by 32 characters')
  const authToken = optionalString(VENDOR, settings, 'authToken')
  const apiKeySid = optionalString(VENDOR, settings, 'apiKeySid')
  const apiKeySecret = optionalString(VENDOR, settings, 'apiKeySecret')
  if (!authToken && !(apiKeySid && apiKeySecret)) throw badSettings(VENDOR, 'set "authToken", or "apiKeySid" and "apiKeySecret"')
  const base = readBaseUrl(VENDOR, settings, 'baseUrl', DEFAULT_BASE_URL)
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 120_000) ?? DEFAULT_TIMEOUT_MS
  return { accountSid, authToken, apiKeySid, apiKeySecret, base, timeoutMs }
}

/**
 * A Twilio account's REST client from a tenant's settings. The base URL is the tenant's to set:
 * the guarded client's agent checks every connection as it is made (a refused address is
 * ProviderError `unsafe_endpoint`, permanent).
 */
export function twilioAccount(settings: ChannelSettings, options: ProviderOptions = {}): TwilioAccount {
  const { accountSid, authToken, apiKeySid, apiKeySecret, base, timeoutMs } = readTwilioAccountSettings(settings)
  const accountUrl = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}`
  const secure = new URL(accountUrl).protocol === 'https:'
  const http = vendorHttp(VENDOR, { ...options, keepAlive: true, maxSockets: 64 })
  const agent = http.agent(secure ? 'https:' : 'http:')
  const authorization = 'Basic ' + Buffer.from(apiKeySid && apiKeySecret ? `${apiKeySid}:${apiKeySecret}` : `${accountSid}:${authToken}`).toString('base64')

  function request(target: URL, method: 'GET' | 'POST', headers: Record<string, string | number>, body?: string): Promise<TwilioAnswer> {
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(target, {
        method,
        agent,
        headers: { authorization, accept: 'application/json', 'user-agent': 'switchboard', ...headers },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          clearTimeout(timer)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
        })
        res.on('error', (err) => {
          clearTimeout(timer)
          reject(new ProviderError('network_error', `twilio: ${err.message}`, { retryable: true, cause: err }))
        })
      })
      const timer = setTimeout(() => {
        req.destroy(new ProviderError('timeout', `twilio: no answer in ${timeoutMs} ms`, { retryable: true }))
      }, timeoutMs)
      req.on('error', (err) => {
        clearTimeout(timer)
        reject(err instanceof ProviderError ? err : new ProviderError('network_error', `twilio: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { retryable: true, cause: err }))
      })
      req.end(body)
    })
  }

  return {
    accountSid,
    authToken,
    accountUrl,
    request,
    postForm(path, form, headers = {}) {
      const body = form.toString()
      return request(new URL(`${accountUrl}${path}`), 'POST', {
        'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers,
      }, body)
    },
    close() {
      agent.destroy()
    },
  }
}

/**
 * A Twilio error answer as a ProviderError: 429 (or 20429) and 5xx/408 retryable with the
 * `Retry-After` they carry; 401/403 `unauthorized`; any other 4xx permanent, with the readable code
 * `codes` gives Twilio's error code, else `twilio_<code>` (a retry sends the same request).
 */
export function twilioFailure(answer: TwilioAnswer, codes: Readonly<Record<number, string>> = PERMANENT_CODES): ProviderError {
  let parsed: TwilioError | undefined
  try {
    parsed = JSON.parse(answer.body) as TwilioError
  } catch {
    parsed = undefined
  }
  const twilioCode = typeof parsed?.code === 'number' ? parsed.code : undefined
  const text = `twilio ${answer.status}${twilioCode ? ` (${twilioCode})` : ''}: ${parsed?.message ?? (answer.body.slice(0, 200) || 'no message')}`
  const header = answer.headers['retry-after']
  if (answer.status === 429 || twilioCode === 20429) {
    return new ProviderError('rate_limited', text, { retryable: true, status: answer.status, retryAfterMs: retryAfterMs(Array.isArray(header) ? header[0] : header) })
  }
  if (answer.status >= 500 || answer.status === 408) {
    return new ProviderError('unavailable', text, { retryable: true, status: answer.status, retryAfterMs: retryAfterMs(Array.isArray(header) ? header[0] : header) })
  }
  if (answer.status === 401 || answer.status === 403) return new ProviderError('unauthorized', text, { retryable: false, status: answer.status })
  const code = (twilioCode !== undefined && Object.hasOwn(codes, twilioCode) ? codes[twilioCode] : undefined) ?? (twilioCode !== undefined ? `twilio_${twilioCode}` : 'rejected')
  return new ProviderError(code, text, { retryable: false, status: answer.status })
}

/**
 * The Twilio provider for one channel and one tenant's settings. Requests go over a keep-alive
 * agent owned by the provider (the registry keeps one provider per tenant settings, so a tenant's
 * messages reuse its connections); `close()` releases them.
 */
export function createTwilioProvider<C extends Channel>(channel: C, settings: ChannelSettings, options: ProviderOptions = {}): ChannelProvider<C> {
  if (channel !== 'sms' && channel !== 'whatsapp') {
    throw new ProviderError('unsupported_channel', `twilio does not send ${channel} here (sms and whatsapp only)`, { retryable: false })
  }
  const account = twilioAccount(settings, options)
  const { authToken } = account
  const defaultFrom = optionalString(VENDOR, settings, 'from')
  const messagingServiceSid = optionalString(VENDOR, settings, 'messagingServiceSid')
  if (!defaultFrom && !messagingServiceSid) {
    account.close()
    throw badSettings(VENDOR, 'set "from" (a sender number) or "messagingServiceSid"')
  }
  let ratePerSecond: number
  let senderRates: Map<string, number>
  try {
    ratePerSecond = optionalInteger(VENDOR, settings, 'ratePerSecond', 1, 10_000) ?? 1
    senderRates = parseSenderRates(settings.senderRates)
  } catch (err) {
    account.close()
    throw err
  }
  const url = new URL(`${account.accountUrl}/Messages.json`)
  const request = account.request
  const failure = (answer: TwilioAnswer) => twilioFailure(answer)

  /**
   * The Messages endpoint of a message: its `data.twilioAccountSid` (a sub-account of this account,
   * which the parent's credentials act on: a text account's number is held there), else the account's.
   */
  function messagesUrl(data: Readonly<Record<string, unknown>> | undefined): URL {
    const sub = data?.twilioAccountSid
    if (typeof sub !== 'string' || sub === account.accountSid) return url
    if (!/^AC[0-9a-zA-Z]{32}$/.test(sub)) throw new ProviderError('invalid_account', 'twilio: data.twilioAccountSid must be an account sid', { retryable: false })
    return new URL(`${account.accountUrl.slice(0, account.accountUrl.lastIndexOf('/'))}/${encodeURIComponent(sub)}/Messages.json`)
  }

  /** POST a message. */
  function call(body: string, idempotencyToken: string, target: URL = url): Promise<TwilioAnswer> {
    return request(target, 'POST', {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      // Twilio's idempotency header: a retry of one message id after a lost answer is not sent twice.
      'i-twilio-idempotency-token': idempotencyToken,
    }, body)
  }

  /** GET a Messages list page (`pathAndQuery` from the base URL). */
  function fetchList(pathAndQuery: string): Promise<TwilioAnswer> {
    return request(new URL(pathAndQuery, url), 'GET', {})
  }

  /**
   * Our messages Twilio holds to `to` with this body, created since `since`, oldest first: the
   * Messages list to that number (`GET …/Messages.json?To=…&DateSent>=YYYY-MM-DD`, newest first,
   * paged by `next_page_uri`, up to LIST_PAGES pages), and the newest page without the date filter
   * (a message Twilio has not sent yet has no sent date). Twilio's list does not show a message's
   * StatusCallback, so our id cannot be matched there: recipient, body, direction and time are.
   */
  async function findSent(message: OutboundMessage, since: Date): Promise<SendResult[]> {
    const to = twilioAddress(channel, message.to)
    const found = new Map<string, SendResult & { at: number }>()
    const recent = new URLSearchParams({ To: to, PageSize: String(LIST_PAGE_SIZE) })
    const sent = new URLSearchParams({ To: to, 'DateSent>': since.toISOString().slice(0, 10), PageSize: String(LIST_PAGE_SIZE) })
    const path = messagesUrl(message.data).pathname
    await readList(`${path}?${recent.toString()}`, 1, message.body, to, since, found)
    await readList(`${path}?${sent.toString()}`, LIST_PAGES, message.body, to, since, found)
    return [...found.values()].sort((a, b) => a.at - b.at).map(({ providerMessageId, status }) => ({ providerMessageId, status }))
  }

  /** Read up to `pages` pages of a Messages list from `first`, keeping our messages to `to` with `body` made since `since`. */
  async function readList(first: string, pages: number, body: string, to: string, since: Date, found: Map<string, SendResult & { at: number }>): Promise<void> {
    let next: string | null = first
    for (let page = 0; next && page < pages; page++) {
      const answer = await fetchList(next)
      if (answer.status !== 200) throw failure(answer)
      let list: TwilioMessageList
      try {
        list = JSON.parse(answer.body) as TwilioMessageList
      } catch {
        throw new ProviderError('bad_response', `twilio ${answer.status}: the message list is not JSON`, { retryable: true, status: answer.status })
      }
      for (const m of Array.isArray(list.messages) ? list.messages : []) {
        const at = Date.parse(m.date_created ?? '')
        if (typeof m.sid !== 'string' || m.to !== to || m.body !== body || !String(m.direction ?? '').startsWith('outbound')) continue
        if (!Number.isFinite(at) || at < since.getTime()) continue
        found.set(m.sid, { providerMessageId: m.sid, status: twilioStatus(m.status ?? '') === 'delivered' ? 'delivered' : 'sent', at })
      }
      next = typeof list.next_page_uri === 'string' && list.next_page_uri !== '' ? list.next_page_uri : null
    }
  }

  return {
    id: VENDOR,
    channel,
    sendRate(from: string | undefined) {
      const sender = from ?? (messagingServiceSid && !defaultFrom ? messagingServiceSid : defaultFrom ?? messagingServiceSid!)
      return { sender, perSecond: senderRates.get(sender) ?? ratePerSecond }
    },
    async send(message: OutboundMessage & { readonly channel: C }): Promise<SendResult> {
      const form = new URLSearchParams()
      form.set('To', twilioAddress(channel, message.to))
      const from = message.from ?? defaultFrom
      if (from && !(message.from === undefined && messagingServiceSid)) form.set('From', twilioAddress(channel, from))
      if (messagingServiceSid && message.from === undefined) form.set('MessagingServiceSid', messagingServiceSid)
      form.set('Body', message.body)
      for (const media of mediaUrls(message.data)) form.append('MediaUrl', media)
      if (message.statusCallbackUrl) form.set('StatusCallback', message.statusCallbackUrl)
      const answer = await call(form.toString(), message.id, messagesUrl(message.data))
      if (answer.status !== 201 && answer.status !== 200) throw failure(answer)
      let sid: unknown
      try {
        sid = (JSON.parse(answer.body) as { sid?: unknown }).sid
      } catch {
        sid = undefined
      }
      if (typeof sid !== 'string' || sid === '') {
        throw new ProviderError('bad_response', `twilio ${answer.status}: the answer has no message sid`, { retryable: true, status: answer.status })
      }
      return { providerMessageId: sid, status: 'sent' }
    },
    findSent: (message: OutboundMessage & { readonly channel: C }, since: Date) => findSent(message, since),
    verifySignature: (req: RawWebhook) => verifyTwilioWebhook(authToken, req),
    webhookAccount: (req: RawWebhook) => firstParam(twilioFormParams(req.body), 'AccountSid'),
    verifySignatureWith: (secret: string, req: RawWebhook) => verifyTwilioWebhook(secret, req),
    parseWebhook(req: RawWebhook): WebhookEvent[] {
      return parseTwilioWebhook(req.body, req.url)
    },
    async close() {
      account.close()
    },
  }
}

/**
 * `senderRates`: per-sender sends per second overriding `ratePerSecond` (a short code or toll-free
 * number sends faster than a long code), as an object or as `+15551234567=10,+15557654321=3`.
 */
function parseSenderRates(raw: unknown): Map<string, number> {
  const rates = new Map<string, number>()
  if (raw === undefined || raw === null || raw === '') return rates
  const entries = typeof raw === 'string'
    ? raw.split(',').map((pair) => pair.split('=').map((x) => x.trim()) as [string, string | undefined])
    : typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw as Record<string, unknown>) : undefined
  if (!entries) throw badSettings(VENDOR, 'setting "senderRates" must be an object or "sender=rate,…"')
  for (const [sender, value] of entries) {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    if (!sender || typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10_000) {
      throw badSettings(VENDOR, 'setting "senderRates" must map senders to integers 1-10000')
    }
    rates.set(sender, n)
  }
  return rates
}

/** A Twilio status word as an outbox status; undefined for words we do not know. */
export function twilioStatus(word: string): WebhookStatus | undefined {
  const key = word.toLowerCase()
  return Object.hasOwn(STATUS_MAP, key) ? STATUS_MAP[key] : undefined
}

function invalidWebhook(message: string): ProviderError {
  return new ProviderError('invalid_webhook', `twilio webhook: ${message}`, { retryable: false })
}

/**
 * The events of a Twilio messaging webhook. An inbound message (it has `Body` or `NumMedia`):
 * `From` (`whatsapp:` for WhatsApp), `To`, `Body` (`[media]` for a picture without a caption), up
 * to 10 `MediaUrl{i}`/`MediaContentType{i}`, `ProfileName` (kept as `data.profile_name`); its
 * sender is a phone to admit under the tenant's unknown-sender policy. A status callback
 * (`MessageStatus`): the status with Twilio's word and `ErrorCode`, and our message id from the
 * callback URL's `?message=` (`url`: the URL Twilio called, which its signature covers); a status
 * word we do not know gives no event, so the callback is acknowledged and ignored. Throws
 * ProviderError `invalid_webhook`.
 */
export function parseTwilioWebhook(body: unknown, url?: string): WebhookEvent[] {
  const params = twilioFormParams(body)
  const sid = firstParam(params, 'MessageSid') ?? firstParam(params, 'SmsSid')
  if (!sid) throw invalidWebhook('MessageSid is required')
  const isMessage = firstParam(params, 'Body') !== undefined || firstParam(params, 'NumMedia') !== undefined
  if (!isMessage) {
    const word = firstParam(params, 'MessageStatus') ?? firstParam(params, 'SmsStatus')
    if (!word) throw invalidWebhook('Body (a message) or MessageStatus (a status callback) is required')
    const status = twilioStatus(word)
    if (!status) return []
    let messageId: string | undefined
    try {
      messageId = url ? new URL(url).searchParams.get('message') ?? undefined : undefined
    } catch {
      messageId = undefined
    }
    return [{
      kind: 'status', status, providerMessageIds: [sid], providerStatus: word.toLowerCase(),
      errorCode: firstParam(params, 'ErrorCode') || undefined, messageId,
    }]
  }
  const from = firstParam(params, 'From')
  if (!from) throw invalidWebhook('From is required')
  const channel: Channel = from.startsWith('whatsapp:') ? 'whatsapp' : 'sms'
  const media: InboundMedia[] = []
  const numMedia = Math.min(Number(firstParam(params, 'NumMedia') ?? '0') || 0, 10)
  for (let i = 0; i < numMedia; i++) {
    const mediaUrl = firstParam(params, `MediaUrl${i}`)
    if (mediaUrl) media.push({ url: mediaUrl, contentType: firstParam(params, `MediaContentType${i}`) })
  }
  const text = firstParam(params, 'Body') ?? ''
  const to = firstParam(params, 'To')
  const profileName = firstParam(params, 'ProfileName')
  return [{
    kind: 'message',
    message: {
      channel, from: stripTwilioAddress(from), to: to === undefined ? undefined : stripTwilioAddress(to),
      // A picture with no caption is still a message.
      body: text.trim() === '' && media.length > 0 ? '[media]' : text,
      providerMessageId: sid,
      data: profileName ? { profile_name: profileName } : {},
      ...(media.length > 0 ? { media } : {}),
      admitSender: true,
    },
  }]
}
