import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { InboundHandler, InboundMessage, SendAnswer, SendMessageInput, SendOptions, TenantRef } from '../delivery/index.ts'
import { uniqueViolation, ValidationError } from '../errors.ts'
import { STATUS_TEXT, TERMINAL_STATUSES, type ChatStatus } from './chat.machine.ts'
import type { Chat, ChatMessage, ChatWebhookEvent, ChatsService } from './chats.service.ts'
import type { Menu } from './contact-center.types.ts'
import { recordAgentEvent, type RoutingService } from './routing.service.ts'
import { nextNums, SetupRepository } from './setup.repository.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'
import { smsTransition, type SmsEffect } from './sms-sessions.machine.ts'

/** The chat type of every SMS session, whichever alias started it (§1.11). */
export const SMS_CHAT_TYPE = 'Messaging (SMS)'
/** The longest first message S1 takes (Twilio's limit for one message body). */
export const MAX_SMS_MESSAGE = 1600

/** The end user (and core person) of a phone, found or created (`EndUsersService.forPhone`). */
export interface SmsEndUsersPort {
  forPhone(trx: Transaction<DB>, tenantId: TenantId, e164: string): Promise<{ num: number; personId: string | null }>
}

/** The ports an SMS session reaches out through (wired in services.ts). */
export interface SmsSessionsDeps {
  db: Kysely<DB>
  chats: ChatsService
  routing: RoutingService
  endUsers: SmsEndUsersPort
  /** The delivery pipeline: the outbox row and its job, in the caller's transaction. */
  delivery: { send(tenant: TenantRef, input: SendMessageInput, opts?: SendOptions): Promise<SendAnswer>; wake(): void }
  /** The suppression list (a STOP reply, a DNC entry). */
  suppression: { isSuppressed(tenant: TenantRef, channel: string, address: string): Promise<unknown> }
  /** Enqueue a tenant webhook in the caller's transaction (the chats' port). */
  webhook: (trx: Transaction<DB>, tenantId: TenantId, event: ChatWebhookEvent, key: string) => Promise<void>
  wakeWebhooks: () => void
}

/** What S1 starts a session with, checked at the edge (phones in E.164). */
export interface StartSmsInput {
  readonly endUserPhone: string
  readonly outboundNumber: string
  readonly message: string
  readonly ticketId?: string | null
  readonly agent?: { readonly num: number } | { readonly email: string }
}

const TERMINAL = [...TERMINAL_STATUSES]

/**
 * Outbound SMS sessions (Apps API S1, §4.2): a "Messaging (SMS)" chat with a consumer's phone,
 * started `selecting` (or `assigned` to a named agent) with its first message sent through the
 * delivery pipeline from one of the tenant's SMS numbers. The consumer's replies join the session
 * (`selecting` → `queued`, routed like any chat); agents' messages go out as SMS. One active SMS
 * session per consumer and tenant, held by a unique index.
 */
export class SmsSessionsService {
  readonly #db: Kysely<DB>
  readonly #deps: SmsSessionsDeps
  readonly #setup: SetupRepository

  constructor(deps: SmsSessionsDeps) {
    this.#db = deps.db
    this.#deps = deps
    this.#setup = new SetupRepository(deps.db)
  }

