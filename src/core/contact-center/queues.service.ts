import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ValidationError } from '../errors.ts'
import { parseDuration } from '../scheduling/index.ts'
import { AgentsRepository } from './agents.repository.ts'
import type { Agent, CcSettings, Menu } from './contact-center.types.ts'
import { estimateWait, forecastWait, reportedWait, type WaitEstimate } from './erlang.ts'
import { callbackPeriods, isOpen, WEEKDAYS, type CallbackPeriod, type HoursOfOperation, type Holiday, type WeeklyHours } from './hours.ts'
import { NO_QUEUE_LOAD, type AgentLoad, type ChannelLoad, type QueueLoad } from './queue-load.port.ts'
import { SetupRepository } from './setup.repository.ts'
import { CHANNELS, SYSTEM_STATUSES, type CcChannel, type MenuType } from './setup.schema.ts'

/** A wait as the wire reports it: whole seconds (Q1) and whole minutes (W1), rounded up, capped at a day. */
export interface ReportedWait {
  readonly seconds: number
  readonly minutes: number
}

/** One channel of a queue right now. */
export interface QueueChannelState {
  readonly channel: CcChannel
  /** Sessions waiting on this channel. */
  readonly queued: number
  /** Agents of the queue's teams that could take a session of this channel at once. */
  readonly availableAgents: number
  /** The wait of a session joining now (`estimateWait`), and as reported. */
  readonly estimate: WaitEstimate
  readonly wait: ReportedWait
  /** The wait of a callback booked for later (`forecastWait`, Q1 `scheduled_callback_ewt`). */
  readonly forecast: ReportedWait
  /** `over_capacity.max_queued` reached or `over_capacity.max_wait` exceeded (an unbounded wait exceeds it). */
  readonly overCapacity: boolean
  /** What the QueueLoad port said of this channel (callbacks booked per slot among it). */
  readonly load: ChannelLoad
}

/** A leaf queue right now: hours, redirection, agents, and each channel it serves. */
export interface QueueState {
  readonly menu: Menu
  /** The queue's hours in its zone; null when it declares none (always open). */
  readonly hours: HoursOfOperation | null
  /** The zone the queue's clock runs in: its hours' `time_zone`, else the company's. */
  readonly timeZone: string
  /** Not open now. */
  readonly afterHours: boolean
  /** Manual redirection is switched on: sessions are sent elsewhere by hand. */
  readonly manualRedirection: boolean
  /** Active agents of the queue's teams that are signed in (not Offline), whatever their status. */
  readonly loggedInAgents: number
  /** Of them, those that could take a session of a served (or the asked) channel at once. */
  readonly availableAgents: number
  /**
   * Always 0: the vendor documents the key but not its meaning, and nothing in this contact center
   * lets an agent in an unavailable status be reached anyway.
   */
  readonly breakthroughAgents: number
  /** Active agents of the queue's teams, signed in or not (the callback slots' `max_slots`). */
  readonly teamAgents: number
  /** The channels the queue serves (the asked one only, when one was asked), in CHANNELS order. */
  readonly channels: readonly QueueChannelState[]
}

/** A queue's status for Q1: its state plus the callback slots of each channel. */
export interface QueueStatus extends QueueState {
  /** Callback slots (15 minutes, the queue's wall clock) of the call channel; empty for a chat-only answer. */
  readonly callbackPeriods: readonly CallbackPeriod[]
}

/** W1: which queues, and which waits (minutes, both bounds exclusive). */
export interface WaitTimesQuery {
  readonly lang: string
  /** The subtree of this menu (itself included); the whole tree when left out. */
  readonly menuNum?: number
  readonly menuType?: MenuType
  readonly channel?: CcChannel
  readonly waitMinutes?: { readonly from?: number; readonly to?: number }
}

/** Q1: the leaf queues asked for and the callback window. */
export interface QueueStatusQuery {
  readonly lang: string
  readonly menuNums: readonly number[]
  /** When given, every menu must be of this type. */
  readonly menuType?: MenuType
  readonly channel?: CcChannel
  /** Callback window: from this instant (default now), this many hours. */
  readonly callbackFrom?: Date
  readonly callbackPeriodHours: number
}

/** O1: one leaf queue, one channel. */
export interface OperationStatusQuery {
  readonly lang: string
  readonly menuNum: number
  readonly channel: CcChannel
}

