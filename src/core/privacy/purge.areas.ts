import { sql, type ExpressionBuilder, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { PeopleLookups } from '../people/index.ts'

/** The person being purged, by every id and address the tables know them by. */
export interface PurgeSubject {
  readonly tenantId: TenantId
  /** The core person id (`people.id`). */
  readonly personId: string
  /** The individual / Cass person id (`person_identities.public_id` of surface `cass`). */
  readonly cassId: string
  /** Phone numbers and e-mail addresses of the person (delivery records are matched on them too). */
  readonly addresses: readonly string[]
}

/** What one purge's areas share: the transaction, the subject, and what they erased. */
export interface PurgeScope {
  readonly trx: Transaction<DB>
  /** The people domain, which alone touches the people table (boundaries.test.ts). */
  readonly people: PeopleLookups
  readonly subject: PurgeSubject
  /** `archive: true`: rows go into the archive document and stored files are kept. */
  readonly archive: boolean
  /** Records erased per kind (the audit record's counts). */
  readonly counts: Record<string, number>
  /** Archive document: rows per kind, as they were before erasure (archive mode only). */
  readonly archived: Record<string, unknown[]>
  /** Stored file keys to delete once the transaction committed (erase mode only). */
  readonly files: string[]
}

/** One place an individual's data lives: the columns it covers and how it erases them. */
export interface PurgeArea {
  readonly name: string
  /**
   * `table.column` references to a person this area erases. The schema guard test
   * (purge.guard.test.ts) fails when a table gains a person column that no area lists.
   */
  readonly columns: readonly string[]
  run(scope: PurgeScope): Promise<void>
}

function count(scope: PurgeScope, kind: string, n: number): void {
  if (n > 0) scope.counts[kind] = (scope.counts[kind] ?? 0) + n
}

function keep(scope: PurgeScope, kind: string, rows: readonly unknown[]): void {
  if (scope.archive && rows.length > 0) (scope.archived[kind] ??= []).push(...rows)
}

/** Rows a statement erased: kept for the archive (archive mode) and counted under `countKind`. */
function erased(scope: PurgeScope, archiveKind: string, countKind: string, rows: readonly unknown[]): void {
  keep(scope, archiveKind, rows)
  count(scope, countKind, rows.length)
}

/** Tables whose rows belong to one person by `person_id`. */
type PersonTable = 'msg_channel_sms' | 'msg_bulk_recipients' | 'msg_group_individuals' | 'scheduled_notifications' | 'transcript_messages' | 'conversations'
  | 'person_activities' | 'msg_user_devices' | 'msg_badge_counts' | 'user_emails' | 'msg_multicast_recipients' | 'msg_user_consents' | 'msg_user_notifications'

/** Delete the subject's rows of a per-person table: kept for the archive under the table's name, counted as `countKind`. */
async function eraseOwnRows(scope: PurgeScope, table: PersonTable, countKind: string): Promise<void> {
  const rows = await scope.trx.deleteFrom(table).where('tenant_id', '=', scope.subject.tenantId).where('person_id', '=', scope.subject.personId).returningAll().execute()
  erased(scope, table, countKind, rows)
}

function dropFiles(scope: PurgeScope, keys: ReadonlyArray<string | null>): void {
  const present = keys.filter((k): k is string => k !== null && k !== '')
  if (scope.archive) (scope.archived.file_keys ??= []).push(...present)
  else scope.files.push(...present)
  count(scope, 'files', present.length)
}

/**
 * Messaging: the messages they wrote (content erased, the row kept removed so others' read markers
 * and sequence stay right; their drafts deleted), the files attached to them, their reactions,
 * channel memberships, the channel-SMS links, their place in bulk messages and the directory.
 */
const messaging: PurgeArea = {
  name: 'messaging',
  columns: [
    'msg_messages.author_id', 'msg_channel_subscribers.individual_id', 'msg_reactions.individual_id', 'msg_channel_sms.person_id',
    'msg_bulk_recipients.person_id', 'msg_bulk_messages.individual_ids', 'msg_bulk_messages.sender_individual_id',
    'msg_individuals.person_id', 'msg_group_individuals.person_id', 'msg_users.person_id',
    'outbound_webhooks.body', 'msg_aggregation_requests.entries', 'msg_aggregation_requests.results',
  ],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const own = trx.selectFrom('msg_messages').select('id').where('tenant_id', '=', t).where('author_id', '=', s.personId)
    const attachments = await trx.selectFrom('msg_attachments').selectAll().where('tenant_id', '=', t)
      .where((eb) => eb.or([eb('message_id', 'in', own), eb('created_by', '=', s.personId)])).execute()
    keep(scope, 'msg_attachments', attachments)
    if (attachments.length > 0) {
      await trx.deleteFrom('msg_attachments').where('tenant_id', '=', t).where('id', 'in', attachments.map((a) => a.id)).execute()
      count(scope, 'attachments', attachments.length)
      dropFiles(scope, attachments.flatMap((a) => [a.file_key, a.thumbnail_key]))
    }
    const messages = await trx.selectFrom('msg_messages').selectAll().where('tenant_id', '=', t).where('author_id', '=', s.personId).execute()
    keep(scope, 'msg_messages', messages)
    const drafts = messages.filter((m) => m.draft).map((m) => m.id)
    if (drafts.length > 0) await trx.deleteFrom('msg_messages').where('tenant_id', '=', t).where('id', 'in', drafts).execute()
    const posted = messages.filter((m) => !m.draft).map((m) => m.id)
    if (posted.length > 0) {
      await trx.updateTable('msg_messages').set({ message: '', removed: true, author_id: null, inbound_message_id: null, last_modified_at: sql`now()` })
        .where('tenant_id', '=', t).where('id', 'in', posted).execute()
    }
    count(scope, 'messages', messages.length)
    // Announcer events (signed webhooks) quote their messages and name them: emptied, pending ones dropped.
    const needles = [s.cassId, ...messages.map((m) => m.id)]
    const events = await trx.updateTable('outbound_webhooks').set({ body: '{}', status: sql`CASE WHEN status = 'pending' THEN 'dropped' ELSE status END` })
      .where('tenant_id', '=', t).where('topic', 'like', 'messaging.%').where((eb) => eb.or(needles.map((n) => eb('body', 'like', `%${n}%`))))
      .executeTakeFirst()
    count(scope, 'webhook_events', Number(events.numUpdatedRows))
    // Aggregation requests about them lose their entries and results for this individual.
    await trx.updateTable('msg_aggregation_requests').set({
      entries: sql`coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(entries) e WHERE lower(e->>'individualId') <> ${s.cassId}), '[]'::jsonb)`,
      results: sql`CASE WHEN results IS NULL THEN NULL ELSE coalesce((SELECT jsonb_agg(r) FROM jsonb_array_elements(results) r WHERE lower(r->>'individualId') <> ${s.cassId}), '[]'::jsonb) END`,
    }).where('tenant_id', '=', t).where(sql<boolean>`EXISTS (SELECT 1 FROM jsonb_array_elements(entries) e WHERE lower(e->>'individualId') = ${s.cassId})`).execute()
    const reactions = await trx.deleteFrom('msg_reactions').where('tenant_id', '=', t).where('individual_id', '=', s.personId).returningAll().execute()
    erased(scope, 'msg_reactions', 'reactions', reactions)
    const memberships = await trx.deleteFrom('msg_channel_subscribers').where('tenant_id', '=', t).where('individual_id', '=', s.personId).returningAll().execute()
    erased(scope, 'msg_channel_subscribers', 'channel_memberships', memberships)
    await trx.updateTable('msg_channels').set({ created_by: null }).where('tenant_id', '=', t).where('created_by', '=', s.personId).execute()
    await eraseOwnRows(scope, 'msg_channel_sms', 'channel_sms_links')
    // Bookmarks name their creator by individual id; the organisation stands in for an erased one.
    await trx.updateTable('msg_bookmarks').set({ created_by: sql`organization_id` }).where('tenant_id', '=', t).where('created_by', '=', s.cassId).execute()
    await eraseOwnRows(scope, 'msg_bulk_recipients', 'bulk_recipients')
    await trx.updateTable('msg_bulk_messages').set({ individual_ids: sql`individual_ids - ${s.cassId}::text` })
      .where('tenant_id', '=', t).where(sql<boolean>`individual_ids ? ${s.cassId}::text`).execute()
    await trx.updateTable('msg_bulk_messages').set({ sender_individual_id: null })
      .where('tenant_id', '=', t).where('sender_individual_id', 'in', [s.personId, s.cassId]).execute()
    await trx.updateTable('msg_bulk_messages').set({ created_by: t })
      .where('tenant_id', '=', t).where('created_by', 'in', [s.personId, s.cassId]).execute()
    const individual = await trx.deleteFrom('msg_individuals').where('tenant_id', '=', t).where('person_id', '=', s.personId).returningAll().execute()
    keep(scope, 'msg_individuals', individual)
    await eraseOwnRows(scope, 'msg_group_individuals', 'group_memberships')
    // A care-team user who was this person stays a user (another system's mirror), unlinked.
    await trx.updateTable('msg_users').set({ person_id: null }).where('tenant_id', '=', t).where('person_id', '=', s.personId).execute()
  },
}

