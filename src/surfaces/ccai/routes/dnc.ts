import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { dncPhoneOf, isEmergencyNumber, type DncEntryInput } from '../../../core/suppression/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { listParam, type Query } from '../params.ts'
import { formatDncTime } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['do not call']
/** Items one request may carry (the spec is silent; a bound keeps one request one short transaction). */
export const MAX_DNC_ITEMS = 1000
/** What D1 writes as the entry's source on the suppression list. */
const SOURCE = 'apps-api-dnc'

const DncAddBody = Type.Object({
  contacts: Type.Optional(Type.Unknown({ description: `Array (1-${MAX_DNC_ITEMS}) of {"phone_number": "+1 415-555-0100", "expires_at": "2030-10-29 00:00:00 UTC"}; without expires_at the entry is permanent` })),
}, { additionalProperties: true })
// Every key optional in the schema so that the serializer keeps the documented key order
// (phone_number, expires_at, status, error); phone_number and status are always there.
const DncAddResult = Type.Object({
  phone_number: Type.Optional(Type.Unknown({ description: 'As sent (always present; null when the item had none)' })),
  expires_at: Type.Optional(Type.Unknown({ description: 'As sent; absent when not sent' })),
  status: Type.Optional(Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('failed')], { description: 'Always present' })),
  error: Type.Optional(Type.String({ description: 'Only when failed' })),
})
const DncRemoveBody = Type.Object({
  phone_numbers: Type.Optional(Type.Unknown({ description: `Array (1-${MAX_DNC_ITEMS}) of phone numbers; one string is taken as one` })),
}, { additionalProperties: true })
const DncRemoveQuery = Type.Object({
  'phone_numbers[]': Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'DELETE only, when the client sends no body' })),
}, { additionalProperties: true })
const DncRemoveResult = Type.Object({
  phone_number: Type.Unknown({ description: 'As sent' }),
  status: Type.Union([Type.Literal('removed'), Type.Literal('failed')]),
  error: Type.Optional(Type.String({ description: 'Only when failed' })),
})
const DncCheckQuery = Type.Object({
  phone_number: Type.Optional(Type.String({ description: 'The number, with its country code' })),
}, { additionalProperties: true })
const DncCheck = Type.Object({
  phone_number: Type.String({ description: 'As sent' }),
  dnc: Type.Boolean(),
  expires_at: Type.Union([Type.String({ description: '"YYYY-MM-DD HH:MM:SS UTC"' }), Type.Null()], { description: 'null: permanent, or not listed' }),
})

/** §1.8 (see dncPhoneOf); a JSON number is taken as its digits; undefined when it is no phone. */
function phoneOf(raw: unknown): string | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined
  return String(raw).length > 40 ? undefined : dncPhoneOf(String(raw))
}

const DNC_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC$/
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/

/**
 * `expires_at` as the DNC endpoints write it (§1.7: "2022-10-29 00:00:00 UTC"), or ISO 8601 with a
 * zone; undefined when it is neither or names no real time (February 30th).
 */
export function dncTimeOf(raw: unknown): Date | undefined {
  if (typeof raw !== 'string') return undefined
  const m = DNC_TIME.exec(raw.trim())
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
    const same = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi
    return same && s < 60 ? date : undefined
  }
  if (!ISO_WITH_ZONE.test(raw.trim())) return undefined
  const date = new Date(raw.trim())
  return Number.isNaN(date.getTime()) ? undefined : date
}

/** One D1 item checked in the documented order: the number, then its expiry. A failure is the item's error text. */
function checkItem(item: unknown): DncEntryInput | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'phone_number is invalid'
  const { phone_number: phone, expires_at: expires } = item as Record<string, unknown>
  if ((typeof phone === 'string' || typeof phone === 'number') && isEmergencyNumber(String(phone))) return 'emergency phone number is not allowed'
  const e164 = phoneOf(phone)
  if (!e164) return 'phone_number is invalid'
  if (expires === undefined || expires === null) return { phone: e164, expiresAt: null }
  const at = dncTimeOf(expires)
  if (!at) return 'expires_at is invalid'
  if (at.getTime() <= Date.now()) return 'expires_at cannot be past date/time'
  return { phone: e164, expiresAt: at }
}

/** The items of a required array parameter: missing, null or empty is Rails' missing parameter. */
function itemsOf(raw: unknown, name: string, opts: { scalar: boolean }): unknown[] {
  if (raw === undefined || raw === null || raw === '' || (Array.isArray(raw) && raw.length === 0)) throw paramMissing(name)
  const items = Array.isArray(raw) ? raw : opts.scalar && typeof raw === 'string' ? [raw] : undefined
  if (!items) throw new CcaiError(400, `${name} is invalid`)
  if (items.length > MAX_DNC_ITEMS) throw new CcaiError(400, `${name} must not have more than ${MAX_DNC_ITEMS} items`)
  return items
}