/** What O1 answers. */
export interface OperationStatus {
  readonly menu: Menu
  readonly afterHours: boolean
  readonly overCapacity: boolean
  readonly manualRedirection: boolean
}

/** How far ahead Q1 lists a queue's holidays, in local days from today. */
export const HOLIDAY_DAYS = 30
/** Length of a callback slot (Q1 `callback_periods`). */
export const CALLBACK_SLOT_MINUTES = 15

export interface QueuesServiceDeps {
  db: Kysely<DB>
  /** Live sessions; NO_QUEUE_LOAD (nothing queued, no handle-time history) until `useLoad`. */
  load?: QueueLoad
  /** The clock (tests pin it). */
  now?: () => Date
}

/** The hours of a leaf queue in its zone, or null when it declares none. */
export function queueHours(menu: Menu, companyZone: string): HoursOfOperation | null {
  const h = menu.config.hours
  if (!h) return null
  return {
    timeZone: h.time_zone ?? companyZone,
    weekly: h.weekly.map((w) => ({ day: w.day as WeeklyHours['day'], open: w.open, close: w.close })),
    holidays: (h.holidays ?? []).map((d): Holiday => ({ ...d })),
  }
}

const notFound = (num: number) => new ValidationError('menu_not_found', `menu_id ${num} is not found`, { menuId: num })

/**
 * The live state of the contact center's queues, as the Apps API's wait times (W1), queue status
 * (Q1) and queue operation status (O1) report it: per leaf queue and channel, the agents of its
 * teams signed in and available, the estimated wait (README "Estimated wait times"), whether it is
 * open in its zone, over capacity, or manually redirected. Reads the setup and agents; sessions
 * come through the QueueLoad port.
 */
export class QueuesService {
  readonly #db: Kysely<DB>
  readonly #setup: SetupRepository
  readonly #agents: AgentsRepository
  readonly #now: () => Date
  #load: QueueLoad

  constructor(deps: QueuesServiceDeps) {
    this.#db = deps.db
    this.#setup = new SetupRepository(deps.db)
    this.#agents = new AgentsRepository(deps.db)
    this.#load = deps.load ?? NO_QUEUE_LOAD
    this.#now = deps.now ?? (() => new Date())
  }

  /** Where live sessions come from (set once at wiring, by whoever owns sessions). */
  useLoad(load: QueueLoad): void {
    this.#load = load
  }

  /** The service's clock: request checks ("not in the past") use the same now as the answer. */
  now(): Date {
    return this.#now()
  }

