import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import {
  alwaysOpen, hoursOfOperation, holidaysFrom, HOLIDAY_DAYS, MENU_TYPES,
  type CcChannel, type MenuType, type OperationStatus, type QueueState, type QueueStatus,
} from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { zonedTimeToUtc } from '../../../lib/timezone.ts'
import type { Services } from '../../../services.ts'
import { CcaiError } from '../errors.ts'
import { listParam, rangeParam, toId, type Query } from '../params.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['queues']
/** Q1 `callback_period_hours`: default and most. */
const DEFAULT_CALLBACK_HOURS = 4
const MAX_CALLBACK_HOURS = 8
/** Q1 `callback_start_from`: how far ahead, and the grace for a "now" the client rounded down to the minute. */
const MAX_CALLBACK_AHEAD_MS = 24 * 3_600_000
const PAST_GRACE_MS = 60_000

const bad = (text: string) => new CcaiError(400, text)

/** The first value of a query parameter (a repeated one counts once), trimmed; undefined when absent or blank. */
function scalar(query: Query, name: string): string | undefined {
  const raw = query[name]
  const v = Array.isArray(raw) ? raw[0] : raw
  if (v === undefined || v === null) return undefined
  const text = String(v).trim()
  return text === '' ? undefined : text
}

function langParam(query: Query): string {
  return scalar(query, 'lang') ?? (() => { throw bad('lang is required') })()
}

function menuTypeParam(query: Query): MenuType | undefined {
  const v = scalar(query, 'menu_type')
  if (v === undefined) return undefined
  if (!(Object.values(MENU_TYPES) as string[]).includes(v)) throw bad('menu_type must be ivr_menu, mobile_menu or web_menu')
  return v as MenuType
}

/**
 * `channel_type`: W1 names the channels `voice_call`/`chat`, Q1 and O1 `call`/`chat` (§5 #16);
 * each accepts the other's word for calls, and its refusal names its own words.
 */
function channelParam(query: Query, words: 'voice_call' | 'call'): CcChannel | undefined {
  const v = scalar(query, 'channel_type')
  if (v === undefined) return undefined
  if (v === 'chat') return 'chat'
  if (v === 'call' || v === 'voice_call') return 'call'
  throw bad(`channel_type must be ${words} or chat`)
}

const positiveInt = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,9}$/.test(text) && Number(text) > 0 ? Number(text) : undefined)

function menuIdParam(raw: string): number {
  return toId(raw) ?? (() => { throw bad('menu_id is not well formed') })()
}

/**
 * `callback_start_from`: ISO 8601; with `Z` or an offset an instant, without one a wall-clock time
 * in the company's zone (§1.7, "queue/company timezone"). Undefined when it does not parse.
 */
function parseStart(text: string, zone: () => Promise<string>): Promise<Date | undefined> | Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text)
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
  const probe = new Date(Date.UTC(year, month - 1, day))
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined
  if (m[7] !== undefined) {
    const at = new Date(text)
    return Number.isNaN(at.getTime()) ? undefined : at
  }
  return zone().then((z) => new Date(zonedTimeToUtc({ year, month, day, hour, minute }, z).getTime() + second * 1000))
}

const compactDate = (iso: string) => iso.replaceAll('-', '')

/** A WaitTime (§3.14): waits in whole minutes; null for a channel the queue does not serve (or was not asked). */
export function presentWaitTime(s: QueueState) {
  const minutes = (c: CcChannel) => s.channels.find((x) => x.channel === c)?.wait.minutes ?? null
  return {
    menu_id: s.menu.num,
    menu_type: s.menu.menuType,
    chat: minutes('chat'),
    voice_call: minutes('call'),
    materialized_path: s.menu.path,
    logged_in_agents: s.loggedInAgents,
    available_agents: s.availableAgents,
    breakthrough_agents: s.breakthroughAgents,
  }
}

/** The QueueStatus elements (§3.14) of one queue: one per channel answered, waits in whole seconds. */
export function presentQueueStatus(s: QueueStatus, lang: string, now: Date) {
  const hours = s.hours ?? alwaysOpen(s.timeZone)
  return s.channels.map((c) => ({
    menu_id: s.menu.num,
    menu_type: s.menu.menuType,
    lang,
    channel_type: c.channel,
    materialized_path: s.menu.path,
    current_queue_ewt: c.wait.seconds,
    scheduled_callback_ewt: c.forecast.seconds,
    calls_in_queue: c.queued,
    logged_in_agents: s.loggedInAgents,
    available_agents: c.availableAgents,
    breakthrough_agents: s.breakthroughAgents,
    callback_periods: c.channel === 'call'
      ? s.callbackPeriods.map((p) => ({ date: p.date, start_time: p.startTime, end_time: p.endTime, scheduled_calls: p.scheduledCalls, max_slots: p.maxSlots }))
      : [],
    time_zone: s.timeZone,
    hours_of_operation: hoursOfOperation(hours),
    holidays: holidaysFrom(hours, now, HOLIDAY_DAYS).map((h) => ({ date: compactDate(h.date), name: h.name, open: h.open ?? null, close: h.close ?? null })),
    after_hours: s.afterHours,
    overcapacity: c.overCapacity,
    manual_redirection: s.manualRedirection,
  }))
}

