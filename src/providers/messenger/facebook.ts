import { createHmac, timingSafeEqual } from 'node:crypto'
import { vendorHttp, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import {
  assertChannel, baseUrl, optionalInteger, optionalString, post, readJson, requiredString, retryAfterMs, DEFAULT_TIMEOUT_MS,
} from '../support.ts'
import { ProviderError, type MessengerProvider, type OutboundMessage, type RawWebhook, type SendResult, type WebhookEvent } from '../types.ts'

const VENDOR = 'facebook'
const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG'])
/** The Send API's limit on a text message. */
const MAX_TEXT = 2000

/** Graph API error codes that are rate limits or outages: retry later. */
const RETRY_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80006])

/** A Graph API error answer as a ProviderError. */
export function graphError(httpStatus: number, error: { code?: number; error_subcode?: number; message?: string } | undefined, retryAfter?: number): ProviderError {
  const code = error?.code
  const text = `facebook ${httpStatus}: ${error?.message ?? 'no error message'}${code !== undefined ? ` (code ${code}${error?.error_subcode ? `/${error.error_subcode}` : ''})` : ''}`
  if (code !== undefined && RETRY_CODES.has(code)) {
    const limited = code !== 1 && code !== 2
    return new ProviderError(limited ? 'rate_limited' : 'unavailable', text, { retryable: true, status: httpStatus, retryAfterMs: retryAfter })
  }
  if (code === 190) return new ProviderError('auth_failed', text, { retryable: false, status: httpStatus })
  if (code === 551 || (code === 100 && error?.error_subcode === 2018001)) return new ProviderError('invalid_recipient', text, { retryable: false, status: httpStatus })
  if (code !== undefined) return new ProviderError('rejected', text, { retryable: false, status: httpStatus })
  const retryable = httpStatus >= 500 || httpStatus === 429
  return new ProviderError(retryable ? 'unavailable' : 'rejected', text, { retryable, status: httpStatus, retryAfterMs: retryAfter })
}

