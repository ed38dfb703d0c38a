import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tenantOf } from '../../http/tenant.ts'
import type { Services } from '../../services.ts'
import { viewerOf } from './viewer.ts'

const sent = new WeakMap<FastifyRequest, string>()
const received = new WeakMap<FastifyRequest, number>()

/** The error detail of a §1.7 error document, or '' for a success. */
function messageOf(status: number, payload: string): string {
  if (status < 400) return ''
  try {
    return String((JSON.parse(payload) as { errors?: Array<{ detail?: string }> }).errors?.[0]?.detail ?? '')
  } catch {
    return ''
  }
}

/**
 * Sniffers (#89–#91): every request a user token makes while one of that user's sniffers runs is
 * logged after its answer has gone (the capture never delays or fails the request; a failed write
 * is logged and dropped). Requests of the organisation key are never captured.
 */
export function captureForSniffers(scope: FastifyInstance, services: Services): void {
  scope.addHook('onRequest', async (req) => {
    received.set(req, performance.timeOrigin + performance.now())
  })
  scope.addHook('onSend', async (req, _reply, payload) => {
    if (viewerOf(req).kind === 'user' && (typeof payload === 'string' || Buffer.isBuffer(payload))) sent.set(req, payload.toString())
    return payload
  })
  scope.addHook('onResponse', async (req, reply) => {
    const viewer = viewerOf(req)
    if (viewer.kind !== 'user') return
    const response = sent.get(req) ?? ''
    const [path = '', query = ''] = req.url.split(/\?(.*)/s)
    const traceparent = req.headers.traceparent
    const entry = {
      method: req.method, path, queryString: query, contentType: String(req.headers['content-type'] ?? ''),
      body: req.body === undefined || req.body === null ? '' : typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
      response, statusCode: reply.statusCode, message: messageOf(reply.statusCode, response), userAgent: String(req.headers['user-agent'] ?? ''),
      requestId: String(req.id), traceId: typeof traceparent === 'string' ? (traceparent.split('-')[1] ?? String(req.id)) : String(req.id),
      ...(received.has(req) ? { receivedAt: received.get(req)! } : {}),
    }
    await services.sniffers.capture(tenantOf(req).id, viewer.userId, entry).catch((err: unknown) => req.log.error({ err }, 'sniffer capture failed'))
  })
}
