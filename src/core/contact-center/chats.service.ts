import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB, OfferEventRow } from '../../db/schema.ts'
import type { JobQueue } from '../../jobs/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Agent, Menu } from './contact-center.types.ts'
import { STATUS_TEXT, TERMINAL_STATUSES, transition, type ChatEffect, type ChatEvent, type ChatStatus } from './chat.machine.ts'
import { answerConversation, startConversation, type ConversationState, type Thread } from '../bot/index.ts'
import { queueHours } from './queues.service.ts'
import { isOpen } from './hours.ts'
import { EndUsersRepository } from './end-users.repository.ts'
import { recordAgentEvent, type RoutingService } from './routing.service.ts'
import { nextNums, reserveNums, SetupRepository } from './setup.repository.ts'
import { offerTransfer } from './transfer-offers.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'
import { backToChosen, releaseAgent, setAgentStatus } from './agent-presence.ts'

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
  /** The end user's external identifier and CRM contact (§3.6), null while unknown. */
  readonly endUserIdentifier: string | null
  readonly endUserOutContactId: string | null
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
  /** The CRM ticket of an SMS session (S1 `ticket_id`). */
  readonly outTicketId?: string | null
  readonly disconnectedBy: string
  readonly createdAt: Date
  readonly queuedAt: Date | null
  readonly assignedAt: Date | null
  readonly endsAt: Date | null
  readonly timeoutAt: Date | null
  /** Escalations from the virtual agent (H4), oldest first. */
  readonly escalations: ChatEscalation[]
  /** Transfers to another agent or queue (§3.7), oldest first. */
  readonly transfers: ChatTransfer[]
  /** The channel a `deflected` chat went to. */
  readonly deflectionChannel: string | null
  /** The wrap-up disposition the agent posted. */
  readonly disposition: string | null
  /** Attached photos and videos (§3.7), through the `media` port; empty without one. */
  readonly photos: ChatMediaItem[]
  readonly videos: ChatMediaItem[]
}

/** An escalation from the virtual agent to a human (H4/H5, §3.16). */
export interface ChatEscalation {
  readonly num: number
  readonly chatNum: number
  readonly reason: string | null
  readonly forceEscalate: boolean
  readonly status: 'created' | 'deflection_offered' | 'escalated' | 'deflected' | 'failed'
  readonly deflectionChannels: string[]
  readonly deflectionChannel: string | null
  readonly createdAt: Date
}

/** A transfer of a chat to another agent (offered to them) or to a queue (§3.7). */
export interface ChatTransfer {
  readonly num: number
  readonly status: 'transferring' | 'transferred' | 'failed'
  readonly failReason: string
  readonly createdAt: Date
  readonly fromMenu: Menu | null
  readonly toMenu: Menu | null
  readonly fromAgent: ChatAgent | null
  readonly toAgent: ChatAgent | null
}

/** A photo or video as the chat object lists it. */
export interface ChatMediaItem { readonly num: number; readonly photoType: string | null; readonly url: string }

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
  // A message's webhook names its chat by id only: no need to read the whole chat for it.
  | { type: 'message_received'; chat: Pick<Chat, 'num'>; message: ChatMessage }
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
  /** SMS sessions: an agent's message also leaves as an SMS (written in the transaction; `wake` after the commit). */
  sms?: { deliverAgentMessage: (trx: Transaction<DB>, tenantId: TenantId, chatNum: number, message: ChatMessage) => Promise<void>; wake: () => void }
  /** The tenant's bot threads, for queues that start with a virtual agent (absent: virtual agents say nothing). */
  threads?: (tenantId: TenantId) => Promise<{ thread(name: string): Thread | undefined }>
  /** Report a failed sweep (the next one tries again). */
  onError?: (err: unknown) => void
  /** The attached photos and videos of a session (the chat media service), read in the caller's transaction. */
  media?: (db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, sessionId: string) => Promise<{ photos: ChatMediaItem[]; videos: ChatMediaItem[] }>
}

/** A chat locked for a change. */
type Locked = { id: string; num: number; status: string; agent_id: string | null; end_user_num: number | null; menu_id: string | null; va_state: Record<string, unknown> | null; last_activity_at: Date; queued_at: Date | null }

const LIVE_FOR_AGENT = ['assigned'] as const

/** `status_text` of a chat that timed out (§3.2: the monitoring UI's variants). */
const EXPIRY_TEXT = { agent: 'Timeout Agent No Message', endUser: 'Timeout End User No Message' } as const

/**
 * What the scheduler does next to a chat, and when: dismissal (`inactive`) of a live chat with no
 * message for `chatDismissalSeconds`, or expiration (`expire`) of a chat queued for
 * `chatExpirationSeconds` (since it was queued) or assigned with no message for that long;
 * whichever is earlier (dismissal on a tie: it can be resumed). Null when neither applies.
 */
