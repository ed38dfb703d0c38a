import type { Agent, Chat, ChatAgent, ChatEscalation, ChatMessage, ChatParticipant, ChatTransfer, ChatWebhookEvent, Menu } from '../../core/contact-center/index.ts'
import type { Call } from '../../core/calls/index.ts'
import type { AgentStatusResult, ForceLogoutJob } from '../../core/contact-center/index.ts'
import type { EndUser } from '../../core/contact-center/index.ts'
import type { ChatMedia, CustomerFlags } from '../../core/contact-center/index.ts'
import type { UploadTicket } from '../../core/files/index.ts'
import type { CampaignContact, CampaignImport } from '../../core/contact-center/index.ts'

/** §1.7: ISO 8601 UTC with milliseconds and `Z`, or null. */
export function ts(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null
}

/** A User of `GET /users` (§3.5), with the filter attributes as extra keys (§1.4 allows a superset). */
export function presentUser(a: Agent) {
  return {
    id: a.num,
    email: a.email,
    first_name: a.firstName,
    last_name: a.lastName,
    agent_number: a.agentNumber ?? '',
    location: a.location,
    max_chat_limit: a.chatCapacity,
    max_chat_limit_enabled: true,
    unrestricted_international_calling: a.permissions.includes('unrestricted_international_calling'),
    deactivated_at: ts(a.deactivatedAt),
    ucaas_user_name: null,
    ucaas_sip_uri: null,
    external_user: false,
    phone_numbers: [...a.phoneNumbers],
    extension_numbers: [],
    teams: a.teams.map((t) => ({ name: t.name })),
    roles: a.roles.map((name) => ({ name })),
    status_id: a.status.num,
    online: a.status.name !== 'Offline',
    wrap_up: a.status.name === 'Wrap-up',
    last_login_time: ts(a.lastLoginAt),
    status_updated_at: ts(a.statusUpdatedAt),
  }
}

/** An AgentStatusResult (§3.15): `message` only on a refusal or a deferred logout. */
export function presentStatusResult(r: AgentStatusResult) {
  return {
    agent_id: r.agent.num,
    name: `${r.agent.firstName} ${r.agent.lastName}`,
    email: r.agent.email,
    agent_number: r.agent.agentNumber ?? '',
    previous_status: r.previousStatus,
    current_status: r.currentStatus,
    ...(r.message !== undefined ? { message: r.message } : {}),
  }
}

/** A force-logout job (A4). */
export function presentForceLogoutJob(j: ForceLogoutJob) {
  return { id: j.num, status: j.status, total: j.total, processed: j.processed, results: j.results.map(presentStatusResult) }
}

/** An agent as chats show it (`agent`, `all_agents`). */
function presentChatAgent(a: ChatAgent) {
  return { id: a.num, name: `${a.firstName} ${a.lastName}`, first_name: a.firstName, avatar_url: null, status: a.status }
}

/** AgentInfo (§3.5) of the handling agent. */
function presentAgentInfo(a: ChatAgent) {
  return { id: a.num, name: `${a.firstName} ${a.lastName}`, first_name: a.firstName, last_name: a.lastName, agent_number: a.agentNumber ?? '', avatar_url: null, email: a.email }
}

/** Menu (§3.4). */
export function presentMenu(m: Menu) {
  return { id: m.num, name: m.name, parent_id: m.parentNum, position: m.position, deleted: m.deleted, hidden: m.hidden, menu_type: m.menuType, output_msg: m.outputMsg }
}

/** A participant (§3.3, chat variant). */
export function presentParticipant(chatNum: number, p: ChatParticipant) {
  const duration = p.connectedAt ? Math.max(0, Math.round(((p.endedAt ?? new Date()).getTime() - p.connectedAt.getTime()) / 1000)) : null
  return {
    id: p.num, type: p.type, status: p.status, chat_id: chatNum, user_id: p.agentNum, end_user_id: p.endUserNum,
    chat_duration: duration, connected_at: ts(p.connectedAt), ended_at: ts(p.endedAt), fail_reason: 'nothing',
  }
}

