import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue } from '../../jobs/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Agent, Menu } from '../contact-center/index.ts'
import { CALLBACK_SLOT_MINUTES, isOpen, nextChange, queueHours, SYSTEM_STATUSES, type RoutingService } from '../contact-center/index.ts'
import { releaseAgent, setAgentStatus } from '../contact-center/agent-presence.ts'
import { recordAgentEvent } from '../contact-center/routing.service.ts'
import { nextNums, reserveNums, SetupRepository } from '../contact-center/setup.repository.ts'
import { offerTransfer } from '../contact-center/transfer-offers.ts'
import { EndUsersRepository } from '../contact-center/end-users.repository.ts'
import { AgentsRepository } from '../contact-center/agents.repository.ts'
import { dialerCallMoved, dialerCallOf, dialerCallTransferred, idleAgentCount, waitingDialerCalls } from '../contact-center/dialer-calls.ts'
import type { DncService } from '../suppression/index.ts'
import { CALL_STATUS_TEXT, callTransition, type CallEffect, type CallEvent, type CallStatus, type FailReason } from './call.machine.ts'
import {
  CALL_CONFIRM_TIMEOUT_JOB, CALL_CONTROL_JOB, CALL_DIAL_JOB, CALL_SCHEDULED_JOB, CALL_TYPES, DEFLECTION_DIGITS, type Call, type CallAgent, type CallEndUsersPort, type CallKind, type CallParticipant,
  type CallTransfer, type CreateCallInput, type DeflectionChoice, type LegEvent, type LegStep, type TicketsPort, type VoicePort,
} from './calls.types.ts'
import { UUID } from '../../lib/uuid.ts'

/** The ports the calls service reaches out through (wired in services.ts). */
export interface CallsDeps {
  readonly db: Kysely<DB>
  readonly jobs: JobQueue
  readonly routing: RoutingService
  readonly dnc: Pick<DncService, 'listed'>
  readonly voice: VoicePort
  readonly endUsers: CallEndUsersPort
  /** The CRM adapter for `ticket_id` (absent: no ticket is found, "Contact not found"). */
  readonly tickets?: TicketsPort | undefined
  /** Where providers post leg callbacks and fetch answer documents (the server's public URL). */
  readonly publicUrl: string
  /** Seconds an end user's phone rings before the leg ends as no answer. */
  readonly ringTimeoutSeconds?: number
  readonly onError?: (err: unknown) => void
}

/** A call row locked for a change. */
type Locked = { id: string; num: number; status: string; agent_id: string | null; voip_provider: string | null; menu_id: string | null; end_user_number: string | null; outbound_number: string | null; parent_num: number | null; connected_at: Date | null; hold_started_at: Date | null; hold_duration: number; provider_attempt: number; recording_permission: string }

const LIVE_FOR_AGENT = ['assigned', 'connecting', 'connected', 'switching'] as const
const ENDED_LEG = new Set(['busy', 'no_answer', 'failed', 'canceled', 'completed'])
const invalid = (text: string) => new ValidationError('call_invalid', text)
const notFound = (num: number) => new NotFoundError('call_not_found', 'no such call', { callId: num })
const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000))
const knownLanguage = (() => {
  const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })
  return (code: string): boolean => {
    try {
      return /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(code) && names.of(code) !== undefined
    } catch {
      return false
    }
  }
})()
/** A phone as §1.8 takes it: spaces, dashes, dots and parentheses stripped, then E.164. */
export function callPhone(raw: string): string | undefined {
  const text = raw.replace(/[\s\-.()]/g, '')
  return /^\+[1-9][0-9]{7,14}$/.test(text) ? text : undefined
}
/** An integer id sent as a number or a numeric string (§1.3). */
function idOf(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 && raw <= 2_147_483_647) return raw
  if (typeof raw === 'string' && /^\s*\d{1,10}\s*$/.test(raw)) {
    const n = Number(raw.trim())
    return n > 0 && n <= 2_147_483_647 ? n : undefined
  }
  return undefined
}
const present = (v: unknown) => v !== undefined && v !== null && v !== ''
/** A string field as sent (numbers as their digits); NUL-free, as PostgreSQL text must be. */
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.replace(/\u0000/g, '').trim() : typeof v === 'number' ? String(v) : undefined)

/**
 * Contact-center calls (§2.1, §3.1, §4.1): outbound calls placed for an agent (C1/C2), incoming
 * API calls queued on a menu and routed like chats (C3), scheduled calls fired by the job
 * scheduler (C4). Every change runs the pure machine (`call.machine.ts`) and performs its effects
 * in one transaction; telephony (the tenant's voice provider) is driven by jobs and answers
 * through `applyLegEvent`, whatever the vendor.
 */
export class CallsService {
  readonly #db: Kysely<DB>
  readonly #deps: CallsDeps
  readonly #setup: SetupRepository
  readonly #endUsers = new EndUsersRepository()
  readonly #agents: AgentsRepository

  constructor(deps: CallsDeps) {
    this.#db = deps.db
    this.#deps = deps
    this.#setup = new SetupRepository(deps.db)
    this.#agents = new AgentsRepository(deps.db)
  }