/** Whether `header` is `sha256=` + the hex HMAC-SHA256 of the raw body under the app secret. */
export function verifyHubSignature(appSecret: string, rawBody: Buffer | undefined, header: string | string[] | undefined): boolean {
  const given = Array.isArray(header) ? header[0] : header
  if (!rawBody || typeof given !== 'string' || !given.startsWith('sha256=')) return false
  const expected = Buffer.from(createHmac('sha256', appSecret).update(rawBody).digest('hex'))
  const actual = Buffer.from(given.slice('sha256='.length).toLowerCase())
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

function invalidWebhook(message: string): ProviderError {
  return new ProviderError('invalid_webhook', `facebook webhook: ${message}`, { retryable: false })
}

interface MessagingEvent {
  sender?: { id?: unknown }
  recipient?: { id?: unknown }
  timestamp?: unknown
  message?: { mid?: unknown; text?: unknown; is_echo?: unknown; attachments?: unknown; quick_reply?: { payload?: unknown } }
  postback?: { mid?: unknown; title?: unknown; payload?: unknown }
  delivery?: { mids?: unknown; watermark?: unknown }
  read?: { watermark?: unknown }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined)

/**
 * The events of a Messenger Platform webhook (`object: "page"`, `entry[].messaging[]`): messages
 * and postbacks people sent (echoes of the page's own messages are skipped), and delivery and read
 * receipts. Throws ProviderError `invalid_webhook`.
 */
export function parseMessengerWebhook(body: unknown): WebhookEvent[] {
  const b = body as { object?: unknown; entry?: unknown } | null
  if (!b || typeof b !== 'object' || b.object !== 'page' || !Array.isArray(b.entry)) throw invalidWebhook('expected {"object":"page","entry":[...]}')
  const events: WebhookEvent[] = []
  for (const entry of b.entry as Array<{ messaging?: unknown }>) {
    if (!entry || typeof entry !== 'object') throw invalidWebhook('an entry is not an object')
    if (entry.messaging === undefined) continue
    if (!Array.isArray(entry.messaging)) throw invalidWebhook('entry.messaging is not a list')
    for (const e of entry.messaging as MessagingEvent[]) {
      if (!e || typeof e !== 'object') throw invalidWebhook('a messaging event is not an object')
      const sender = str(e.sender?.id)
      const recipient = str(e.recipient?.id)
      if (e.message) {
        if (e.message.is_echo === true) continue
        if (!sender) throw invalidWebhook('a message without sender.id')
        const attachments = Array.isArray(e.message.attachments)
          ? (e.message.attachments as Array<{ type?: unknown; payload?: { url?: unknown } }>).map((a) => ({ type: str(a?.type) ?? 'file', url: str(a?.payload?.url) }))
          : []
        const text = str(e.message.text)
        const body = text ?? (attachments.length > 0 ? attachments.map((a) => `[${a.type}]`).join(' ') : undefined)
        if (body === undefined) continue // nothing a person could read (a sticker reaction, say)
        const data: Record<string, unknown> = {}
        if (attachments.length > 0) data.attachments = attachments
        const quickReply = str(e.message.quick_reply?.payload)
        if (quickReply) data.quickReply = quickReply
        events.push({ kind: 'message', message: { channel: 'messenger', from: sender, to: recipient, body, providerMessageId: str(e.message.mid), data } })
      } else if (e.postback) {
        if (!sender) throw invalidWebhook('a postback without sender.id')
        const payload = str(e.postback.payload)
        const body = str(e.postback.title) ?? payload
        if (body === undefined) continue
        const mid = str(e.postback.mid) ?? `postback:${sender}:${str(e.timestamp) ?? ''}`
        events.push({ kind: 'message', message: { channel: 'messenger', from: sender, to: recipient, body, providerMessageId: mid, data: payload ? { postback: payload } : {} } })
      } else if (e.delivery) {
        const mids = Array.isArray(e.delivery.mids) ? (e.delivery.mids as unknown[]).map(str).filter((m): m is string => m !== undefined) : []
        const watermark = typeof e.delivery.watermark === 'number' ? new Date(e.delivery.watermark) : undefined
        events.push({ kind: 'status', status: 'delivered', providerMessageIds: mids, ...(sender && watermark ? { recipient: sender, before: watermark } : {}) })
      } else if (e.read) {
        // Read up to the watermark implies delivered up to it.
        const watermark = typeof e.read.watermark === 'number' ? new Date(e.read.watermark) : undefined
        if (sender && watermark) events.push({ kind: 'status', status: 'delivered', recipient: sender, before: watermark })
      }
    }
  }
  return events
}

/**
 * The Facebook Messenger Send API (Graph API `POST /{version}/me/messages`, or
 * `/{page-id}/messages`), with the page access token and, when the app secret is set, its
 * `appsecret_proof`. Inbound: the Messenger Platform webhook, signed with `X-Hub-Signature-256`.
 * Settings: `pageAccessToken` (required), `appSecret` (required for webhooks), `verifyToken` (the
 * webhook subscription handshake), `pageId`, `graphBase` (https://graph.facebook.com),
 * `graphVersion` (v21.0), `messagingType` (RESPONSE), `timeoutMs`.
 * The message: `to` is the person's page-scoped id (PSID), `body` the text (≤ 2000 characters);
 * `data.messagingType` (RESPONSE | UPDATE | MESSAGE_TAG), `data.tag` (with MESSAGE_TAG),
 * `data.quickReplies` (`[{title, payload}]`).
 */
export function createFacebookMessengerProvider(channel: 'messenger', settings: ChannelSettings, options: ProviderOptions = {}): MessengerProvider {
  assertChannel(VENDOR, channel, 'messenger')
  const token = requiredString(VENDOR, settings, 'pageAccessToken')
  const appSecret = optionalString(VENDOR, settings, 'appSecret')
  const verifyToken = optionalString(VENDOR, settings, 'verifyToken')
  const pageId = optionalString(VENDOR, settings, 'pageId')
  const graph = baseUrl(VENDOR, settings, 'graphBase', 'https://graph.facebook.com')
  const version = optionalString(VENDOR, settings, 'graphVersion') ?? 'v21.0'
  const defaultType = optionalString(VENDOR, settings, 'messagingType') ?? 'RESPONSE'
  if (!MESSAGING_TYPES.has(defaultType)) throw new ProviderError('invalid_settings', 'facebook: setting "messagingType" must be RESPONSE, UPDATE or MESSAGE_TAG', { retryable: false })
  if (!/^v\d+\.\d+$/.test(version)) throw new ProviderError('invalid_settings', 'facebook: setting "graphVersion" must look like v21.0', { retryable: false })
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 300_000) ?? DEFAULT_TIMEOUT_MS
  const query = new URLSearchParams({ access_token: token })
  if (appSecret) query.set('appsecret_proof', createHmac('sha256', appSecret).update(token).digest('hex'))
  // The Graph base is the tenant's to set: every connection is checked as it is made.
  const http = vendorHttp(VENDOR, options)
  const endpoint = `${graph}/${version}/${pageId ? encodeURIComponent(pageId) : 'me'}/messages?${query}`

  return {
    id: VENDOR,
    channel: 'messenger',
    async send(message: OutboundMessage & { readonly channel: 'messenger' }): Promise<SendResult> {
      const data = message.data ?? {}
      if (message.body.length > MAX_TEXT) throw new ProviderError('invalid_message', `facebook: text longer than ${MAX_TEXT} characters`, { retryable: false })
      const messagingType = data.messagingType ?? defaultType
      if (typeof messagingType !== 'string' || !MESSAGING_TYPES.has(messagingType)) {
        throw new ProviderError('invalid_message', 'facebook: data.messagingType must be RESPONSE, UPDATE or MESSAGE_TAG', { retryable: false })
      }
      if (messagingType === 'MESSAGE_TAG' && typeof data.tag !== 'string') throw new ProviderError('invalid_message', 'facebook: MESSAGE_TAG needs data.tag', { retryable: false })
      const msg: Record<string, unknown> = { text: message.body }
      if (data.quickReplies !== undefined) {
        if (!Array.isArray(data.quickReplies)) throw new ProviderError('invalid_message', 'facebook: data.quickReplies must be a list', { retryable: false })
        msg.quick_replies = (data.quickReplies as Array<{ title?: unknown; payload?: unknown }>).map((q) => ({ content_type: 'text', title: String(q?.title ?? ''), payload: String(q?.payload ?? q?.title ?? '') }))
      }
      const body = JSON.stringify({
        recipient: { id: message.to },
        messaging_type: messagingType,
        message: msg,
        ...(messagingType === 'MESSAGE_TAG' ? { tag: data.tag } : {}),
      })
      const res = await post(VENDOR, http, endpoint, { headers: { 'content-type': 'application/json' }, body, timeoutMs })
      const answer = (await readJson(res)) as { message_id?: unknown; error?: { code?: number; error_subcode?: number; message?: string } } | undefined
      if (res.ok && typeof answer?.message_id === 'string') return { providerMessageId: answer.message_id, status: 'sent' }
      if (res.ok) throw new ProviderError('bad_response', 'facebook: the answer has no message_id', { retryable: true, status: res.status })
      throw graphError(res.status, answer?.error, retryAfterMs(res.headers.get('retry-after')))
    },
    verifySignature(req: RawWebhook): boolean {
      return appSecret !== undefined && verifyHubSignature(appSecret, req.rawBody, req.headers['x-hub-signature-256'])
    },
    parseWebhook(req: RawWebhook): WebhookEvent[] {
      return parseMessengerWebhook(req.body)
    },
    verifySubscription(q): string | undefined {
      if (!verifyToken || q['hub.mode'] !== 'subscribe' || typeof q['hub.challenge'] !== 'string') return undefined
      const given = Buffer.from(q['hub.verify_token'] ?? '')
      const expected = Buffer.from(verifyToken)
      return given.length === expected.length && timingSafeEqual(given, expected) ? q['hub.challenge'] : undefined
    },
    async close() {
      http.close()
    },
  }
}
