import type { Kysely, Transaction } from 'kysely'
import type { DB, OfferEventRow } from '../../db/schema.ts'
import type { JobQueue } from '../../jobs/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Agent, Menu } from './contact-center.types.ts'
import { STATUS_TEXT, transition, type ChatEffect, type ChatEvent, type ChatStatus } from './chat.machine.ts'
import { isOpen } from './hours.ts'
import { recordAgentEvent, type RoutingService } from './routing.service.ts'
import { nextNums, SetupRepository } from './setup.repository.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'

/** A participant of a chat (§3.3). */
export interface ChatParticipant {
  readonly num: number
  readonly type: 'end_user' | 'agent' | 'virtual_agent'
  readonly status: string
  readonly agentNum: number | null
  readonly endUserNum: number | null
  readonly connectedAt: Date | null
  readonly endedAt: Date | null
}

/** An agent as a chat shows it. */
export interface ChatAgent { readonly num: number; readonly firstName: string; readonly lastName: string; readonly email: string; readonly agentNumber: string | null; readonly status: string }

/** A chat as the Apps API and the agent workspace read it. */
export interface Chat {
  readonly id: string
  readonly tenantId: TenantId
  readonly num: number
  readonly status: ChatStatus
  readonly statusText: string
  readonly chatType: string
  readonly lang: string
  readonly menu: Menu | null
  readonly menuPath: Menu[]
  readonly endUserNum: number | null
  readonly email: string | null
  readonly context: Record<string, unknown> | null
  readonly customData: Record<string, unknown> | null
  readonly verified: boolean
  readonly badActor: boolean
  readonly repeatCustomer: boolean
  readonly agent: ChatAgent | null
  readonly allAgents: ChatAgent[]
  readonly virtualAgent: { name: string; status: string } | null
  readonly participants: ChatParticipant[]
  readonly offerType: string | null
  readonly offerEvents: OfferEventRow[]
  readonly answerType: string | null
  readonly outboundNumber: string | null
  readonly disconnectedBy: string
  readonly createdAt: Date
  readonly queuedAt: Date | null
  readonly assignedAt: Date | null
  readonly endsAt: Date | null
  readonly timeoutAt: Date | null
}

/** A chat message (§3.16). */
export interface ChatMessage {
  readonly num: number
  readonly chatNum: number
  readonly fromEndUserNum: number | null
  readonly fromAgentNum: number | null
  readonly type: string
  readonly content: string | null
  readonly mediaId: string | null
  readonly createdAt: Date
}

/** What the webhook of a chat event carries, rendered by the surface that owns the wire shape. */
export type ChatWebhookEvent =
  | { type: 'message_received'; chat: Chat; message: ChatMessage }
  | { type: 'participant_joined' | 'participant_left'; chat: Chat; participant: ChatParticipant }
  | { type: 'chat_ended' | 'chat_dismissed'; chat: Chat }

/** The ports the chat service reaches out through (wired in services.ts). */
export interface ChatsDeps {
  db: Kysely<DB>
  jobs: JobQueue
  routing: RoutingService
  /** Enqueue a tenant webhook in the caller's transaction (outbound webhooks, §1.12). */
  webhook: (trx: Transaction<DB>, tenantId: TenantId, event: ChatWebhookEvent, key: string) => Promise<void>
  /** Wake the webhook sender after a commit. */
  wakeWebhooks: () => void
}

const LIVE_FOR_AGENT = ['assigned'] as const

/**
 * Chats of the contact center: started on a leaf queue (H12), end-user messages in (H3), routed to
 * agents who accept offers in the agent API, agent messages out through the tenant's webhook,
 * ended by either side (H1, the workspace). Each change runs the pure machine (`chat.machine.ts`)
 * and performs its effects in the same transaction; routing is kicked after the commit.
 */
export class ChatsService {
  readonly #db: Kysely<DB>
  readonly #deps: ChatsDeps
  readonly #setup: SetupRepository

