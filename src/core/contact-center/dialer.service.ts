/**
 * The campaign dialer (issue 12, item 5): one runner per campaign, a self-rescheduling job whose
 * round number is both its idempotency key and the campaign's `cc_dialer_state.round`, so however
 * many worker processes run and however often it is started, one chain of rounds runs. Each round
 * (one transaction, the state row locked) puts due redials back to Upcoming, reads the campaign's
 * pacing state (idle agents of its queue, lines ringing, the last hour's dials), asks `linesToDial`
 * how many to dial and dials that many Upcoming contacts — each checked against the DNC list and
 * its calling hours first — through the calls domain. The calls then drive the contacts (§4.3)
 * through `dialer-calls.ts`.
 */
import { Type } from 'typebox'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { phoneTimeZones } from '../../lib/phone.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import type { DncService } from '../suppression/index.ts'
import { transition, type ContactStatus } from './campaign-contact.machine.ts'
import { idleAgentCount, waitingDialerCalls } from './dialer-calls.ts'
import { contactZones, linesToDial, withinCallingHours, type DialMode } from './dialer.ts'
import type { WeeklyHours } from './hours.ts'
import { nextNums, SetupRepository } from './setup.repository.ts'

/** Payload of `cc.dialer_round`: one round of one campaign's runner. */
export const DialerRoundPayload = Type.Object({ tenantId: TenantIdSchema, campaignId: Type.String({ format: 'uuid' }), round: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
export const DIALER_ROUND_JOB = { name: 'cc.dialer_round', payload: DialerRoundPayload } as const satisfies JobType
/** Payload of `cc.dialer_sweep` (every minute): restarts the runner of any campaign with work and none running. */
export const DIALER_SWEEP_JOB = { name: 'cc.dialer_sweep', payload: Type.Object({}, { additionalProperties: false }) } as const satisfies JobType

/** What the dialer needs of the calls domain: placing a call to a contact (in the round's transaction). */
export interface DialerCallsPort {
  createDialerCall(trx: Transaction<DB>, tenantId: TenantId, input: {
    campaignId: string; contactId: string; menuId: string; phone: string; callerId: string; contactData: Record<string, unknown>; num: number; participantNum: number
  }): Promise<number>
}

export interface DialerOptions {
  /** Milliseconds between rounds while a campaign has contacts to dial or calls up (default 1000). */
  readonly roundMs?: number
  /** Abandon-rate ceiling of predictive pacing (default 0.03). */
  readonly maxAbandonRate?: number
  /** How long a contact outside its calling hours is left before it is looked at again (default 10 min). */
  readonly closedRecheckMs?: number
}

/** A runner whose state row was not touched for this long is taken as dead and started again. */
const STALE_MS = 120_000
/** Longest wait between two rounds while contacts wait (a redial, calling hours). */
const MAX_IDLE_ROUND_MS = 60_000
/** The window of the pacing's counters. */
const WINDOW_MS = 3_600_000
const LIVE = ['Dialing', 'Queued', 'Connected']

export class DialerService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #dnc: Pick<DncService, 'listed'>
  readonly #calls: () => DialerCallsPort
  readonly #setup: SetupRepository
  readonly #roundMs: number
  readonly #maxAbandonRate: number
  readonly #closedRecheckMs: number

  constructor(deps: { db: Kysely<DB>; jobs: JobQueue; dnc: Pick<DncService, 'listed'>; calls: () => DialerCallsPort; options?: DialerOptions }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#dnc = deps.dnc
    this.#calls = deps.calls
    this.#setup = new SetupRepository(deps.db)
    this.#roundMs = deps.options?.roundMs ?? 1000
    this.#maxAbandonRate = deps.options?.maxAbandonRate ?? 0.03
    this.#closedRecheckMs = deps.options?.closedRecheckMs ?? 600_000
  }

  /** Start the campaign's runner unless one is running (contacts were added; the sweep). */
  async ensure(tenantId: TenantId, campaignId: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('cc_dialer_state').values({ tenant_id: tenantId, campaign_id: campaignId }).onConflict((oc) => oc.columns(['tenant_id', 'campaign_id']).doNothing()).execute()
      const started = await trx.updateTable('cc_dialer_state').set((eb) => ({ active: true, round: eb('round', '+', 1), updated_at: new Date() }))
        .where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId)
        .where((eb) => eb.or([eb('active', '=', false), eb('updated_at', '<', new Date(Date.now() - STALE_MS))]))
        .returning('round').executeTakeFirst()
      if (!started) return false
      await this.#enqueue(trx, tenantId, campaignId, started.round, new Date())
      return true
    })
  }

  /** Every minute: start the runner of each campaign with contacts to dial and none running. */
  async sweep(): Promise<number> {
    const rows = await this.#db.selectFrom('cc_campaigns as c').select(['c.tenant_id', 'c.id']).where('c.deleted', '=', false)
      .where((eb) => eb.exists(eb.selectFrom('cc_campaign_contacts as k').select('k.id').whereRef('k.tenant_id', '=', 'c.tenant_id').whereRef('k.campaign_id', '=', 'c.id')
        .where('k.status', 'in', ['Upcoming', 'Redial Scheduled'])))
      .execute()
    let started = 0
    for (const r of rows) if (await this.ensure(r.tenant_id, r.id)) started++
    return started
  }

  /** One round of a campaign's runner; a round that is not the campaign's current one does nothing. */
  async round(tenantId: TenantId, campaignId: string, round: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const state = await trx.selectFrom('cc_dialer_state').select(['round', 'active']).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).forUpdate().executeTakeFirst()
      if (!state || !state.active || state.round !== round) return
      const next = await this.#dialRound(trx, tenantId, campaignId)
      if (next === undefined) {
        await trx.updateTable('cc_dialer_state').set({ active: false, updated_at: new Date() }).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).execute()
        return
      }
      await trx.updateTable('cc_dialer_state').set({ round: round + 1, updated_at: new Date() }).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).execute()
      await this.#enqueue(trx, tenantId, campaignId, round + 1, next)
    })
  }

  /** Dial what the pacing allows; answers when the next round is due, or undefined when the campaign has nothing left. */
  async #dialRound(trx: Transaction<DB>, tenantId: TenantId, campaignId: string): Promise<Date | undefined> {
    const now = new Date()
    const campaign = await trx.selectFrom('cc_campaigns').select(['id', 'num', 'name', 'caller_id', 'menu_id', 'mode', 'pacing_ratio', 'calling_hours', 'deleted'])
      .where('tenant_id', '=', tenantId).where('id', '=', campaignId).executeTakeFirst()
    if (!campaign || campaign.deleted) return undefined
    const contacts = trx.updateTable('cc_campaign_contacts').where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId)
    // Redials that are due: back to Upcoming (§4.3).
    await contacts.set({ status: transition('Redial Scheduled', { type: 'redial_due' })!, dial_after: null, updated_at: now })
      .where('status', '=', 'Redial Scheduled').where('dial_after', '<=', now).execute()
    const calls = await trx.selectFrom('cc_dialer_calls').select((eb) => [
      eb.fn.count<string>(eb.case().when(eb.and([eb('answered_at', 'is', null), eb('ended_at', 'is', null)])).then(1).end()).as('in_flight'),
      eb.fn.count<string>(eb.case().when('ended_at', 'is', null).then(1).end()).as('live'),
      eb.fn.count<string>(eb.case().when(eb.or([eb('answered_at', 'is not', null), eb('ended_at', 'is not', null)])).then(1).end()).as('completed'),
      eb.fn.count<string>('answered_at').as('answered'),
      eb.fn.count<string>(eb.case().when('outcome', '=', 'Abandoned by Dialer').then(1).end()).as('abandoned'),
    ]).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).where('created_at', '>', new Date(now.getTime() - WINDOW_MS)).executeTakeFirstOrThrow()
    const idle = Math.max(0, (await idleAgentCount(trx, tenantId, campaign.menu_id)) - (await waitingDialerCalls(trx, tenantId, campaign.menu_id)))
    const lines = linesToDial({
      mode: campaign.mode as DialMode, idleAgents: idle, inFlight: Number(calls.in_flight), pacingRatio: campaign.pacing_ratio, maxAbandonRate: this.#maxAbandonRate,
      dialsCompleted: Number(calls.completed), answered: Number(calls.answered), abandoned: Number(calls.abandoned),
    })
    if (lines > 0) await this.#dial(trx, tenantId, campaign, lines, now)
    // When to look again: soon while calls are up or contacts can be dialled now; at the next due
    // redial or calling-hours check otherwise (at most a minute); never when nothing is left.
    const live = Number(calls.live) > 0 || lines > 0
    const waiting = await trx.selectFrom('cc_campaign_contacts').select((eb) => [
      eb.fn.count<string>(eb.case().when(eb.or([eb('dial_after', 'is', null), eb('dial_after', '<=', now)])).then(1).end()).as('now'),
      eb.fn.min('dial_after').as('next'),
    ]).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).where('status', 'in', ['Upcoming', 'Redial Scheduled', ...LIVE]).executeTakeFirstOrThrow()
    const anyLeft = waiting.next !== null || Number(waiting.now) > 0
    if (live || Number(waiting.now) > 0) return new Date(now.getTime() + this.#roundMs)
    if (!anyLeft) return undefined
    const at = new Date(waiting.next as Date | string).getTime()
    return new Date(Math.min(Math.max(at, now.getTime() + this.#roundMs), now.getTime() + MAX_IDLE_ROUND_MS))
  }

  /** Dial up to `lines` Upcoming contacts, in priority then id order, skipping those on the DNC list (→ Do Not Call) and those outside calling hours. */
  async #dial(trx: Transaction<DB>, tenantId: TenantId, campaign: { id: string; num: number; name: string; caller_id: string; menu_id: string; calling_hours: unknown }, lines: number, now: Date): Promise<void> {
    const candidates = await trx.selectFrom('cc_campaign_contacts').select(['id', 'num', 'name', 'email', 'phone', 'unique_id', 'status', 'attempts'])
      .where('tenant_id', '=', tenantId).where('campaign_id', '=', campaign.id).where('status', '=', 'Upcoming')
      .where((eb) => eb.or([eb('dial_after', 'is', null), eb('dial_after', '<=', now)]))
      .orderBy('priority', (ob) => ob.desc().nullsLast()).orderBy('num').limit(lines * 4 + 10).forUpdate().skipLocked().execute()
    if (candidates.length === 0) return
    const listed = await this.#dnc.listed({ id: tenantId }, candidates.map((c) => c.phone), trx)
    const companyZone = (await this.#setup.settings(trx, tenantId))?.timeZone ?? 'UTC'
    const weekly = ((campaign.calling_hours ?? {}) as { weekly?: WeeklyHours[] }).weekly
    const set = (id: string, values: { status?: ContactStatus; dial_after?: Date | null; attempts?: number; assigned_call_id?: number }) =>
      trx.updateTable('cc_campaign_contacts').set({ ...values, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute()
    let dialled = 0
    for (const c of candidates) {
      if (dialled >= lines) break
      if (listed.has(c.phone)) {
        await set(c.id, { status: transition(transition('Upcoming', { type: 'dial' })!, { type: 'dial_failed', outcome: 'Do Not Call' })! })
        continue
      }
      if (!withinCallingHours(weekly, contactZones(await phoneTimeZones(c.phone), companyZone), now)) {
        await set(c.id, { dial_after: new Date(now.getTime() + this.#closedRecheckMs) })
        continue
      }
      const [num] = await nextNums(trx, tenantId, 'chat')
      const [participantNum] = await nextNums(trx, tenantId, 'participant')
      const callNum = await this.#calls().createDialerCall(trx, tenantId, {
        campaignId: campaign.id, contactId: c.id, menuId: campaign.menu_id, phone: c.phone, callerId: campaign.caller_id, num: num!, participantNum: participantNum!,
        // W2's screen-pop data, on the call from the start and shown to the agent who takes it.
        contactData: { name: c.name, email: c.email, unique_id: c.unique_id, phone_number: c.phone, campaign_id: campaign.num, campaign_name: campaign.name, contact_id: c.num },
      })
      await set(c.id, { status: transition(c.status as ContactStatus, { type: 'dial' })!, attempts: c.attempts + 1, assigned_call_id: callNum, dial_after: null })
      dialled++
    }
  }

  async #enqueue(trx: Transaction<DB>, tenantId: TenantId, campaignId: string, round: number, runAt: Date): Promise<void> {
    await this.#jobs.enqueue(trx, DIALER_ROUND_JOB, { tenantId, campaignId, round }, { key: `cc-dialer:${tenantId}:${campaignId}:${round}`, runAt, tenantId })
  }
}
