import { createHmac, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { closeNow, listenLocal } from './listen.ts'

/** One Send API call the peer accepted. */
export interface GraphSend {
  path: string
  body: { recipient?: { id?: string }; messaging_type?: string; message?: { text?: string; quick_replies?: unknown[] }; tag?: string }
  messageId: string
}

/**
 * A local Graph API speaking the Messenger Send API: `POST /{version}/me/messages` (or
 * `/{page-id}/messages`) with `access_token` and, when the app secret is known, a matching
 * `appsecret_proof`; checks `recipient.id`, `messaging_type` and the message the way Graph does,
 * answers `{recipient_id, message_id}` or Graph's `{error: {message, type, code, error_subcode,
 * fbtrace_id}}`. PSIDs in `unavailable` answer code 551; `failNext` queues errors.
 */
export class GraphPeer {
  readonly sends: GraphSend[] = []
  readonly unavailable = new Set<string>()
  readonly failNext: Array<{ status: number; code: number; subcode?: number }> = []
  readonly #server: Server
  readonly pageToken: string
  readonly appSecret: string
  readonly pageId: string
  url = ''

  constructor(pageToken: string, appSecret: string, pageId = '1234567890') {
    this.pageToken = pageToken
    this.appSecret = appSecret
    this.pageId = pageId
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks).toString('utf8')))
    })
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    await closeNow(this.#server)
  }

  #error(res: ServerResponse, status: number, code: number, message: string, subcode?: number) {
    res.writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { message, type: code === 190 ? 'OAuthException' : 'FacebookApiException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: randomUUID() } }))
  }

  #handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', this.url)
    const m = /^\/(v\d+\.\d+)\/(me|\d+)\/messages$/.exec(url.pathname)
    if (req.method !== 'POST' || !m) return this.#error(res, 400, 100, 'Unknown path components')
    if (m[2] !== 'me' && m[2] !== this.pageId) return this.#error(res, 400, 100, 'Unsupported post request')
    if (url.searchParams.get('access_token') !== this.pageToken) return this.#error(res, 400, 190, 'Invalid OAuth access token.')
    const proof = createHmac('sha256', this.appSecret).update(this.pageToken).digest('hex')
    if (url.searchParams.get('appsecret_proof') !== proof) return this.#error(res, 400, 100, 'Invalid appsecret_proof provided in the API argument')
    let body: GraphSend['body']
    try {
      body = JSON.parse(raw)
    } catch {
      return this.#error(res, 400, 100, 'Invalid JSON')
    }
    const psid = body.recipient?.id
    if (!psid) return this.#error(res, 400, 100, '(#100) The parameter recipient is required')
    if (!['RESPONSE', 'UPDATE', 'MESSAGE_TAG'].includes(body.messaging_type ?? '')) return this.#error(res, 400, 100, '(#100) Param messaging_type is invalid')
    if (body.messaging_type === 'MESSAGE_TAG' && !body.tag) return this.#error(res, 400, 100, '(#100) Tag is required for MESSAGE_TAG')
    if (!body.message || typeof body.message.text !== 'string' || body.message.text.length > 2000) return this.#error(res, 400, 100, '(#100) Invalid message')
    const fault = this.failNext.shift()
    if (fault) return this.#error(res, fault.status, fault.code, `(#${fault.code}) injected`, fault.subcode)
    if (this.unavailable.has(psid)) return this.#error(res, 400, 551, 'This person isn\'t available right now.', 1545041)
    const messageId = `m_${randomUUID()}`
    this.sends.push({ path: url.pathname, body, messageId })
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ recipient_id: psid, message_id: messageId }))
  }
}