/** A QueueOperationStatus (§3.14): `after_hour` (the example's key) and `after_hours` (the prose's) alike. */
export function presentOperationStatus(o: OperationStatus, lang: string, channel: CcChannel) {
  return { menu_id: o.menu.num, lang, channel_type: channel, after_hour: o.afterHours, after_hours: o.afterHours, overcapacity: o.overCapacity, manual_redirection: o.manualRedirection }
}

const Int = Type.Integer()
const NullableInt = Type.Union([Type.Integer(), Type.Null()])
const List = (description: string) => Type.Union([Type.String(), Type.Array(Type.String())], { description })
const Opt = <T extends TSchema>(t: T) => Type.Optional(t)

const WaitTime = Type.Object({
  menu_id: Int, menu_type: Type.String(), chat: NullableInt, voice_call: NullableInt, materialized_path: Type.String(),
  logged_in_agents: Int, available_agents: Int, breakthrough_agents: Int,
}, { description: 'WaitTime (§3.14): `chat`/`voice_call` in whole minutes (rounded up, at most 1440; 1440 also when nobody is signed in); null for a channel the queue does not serve or that was not asked' })

const QueueStatusOut = Type.Object({
  menu_id: Int, menu_type: Type.String(), lang: Type.String(), channel_type: Type.String(), materialized_path: Type.String(),
  current_queue_ewt: Int, scheduled_callback_ewt: Int, calls_in_queue: Int, logged_in_agents: Int, available_agents: Int, breakthrough_agents: Int,
  callback_periods: Type.Array(Type.Object({ date: Type.String(), start_time: Type.String(), end_time: Type.String(), scheduled_calls: Int, max_slots: Int })),
  time_zone: Type.String(),
  hours_of_operation: Type.Array(Type.Object({ day: Type.String(), open: Type.String(), close: Type.String() })),
  holidays: Type.Array(Type.Object({ date: Type.String(), name: Type.String(), open: Type.Union([Type.String(), Type.Null()]), close: Type.Union([Type.String(), Type.Null()]) })),
  after_hours: Type.Boolean(), overcapacity: Type.Boolean(), manual_redirection: Type.Boolean(),
}, { description: 'QueueStatus (§3.14), one per queue and channel: waits in whole seconds' })

const OperationStatusOut = Type.Object({
  menu_id: Int, lang: Type.String(), channel_type: Type.String(), after_hour: Type.Boolean(), after_hours: Type.Boolean(),
  overcapacity: Type.Boolean(), manual_redirection: Type.Boolean(),
})

