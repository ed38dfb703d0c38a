/**
 * The campaign dialer (issue 12, item 5): one runner per campaign, a self-rescheduling job whose
 * round number is both its idempotency key and the campaign's `cc_dialer_state.round`, so however
 * many worker processes run and however often it is started, one chain of rounds runs. Each round
 * (one transaction, the state row locked) puts due redials back to Upcoming, reads the campaign's
 * pacing state (idle agents of its queue, lines ringing, the last hour's dials), asks `linesToDial`
 * how many to dial and dials that many Upcoming contacts — each checked against the DNC list and
 * its calling hours first — through the calls domain. The calls then drive the contacts (§4.3)
 * through `dialer-calls.ts`. A preview campaign's round dials nothing: it lets lapsed offers go and
 * offers the next dialable contacts to its queue's idle agents (`pairPreviewOffers`), who dial,
 * skip, or skip and close them through the agent API (`previewOffers`, `actOnPreviewOffer`).
 */
import { Type } from 'typebox'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { phoneTimeZones } from '../../lib/phone.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import type { DncService } from '../suppression/index.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { DIALABLE, transition, type ContactStatus } from './campaign-contact.machine.ts'
import type { Agent } from './contact-center.types.ts'
import { idleAgents, previewRules, waitingDialerCalls } from './dialer-calls.ts'
import { contactZones, linesToDial, pairPreviewOffers, withinCallingHours, type DialMode } from './dialer.ts'
import { recordAgentEvent } from './routing.service.ts'
import type { WeeklyHours } from './hours.ts'
import { nextNums, SetupRepository } from './setup.repository.ts'
import { UUID } from '../../lib/uuid.ts'

