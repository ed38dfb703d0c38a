import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'
import type { TenantId } from '../lib/tenant-id.ts'

/** Timestamps: read as Date, written as Date or ISO string, defaulted by the database. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface TenantsTable {
  id: Generated<TenantId>
  name: string
  embed_code: string
  settings: ColumnType<Record<string, unknown>, string | undefined, string>
  created_at: Timestamp
}

export interface TenantCredentialsTable {
  id: Generated<string>
  tenant_id: TenantId
  surface: 'cass' | 'ccai' | 'courier'
  kind: 'token' | 'company_secret' | 'api_key'
  key: string
  secret_hash: string
  /** The secret sealed under the master key when it must be recoverable (the ccai company secret); null: only the hash. */
  secret_sealed: ColumnType<string | null, string | null | undefined, string | null>
  created_at: Timestamp
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface PeopleTable {
  id: Generated<string>
  tenant_id: TenantId
  first_name: string | null
  last_name: string | null
  phone: string | null
  email: string | null
  external_id: string | null
  external_username: string | null
  external_org: string | null
  external_data_1: string | null
  external_data_2: string | null
  external_data_3: string | null
  protocol: Generated<string>
  language_type: string | null
  gender: string | null
  timezone: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface PersonIdentitiesTable {
  id: Generated<string>
  tenant_id: TenantId
  person_id: string
  surface: 'cass' | 'ccai' | 'courier'
  public_id: string
  /** int8 comes back from pg as a string. */
  legacy_id: ColumnType<string | null, string | number | null | undefined, string | number | null>
  created_at: Timestamp
}

export interface BotThreadsTable {
  tenant_id: TenantId
  name: string
  definition: ColumnType<unknown, string | undefined, string>
  created_at: Timestamp
}

/** Every table Kysely may touch. Later migrations add their tables here. */
export interface DB {
  tenants: TenantsTable
  tenant_credentials: TenantCredentialsTable
  people: PeopleTable
  person_identities: PersonIdentitiesTable
  bot_threads: BotThreadsTable
  job_keys: JobKeysTable
  outbox_messages: OutboxMessagesTable
  inbound_messages: InboundMessagesTable
  outbox_status_events: OutboxStatusEventsTable
  sender_rate_slots: SenderRateSlotsTable
  suppressions: SuppressionsTable
  tenant_provider_settings: TenantProviderSettingsTable
}

export type TenantRow = Selectable<TenantsTable>
export type PersonRow = Selectable<PeopleTable>
export type NewPersonRow = Insertable<PeopleTable>
export type PersonUpdateRow = Updateable<PeopleTable>

/** Nullable timestamp written by the application. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
/** jsonb object column: read as an object, written as JSON text. */
type JsonObject = ColumnType<Record<string, unknown>, string | undefined, string>

/** Idempotency ledger of queued jobs (migrations/0002). */
export interface JobKeysTable {
  queue: string
  key: string
  job_id: string
  tenant_id: TenantId | null
  state: Generated<'queued' | 'running' | 'retrying' | 'completed' | 'dead'>
  attempts: Generated<number>
  last_error: string | null
  run_at: Timestamp
  created_at: Timestamp
  updated_at: Timestamp
  finished_at: NullableTimestamp
}

/** Every outbound message of any channel (migrations/0002). */
export interface OutboxMessagesTable {
  id: Generated<string>
  tenant_id: TenantId
  channel: string
  person_id: string | null
  recipient: string
  sender: string | null
  subject: string | null
  body: string
  payload: JsonObject
  idempotency_key: string
  status: Generated<'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'suppressed'>
  provider: string | null
  provider_message_id: string | null
  attempts: Generated<number>
  last_error: string | null
  send_at: Timestamp
  created_at: Timestamp
  updated_at: Timestamp
  sent_at: NullableTimestamp
  /** Why a `suppressed` message was not sent (migrations/0005). */
  suppressed_reason: 'stop_keyword' | 'dnc' | 'consent_withdrawn' | 'manual' | 'consent_required' | null
  /** A carrier-required reply (STOP/START/HELP answers): never suppressed (migrations/0005). */
  compliance_reply: Generated<boolean>
}

/** Messages people send in (migrations/0002). */
export interface InboundMessagesTable {
  id: Generated<string>
  tenant_id: TenantId
  channel: string
  person_id: string | null
  sender: string
  recipient: string | null
  body: string
  payload: JsonObject
  provider: string
  provider_message_id: string | null
  status: Generated<'received' | 'processed'>
  received_at: Timestamp
  processed_at: NullableTimestamp
}

/** Addresses a tenant must not send to, per channel scope (migrations/0005). */
export interface SuppressionsTable {
  id: Generated<string>
  tenant_id: TenantId
  scope: 'sms' | 'whatsapp' | 'messenger' | 'email' | 'push' | 'webchat' | 'voice' | 'all'
  address: string
  reason: 'stop_keyword' | 'dnc' | 'consent_withdrawn' | 'manual'
  source: string
  created_at: Timestamp
  /** NULL: permanent; past: treated as absent (migrations/0037). */
  expires_at: NullableTimestamp
}

/** A tenant's vendor and sealed (AES-256-GCM) options per channel (migrations/0005). */
export interface TenantProviderSettingsTable {
  tenant_id: TenantId
  channel: string
  vendor: string
  sealed_settings: string
  updated_at: Timestamp
}

/** Columns migrations/0006 adds to the outbox (declaration merging keeps this file append-only). */
export interface OutboxMessagesTable {
  /** SMS: segments the body takes; null for other channels. */
  segments: ColumnType<number | null, number | null | undefined, number | null>
  encoding: ColumnType<'GSM-7' | 'UCS-2' | null, 'GSM-7' | 'UCS-2' | null | undefined, 'GSM-7' | 'UCS-2' | null>
  /** When the provider last reported a status. */
  status_at: NullableTimestamp
  provider_error_code: ColumnType<string | null, string | null | undefined, string | null>
}

/** Every status an outbox message went through (migrations/0006). */
export interface OutboxStatusEventsTable {
  id: Generated<string>
  tenant_id: TenantId
  message_id: string
  status: string
  provider_status: string | null
  error_code: string | null
  applied: Generated<boolean>
  at: Timestamp
}

/** Next free send slot per sender, for rate limits across processes (migrations/0006). */
export interface SenderRateSlotsTable {
  tenant_id: TenantId
  channel: string
  sender: string
  next_slot: Date
}

/** The column migrations/0004 adds to bot_threads: which content version the current row comes from. */
export interface BotThreadsTable {
  version: ColumnType<number | null, number | null | undefined, number | null>
}

/** Every load of a tenant's thread file (migrations/0004); the highest version is current. */
export interface BotThreadVersionsTable {
  tenant_id: TenantId
  version: number
  document: ColumnType<Record<string, unknown>, string, string>
  source: string
  format: 'yaml' | 'json'
  created_at: Timestamp
}

/** A person's conversation with the bot (migrations/0004). */
export interface ConversationsTable {
  id: Generated<string>
  tenant_id: TenantId
  person_id: string
  thread_name: string
  thread_version: number
  step: Generated<number>
  variables: ColumnType<Record<string, string>, string | undefined, string>
  placeholders: ColumnType<Record<string, string>, string | undefined, string>
  status: Generated<'active' | 'ended' | 'replaced'>
  awaiting: Generated<'none' | 'choice' | 'text'>
  reprompts: Generated<number>
  then_thread: string | null
  autoping: ColumnType<{ after: string; thread: string } | null, string | null | undefined, string | null>
  seq: Generated<number>
  started_by: string
  start_key: string | null
  created_at: Timestamp
  updated_at: Timestamp
  ended_at: NullableTimestamp
}

/** Every bot message in and out, with its bot context (migrations/0004). */
export interface TranscriptMessagesTable {
  id: Generated<string>
  seq: Generated<string>
  tenant_id: TenantId
  person_id: string
  direction: 'in' | 'out'
  channel: string
  text: string
  conversation_id: string | null
  thread_name: string | null
  step: number | null
  outbox_message_id: string | null
  inbound_message_id: string | null
  created_at: Timestamp
}

/** Check-ins and autopings waiting for the scheduler (migrations/0004). */
export interface ScheduledNotificationsTable {
  id: Generated<string>
  tenant_id: TenantId
  person_id: string
  type: 'checkin' | 'autoping'
  thread_name: string
  due_at: ColumnType<Date, Date | string, Date | string>
  status: Generated<'pending' | 'fired' | 'cancelled' | 'failed'>
  conversation_id: string | null
  idempotency_key: string
  created_at: Timestamp
  fired_at: NullableTimestamp
  // migrations/0008: the scheduler's bookkeeping.
  /** Fired for a `web` person: waits for the Notification API instead of being sent. */
  queued: Generated<boolean>
  attempts: Generated<number>
  retry_at: NullableTimestamp
  last_error: string | null
}

/** The transcript view (migrations/0004): one row per message in or out, bot or not. */
export interface TranscriptView {
  message_id: string
  person_id: string | null
  core_person_id: string
  tenant_id: TenantId
  client_name: string
  direction: 'in' | 'out'
  channel: string
  text: string
  thread_name: string | null
  step: number | null
  conversation_id: string | null
  created_at: Date
  sort_key: string | null
}

/** The bot's tables (migrations/0004), merged into DB. */
export interface DB {
  bot_thread_versions: BotThreadVersionsTable
  conversations: ConversationsTable
  transcript_messages: TranscriptMessagesTable
  scheduled_notifications: ScheduledNotificationsTable
  transcript: TranscriptView
}

/** Text array column: read as an array, written as an array. */
type TextArray = ColumnType<string[], string[] | undefined, string[]>

/** The contact center's setup tables (migrations/0011), merged into DB. */
export interface DB {
  cc_counters: { tenant_id: TenantId; kind: string; last: number }
  cc_setup_versions: CcSetupVersionsTable
  cc_settings: CcSettingsTable
  cc_teams: CcTeamsTable
  cc_statuses: CcStatusesTable
  cc_agents: CcAgentsTable
  cc_agent_teams: { tenant_id: TenantId; agent_id: string; team_id: string }
  cc_agent_sessions: CcAgentSessionsTable
  cc_menus: CcMenusTable
  cc_menu_teams: { tenant_id: TenantId; menu_id: string; team_id: string }
  cc_phone_numbers: CcPhoneNumbersTable
  cc_jobs: CcJobsTable
}

/** Background jobs of the Apps API a client polls (migrations/0014). */
export interface CcJobsTable {
  id: Generated<string>
  tenant_id: TenantId
  num: number
  kind: 'force_logout'
  status: 'in_progress' | 'finished'
  input: JsonObject
  total: number
  processed: Generated<number>
  results: ColumnType<unknown[], string | undefined, string>
  created_at: Timestamp
  finished_at: NullableTimestamp
}

export interface CcSetupVersionsTable {
  tenant_id: TenantId
  version: number
  document: JsonObject
  source: string
  format: 'yaml' | 'json'
  created_at: Timestamp
}

export interface CcSettingsTable {
  tenant_id: TenantId
  time_zone: string
  sms_enabled: boolean
  outbound_sms_enabled: boolean
  chat_dismissal_seconds: number
  offer_timeout_seconds: number
  wrap_up_seconds: number
  rate_limit_per_second: number
  webhook_url: string | null
  webhook_secrets_sealed: TextArray
  updated_at: Timestamp
}

/** Per-tenant integer id of the Apps API (an int4: pg reads it as a number). */
type Num = number

export interface CcTeamsTable {
  id: Generated<string>
  tenant_id: TenantId
  num: Num
  name: string
  deleted_at: NullableTimestamp
  created_at: Timestamp
}

export interface CcStatusesTable {
  id: Generated<string>
  tenant_id: TenantId
  num: Num
  name: string
  kind: 'available' | 'away' | 'system'
  deleted_at: NullableTimestamp
}

export interface CcAgentsTable {
  id: Generated<string>
  tenant_id: TenantId
  num: Num
  email: string
  first_name: string
  last_name: string
  agent_number: string | null
  location: string | null
  roles: TextArray
  permissions: TextArray
  chat_capacity: number
  phone_numbers: TextArray
  password_hash: string | null
  deactivated_at: NullableTimestamp
  status_id: string | null
  /** The status the agent chose, returned to when a system status ends (migrations/0014). */
  chosen_status_id: string | null
  status_updated_at: Timestamp
  last_login_at: NullableTimestamp
  login_ip: string | null
  idle_since: NullableTimestamp
  logout_pending: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface CcAgentSessionsTable {
  id: Generated<string>
  tenant_id: TenantId
  agent_id: string
  token_hash: string
  ip: string | null
  created_at: Timestamp
  expires_at: Timestamp
  revoked_at: NullableTimestamp
}

export interface CcMenusTable {
  id: Generated<string>
  tenant_id: TenantId
  num: Num
  parent_id: string | null
  menu_type: 'ivr_menu' | 'mobile_menu' | 'web_menu'
  name: string
  path: string
  position: number
  leaf: boolean
  hidden: Generated<boolean>
  output_msg: string | null
  channels: TextArray
  languages: TextArray
  priority: Generated<number>
  config: JsonObject
  deleted: Generated<boolean>
}

export interface CcPhoneNumbersTable {
  tenant_id: TenantId
  number: string
  sms: boolean
  voice: boolean
  us: boolean
  deleted: Generated<boolean>
}

/** Events pushed to tenants' webhook endpoints (migrations/0013). */
export interface OutboundWebhooksTable {
  tenant_id: TenantId
  id: Generated<string>
  /** int8 comes back from pg as a string. */
  seq: ColumnType<string, never, never>
  topic: string
  ordering_key: string | null
  idempotency_key: string
  body: string
  status: Generated<'pending' | 'delivered' | 'failed' | 'dropped'>
  attempts: Generated<number>
  url: string | null
  response_status: number | null
  last_error_code: string | null
  last_error: string | null
  created_at: Timestamp
  updated_at: Timestamp
  delivered_at: NullableTimestamp
}

/** The outbound webhooks table (migrations/0013), merged into DB. */
export interface DB {
  outbound_webhooks: OutboundWebhooksTable
}

/** Contact-center sessions, participants, messages and offers (migrations/0016), merged into DB. */
export interface DB {
  cc_sessions: CcSessionsTable
  cc_participants: CcParticipantsTable
  cc_messages: CcMessagesTable
  cc_offers: CcOffersTable
}

export interface CcSessionsTable {
  id: Generated<string>
  tenant_id: TenantId
  num: number
  channel: 'chat' | 'call'
  chat_type: string
  status: string
  status_text: string
  menu_id: string | null
  lang: Generated<string>
  end_user_num: number | null
  person_id: string | null
  email: string | null
  context: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  custom_data: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  verified: Generated<boolean>
  bad_actor: Generated<boolean>
  repeat_customer: Generated<boolean>
  priority: Generated<number>
  agent_id: string | null
  offer_type: string | null
  offer_events: ColumnType<OfferEventRow[], string | undefined, string>
  answer_type: string | null
  outbound_number: string | null
  disconnected_by: Generated<string>
  created_at: Timestamp
  queued_at: NullableTimestamp
  assigned_at: NullableTimestamp
  ends_at: NullableTimestamp
  last_activity_at: Timestamp
}

/** One offer of a session to an agent, as the Apps API lists it in `offer_events`. */
export interface OfferEventRow { agent_id: number; offered_at: string; result: 'pending' | 'accepted' | 'rejected' | 'timeout' | 'withdrawn' }

export interface CcParticipantsTable {
  id: Generated<string>
  tenant_id: TenantId
  num: number
  session_id: string
  type: 'end_user' | 'agent' | 'virtual_agent'
  agent_id: string | null
  end_user_num: number | null
  status: string
  connected_at: NullableTimestamp
  ended_at: NullableTimestamp
  created_at: Timestamp
}

export interface CcMessagesTable {
  id: Generated<string>
  tenant_id: TenantId
  num: number
  session_id: string
  from_end_user: boolean
  agent_id: string | null
  type: string
  content: string | null
  media_id: string | null
  created_at: Timestamp
}

export interface CcOffersTable {
  id: Generated<string>
  tenant_id: TenantId
  session_id: string
  agent_id: string
  result: Generated<'pending' | 'accepted' | 'rejected' | 'timeout' | 'withdrawn'>
  offered_at: Timestamp
  expires_at: Date | string
  resolved_at: NullableTimestamp
}

/** The agent API's event stream (migrations/0016), merged into DB. */
export interface DB {
  cc_agent_events: {
    id: Generated<string>
    tenant_id: TenantId
    agent_id: string
    type: string
    data: JsonObject
    created_at: Timestamp
  }
}

/** Messaging (JSON:API) organisation preferences (migrations/0022), merged into DB. */
export interface DB {
  msg_org_preferences: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    name: string
    type: string
    value: string | null
    value_js: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
    created_at: Timestamp
    updated_at: Timestamp
  }
}

/** Messaging channels, subscribers, messages and reactions (migrations/0024), merged into DB. */
export interface DB {
  msg_channels: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    name: Generated<string>
    label: string | null
    subscription_type: Generated<string>
    floating: Generated<boolean>
    event_settings: ColumnType<Record<string, unknown>, string | undefined, string>
    individual_group_id: string | null
    text_number_id: string | null
    created_by: string | null
    archived_at: NullableTimestamp
    sms_active: Generated<boolean>
    sms_initial_message: string | null
    sms_initial_message_js: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
    /** migrations/0027: when the SMS path was last switched on. */
    sms_activated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_channel_subscribers: {
    tenant_id: TenantId
    channel_id: string
    individual_id: string
    admin: Generated<boolean>
    pinned: Generated<boolean>
    preferences: ColumnType<Record<string, unknown>, string | undefined, string>
    ack_seq: ColumnType<string, string | number | undefined, string | number>
    ack_at: NullableTimestamp
    created_at: Timestamp
  }
  msg_messages: {
    id: Generated<string>
    tenant_id: TenantId
    channel_id: string
    seq: ColumnType<string, never, never>
    author_id: string | null
    message: Generated<string>
    draft: Generated<boolean>
    removed: Generated<boolean>
    source: Generated<string>
    auto_ack: Generated<string>
    include_destinations: ColumnType<string[], string | undefined, string>
    posted_at: Timestamp
    last_modified_at: Timestamp
    /** migrations/0027: the SMS this message came in as (a reply on the channel's SMS path). */
    inbound_message_id: ColumnType<string | null, string | null | undefined, string | null>
  }
  msg_reactions: {
    tenant_id: TenantId
    message_id: string
    individual_id: string
    reaction_type: string
    created_at: Timestamp
  }
}

/** SMS sessions (migrations/0018): the consumer's phone and the CRM ticket on the session, merged into CcSessionsTable. */
export interface CcSessionsTable {
  end_user_phone: ColumnType<string | null, string | null | undefined, string | null>
  out_ticket_id: ColumnType<string | null, string | null | undefined, string | null>
}

/** Where a session message came from (migrations/0018), merged into CcMessagesTable. */
export interface CcMessagesTable {
  source_key: ColumnType<string | null, string | null | undefined, string | null>
}

/** Contact-center end users and mid-session authentication requests (migrations/0015), merged into DB. */
export interface DB {
  cc_end_users: CcEndUsersTable
  cc_session_auth_requests: {
    tenant_id: TenantId
    session_num: number
    requested_at: Timestamp
  }
}

export interface CcEndUsersTable {
  id: Generated<string>
  tenant_id: TenantId
  num: number
  identifier: string | null
  name: string | null
  email: string | null
  phone: string | null
  out_contact_id: string | null
  person_id: string
  created_at: Timestamp
  updated_at: Timestamp
}
/** The chat lifecycle's columns on sessions and agents (migrations/0019), merged into their tables. */
export interface CcSessionsTable {
  va_state: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  deflection_channel: ColumnType<string | null, string | null | undefined, string | null>
  preferred_agent_id: ColumnType<string | null, string | null | undefined, string | null>
  disposition: ColumnType<string | null, string | null | undefined, string | null>
}
export interface CcAgentsTable {
  wrap_up_until: ColumnType<Date | null, Date | null | undefined, Date | null>
  wrap_up_session_id: ColumnType<string | null, string | null | undefined, string | null>
}

/** Escalations (H4/H5) and transfers (§3.7) of chats (migrations/0019), merged into DB. */
export interface DB {
  cc_escalations: {
    id: Generated<string>
    tenant_id: TenantId
    num: number
    session_id: string
    reason: string | null
    force_escalate: Generated<boolean>
    status: 'created' | 'deflection_offered' | 'escalated' | 'deflected' | 'failed'
    deflection_channels: TextArray
    deflection_channel: string | null
    created_at: Timestamp
  }
  cc_transfers: {
    id: Generated<string>
    tenant_id: TenantId
    num: number
    session_id: string
    status: 'transferring' | 'transferred' | 'failed'
    fail_reason: Generated<string>
    from_agent_id: string | null
    to_agent_id: string | null
    from_menu_id: string | null
    to_menu_id: string | null
    offer_id: string | null
    created_at: Timestamp
  }
}

/** Photos, videos and files of chats (migrations/0017), merged into DB. */
export interface DB {
  cc_media: CcMediaTable
}

export interface CcMediaTable {
  id: Generated<string>
  tenant_id: TenantId
  /** The media id of the Apps API; null until attached. */
  num: number | null
  session_id: string
  kind: 'photo' | 'video' | 'file'
  storage_key: string
  photo_type: string | null
  content_type: string | null
  /** int8 comes back from pg as a string. */
  size: ColumnType<string | null, number | null | undefined, number | null>
  file_name: string | null
  uploaded_by: 'end_user' | 'agent'
  agent_id: string | null
  created_at: Timestamp
  attached_at: NullableTimestamp
}

/** The messaging directory: clinics, individuals' own fields, users, care teams (migrations/0023), merged into DB. */
export interface DB {
  msg_organizations: {
    id: Generated<string>
    tenant_id: TenantId
    external_id: string
    name: string
    display_name: string | null
    timezone: Generated<string>
    created_at: Timestamp
    updated_at: Timestamp
  }
  msg_individuals: {
    person_id: string
    tenant_id: TenantId
    account_type: Generated<string>
    birth_date: ColumnType<string | null, string | null | undefined, string | null>
    preferred_name: string | null
    owner_id: string | null
    synced_at: Timestamp
  }
  msg_users: {
    id: Generated<string>
    tenant_id: TenantId
    email: string
    username: string | null
    first_name: string | null
    last_name: string | null
    phone: string | null
    locale: string | null
    tz: string | null
    person_id: string | null
    notifications: ColumnType<string[], string | undefined, string>
    sms_mode: Generated<string>
    state: Generated<string>
    token_hash: string | null
    synced_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
  }
  msg_individual_groups: {
    id: Generated<string>
    tenant_id: TenantId
    external_id: string
    name: string
    parent_id: string | null
    organization_id: string
    synced_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
  }
  msg_group_individuals: { tenant_id: TenantId; group_id: string; person_id: string }
  msg_group_users: { tenant_id: TenantId; group_id: string; user_id: string }
}

/** Messaging plugins, responders and their auto-replies (migrations/0029), merged into DB. */
export interface DB {
  msg_plugins: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    name: string
    type: string
    args: ColumnType<Record<string, unknown>, string | undefined, string>
    enabled: Generated<boolean>
    created_by: string | null
    last_modified_by: string | null
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_responders: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    individual_group_id: string
    name: string
    type: string
    args: ColumnType<Record<string, unknown>, string | undefined, string>
    calendar_args: ColumnType<Record<string, unknown>, string | undefined, string>
    start_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
    end_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
    enabled: Generated<boolean>
    armed_at: Timestamp
    created_by: string | null
    last_modified_by: string | null
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_responder_replies: {
    tenant_id: TenantId
    responder_id: string
    channel_id: string
    window_start: ColumnType<Date, Date | string, Date | string>
    message_id: string | null
    created_at: Timestamp
  }
}

// ── Contact-center loose ends (migration 0025): chat expiration, setup versions without clear secrets ──
export interface CcSettingsTable {
  chat_expiration_seconds: Generated<number>
}
export interface CcSetupVersionsTable {
  /** False for rows written before 0025 (or by an older process): their clear secrets are still to be sealed. */
  redacted: Generated<boolean>
}

/** Messaging attachments and bookmarks (migrations/0028), merged into DB. */
export interface DB {
  msg_attachments: {
    id: Generated<string>
    tenant_id: TenantId
    message_id: string
    content_type: string
    filename: Generated<string>
    declared_size: ColumnType<string | null, number | null | undefined, number | null>
    content_size: ColumnType<string, number | undefined, number>
    file_key: string
    thumbnail_key: string | null
    created_by: string | null
    processed_at: NullableTimestamp
    removed: Generated<boolean>
    created_at: Timestamp
    last_modified_at: Timestamp
    /** When the upload ticket expires (0033); the cleanup removes it pending after that. */
    upload_expires_at: NullableTimestamp
  }
  msg_bookmarks: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    channel_id: string
    message_id: string
    created_by: string
    created_at: Timestamp
  }
}