  /** The company zone (settings.time_zone); throws `contact_center_not_set_up` before a setup is loaded. */
  async timeZone(tenantId: TenantId): Promise<string> {
    return (await this.#settings(tenantId)).timeZone
  }

  /**
   * W1: the leaf queues of a subtree (or of the whole tree) serving `lang` (and the channel, and
   * of the menu type, when asked), in id order, with waits within `waitMinutes` on every asked
   * (or served) channel. Throws `contact_center_not_set_up`, `language_not_found` (no queue serves
   * it), `menu_not_found`.
   */
  async waitTimes(tenantId: TenantId, q: WaitTimesQuery): Promise<QueueState[]> {
    const settings = await this.#settings(tenantId)
    const menus = await this.#setup.menus(this.#db, tenantId)
    requireLanguage(menus, q.lang)
    let scope = menus
    if (q.menuNum !== undefined) {
      const root = menus.find((m) => m.num === q.menuNum)
      if (!root) throw notFound(q.menuNum)
      scope = subtree(menus, root)
    }
    const leaves = scope.filter((m) => m.leaf && m.languages.includes(q.lang)
      && (q.menuType === undefined || m.menuType === q.menuType) && (q.channel === undefined || m.channels.includes(q.channel)))
    const states = await this.#states(tenantId, settings, leaves, q.channel)
    const range = q.waitMinutes
    if (!range) return states
    return states.filter((s) => s.channels.every((c) =>
      (range.from === undefined || c.wait.minutes > range.from) && (range.to === undefined || c.wait.minutes < range.to)))
  }

  /**
   * Q1: the asked leaf queues in the order asked (duplicates once), with callback slots from
   * `callbackFrom` (default now) for `callbackPeriodHours`. A queue not serving the asked channel is
   * left out. Throws `contact_center_not_set_up`, `language_not_found`, `menu_not_found` (unknown,
   * deleted, not a leaf, or of another type than asked), `language_not_available` (the queue does
   * not serve `lang`).
   */
  async statuses(tenantId: TenantId, q: QueueStatusQuery): Promise<QueueStatus[]> {
    const settings = await this.#settings(tenantId)
    const menus = await this.#setup.menus(this.#db, tenantId)
    requireLanguage(menus, q.lang)
    const picked: Menu[] = []
    for (const num of new Set(q.menuNums)) {
      const m = menus.find((x) => x.num === num)
      if (!m || !m.leaf || (q.menuType !== undefined && m.menuType !== q.menuType)) throw notFound(num)
      if (!m.languages.includes(q.lang)) throw new ValidationError('language_not_available', `Language '${q.lang}' is not available`, { lang: q.lang })
      if (q.channel === undefined || m.channels.includes(q.channel)) picked.push(m)
    }
    const now = this.#now()
    const from = q.callbackFrom && q.callbackFrom > now ? q.callbackFrom : now
    const states = await this.#states(tenantId, settings, picked, q.channel)
    return states.map((s) => {
      const call = s.channels.find((c) => c.channel === 'call')
      // Callbacks are calls: a queue answered for chat only has no slots to offer.
      const periods = call
        ? callbackPeriods(s.hours ?? alwaysOpen(s.timeZone), {
          from, periodHours: q.callbackPeriodHours, slotMinutes: CALLBACK_SLOT_MINUTES, maxSlots: s.teamAgents,
          scheduled: (slot) => call.load.scheduledCallbacks?.(slot) ?? 0,
        })
        : []
      return { ...s, callbackPeriods: periods }
    })
  }

  /**
   * O1: whether a leaf queue is closed or full on one channel now. Throws
   * `contact_center_not_set_up`, `language_not_found`, `menu_not_found` (unknown, deleted, not a
   * leaf, or not serving the channel), `language_not_available`.
   */
  async operationStatus(tenantId: TenantId, q: OperationStatusQuery): Promise<OperationStatus> {
    const settings = await this.#settings(tenantId)
    const menus = await this.#setup.menus(this.#db, tenantId)
    requireLanguage(menus, q.lang)
    const m = menus.find((x) => x.num === q.menuNum)
    if (!m || !m.leaf || !m.channels.includes(q.channel)) throw notFound(q.menuNum)
    if (!m.languages.includes(q.lang)) throw new ValidationError('language_not_available', `Language '${q.lang}' is not available`, { lang: q.lang })
    const [s] = await this.#states(tenantId, settings, [m], q.channel)
    return { menu: m, afterHours: s!.afterHours, overCapacity: s!.channels[0]!.overCapacity, manualRedirection: s!.manualRedirection }
  }

  /**
   * Every leaf queue (any language, type and channel) now, in id order: the supervisor view's
   * queue list. Throws `contact_center_not_set_up`.
   */
  async current(tenantId: TenantId): Promise<QueueState[]> {
    const settings = await this.#settings(tenantId)
    const menus = await this.#setup.menus(this.#db, tenantId)
    return this.#states(tenantId, settings, menus.filter((m) => m.leaf))
  }

  async #settings(tenantId: TenantId): Promise<Pick<CcSettings, 'timeZone'>> {
    const s = await this.#setup.settings(this.#db, tenantId)
    if (!s) throw new ValidationError('contact_center_not_set_up', 'Contact center is not set up')
    return s
  }