/** W1 wait times, Q1 queue status, O1 queue operation status (§2.3, §2.10, §2.13). */
export async function queueRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { queues } = services

  app.get('/wait_times', {
    schema: {
      tags, summary: 'Estimated wait times',
      description: 'Per leaf queue serving `lang`: the estimated wait of a session joining now, in minutes, and the agents of its teams signed in and available. `menu_id` narrows to that menu and everything under it; `menu_type`, `channel_type` (`voice_call` or `chat`) and `wait[from]`/`wait[to]` (minutes, exclusive, on every asked or served channel) filter.',
      querystring: Type.Object({
        lang: Opt(Type.String({ description: 'Queue language (required)' })), menu_id: Opt(Type.String()), menu_type: Opt(Type.String()),
        channel_type: Opt(Type.String()), 'wait[from]': Opt(Type.String()), 'wait[to]': Opt(Type.String()),
      }, { additionalProperties: true }),
      response: { 200: Type.Array(WaitTime), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const query = req.query as Query
    const menuRaw = scalar(query, 'menu_id')
    const menuNum = menuRaw === undefined ? undefined : menuIdParam(menuRaw)
    const lang = langParam(query)
    const menuType = menuTypeParam(query)
    const channel = channelParam(query, 'voice_call')
    const range = rangeParam(query, 'wait')
    const bound = (side: 'from' | 'to') => {
      const raw = range?.[side]
      if (raw === undefined) return undefined
      return positiveInt(raw.trim()) ?? (() => { throw bad(`wait[${side}] must be a positive integer`) })()
    }
    const from = bound('from')
    const to = bound('to')
    const states = await queues.waitTimes(tenantOf(req).id, {
      lang, ...(menuNum !== undefined ? { menuNum } : {}), ...(menuType ? { menuType } : {}), ...(channel ? { channel } : {}),
      ...(range ? { waitMinutes: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } } : {}),
    })
    return states.map(presentWaitTime)
  })

  app.get('/queues/status', {
    schema: {
      tags, summary: 'Queue status',
      description: 'Leaf queues (`menu_id[]`, or one bare `menu_id`) in the order asked: estimated waits in seconds, agents, calls in queue, 15-minute callback slots from `callback_start_from` (default now; not in the past, at most 24 h ahead; without an offset a time of the company’s zone) for `callback_period_hours` (1–8, default 4), weekly hours and the holidays of the next 30 days in the queue’s zone, after-hours and over-capacity. One element per queue and channel (`channel_type`); `channel_type` (`call` or `chat`) answers that channel only.',
      querystring: Type.Object({
        lang: Opt(Type.String({ description: 'Queue language (required)' })), 'menu_id[]': Opt(List('Leaf queue ids (required)')), menu_id: Opt(List('One leaf queue id (seed form)')),
        menu_type: Opt(Type.String({ description: 'ivr_menu, mobile_menu or web_menu; derived from the menu when left out' })), channel_type: Opt(Type.String()),
        callback_period_hours: Opt(Type.String()), callback_start_from: Opt(Type.String({ description: 'ISO 8601' })),
      }, { additionalProperties: true }),
      response: { 200: Type.Object({ queues: Type.Array(QueueStatusOut) }), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const query = req.query as Query
    const tenant = tenantOf(req)
    const ids = (listParam(query, 'menu_id') ?? []).map((v) => v.trim()).filter((v) => v !== '')
    if (ids.length === 0) throw bad('menu_id is required')
    const menuNums = ids.map(menuIdParam)
    const lang = langParam(query)
    const menuType = menuTypeParam(query)
    const channel = channelParam(query, 'call')
    const hoursRaw = scalar(query, 'callback_period_hours')
    let callbackPeriodHours = DEFAULT_CALLBACK_HOURS
    if (hoursRaw !== undefined) {
      callbackPeriodHours = positiveInt(hoursRaw) ?? (() => { throw bad('callback_period_hours must be a positive integer') })()
      if (callbackPeriodHours > MAX_CALLBACK_HOURS) throw bad('callback_period_hours must be less than or equal to 8')
    }
    const startRaw = scalar(query, 'callback_start_from')
    let callbackFrom: Date | undefined
    if (startRaw !== undefined) {
      callbackFrom = (await parseStart(startRaw, () => queues.timeZone(tenant.id))) ?? (() => { throw bad('callback_start_from is invalid') })()
      const now = queues.now().getTime()
      if (callbackFrom.getTime() + PAST_GRACE_MS <= now) throw bad('callback_start_from must not be in the past')
      if (callbackFrom.getTime() > now + MAX_CALLBACK_AHEAD_MS) throw bad('callback_start_from must be within 24 hours')
    }
    const statuses = await queues.statuses(tenant.id, {
      lang, menuNums, ...(menuType ? { menuType } : {}), ...(channel ? { channel } : {}), ...(callbackFrom ? { callbackFrom } : {}), callbackPeriodHours,
    })
    const now = queues.now()
    return { queues: statuses.flatMap((s) => presentQueueStatus(s, lang, now)) }
  })

  app.get('/queue_operation_statuses', {
    schema: {
      tags, summary: 'Queue operation status',
      description: 'Whether a leaf queue is after hours or over capacity on one channel now, before deflecting a session to it. `after_hour` and `after_hours` carry the same value.',
      querystring: Type.Object({
        menu_id: Opt(Type.String({ description: 'Leaf queue id (required)' })), lang: Opt(Type.String({ description: 'Queue language (required)' })),
        channel_type: Opt(Type.String({ description: 'call or chat (required)' })),
      }, { additionalProperties: true }),
      response: { 200: OperationStatusOut, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const query = req.query as Query
    const menuRaw = scalar(query, 'menu_id')
    if (menuRaw === undefined) throw bad('menu_id is required')
    const menuNum = menuIdParam(menuRaw)
    const lang = langParam(query)
    const channel = channelParam(query, 'call') ?? (() => { throw bad('channel_type must be call or chat') })()
    const status = await queues.operationStatus(tenantOf(req).id, { lang, menuNum, channel })
    return presentOperationStatus(status, lang, channel)
  })
}