/** Replicators and sniffers of the messaging API (migrations/0031), merged into DB. */
export interface DB {
  msg_replicators: { id: Generated<string>; tenant_id: TenantId; classpath: string; created_at: Generated<Date>; last_poll_at: Generated<Date> }
  msg_sniffers: { id: Generated<string>; tenant_id: TenantId; user_id: string; valid_until: Date; created_at: Generated<Date> }
  msg_sniffer_logs: {
    id: Generated<string>
    tenant_id: TenantId
    sniffer_id: string
    method: string
    path: string
    query_string: string
    content_type: string
    body: string
    response: string
    status_code: number
    message: string
    user_agent: string
    request_id: string
    trace_id: string
    created_at: Generated<Date>
  }
}

/** What channels' SMS paths queued, per person (migrations/0027), merged into DB. */
export interface DB {
  msg_channel_sms: {
    outbox_message_id: string
    tenant_id: TenantId
    channel_id: string
    person_id: string
    message_id: string
    initial: Generated<boolean>
    created_at: ColumnType<Date, Date | string | undefined, never>
  }
}

// Bulk messages and bulk attachments of the messaging API (migration 0030).
type JsonStringArray = ColumnType<string[], string | undefined, string>
export interface DB {
  msg_bulk_messages: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    created_by: string
    draft: Generated<boolean>
    message: Generated<string>
    message_js: JsonObject
    individual_ids: JsonStringArray
    individual_group_ids: JsonStringArray
    sender_individual_id: string | null
    sender_individual_group_id: string | null
    auto_ack: Generated<string>
    auto_create_channel: Generated<boolean>
    state: Generated<'draft' | 'sending' | 'posted'>
    sending_at: NullableTimestamp
    posted_at: NullableTimestamp
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_bulk_recipients: {
    tenant_id: TenantId
    bulk_message_id: string
    person_id: string
    position: number
    state: Generated<'pending' | 'posted' | 'skipped'>
    reason: string | null
    channel_id: string | null
    message_id: string | null
    done_at: NullableTimestamp
  }
  msg_bulk_attachments: {
    id: Generated<string>
    tenant_id: TenantId
    bulk_message_id: string
    content_type: string
    filename: Generated<string>
    declared_size: ColumnType<string | null, number | null | undefined, number | null>
    content_size: ColumnType<string, number | undefined, number>
    file_key: string
    thumbnail_key: string | null
    processed_at: NullableTimestamp
    created_at: Timestamp
    last_modified_at: Timestamp
    upload_expires_at: NullableTimestamp
  }
}