/**
 * Contact center: their end-user records, the personal data of their sessions (address, phone,
 * context, custom data, the virtual agent's state), the text they wrote in chats and the files
 * they uploaded. Sessions stay (as anonymous statistics of the queues and agents).
 */
const contactCenter: PurgeArea = {
  name: 'contact-center',
  columns: ['cc_end_users.person_id', 'cc_sessions.person_id'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const endUsers = await trx.selectFrom('cc_end_users').selectAll().where('tenant_id', '=', t).where('person_id', '=', s.personId).execute()
    keep(scope, 'cc_end_users', endUsers)
    const userNums = endUsers.map((u) => u.num)
    const sessions = await trx.selectFrom('cc_sessions').selectAll().where('tenant_id', '=', t)
      .where((eb) => eb.or([eb('person_id', '=', s.personId), ...(userNums.length > 0 ? [eb('end_user_num', 'in', userNums)] : [])])).execute()
    keep(scope, 'cc_sessions', sessions)
    const ids = sessions.map((x) => x.id)
    if (ids.length > 0) {
      const media = await trx.selectFrom('cc_media').selectAll().where('tenant_id', '=', t).where('session_id', 'in', ids).where('uploaded_by', '=', 'end_user').execute()
      keep(scope, 'cc_media', media)
      const messages = await trx.selectFrom('cc_messages').selectAll().where('tenant_id', '=', t).where('session_id', 'in', ids).where('from_end_user', '=', true).execute()
      keep(scope, 'cc_messages', messages)
      if (messages.length > 0) {
        await trx.updateTable('cc_messages').set({ content: null, media_id: null }).where('tenant_id', '=', t).where('id', 'in', messages.map((m) => m.id)).execute()
      }
      count(scope, 'chat_messages', messages.length)
      if (media.length > 0) {
        await trx.deleteFrom('cc_media').where('tenant_id', '=', t).where('id', 'in', media.map((m) => m.id)).execute()
        count(scope, 'chat_media', media.length)
        dropFiles(scope, media.map((m) => m.storage_key))
      }
      // The agent workspace's events and the chat webhooks repeat what the end user wrote: emptied.
      const nums = sessions.map((x) => x.num)
      await trx.updateTable('cc_agent_events').set({ data: sql`data - 'content'` })
        .where('tenant_id', '=', t).where(sql<string>`data->>'chat_id'`, 'in', nums.map(String)).execute()
      await trx.updateTable('outbound_webhooks').set({ body: '{}', status: sql`CASE WHEN status = 'pending' THEN 'dropped' ELSE status END` })
        .where('tenant_id', '=', t).where('ordering_key', 'in', nums.map((n) => `chat:${n}`)).execute()
      await trx.updateTable('cc_participants').set({ end_user_num: null }).where('tenant_id', '=', t).where('session_id', 'in', ids).where('type', '=', 'end_user').execute()
      await trx.updateTable('cc_sessions').set({
        person_id: null, end_user_num: null, email: null, end_user_phone: null, context: null, custom_data: null, va_state: null,
      }).where('tenant_id', '=', t).where('id', 'in', ids).execute()
      count(scope, 'chat_sessions', ids.length)
    }
    if (endUsers.length > 0) await trx.deleteFrom('cc_end_users').where('tenant_id', '=', t).where('person_id', '=', s.personId).execute()
    count(scope, 'end_users', endUsers.length)
    // Campaign contacts name no person: they are the dialer's list, matched by phone and e-mail.
    if (s.addresses.length > 0) {
      const lowered = s.addresses.map((x) => x.toLowerCase())
      const contacts = await trx.deleteFrom('cc_campaign_contacts').where('tenant_id', '=', t)
        .where((eb) => eb.or([eb('phone', 'in', [...s.addresses]), eb(eb.fn('lower', ['email']), 'in', lowered)])).returningAll().execute()
      erased(scope, 'cc_campaign_contacts', 'campaign_contacts', contacts)
      // The dialer's rows of those contacts: their dials (which call was theirs); preview offers go with the contact (cascade).
      if (contacts.length > 0) {
        const contactIds = contacts.map((c) => c.id)
        const dials = await trx.deleteFrom('cc_dialer_calls').where('tenant_id', '=', t).where('contact_id', 'in', contactIds).returningAll().execute()
        erased(scope, 'cc_dialer_calls', 'dialer_calls', dials)
      }
    }
  },
}

