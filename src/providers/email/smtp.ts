import type { Socket } from 'node:net'
import nodemailer from 'nodemailer'
import type Mail from 'nodemailer/lib/mailer/index.js'
import {
  assertChannel, badSettings, networkError, optionalBoolean, optionalInteger, optionalString, requiredString, DEFAULT_TIMEOUT_MS,
} from '../support.ts'
import type { GuardedHttpClient } from '../../lib/url-safety.ts'
import { vendorHttp, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { ProviderError, type EmailProvider, type OutboundMessage, type SendResult } from '../types.ts'

const VENDOR = 'smtp'
/** Largest attachment fetched from a URL. */
const MAX_URL_ATTACHMENT_BYTES = 10 * 1024 * 1024
const MAX_ATTACHMENTS = 10

/** One attachment in an e-mail's `data.attachments`: inline base64 content, or a URL fetched at send time. */
interface AttachmentSpec {
  filename: string
  content?: string
  url?: string
  contentType?: string
}

function invalidMessage(message: string): ProviderError {
  return new ProviderError('invalid_message', `smtp: ${message}`, { retryable: false })
}

function attachmentSpecs(data: Readonly<Record<string, unknown>> | undefined): AttachmentSpec[] {
  const raw = data?.attachments
  if (raw === undefined) return []
  if (!Array.isArray(raw) || raw.length > MAX_ATTACHMENTS) throw invalidMessage(`data.attachments must be a list of at most ${MAX_ATTACHMENTS}`)
  return raw.map((a: unknown, i) => {
    const spec = a as Partial<AttachmentSpec> | null
    if (!spec || typeof spec !== 'object' || typeof spec.filename !== 'string' || spec.filename === '') {
      throw invalidMessage(`data.attachments[${i}] needs a filename`)
    }
    const hasContent = typeof spec.content === 'string'
    const hasUrl = typeof spec.url === 'string'
    if (hasContent === hasUrl) throw invalidMessage(`data.attachments[${i}] needs either content (base64) or url`)
    if (hasContent && !/^[A-Za-z0-9+/=\s]*$/.test(spec.content!)) throw invalidMessage(`data.attachments[${i}].content is not base64`)
    if (hasUrl) {
      let url: URL
      try {
        url = new URL(spec.url!)
      } catch {
        throw invalidMessage(`data.attachments[${i}].url is not a URL`)
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidMessage(`data.attachments[${i}].url must be http(s)`)
    }
    return { filename: spec.filename, ...(hasContent ? { content: spec.content! } : { url: spec.url! }), ...(typeof spec.contentType === 'string' ? { contentType: spec.contentType } : {}) }
  })
}

/** Fetch a URL attachment through the guarded client, bounded in size and time. A 4xx is permanent, anything else retries. */
async function fetchAttachment(http: GuardedHttpClient, spec: AttachmentSpec, timeoutMs: number): Promise<Mail.Attachment> {
  let res: Awaited<ReturnType<GuardedHttpClient['request']>>
  try {
    res = await http.request(spec.url!, { timeoutMs, maxBodyBytes: MAX_URL_ATTACHMENT_BYTES })
  } catch (err) {
    if (err instanceof ProviderError && err.code === 'unsafe_endpoint') throw invalidMessage(`attachment ${spec.filename}: ${err.message.replace(/^smtp: /, '')}`)
    throw networkError(`${VENDOR} attachment ${spec.filename}`, err)
  }
  if (res.status < 200 || res.status > 299) {
    const retryable = res.status >= 500 || res.status === 429
    throw new ProviderError('attachment_unavailable', `smtp: attachment ${spec.filename} answered ${res.status}`, { retryable, status: res.status })
  }
  if (res.truncated) throw invalidMessage(`attachment ${spec.filename} is larger than ${MAX_URL_ATTACHMENT_BYTES} bytes`)
  const type = res.headers['content-type']
  return { filename: spec.filename, content: res.body, contentType: spec.contentType ?? (typeof type === 'string' ? type : undefined) }
}

/** nodemailer's error as a ProviderError: 4xx replies and lost connections retry; 5xx replies and bad credentials do not. */
function smtpError(err: unknown): ProviderError {
  const e = err as { code?: string; responseCode?: number; message?: string }
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined
  if (err instanceof ProviderError) return err
  const text = `smtp: ${e.message ?? String(err)}`
  if (e.code === 'EAUTH') return new ProviderError('auth_failed', text, { retryable: false, status, cause: err })
  if (status !== undefined && status >= 500) return new ProviderError('rejected', text, { retryable: false, status, cause: err })
  if (status !== undefined && status >= 400) return new ProviderError('temporary_failure', text, { retryable: true, status, cause: err })
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new ProviderError('invalid_message', text, { retryable: false, status, cause: err })
  return new ProviderError('connection_failed', text, { retryable: true, status, cause: err })
}

/**
 * E-mail over SMTP with nodemailer, through a pool of connections per tenant configuration.
 * Settings: `host` (required), `port` (465 when `secure`, else 587), `secure` (TLS from the first
 * byte), `requireTLS` (insist on STARTTLS), `user` + `pass`, `from` (required: the default sender),
 * `ca` (PEM of a private CA), `maxConnections` (5), `timeoutMs` (10 s). The host must pass the
 * outbound URL policy (`unsafe_endpoint`, permanent, otherwise).
 * The message: `subject`, `body` as the text part, `data.html` as the HTML part,
 * `data.replyTo`, `data.attachments` (`[{filename, content: base64 | url, contentType?}]`), and the
 * message's `attachments` (files with their bytes), all as parts of one multipart/mixed message.
 */
export function createSmtpProvider(channel: 'email', settings: ChannelSettings, options: ProviderOptions = {}): EmailProvider {
  assertChannel(VENDOR, channel, 'email')
  const host = requiredString(VENDOR, settings, 'host')
  const secure = optionalBoolean(VENDOR, settings, 'secure') ?? false
  const port = optionalInteger(VENDOR, settings, 'port', 1, 65535) ?? (secure ? 465 : 587)
  const requireTLS = optionalBoolean(VENDOR, settings, 'requireTLS') ?? false
  const user = optionalString(VENDOR, settings, 'user')
  const pass = optionalString(VENDOR, settings, 'pass')
  if ((user === undefined) !== (pass === undefined)) throw badSettings(VENDOR, 'settings "user" and "pass" go together')
  const defaultFrom = requiredString(VENDOR, settings, 'from')
  const ca = optionalString(VENDOR, settings, 'ca')
  const maxConnections = optionalInteger(VENDOR, settings, 'maxConnections', 1, 50) ?? 5
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 300_000) ?? DEFAULT_TIMEOUT_MS

  // The server is the tenant's to name, so it gets the outbound URL policy (no loopback, private,
  // link-local or metadata address, by name or by the DNS answer): nodemailer gets each pooled
  // connection from the guarded client, checked as it connects. Attachment URLs go through it too.
  const http = vendorHttp(VENDOR, options)
  const getSocket = (opts: { host?: string; port?: number }, callback: (err: Error | null, socket?: { connection: Socket }) => void) => {
    http.connect(opts.host ?? host, opts.port ?? port, timeoutMs).then((connection) => callback(null, { connection }), (err: Error) => callback(err))
  }
  const transport = nodemailer.createTransport({
    pool: true,
    getSocket,
    maxConnections,
    host, port, secure, requireTLS,
    ...(user !== undefined ? { auth: { user, pass: pass! } } : {}),
    ...(ca ? { tls: { ca } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 3,
  })
  const domain = /@([^>\s]+)>?\s*$/.exec(defaultFrom)?.[1] ?? 'switchboard.invalid'
  return {
    id: VENDOR,
    channel: 'email',
    async send(message: OutboundMessage & { readonly channel: 'email' }): Promise<SendResult> {
      const data = message.data ?? {}
      const html = data.html
      if (html !== undefined && typeof html !== 'string') throw invalidMessage('data.html must be a string')
      const replyTo = data.replyTo
      if (replyTo !== undefined && typeof replyTo !== 'string') throw invalidMessage('data.replyTo must be a string')
      const specs = attachmentSpecs(data)
      if (specs.length + (message.attachments?.length ?? 0) > MAX_ATTACHMENTS) throw invalidMessage(`at most ${MAX_ATTACHMENTS} attachments`)
      // Files handed over with their bytes first (a user email's), then those of data.attachments.
      const attachments: Mail.Attachment[] = (message.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType }))
      for (const spec of specs) {
        attachments.push(spec.url !== undefined
          ? await fetchAttachment(http, spec, timeoutMs)
          : { filename: spec.filename, content: Buffer.from(spec.content!, 'base64'), ...(spec.contentType ? { contentType: spec.contentType } : {}) })
      }
      try {
        const info = await transport.sendMail({
          from: message.from ?? defaultFrom,
          to: message.to,
          subject: message.subject ?? '',
          text: message.body,
          ...(html !== undefined ? { html } : {}),
          ...(replyTo !== undefined ? { replyTo } : {}),
          attachments,
          // Our id as the Message-ID: a retry after a lost answer carries the same id, which
          // receiving systems use to drop duplicates.
          messageId: `<${message.id}@${domain}>`,
        })
        return { providerMessageId: info.messageId, status: 'sent' }
      } catch (err) {
        throw smtpError(err)
      }
    },
    async close() {
      transport.close()
      http.close()
    },
  }
}