/** Announcers and aggregation requests of the messaging API (migrations/0032), merged into DB. */
export interface DB {
  msg_announcers: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    name: string
    type: string
    event: string
    args: ColumnType<Record<string, unknown>, string | undefined, string>
    secret_sealed: string | null
    created_by: string | null
    last_modified_by: string | null
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_aggregation_requests: {
    id: Generated<string>
    tenant_id: TenantId
    entries: ColumnType<Array<{ column: string; individualId: string }>, string, string>
    status: Generated<'pending' | 'completed' | 'failed'>
    results: ColumnType<Array<{ column: string; individualId: string; value: number | string | null }> | null, string | null | undefined, string | null>
    error: string | null
    created_by: string | null
    created_at: Timestamp
    completed_at: NullableTimestamp
  }
}
// Messaging operations (#63–#65) and the expiry of pending attachment uploads (migrations/0033)
export interface DB {
  msg_operations: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    type: 'move-group'
    args: JsonObject
    status: Generated<'pending' | 'running' | 'completed' | 'failed'>
    logs: ColumnType<OperationLogs, string | undefined, string>
    created_by: string
    created_at: Generated<Date>
    last_modified_at: Generated<Date>
  }
}
/** `logs` of a messaging operation: what its run did, entry by entry, and its counters. */
export interface OperationLogs {
  entries: { time: string; level: 'info' | 'error'; message: string }[]
  [counter: string]: unknown
}