/**
 * Delivery: every outbox and inbound message of the person or sent to / received from one of
 * their addresses (the SMS, e-mails, push and web chat messages with their bodies). The
 * suppression list is kept: it holds addresses, not people, and must outlive the person so that
 * an address that opted out is never contacted again (README, "purge-data").
 */
const delivery: PurgeArea = {
  name: 'delivery',
  columns: ['outbox_messages.person_id', 'inbound_messages.person_id'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const outbox = await trx.deleteFrom('outbox_messages').where('tenant_id', '=', t)
      .where((eb) => eb.or([eb('person_id', '=', s.personId), ...(s.addresses.length > 0 ? [eb('recipient', 'in', [...s.addresses])] : [])]))
      .returningAll().execute()
    erased(scope, 'outbox_messages', 'outbox_messages', outbox)
    const inbound = await trx.deleteFrom('inbound_messages').where('tenant_id', '=', t)
      .where((eb) => eb.or([eb('person_id', '=', s.personId), ...(s.addresses.length > 0 ? [eb('sender', 'in', [...s.addresses])] : [])]))
      .returningAll().execute()
    erased(scope, 'inbound_messages', 'inbound_messages', inbound)
    if (s.addresses.length > 0) {
      const kept = await trx.selectFrom('suppressions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', t).where('address', 'in', [...s.addresses]).executeTakeFirst()
      if (Number(kept?.n ?? 0) > 0) scope.counts.suppressions_kept = Number(kept?.n)
    }
  },
}

