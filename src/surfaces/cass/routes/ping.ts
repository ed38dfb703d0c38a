import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ValidationError } from '../../../core/errors.ts'
import type { Services } from '../../../services.ts'
import { flag, mergedParams, SECURITY, withoutBody } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { Message, OptionalBody, PingParams, PingResponse, PingV2Params } from '../schemas.ts'


/** `messages` as a list: an array, one text, or a JSON array of texts in a string. */
function messagesOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 1 && typeof list[0] === 'string' && list[0].trim().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(list[0])
      if (Array.isArray(parsed) && parsed.every((m) => typeof m === 'string' && m.length <= 2000 && !m.includes('\u0000')) && parsed.length <= 20) return parsed
    } catch {
      // not JSON: one message that starts with "["
    }
  }
  return list.map(String)
}

/** `placeholders` as texts by key: an object, or a JSON object in a string. */
function placeholdersOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined
  let obj = value
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value)
    } catch {
      throw new ValidationError('invalid_placeholders', 'placeholders is not a JSON object')
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new ValidationError('invalid_placeholders', 'placeholders must be an object')
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(k) || !['string', 'number', 'boolean'].includes(typeof v) || String(v).includes('\u0000') || String(v).length > 2000) {
      throw new ValidationError('invalid_placeholders', `invalid placeholder ${k}`, { key: k })
    }
    out[k] = String(v)
  }
  return out
}

const errors = { 400: Message, 401: Message, 404: Message, 502: Message }
const security = SECURITY.cass

/** `/ping_person` (v1) and `/v2/ping_person`: send a person into a thread. */
export async function pingRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { bot } = services

  async function ping(req: FastifyRequest, v2: boolean) {
    const p = mergedParams(req)
    const ref = p.person_id === undefined ? '' : String(p.person_id)
    if (ref.trim() === '') throw new ValidationError('person_id_required', 'person_id is required')
    const threadName = typeof p.thread_name === 'string' ? p.thread_name : ''
    if (threadName === '') throw new ValidationError('thread_name_required', 'thread_name is required')
    const next = typeof p.next_thread_name === 'string' && p.next_thread_name !== '' ? p.next_thread_name : undefined
    const placeholders = v2 ? placeholdersOf(p.placeholders) : undefined
    await bot.ping(tenantOf(req), {
      personRef: ref, threadName, nextThreadName: next, messages: messagesOf(p.messages), placeholders,
      autoNext: flag(p.is_auto_next), wait: !flag(p.is_asynch),
    })
    return { message: 'Successfully pinged person', person_id: ref, thread_name: threadName, next_thread_name: next ?? null }
  }

  for (const [url, v2] of [['/ping_person', false], ['/v2/ping_person', true]] as const) {
    const params = v2 ? PingV2Params : PingParams
    const schema = {
      tags: ['bot'], summary: v2 ? 'Send a person into a thread, with placeholders' : 'Send a person into a thread (v1)',
      description: 'The person (UUID or legacy id) enters `thread_name`; a conversation they were in is replaced. Without `is_asynch` the answer waits until the provider took the messages (502 when it refused them).' +
        (v2 ? ' `placeholders` fill `<<KEY>>` in the messages (case-insensitive); a placeholder used but not given answers 400.' : ''),
      querystring: params, body: OptionalBody(params), security, response: { 200: PingResponse, ...errors },
    }
    for (const method of ['GET', 'POST'] as const) {
      app.route({ method, url, schema: method === 'GET' ? withoutBody(schema) : schema, handler: async (req, reply) => reply.send(await ping(req, v2)) })
    }
  }
}