/** Purge-data (#86): audit records of purges and the archives of `archive: true` (migration 0034). */
export interface DB {
  privacy_purges: {
    id: Generated<string>
    tenant_id: TenantId
    request_id: string
    reference_id: string | null
    entity_type: string
    entity_id: string
    archive: Generated<boolean>
    requested_by: string
    status: Generated<'queued' | 'running' | 'completed' | 'failed'>
    counts: ColumnType<Record<string, number>, string | undefined, string>
    pending_files: ColumnType<string[], string | undefined, string>
    attempts: Generated<number>
    last_error: string | null
    created_at: Timestamp
    started_at: NullableTimestamp
    completed_at: NullableTimestamp
  }
  privacy_archives: {
    purge_id: string
    tenant_id: TenantId
    document: ColumnType<Record<string, unknown>, string, string>
    created_at: Timestamp
  }
}
// The web console's users, sessions and failed sign-ins (issue 11; migrations/0036)
export interface DB {
  console_users: {
    id: Generated<string>
    tenant_id: TenantId
    email: string
    name: string | null
    role: 'owner' | 'admin' | 'supervisor' | 'agent' | 'clinician'
    password_hash: string
    created_by: string | null
    created_at: Generated<Date>
    disabled_at: Date | null
  }
  console_sessions: {
    id: Generated<string>
    tenant_id: TenantId
    user_id: string
    token_hash: string
    address: string | null
    created_at: Generated<Date>
    last_seen_at: Generated<Date>
    expires_at: Date
    agent_token_sealed: Generated<string | null>
  }
  console_sign_in_failures: {
    id: Generated<string>
    key: string
    failed_at: Generated<Date>
  }
}
// Message templates: every load of a tenant's template file, and its current templates (issue 13; migrations/0038)
export interface DB {
  template_versions: {
    tenant_id: TenantId
    version: number
    document: ColumnType<Record<string, unknown>, string, string>
    source: string
    format: 'yaml' | 'json'
    created_at: Generated<Date>
  }
  templates: {
    tenant_id: TenantId
    template_id: string
    definition: ColumnType<Record<string, unknown>, string, string>
    version: number
  }
}
// Push: app credentials, user devices and their logs, badge counts (issue 13; migrations/0039)
export interface DB {
  msg_app_credentials: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    type: 'apn' | 'fcm'
    app_name: string
    display_name: Generated<string>
    store_id: Generated<string>
    test_mode: Generated<boolean>
    archived: Generated<boolean>
    data: ColumnType<Record<string, unknown>, string | undefined, string>
    secret_sealed: string
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_user_devices: {
    id: Generated<string>
    tenant_id: TenantId
    person_id: string
    type: 'apn' | 'fcm' | 'web'
    token: string
    app_name: Generated<string>
    app_version: Generated<string>
    model: Generated<string>
    os_version: Generated<string>
    topic: Generated<string>
    sandbox: Generated<boolean>
    allow_notification: Generated<boolean>
    active: Generated<boolean>
    deactivated_reason: string | null
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_user_device_logs: {
    id: Generated<string>
    tenant_id: TenantId
    device_id: string
    title: Generated<string>
    body: Generated<string>
    category: Generated<string>
    badge_count: Generated<number>
    data: ColumnType<Record<string, unknown>, string | undefined, string>
    status: 'sent' | 'failed' | 'suppressed' | 'unregistered' | 'no-credentials'
    error: string | null
    provider_message_id: string | null
    created_at: Timestamp
  }
  msg_badge_counts: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    person_id: string
    type: string
    count: number
    timestamp: NullableTimestamp
    last_modified_at: Timestamp
  }
}
// A person's activities from the console and their one timeline (issue 11; migrations/0040)
export interface DB {
  person_activities: {
    id: Generated<string>
    tenant_id: TenantId
    person_id: string
    kind: string
    text: string
    actor: string
    details: ColumnType<Record<string, unknown>, string | undefined, string>
    created_at: Generated<Date>
  }
  person_timeline: {
    id: string
    tenant_id: TenantId
    person_id: string
    kind: string
    direction: 'in' | 'out' | null
    channel: string
    text: string
    thread_name: string | null
    actor: string | null
    created_at: Date
  }
}