/**
 * Sniffers: every captured request of a care-team user (#89–#91) that names the individual — their
 * id in the path, the query, the body or the answer, as a message they wrote, their channel or their
 * profile does — is deleted, with what it quoted of them.
 */
const sniffers: PurgeArea = {
  name: 'sniffers',
  columns: [],
  async run(scope) {
    const { trx, subject: s } = scope
    const ids = [...new Set([s.cassId.toLowerCase(), s.personId.toLowerCase()])]
    const logs = await trx.deleteFrom('msg_sniffer_logs').where('tenant_id', '=', s.tenantId)
      .where((eb) => eb.or(ids.flatMap((id) => (['path', 'query_string', 'body', 'response'] as const).map((c) => eb(sql`strpos(lower(${sql.ref(c)}), ${id})`, '>', 0)))))
      .returningAll().execute()
    erased(scope, 'sniffer_logs', 'sniffer_logs', logs)
  },
}

/**
 * The person & bot API, web chat, scheduling and the console: check-ins and autopings scheduled for
 * them, bot conversations, the transcript, the console's activities, their identities on every
 * surface and the person itself.
 */
const person: PurgeArea = {
  name: 'person',
  columns: ['scheduled_notifications.person_id', 'transcript_messages.person_id', 'conversations.person_id', 'person_activities.person_id', 'person_identities.person_id'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    await eraseOwnRows(scope, 'scheduled_notifications', 'scheduled_notifications')
    await eraseOwnRows(scope, 'transcript_messages', 'transcript_messages')
    await eraseOwnRows(scope, 'conversations', 'conversations')
    // The console's record of what was done about them (edits, consents, suppressions): its texts
    // name their details. The suppression entries themselves stay (see the README).
    await eraseOwnRows(scope, 'person_activities', 'console_activities')
    const { people, identities } = await scope.people.erase(trx, t, s.personId)
    erased(scope, 'person_identities', 'identities', identities)
    erased(scope, 'person', 'person', people)
  },
}