export function lapse(s: { status: string; last_activity_at: Date; queued_at: Date | null }, settings: { chatDismissalSeconds: number; chatExpirationSeconds: number }): { event: 'inactive' | 'expire'; at: Date } | null {
  const after = (from: Date, seconds: number) => new Date(from.getTime() + seconds * 1000)
  const dismiss = s.status === 'assigned' || s.status === 'va_assigned' ? after(s.last_activity_at, settings.chatDismissalSeconds) : null
  const expire = s.status === 'assigned' ? after(s.last_activity_at, settings.chatExpirationSeconds)
    : s.status === 'queued' ? after(s.queued_at ?? s.last_activity_at, settings.chatExpirationSeconds) : null
  if (expire && (!dismiss || expire.getTime() < dismiss.getTime())) return { event: 'expire', at: expire }
  return dismiss ? { event: 'inactive', at: dismiss } : null
}

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
  readonly #endUsers = new EndUsersRepository()
  #sweeper: NodeJS.Timeout | undefined

  constructor(deps: ChatsDeps) {
    this.#db = deps.db
    this.#deps = deps
    this.#setup = new SetupRepository(deps.db)
  }

  /**
   * H12: start a chat on a leaf queue for an end user. Throws ValidationError `menu_not_found`
   * (unknown, deleted, not a leaf, or not a chat queue), `language_not_available`, `menu_after_hours`,
   * `end_user_unknown` (no end user with that id: E1 makes them). The session is the end user's person's.
   */
  async start(tenantId: TenantId, input: { menuNum: number; endUserNum: number; lang?: string; email?: string; context?: Record<string, unknown> }): Promise<Chat> {
    const lang = input.lang ?? 'en'
    const menus = await this.#setup.menus(this.#db, tenantId)
    const menu = menus.find((m) => m.num === input.menuNum)
    if (!menu || !menu.leaf || !menu.channels.includes('chat')) throw new ValidationError('menu_not_found', `menu_id ${input.menuNum} is not found`, { menuId: input.menuNum })
    if (!menu.languages.includes(lang)) throw new ValidationError('language_not_available', `Language '${lang}' is not available`, { lang })
    const settings = await this.#setup.settings(this.#db, tenantId)
    // A queue with a virtual agent takes chats after hours: the virtual agent answers, and an escalation offers the after-hours deflection.
    if (menu.config.virtual_agent === undefined && menu.config.hours && !isOpen({ timeZone: menu.config.hours.time_zone ?? settings?.timeZone ?? 'UTC', weekly: menu.config.hours.weekly as never, holidays: (menu.config.hours.holidays ?? []) as never }, new Date())) {
      throw new ValidationError('menu_after_hours', "Menu is in 'after hours' state, can't accept chats", { menuId: input.menuNum })
    }
    const endUser = await this.#endUsers.byNum(this.#db, tenantId, input.endUserNum)
    if (!endUser) throw new ValidationError('end_user_unknown', `end_user_id ${input.endUserNum} is not found`, { endUserId: input.endUserNum })
    const virtualAgent = menu.config.virtual_agent !== undefined
    // Ids taken before the transaction: concurrent starts do not queue on the tenant's counters.
    const [chatNum] = await reserveNums(this.#db, tenantId, 'chat')
    const [p1, p2] = await reserveNums(this.#db, tenantId, 'participant', virtualAgent ? 2 : 1)
    const num = await this.#db.transaction().execute(async (trx) => {
      const t = transition(null, { type: 'start', virtualAgent })
      if (!t.ok) throw new Error('a new chat cannot be refused')
      const now = new Date()
      const session = await trx.insertInto('cc_sessions').values({
        tenant_id: tenantId, num: chatNum!, channel: 'chat', chat_type: menu.menuType === 'mobile_menu' ? 'Mobile' : 'Web', status: t.status,
        status_text: STATUS_TEXT[t.status], menu_id: menu.id, lang, end_user_num: input.endUserNum, person_id: endUser.personId, email: input.email ?? null,
        context: input.context ? JSON.stringify(input.context) : null, priority: menu.priority, queued_at: t.status === 'queued' ? now : null,
        answer_type: 'manual', offer_type: null, last_activity_at: now,
      }).returning('id').executeTakeFirstOrThrow()
      await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p1!, session_id: session.id, type: 'end_user', end_user_num: input.endUserNum, agent_id: null, status: 'connected', connected_at: now }).execute()
      if (virtualAgent) await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p2!, session_id: session.id, type: 'virtual_agent', agent_id: null, end_user_num: null, status: 'connected', connected_at: now }).execute()
      await this.#effects(trx, tenantId, chatNum!, t.effects)
      if (virtualAgent) await this.#virtualAgent(trx, tenantId, await this.#lock(trx, tenantId, chatNum!), { start: true })
      else await this.#deflectByConfiguration(trx, tenantId, await this.#lock(trx, tenantId, chatNum!), menu)
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
    const endUser = row.end_user_num !== null ? await this.#endUsers.byNum(db, tenantId, row.end_user_num) : undefined
    const media = this.#deps.media ? await this.#deps.media(db, tenantId, row.id) : { photos: [], videos: [] }
    return {
      id: row.id, tenantId, num: row.num, status: row.status as ChatStatus, statusText: row.status_text, chatType: row.chat_type, lang: row.lang,
      menu, menuPath: path, endUserNum: row.end_user_num,
      endUserIdentifier: endUser?.identifier ?? null, endUserOutContactId: endUser?.outContactId ?? null, email: row.email, context: row.context, customData: row.custom_data,
      verified: row.verified, badActor: row.bad_actor, repeatCustomer: row.repeat_customer,
      agent: current, allAgents: agents,
      virtualAgent: va ? { name: menu?.config.virtual_agent?.name ?? 'Virtual agent', status: va.status } : null,
      participants: participants.map((p) => ({ num: p.num, type: p.type, status: p.status, agentNum: p.agent_num ?? null, endUserNum: p.end_user_num, connectedAt: p.connected_at, endedAt: p.ended_at })),
      offerType: row.offer_type, offerEvents: row.offer_events, answerType: row.answer_type, outboundNumber: row.outbound_number,
      outTicketId: row.out_ticket_id,
      disconnectedBy: row.disconnected_by, createdAt: row.created_at, queuedAt: row.queued_at, assignedAt: row.assigned_at, endsAt: row.ends_at,
      timeoutAt: settings ? lapse(row, settings)?.at ?? null : null,
      ...await this.#lifecycleOf(db, tenantId, row, menus),
      photos: media.photos, videos: media.videos,
    }
  }

  /**
   * H3: an end-user message into the chat. Throws `chat_ended` on a terminal chat, `chat_dismissed`
   * on a dismissed one (resume it first), `not_a_participant` for another end user.
   */
  async endUserMessage(tenantId: TenantId, num: number, input: { fromUserNum: number; type: string; content: string | null; mediaId: string | null }): Promise<ChatMessage> {
    // The message id is taken before the transaction, so concurrent messages of the tenant do not queue on its counter.
    const [messageNum] = await reserveNums(this.#db, tenantId, 'message')
    const { message, virtualAgent } = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      this.#refuse(transition(s.status as ChatStatus, { type: 'end_user_message' }))
      if (s.end_user_num !== input.fromUserNum) throw new ValidationError('not_a_participant', 'from_user_id is not the end user of this chat')
      const m = await this.#insertMessage(trx, tenantId, s, { fromEndUser: true, agentId: null, ...input }, messageNum)
      if (s.agent_id) await recordAgentEvent(trx, tenantId, s.agent_id, 'message', { chat_id: num, message_id: m.num, from: 'end_user', type: m.type, content: m.content, media_id: m.mediaId, created_at: m.createdAt.toISOString() })
      if (s.status === 'va_assigned') await this.#virtualAgent(trx, tenantId, s, { text: m.content ?? '' })
      return { message: m, virtualAgent: s.status === 'va_assigned' }
    })
    // Only the virtual agent's turn can enqueue webhooks or hand the chat to the queue; a message to
    // a human agent (or while waiting) changes nothing routing looks at.
    if (virtualAgent) this.#afterCommit(tenantId)
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
    // The agent participant's id is taken before the transaction, so concurrent accepts do not queue on the tenant's counter.
    const [participantNum] = await reserveNums(this.#db, agent.tenantId, 'participant')
    const num = await this.#db.transaction().execute(async (trx) => {
      const offer = await this.#lockOffer(trx, agent, offerId)
      const s = await this.#lock(trx, agent.tenantId, undefined, offer.session_id)
      if (await this.#acceptTransfer(trx, agent, offer, s, participantNum!)) return s.num
      const t = this.#refuse(transition(s.status as ChatStatus, { type: 'accepted' }))
      await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'accepted')
      const now = new Date()
      await trx.updateTable('cc_sessions').set({ status: t.status, status_text: STATUS_TEXT[t.status], agent_id: agent.id, assigned_at: now, last_activity_at: now })
        .where('tenant_id', '=', agent.tenantId).where('id', '=', s.id).execute()
      await trx.insertInto('cc_participants').values({ tenant_id: agent.tenantId, num: participantNum!, session_id: s.id, type: 'agent', agent_id: agent.id, end_user_num: null, status: 'connected', connected_at: now }).execute()
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
    const [messageNum] = await reserveNums(this.#db, agent.tenantId, 'message')
    const m = await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, agent.tenantId, num)
      if (s.agent_id !== agent.id || !(LIVE_FOR_AGENT as readonly string[]).includes(s.status)) {
        if (s.agent_id === agent.id) throw new ValidationError('chat_ended', 'Chat is already ended', { chatId: num })
        throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: num })
      }
      const message = await this.#insertMessage(trx, agent.tenantId, s, { fromEndUser: false, agentId: agent.id, agentNum: agent.num, fromUserNum: null, ...input }, messageNum)
      await this.#deps.webhook(trx, agent.tenantId, { type: 'message_received', chat: { num }, message }, `chat:${num}:message:${message.num}`)
      await recordAgentEvent(trx, agent.tenantId, agent.id, 'message', { chat_id: num, message_id: message.num, from: 'agent', type: message.type, content: message.content, media_id: message.mediaId, created_at: message.createdAt.toISOString() })
      await this.#deps.sms?.deliverAgentMessage(trx, agent.tenantId, num, message)
      return message
    })
    this.#deps.wakeWebhooks()
    this.#deps.sms?.wake()
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

  /** A message into the locked chat; its id `reserved` (`reserveNums`) or taken now. */
  async #insertMessage(trx: Transaction<DB>, tenantId: TenantId, s: { id: string; num: number; end_user_num: number | null }, input: { fromEndUser: boolean; agentId: string | null; agentNum?: number; fromUserNum: number | null; type: string; content: string | null; mediaId: string | null }, reserved?: number): Promise<ChatMessage> {
    const num = reserved ?? (await nextNums(trx, tenantId, 'message'))[0]
    const row = await trx.insertInto('cc_messages').values({
      tenant_id: tenantId, num: num!, session_id: s.id, from_end_user: input.fromEndUser, agent_id: input.agentId, type: input.type, content: input.content, media_id: input.mediaId,
    }).returning(['created_at']).executeTakeFirstOrThrow()
    await trx.updateTable('cc_sessions').set({ last_activity_at: row.created_at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    const agentNum = input.agentId ? input.agentNum ?? (await trx.selectFrom('cc_agents').select('num').where('tenant_id', '=', tenantId).where('id', '=', input.agentId).executeTakeFirstOrThrow()).num : null
    return { num: num!, chatNum: s.num, fromEndUserNum: input.fromEndUser ? s.end_user_num : null, fromAgentNum: agentNum, type: input.type, content: input.content, mediaId: input.mediaId, createdAt: row.created_at }
  }

  /** Perform a transition's effects in the transaction. */
  async #effects(trx: Transaction<DB>, tenantId: TenantId, num: number, effects: readonly ChatEffect[], releasedAgent?: string | null): Promise<void> {
    for (const e of effects) {
      if (e.type === 'webhook') {
        const chat = await this.get(tenantId, num, trx)
        if (e.event === 'participant_joined' || e.event === 'participant_left') {
          // The one who left has ended; the one who joined has not (a transfer has both).
          const latest = [...chat.participants].reverse().filter((x) => x.type === e.who)
          const p = latest.find((x) => (e.event === 'participant_left' ? x.endedAt !== null : x.endedAt === null)) ?? latest[0]
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

  /** An agent's chat ended or left them: wrap-up, then back to their chosen status (`agent-presence.ts`). */
  async #releaseAgent(trx: Transaction<DB>, tenantId: TenantId, agentId: string, num: number): Promise<void> {
    await releaseAgent(trx, this.#setup, tenantId, agentId, { event: 'chat_closed', data: { chat_id: num }, sessionNum: num })
  }

  async #backToChosen(trx: Transaction<DB>, tenantId: TenantId, agentId: string): Promise<void> {
    await backToChosen(trx, this.#setup, tenantId, agentId)
  }

  async #setAgentStatus(trx: Transaction<DB>, tenantId: TenantId, agentId: string, name: string, opts: { chosen?: null; logoutPending?: boolean } = {}): Promise<void> {
    await setAgentStatus(trx, this.#setup, tenantId, agentId, name, opts)
  }

  async #lock(trx: Transaction<DB>, tenantId: TenantId, num?: number, id?: string): Promise<Locked> {
    let q = trx.selectFrom('cc_sessions').select(['id', 'num', 'status', 'agent_id', 'end_user_num', 'menu_id', 'va_state', 'last_activity_at', 'queued_at']).where('tenant_id', '=', tenantId).where('channel', '=', 'chat')
    q = num !== undefined ? q.where('num', '=', num) : q.where('id', '=', id!)
    const row = await q.forNoKeyUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('chat_not_found', 'no such chat', { chatId: num ?? 0 })
    return row
  }

  async #lockOffer(trx: Transaction<DB>, agent: Agent, offerId: string) {
    const offer = /^[0-9a-f-]{36}$/i.test(offerId)
      ? await trx.selectFrom('cc_offers').select(['id', 'session_id', 'agent_id']).where('tenant_id', '=', agent.tenantId).where('id', '=', offerId)
        .where('agent_id', '=', agent.id).where('result', '=', 'pending').forNoKeyUpdate().executeTakeFirst()
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
      case 'not_assigned': throw new ValidationError('chat_not_assigned', 'Chat is not with an agent')
    }
  }

  // ── The chat lifecycle: virtual agent, escalation and deflection, dismissal and resume, transfers, wrap-up ──

  /**
   * H4 (or the virtual agent's hand-off): escalate to a human. To a queue after hours or over
   * capacity, without `force`, the queue's deflection options are offered (`deflection_offered`,
   * the virtual agent keeps the chat); otherwise the chat is queued (`escalated`).
   */
  async escalate(tenantId: TenantId, num: number, input: { reason: string | null; force: boolean }): Promise<ChatEscalation> {
    const escalationNum = await this.#db.transaction().execute(async (trx) => this.#escalate(trx, tenantId, await this.#lock(trx, tenantId, num), input))
    this.#afterCommit(tenantId)
    return (await this.get(tenantId, num)).escalations.find((e) => e.num === escalationNum)!
  }

  /** An escalation of a chat; NotFoundError `escalation_not_found`. */
  async escalation(tenantId: TenantId, num: number, escalationNum: number): Promise<ChatEscalation> {
    const found = (await this.get(tenantId, num)).escalations.find((e) => e.num === escalationNum)
    if (!found) throw new NotFoundError('escalation_not_found', 'no such escalation', { escalationId: escalationNum })
    return found
  }

  /**
   * H5 / H1: the end user picks one of the escalation's deflection options: `stay` queues the chat
   * for a human, `end` ends it, any other channel deflects it there (`deflected`). Throws
   * `invalid_deflection_channel` for an option not offered (or an escalation not offering any).
   */
  async chooseDeflection(tenantId: TenantId, num: number, escalationNum: number, channel: string): Promise<Chat> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      const esc = await trx.selectFrom('cc_escalations').select(['id', 'status', 'deflection_channels']).where('tenant_id', '=', tenantId)
        .where('session_id', '=', s.id).where('num', '=', escalationNum).forNoKeyUpdate().executeTakeFirst()
      if (!esc) throw new NotFoundError('escalation_not_found', 'no such escalation', { escalationId: escalationNum })
      if (TERMINAL_STATUSES.has(s.status as ChatStatus)) this.#refuse(transition(s.status as ChatStatus, { type: 'end_user_message' }))
      if (esc.status !== 'deflection_offered' || !esc.deflection_channels.includes(channel)) throw new ValidationError('invalid_deflection_channel', 'Invalid deflection channel', { channel })
      const t = this.#refuse(transition(s.status as ChatStatus, { type: 'deflection_chosen', option: channel }))
      await trx.updateTable('cc_escalations').set({ status: channel === 'stay' ? 'escalated' : 'deflected', deflection_channel: channel }).where('tenant_id', '=', tenantId).where('id', '=', esc.id).execute()
      await this.#move(trx, tenantId, s, t, t.status === 'deflected' ? { deflection_channel: channel, disconnected_by: 'disconnected_by_end_user' }
        : t.status === 'finished' ? { disconnected_by: 'disconnected_by_end_user' } : {})
    })
    this.#afterCommit(tenantId)
    return this.get(tenantId, num)
  }

  /**
   * H2: resume a dismissed chat, history kept: `dismissed` → `queued` (routed, its previous agent
   * preferred), `va_dismissed` → `va_assigned`. Throws `chat_not_dismissed`, and
   * `chat_resume_after_hours` (with the queue's after-hours text) when the queue is closed.
   */
  async resume(tenantId: TenantId, num: number): Promise<Chat> {
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      const t = this.#refuse(transition(s.status as ChatStatus, { type: 'resume' }))
      if (t.status === 'queued') {
        const menu = await this.#menuOf(trx, tenantId, s.menu_id)
        if (menu && (await this.#queueState(trx, tenantId, menu)).afterHours) {
          const text = menu.config.after_hours?.message ?? "Menu is in 'after hours' state, can't accept chats"
          throw new ValidationError('chat_resume_after_hours', text, { message: text })
        }
      }
      await this.#move(trx, tenantId, s, t)
    })
    this.#afterCommit(tenantId)
    return this.get(tenantId, num)
  }

  /**
   * The workspace: transfer one of my chats to another agent (offered to them; on accept they join
   * and I leave; on decline or expiry the transfer fails and the chat stays mine) or to a queue
   * (`requeue`: the chat waits there for the next agent). Recorded in the chat's `transfers`.
   */
  async transfer(agent: Agent, num: number, to: { agentNum: number } | { menuNum: number }): Promise<Chat> {
    const tenantId = agent.tenantId
    await this.#db.transaction().execute(async (trx) => {
      const s = await this.#lock(trx, tenantId, num)
      if (s.agent_id !== agent.id) throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: num })
      if ('menuNum' in to) {
        const menu = (await this.#setup.menus(trx, tenantId)).find((m) => m.num === to.menuNum)
        if (!menu || !menu.leaf || !menu.channels.includes('chat')) throw new ValidationError('menu_not_found', `menu_id ${to.menuNum} is not found`, { menuId: to.menuNum })
        const t = this.#refuse(transition(s.status as ChatStatus, { type: 'requeue' }))
        const [tn] = await nextNums(trx, tenantId, 'transfer')
        await trx.insertInto('cc_transfers').values({ tenant_id: tenantId, num: tn!, session_id: s.id, status: 'transferred', from_agent_id: agent.id, to_agent_id: null, from_menu_id: s.menu_id, to_menu_id: menu.id, offer_id: null }).execute()
        await this.#move(trx, tenantId, s, t, { menu_id: menu.id, priority: menu.priority, preferred_agent_id: null })
        return
      }
      this.#refuse(transition(s.status as ChatStatus, { type: 'transferred' }))
      // The target is locked as routing locks an agent it offers to (every offer to an agent takes
      // that lock first), so its load counted below cannot change until this transaction ends.
      const target = await trx.selectFrom('cc_agents as a').innerJoin('cc_statuses as st', (j) => j.onRef('st.tenant_id', '=', 'a.tenant_id').onRef('st.id', '=', 'a.status_id'))
        .select(['a.id', 'a.num', 'a.deactivated_at', 'a.logout_pending', 'a.chat_capacity', 'st.name as status']).where('a.tenant_id', '=', tenantId).where('a.num', '=', to.agentNum)
        .forUpdate('a').executeTakeFirst()
      if (!target) throw new NotFoundError('agent_not_found', 'no such agent', { agentId: to.agentNum })
      if (target.id === agent.id) throw new ValidationError('invalid_transfer', 'The chat is already yours')
      if (target.deactivated_at || target.logout_pending || target.status === SYSTEM_STATUSES.offline) throw new ValidationError('transfer_target_unavailable', 'That agent is not signed in', { agentId: to.agentNum })
      // A transfer is an offer like routing's: the target's chats plus pending offers stay within its capacity.
      const load = await trx.selectNoFrom(sql<number>`(SELECT count(*) FROM cc_sessions x WHERE x.tenant_id = ${tenantId} AND x.agent_id = ${target.id} AND x.status = 'assigned')
        + (SELECT count(*) FROM cc_offers o WHERE o.tenant_id = ${tenantId} AND o.agent_id = ${target.id} AND o.result = 'pending')`.as('n')).executeTakeFirstOrThrow()
      if (Number(load.n) >= target.chat_capacity) throw new ValidationError('transfer_target_full', 'That agent has no free chat capacity', { agentId: to.agentNum })
      const pending = await trx.selectFrom('cc_offers').select('id').where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('result', '=', 'pending').executeTakeFirst()
      if (pending) throw new ValidationError('transfer_pending', 'A transfer of this chat is waiting for an answer')
      await offerTransfer(trx, this.#setup, tenantId, { session: s, from: agent, to: target, fromMenuId: s.menu_id, toMenuId: null, channel: 'chat' })
    })
    this.#afterCommit(tenantId)
    return this.get(tenantId, num)
  }

  /** The tenant's chat queues (leaf menus with the chat channel) an agent may transfer a chat to. */
  async chatQueues(tenantId: TenantId): Promise<Array<{ num: number; name: string }>> {
    return (await this.#setup.menus(this.#db, tenantId)).filter((m) => m.leaf && m.channels.includes('chat')).map((m) => ({ num: m.num, name: m.name }))
  }

  /** The wrap-up dispositions of the tenant's current contact-center setup (empty: any text). */
  async dispositions(tenantId: TenantId): Promise<string[]> {
    const doc = await this.#db.selectFrom('cc_setup_versions').select('document').where('tenant_id', '=', tenantId).orderBy('version', 'desc').limit(1).executeTakeFirst()
    const listed = (doc?.document as { settings?: { dispositions?: unknown } } | undefined)?.settings?.dispositions
    return Array.isArray(listed) ? listed.filter((d): d is string => typeof d === 'string') : []
  }

  /**
   * The workspace: my wrap-up of a chat is done, with its disposition (one of the setup's
   * `dispositions` when it lists any): back to the status I chose (Offline when a force logout waits).
   * Throws `not_in_wrap_up` when I am not wrapping up that chat, `disposition_not_found`.
   */
  async wrapUp(agent: Agent, num: number, disposition: string): Promise<void> {
    const tenantId = agent.tenantId
    await this.#db.transaction().execute(async (trx) => {
      const session = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('num', '=', num).where('channel', '=', 'chat').executeTakeFirst()
      if (!session) throw new NotFoundError('chat_not_found', 'no such chat', { chatId: num })
      const row = await trx.selectFrom('cc_agents').select(['wrap_up_session_id']).where('tenant_id', '=', tenantId).where('id', '=', agent.id).forNoKeyUpdate().executeTakeFirstOrThrow()
      if (row.wrap_up_session_id !== session.id) throw new ValidationError('not_in_wrap_up', 'Not wrapping up this chat')
      const doc = await trx.selectFrom('cc_setup_versions').select('document').where('tenant_id', '=', tenantId).orderBy('version', 'desc').limit(1).executeTakeFirst()
      const allowed = ((doc?.document as { settings?: { dispositions?: string[] } } | undefined)?.settings?.dispositions) ?? []
      if (allowed.length > 0 && !allowed.includes(disposition)) throw new ValidationError('disposition_not_found', `Unknown disposition '${disposition}'`, { disposition })
      await trx.updateTable('cc_sessions').set({ disposition }).where('tenant_id', '=', tenantId).where('id', '=', session.id).execute()
      await this.#backToChosen(trx, tenantId, agent.id)
    })
    this.#afterCommit(tenantId)
  }

  /**
   * The scheduler (every worker process): live chats with no message for the setting's dismissal
   * timeout are dismissed (`assigned` → `dismissed`, agent released; `va_assigned` →
   * `va_dismissed`); chats past the expiration timeout time out (`queued` waiting that long since
   * queued, `assigned` with no message that long: → `timeout`, `status_text` naming who owed the
   * reply, offer withdrawn, agent released, `chat_ended`), whichever falls due first; agents past
   * their wrap-up time go back to their chosen status. Exactly once across processes (rows are
   * locked and checked again).
   */
  async sweep(now = new Date()): Promise<void> {
    const tenants = new Set<TenantId>()
    const due = await this.#db.selectFrom('cc_sessions as s').innerJoin('cc_settings as c', 'c.tenant_id', 's.tenant_id').select(['s.tenant_id', 's.num'])
      .where('s.channel', '=', 'chat')
      .where((eb) => eb.or([
        eb.and([eb('s.status', 'in', ['assigned', 'va_assigned']), sql<boolean>`s.last_activity_at + c.chat_dismissal_seconds * interval '1 second' <= ${now}`]),
        eb.and([eb('s.status', '=', 'assigned'), sql<boolean>`s.last_activity_at + c.chat_expiration_seconds * interval '1 second' <= ${now}`]),
        eb.and([eb('s.status', '=', 'queued'), sql<boolean>`coalesce(s.queued_at, s.last_activity_at) + c.chat_expiration_seconds * interval '1 second' <= ${now}`]),
      ]))
      .orderBy('s.last_activity_at').limit(200).execute()
    for (const d of due) {
      const moved = await this.#db.transaction().execute(async (trx) => {
        const s = await this.#lock(trx, d.tenant_id, d.num)
        const settings = await this.#setup.settings(trx, d.tenant_id)
        const next = settings && lapse(s, settings)
        if (!next || next.at.getTime() > now.getTime()) return false
        const t = transition(s.status as ChatStatus, { type: next.event })
        if (!t.ok) return false
        if (next.event === 'inactive') await this.#move(trx, d.tenant_id, s, t, s.agent_id ? { preferred_agent_id: s.agent_id } : {})
        else await this.#move(trx, d.tenant_id, s, t, { status_text: await this.#expiryText(trx, d.tenant_id, s), disconnected_by: 'disconnected_by_system' })
        return true
      })
      if (moved) tenants.add(d.tenant_id)
    }
    const wrapped = await this.#db.selectFrom('cc_agents').select(['tenant_id', 'id']).where('wrap_up_until', '<=', now).limit(200).execute()
    for (const a of wrapped) {
      await this.#db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('cc_agents').select('wrap_up_until').where('tenant_id', '=', a.tenant_id).where('id', '=', a.id).forNoKeyUpdate().skipLocked().executeTakeFirst()
        if (!row?.wrap_up_until || row.wrap_up_until.getTime() > now.getTime()) return
        await this.#backToChosen(trx, a.tenant_id, a.id)
      })
      tenants.add(a.tenant_id)
    }
    for (const tenantId of tenants) this.#afterCommit(tenantId)
  }

  /** Sweep every `everyMs` (worker processes). */
  startSweeper(everyMs = 1000): void {
    if (this.#sweeper) return
    this.#sweeper = setInterval(() => {
      this.sweep().catch((err: unknown) => this.#deps.onError?.(err))
    }, everyMs)
    this.#sweeper.unref()
  }

  stopSweeper(): void {
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }

  /** An accepted offer of an agent transfer: the new agent joins, the previous one leaves (released). False for a queue's offer. */
  async #acceptTransfer(trx: Transaction<DB>, agent: Agent, offer: { id: string; session_id: string; agent_id: string }, s: Locked, participantNum: number): Promise<boolean> {
    const tr = await trx.selectFrom('cc_transfers').select('id').where('tenant_id', '=', agent.tenantId).where('offer_id', '=', offer.id).executeTakeFirst()
    if (!tr) return false
    const t = this.#refuse(transition(s.status as ChatStatus, { type: 'transferred' }))
    await this.#deps.routing.resolveOffer(trx, agent.tenantId, offer, 'accepted')
    await trx.updateTable('cc_transfers').set({ status: 'transferred' }).where('tenant_id', '=', agent.tenantId).where('id', '=', tr.id).execute()
    await trx.insertInto('cc_participants').values({ tenant_id: agent.tenantId, num: participantNum, session_id: s.id, type: 'agent', agent_id: agent.id, end_user_num: null, status: 'connected', connected_at: new Date() }).execute()
    await this.#setAgentStatus(trx, agent.tenantId, agent.id, SYSTEM_STATUSES.inChat)
    await this.#move(trx, agent.tenantId, s, t, { agent_id: agent.id })
    await recordAgentEvent(trx, agent.tenantId, agent.id, 'chat_assigned', { chat_id: s.num })
    return true
  }

  /**
   * The virtual agent's turn: its thread starts, or takes the end user's text as an answer; what it
   * says goes out as virtual-agent messages (`message_received`, no from ids). It hands off to a
   * human when the thread sets the variable `handoff` (its value is the reason), or when the end
   * user writes after its conversation ended.
   */
  async #virtualAgent(trx: Transaction<DB>, tenantId: TenantId, s: Locked, turn: { start: true } | { text: string }): Promise<void> {
    const va = (await this.#menuOf(trx, tenantId, s.menu_id))?.config.virtual_agent
    if (!va || !this.#deps.threads) return
    const threads = await this.#deps.threads(tenantId)
    const ctx = { thread: (name: string) => threads.thread(name), person: {} }
    const prior = s.va_state as ConversationState | null
    if ('text' in turn && (!prior || prior.status === 'ended')) {
      await this.#escalate(trx, tenantId, s, { reason: 'virtual agent finished', force: false })
      return
    }
    const run = 'start' in turn ? startConversation(va.thread, ctx) : answerConversation(prior!, turn.text, ctx)
    for (const e of run.effects) {
      if (e.type !== 'send') continue
      const m = await this.#insertMessage(trx, tenantId, s, { fromEndUser: false, agentId: null, fromUserNum: null, type: 'text', content: e.text, mediaId: null })
      await this.#deps.webhook(trx, tenantId, { type: 'message_received', chat: { num: s.num }, message: m }, `chat:${s.num}:message:${m.num}`)
    }
    await trx.updateTable('cc_sessions').set({ va_state: JSON.stringify(run.state) }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    const handoff = run.state.variables.handoff
    if (handoff && handoff !== prior?.variables.handoff) await this.#escalate(trx, tenantId, s, { reason: handoff, force: false })
  }

  /**
   * `queued` → `deflected` by configuration: a new chat on a queue over capacity whose
   * `over_capacity.deflection` does not offer `stay` goes to its first option at once (with `stay`
   * among them, the end user may wait, so the chat stays queued).
   */
  async #deflectByConfiguration(trx: Transaction<DB>, tenantId: TenantId, s: Locked, menu: Menu): Promise<void> {
    const options = menu.config.over_capacity?.deflection ?? []
    if (options.length === 0 || options.includes('stay')) return
    // This chat is already counted among the waiting: full means more than the maximum with it.
    const max = menu.config.over_capacity?.max_queued
    if (max === undefined) return
    const row = await trx.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).where('menu_id', '=', menu.id).where('status', '=', 'queued').executeTakeFirstOrThrow()
    if (Number(row.n) <= max) return
    const t = this.#refuse(transition(s.status as ChatStatus, { type: 'deflection_chosen', option: options[0]! }))
    await this.#move(trx, tenantId, s, t, t.status === 'deflected' ? { deflection_channel: options[0]!, disconnected_by: 'disconnected_by_system' } : { disconnected_by: 'disconnected_by_system' })
  }

  /** An escalation in the caller's transaction (see `escalate`); its number. */
  async #escalate(trx: Transaction<DB>, tenantId: TenantId, s: Locked, input: { reason: string | null; force: boolean }): Promise<number> {
    const menu = await this.#menuOf(trx, tenantId, s.menu_id)
    const state = menu ? await this.#queueState(trx, tenantId, menu) : { afterHours: false, overCapacity: false }
    const options = !menu ? [] : state.afterHours ? menu.config.after_hours?.deflection ?? [] : state.overCapacity ? menu.config.over_capacity?.deflection ?? [] : []
    const deflect = !input.force && options.length > 0
    const t = this.#refuse(transition(s.status as ChatStatus, deflect ? { type: 'offer_deflection' } : { type: 'escalate' }))
    const [num] = await nextNums(trx, tenantId, 'escalation')
    await trx.insertInto('cc_escalations').values({
      tenant_id: tenantId, num: num!, session_id: s.id, reason: input.reason, force_escalate: input.force, status: deflect ? 'deflection_offered' : 'escalated',
      deflection_channels: deflect ? [...options] : [], deflection_channel: null,
    }).execute()
    if (!deflect) await this.#move(trx, tenantId, s, t)
    return num!
  }

  /**
   * The variant of an expired chat's `status_text`: who owed the next message. A queued chat, or an
   * assigned one whose last message is the end user's (or the virtual agent's, or none), waited for
   * an agent; an assigned one whose last message is the agent's waited for the end user.
   */
  async #expiryText(trx: Transaction<DB>, tenantId: TenantId, s: Locked): Promise<string> {
    if (s.status !== 'assigned') return EXPIRY_TEXT.agent
    const last = await trx.selectFrom('cc_messages').select(['from_end_user', 'agent_id']).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
      .orderBy('num', 'desc').limit(1).executeTakeFirst()
    return last && !last.from_end_user && last.agent_id !== null ? EXPIRY_TEXT.endUser : EXPIRY_TEXT.agent
  }

  /** Whether a queue is closed now (its hours) or full (`over_capacity.max_queued` chats waiting). */
  async #queueState(trx: Transaction<DB>, tenantId: TenantId, menu: Menu): Promise<{ afterHours: boolean; overCapacity: boolean }> {
    const hours = queueHours(menu, (await this.#setup.settings(trx, tenantId))?.timeZone ?? 'UTC')
    const max = menu.config.over_capacity?.max_queued
    let overCapacity = false
    if (max !== undefined) {
      const row = await trx.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).where('menu_id', '=', menu.id).where('status', '=', 'queued').executeTakeFirstOrThrow()
      overCapacity = Number(row.n) >= max
    }
    return { afterHours: hours !== null && !isOpen(hours, new Date()), overCapacity }
  }

  async #menuOf(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, menuId: string | null): Promise<Menu | undefined> {
    return menuId ? (await this.#setup.menus(db, tenantId, { withDeleted: true })).find((m) => m.id === menuId) : undefined
  }

  /**
   * Apply a transition to a locked chat: its status (queued_at when it starts waiting, ends_at when
   * it ends), participants who leave end, then the effects.
   */
  async #move(trx: Transaction<DB>, tenantId: TenantId, s: Locked, t: { status: ChatStatus; effects: ChatEffect[] }, set: { menu_id?: string; priority?: number; agent_id?: string; preferred_agent_id?: string | null; deflection_channel?: string; disconnected_by?: string; status_text?: string } = {}): Promise<void> {
    const now = new Date()
    const terminal = TERMINAL_STATUSES.has(t.status)
    const leaves = (who: string) => t.effects.some((e) => e.type === 'webhook' && e.event === 'participant_left' && e.who === who)
    await trx.updateTable('cc_sessions').set({
      status: t.status, status_text: STATUS_TEXT[t.status], last_activity_at: now,
      ...(t.status === 'queued' && s.status !== 'queued' ? { queued_at: now, assigned_at: null } : {}),
      ...(leaves('agent') ? { agent_id: null } : {}), ...(terminal ? { ends_at: now } : {}), ...set,
    }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    if (leaves('virtual_agent') || terminal) await this.#endParticipants(trx, tenantId, s.id).where('type', '=', 'virtual_agent').execute()
    if ((leaves('agent') || terminal) && s.agent_id) await this.#endParticipants(trx, tenantId, s.id).where('type', '=', 'agent').where('agent_id', '=', s.agent_id).execute()
    if (terminal) await this.#endParticipants(trx, tenantId, s.id).execute()
    await this.#effects(trx, tenantId, s.num, t.effects, s.agent_id)
  }

  /** The participants of a session still in it, to end now. */
  #endParticipants(trx: Transaction<DB>, tenantId: TenantId, sessionId: string) {
    return trx.updateTable('cc_participants').set({ status: 'finished', ended_at: new Date() }).where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).where('ended_at', 'is', null)
  }

  /** A chat's escalations, transfers, deflection channel and disposition. */
  async #lifecycleOf(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, row: { id: string; num: number; deflection_channel: string | null; disposition: string | null }, menus: Menu[]) {
    const escalations = await db.selectFrom('cc_escalations').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', row.id).orderBy('num').execute()
    const transfers = await db.selectFrom('cc_transfers').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', row.id).orderBy('num').execute()
    const ids = [...new Set(transfers.flatMap((x) => [x.from_agent_id, x.to_agent_id]).filter((x): x is string => x !== null))]
    const agents = ids.length ? await db.selectFrom('cc_agents').select(['id', 'num', 'first_name', 'last_name', 'email', 'agent_number']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute() : []
    const agentOf = (id: string | null): ChatAgent | null => {
      const a = agents.find((x) => x.id === id)
      return a ? { num: a.num, firstName: a.first_name, lastName: a.last_name, email: a.email, agentNumber: a.agent_number, status: 'connected' } : null
    }
    const all = menus.length || !transfers.length ? menus : await this.#setup.menus(db, tenantId, { withDeleted: true })
    const menuOf = (id: string | null) => all.find((m) => m.id === id) ?? null
    return {
      escalations: escalations.map((e): ChatEscalation => ({
        num: e.num, chatNum: row.num, reason: e.reason, forceEscalate: e.force_escalate, status: e.status, deflectionChannels: e.deflection_channels, deflectionChannel: e.deflection_channel, createdAt: e.created_at,
      })),
      transfers: transfers.map((x): ChatTransfer => ({
        num: x.num, status: x.status, failReason: x.fail_reason, createdAt: x.created_at, fromMenu: menuOf(x.from_menu_id), toMenu: menuOf(x.to_menu_id), fromAgent: agentOf(x.from_agent_id), toAgent: agentOf(x.to_agent_id),
      })),
      deflectionChannel: row.deflection_channel, disposition: row.disposition,
    }
  }

  #afterCommit(tenantId: TenantId): void {
    this.#deps.wakeWebhooks()
    void this.#deps.routing.kick(tenantId)
  }
}

export type { ChatEvent }