// User emails and their attachments (issue 13, item 6; migrations/0041)
export interface DB {
  user_emails: {
    id: Generated<string>
    tenant_id: TenantId
    person_id: string
    sender_organization_id: string
    created_by: string
    recipients: string[]
    subject: string
    message: Generated<string>
    message_html: Generated<string>
    task_id: string | null
    outbox_ids: string[] | null
    sent_at: NullableTimestamp
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  user_email_attachments: {
    id: Generated<string>
    tenant_id: TenantId
    email_id: string
    content_type: string
    filename: Generated<string>
    content_size: ColumnType<string, string | number | undefined, string | number>
    file_key: string
    upload_expires_at: ColumnType<Date, Date | string, Date | string>
    processed_at: NullableTimestamp
    created_at: Timestamp
  }
}
// Outbound campaigns, their contacts and contact imports (issue 12 item 5; migrations/0043)
export interface DB {
  cc_campaigns: {
    id: Generated<string>
    tenant_id: TenantId
    num: number
    name: string
    caller_id: string
    menu_id: string
    mode: 'preview' | 'progressive' | 'predictive'
    pacing_ratio: number
    calling_hours: ColumnType<unknown, string, string>
    retry: ColumnType<unknown, string, string>
    /** Setup `preview` (migrations/0051). */
    preview: ColumnType<unknown, string | undefined, string>
    deleted: Generated<boolean>
    created_at: Generated<Date>
    updated_at: Generated<Date>
  }
  cc_campaign_contacts: {
    id: Generated<string>
    tenant_id: TenantId
    num: number
    campaign_id: string
    name: Generated<string>
    email: string | null
    phone: string
    outbound_number: string | null
    unique_id: string | null
    priority: number | null
    status: string
    assigned_call_id: number | null
    assigned_participant_id: number | null
    created_at: Generated<Date>
    updated_at: Generated<Date>
    /** The dialer's (migrations/0049): dials made, not dialled before. */
    attempts: Generated<number>
    dial_after: Date | null
  }
  cc_campaign_imports: {
    id: Generated<string>
    tenant_id: TenantId
    num: number
    campaign_id: string
    status: 'created' | 'in_progress' | 'finished' | 'failed'
    filename: string
    format: 'json' | 'csv'
    file: Buffer | null
    total_rows: Generated<number>
    imported_rows: Generated<number>
    failed_rows: Generated<number>
    errors: ColumnType<Array<{ row: number; message: string }>, string | undefined, string>
    created_at: Generated<Date>
    finished_at: Date | null
  }
}
// Templated multicasts and their recipients (issue 13; migrations/0042)
export interface DB {
  msg_multicasts: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    kind: 'multicast' | 'individual' | 'user-multicast' | 'user'
    created_by: string
    template_id: string
    data: ColumnType<Record<string, unknown>, string | undefined, string>
    filter_type: string
    filter_value: ColumnType<Record<string, unknown>, string | undefined, string>
    individual_group_id: string | null
    individual_id: string | null
    individual_ids: JsonStringArray
    status: Generated<'sending' | 'sent'>
    created_at: Timestamp
    finished_at: NullableTimestamp
  }
  msg_multicast_recipients: {
    id: Generated<string>
    tenant_id: TenantId
    multicast_id: string
    person_id: string
    position: number
    state: Generated<'pending' | 'sent' | 'skipped'>
    reason: string | null
    channels: ColumnType<string[], string | undefined, string>
    language: string | null
    in_app: ColumnType<{ title: string; body: string } | null, string | null | undefined, string | null>
    push: ColumnType<{ title: string; body: string; category?: string } | null, string | null | undefined, string | null>
    push_pending: Generated<boolean>
    done_at: NullableTimestamp
  }
  // User consents (#115–#117) and user notifications (#131–#134), migration 0047
  msg_user_consents: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    user_id: string
    person_id: string | null
    type: 'sms'
    state: Generated<'pending' | 'accepted' | 'declined'>
    target_id: string
    language: string | null
    args: ColumnType<Record<string, unknown>, string | undefined, string>
    answered_by: string | null
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  msg_user_notifications: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    person_id: string
    user_id: string | null
    multicast_id: string | null
    category: Generated<string>
    data: ColumnType<Record<string, unknown>, string | undefined, string>
    acknowledged: Generated<boolean>
    acknowledged_at: NullableTimestamp
    active: Generated<boolean>
    created_at: Timestamp
  }
}
// Texts and numbers (issue 13 item 4; migrations/0046)
export interface DB {
  text_accounts: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    allow_custom_number: Generated<boolean>
    phone_number: string | null
    provider: string
    provider_account_id: string
    /** The account's own webhook secret at the vendor, sealed (Twilio: the sub-account's auth token); migration 0054. */
    provider_secret: string | null
    created_at: Timestamp
  }
  text_account_numbers: {
    id: Generated<string>
    tenant_id: TenantId
    account_id: string
    phone_number: string
    provider_number_id: string
    alert: Generated<boolean>
    forward_to: Generated<string>
    logging: Generated<boolean>
    notes: Generated<string>
    events: JsonObject
    capability_sms: Generated<boolean>
    capability_mms: Generated<boolean>
    capability_voice: Generated<boolean>
    lata: Generated<string>
    latitude: Generated<string>
    longitude: Generated<string>
    postal_code: Generated<string>
    rate_center: Generated<string>
    region: Generated<string>
    created_at: Timestamp
  }
  text_number_logs: {
    id: Generated<string>
    tenant_id: TenantId
    number_id: string
    party: string
    log: string
    created_at: Timestamp
  }
  text_receive_logs: {
    tenant_id: TenantId
    id: string
    number_id: string
    inbound_id: string | null
    sender: string
    recipient: string
    message: string
    created_at: Timestamp
  }
  text_number_info: {
    id: Generated<string>
    tenant_id: TenantId
    number: string
    status: Generated<string>
    type: Generated<string>
    carrier_name: Generated<string>
    mobile_country_code: Generated<string>
    mobile_network_code: Generated<string>
    error: Generated<string>
    created_at: Timestamp
    last_modified_at: Timestamp
  }
  text_user_number_maps: {
    id: Generated<string>
    tenant_id: TenantId
    organization_id: string
    number_id: string
    user_id: string
    created_at: Timestamp
  }
  texts: {
    id: Generated<string>
    tenant_id: TenantId
    account_id: string
    number_id: string
    organization_id: string
    created_by: string
    target: string
    sender: string
    message: string
    callback_status_url: Generated<string>
    callback_url: Generated<string>
    callback_json: JsonObject
    callback_one_off: Generated<boolean>
    expected_responses: JsonStringArray
    outbox_id: string | null
    reported_status: Generated<string>
    replied_at: NullableTimestamp
    created_at: Timestamp
    last_modified_at: Timestamp
  }
}