/**
 * D1–D3 (§2.9) and the DELETE alias of D2 (§2.16): the company Do-Not-Call list, which is the one
 * suppression list (entries of scope `all`, reason `dnc`). Per-item failures are not HTTP errors
 * (§1.5): 200 with each item's status, the input echoed as sent.
 */
export async function dncRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { dnc } = services

  app.post('/outbound_dialer/dnc', {
    schema: {
      tags, summary: 'Add numbers to the company DNC list',
      description: 'Adds each of `contacts` (or changes the expiry of a number listed already: `updated`), in order. A listed number is not called, texted (bot, SMS sessions, care-team SMS) or messaged on any channel until it is removed or its `expires_at` passes. '
        + '200 with one result per item, `phone_number` and `expires_at` as sent; a refused item is `failed` with its `error` ("phone_number is invalid", "emergency phone number is not allowed", "expires_at is invalid", "expires_at cannot be past date/time") and the others are still written.',
      body: DncAddBody, response: { 200: Type.Array(DncAddResult), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const items = itemsOf((req.body as Record<string, unknown>).contacts, 'contacts', { scalar: false })
    const checked = items.map(checkItem)
    const valid = checked.filter((c): c is DncEntryInput => typeof c !== 'string')
    const outcomes = await dnc.add(tenantOf(req), valid, { source: SOURCE })
    let next = 0
    return items.map((item, i) => {
      const fields = typeof item === 'object' && item !== null && !Array.isArray(item) ? item as Record<string, unknown> : {}
      const echo = { phone_number: fields.phone_number ?? null, ...(Object.hasOwn(fields, 'expires_at') ? { expires_at: fields.expires_at } : {}) }
      const c = checked[i]!
      return typeof c === 'string' ? { ...echo, status: 'failed' as const, error: c } : { ...echo, status: outcomes[next++]! }
    })
  })

  const remove = async (raw: unknown, req: FastifyRequest) => {
    const items = itemsOf(raw, 'phone_numbers', { scalar: true })
    const phones = items.map(phoneOf)
    const removed = await dnc.remove(tenantOf(req), phones.filter((p): p is string => p !== undefined))
    let next = 0
    return items.map((item, i) => {
      const echo = { phone_number: item ?? null }
      if (phones[i] === undefined) return { ...echo, status: 'failed' as const, error: 'phone_number is invalid' }
      return removed[next++] ? { ...echo, status: 'removed' as const } : { ...echo, status: 'failed' as const, error: 'phone_number is not found' }
    })
  }
  const removeSchema = (summary: string) => ({
    tags, summary,
    description: 'Removes each of `phone_numbers` from the company DNC list, in order: `removed`, or `failed` with "phone_number is not found" (not listed, expired, or only opted out by the person’s own STOP reply, which only their START lifts) or "phone_number is invalid". 200 with one result per item, `phone_number` as sent.',
    body: DncRemoveBody, response: { 200: Type.Array(DncRemoveResult), 400: Message, ...COMMON_ERRORS },
  })
  app.post('/outbound_dialer/dnc/remove', { schema: removeSchema('Remove numbers from the company DNC list') },
    async (req) => remove((req.body as Record<string, unknown>).phone_numbers, req))
  // The alias takes the same JSON body, or `phone_numbers[]` in the query from a client that sends
  // DELETE without a body (so no body schema here: an absent body is not a refusal).
  const { body: _body, ...aliasSchema } = removeSchema('Remove numbers from the company DNC list (alias of POST)')
  app.delete('/outbound_dialer/dnc/remove', { schema: { ...aliasSchema, querystring: DncRemoveQuery } },
    async (req) => {
      const body = (req.body ?? {}) as Record<string, unknown>
      const raw = body.phone_numbers ?? listParam(req.query as Query, 'phone_numbers')
      return remove(raw, req)
    })

  app.get('/outbound_dialer/dnc/check', {
    schema: {
      tags, summary: 'Is a number on the company DNC list',
      description: '`dnc: true` while a live entry reaches the number: one added here, by the admin API, or the person’s own STOP reply by SMS or WhatsApp; `expires_at` is when the last of them lapses (null: permanent). `dnc: false, expires_at: null` otherwise. `phone_number` as sent.',
      querystring: DncCheckQuery, response: { 200: DncCheck, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const raw = req.query.phone_number
    if (raw === undefined || raw.trim() === '') throw paramMissing('phone_number')
    const phone = phoneOf(raw)
    if (!phone) throw new CcaiError(400, 'phone_number is invalid')
    const listed = await dnc.check(tenantOf(req), phone)
    return { phone_number: raw, dnc: listed !== undefined, expires_at: listed?.expiresAt ? formatDncTime(listed.expiresAt) : null }
  })
}
