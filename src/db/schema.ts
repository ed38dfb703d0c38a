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
  suppressed_reason: 'stop_keyword' | 'dnc' | 'consent_withdrawn' | 'manual' | null
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