  /**
   * `POST /calls` (C1–C4): checks the fields in the order of the spec's error lists (ValidationError
   * `call_invalid` with the spec's text), then creates the call: C1/C2 `assigned` to the agent (now
   * In-call) and dialled by a job; C3 `queued` on its menu for routing; C4 `scheduled`, fired by a
   * job at `scheduled_at`.
   */
  async create(tenantId: TenantId, input: CreateCallInput): Promise<Call> {
    const v = input.kind === 'outbound' ? await this.#checkOutbound(tenantId, input) : await this.#checkQueued(tenantId, input)
    const [num] = await reserveNums(this.#db, tenantId, 'chat')
    const [p1, p2] = await reserveNums(this.#db, tenantId, 'participant', 2)
    // The call as created (§2.1: C3 answers `offer_events` [] — routing offers it after the commit).
    const created = await this.#db.transaction().execute(async (trx) => {
      let t = callTransition(null, { type: input.kind === 'outbound' ? (v.confirmBy ? 'create_outbound_pending' : 'create_outbound') : input.kind === 'incoming' ? 'create_incoming' : 'create_scheduled' })
      if (!t.ok) throw new Error('a new call cannot be refused')
      // Config: a closed or full queue deflecting — queued → deflected (the person chooses on the phone
      // when "schedule a call" is offered) or on to voicemail at once (nothing was offered yet).
      if (v.deflect) t = v.deflect.options.includes('schedule_call') ? deflectedPath(t.status) : voicemailPath(t.status)
      const endUser = await this.#deps.endUsers.forPhone(trx, tenantId, v.phone)
      const now = new Date()
      const session = await trx.insertInto('cc_sessions').values({
        tenant_id: tenantId, num: num!, channel: 'call', chat_type: CALL_TYPES[input.kind], status: t.status, status_text: CALL_STATUS_TEXT[t.status],
        menu_id: v.menu?.id ?? null, lang: v.lang, end_user_num: endUser.num, person_id: endUser.personId, priority: v.menu?.priority ?? 0,
        agent_id: v.agent?.id ?? null, assigned_at: v.agent ? now : null, queued_at: t.status === 'queued' ? now : null,
        offer_type: input.kind === 'incoming' ? 'cascade' : null, answer_type: v.agent ? 'manual' : null, outbound_number: v.outboundNumber,
        support_number: v.outboundNumber, end_user_number: v.phone, out_ticket_id: v.ticket?.id ?? null, out_ticket_url: v.ticket?.url ?? null,
        scheduled_at: v.scheduledAt ?? null, parent_num: v.parentNum ?? null, recording_permission: v.recordingPermission, last_activity_at: now,
        ...(v.deflect ? { voicemail_reason: v.deflect.reason, deflection: `${v.deflect.reason}_deflection` } : {}),
        confirm_by: v.confirmBy ?? null,
      }).returning('id').executeTakeFirstOrThrow()
      if (v.confirmBy) await this.#deps.jobs.enqueue(trx, CALL_CONFIRM_TIMEOUT_JOB, { tenantId, callNum: num! }, { key: `call-confirm:${session.id}`, runAt: v.confirmBy, tenantId })
      if (v.deflect) await this.#dialPerson(trx, tenantId, session.id, num!, v.phone)
      await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p1!, session_id: session.id, type: 'end_user', end_user_num: endUser.num, agent_id: null, status: 'waiting' }).execute()
      if (v.agent) await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p2!, session_id: session.id, type: 'agent', agent_id: v.agent.id, end_user_num: null, status: 'connecting' }).execute()
      if (v.scheduledAt) {
        await this.#deps.jobs.enqueue(trx, CALL_SCHEDULED_JOB, { tenantId, callNum: num! }, { key: `call-scheduled:${tenantId}:${session.id}`, runAt: v.scheduledAt, tenantId })
      }
      await this.#effects(trx, tenantId, await this.#lock(trx, tenantId, num!), t.effects)
      if (v.agent) await recordAgentEvent(trx, tenantId, v.agent.id, 'call_assigned', { call_id: num, end_user_number: v.phone, ...(v.confirmBy ? { confirm_by: v.confirmBy.toISOString() } : {}) })
      return this.get(tenantId, num!, trx)
    })
    this.#afterCommit(tenantId)
    return created
  }

  /**
   * The campaign dialer places a call to a contact (in the dialer's transaction): `connecting` with
   * no agent yet, the contact's leg dialled by a job; when the contact answers it is queued on the
   * campaign's queue for an idle agent, or abandoned by the dialer when none is free. Preview mode
   * (`agent`: the agent who chose to dial the contact): `assigned` to that agent (In-call), both
   * legs dialled at once, `connected` when both answered, as a call placed for an agent. The
   * contact's data (W2) is on the call from the start. Answers the call's id.
   */
  async createDialerCall(trx: Transaction<DB>, tenantId: TenantId, input: {
    campaignId: string; contactId: string; menuId: string; phone: string; callerId: string; contactData: Record<string, unknown>; num: number; participantNum: number
    agent?: { id: string; participantNum: number }
  }): Promise<number> {
    const t = callTransition(null, { type: input.agent ? 'create_outbound' : 'create_dialer' })
    if (!t.ok) throw new Error('a new call cannot be refused')
    const endUser = await this.#deps.endUsers.forPhone(trx, tenantId, input.phone)
    const now = new Date()
    const agentId = input.agent?.id ?? null
    const session = await trx.insertInto('cc_sessions').values({
      tenant_id: tenantId, num: input.num, channel: 'call', chat_type: CALL_TYPES.outbound, status: t.status, status_text: CALL_STATUS_TEXT[t.status],
      menu_id: input.menuId, lang: 'en', end_user_num: endUser.num, person_id: endUser.personId, priority: 0, agent_id: agentId, assigned_at: agentId ? now : null, queued_at: null,
      offer_type: null, answer_type: agentId ? 'manual' : null, outbound_number: input.callerId, support_number: input.callerId, end_user_number: input.phone,
      out_ticket_id: null, out_ticket_url: null, scheduled_at: null, parent_num: null, recording_permission: 'not_asked', last_activity_at: now,
      contact_data: JSON.stringify(input.contactData),
    }).returning('id').executeTakeFirstOrThrow()
    await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: input.participantNum, session_id: session.id, type: 'end_user', end_user_num: endUser.num, agent_id: null, status: 'waiting' }).execute()
    if (input.agent) await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: input.agent.participantNum, session_id: session.id, type: 'agent', agent_id: input.agent.id, end_user_num: null, status: 'connecting' }).execute()
    await trx.insertInto('cc_dialer_calls').values({ tenant_id: tenantId, session_id: session.id, campaign_id: input.campaignId, contact_id: input.contactId }).execute()
    await this.#effects(trx, tenantId, await this.#lock(trx, tenantId, input.num), t.effects)
    if (input.agent) await recordAgentEvent(trx, tenantId, input.agent.id, 'call_assigned', { call_id: input.num, end_user_number: input.phone, contact_data: input.contactData })
    return input.num
  }

  /** A call by its Apps API id; NotFoundError `call_not_found`. */
  async get(tenantId: TenantId, num: number, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<Call> {
    const row = await db.selectFrom('cc_sessions').selectAll().where('tenant_id', '=', tenantId).where('num', '=', num).where('channel', '=', 'call').executeTakeFirst()
    if (!row) throw notFound(num)
    const menus = row.menu_id ? await this.#setup.menus(db, tenantId, { withDeleted: true }) : []
    const menu = menus.find((m) => m.id === row.menu_id) ?? null
    const path: Menu[] = []
    for (let m = menu; m; m = menus.find((x) => x.num === m!.parentNum) ?? null) path.unshift(m)
    const parts = await db.selectFrom('cc_participants as p').leftJoin('cc_agents as a', (j) => j.onRef('a.tenant_id', '=', 'p.tenant_id').onRef('a.id', '=', 'p.agent_id'))
      .select(['p.num', 'p.type', 'p.status', 'p.end_user_num', 'p.connected_at', 'p.ended_at', 'p.agent_id', 'a.num as agent_num'])
      .where('p.tenant_id', '=', tenantId).where('p.session_id', '=', row.id).orderBy('p.num').execute()
    const agentRow = row.agent_id ? await db.selectFrom('cc_agents').select(['num', 'first_name', 'last_name', 'email', 'agent_number']).where('tenant_id', '=', tenantId).where('id', '=', row.agent_id).executeTakeFirst() : undefined
    const agent: CallAgent | null = agentRow ? { num: agentRow.num, firstName: agentRow.first_name, lastName: agentRow.last_name, email: agentRow.email, agentNumber: agentRow.agent_number } : null
    const endUser = row.end_user_num !== null ? await this.#endUsers.byNum(db, tenantId, row.end_user_num) : undefined
    const transferRows = await db.selectFrom('cc_transfers').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', row.id).orderBy('num').execute()
    const ids = [...new Set(transferRows.flatMap((x) => [x.from_agent_id, x.to_agent_id]).filter((x): x is string => x !== null))]
    const transferAgents = ids.length ? await db.selectFrom('cc_agents').select(['id', 'num', 'first_name', 'last_name', 'email', 'agent_number']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute() : []
    const agentOf = (id: string | null): CallAgent | null => {
      const a = transferAgents.find((x) => x.id === id)
      return a ? { num: a.num, firstName: a.first_name, lastName: a.last_name, email: a.email, agentNumber: a.agent_number } : null
    }
    const allMenus = transferRows.some((x) => x.from_menu_id || x.to_menu_id) && !menus.length ? await this.#setup.menus(db, tenantId, { withDeleted: true }) : menus
    const menuOf = (id: string | null) => allMenus.find((m) => m.id === id) ?? null
    const transfers = transferRows.map((x): CallTransfer => ({
      num: x.num, status: x.status, failReason: x.fail_reason, createdAt: x.created_at, fromAgent: agentOf(x.from_agent_id), toAgent: agentOf(x.to_agent_id), fromMenu: menuOf(x.from_menu_id), toMenu: menuOf(x.to_menu_id),
    }))
    const now = new Date()
    return {
      id: row.id, tenantId, num: row.num, parentNum: row.parent_num, lang: row.lang, callType: row.chat_type, status: row.status as CallStatus, statusText: row.status_text,
      createdAt: row.created_at, queuedAt: row.queued_at, assignedAt: row.assigned_at, connectedAt: row.connected_at, endsAt: row.ends_at, scheduledAt: row.scheduled_at,
      // A voicemail never connects: its duration is the recording's.
      callDuration: row.connected_at ? (row.ends_at ? row.call_duration : seconds(row.connected_at, now)) : row.call_duration,
      holdDuration: row.hold_duration + (row.hold_started_at ? seconds(row.hold_started_at, now) : 0), onHold: row.hold_started_at !== null,
      voipProvider: row.voip_provider, outTicketId: row.out_ticket_id, outTicketUrl: row.out_ticket_url,
      verified: row.verified, badActor: row.bad_actor, repeatCustomer: row.repeat_customer, recordingUrl: row.recording_url, recordingPermission: row.recording_permission,
      voicemailReason: row.voicemail_reason, deflection: row.deflection, disconnectedBy: row.disconnected_by, failReason: row.fail_reason, failDetails: row.fail_details,
      supportNumber: row.support_number, menu, menuPath: path, agent,
      endUser: endUser ? { num: endUser.num, identifier: endUser.identifier, outContactId: endUser.outContactId } : null, endUserPhone: row.end_user_number,
      transfers,
      participants: parts.map((p): CallParticipant => ({ num: p.num, type: p.type === 'agent' ? 'agent' : 'end_user', status: p.status, agentNum: p.agent_num ?? null, endUserNum: p.end_user_num, connectedAt: p.connected_at, endedAt: p.ended_at })),
      offerType: row.offer_type, offerEvents: row.offer_events, answerType: row.answer_type, outboundNumber: row.outbound_number,
      customData: row.custom_data, contactData: row.contact_data, confirmBy: row.status === 'assigned' ? row.confirm_by : null,
    }
  }

  /** The calls an agent handles now (assigned to them, not ended). */
  async forAgent(agent: Agent): Promise<Call[]> {
    const rows = await this.#db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', agent.tenantId).where('channel', '=', 'call')
      .where('agent_id', '=', agent.id).where('status', 'in', [...LIVE_FOR_AGENT]).orderBy('num').execute()
    return Promise.all(rows.map((r) => this.get(agent.tenantId, r.num)))
  }

  /** The tenant's latest calls (the sandbox page), newest first. */
  async recent(tenantId: TenantId, limit = 50): Promise<Call[]> {
    const rows = await this.#db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', tenantId).where('channel', '=', 'call').orderBy('num', 'desc').limit(limit).execute()
    return Promise.all(rows.map((r) => this.get(tenantId, r.num)))
  }

  /**
   * The workspace accepts an offer: when it is a call's, the call is the agent's (`assigned`, the
   * agent In-call) and the platform dials; undefined when the offer is not a call's (a chat's).
   * NotFoundError `offer_not_found` when the offer is gone.
   */
  async acceptOffer(agent: Agent, offerId: string): Promise<Call | undefined> {
    if (!(await this.#isCallOffer(agent, offerId))) return undefined
    const [participantNum] = await reserveNums(this.#db, agent.tenantId, 'participant')
    const num = await this.#db.transaction().execute(async (trx) => {
      const offer = await this.#lockOffer(trx, agent, offerId)
      const s = await this.#lock(trx, agent.tenantId, undefined, offer.session_id)
      if (await this.#acceptTransfer(trx, agent, offer, s, participantNum!)) return s.num
      const t = refuse(callTransition(s.status as CallStatus, { type: 'accepted' }), s.num)
      await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'accepted')
      const now = new Date()
      await trx.updateTable('cc_sessions').set({ status: t.status, status_text: CALL_STATUS_TEXT[t.status], agent_id: agent.id, assigned_at: now, answer_type: 'manual', last_activity_at: now })
        .where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      await trx.insertInto('cc_participants').values({ tenant_id: agent.tenantId, num: participantNum!, session_id: s.id, type: 'agent', agent_id: agent.id, end_user_num: null, status: 'connecting' }).execute()
      await this.#effects(trx, agent.tenantId, { ...s, agent_id: agent.id }, t.effects)
      await recordAgentEvent(trx, agent.tenantId, agent.id, 'call_assigned', { call_id: s.num, end_user_number: s.end_user_number })
      return s.num
    })
    this.#afterCommit(agent.tenantId)
    return this.get(agent.tenantId, num)
  }

  /** The workspace declines an offer of a call (the next agent is offered it); false when the offer is not a call's. */
  async declineOffer(agent: Agent, offerId: string): Promise<boolean> {
    if (!(await this.#isCallOffer(agent, offerId))) return false
    await this.#db.transaction().execute(async (trx) => {
      const offer = await this.#lockOffer(trx, agent, offerId)
      await this.#lock(trx, agent.tenantId, undefined, offer.session_id)
      await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'rejected')
    })
    this.#afterCommit(agent.tenantId)
    return true
  }

  /** The workspace hangs up one of the agent's calls (before it connected: the call fails as canceled). */
  async hangUp(agent: Agent, num: number): Promise<Call> {
    await this.#change(agent.tenantId, num, { type: 'hang_up', by: 'agent' }, agent)
    return this.get(agent.tenantId, num)
  }

  /**
   * C1's 202: the agent confirms an outbound call waiting for them — the platform dials it as a
   * 201 call is dialled. ValidationError `call_ended` / `call_not_live` (not waiting); NotFound when not theirs.
   */
  async confirmOutbound(agent: Agent, num: number): Promise<Call> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num)
      if (s.agent_id !== agent.id) throw notFound(num)
      const waiting = await this.#confirmBy(trx, agent.tenantId, s.id)
      const t = refuse(callTransition(s.status as CallStatus, { type: 'confirm' }), num)
      if (!waiting) throw new ValidationError('call_not_live', 'The call is not waiting for a confirmation', { callId: num })
      await trx.updateTable('cc_sessions').set({ confirm_by: null, last_activity_at: new Date() }).where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      await this.#effects(trx, agent.tenantId, s, t.effects)
    })
    return this.get(agent.tenantId, num)
  }

  /** C1's 202: the agent cancels an outbound call waiting for them: `failed`, `canceled`, `disconnected_by_agent`. */
  async cancelOutbound(agent: Agent, num: number): Promise<Call> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num)
      if (s.agent_id !== agent.id) throw notFound(num)
      const t = refuse(callTransition(s.status as CallStatus, { type: 'hang_up', by: 'agent' }), num)
      if (!(await this.#confirmBy(trx, agent.tenantId, s.id))) throw new ValidationError('call_not_live', 'The call is not waiting for a confirmation', { callId: num })
      await trx.updateTable('cc_sessions').set({ confirm_by: null }).where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      await this.#move(trx, agent.tenantId, s, t, { ends_at: new Date(), fail_details: 'cancelled by the agent before it was dialled' })
    })
    this.#afterCommit(agent.tenantId)
    return this.get(agent.tenantId, num)
  }

  /**
   * The confirmation timeout job: an outbound call still waiting for its agent at `confirm_by` is
   * cancelled (`failed`, `canceled`, `disconnected_by_system`); false when it was confirmed or ended meanwhile.
   */
  async expireConfirmation(tenantId: TenantId, num: number): Promise<boolean> {
    const expired = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num).catch(() => undefined)
      if (!s) return false
      const by = await this.#confirmBy(trx, tenantId, s.id)
      if (!by || by.getTime() > Date.now()) return false
      const t = callTransition(s.status as CallStatus, { type: 'hang_up', by: 'system' })
      if (!t.ok) return false
      await trx.updateTable('cc_sessions').set({ confirm_by: null }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      await this.#move(trx, tenantId, s, t, { ends_at: new Date(), fail_details: 'not confirmed by the agent in time' })
      return true
    })
    if (expired) this.#afterCommit(tenantId)
    return expired
  }

  /** When a call waiting for its agent's confirmation is cancelled (undefined: not waiting). */
  async #confirmBy(trx: Transaction<DB>, tenantId: TenantId, sessionId: string): Promise<Date | undefined> {
    const row = await trx.selectFrom('cc_sessions').select(['confirm_by', 'status']).where('tenant_id', '=', tenantId).where('id', '=', sessionId).executeTakeFirst()
    return row?.status === 'assigned' && row.confirm_by ? row.confirm_by : undefined
  }

  /** The workspace puts one of the agent's connected calls on hold, or takes it off. */
  async hold(agent: Agent, num: number, onHold: boolean): Promise<Call> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num)
      if (s.agent_id !== agent.id) throw notFound(num)
      const t = refuse(callTransition(s.status as CallStatus, { type: onHold ? 'hold' : 'resume' }), num)
      if (onHold === (s.hold_started_at !== null)) return
      const now = new Date()
      await trx.updateTable('cc_sessions').set(onHold ? { hold_started_at: now } : { hold_started_at: null, hold_duration: s.hold_duration + seconds(s.hold_started_at!, now) })
        .where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      await trx.updateTable('cc_participants').set({ status: onHold ? 'on_hold' : 'connected' }).where('tenant_id', '=', agent.tenantId).where('session_id', '=', s.id).where('type', '=', 'end_user').where('ended_at', 'is', null).execute()
      await this.#effects(trx, agent.tenantId, s, t.effects)
    })
    return this.get(agent.tenantId, num)
  }

  /**
   * The scheduler: a scheduled call (C4) is due. Exactly once: the row is locked and must still be
   * `scheduled`. It is queued on its menu (routing offers it; the platform dials when an agent accepts).
   */
  async fireScheduled(tenantId: TenantId, num: number): Promise<boolean> {
    const fired = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num).catch(() => undefined)
      if (!s || s.status !== 'scheduled') return false
      const t = callTransition('scheduled', { type: 'fire' })
      if (!t.ok) return false
      const menu = s.menu_id ? (await this.#setup.menus(trx, tenantId, { withDeleted: true })).find((m) => m.id === s.menu_id) : undefined
      const deflect = menu ? await this.#deflection(trx, tenantId, menu) : undefined
      if (deflect && deflect !== 'closed' && s.end_user_number) {
        await this.#move(trx, tenantId, s, deflect.options.includes('schedule_call') ? deflectedPath(t.status) : voicemailPath(t.status))
        await trx.updateTable('cc_sessions').set({ voicemail_reason: deflect.reason, deflection: `${deflect.reason}_deflection` }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
        await this.#dialPerson(trx, tenantId, s.id, s.num, s.end_user_number)
        return true
      }
      await this.#move(trx, tenantId, s, t, { queued_at: new Date() })
      return true
    })
    if (fired) this.#afterCommit(tenantId)
    return fired
  }

  /**
   * The dial job: place the agent's and the end user's legs on the tenant's provider (attempt 1:
   * its fallback, after `switching`). A number on the DNC list fails the call (`dnc`); a provider
   * outage switches to the fallback when there is one, else fails the call (`voip_error`); a
   * rejected number fails it (`invalid_number`). Safe to run again: legs already placed are kept.
   */
  async dial(tenantId: TenantId, num: number, attempt: 0 | 1): Promise<void> {
    const control = await this.#deps.voice(tenantId, attempt)
    if (!control) return
    const plan = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      if (s.status === 'voicemail' || s.status === 'deflected') {
        const deflection = s.status === 'deflected' ? await this.#choicesOf(trx, tenantId, s.id) : undefined
        const legs = await trx.selectFrom('cc_call_legs').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('ended_at', 'is', null).where('provider_call_id', 'is', null).execute()
        await trx.updateTable('cc_sessions').set({ voip_provider: control.voipProvider }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
        await trx.updateTable('cc_call_legs').set({ provider: control.voipProvider }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('provider_call_id', 'is', null).execute()
        return { sessionId: s.id, from: s.outbound_number ?? '', record: true, legs, transfer: false, voicemail: !deflection, deflection }
      }
      if (s.status === 'connected') {
        // A transfer's leg for the receiving agent (inserted when they accepted), on the provider carrying the call.
        const legs = await trx.selectFrom('cc_call_legs').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('provider', '=', control.voipProvider)
          .where('ended_at', 'is', null).where('provider_call_id', 'is', null).where('party', '=', 'agent').execute()
        return { sessionId: s.id, from: s.outbound_number ?? '', record: s.recording_permission === 'granted', legs, transfer: true }
      }
      // A dialer call is dialled twice: the contact first (`connecting`, no agent), the agent's leg once one accepted (`assigned`).
      const dialer = await dialerCallOf(trx, tenantId, s.id)
      const expected = attempt === 0 ? 'assigned' : 'switching'
      const dialerFirst = dialer !== undefined && attempt === 0 && s.status === 'connecting' && !s.agent_id
      if ((s.status !== expected && !dialerFirst) || s.provider_attempt !== attempt || (!s.agent_id && !dialer) || !s.end_user_number) return undefined
      if ((await this.#deps.dnc.listed({ id: tenantId }, [s.end_user_number], trx)).size > 0) {
        await this.#move(trx, tenantId, s, refuse(callTransition(s.status as CallStatus, { type: 'leg_failed', reason: 'dnc' }), num), { fail_details: 'end_user_number is in the DNC list' })
        return undefined
      }
      const agent = s.agent_id ? await trx.selectFrom('cc_agents').select(['num']).where('tenant_id', '=', tenantId).where('id', '=', s.agent_id).executeTakeFirstOrThrow() : undefined
      const liveLegs = () => trx.selectFrom('cc_call_legs').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('provider', '=', control.voipProvider).where('ended_at', 'is', null).orderBy('party').execute()
      let legs = await liveLegs()
      // The parties still without a leg: both for a call placed for an agent; the contact alone, then the agent, for a dialer call.
      const missing = [
        ...(agent && !legs.some((l) => l.party === 'agent') ? [{ id: randomUUID(), tenant_id: tenantId, session_id: s.id, party: 'agent' as const, agent_id: s.agent_id, to_number: `client:agent-${agent.num}`, provider: control.voipProvider }] : []),
        ...(!legs.some((l) => l.party === 'end_user') ? [{ id: randomUUID(), tenant_id: tenantId, session_id: s.id, party: 'end_user' as const, agent_id: null, to_number: s.end_user_number, provider: control.voipProvider }] : []),
      ]
      if (legs.length === 0 || (dialer && missing.length > 0)) {
        if (missing.length > 0) await trx.insertInto('cc_call_legs').values(missing).execute()
        legs = await liveLegs()
      }
      if (s.status === 'assigned') await this.#move(trx, tenantId, s, refuse(callTransition('assigned', { type: 'dialing' }), num), { voip_provider: control.voipProvider })
      else await trx.updateTable('cc_sessions').set({ voip_provider: control.voipProvider }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      return { sessionId: s.id, from: s.outbound_number ?? '', record: s.recording_permission === 'granted', legs: legs.filter((l) => l.provider_call_id === null), transfer: false }
    })
    if (!plan) return
    for (const leg of plan.legs) {
      try {
        const placed = await control.placeLeg({
          legId: leg.id, callId: plan.sessionId, to: leg.to_number, from: plan.from, record: plan.record, voicemail: 'voicemail' in plan && plan.voicemail,
          ...('deflection' in plan && plan.deflection ? { deflection: plan.deflection } : {}),
          ...legCallbackUrls(this.#deps.publicUrl, control.id, tenantId, leg.id),
          ringTimeoutSeconds: this.#deps.ringTimeoutSeconds ?? 30,
        })
        await this.#db.updateTable('cc_call_legs').set({ provider_call_id: placed.providerCallId }).where('tenant_id', '=', tenantId).where('id', '=', leg.id).where('provider_call_id', 'is', null).execute()
      } catch (err) {
        if (plan.transfer) {
          await this.#endTransferLeg(tenantId, leg.id, 'voip_error')
          continue
        }
        if ('voicemail' in plan) {
          // No message can be left: the call stays `voicemail` (ended) with the provider's reason.
          await this.#db.updateTable('cc_call_legs').set({ ended_at: new Date(), status: 'failed' }).where('tenant_id', '=', tenantId).where('id', '=', leg.id).execute()
          await this.#db.updateTable('cc_sessions').set({ fail_details: (err instanceof Error ? err.message : String(err)).slice(0, 500), ends_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', plan.sessionId).execute()
          return
        }
        const retryable = (err as { retryable?: unknown }).retryable === true
        await this.#failDial(tenantId, num, attempt, retryable, err instanceof Error ? err.message : String(err))
        return
      }
    }
  }

  /**
   * A leg's progress, from the provider (the sandbox's jobs, a vendor's verified callback): the
   * party rings, answers (both answered: `connected`), fails before the call connected (`failed`
   * with the reason), or hangs up (`finished`, `disconnected_by` that party). Events of legs that
   * ended already, or of another tenant, change nothing.
   */
  async applyLegEvent(tenantId: TenantId, e: LegEvent): Promise<void> {
    const at = e.at ?? new Date()
    const changed = await this.#db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('cc_call_legs').selectAll().where('tenant_id', '=', tenantId)
      q = e.legId ? q.where('id', '=', e.legId) : q.where('provider_call_id', '=', e.providerCallId)
      const found = await q.executeTakeFirst()
      if (!found) return false
      const s = await this.#lock(trx, tenantId, undefined, found.session_id)
      const leg = await trx.selectFrom('cc_call_legs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', found.id).forUpdate().executeTakeFirstOrThrow()
      if (e.recordingUrl) await trx.updateTable('cc_sessions').set({ recording_url: e.recordingUrl }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      if (e.digits !== undefined) {
        if (leg.ended_at || leg.party !== 'end_user') return false
        return (await this.#choose(trx, tenantId, s, leg.id, e.digits, at)).changed
      }
      if (leg.ended_at) {
        // A vendor's recording callback comes after the leg's own `completed` (Twilio's does): the voicemail is received then.
        if (e.recordingUrl && s.status === 'voicemail' && leg.party === 'end_user') {
          await this.#move(trx, tenantId, s, refuse(callTransition('voicemail', { type: 'voicemail_recorded' }), s.num))
          if (e.durationSeconds !== undefined) await trx.updateTable('cc_sessions').set({ call_duration: e.durationSeconds }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
          return true
        }
        return false
      }
      let participants = trx.updateTable('cc_participants').where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('ended_at', 'is', null)
        .where('type', '=', leg.party)
      // During a transfer the call has two agents: the leg is one agent's.
      if (leg.party === 'agent' && leg.agent_id) participants = participants.where('agent_id', '=', leg.agent_id)
      const receiving = leg.party === 'agent' && leg.agent_id !== null && leg.agent_id !== s.agent_id && s.status === 'connected'
      if (e.status === 'ringing' || e.status === 'initiated') {
        await trx.updateTable('cc_call_legs').set({ status: e.status }).where('tenant_id', '=', tenantId).where('id', '=', leg.id).execute()
        await participants.set({ status: 'connecting' }).where('status', '=', 'waiting').execute()
        return false
      }
      if (e.status === 'answered') {
        await trx.updateTable('cc_call_legs').set({ status: 'answered', answered_at: at }).where('tenant_id', '=', tenantId).where('id', '=', leg.id).execute()
        await participants.set({ status: 'connected', connected_at: at }).execute()
        if (receiving) {
          await this.#completeTransfer(trx, tenantId, s, leg.agent_id!, at)
          return true
        }
        const waiting = await trx.selectFrom('cc_call_legs').select('id').where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('provider', '=', leg.provider)
          .where('ended_at', 'is', null).where('answered_at', 'is', null).executeTakeFirst()
        if (!waiting && !s.agent_id && (s.status === 'connecting' || s.status === 'switching') && s.menu_id && (await dialerCallOf(trx, tenantId, s.id))) {
          // The dialer's contact picked up: queued for an idle agent of the campaign's queue, or
          // abandoned by the dialer when every idle agent is already spoken for.
          const free = (await idleAgentCount(trx, tenantId, s.menu_id)) - (await waitingDialerCalls(trx, tenantId, s.menu_id))
          if (free > 0) await this.#move(trx, tenantId, s, refuse(callTransition('connecting', { type: 'dialer_answered' }), s.num), { queued_at: at })
          else await this.#move(trx, tenantId, s, refuse(callTransition(s.status, { type: 'leg_failed', reason: 'no_agent_available' }), s.num), { ends_at: at, fail_details: 'no agent free when the contact answered (abandoned by the dialer)' })
          return true
        }
        if (!waiting && (s.status === 'connecting' || s.status === 'switching')) {
          await this.#move(trx, tenantId, s, refuse(callTransition(s.status, { type: 'answered' }), s.num), { connected_at: at })
          return true
        }
        return false
      }
      if (!ENDED_LEG.has(e.status)) return false
      await trx.updateTable('cc_call_legs').set({ status: e.status, ended_at: at }).where('tenant_id', '=', tenantId).where('id', '=', leg.id).execute()
      const answered = leg.answered_at !== null
      await participants.set({ status: answered ? 'finished' : 'failed', ended_at: at }).execute()
      if (receiving) {
        await this.#failTransfer(trx, tenantId, s, leg.agent_id!, e.status === 'busy' ? 'busy' : e.status === 'no_answer' ? 'no_answer' : e.status === 'failed' ? 'voip_error' : 'canceled')
        return true
      }
      const status = s.status as CallStatus
      if (status === 'voicemail' || status === 'deflected') {
        // The person hung up: with a recording the voicemail is received; without one, nothing was left
        // (yet: a vendor may post the recording afterwards). A deflected call ends without a choice.
        const t = e.recordingUrl && status === 'voicemail' ? callTransition(status, { type: 'voicemail_recorded' }) : undefined
        if (t?.ok) await this.#move(trx, tenantId, s, t, { ends_at: at })
        else await trx.updateTable('cc_sessions').set({ ends_at: at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
        if (t?.ok && e.durationSeconds !== undefined) await trx.updateTable('cc_sessions').set({ call_duration: e.durationSeconds }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
        return t?.ok === true
      }
      if (status === 'connected' && answered) {
        await this.#move(trx, tenantId, s, refuse(callTransition(status, { type: 'hang_up', by: leg.party === 'agent' ? 'agent' : 'end_user' }), s.num), { ends_at: at })
        return true
      }
      if (status === 'assigned' || status === 'connecting' || status === 'switching' || (status === 'queued' && leg.party === 'end_user')) {
        const reason: FailReason = leg.party === 'agent' ? 'no_agent_available'
          : e.status === 'busy' ? 'busy' : e.status === 'no_answer' ? 'no_answer' : e.status === 'failed' ? 'voip_error' : 'abandoned'
        await this.#move(trx, tenantId, s, refuse(callTransition(status, { type: 'leg_failed', reason }), s.num), { ends_at: at, ...(e.errorCode ? { fail_details: `provider error ${e.errorCode}` } : {}) })
        return true
      }
      return false
    })
    if (changed) this.#afterCommit(tenantId)
  }

  /**
   * What a vendor needs to answer a leg that picked up (Twilio fetches its TwiML then): the call it
   * joins and whether it is recorded; undefined when the leg is unknown or over (hang it up).
   */
  async answeringLeg(tenantId: TenantId, legId: string): Promise<{ callId: string; legId: string; record: boolean; statusCallbackUrl: string; inputUrl: string; step: LegStep } | undefined> {
    if (!UUID.test(legId)) return undefined
    // Legs keep the `voip_provider` that carries them (`voip_provider_twilio`): the vendor is its tail.
    const row = await this.#db.selectFrom('cc_call_legs as l').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'l.tenant_id').onRef('s.id', '=', 'l.session_id'))
      .select(['l.id', 'l.session_id', 'l.provider', 'l.ended_at', 'l.party', 's.recording_permission', 's.status'])
      .where('l.tenant_id', '=', tenantId).where('l.id', '=', legId).executeTakeFirst()
    if (!row || row.ended_at) return undefined
    const urls = legCallbackUrls(this.#deps.publicUrl, row.provider.replace(/^voip_provider_/, ''), tenantId, row.id)
    const personal = row.party === 'end_user' && (row.status === 'voicemail' || row.status === 'deflected')
    const step: LegStep = !personal ? { kind: 'conference' } : row.status === 'voicemail' ? { kind: 'voicemail' } : { kind: 'deflection', options: await this.#choicesOf(this.#db, tenantId, row.session_id) }
    return { callId: row.session_id, legId: row.id, record: row.recording_permission === 'granted', statusCallbackUrl: urls.statusCallbackUrl, inputUrl: urls.inputUrl, step }
  }

  /**
   * The person pressed `digits` on a deflected call's leg (a vendor's `<Gather>` action): `1`
   * leaves a voicemail (`voicemail`, the leg records next), `2` schedules a call back at the
   * queue's next open time (a `scheduled` child call; this one stays `deflected` and the leg
   * ends after a confirmation). Anything else, or an option not offered, asks again. Answers what
   * the leg runs next (`hangup` when it is over or no deflection leg).
   */
  async pressDigits(tenantId: TenantId, legId: string, digits: string): Promise<{ changed: boolean; step: LegStep }> {
    if (!UUID.test(legId)) return { changed: false, step: { kind: 'hangup' } }
    const result = await this.#db.transaction().execute(async (trx) => {
      const leg = await trx.selectFrom('cc_call_legs').select(['id', 'session_id', 'party', 'ended_at']).where('tenant_id', '=', tenantId).where('id', '=', legId).executeTakeFirst()
      if (!leg) return { changed: false, step: { kind: 'hangup' } as LegStep }
      const s = await this.#lock(trx, tenantId, undefined, leg.session_id)
      const locked = await trx.selectFrom('cc_call_legs').select(['ended_at']).where('tenant_id', '=', tenantId).where('id', '=', leg.id).forUpdate().executeTakeFirstOrThrow()
      if (locked.ended_at || leg.party !== 'end_user') return { changed: false, step: { kind: 'hangup' } as LegStep }
      return this.#choose(trx, tenantId, s, leg.id, digits, new Date())
    })
    if (result.changed) this.#afterCommit(tenantId)
    return result
  }

  /** A deflection choice on a live end-user leg of `s` (locked), in the caller's transaction. */
  async #choose(trx: Transaction<DB>, tenantId: TenantId, s: Locked, legId: string, digits: string, at: Date): Promise<{ changed: boolean; step: LegStep }> {
    if (s.status === 'voicemail') return { changed: false, step: { kind: 'voicemail' } }
    if (s.status !== 'deflected') return { changed: false, step: { kind: 'hangup' } }
    const options = await this.#choicesOf(trx, tenantId, s.id)
    const choice = options.find((o) => DEFLECTION_DIGITS[o] === digits.trim().slice(0, 1))
    if (choice === 'voicemail') {
      await this.#move(trx, tenantId, s, refuse(callTransition('deflected', { type: 'voicemail_started' }), s.num))
      return { changed: true, step: { kind: 'voicemail' } }
    }
    const when = choice === 'schedule_call' ? await this.#callbackTime(trx, tenantId, s.menu_id) : undefined
    if (!when || !s.end_user_number) return { changed: false, step: { kind: 'deflection', options } }
    refuse(callTransition('deflected', { type: 'callback_chosen' }), s.num)
    const parent = await trx.selectFrom('cc_sessions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', s.id).executeTakeFirstOrThrow()
    const child = callTransition(null, { type: 'create_scheduled' })
    if (!child.ok) throw new Error('a new call cannot be refused')
    const [num] = await nextNums(trx, tenantId, 'chat')
    const [participantNum] = await nextNums(trx, tenantId, 'participant')
    const created = await trx.insertInto('cc_sessions').values({
      tenant_id: tenantId, num: num!, channel: 'call', chat_type: CALL_TYPES.scheduled, status: child.status, status_text: CALL_STATUS_TEXT[child.status],
      menu_id: parent.menu_id, lang: parent.lang, end_user_num: parent.end_user_num, person_id: parent.person_id, priority: parent.priority, agent_id: null, assigned_at: null, queued_at: null,
      offer_type: null, answer_type: null, outbound_number: parent.outbound_number, support_number: parent.support_number, end_user_number: parent.end_user_number,
      out_ticket_id: parent.out_ticket_id, out_ticket_url: parent.out_ticket_url, scheduled_at: when, parent_num: s.num, recording_permission: parent.recording_permission, last_activity_at: at,
    }).returning('id').executeTakeFirstOrThrow()
    await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: participantNum!, session_id: created.id, type: 'end_user', end_user_num: parent.end_user_num, agent_id: null, status: 'waiting' }).execute()
    await this.#deps.jobs.enqueue(trx, CALL_SCHEDULED_JOB, { tenantId, callNum: num! }, { key: `call-scheduled:${tenantId}:${created.id}`, runAt: when, tenantId })
    // The deflected call's phone call is over once the person heard the confirmation (the vendor hangs up).
    await trx.updateTable('cc_call_legs').set({ ended_at: at, status: 'completed' }).where('tenant_id', '=', tenantId).where('id', '=', legId).execute()
    await trx.updateTable('cc_participants').set({ status: 'finished', ended_at: at }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('ended_at', 'is', null).execute()
    await trx.updateTable('cc_sessions').set({ ends_at: at, last_activity_at: at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    return { changed: true, step: { kind: 'scheduled', at: when } }
  }

  /** The choices a deflected call offers on the phone: its queue's deflection options for its reason (voicemail; schedule a call when there is a time to call back). */
  async #choicesOf(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, sessionId: string): Promise<DeflectionChoice[]> {
    const row = await db.selectFrom('cc_sessions').select(['menu_id', 'voicemail_reason']).where('tenant_id', '=', tenantId).where('id', '=', sessionId).executeTakeFirst()
    const menu = row?.menu_id ? (await this.#setup.menus(db, tenantId, { withDeleted: true })).find((m) => m.id === row.menu_id) : undefined
    if (!menu || (row!.voicemail_reason !== 'after_hours' && row!.voicemail_reason !== 'over_capacity')) return []
    const offered = choicesIn(menu.config[row!.voicemail_reason]?.deflection)
    if (offered.includes('schedule_call') && !(await this.#callbackTime(db, tenantId, menu.id))) return offered.filter((o) => o !== 'schedule_call')
    return offered
  }

  /**
   * When a call chosen back ("schedule a call") is placed: the queue's next opening when it is
   * closed (undefined when it does not open within the hours' eight-day horizon); when it is open
   * (over capacity) one callback slot (15 minutes) from now.
   */
  async #callbackTime(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, menuId: string | null): Promise<Date | undefined> {
    const menu = menuId ? (await this.#setup.menus(db, tenantId, { withDeleted: true })).find((m) => m.id === menuId) : undefined
    if (!menu) return undefined
    const now = new Date()
    const hours = queueHours(menu, (await this.#setup.settings(db, tenantId))?.timeZone ?? 'UTC')
    if (!hours || isOpen(hours, now)) return new Date(now.getTime() + CALLBACK_SLOT_MINUTES * 60_000)
    const next = nextChange(hours, now)
    return next?.open ? next.at : undefined
  }

  /**
   * W2: the outbound dialer's contact data for a call (screen-pop data), kept on the call and shown
   * to its agent (a `call_contact_data` event while the call is theirs). Later posts replace it.
   */
  async setContactData(tenantId: TenantId, num: number, data: Record<string, unknown>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      await trx.updateTable('cc_sessions').set({ contact_data: JSON.stringify(data) }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      if (s.agent_id && (LIVE_FOR_AGENT as readonly string[]).includes(s.status)) await recordAgentEvent(trx, tenantId, s.agent_id, 'call_contact_data', { call_id: num, contact_data: data })
    })
  }

  /** The end user's leg of a call, for the sandbox page acting as the person. */
  async endUserLeg(tenantId: TenantId, num: number): Promise<{ legId: string; providerCallId: string | null; answered: boolean } | undefined> {
    const s = await this.#db.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('num', '=', num).where('channel', '=', 'call').executeTakeFirst()
    if (!s) throw notFound(num)
    const leg = await this.#db.selectFrom('cc_call_legs').select(['id', 'provider_call_id', 'answered_at']).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
      .where('party', '=', 'end_user').where('ended_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirst()
    return leg ? { legId: leg.id, providerCallId: leg.provider_call_id, answered: leg.answered_at !== null } : undefined
  }

  /** A provider failure while dialling: `switching` to the fallback when there is one and it is the first attempt, else `failed`. */
  async #failDial(tenantId: TenantId, num: number, attempt: 0 | 1, retryable: boolean, details: string): Promise<void> {
    const fallback = retryable && attempt === 0 && (await this.#deps.voice(tenantId, 1)) !== undefined
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      const status = s.status as CallStatus
      const t = retryable ? callTransition(status, { type: 'provider_failed', fallback }) : callTransition(status, { type: 'leg_failed', reason: 'invalid_number' })
      if (!t.ok) return
      await this.#move(trx, tenantId, s, t, { fail_details: details.slice(0, 500), ...(t.status === 'switching' ? { provider_attempt: 1 } : { ends_at: new Date() }) })
    })
    this.#afterCommit(tenantId)
  }

  /** Run an event on a call (optionally one of `agent`'s) in a transaction. */
  async #change(tenantId: TenantId, num: number, event: CallEvent, agent?: Agent): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      if (agent && s.agent_id !== agent.id) throw notFound(num)
      const t = refuse(callTransition(s.status as CallStatus, event), num)
      await this.#move(trx, tenantId, s, t, t.status === 'finished' || t.status === 'failed' ? { ends_at: new Date() } : {})
    })
    this.#afterCommit(tenantId)
  }

  /** Write a transition (status, end data, durations) and perform its effects. */
  async #move(trx: Transaction<DB>, tenantId: TenantId, s: Locked, t: { status: CallStatus; effects: CallEffect[]; failReason?: FailReason; disconnectedBy?: string }, set: {
    queued_at?: Date; connected_at?: Date; ends_at?: Date; voip_provider?: string; fail_details?: string; provider_attempt?: number
  } = {}): Promise<void> {
    const ended = t.status === 'finished' || t.status === 'failed'
    const endsAt = set.ends_at ?? (ended ? new Date() : undefined)
    const connectedAt = set.connected_at ?? s.connected_at
    const hold = ended && s.hold_started_at && endsAt ? { hold_started_at: null, hold_duration: s.hold_duration + seconds(s.hold_started_at, endsAt) } : {}
    await trx.updateTable('cc_sessions').set({
      status: t.status, status_text: CALL_STATUS_TEXT[t.status], last_activity_at: new Date(), ...set, ...hold,
      ...(endsAt ? { ends_at: endsAt } : {}),
      ...(ended && connectedAt && endsAt ? { call_duration: seconds(connectedAt, endsAt) } : {}),
      ...(t.failReason ? { fail_reason: t.failReason } : {}),
      ...(t.disconnectedBy ? { disconnected_by: `disconnected_by_${t.disconnectedBy}` } : {}),
    }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    if (ended) {
      await trx.updateTable('cc_participants').set({ status: t.status === 'finished' ? 'finished' : 'failed', ended_at: endsAt ?? new Date() })
        .where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('ended_at', 'is', null).execute()
      await this.#abortTransfers(trx, tenantId, s)
    }
    await dialerCallMoved(trx, tenantId, s.id, s.status, t.status, t.failReason)
    await this.#effects(trx, tenantId, s, t.effects)
  }

  /** Perform a transition's effects in the transaction (telephony through jobs, so a crash loses none). */
  async #effects(trx: Transaction<DB>, tenantId: TenantId, s: Locked, effects: readonly CallEffect[]): Promise<void> {
    for (const e of effects) {
      switch (e.type) {
        case 'route': break // after the commit (#afterCommit kicks routing)
        case 'withdraw_offer': {
          const pending = await trx.selectFrom('cc_offers').select(['id', 'session_id', 'agent_id']).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('result', '=', 'pending').executeTakeFirst()
          if (pending) await this.#deps.routing.resolveOffer(trx, tenantId, pending, 'withdrawn')
          break
        }
        case 'agent_in_call':
          if (s.agent_id) await setAgentStatus(trx, this.#setup, tenantId, s.agent_id, SYSTEM_STATUSES.inCall)
          break
        case 'dial': {
          const attempt = e.fallback ? 1 : 0
          // A dialer call's second dial (the agent's leg, after the contact answered) has a key of its own.
          const agentLeg = s.agent_id && (await dialerCallOf(trx, tenantId, s.id)) ? ':agent' : ''
          await this.#deps.jobs.enqueue(trx, CALL_DIAL_JOB, { tenantId, callNum: s.num, attempt }, { key: `call-dial:${s.id}:${attempt}${agentLeg}`, tenantId })
          break
        }
        case 'hang_up_legs': {
          const legs = await trx.updateTable('cc_call_legs').set({ ended_at: new Date(), status: 'completed' }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
            .where('ended_at', 'is', null).returning(['provider_call_id', 'provider']).execute()
          for (const l of legs) {
            if (l.provider_call_id === null) continue
            await this.#deps.jobs.enqueue(trx, CALL_CONTROL_JOB, { tenantId, action: 'hang_up', providerCallId: l.provider_call_id, callId: s.id, attempt: s.provider_attempt === 1 ? 1 : 0 }, { key: `call-control:${l.provider_call_id}:hang_up`, tenantId })
          }
          break
        }
        case 'release_agent':
          if (s.agent_id) await releaseAgent(trx, this.#setup, tenantId, s.agent_id, { event: 'call_closed', data: { call_id: s.num }, sessionNum: s.num })
          break
        case 'hold_legs': {
          const leg = await trx.selectFrom('cc_call_legs').select('provider_call_id').where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('party', '=', 'end_user').where('ended_at', 'is', null).executeTakeFirst()
          if (leg?.provider_call_id) {
            await this.#deps.jobs.enqueue(trx, CALL_CONTROL_JOB, { tenantId, action: e.onHold ? 'hold' : 'resume', providerCallId: leg.provider_call_id, callId: s.id, attempt: s.provider_attempt === 1 ? 1 : 0 }, { key: `call-control:${leg.provider_call_id}:${randomUUID()}`, tenantId })
          }
          break
        }
        case 'recover_parent':
          if (s.parent_num !== null) {
            const parent = await trx.selectFrom('cc_sessions').select(['id', 'status']).where('tenant_id', '=', tenantId).where('num', '=', s.parent_num).where('channel', '=', 'call').forNoKeyUpdate().executeTakeFirst()
            if (parent && callTransition(parent.status as CallStatus, { type: 'recovered' }).ok) {
              await trx.updateTable('cc_sessions').set({ status: 'recovered', status_text: CALL_STATUS_TEXT.recovered }).where('tenant_id', '=', tenantId).where('id', '=', parent.id).execute()
            }
          }
          break
      }
    }
  }

  /**
   * The workspace: transfer one of my connected calls to another agent, or to a queue (offered to
   * the agent routing picks there). The receiving agent gets an `offer` (`channel` `call`,
   * `transfer_from`); when they accept, the platform dials their leg into the call's conference and,
   * once it answered, hangs up mine: the call stays `connected`, its agent is theirs, I go to
   * wrap-up. A declined or lapsed offer, or a leg that fails, fails the transfer (I keep the call,
   * `transfer_failed`). Every attempt is in the call's `transfers` (§3.7).
   */
  async transfer(agent: Agent, num: number, to: { agentNum: number } | { menuNum: number }): Promise<Call> {
    const tenantId = agent.tenantId
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      if (s.agent_id !== agent.id) throw notFound(num)
      refuse(callTransition(s.status as CallStatus, { type: 'transferred' }), num)
      const waiting = await trx.selectFrom('cc_transfers').select('id').where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('status', '=', 'transferring').executeTakeFirst()
      if (waiting) throw new ValidationError('transfer_pending', 'A transfer of this call is waiting for an answer')
      let target: { id: string; num: number }
      let toMenuId: string | null = null
      if ('menuNum' in to) {
        const menu = (await this.#setup.menus(trx, tenantId)).find((m) => m.num === to.menuNum && m.leaf && m.channels.includes('call'))
        if (!menu) throw new ValidationError('menu_not_found', `menu_id ${to.menuNum} is not found`, { menuId: to.menuNum })
        const picked = await this.#deps.routing.candidateFor(trx, tenantId, menu.id, [])
        if (!picked || picked.id === agent.id) throw new ValidationError('transfer_target_unavailable', 'No agent of that queue is available', { agentId: 0 })
        target = picked
        toMenuId = menu.id
      } else {
        // Locked as routing locks an agent it offers to, so the load counted below holds until the commit.
        const row = await trx.selectFrom('cc_agents as a').innerJoin('cc_statuses as st', (j) => j.onRef('st.tenant_id', '=', 'a.tenant_id').onRef('st.id', '=', 'a.status_id'))
          .select(['a.id', 'a.num', 'a.deactivated_at', 'a.logout_pending', 'a.chat_capacity', 'st.name as status']).where('a.tenant_id', '=', tenantId).where('a.num', '=', to.agentNum)
          .forUpdate('a').executeTakeFirst()
        if (!row) throw new NotFoundError('agent_not_found', 'no such agent', { agentId: to.agentNum })
        if (row.id === agent.id) throw new ValidationError('invalid_transfer', 'The call is already yours')
        if (row.deactivated_at || row.logout_pending || row.status === SYSTEM_STATUSES.offline) throw new ValidationError('transfer_target_unavailable', 'That agent is not signed in', { agentId: to.agentNum })
        // A call takes the whole agent: one on a call, with a pending offer, or at their capacity is full.
        const load = await trx.selectNoFrom(sql<number>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = ${tenantId} AND x.agent_id = ${row.id} AND x.status IN ('assigned', 'connecting', 'connected', 'switching'))
          + (SELECT count(*) FROM cc_offers o WHERE o.tenant_id = ${tenantId} AND o.agent_id = ${row.id} AND o.result = 'pending')`.as('n')).executeTakeFirstOrThrow()
        const onCall = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('agent_id', '=', row.id).where('channel', '=', 'call').where('status', 'in', [...LIVE_FOR_AGENT]).executeTakeFirst()
        if (onCall || row.status === SYSTEM_STATUSES.inCall || Number(load.n) >= row.chat_capacity) throw new ValidationError('transfer_target_full', 'That agent has no free capacity for a call', { agentId: to.agentNum })
        target = row
      }
      await offerTransfer(trx, this.#setup, tenantId, { session: s, from: agent, to: target, fromMenuId: toMenuId ? s.menu_id : null, toMenuId: toMenuId, channel: 'call' })
    })
    return this.get(tenantId, num)
  }

  /** An accepted offer of a transfer: the receiving agent is In-call and their leg is dialled into the conference. False for a routing offer. */
  async #acceptTransfer(trx: Transaction<DB>, agent: Agent, offer: { id: string; session_id: string; agent_id: string }, s: Locked, participantNum: number): Promise<boolean> {
    const tr = await trx.selectFrom('cc_transfers').select(['id', 'status']).where('tenant_id', '=', agent.tenantId).where('offer_id', '=', offer.id).executeTakeFirst()
    if (!tr) return false
    refuse(callTransition(s.status as CallStatus, { type: 'transferred' }), s.num)
    await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'accepted')
    const me = await trx.selectFrom('cc_agents').select('num').where('tenant_id', '=', agent.tenantId).where('id', '=', agent.id).executeTakeFirstOrThrow()
    await trx.insertInto('cc_participants').values({ tenant_id: agent.tenantId, num: participantNum, session_id: s.id, type: 'agent', agent_id: agent.id, end_user_num: null, status: 'connecting' }).execute()
    await setAgentStatus(trx, this.#setup, agent.tenantId, agent.id, SYSTEM_STATUSES.inCall)
    const legId = randomUUID()
    await trx.insertInto('cc_call_legs').values({ id: legId, tenant_id: agent.tenantId, session_id: s.id, party: 'agent', agent_id: agent.id, to_number: `client:agent-${me.num}`, provider: s.voip_provider ?? 'voip_provider_sandbox' }).execute()
    const attempt = s.provider_attempt === 1 ? 1 : 0
    await this.#deps.jobs.enqueue(trx, CALL_DIAL_JOB, { tenantId: agent.tenantId, callNum: s.num, attempt }, { key: `call-dial:${s.id}:leg:${legId}`, tenantId: agent.tenantId })
    await recordAgentEvent(trx, agent.tenantId, agent.id, 'call_assigned', { call_id: s.num, end_user_number: s.end_user_number, transfer: true })
    return true
  }

  /** The receiving agent's leg answered: the transfer is done, the call is theirs, the previous agent's leg is hung up and they go to wrap-up. */
  async #completeTransfer(trx: Transaction<DB>, tenantId: TenantId, s: Locked, toAgentId: string, at: Date): Promise<void> {
    const t = callTransition(s.status as CallStatus, { type: 'transferred' })
    if (!t.ok) return
    const done = await trx.updateTable('cc_transfers').set({ status: 'transferred' }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('status', '=', 'transferring')
      .where('to_agent_id', '=', toAgentId).returning('num').executeTakeFirst()
    if (!done) return
    const from = s.agent_id
    await trx.updateTable('cc_sessions').set({ agent_id: toAgentId, last_activity_at: at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    // A campaign's call: its contact is Transferred (§4.3).
    await dialerCallTransferred(trx, tenantId, s.id)
    if (from) {
      const legs = await trx.updateTable('cc_call_legs').set({ ended_at: at, status: 'completed' }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
        .where('party', '=', 'agent').where('agent_id', '=', from).where('ended_at', 'is', null).returning('provider_call_id').execute()
      for (const l of legs) {
        if (l.provider_call_id === null) continue
        await this.#deps.jobs.enqueue(trx, CALL_CONTROL_JOB, { tenantId, action: 'hang_up', providerCallId: l.provider_call_id, callId: s.id, attempt: s.provider_attempt === 1 ? 1 : 0 }, { key: `call-control:${l.provider_call_id}:hang_up`, tenantId })
      }
      await trx.updateTable('cc_participants').set({ status: 'transferred', ended_at: at }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
        .where('type', '=', 'agent').where('agent_id', '=', from).where('ended_at', 'is', null).execute()
      await releaseAgent(trx, this.#setup, tenantId, from, { event: 'call_closed', data: { call_id: s.num, transferred: true, transfer_id: done.num }, sessionNum: s.num })
    }
    await recordAgentEvent(trx, tenantId, toAgentId, 'call_connected', { call_id: s.num, transfer_id: done.num })
  }

  /** The receiving agent's leg failed before it answered: the transfer failed, the previous agent keeps the call. */
  async #failTransfer(trx: Transaction<DB>, tenantId: TenantId, s: Locked, toAgentId: string, reason: string): Promise<void> {
    const failed = await trx.updateTable('cc_transfers').set({ status: 'failed', fail_reason: reason }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
      .where('status', '=', 'transferring').where('to_agent_id', '=', toAgentId).returning(['num', 'from_agent_id']).executeTakeFirst()
    if (!failed) return
    await releaseAgent(trx, this.#setup, tenantId, toAgentId, { event: 'call_closed', data: { call_id: s.num, transfer_id: failed.num, transfer_failed: reason }, sessionNum: s.num })
    if (failed.from_agent_id) await recordAgentEvent(trx, tenantId, failed.from_agent_id, 'transfer_failed', { call_id: s.num, chat_id: s.num, transfer_id: failed.num, reason })
  }

  /** A transfer leg the provider refused to place. */
  async #endTransferLeg(tenantId: TenantId, legId: string, reason: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const leg = await trx.selectFrom('cc_call_legs').select(['session_id', 'agent_id']).where('tenant_id', '=', tenantId).where('id', '=', legId).executeTakeFirst()
      if (!leg?.agent_id) return
      const s = await this.#lock(trx, tenantId, undefined, leg.session_id)
      const ended = await trx.updateTable('cc_call_legs').set({ ended_at: new Date(), status: 'failed' }).where('tenant_id', '=', tenantId).where('id', '=', legId).where('ended_at', 'is', null).returning('id').executeTakeFirst()
      if (!ended) return
      await trx.updateTable('cc_participants').set({ status: 'failed', ended_at: new Date() }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
        .where('type', '=', 'agent').where('agent_id', '=', leg.agent_id).where('ended_at', 'is', null).execute()
      await this.#failTransfer(trx, tenantId, s, leg.agent_id, reason)
    })
  }

  /** The call ended: a transfer still waiting fails (`withdrawn`): its offer is withdrawn, an agent who had accepted is released. */
  async #abortTransfers(trx: Transaction<DB>, tenantId: TenantId, s: Locked): Promise<void> {
    const open = await trx.selectFrom('cc_transfers as t').leftJoin('cc_offers as o', (j) => j.onRef('o.tenant_id', '=', 't.tenant_id').onRef('o.id', '=', 't.offer_id'))
      .select(['t.to_agent_id', 'o.id as offer_id', 'o.result', 'o.agent_id']).where('t.tenant_id', '=', tenantId).where('t.session_id', '=', s.id).where('t.status', '=', 'transferring').execute()
    for (const x of open) {
      if (x.offer_id && x.result === 'pending' && x.agent_id) {
        await this.#deps.routing.resolveOffer(trx, tenantId, { id: x.offer_id, session_id: s.id, agent_id: x.agent_id }, 'withdrawn')
      } else if (x.to_agent_id) {
        await this.#failTransfer(trx, tenantId, s, x.to_agent_id, 'withdrawn')
      }
    }
  }

  /** The voicemails of the queues my teams serve (received or read), newest first. */
  async voicemails(agent: Agent): Promise<Call[]> {
    const menus = await this.#menusOf(agent)
    if (menus.length === 0) return []
    const rows = await this.#db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', agent.tenantId).where('channel', '=', 'call')
      .where('status', 'in', ['voicemail_received', 'voicemail_read']).where('menu_id', 'in', menus).orderBy('num', 'desc').limit(200).execute()
    return Promise.all(rows.map((r) => this.get(agent.tenantId, r.num)))
  }

  /** An agent opens a voicemail of a queue their teams serve: `voicemail_received` → `voicemail_read` (opening it again changes nothing). */
  async openVoicemail(agent: Agent, num: number): Promise<Call> {
    const menus = await this.#menusOf(agent)
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num).catch(() => undefined)
      if (!s || !s.menu_id || !menus.includes(s.menu_id) || !['voicemail_received', 'voicemail_read'].includes(s.status)) throw new NotFoundError('call_not_found', 'no such voicemail', { callId: num })
      if (s.status === 'voicemail_read') return
      await this.#move(trx, agent.tenantId, s, refuse(callTransition('voicemail_received', { type: 'voicemail_opened' }), num))
      await recordAgentEvent(trx, agent.tenantId, agent.id, 'voicemail_opened', { call_id: num })
    })
    return this.get(agent.tenantId, num)
  }

  /** The ids of the queues an agent's teams serve. */
  async #menusOf(agent: Agent): Promise<string[]> {
    const teams = agent.teams.map((x) => x.id)
    if (teams.length === 0) return []
    return (await this.#db.selectFrom('cc_menu_teams').select('menu_id').where('tenant_id', '=', agent.tenantId).where('team_id', 'in', teams).execute()).map((r) => r.menu_id)
  }

  /**
   * Whether a queue deflects a new call: `after_hours` / `over_capacity` when it is closed (its hours)
   * or full (`over_capacity.max_queued` calls waiting) and that case's `deflection` offers
   * `voicemail`; `closed` when it is closed without it (refused); undefined when it takes the call.
   */
  async #deflection(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, menu: Menu): Promise<Deflection | undefined> {
    const hours = queueHours(menu, (await this.#setup.settings(db, tenantId))?.timeZone ?? 'UTC')
    if (hours && !isOpen(hours, new Date())) {
      const options = choicesIn(menu.config.after_hours?.deflection)
      return options.length > 0 ? { reason: 'after_hours', options } : 'closed'
    }
    const max = menu.config.over_capacity?.max_queued
    const options = choicesIn(menu.config.over_capacity?.deflection)
    if (max === undefined || options.length === 0) return undefined
    const row = await db.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).where('menu_id', '=', menu.id).where('channel', '=', 'call').where('status', '=', 'queued').executeTakeFirstOrThrow()
    return Number(row.n) >= max ? { reason: 'over_capacity', options } : undefined
  }

  /** A deflected call's phone call: the end user's leg, dialled by the provider to choose (deflected) or record a message (voicemail). */
  async #dialPerson(trx: Transaction<DB>, tenantId: TenantId, sessionId: string, num: number, phone: string): Promise<void> {
    await trx.insertInto('cc_call_legs').values({ id: randomUUID(), tenant_id: tenantId, session_id: sessionId, party: 'end_user', agent_id: null, to_number: phone, provider: 'pending' }).execute()
    await this.#deps.jobs.enqueue(trx, CALL_DIAL_JOB, { tenantId, callNum: num, attempt: 0 }, { key: `call-dial:${sessionId}:voicemail`, tenantId })
  }

  /** The control job: hang up, hold or resume a leg on the provider that placed it. */
  async control(tenantId: TenantId, action: 'hang_up' | 'hold' | 'resume', providerCallId: string, callId: string, attempt: 0 | 1): Promise<void> {
    const control = await this.#deps.voice(tenantId, attempt)
    if (!control) return
    if (action === 'hang_up') await control.hangUp(providerCallId)
    else await control.hold(providerCallId, callId, action === 'hold')
  }

  #afterCommit(tenantId: TenantId): void {
    void this.#deps.routing.kick(tenantId)
  }

  async #lock(trx: Transaction<DB>, tenantId: TenantId, num?: number, id?: string): Promise<Locked> {
    let q = trx.selectFrom('cc_sessions').select(['id', 'num', 'status', 'agent_id', 'voip_provider', 'menu_id', 'end_user_number', 'outbound_number', 'parent_num', 'connected_at', 'hold_started_at', 'hold_duration', 'provider_attempt', 'recording_permission'])
      .where('tenant_id', '=', tenantId).where('channel', '=', 'call')
    q = num !== undefined ? q.where('num', '=', num) : q.where('id', '=', id!)
    const row = await q.forNoKeyUpdate().executeTakeFirst()
    if (!row) throw notFound(num ?? 0)
    return row
  }

  async #isCallOffer(agent: Agent, offerId: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(offerId)) return false
    const row = await this.#db.selectFrom('cc_offers as o').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'o.tenant_id').onRef('s.id', '=', 'o.session_id'))
      .select('s.channel').where('o.tenant_id', '=', agent.tenantId).where('o.id', '=', offerId).where('o.agent_id', '=', agent.id).executeTakeFirst()
    return row?.channel === 'call'
  }

  async #lockOffer(trx: Transaction<DB>, agent: Agent, offerId: string) {
    const offer = await trx.selectFrom('cc_offers').select(['id', 'session_id', 'agent_id']).where('tenant_id', '=', agent.tenantId).where('id', '=', offerId)
      .where('agent_id', '=', agent.id).where('result', '=', 'pending').forNoKeyUpdate().executeTakeFirst()
    if (!offer) throw new NotFoundError('offer_not_found', 'no such offer (expired, withdrawn or taken)')
    return offer
  }

  /** C1/C2's checks, in the order of the spec's list; the agent, the number to dial and the ticket. */
  async #checkOutbound(tenantId: TenantId, input: CreateCallInput) {
    const email = text(input.agentEmail)
    if (!email) throw invalid('Agent email required')
    const ticketId = present(input.ticketId) ? text(input.ticketId) : undefined
    if (!ticketId && !present(input.endUserNumber)) throw invalid('ticket_id or end_user_number required')
    let phone: string | undefined
    if (!ticketId) {
      phone = typeof input.endUserNumber === 'string' ? callPhone(input.endUserNumber) : undefined
      if (!phone) throw invalid('end_user_number is not well-formed')
    }
    // PostgreSQL text holds no NUL: such an address is no agent's.
    const agent = email.includes('\u0000') || email.length > 254 ? undefined
      : await this.#db.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst()
    const full = agent ? await this.#agent(tenantId, agent.id) : undefined
    if (!full || full.deactivatedAt !== null || !full.roles.includes('Agent')) throw invalid('Not a valid agent email')
    if (!full.permissions.includes('outbound_call')) throw invalid('Agent does not have access to make calls')
    if (full.status.name !== SYSTEM_STATUSES.available || full.logoutPending) throw invalid('Agent is not available to take this call')
    const ticket = ticketId ? await this.#deps.tickets?.findTicket(tenantId, ticketId) : undefined
    if (ticketId) {
      phone = ticket?.contact.phone ? callPhone(ticket.contact.phone) : undefined
      if (!ticket || !phone) throw invalid('Contact not found')
    }
    let menu: Menu | undefined
    if (present(input.menuId)) {
      const menuNum = idOf(input.menuId)
      if (menuNum === undefined) throw invalid('menu_id is not well formed')
      menu = (await this.#setup.menus(this.#db, tenantId)).find((m) => m.num === menuNum && m.leaf)
      if (!menu) throw invalid(`menu_id ${menuNum} is not found`)
    }
    if ((await this.#deps.dnc.listed({ id: tenantId }, [phone!])).size > 0) throw invalid('end_user_number is in the DNC list')
    const lang = text(input.lang) || 'en'
    const settings = await this.#setup.settings(this.#db, tenantId)
    const confirmBy = settings?.confirmOutboundCalls ? new Date(Date.now() + settings.outboundConfirmSeconds * 1000) : undefined
    return { agent: full, phone: phone!, ticket, menu, lang, outboundNumber: await this.#outboundNumber(tenantId, input.outboundNumber), scheduledAt: undefined, parentNum: undefined, recordingPermission: 'not_asked', deflect: undefined, confirmBy }
  }

  /** C3/C4's checks, in the order of the spec's lists. */
  async #checkQueued(tenantId: TenantId, input: CreateCallInput) {
    const scheduled = input.kind === 'scheduled'
    if (scheduled && !present(input.scheduledAt)) throw invalid('scheduled_at is required')
    let parent: { num: number; menu_id: string | null } | undefined
    if (scheduled && present(input.callId)) {
      const parentNum = idOf(input.callId)
      parent = parentNum === undefined ? undefined
        : await this.#db.selectFrom('cc_sessions').select(['num', 'menu_id']).where('tenant_id', '=', tenantId).where('num', '=', parentNum).where('channel', '=', 'call').executeTakeFirst()
      if (!parent) throw invalid(`call_id ${text(input.callId)} is not found`)
    }
    const menus = await this.#setup.menus(this.#db, tenantId)
    let menu: Menu | undefined
    if (present(input.menuId)) {
      const menuNum = idOf(input.menuId)
      if (menuNum === undefined) throw invalid('menu_id is not well formed')
      menu = menus.find((m) => m.num === menuNum && m.leaf && m.channels.includes('call'))
      if (!menu) throw invalid(`menu_id ${menuNum} is not found`)
    } else if (parent?.menu_id) {
      menu = menus.find((m) => m.id === parent.menu_id)
      if (!menu) throw invalid('menu_id is required')
    } else {
      throw invalid('menu_id is required')
    }
    if (scheduled ? menu.menuType === 'ivr_menu' : menu.menuType === 'mobile_menu') {
      throw invalid(scheduled ? 'Only mobile and web menu IDs are permitted' : 'Only IVR and mobile menu IDs are permitted')
    }
    if (menu.config.manual_redirection?.enabled) throw invalid("Menu is in 'manual redirection' state, can't accept calls")
    let deflect: Deflection | undefined
    if (!scheduled) {
      deflect = await this.#deflection(this.#db, tenantId, menu)
      if (deflect === 'closed') throw invalid("Menu is in 'after hours' state, can't accept incoming calls")
    }
    const lang = text(input.lang) || 'en'
    if (!menu.languages.includes(lang)) throw invalid(knownLanguage(lang) ? `Language '${lang}' is not available` : `Language '${lang}' is not found`)
    const ticketId = present(input.ticketId) ? text(input.ticketId) : undefined
    const ticket = ticketId ? await this.#deps.tickets?.findTicket(tenantId, ticketId) : undefined
    let phone = ticket?.contact.phone ? callPhone(ticket.contact.phone) : undefined
    if (!phone) {
      if (!present(input.endUserNumber)) throw invalid('end_user_number is required')
      phone = typeof input.endUserNumber === 'string' ? callPhone(input.endUserNumber) : undefined
      if (!phone) throw invalid('end_user_number is not well formed')
    }
    let scheduledAt: Date | undefined
    if (scheduled) {
      const raw = text(input.scheduledAt) ?? ''
      scheduledAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw) ? new Date(raw) : undefined
      if (!scheduledAt || Number.isNaN(scheduledAt.getTime())) throw invalid('scheduled_at is not well formed')
      if (scheduledAt.getTime() <= Date.now()) throw invalid('scheduled_at must be a future time')
    }
    const permission = text(input.recordingPermission)
    const recordingPermission = permission === 'recording_permission_granted' ? 'granted' : permission === 'recording_permission_denied' ? 'denied' : 'not_asked'
    return {
      agent: undefined, phone, ticket: ticket && phone ? ticket : undefined, menu, lang, outboundNumber: await this.#outboundNumber(tenantId, input.outboundNumber),
      scheduledAt, parentNum: parent?.num, recordingPermission, deflect: deflect === 'closed' ? undefined : deflect, confirmBy: undefined,
    }
  }

  /** The caller id: the number given when it is one of the tenant's voice numbers, else the tenant's first voice number (§2.1: no error). */
  async #outboundNumber(tenantId: TenantId, raw: unknown): Promise<string | null> {
    const numbers = (await this.#setup.phoneNumbers(this.#db, tenantId)).filter((n) => n.voice)
    const given = typeof raw === 'string' ? callPhone(raw) : undefined
    return numbers.find((n) => n.number === given)?.number ?? numbers[0]?.number ?? null
  }

  async #agent(tenantId: TenantId, id: string): Promise<Agent | undefined> {
    return this.#agents.findById(this.#db, tenantId, id)
  }
}

/** A refused transition as the surfaces say it: a call that ended, or one not in a state for the action. */
function refuse(t: ReturnType<typeof callTransition>, num: number): { status: CallStatus; effects: CallEffect[]; failReason?: FailReason; disconnectedBy?: string } {
  if (t.ok) return t
  if (t.refusal === 'ended') throw new ValidationError('call_ended', 'Call is already ended', { callId: num })
  throw new ValidationError('call_not_live', 'The call is not in a state for this action', { callId: num })
}

export type { CallKind }

/** Why a queue deflects a call (`voicemail_reason`) and what the person may choose, or `closed`: after hours with nothing to offer. */
type Deflection = { reason: 'after_hours' | 'over_capacity'; options: DeflectionChoice[] } | 'closed'

/** The phone choices among a queue's deflection options, in its order. */
function choicesIn(options: readonly string[] | undefined): DeflectionChoice[] {
  return (options ?? []).filter((o): o is DeflectionChoice => o === 'voicemail' || o === 'schedule_call')
}

/** queued (or a scheduled call firing) → deflected: the person chooses on the phone. */
function deflectedPath(from: CallStatus): { ok: true; status: CallStatus; effects: CallEffect[] } {
  const deflected = callTransition(from === 'scheduled' ? 'queued' : from, { type: 'deflect' })
  if (!deflected.ok) throw new Error(`no deflection from ${from}`)
  return { ok: true, status: deflected.status, effects: [] }
}

/** queued (or a scheduled call firing) → deflected → voicemail: the end user is to leave a message. */
function voicemailPath(from: CallStatus): { ok: true; status: CallStatus; effects: CallEffect[] } {
  const deflected = callTransition(from === 'scheduled' ? 'queued' : from, { type: 'deflect' })
  const voicemail = deflected.ok ? callTransition(deflected.status, { type: 'voicemail_started' }) : deflected
  if (!voicemail.ok) throw new Error(`no voicemail path from ${from}`)
  return { ok: true, status: voicemail.status, effects: [] }
}


/**
 * Where a vendor posts a leg's status callbacks and fetches its instructions: the vendor's webhook
 * surface, `/webhooks/<vendor>/voice/<tenant>/status|answer?leg=<leg id>` (the sandbox calls none).
 */
export function legCallbackUrls(publicUrl: string, vendor: string, tenantId: TenantId, legId: string): { statusCallbackUrl: string; answerUrl: string; inputUrl: string } {
  const base = `${publicUrl}/webhooks/${encodeURIComponent(vendor)}/voice/${tenantId}`
  return { statusCallbackUrl: `${base}/status?leg=${legId}`, answerUrl: `${base}/answer?leg=${legId}`, inputUrl: `${base}/input?leg=${legId}` }
}