/** A Chat (§3.2): the union of the chat-platform and the session/SMS shapes, null never omitted. */
export function presentChat(c: Chat) {
  const seconds = (from: Date | null, to: Date | null) => (from ? Math.max(0, Math.round(((to ?? new Date()).getTime() - from.getTime()) / 1000)) : 0)
  const menuPath = c.menuPath.length ? { items_count: c.menuPath.length, name: c.menuPath.at(-1)!.name, materialized_path: c.menuPath.map((m) => m.name).join(' / ') } : null
  return {
    id: c.num,
    status: c.status,
    status_text: c.statusText,
    features: [] as string[],
    chat_type: c.chatType,
    created_at: ts(c.createdAt),
    queued_at: ts(c.queuedAt),
    assigned_at: ts(c.assignedAt),
    ends_at: ts(c.endsAt),
    timeout_at: ts(c.timeoutAt),
    wait_duration: seconds(c.queuedAt, c.assignedAt ?? c.endsAt),
    chat_duration: seconds(c.assignedAt, c.endsAt),
    agent: c.agent ? presentChatAgent(c.agent) : null,
    virtual_agent: c.virtualAgent ? { id: null, name: c.virtualAgent.name, avatar_url: null, status: c.virtualAgent.status } : null,
    all_agents: c.allAgents.map(presentChatAgent),
    all_virtual_agents: c.virtualAgent ? [{ id: null, name: c.virtualAgent.name, avatar_url: null, status: c.virtualAgent.status }] : [],
    lang: c.lang,
    menus: c.menuPath.map((m) => ({ id: m.num, name: m.name })),
    selected_menu: c.menu ? presentMenu(c.menu) : null,
    menu_path: menuPath,
    end_user: { id: c.endUserNum, identifier: c.endUserIdentifier, out_contact_id: c.endUserOutContactId },
    agent_info: c.agent ? presentAgentInfo(c.agent) : null,
    rating: null,
    has_feedback: false,
    out_ticket_id: c.outTicketId ?? null,
    out_ticket_url: null,
    verified: c.verified,
    bad_actor: c.badActor,
    repeat_customer: c.repeatCustomer,
    disconnected_by: c.disconnectedBy,
    fail_reason: null,
    transfers: c.transfers.map(presentTransfer),
    photos: c.photos.map((m) => ({ id: m.num, photo_type: m.photoType ?? 'photo', url: m.url })),
    videos: c.videos.map((m) => ({ id: m.num, url: m.url })),
    participants: c.participants.map((p) => presentParticipant(c.num, p)),
    offer_type: c.offerType,
    offer_events: c.offerEvents.map((e) => ({ agent_id: e.agent_id, offered_at: e.offered_at, result: e.result })),
    answer_type: c.answerType,
    outbound_number: c.outboundNumber,
    deflection_channel: c.deflectionChannel,
    escalations: c.escalations.map(presentEscalation),
    context: c.context,
    custom_data: c.customData,
  }
}

/** A chat message (§3.16). */
export function presentMessage(m: ChatMessage) {
  return { id: m.num, chat_id: m.chatNum, from_user_id: m.fromEndUserNum, from_agent_id: m.fromAgentNum, type: m.type, content: m.content, media_id: m.mediaId, created_at: ts(m.createdAt) }
}

/** The body of a chat webhook (§1.12, inferred shape): `{type, chat_id, timestamp, data}`. */
export function presentChatWebhook(e: ChatWebhookEvent) {
  const data = e.type === 'message_received' ? presentMessage(e.message)
    : e.type === 'participant_joined' || e.type === 'participant_left' ? presentParticipant(e.chat.num, e.participant)
      : presentChat(e.chat)
  return { type: e.type, chat_id: e.chat.num, timestamp: new Date().toISOString(), data }
}

/** An end user as E1/E2 answer it (§3.6): `{id, identifier}`. */
export function presentEndUser(u: EndUser) {
  return { id: u.num, identifier: u.identifier }
}

/** An escalation (§3.16). */
export function presentEscalation(e: ChatEscalation) {
  return {
    id: e.num, chat_id: e.chatNum, reason: e.reason, force_escalate: e.forceEscalate, status: e.status,
    deflection_channels: [...e.deflectionChannels], deflection_channel: e.deflectionChannel, created_at: ts(e.createdAt),
  }
}

/** A MenuPath (§3.4) of one queue: its names from the root. */
function presentMenuPath(m: Menu | null) {
  return m ? { items_count: m.depth, name: m.name, materialized_path: m.path } : null
}

/** A transfer (§3.7): agent transfers name the agents, queue transfers the queues. */
export function presentTransfer(x: ChatTransfer) {
  return {
    id: x.num, status: x.status, fail_reason: x.failReason, created_at: ts(x.createdAt),
    from_menu: presentMenuPath(x.fromMenu), to_menu: presentMenuPath(x.toMenu),
    from_agent: x.fromAgent ? presentAgentInfo(x.fromAgent) : null, to_agent: x.toAgent ? presentAgentInfo(x.toAgent) : null,
  }
}

/** A Photo (§3.7; `id` is the media id). */
export function presentPhoto(m: ChatMedia) {
  return { id: m.num, photo_type: m.photoType ?? 'photo', url: m.url }
}

/** A Video (§3.7; `id` is the media id). */
export function presentVideo(m: ChatMedia) {
  return { id: m.num, url: m.url }
}

/** UploadUrl (§3.16): the presigned PUT and the `s3_path` to attach afterwards. */
export function presentUploadUrl(u: UploadTicket) {
  return { url: u.url, s3_path: u.key, method: u.method, headers: { ...u.headers }, expires_at: ts(u.expiresAt) }
}

/** CustomerFlag (§3.13): `repeat_customer` and the request's spelling `repeat_customers`, both. */
export function presentCustomerFlag(f: CustomerFlags) {
  return { verified_customer: f.verified, bad_actor: f.badActor, repeat_customer: f.repeatCustomer, repeat_customers: f.repeatCustomer }
}