/** Calls (migrations/0045): a call's own columns on its session, merged into CcSessionsTable, and its telephony legs. */
export interface CcSessionsTable {
  end_user_number: ColumnType<string | null, string | null | undefined, string | null>
  parent_num: ColumnType<number | null, number | null | undefined, number | null>
  scheduled_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  connected_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  call_duration: Generated<number>
  hold_duration: Generated<number>
  hold_started_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  voip_provider: ColumnType<string | null, string | null | undefined, string | null>
  fail_reason: Generated<string>
  fail_details: ColumnType<string | null, string | null | undefined, string | null>
  recording_url: ColumnType<string | null, string | null | undefined, string | null>
  recording_permission: Generated<string>
  voicemail_reason: Generated<string>
  deflection: Generated<string>
  support_number: ColumnType<string | null, string | null | undefined, string | null>
  out_ticket_url: ColumnType<string | null, string | null | undefined, string | null>
  contact_data: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  provider_attempt: Generated<number>
}

/** The telephony legs of calls (migrations/0045), merged into DB. */
export interface DB {
  cc_call_legs: {
    id: string
    tenant_id: TenantId
    session_id: string
    party: 'agent' | 'end_user'
    agent_id: string | null
    to_number: string
    provider: string
    provider_call_id: string | null
    status: Generated<string>
    answered_at: ColumnType<Date | null, Date | null | undefined, Date | null>
    ended_at: ColumnType<Date | null, Date | null | undefined, Date | null>
    created_at: Timestamp
  }
}