  /** The state of `leaves` now, in their order; `channel` narrows each to that channel. */
  async #states(tenantId: TenantId, settings: Pick<CcSettings, 'timeZone'>, leaves: readonly Menu[], channel?: CcChannel): Promise<QueueState[]> {
    if (leaves.length === 0) return []
    const now = this.#now()
    const agents = (await this.#agents.list(this.#db, tenantId, { kind: 'all' })).filter((a) => a.deactivatedAt === null)
    const [queueLoads, agentLoads] = await Promise.all([
      this.#load.load(tenantId, leaves.map((m) => m.id)),
      this.#load.agents(tenantId, agents.filter(signedIn).map((a) => a.id)),
    ])
    return leaves.map((menu) => {
      const hours = queueHours(menu, settings.timeZone)
      const teams = new Set(menu.teamNums)
      const members = agents.filter((a) => a.teams.some((t) => teams.has(t.num)))
      const online = members.filter(signedIn)
      const served = CHANNELS.filter((c) => menu.channels.includes(c) && (channel === undefined || c === channel))
      const availableIds = new Set<string>()
      const states = served.map((c): QueueChannelState => {
        const load = queueLoads.get(menu.id)?.[c] ?? { queued: 0, ahtSeconds: null }
        const free = online.map((a) => ({ a, slots: freeSlots(a, c, agentLoads.get(a.id)) })).filter((x) => x.slots > 0)
        for (const x of free) availableIds.add(x.a.id)
        // A chat agent serves as many sessions as its capacity: count slots, one session each.
        const servers = c === 'chat' ? online.reduce((n, a) => n + a.chatCapacity, 0) : online.length
        const estimate = estimateWait({ queued: load.queued, loggedIn: servers, freeSlots: free.reduce((n, x) => n + x.slots, 0), capacityPerAgent: 1, ahtSeconds: load.ahtSeconds })
        const forecast = forecastWait({ arrivalsPerHour: load.arrivalsPerHour ?? 0, servers, ahtSeconds: load.ahtSeconds })
        return { channel: c, queued: load.queued, availableAgents: free.length, estimate, wait: reportedWait(estimate), forecast: reportedWait(forecast), overCapacity: overCapacity(menu, load.queued, estimate), load }
      })
      return {
        menu, hours, timeZone: hours?.timeZone ?? settings.timeZone, afterHours: hours !== null && !isOpen(hours, now),
        manualRedirection: menu.config.manual_redirection?.enabled === true,
        loggedInAgents: online.length, availableAgents: availableIds.size, breakthroughAgents: 0, teamAgents: members.length, channels: states,
      }
    })
  }
}

const signedIn = (a: Agent) => a.status.name !== SYSTEM_STATUSES.offline

/**
 * How many sessions of `channel` the agent could be offered now: none unless it takes offers (it
 * chose an available status and is not being logged out); a call needs an agent with no session at
 * all, a chat one with chat capacity left and no call.
 */
function freeSlots(a: Agent, channel: CcChannel, load: AgentLoad | undefined): number {
  const takes = load?.takesOffers ?? a.status.kind === 'available'
  if (!takes || a.logoutPending) return 0
  const chats = load?.chats ?? 0
  const calls = load?.calls ?? 0
  if (channel === 'call') return chats === 0 && calls === 0 ? 1 : 0
  return calls === 0 ? Math.max(0, a.chatCapacity - chats) : 0
}

function overCapacity(menu: Menu, queued: number, estimate: WaitEstimate): boolean {
  const oc = menu.config.over_capacity
  if (!oc) return false
  if (oc.max_queued !== undefined && queued >= oc.max_queued) return true
  if (oc.max_wait !== undefined) {
    const limitMs = parseDuration(oc.max_wait)
    if (limitMs !== undefined && (estimate.seconds === null || estimate.seconds * 1000 > limitMs)) return true
  }
  return false
}

function requireLanguage(menus: readonly Menu[], lang: string): void {
  if (!menus.some((m) => m.leaf && m.languages.includes(lang))) throw new ValidationError('language_not_found', `Language '${lang}' is not found`, { lang })
}

/** `root` and every menu under it, in the order of `menus`. */
function subtree(menus: readonly Menu[], root: Menu): Menu[] {
  const inside = new Set([root.num])
  // Menus come in id order and a child may have a smaller id than its parent (a reload): repeat until stable.
  for (let grew = true; grew;) {
    grew = false
    for (const m of menus) {
      if (m.parentNum !== null && inside.has(m.parentNum) && !inside.has(m.num)) {
        inside.add(m.num)
        grew = true
      }
    }
  }
  return menus.filter((m) => inside.has(m.num))
}

/** The hours of a queue that declares none: every day 00:00–24:00 in `timeZone`. */
export function alwaysOpen(timeZone: string): HoursOfOperation {
  return { timeZone, weekly: WEEKDAYS.map((day) => ({ day, open: '00:00', close: '24:00' })), holidays: [] }
}