/** A DNC time as the DNC endpoints write it (§1.7): `"2022-10-29 00:00:00 UTC"`. */
export function formatDncTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** A campaign contact (§3.8), with the extra keys third-party clients read (`phone_number`, `phone`, `email`, `external_unique_id`). */
export function presentCampaignContact(c: CampaignContact) {
  return {
    assigned_call_id: c.assignedCallId, assigned_participant_id: c.assignedParticipantId, campaign_id: c.campaignNum,
    created_at: ts(c.createdAt), id: c.num, name: c.name, outbound_number: c.outboundNumber, priority: c.priority, status: c.status,
    unique_id: c.uniqueId, updated_at: ts(c.updatedAt),
    phone_number: c.phone, phone: c.phone, email: c.email, external_unique_id: c.uniqueId,
  }
}

/** An import job of campaign contacts (§3.8 ImportJob): `id` and `job_id` are the same. */
export function presentCampaignImport(j: CampaignImport) {
  return {
    id: j.num, job_id: j.num, campaign_id: j.campaignNum, status: j.status, filename: j.filename, total_rows: j.totalRows,
    imported_rows: j.importedRows, failed_rows: j.failedRows, errors: j.errors.map((e) => ({ row: e.row, message: e.message })),
    created_at: ts(j.createdAt), finished_at: ts(j.finishedAt),
  }
}

/** A Call (§3.1): every documented field, null never omitted, plus `status_text`, the flags, custom data and W2 contact data (§1.4 allows a superset). */
export function presentCall(c: Call) {
  const seconds = (from: Date | null, to: Date | null) => (from ? Math.max(0, Math.round(((to ?? new Date()).getTime() - from.getTime()) / 1000)) : 0)
  const menuPath = c.menuPath.length ? { items_count: c.menuPath.length, name: c.menuPath.at(-1)!.name, materialized_path: c.menuPath.map((m) => m.name).join(' / ') } : null
  const agentInfo = c.agent ? { id: c.agent.num, name: `${c.agent.firstName} ${c.agent.lastName}`, first_name: c.agent.firstName, last_name: c.agent.lastName, agent_number: c.agent.agentNumber ?? '', avatar_url: null, email: c.agent.email } : null
  return {
    id: c.num,
    parent_id: c.parentNum,
    lang: c.lang,
    call_type: c.callType,
    status: c.status,
    status_text: c.statusText,
    created_at: ts(c.createdAt),
    queued_at: ts(c.queuedAt),
    assigned_at: ts(c.assignedAt),
    connected_at: ts(c.connectedAt),
    ends_at: ts(c.endsAt),
    scheduled_at: ts(c.scheduledAt),
    wait_duration: c.queuedAt ? seconds(c.queuedAt, c.connectedAt ?? c.endsAt) : 0,
    call_duration: c.callDuration,
    hold_duration: c.holdDuration,
    rating: null,
    has_feedback: false,
    voip_provider: c.voipProvider,
    out_ticket_id: c.outTicketId,
    out_ticket_url: c.outTicketUrl,
    verified: c.verified,
    bad_actor: c.badActor,
    repeat_customer: c.repeatCustomer,
    recording_url: c.recordingUrl,
    recording_permission: c.recordingPermission,
    voicemail_reason: c.voicemailReason,
    deflection: c.deflection,
    disconnected_by: c.disconnectedBy,
    fail_details: c.failDetails,
    fail_reason: c.failReason,
    support_number: c.supportNumber,
    selected_menu: c.menu ? presentMenu(c.menu) : null,
    menu_path: menuPath,
    agent_info: agentInfo,
    end_user: c.endUser ? { id: c.endUser.num, identifier: c.endUser.identifier, out_contact_id: c.endUser.outContactId } : null,
    photos: [] as unknown[],
    videos: [] as unknown[],
    transfers: c.transfers.map((x) => presentTransfer({ ...x, fromAgent: x.fromAgent && { ...x.fromAgent, status: 'connected' }, toAgent: x.toAgent && { ...x.toAgent, status: 'connected' } })),
    participants: c.participants.map((p) => ({
      id: p.num, type: p.type, status: p.status, call_id: c.num, user_id: p.agentNum, end_user_id: p.endUserNum,
      call_duration: p.connectedAt ? seconds(p.connectedAt, p.endedAt) : null, hold_duration: p.type === 'end_user' ? c.holdDuration : 0,
      connected_at: ts(p.connectedAt), ended_at: ts(p.endedAt), fail_reason: p.status === 'failed' ? c.failReason : 'nothing',
    })),
    offer_type: c.offerType,
    offer_events: c.offerEvents.map((e) => ({ agent_id: e.agent_id, offered_at: e.offered_at, result: e.result })),
    answer_type: c.answerType,
    outbound_number: c.outboundNumber,
    custom_data: c.customData,
    contact_data: c.contactData,
  }
}