  /** SMS and outbound SMS are on in the tenant's settings; ValidationError `sms_not_enabled`, `outbound_sms_not_enabled`. */
  async assertEnabled(tenantId: TenantId, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<void> {
    const settings = await this.#setup.settings(db, tenantId)
    if (!settings?.smsEnabled) throw new ValidationError('sms_not_enabled', 'SMS is not enabled')
    if (!settings.outboundSmsEnabled) throw new ValidationError('outbound_sms_not_enabled', 'Outbound SMS is not enabled')
  }

  /** The number is one of the tenant's SMS-enabled contact-center numbers; ValidationError `outbound_number_not_found`. */
  async assertOutboundNumber(tenantId: TenantId, e164: string, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<void> {
    const numbers = await this.#setup.phoneNumbers(db, tenantId)
    if (!numbers.some((n) => n.number === e164 && n.sms)) throw new ValidationError('outbound_number_not_found', 'outbound_number is not found', { number: e164 })
  }

  /**
   * S1: start an SMS session and send its first message. Checks, in order: enabled, the number,
   * the agent (`sms_agent_not_found`: unknown, deactivated), no active session of the consumer
   * (`sms_session_active`), not opted out (`sms_recipient_opted_out`). A refusal writes nothing.
   */
  async start(tenantId: TenantId, input: StartSmsInput): Promise<Chat> {
    const tenant = { id: tenantId }
    // Read before the transaction (the embedded store has one connection, which the transaction
    // holds); delivery checks the list again when it queues and before it sends, so a STOP that
    // lands in between still wins: the message ends `suppressed`, nothing leaves.
    const optedOut = (await this.#deps.suppression.isSuppressed(tenant, 'sms', input.endUserPhone)) !== undefined
    const num = await this.#db.transaction().execute(async (trx) => {
      await this.assertEnabled(tenantId, trx)
      await this.assertOutboundNumber(tenantId, input.outboundNumber, trx)
      const agent = input.agent ? await this.#findAgent(trx, tenantId, input.agent) : null
      if (input.agent && !agent) throw new ValidationError('sms_agent_not_found', 'Agent not found')
      if (await this.#activeSession(trx, tenantId, input.endUserPhone)) throw this.#active()
      if (optedOut) throw new ValidationError('sms_recipient_opted_out', 'Outbound SMS failed. Consumer has opted out of SMS (replied STOP).')
      const t = smsTransition(null, { type: 'start', agent: agent !== null })
      if (!t.ok) throw new Error('a new SMS session cannot be refused')
      const endUser = await this.#deps.endUsers.forPhone(trx, tenantId, input.endUserPhone)
      const [chatNum] = await nextNums(trx, tenantId, 'chat')
      const now = new Date()
      const session = await trx.insertInto('cc_sessions').values({
        tenant_id: tenantId, num: chatNum!, channel: 'chat', chat_type: SMS_CHAT_TYPE, status: t.status, status_text: STATUS_TEXT[t.status],
        menu_id: null, lang: 'en', end_user_num: endUser.num, person_id: endUser.personId, end_user_phone: input.endUserPhone,
        outbound_number: input.outboundNumber, out_ticket_id: input.ticketId ?? null, answer_type: 'manual', offer_type: null,
        agent_id: agent?.id ?? null, assigned_at: agent ? now : null, last_activity_at: now,
      }).returning('id').executeTakeFirstOrThrow().catch((err: unknown) => {
        if (uniqueViolation(err) === 'cc_sessions_active_sms') throw this.#active()
        throw err
      })
      const [p] = await nextNums(trx, tenantId, 'participant')
      await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p!, session_id: session.id, type: 'end_user', end_user_num: endUser.num, agent_id: null, status: 'connected', connected_at: now }).execute()
      const s = { id: session.id, num: chatNum!, agentId: agent?.id ?? null, agentNum: agent?.num ?? null, endUserNum: endUser.num }
      await this.#effects(trx, tenantId, s, t.effects, null)
      const message = (await this.#insertMessage(trx, tenantId, s, { fromEndUser: false, agentId: s.agentId, content: input.message, sourceKey: null }))!
      await this.#deps.delivery.send(tenant, {
        channel: 'sms', to: input.endUserPhone, from: input.outboundNumber, body: input.message, idempotencyKey: `cc-sms:${session.id}:${message.num}`,
        ...(endUser.personId ? { personId: endUser.personId } : {}),
      }, { trx })
      return chatNum!
    })
    this.#deps.delivery.wake()
    this.#deps.wakeWebhooks()
    return this.#deps.chats.get(tenantId, num)
  }

  /**
   * The inbound handler (conversation phase, before the bot): an SMS from a consumer with an
   * active session (to its number, when the provider says which number) joins it as an end-user
   * message — a session still `selecting` is queued and routed, an assigned agent hears it — and
   * is consumed. Idempotent: a retried job stores the message once.
   */
  readonly inboundHandler: InboundHandler = async (m: InboundMessage) => {
    if (m.channel !== 'sms') return undefined
    let q = this.#db.selectFrom('cc_sessions').select('id').where('tenant_id', '=', m.tenantId).where('end_user_phone', '=', m.from).where('status', 'not in', TERMINAL)
    if (m.to) q = q.where('outbound_number', '=', m.to)
    const found = await q.executeTakeFirst()
    if (!found) return undefined
    const joined = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('cc_sessions as s').leftJoin('cc_agents as a', (j) => j.onRef('a.tenant_id', '=', 's.tenant_id').onRef('a.id', '=', 's.agent_id'))
        .select(['s.id', 's.num', 's.status', 's.agent_id', 's.end_user_num', 'a.num as agent_num']).where('s.tenant_id', '=', m.tenantId).where('s.id', '=', found.id)
        .forUpdate('s').executeTakeFirstOrThrow()
      const status = row.status as ChatStatus
      const menu = status === 'selecting' ? await this.#queueMenu(trx, m.tenantId) : null
      const t = smsTransition(status, { type: 'reply', queue: menu !== null })
      if (!t.ok) return false
      const s = { id: row.id, num: row.num, agentId: row.agent_id, agentNum: row.agent_num ?? null, endUserNum: row.end_user_num }
      const message = await this.#insertMessage(trx, m.tenantId, s, { fromEndUser: true, agentId: null, content: m.body, sourceKey: `inbound:${m.id}` })
      if (!message) return true // stored by an earlier run of this job
      if (t.status !== status) {
        await trx.updateTable('cc_sessions').set({ status: t.status, status_text: STATUS_TEXT[t.status] }).where('tenant_id', '=', m.tenantId).where('id', '=', s.id).execute()
      }
      await this.#effects(trx, m.tenantId, s, t.effects, menu, message)
      return true
    })
    if (!joined) return undefined
    this.#deps.wakeWebhooks()
    void this.#deps.routing.kick(m.tenantId)
    return 'consumed'
  }

  /**
   * The chats' port for agent messages: in an SMS session the agent's text goes to the consumer as
   * an SMS from the session's number, written in the caller's transaction (keyed by the message).
   */
  async deliverAgentMessage(trx: Transaction<DB>, tenantId: TenantId, chatNum: number, message: ChatMessage): Promise<void> {
    if (!message.content) return
    const s = await trx.selectFrom('cc_sessions').select(['id', 'end_user_phone', 'outbound_number', 'person_id']).where('tenant_id', '=', tenantId).where('num', '=', chatNum)
      .where('chat_type', '=', SMS_CHAT_TYPE).executeTakeFirst()
    if (!s?.end_user_phone) return
    await this.#deps.delivery.send({ id: tenantId }, {
      channel: 'sms', to: s.end_user_phone, body: message.content, idempotencyKey: `cc-sms:${s.id}:${message.num}`,
      ...(s.outbound_number ? { from: s.outbound_number } : {}), ...(s.person_id ? { personId: s.person_id } : {}),
    }, { trx })
  }

  /** Wake the send workers after a commit that queued SMS. */
  wakeDelivery(): void {
    this.#deps.delivery.wake()
  }

  async #effects(trx: Transaction<DB>, tenantId: TenantId, s: { id: string; num: number; agentId: string | null; agentNum: number | null }, effects: readonly SmsEffect[], menu: Menu | null, message?: ChatMessage): Promise<void> {
    for (const e of effects) {
      if (e.type === 'webhook') {
        const chat = await this.#deps.chats.get(tenantId, s.num, trx)
        const p = [...chat.participants].reverse().find((x) => x.type === e.who)
        if (p) await this.#deps.webhook(trx, tenantId, { type: e.event, chat, participant: p }, `chat:${s.num}:${e.event}:${p.num}`)
      } else if (e.type === 'assign_agent' && s.agentId) {
        const now = new Date()
        const [p] = await nextNums(trx, tenantId, 'participant')
        await trx.insertInto('cc_participants').values({ tenant_id: tenantId, num: p!, session_id: s.id, type: 'agent', agent_id: s.agentId, end_user_num: null, status: 'connected', connected_at: now }).execute()
        await this.#inChat(trx, tenantId, s.agentId)
        await recordAgentEvent(trx, tenantId, s.agentId, 'chat_assigned', { chat_id: s.num })
      } else if (e.type === 'queue' && menu) {
        await trx.updateTable('cc_sessions').set({ menu_id: menu.id, priority: menu.priority, queued_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      } else if (e.type === 'notify_agent' && s.agentId && message) {
        await recordAgentEvent(trx, tenantId, s.agentId, 'message', {
          chat_id: s.num, message_id: message.num, from: 'end_user', type: message.type, content: message.content, media_id: message.mediaId, created_at: message.createdAt.toISOString(),
        })
      }
    }
  }

  /** An Available agent who takes a session is In-chat (as when accepting an offer); other statuses stay. */
  async #inChat(trx: Transaction<DB>, tenantId: TenantId, agentId: string): Promise<void> {
    const statuses = await this.#setup.statuses(trx, tenantId)
    const agent = await trx.selectFrom('cc_agents').select('status_id').where('tenant_id', '=', tenantId).where('id', '=', agentId).forNoKeyUpdate().executeTakeFirstOrThrow()
    const current = statuses.find((x) => x.id === agent.status_id)
    if (current?.name !== SYSTEM_STATUSES.available) return
    const inChat = statuses.find((x) => x.name === SYSTEM_STATUSES.inChat)!
    await trx.updateTable('cc_agents').set({ status_id: inChat.id, status_updated_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
    await recordAgentEvent(trx, tenantId, agentId, 'status', { status: inChat.name })
  }

  async #insertMessage(trx: Transaction<DB>, tenantId: TenantId, s: { id: string; num: number; endUserNum?: number | null }, input: { fromEndUser: boolean; agentId: string | null; content: string; sourceKey: string | null }): Promise<ChatMessage | undefined> {
    const [num] = await nextNums(trx, tenantId, 'message')
    const row = await trx.insertInto('cc_messages').values({
      tenant_id: tenantId, num: num!, session_id: s.id, from_end_user: input.fromEndUser, agent_id: input.agentId, type: 'text', content: input.content, media_id: null, source_key: input.sourceKey,
    }).onConflict((oc) => oc.columns(['tenant_id', 'source_key']).where('source_key', 'is not', null).doNothing()).returning(['created_at']).executeTakeFirst()
    if (!row) return undefined
    await trx.updateTable('cc_sessions').set({ last_activity_at: row.created_at }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    const agentNum = input.agentId ? (await trx.selectFrom('cc_agents').select('num').where('tenant_id', '=', tenantId).where('id', '=', input.agentId).executeTakeFirstOrThrow()).num : null
    return { num: num!, chatNum: s.num, fromEndUserNum: input.fromEndUser ? s.endUserNum ?? null : null, fromAgentNum: agentNum, type: 'text', content: input.content, mediaId: null, createdAt: row.created_at }
  }

  /**
   * The queue a replying consumer waits in: the tenant's first leaf queue that serves chats (menu
   * order); none, and the session stays `selecting` with the message kept.
   */
  async #queueMenu(trx: Transaction<DB>, tenantId: TenantId): Promise<Menu | null> {
    const menus = await this.#setup.menus(trx, tenantId)
    return menus.filter((m) => m.leaf && !m.deleted && m.channels.includes('chat')).sort((a, b) => a.num - b.num)[0] ?? null
  }

  async #findAgent(trx: Transaction<DB>, tenantId: TenantId, ref: { num: number } | { email: string }): Promise<{ id: string; num: number } | undefined> {
    let q = trx.selectFrom('cc_agents').select(['id', 'num']).where('tenant_id', '=', tenantId).where('deactivated_at', 'is', null)
    q = 'num' in ref ? q.where('num', '=', ref.num) : q.where((eb) => eb(eb.fn('lower', ['email']), '=', ref.email.trim().toLowerCase()))
    return q.executeTakeFirst()
  }

  async #activeSession(trx: Transaction<DB>, tenantId: TenantId, phone: string): Promise<boolean> {
    const row = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('end_user_phone', '=', phone).where('status', 'not in', TERMINAL).executeTakeFirst()
    return row !== undefined
  }

  #active(): ValidationError {
    return new ValidationError('sms_session_active', 'Outbound SMS failed. Consumer is already in an active SMS session.')
  }
}