/** Payload of `cc.dialer_round`: one round of one campaign's runner. */
export const DialerRoundPayload = Type.Object({ tenantId: TenantIdSchema, campaignId: Type.String({ format: 'uuid' }), round: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
export const DIALER_ROUND_JOB = { name: 'cc.dialer_round', payload: DialerRoundPayload } as const satisfies JobType
/** Payload of `cc.dialer_sweep` (every minute): restarts the runner of any campaign with work and none running. */
export const DIALER_SWEEP_JOB = { name: 'cc.dialer_sweep', payload: Type.Object({}, { additionalProperties: false }) } as const satisfies JobType

/** What the dialer needs of the calls domain: placing a call to a contact (in the round's transaction). */
export interface DialerCallsPort {
  createDialerCall(trx: Transaction<DB>, tenantId: TenantId, input: {
    campaignId: string; contactId: string; menuId: string; phone: string; callerId: string; contactData: Record<string, unknown>; num: number; participantNum: number
    agent?: { id: string; participantNum: number }
  }): Promise<number>
}

/** A contact offered to an agent in preview mode, with what the agent sees of it (W2's data). */
export interface PreviewOffer {
  readonly id: string
  readonly createdAt: Date
  readonly expiresAt: Date
  readonly campaign: { readonly num: number; readonly name: string }
  readonly contact: { readonly num: number; readonly name: string; readonly email: string | null; readonly phone: string; readonly uniqueId: string | null; readonly status: string }
}

/** What an agent did with a preview offer. */
export type PreviewAction = 'dial' | 'skip' | 'skip_and_close'

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
/** Statuses the runner has work for: dialable now or later, or on a call. */
const PENDING = [...DIALABLE, 'Redial Scheduled']
type Candidate = { id: string; num: number; name: string; email: string | null; phone: string; unique_id: string | null; status: string; attempts: number }
type CampaignRow = { id: string; num: number; name: string; caller_id: string; menu_id: string; calling_hours: unknown; preview: unknown }

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
        .where('k.status', 'in', PENDING)))
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
    const campaign = await trx.selectFrom('cc_campaigns').select(['id', 'num', 'name', 'caller_id', 'menu_id', 'mode', 'pacing_ratio', 'calling_hours', 'preview', 'deleted'])
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
    if (campaign.mode === 'preview') await this.#offer(trx, tenantId, campaign, now)
    const idle = Math.max(0, (await idleAgents(trx, tenantId, campaign.menu_id)).length - (await waitingDialerCalls(trx, tenantId, campaign.menu_id)))
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
    ]).where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId).where('status', 'in', [...PENDING, ...LIVE]).executeTakeFirstOrThrow()
    const anyLeft = waiting.next !== null || Number(waiting.now) > 0
    if (live || Number(waiting.now) > 0) return new Date(now.getTime() + this.#roundMs)
    if (!anyLeft) return undefined
    const at = new Date(waiting.next as Date | string).getTime()
    return new Date(Math.min(Math.max(at, now.getTime() + this.#roundMs), now.getTime() + MAX_IDLE_ROUND_MS))
  }

  /**
   * Dialable contacts (Upcoming, Skipped) of the campaign due now and not on offer, in priority then
   * id order, locked (others' locked ones skipped), at most `limit`; those on the DNC list end Do
   * Not Call and those outside calling hours are put off, the rest answered.
   */
  async #screen(trx: Transaction<DB>, tenantId: TenantId, campaign: CampaignRow, limit: number, now: Date): Promise<Candidate[]> {
    const candidates = await trx.selectFrom('cc_campaign_contacts as k').select(['k.id', 'k.num', 'k.name', 'k.email', 'k.phone', 'k.unique_id', 'k.status', 'k.attempts'])
      .where('k.tenant_id', '=', tenantId).where('k.campaign_id', '=', campaign.id).where('k.status', 'in', DIALABLE)
      .where((eb) => eb.or([eb('k.dial_after', 'is', null), eb('k.dial_after', '<=', now)]))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('cc_preview_offers as p').select('p.id').whereRef('p.tenant_id', '=', 'k.tenant_id').whereRef('p.contact_id', '=', 'k.id').where('p.result', '=', 'open'))))
      .orderBy('k.priority', (ob) => ob.desc().nullsLast()).orderBy('k.num').limit(limit).forUpdate().skipLocked().execute()
    if (candidates.length === 0) return []
    const listed = await this.#dnc.listed({ id: tenantId }, candidates.map((c) => c.phone), trx)
    const companyZone = (await this.#setup.settings(trx, tenantId))?.timeZone ?? 'UTC'
    const weekly = ((campaign.calling_hours ?? {}) as { weekly?: WeeklyHours[] }).weekly
    const usable: Candidate[] = []
    for (const c of candidates) {
      if (listed.has(c.phone)) {
        await this.#setContact(trx, tenantId, c.id, now, { status: transition(transition(c.status as ContactStatus, { type: 'dial' })!, { type: 'dial_failed', outcome: 'Do Not Call' })! })
      } else if (!withinCallingHours(weekly, contactZones(await phoneTimeZones(c.phone), companyZone), now)) {
        await this.#setContact(trx, tenantId, c.id, now, { dial_after: new Date(now.getTime() + this.#closedRecheckMs) })
      } else usable.push(c)
    }
    return usable
  }

  async #setContact(trx: Transaction<DB>, tenantId: TenantId, id: string, now: Date, values: { status?: ContactStatus; dial_after?: Date | null; attempts?: number; assigned_call_id?: number }): Promise<void> {
    await trx.updateTable('cc_campaign_contacts').set({ ...values, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute()
  }

  /** Dial up to `lines` dialable contacts (see `#screen`) through the calls domain; with `agent`, for that agent (preview). */
  async #dial(trx: Transaction<DB>, tenantId: TenantId, campaign: CampaignRow, lines: number, now: Date): Promise<void> {
    const usable = await this.#screen(trx, tenantId, campaign, lines * 4 + 10, now)
    for (const c of usable.slice(0, lines)) await this.#place(trx, tenantId, campaign, c, now)
  }

  async #place(trx: Transaction<DB>, tenantId: TenantId, campaign: CampaignRow, c: Candidate, now: Date, agentId?: string): Promise<number> {
    const [num] = await nextNums(trx, tenantId, 'chat')
    const [participantNum, agentParticipantNum] = await nextNums(trx, tenantId, 'participant', agentId ? 2 : 1)
    const callNum = await this.#calls().createDialerCall(trx, tenantId, {
      campaignId: campaign.id, contactId: c.id, menuId: campaign.menu_id, phone: c.phone, callerId: campaign.caller_id, num: num!, participantNum: participantNum!,
      // W2's screen-pop data, on the call from the start and shown to the agent who takes it.
      contactData: contactData(campaign, c),
      ...(agentId ? { agent: { id: agentId, participantNum: agentParticipantNum! } } : {}),
    })
    await this.#setContact(trx, tenantId, c.id, now, { status: transition(c.status as ContactStatus, { type: 'dial' })!, attempts: c.attempts + 1, assigned_call_id: callNum, dial_after: null })
    return callNum
  }

  /**
   * A preview round: offers past their time lapse (the contact back to the pool, untouched), then
   * each idle agent of the queue without an open offer is offered the next dialable contact they
   * did not skip or let lapse lately. The database holds one open offer per contact and per agent,
   * so a racing round or campaign inserts nothing twice.
   */
  async #offer(trx: Transaction<DB>, tenantId: TenantId, campaign: CampaignRow, now: Date): Promise<void> {
    const rules = previewRules(campaign.preview)
    await trx.updateTable('cc_preview_offers').set({ result: 'expired', acted_at: now })
      .where('tenant_id', '=', tenantId).where('campaign_id', '=', campaign.id).where('result', '=', 'open').where('expires_at', '<=', now).execute()
    // An agent who left (chose another status than an available one, signed out, is being logged
    // out or was deactivated) no longer holds an offer: it is withdrawn, the contact back in the pool
    // untouched and free for the next idle agent at once.
    await trx.updateTable('cc_preview_offers').set({ result: 'withdrawn', acted_at: now })
      .where('tenant_id', '=', tenantId).where('campaign_id', '=', campaign.id).where('result', '=', 'open')
      .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_agents a JOIN cc_statuses cs ON cs.tenant_id = a.tenant_id AND cs.id = a.chosen_status_id
        WHERE a.tenant_id = cc_preview_offers.tenant_id AND a.id = cc_preview_offers.agent_id AND a.deactivated_at IS NULL AND a.logout_pending = false AND cs.kind = 'available')`)
      .execute()
    const agents = await idleAgents(trx, tenantId, campaign.menu_id)
    if (agents.length === 0) return
    const contacts = await this.#screen(trx, tenantId, campaign, agents.length * 4 + 10, now)
    if (contacts.length === 0) return
    const refusals = await trx.selectFrom('cc_preview_offers').select(['agent_id', 'contact_id', 'acted_at']).where('tenant_id', '=', tenantId)
      .where('agent_id', 'in', agents).where('contact_id', 'in', contacts.map((c) => c.id)).where('result', 'in', ['skipped', 'expired'])
      .where('acted_at', '>', new Date(now.getTime() - rules.repeatMs)).execute()
    const pairs = pairPreviewOffers(agents, contacts.map((c) => c.id), refusals.map((r) => ({ agentId: r.agent_id, contactId: r.contact_id, at: new Date(r.acted_at!) })), now, rules.repeatMs)
    for (const p of pairs) {
      const expiresAt = new Date(now.getTime() + rules.offerMs)
      const offer = await trx.insertInto('cc_preview_offers').values({ tenant_id: tenantId, campaign_id: campaign.id, contact_id: p.contactId, agent_id: p.agentId, created_at: now, expires_at: expiresAt })
        .onConflict((oc) => oc.doNothing()).returning('id').executeTakeFirst()
      if (!offer) continue
      const c = contacts.find((x) => x.id === p.contactId)!
      await recordAgentEvent(trx, tenantId, p.agentId, 'preview_offer', { offer_id: offer.id, expires_at: expiresAt.toISOString(), contact_data: contactData(campaign, c) })
    }
  }

  /** The agent's open preview offers (not lapsed), oldest first. */
  async previewOffers(agent: Agent): Promise<PreviewOffer[]> {
    const rows = await this.#offerRows(this.#db, agent.tenantId).where('p.agent_id', '=', agent.id).where('p.result', '=', 'open').where('p.expires_at', '>', new Date()).orderBy('p.created_at').execute()
    return rows.map(toPreviewOffer)
  }

  /**
   * The agent acts on one of their open offers: `dial` places the call with the agent on it (the
   * contact Dialing, then Connected when the person answers), `skip` puts the contact back in the
   * pool (Skipped: offered to another agent), `skip_and_close` ends it (Skipped & Closed). Throws
   * `preview_offer_not_found` (unknown, or another agent's), `preview_offer_closed` (lapsed or
   * acted on), `preview_offer_busy` (the agent is on a call, the contact no longer dialable).
   * Answers the offer and, for `dial`, the call's id.
   */
  async actOnPreviewOffer(agent: Agent, offerId: string, action: PreviewAction): Promise<{ offer: PreviewOffer; callNum: number | null }> {
    const tenantId = agent.tenantId
    if (!UUID.test(offerId)) throw new NotFoundError('preview_offer_not_found', 'no such preview offer of this agent')
    return this.#db.transaction().execute(async (trx) => {
      const now = new Date()
      const row = await this.#offerRows(trx, tenantId).where('p.id', '=', offerId).where('p.agent_id', '=', agent.id).forUpdate('p').executeTakeFirst()
      if (!row) throw new NotFoundError('preview_offer_not_found', 'no such preview offer of this agent')
      if (row.result !== 'open' || new Date(row.expires_at) <= now) {
        const result = row.result === 'open' ? 'expired' : row.result
        throw new ConflictError('preview_offer_closed', result === 'expired' ? 'The offer has expired'
          : result === 'withdrawn' ? 'The offer was withdrawn: you were no longer available'
            : `The offer was already ${result === 'closed' ? 'skipped and closed' : result}`, { result })
      }
      const contact = await trx.selectFrom('cc_campaign_contacts').select(['id', 'num', 'name', 'email', 'phone', 'unique_id', 'status', 'attempts'])
        .where('tenant_id', '=', tenantId).where('id', '=', row.contact_id).forUpdate().executeTakeFirstOrThrow()
      if (!(DIALABLE as readonly string[]).includes(contact.status)) throw new ConflictError('preview_offer_busy', `The contact cannot be dialled in status ${contact.status}`, { reason: 'contact' })
      let callNum: number | null = null
      if (action === 'dial') {
        const onCall = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('agent_id', '=', agent.id)
          .where('status', 'in', ['assigned', 'connecting', 'connected', 'switching']).executeTakeFirst()
        if (onCall) throw new ConflictError('preview_offer_busy', 'You are in a conversation already', { reason: 'agent' })
        const campaign = await trx.selectFrom('cc_campaigns').select(['id', 'num', 'name', 'caller_id', 'menu_id', 'calling_hours', 'preview']).where('tenant_id', '=', tenantId).where('id', '=', row.campaign_id).executeTakeFirstOrThrow()
        callNum = await this.#place(trx, tenantId, campaign, contact, now, agent.id)
      } else {
        await this.#setContact(trx, tenantId, contact.id, now, { status: transition(contact.status as ContactStatus, { type: 'skipped', close: action === 'skip_and_close' })! })
      }
      const result = action === 'dial' ? 'dialled' : action === 'skip' ? 'skipped' : 'closed'
      await trx.updateTable('cc_preview_offers').set({ result, acted_at: now, call_num: callNum }).where('tenant_id', '=', tenantId).where('id', '=', row.id).execute()
      const after = await this.#offerRows(trx, tenantId).where('p.id', '=', row.id).executeTakeFirstOrThrow()
      return { offer: toPreviewOffer(after), callNum }
    })
  }

  #offerRows(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId) {
    return db.selectFrom('cc_preview_offers as p')
      .innerJoin('cc_campaign_contacts as k', (j) => j.onRef('k.tenant_id', '=', 'p.tenant_id').onRef('k.id', '=', 'p.contact_id'))
      .innerJoin('cc_campaigns as c', (j) => j.onRef('c.tenant_id', '=', 'p.tenant_id').onRef('c.id', '=', 'p.campaign_id'))
      .select(['p.id', 'p.contact_id', 'p.campaign_id', 'p.result', 'p.created_at', 'p.expires_at', 'c.num as campaign_num', 'c.name as campaign_name',
        'k.num as contact_num', 'k.name', 'k.email', 'k.phone', 'k.unique_id', 'k.status'])
      .where('p.tenant_id', '=', tenantId)
  }

  async #enqueue(trx: Transaction<DB>, tenantId: TenantId, campaignId: string, round: number, runAt: Date): Promise<void> {
    await this.#jobs.enqueue(trx, DIALER_ROUND_JOB, { tenantId, campaignId, round }, { key: `cc-dialer:${tenantId}:${campaignId}:${round}`, runAt, tenantId })
  }
}

/** W2's contact data of a campaign's contact (the call's `contact_data`; what a preview offer shows). */
function contactData(campaign: { num: number; name: string }, c: { num: number; name: string; email: string | null; phone: string; unique_id: string | null }): Record<string, unknown> {
  return { name: c.name, email: c.email, unique_id: c.unique_id, phone_number: c.phone, campaign_id: campaign.num, campaign_name: campaign.name, contact_id: c.num }
}

function toPreviewOffer(r: { id: string; created_at: Date; expires_at: Date; campaign_num: number; campaign_name: string; contact_num: number; name: string; email: string | null; phone: string; unique_id: string | null; status: string }): PreviewOffer {
  return {
    id: r.id, createdAt: new Date(r.created_at), expiresAt: new Date(r.expires_at), campaign: { num: r.campaign_num, name: r.campaign_name },
    contact: { num: r.contact_num, name: r.name, email: r.email, phone: r.phone, uniqueId: r.unique_id, status: r.status },
  }
}