/**
 * Push (issue 13): their devices with the log of pushes to them, and their badge counts.
 */
const push: PurgeArea = {
  name: 'push',
  columns: ['msg_user_devices.person_id', 'msg_badge_counts.person_id'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const devices = trx.selectFrom('msg_user_devices').select('id').where('tenant_id', '=', t).where('person_id', '=', s.personId)
    const logs = await trx.deleteFrom('msg_user_device_logs').where('tenant_id', '=', t).where('device_id', 'in', devices).returningAll().execute()
    erased(scope, 'msg_user_device_logs', 'push_logs', logs)
    await eraseOwnRows(scope, 'msg_user_devices', 'devices')
    await eraseOwnRows(scope, 'msg_badge_counts', 'badge_counts')
  },
}

/**
 * User emails (issue 13, item 6): the emails about them, with the files attached to them. What
 * went out is the delivery area's (the outbox messages, matched by person and address).
 */
const emails: PurgeArea = {
  name: 'emails',
  columns: ['user_emails.person_id'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const own = trx.selectFrom('user_emails').select('id').where('tenant_id', '=', t).where('person_id', '=', s.personId)
    const files = await trx.deleteFrom('user_email_attachments').where('tenant_id', '=', t).where('email_id', 'in', own).returningAll().execute()
    erased(scope, 'user_email_attachments', 'email_attachments', files)
    dropFiles(scope, files.map((f) => f.file_key))
    await eraseOwnRows(scope, 'user_emails', 'user_emails')
  },
}

/**
 * Templated multicasts (issue 13): what they were sent (their recipient rows: the in-app texts, the
 * channels, the push rendered for them), and their id where a multicast names them as its one
 * individual or among those listed.
 */
const multicasts: PurgeArea = {
  name: 'multicasts',
  columns: ['msg_multicast_recipients.person_id', 'msg_multicasts.individual_id', 'msg_multicasts.individual_ids'],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    await eraseOwnRows(scope, 'msg_multicast_recipients', 'multicast_recipients')
    await trx.updateTable('msg_multicasts').set({ individual_id: null }).where('tenant_id', '=', t).where('individual_id', '=', s.cassId).execute()
    await trx.updateTable('msg_multicasts').set({ individual_ids: sql`individual_ids - ${s.cassId}::text` })
      .where('tenant_id', '=', t).where(sql<boolean>`individual_ids ? ${s.cassId}::text`).execute()
  },
}

/**
 * Texts and numbers (issue 13 item 4): what the person's phone numbers were sent and sent in through
 * the tenant's text numbers — texts to them, inbound texts from them (receive logs), log lines about
 * them — and carrier lookups of them. No person column: matched on the subject's addresses. A
 * number forwarding to one of them stops forwarding.
 */
const texts: PurgeArea = {
  name: 'texts',
  columns: [],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const phones = s.addresses.filter((a) => a.startsWith('+'))
    if (phones.length === 0) return
    erased(scope, 'texts', 'texts', await trx.deleteFrom('texts').where('tenant_id', '=', t).where('target', 'in', phones).returningAll().execute())
    erased(scope, 'text_receive_logs', 'text_receive_logs', await trx.deleteFrom('text_receive_logs').where('tenant_id', '=', t).where('sender', 'in', phones).returningAll().execute())
    erased(scope, 'text_number_logs', 'text_number_logs', await trx.deleteFrom('text_number_logs').where('tenant_id', '=', t).where('party', 'in', phones).returningAll().execute())
    erased(scope, 'text_number_info', 'text_number_info', await trx.deleteFrom('text_number_info').where('tenant_id', '=', t).where('number', 'in', phones).returningAll().execute())
    await trx.updateTable('text_account_numbers').set({ forward_to: '' }).where('tenant_id', '=', t).where('forward_to', 'in', phones).execute()
  },
}

/**
 * User consents and user notifications (issue 13, items 5 and 3): the consent conversations with
 * them (their phone, the texts) and the record of every notification they were sent. A consent
 * asked of a user who is not this individual stays (it is the user's).
 */
