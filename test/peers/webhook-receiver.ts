/**
 * A local webhook consumer: a real HTTP server that takes the signed POSTs of outbound webhooks
 * (ccai.md §1.12) and checks them the way a tenant's endpoint would — its own implementation of
 * the recipe (HMAC-SHA256 over `X-Signature-Timestamp` + raw body, base64, either of its secrets,
 * constant-time comparison), not ours, so a test that passes shows the recipe works from the
 * spec. It records every request, answers 2xx to a valid one and 401 to a bad signature, and can be
 * told to fail the next N requests (a status of choice, with `Retry-After`) or to hang.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { closeNow, listenLocal } from './listen.ts'

/** One request the receiver took. */
export interface ReceivedWebhook {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The raw body. */
  readonly body: string
  readonly timestamp: string | undefined
  readonly signature: string | undefined
  /** Which of the receiver's secrets the signature matched (0 first), or -1. */
  readonly matchedSecret: number
  /** The status the receiver answered. */
  readonly answered: number
}

/** What to answer the next requests instead of the normal answer. */
export interface ReceiverFault {
  readonly status: number
  readonly retryAfterSeconds?: number
  /** Answer only after this long (to make the sender time out). */
  readonly delayMs?: number
}

export interface WebhookReceiver {
  /** Base URL (http://127.0.0.1:port). */
  readonly url: string
  /** Every request, in arrival order. */
  readonly received: ReceivedWebhook[]
  /** Requests whose signature matched, parsed. */
  verified(): Array<ReceivedWebhook & { json: unknown }>
  /** The secrets the receiver accepts (mutable: rotate them in a test). */
  secrets: string[]
  /** Answer the next `n` requests with `fault` (after checking and recording them). */
  failNext(n: number, fault?: ReceiverFault): void
  close(): Promise<void>
}

function matching(secrets: readonly string[], timestamp: string, body: Buffer, header: string): number {
  const given = header.split(' ').map((p) => /^(?:primary|secondary)=(.+)$/.exec(p)?.[1]).filter((s): s is string => s !== undefined).map((s) => Buffer.from(s, 'base64'))
  let found = -1
  secrets.forEach((secret, i) => {
    const mac = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(timestamp, 'utf8'), body])).digest()
    for (const g of given) if (found < 0 && g.length === mac.length && timingSafeEqual(g, mac)) found = i
  })
  return found
}

/** Start a receiver accepting `secrets` on a loopback port; `onRequest` sees each request as it is recorded (the bench times arrivals with it). */
export async function startWebhookReceiver(secrets: string[], options: { onRequest?: (r: ReceivedWebhook) => void } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  const faults: ReceiverFault[] = []
  const state = { secrets }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const timestamp = req.headers['x-signature-timestamp'] as string | undefined
      const signature = req.headers['x-signature'] as string | undefined
      const matched = req.method === 'POST' && timestamp && signature ? matching(state.secrets, timestamp, body, signature) : -1
      const fault = faults.shift()
      const answered = fault ? fault.status : matched >= 0 ? 204 : 401
      const record: ReceivedWebhook = { path: req.url ?? '/', headers: req.headers, body: body.toString('utf8'), timestamp, signature, matchedSecret: matched, answered }
      received.push(record)
      options.onRequest?.(record)
      const answer = () => {
        if (fault?.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.retryAfterSeconds))
        res.statusCode = answered
        res.end(answered === 204 ? undefined : answered === 401 ? 'bad signature' : `failing on purpose (${answered})`)
      }
      if (fault?.delayMs) setTimeout(answer, fault.delayMs)
      else answer()
    })
  })
  const url = await listenLocal(server)
  return {
    url,
    received,
    verified: () => received.filter((r) => r.matchedSecret >= 0).map((r) => ({ ...r, json: JSON.parse(r.body) as unknown })),
    get secrets() {
      return state.secrets
    },
    set secrets(next: string[]) {
      state.secrets = next
    },
    failNext(n, fault = { status: 500 }) {
      for (let i = 0; i < n; i++) faults.push(fault)
    },
    close: () => closeNow(server),
  }
}