/** CRM tickets of the built-in CRM adapter (migrations/0050), merged into DB. */
export interface DB {
  crm_tickets: {
    id: Generated<string>
    tenant_id: TenantId
    ticket_id: string
    subject: string | null
    contact_id: string
    contact_name: string | null
    contact_phone: string | null
    contact_email: string | null
    source: Generated<string>
    created_at: Timestamp
    updated_at: Timestamp
  }
}

// The campaign dialer (issue 12 item 5; migrations/0049)
export interface DB {
  cc_dialer_calls: {
    tenant_id: TenantId
    session_id: string
    campaign_id: string
    contact_id: string
    created_at: Generated<Date>
    answered_at: Date | null
    ended_at: Date | null
    outcome: string | null
  }
  cc_dialer_state: {
    tenant_id: TenantId
    campaign_id: string
    round: Generated<number>
    active: Generated<boolean>
    updated_at: Generated<Date>
  }
}

// ── C1's 202 (migration 0052): outbound API calls waiting for their agent's confirmation ──
export interface CcSettingsTable {
  confirm_outbound_calls: Generated<boolean>
  outbound_confirm_seconds: Generated<number>
}
export interface CcSessionsTable {
  /** When a C1/C2 call still waiting for its agent's confirmation is cancelled; null when not waiting. */
  confirm_by: ColumnType<Date | null, Date | null | undefined, Date | null>
}

// The dialer's preview offers (issue 12 item 5; migrations/0051)
export interface DB {
  cc_preview_offers: {
    id: Generated<string>
    tenant_id: TenantId
    campaign_id: string
    contact_id: string
    agent_id: string
    created_at: Generated<Date>
    expires_at: Date
    result: Generated<'open' | 'dialled' | 'skipped' | 'closed' | 'expired' | 'withdrawn'>
    acted_at: Date | null
    call_num: number | null
  }
}