const consentsNotifications: PurgeArea = {
  name: 'consents-notifications',
  columns: ['msg_user_consents.person_id', 'msg_user_notifications.person_id'],
  async run(scope) {
    await eraseOwnRows(scope, 'msg_user_consents', 'user_consents')
    await eraseOwnRows(scope, 'msg_user_notifications', 'user_notifications')
  },
}

/**
 * Calls (issue 12): the number dialled, the dialer's contact data, the recording, custom data and
 * the legs' numbers of the person's calls — found by the person or by one of their phone numbers
 * (the contact-center area, which runs first, has already unlinked the person from the sessions).
 */
const calls: PurgeArea = {
  name: 'calls',
  columns: [],
  async run(scope) {
    const { trx, subject: s } = scope
    const t = s.tenantId
    const phones = s.addresses.filter((a) => a.startsWith('+'))
    const sessions = await trx.selectFrom('cc_sessions').selectAll().where('tenant_id', '=', t).where('channel', '=', 'call')
      .where((eb) => eb.or([eb('person_id', '=', s.personId), ...(phones.length > 0 ? [eb('end_user_number', 'in', phones)] : [])])).execute()
    if (sessions.length === 0) return
    keep(scope, 'cc_calls', sessions)
    const ids = sessions.map((x) => x.id)
    const legs = await trx.updateTable('cc_call_legs').set({ to_number: 'purged' }).where('tenant_id', '=', t).where('session_id', 'in', ids).where('party', '=', 'end_user').returningAll().execute()
    keep(scope, 'cc_call_legs', legs)
    await trx.updateTable('cc_sessions').set({
      person_id: null, end_user_num: null, end_user_number: null, contact_data: null, custom_data: null, recording_url: null, out_ticket_url: null,
    }).where('tenant_id', '=', t).where('id', 'in', ids).execute()
    // The agent workspace's events repeat the number and the contact data: emptied.
    await trx.updateTable('cc_agent_events').set({ data: sql`data - 'end_user_number' - 'contact_data' - 'custom_data'` })
      .where('tenant_id', '=', t).where(sql<string>`data->>'call_id'`, 'in', sessions.map((x) => String(x.num))).execute()
    count(scope, 'calls', sessions.length)
  },
}

/**
 * CRM tickets of the built-in CRM adapter (issue 12, item 3): a ticket whose contact has one of the
 * individual's phone numbers or e-mail addresses keeps its id and subject (the CRM's record) but
 * loses the contact's name, phone and e-mail (calls with it then answer "Contact not found").
 */
const crmTickets: PurgeArea = {
  name: 'crm-tickets',
  columns: [],
  async run(scope) {
    const { trx, subject: s } = scope
    const phones = s.addresses.filter((a) => a.startsWith('+'))
    const emails = s.addresses.filter((a) => a.includes('@')).map((a) => a.toLowerCase())
    if (phones.length === 0 && emails.length === 0) return
    const match = (eb: ExpressionBuilder<DB, 'crm_tickets'>) => eb.or([...(phones.length > 0 ? [eb('contact_phone', 'in', phones)] : []), ...(emails.length > 0 ? [eb('contact_email', 'in', emails)] : [])])
    keep(scope, 'crm_tickets', await trx.selectFrom('crm_tickets').selectAll().where('tenant_id', '=', s.tenantId).where(match).execute())
    const erasedRows = await trx.updateTable('crm_tickets').set({ contact_name: null, contact_phone: null, contact_email: null, updated_at: new Date() })
      .where('tenant_id', '=', s.tenantId).where(match).returning('id').execute()
    count(scope, 'crm_tickets', erasedRows.length)
  },
}

/**
 * Every area, in the order they run (messaging and the contact center before delivery, whose
 * rows they point at; the person last). A new table with a person reference joins one of them.
 */
export const PURGE_AREAS: readonly PurgeArea[] = [messaging, contactCenter, delivery, sniffers, push, emails, multicasts, consentsNotifications, person, texts, calls, crmTickets]

/** Every `table.column` person reference the purge covers (the schema guard compares against it). */
export const PURGED_COLUMNS: ReadonlySet<string> = new Set(PURGE_AREAS.flatMap((a) => a.columns))