  constructor(deps: ChatsDeps) {
    this.#db = deps.db
    this.#deps = deps
    this.#setup = new SetupRepository(deps.db)
  }

  /**
   * H12: start a chat on a leaf queue for an end user. Throws ValidationError `menu_not_found`
   * (unknown, deleted, not a leaf, or not a chat queue), `language_not_available`, `menu_after_hours`.
   */
  async start(tenantId: TenantId, input: { menuNum: number; endUserNum: number; lang?: string; email?: string; context?: Record<string, unknown> }): Promise<Chat> {
    const lang = input.lang ?? 'en'
    const menus = await this.#setup.menus(this.#db, tenantId)
    const menu = menus.find((m) => m.num === input.menuNum)
    if (!menu || !menu.leaf || !menu.channels.includes('chat')) throw new ValidationError('menu_not_found', `menu_id ${input.menuNum} is not found`, { menuId: input.menuNum })
    if (!menu.languages.includes(lang)) throw new ValidationError('language_not_available', `Language '${lang}' is not available`, { lang })
    const settings = await this.#setup.settings(this.#db, tenantId)
    if (menu.config.hours && !isOpen({ timeZone: menu.config.hours.time_zone ?? settings?.timeZone ?? 'UTC', weekly: menu.config.hours.weekly as never, holidays: (menu.config.hours.holidays ?? []) as never }, new Date())) {
      throw new ValidationError('menu_after_hours', "Menu is in 'after hours' state, can't accept chats", { menuId: input.menuNum })
    }
    const virtualAgent = menu.config.virtual_agent !== undefined
    const num = await this.#db.transaction().execute(async (trx) => {
      const [chatNum] = await nextNums(trx, tenantId, 'chat')
      const t = transition(null, { type: 'start', virtualAgent })
      if (!t.ok) throw new Error('a new chat cannot be refused')
      const now = new Date()
      const session = await trx.insertInto('cc_sessions').values({
        tenant_id: tenantId, num: chatNum!, channel: 'chat', chat_type: menu.menuType === 'mobile_menu' ? 'Mobile' : 'Web', status: t.status,
        status_text: STATUS_TEXT[t.status], menu_id: menu.id, lang, end_user_num: input.endUserNum, email: input.email ?? null,
        context: input.context ? JSON.stringify(input.context) : null, priority: menu.priority, queued_at: t.status === 'queued' ? now : null,
        answer_type: 'manual', offer_type: null, last_activity_at: now,
      }).returning('id').executeTakeFirstOrThrow()
      const [p1, p2] = await nextNums(trx, tenantId, 'participant', virtualAgent ? 2 : 1)
      await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p1!, session_id: session.id, type: 'end_user', end_user_num: input.endUserNum, agent_id: null, status: 'connected', connected_at: now }).execute()
      if (virtualAgent) await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p2!, session_id: session.id, type: 'virtual_agent', agent_id: null, end_user_num: null, status: 'connected', connected_at: now }).execute()
      await this.#effects(trx, tenantId, chatNum!, t.effects)
      return chatNum!
    })
    this.#afterCommit(tenantId)
    return this.get(tenantId, num)
  }

  /** A chat by its Apps API id; NotFoundError `chat_not_found`. */
  async get(tenantId: TenantId, num: number, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<Chat> {
    const row = await db.selectFrom('cc_sessions').selectAll().where('tenant_id', '=', tenantId).where('num', '=', num).where('channel', '=', 'chat').executeTakeFirst()
    if (!row) throw new NotFoundError('chat_not_found', 'no such chat', { chatId: num })
    const menus = row.menu_id ? await this.#setup.menus(db, tenantId, { withDeleted: true }) : []
    const menu = menus.find((m) => m.id === row.menu_id) ?? null
    const path: Menu[] = []
    for (let m = menu; m; m = menus.find((x) => x.num === m!.parentNum) ?? null) path.unshift(m)
    const participants = await db.selectFrom('cc_participants as p').leftJoin('cc_agents as a', (j) => j.onRef('a.tenant_id', '=', 'p.tenant_id').onRef('a.id', '=', 'p.agent_id'))
      .select(['p.num', 'p.type', 'p.status', 'p.end_user_num', 'p.connected_at', 'p.ended_at', 'a.num as agent_num', 'a.first_name', 'a.last_name', 'a.email', 'a.agent_number'])
      .where('p.tenant_id', '=', tenantId).where('p.session_id', '=', row.id).orderBy('p.num').execute()
    const agents = participants.filter((p) => p.type === 'agent').map((p): ChatAgent => ({
      num: p.agent_num!, firstName: p.first_name!, lastName: p.last_name!, email: p.email!, agentNumber: p.agent_number, status: p.status,
    }))
    const current = row.agent_id ? agents.filter((a) => a.status === 'connected').at(-1) ?? null : null
    const va = participants.find((p) => p.type === 'virtual_agent')
    const settings = await this.#setup.settings(db, tenantId)
    const live = row.status === 'assigned' || row.status === 'va_assigned'
    return {
      id: row.id, tenantId, num: row.num, status: row.status as ChatStatus, statusText: row.status_text, chatType: row.chat_type, lang: row.lang,
      menu, menuPath: path, endUserNum: row.end_user_num, email: row.email, context: row.context, customData: row.custom_data,
      verified: row.verified, badActor: row.bad_actor, repeatCustomer: row.repeat_customer,
      agent: current, allAgents: agents,
      virtualAgent: va ? { name: menu?.config.virtual_agent?.name ?? 'Virtual agent', status: va.status } : null,
      participants: participants.map((p) => ({ num: p.num, type: p.type, status: p.status, agentNum: p.agent_num ?? null, endUserNum: p.end_user_num, connectedAt: p.connected_at, endedAt: p.ended_at })),
      offerType: row.offer_type, offerEvents: row.offer_events, answerType: row.answer_type, outboundNumber: row.outbound_number,
      disconnectedBy: row.disconnected_by, createdAt: row.created_at, queuedAt: row.queued_at, assignedAt: row.assigned_at, endsAt: row.ends_at,
      timeoutAt: live && settings ? new Date(row.last_activity_at.getTime() + settings.chatDismissalSeconds * 1000) : null,
    }
  }

  /**
   * H3: an end-user message into the chat. Throws `chat_ended` on a terminal chat, `chat_dismissed`
   * on a dismissed one (resume it first), `not_a_participant` for another end user.
   */
  async endUserMessage(tenantId: TenantId, num: number, input: { fromUserNum: number; type: string; content: string | null; mediaId: string | null }): Promise<ChatMessage> {
    const message = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      this.#refuse(transition(s.status as ChatStatus, { type: 'end_user_message' }))
      if (s.end_user_num !== input.fromUserNum) throw new ValidationError('not_a_participant', 'from_user_id is not the end user of this chat')
      const m = await this.#insertMessage(trx, tenantId, s, { fromEndUser: true, agentId: null, ...input })
      if (s.agent_id) await recordAgentEvent(trx, tenantId, s.agent_id, 'message', { chat_id: num, message_id: m.num, from: 'end_user', type: m.type, content: m.content, media_id: m.mediaId, created_at: m.createdAt.toISOString() })
      return m
    })
    return message
  }

  /** H1 / the workspace: end the chat. `by` the end user (H1), the agent, or the system. */
  async end(tenantId: TenantId, num: number, by: 'end_user' | 'agent' | 'system', agentId?: string): Promise<Chat> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      if (agentId !== undefined && s.agent_id !== agentId) throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: num })
      const t = this.#refuse(transition(s.status as ChatStatus, { type: 'end', by }))
      const now = new Date()
      const agentReleased = s.agent_id
      await trx.updateTable('cc_sessions').set({
        status: t.status, status_text: STATUS_TEXT[t.status], ends_at: now, last_activity_at: now,
        disconnected_by: by === 'end_user' ? 'disconnected_by_end_user' : by === 'agent' ? 'disconnected_by_agent' : 'disconnected_by_system',
      }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      await trx.updateTable('cc_participants').set({ status: 'finished', ended_at: now }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('ended_at', 'is', null).execute()
      await this.#effects(trx, tenantId, num, t.effects, agentReleased)
    })
    this.#afterCommit(tenantId)
    return this.get(tenantId, num)
  }

  /** The workspace: accept an offer. The chat is the agent's; NotFoundError `offer_not_found` when it is gone (expired, withdrawn). */
  async accept(agent: Agent, offerId: string): Promise<Chat> {
    const num = await this.#db.transaction().execute(async (trx) => {
      const offer = await this.#lockOffer(trx, agent, offerId)
      const s = await this.#lock(trx, agent.tenantId, undefined, offer.session_id)
      const t = this.#refuse(transition(s.status as ChatStatus, { type: 'accepted' }))
      await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'accepted')
      const now = new Date()
      await trx.updateTable('cc_sessions').set({ status: t.status, status_text: STATUS_TEXT[t.status], agent_id: agent.id, assigned_at: now, last_activity_at: now })
        .where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      const [p] = await nextNums(trx, agent.tenantId, 'participant')
      await trx.insertInto('cc_participants').values({ tenant_id: agent.tenantId, num: p!, session_id: s.id, type: 'agent', agent_id: agent.id, end_user_num: null, status: 'connected', connected_at: now }).execute()
      await this.#setAgentStatus(trx, agent.tenantId, agent.id, SYSTEM_STATUSES.inChat)
      await this.#effects(trx, agent.tenantId, s.num, t.effects)
      await recordAgentEvent(trx, agent.tenantId, agent.id, 'chat_assigned', { chat_id: s.num })
      return s.num
    })
    this.#afterCommit(agent.tenantId)
    return this.get(agent.tenantId, num)
  }

  /** The workspace: decline an offer; the chat goes to the next agent. */
  async decline(agent: Agent, offerId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const offer = await this.#lockOffer(trx, agent, offerId)
      await this.#lock(trx, agent.tenantId, undefined, offer.session_id)
      await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'rejected')
    })
    this.#afterCommit(agent.tenantId)
  }

  /** The workspace: an agent message (or attachment) into one of the agent's chats, out through the webhook. */
  async agentMessage(agent: Agent, num: number, input: { type: string; content: string | null; mediaId: string | null }): Promise<ChatMessage> {
    const m = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num)
      if (s.agent_id !== agent.id || !(LIVE_FOR_AGENT as readonly string[]).includes(s.status)) {
        if (s.agent_id === agent.id) throw new ValidationError('chat_ended', 'Chat is already ended', { chatId: num })
        throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: num })
      }
      const message = await this.#insertMessage(trx, agent.tenantId, s, { fromEndUser: false, agentId: agent.id, fromUserNum: null, ...input })
      const chat = await this.get(agent.tenantId, num, trx)
      await this.#deps.webhook(trx, agent.tenantId, { type: 'message_received', chat, message }, `chat:${num}:message:${message.num}`)
      await recordAgentEvent(trx, agent.tenantId, agent.id, 'message', { chat_id: num, message_id: message.num, from: 'agent', type: message.type, content: message.content, media_id: message.mediaId, created_at: message.createdAt.toISOString() })
      return message
    })
    this.#deps.wakeWebhooks()
    return m
  }

  /** The chats an agent handles now, and their messages so far (the workspace on reload). */
  async forAgent(agent: Agent): Promise<Chat[]> {
    const rows = await this.#db.selectFrom('cc_sessions').select('num').where('tenant_id', '=', agent.tenantId).where('agent_id', '=', agent.id)
      .where('status', 'in', [...LIVE_FOR_AGENT]).orderBy('num').execute()
    return Promise.all(rows.map((r) => this.get(agent.tenantId, r.num)))
  }

  /** The messages of a chat, oldest first. */
  async messages(tenantId: TenantId, num: number): Promise<ChatMessage[]> {
    const rows = await this.#db.selectFrom('cc_messages as m').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.id', '=', 'm.session_id'))
      .leftJoin('cc_agents as a', (j) => j.onRef('a.tenant_id', '=', 'm.tenant_id').onRef('a.id', '=', 'm.agent_id'))
      .select(['m.num', 's.num as chat_num', 's.end_user_num', 'm.from_end_user', 'a.num as agent_num', 'm.type', 'm.content', 'm.media_id', 'm.created_at'])
      .where('m.tenant_id', '=', tenantId).where('s.num', '=', num).orderBy('m.num').execute()
    return rows.map((r) => ({ num: r.num, chatNum: r.chat_num, fromEndUserNum: r.from_end_user ? r.end_user_num : null, fromAgentNum: r.agent_num ?? null, type: r.type, content: r.content, mediaId: r.media_id, createdAt: r.created_at }))
  }

  async #insertMessage(trx: Transaction<DB>, tenantId: TenantId, s: { id: string; num: number; end_user_num: number | null }, input: { fromEndUser: boolean; agentId: string | null; fromUserNum: number | null; type: string; content: string | null; mediaId: string | null }): Promise<ChatMessage> {
    const [num] = await nextNums(trx, tenantId, 'message')
    const row = await trx.insertInto('cc_messages').values({
      tenant_id: tenantId, num: num!, session_id: s.id, from_end_user: input.fromEndUser, agent_id: input.agentId, type: input.type, content: input.content, media_id: input.mediaId,
    }).returning(['created_at']).executeTakeFirstOrThrow()
    await trx.updateTable('cc_sessions').set({ last_activity_at: row.created_at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    const agentNum = input.agentId ? (await trx.selectFrom('cc_agents').select('num').where('tenant_id', '=', tenantId).where('id', '=', input.agentId).executeTakeFirstOrThrow()).num : null
    return { num: num!, chatNum: s.num, fromEndUserNum: input.fromEndUser ? s.end_user_num : null, fromAgentNum: agentNum, type: input.type, content: input.content, mediaId: input.mediaId, createdAt: row.created_at }
  }

  /** Perform a transition's effects in the transaction. */
  async #effects(trx: Transaction<DB>, tenantId: TenantId, num: number, effects: readonly ChatEffect[], releasedAgent?: string | null): Promise<void> {
    for (const e of effects) {
      if (e.type === 'webhook') {
        const chat = await this.get(tenantId, num, trx)
        if (e.event === 'participant_joined' || e.event === 'participant_left') {
          const p = [...chat.participants].reverse().find((x) => x.type === e.who)
          if (p) await this.#deps.webhook(trx, tenantId, { type: e.event, chat, participant: p }, `chat:${num}:${e.event}:${p.num}`)
        } else {
          await this.#deps.webhook(trx, tenantId, { type: e.event, chat }, `chat:${num}:${e.event}:${chat.endsAt?.getTime() ?? Date.now()}`)
        }
      } else if (e.type === 'withdraw_offer') {
        const pending = await trx.selectFrom('cc_offers as o').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'o.tenant_id').onRef('s.id', '=', 'o.session_id'))
          .select(['o.id', 'o.session_id', 'o.agent_id']).where('o.tenant_id', '=', tenantId).where('s.num', '=', num).where('o.result', '=', 'pending').executeTakeFirst()
        if (pending) await this.#deps.routing.resolveOffer(trx, tenantId, pending, 'withdrawn')
      } else if (e.type === 'release_agent' && releasedAgent) {
        await this.#releaseAgent(trx, tenantId, releasedAgent, num)
      }
    }
  }

  /**
   * An agent's chat ended or left them: with no other chat, the agent returns to the status they
   * chose (idle from now), or goes Offline when a force logout waits. Wrap-up time is not enforced
   * yet (the agent is free at once; see the README).
   */
  async #releaseAgent(trx: Transaction<DB>, tenantId: TenantId, agentId: string, num: number): Promise<void> {
    await recordAgentEvent(trx, tenantId, agentId, 'chat_closed', { chat_id: num })
    const other = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).where('status', '=', 'assigned').limit(1).executeTakeFirst()
    const agent = await trx.selectFrom('cc_agents').select(['chosen_status_id', 'logout_pending']).where('tenant_id', '=', tenantId).where('id', '=', agentId).forUpdate().executeTakeFirstOrThrow()
    if (other) {
      await trx.updateTable('cc_agents').set({ idle_since: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
      return
    }
    if (agent.logout_pending) {
      await this.#setAgentStatus(trx, tenantId, agentId, SYSTEM_STATUSES.offline, { chosen: null, logoutPending: false })
      await trx.updateTable('cc_agent_sessions').set({ revoked_at: new Date() }).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).where('revoked_at', 'is', null).execute()
      return
    }
    const statuses = await this.#setup.statuses(trx, tenantId)
    const chosen = statuses.find((s) => s.id === agent.chosen_status_id) ?? statuses.find((s) => s.name === SYSTEM_STATUSES.unavailable)!
    await trx.updateTable('cc_agents').set({ status_id: chosen.id, status_updated_at: new Date(), idle_since: chosen.kind === 'available' ? new Date() : null })
      .where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
    await recordAgentEvent(trx, tenantId, agentId, 'status', { status: chosen.name })
  }

  async #setAgentStatus(trx: Transaction<DB>, tenantId: TenantId, agentId: string, name: string, opts: { chosen?: null; logoutPending?: boolean } = {}): Promise<void> {
    const status = (await this.#setup.statuses(trx, tenantId)).find((s) => s.name === name)!
    await trx.updateTable('cc_agents').set({
      status_id: status.id, status_updated_at: new Date(), ...(opts.chosen === null ? { chosen_status_id: null, idle_since: null } : {}),
      ...(opts.logoutPending !== undefined ? { logout_pending: opts.logoutPending } : {}),
    }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
    await recordAgentEvent(trx, tenantId, agentId, 'status', { status: name })
  }

  async #lock(trx: Transaction<DB>, tenantId: TenantId, num?: number, id?: string) {
    let q = trx.selectFrom('cc_sessions').select(['id', 'num', 'status', 'agent_id', 'end_user_num']).where('tenant_id', '=', tenantId).where('channel', '=', 'chat')
    q = num !== undefined ? q.where('num', '=', num) : q.where('id', '=', id!)
    const row = await q.forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('chat_not_found', 'no such chat', { chatId: num ?? 0 })
    return row
  }

  async #lockOffer(trx: Transaction<DB>, agent: Agent, offerId: string) {
    const offer = /^[0-9a-f-]{36}$/i.test(offerId)
      ? await trx.selectFrom('cc_offers').select(['id', 'session_id', 'agent_id']).where('tenant_id', '=', agent.tenantId).where('id', '=', offerId)
        .where('agent_id', '=', agent.id).where('result', '=', 'pending').forUpdate().executeTakeFirst()
      : undefined
    if (!offer) throw new NotFoundError('offer_not_found', 'the offer is gone (accepted, declined, expired or withdrawn)')
    return offer
  }

  #refuse(t: ReturnType<typeof transition>): { status: ChatStatus; effects: ChatEffect[] } {
    if (t.ok) return t
    switch (t.refusal) {
      case 'ended': throw new ValidationError('chat_ended', 'Chat is already ended')
      case 'dismissed': throw new ValidationError('chat_dismissed', 'Chat is dismissed; resume it first')
      case 'not_dismissed': throw new ValidationError('chat_not_dismissed', 'This chat is not in dismissed state')
      case 'no_virtual_agent': throw new ValidationError('chat_not_with_virtual_agent', 'Chat is not handled by a virtual agent')
      case 'not_queued': throw new ValidationError('chat_not_queued', 'Chat is not waiting for an agent')
    }
  }

  #afterCommit(tenantId: TenantId): void {
    this.#deps.wakeWebhooks()
    void this.#deps.routing.kick(tenantId)
  }
}

export type { ChatEvent }
