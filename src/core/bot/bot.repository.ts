import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { ConversationsTable, DB } from '../../db/schema.ts'
import type { TranscriptEntry } from './bot.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

export type ConversationRow = Selectable<ConversationsTable>

export interface NewConversation {
  personId: string
  threadName: string
  threadVersion: number
  startedBy: string
  startKey: string | null
  /** Where the conversation stands after its first run: written with the row, no save after. */
  state?: SavedState
}

/** A conversation's saved state (see `save`). */
export interface SavedState {
  threadName: string; step: number; awaiting: 'none' | 'choice' | 'text'; reprompts: number; variables: Record<string, string>
  placeholders: Record<string, string>; thenThread: string | null; autoping: { after: string; thread: string } | null; seq: number; ended: boolean
}

function stateColumns(s: SavedState) {
  return {
    thread_name: s.threadName, step: s.step, awaiting: s.awaiting, reprompts: s.reprompts, variables: JSON.stringify(s.variables),
    placeholders: JSON.stringify(s.placeholders), then_thread: s.thenThread, autoping: s.autoping ? JSON.stringify(s.autoping) : null, seq: s.seq,
    status: s.ended ? 'ended' as const : 'active' as const, ended_at: s.ended ? sql<Date>`now()` : null, updated_at: sql<Date>`now()`,
  }
}

/** Data access for conversations and the transcript; every method takes the tenant first. */
export class BotRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** These people's active conversations, locked for this transaction in person order, by person id. */
  async lockActiveMany(trx: Transaction<DB>, tenantId: TenantId, personIds: readonly string[]): Promise<Map<string, ConversationRow>> {
    if (personIds.length === 0) return new Map()
    const rows = await trx.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('person_id', 'in', personIds).where('status', '=', 'active')
      .orderBy('person_id').forUpdate().execute()
    return new Map(rows.map((r) => [r.person_id, r]))
  }

  /** Which of these start keys the tenant's conversations already used. */
  async takenStartKeys(trx: Transaction<DB>, tenantId: TenantId, keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set()
    const rows = await trx.selectFrom('conversations').select('start_key').where('tenant_id', '=', tenantId).where('start_key', 'in', keys).execute()
    return new Set(rows.map((r) => r.start_key!))
  }

  async markReplacedMany(trx: Transaction<DB>, tenantId: TenantId, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await trx.updateTable('conversations').set({ status: 'replaced', awaiting: 'none', ended_at: sql`now()`, updated_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()
  }

  /** New active conversations, one per person, with their states; by person id (absent: its start key was used before). */
  async insertMany(trx: Transaction<DB>, tenantId: TenantId, cs: readonly NewConversation[]): Promise<Map<string, ConversationRow>> {
    if (cs.length === 0) return new Map()
    const rows = await trx.insertInto('conversations')
      .values(cs.map((c) => ({
        tenant_id: tenantId, person_id: c.personId, thread_name: c.threadName, thread_version: c.threadVersion, started_by: c.startedBy, start_key: c.startKey,
        ...(c.state ? stateColumns(c.state) : {}),
      })))
      .onConflict((oc) => oc.columns(['tenant_id', 'start_key']).where('start_key', 'is not', null).doNothing())
      .returningAll().execute()
    return new Map(rows.map((r) => [r.person_id, r]))
  }

  /** The person's active conversation, locked for this transaction. */
  async lockActive(trx: Transaction<DB>, tenantId: TenantId, personId: string): Promise<ConversationRow | undefined> {
    return trx.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('person_id', '=', personId).where('status', '=', 'active')
      .forUpdate().executeTakeFirst()
  }

  async findActive(tenantId: TenantId, personId: string): Promise<ConversationRow | undefined> {
    return this.#db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('person_id', '=', personId).where('status', '=', 'active').executeTakeFirst()
  }

  async findLatest(tenantId: TenantId, personId: string): Promise<ConversationRow | undefined> {
    return this.#db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('person_id', '=', personId)
      .orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirst()
  }

  async save(trx: Transaction<DB>, tenantId: TenantId, id: string, s: SavedState): Promise<void> {
    await trx.updateTable('conversations').set(stateColumns(s)).where('tenant_id', '=', tenantId).where('id', '=', id).execute()
  }

  /** One transcript row; false when the message (by its outbox or inbound id) already has one. */
  async insertTranscript(trx: Transaction<DB>, tenantId: TenantId, row: {
    personId: string; direction: 'in' | 'out'; channel: string; text: string; conversationId: string | null; threadName: string | null
    step: number | null; outboxMessageId?: string | null; inboundMessageId?: string | null
  }): Promise<boolean> {
    const r = await sql`INSERT INTO transcript_messages
        (tenant_id, person_id, direction, channel, text, conversation_id, thread_name, step, outbox_message_id, inbound_message_id, created_at)
      VALUES (${tenantId}, ${row.personId}, ${row.direction}, ${row.channel}, ${row.text}, ${row.conversationId}, ${row.threadName}, ${row.step},
        ${row.outboxMessageId ?? null}, ${row.inboundMessageId ?? null}, clock_timestamp())
      ON CONFLICT DO NOTHING`.execute(trx)
    return Number(r.numAffectedRows ?? 0) > 0
  }

  /** Outbound transcript rows, in order, in one statement. */
  async insertTranscripts(trx: Transaction<DB>, tenantId: TenantId, rows: ReadonlyArray<{
    personId: string; channel: string; text: string; conversationId: string; threadName: string; step: number; outboxMessageId: string
  }>): Promise<void> {
    if (rows.length === 0) return
    await sql`INSERT INTO transcript_messages
        (tenant_id, person_id, direction, channel, text, conversation_id, thread_name, step, outbox_message_id, created_at)
      VALUES ${sql.join(rows.map((row) => sql`(${tenantId}, ${row.personId}, 'out', ${row.channel}, ${row.text}, ${row.conversationId}, ${row.threadName}, ${row.step}, ${row.outboxMessageId}, clock_timestamp())`))}
      ON CONFLICT DO NOTHING`.execute(trx)
  }

  /** The person's transcript, oldest first. */
  async listTranscript(tenantId: TenantId, personId: string, opts: { limit: number; since?: Date | undefined }): Promise<TranscriptEntry[]> {
    let q = this.#db.selectFrom('transcript').selectAll().where('tenant_id', '=', tenantId).where('core_person_id', '=', personId)
    if (opts.since) q = q.where('created_at', '>', opts.since)
    // The newest `limit`, returned oldest first.
    const rows = await q.orderBy('created_at', 'desc').orderBy(sql`sort_key DESC NULLS LAST`).limit(opts.limit).execute()
    return rows.reverse().map((r) => ({
      id: r.message_id, personId: r.core_person_id, direction: r.direction, channel: r.channel, text: r.text,
      threadName: r.thread_name, step: r.step, conversationId: r.conversation_id, createdAt: r.created_at,
    }))
  }
}
