import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** A transcript row of the web chat with what the page needs of its outbox message. */
export interface WebchatRow {
  seq: string
  id: string
  direction: 'in' | 'out'
  text: string
  created_at: Date
  inbound_message_id: string | null
  outbox_message_id: string | null
  status: string | null
  payload: Record<string, unknown> | null
}

const ROW_COLUMNS = [
  sql<string>`m.seq::text`.as('seq'), 'm.id', 'm.direction', 'm.text', 'm.created_at', 'm.inbound_message_id', 'm.outbox_message_id',
  'o.status', 'o.payload',
] as const

/** Data access of the web chat; every method takes the tenant first. */
export class WebchatRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** The tenant whose Cass client is `company`, with its embed code; undefined when none is. */
  async findEmbedTenant(company: string): Promise<{ id: TenantId; embedCode: string } | undefined> {
    const row = await this.#db.selectFrom('tenants as t')
      .innerJoin('tenant_credentials as c', 'c.tenant_id', 't.id')
      .select(['t.id', 't.embed_code'])
      .where('c.surface', '=', 'cass').where('c.kind', '=', 'token').where('c.key', '=', company).where('c.revoked_at', 'is', null)
      .executeTakeFirst()
    return row ? { id: row.id, embedCode: row.embed_code } : undefined
  }

  /** Whether the person ever had a conversation with the bot. */
  async hadConversation(tenantId: TenantId, personId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('conversations').select('id').where('tenant_id', '=', tenantId).where('person_id', '=', personId).limit(1).executeTakeFirst()
    return row !== undefined
  }

  #rows() {
    return this.#db.selectFrom('transcript_messages as m')
      .leftJoin('outbox_messages as o', 'o.id', 'm.outbox_message_id')
      .select(ROW_COLUMNS)
  }

  /** The person's web chat transcript after `cursor`, oldest first. */
  async listAfter(tenantId: TenantId, personId: string, cursor: string, limit: number): Promise<WebchatRow[]> {
    return await this.#rows()
      .where('m.tenant_id', '=', tenantId).where('m.person_id', '=', personId).where('m.channel', '=', 'webchat')
      .where('m.seq', '>', cursor)
      .orderBy('m.seq').limit(limit).execute() as WebchatRow[]
  }

  /** The newest `limit` rows of the person's web chat transcript, oldest first. */
  async listLatest(tenantId: TenantId, personId: string, limit: number): Promise<WebchatRow[]> {
    const rows = await this.#rows()
      .where('m.tenant_id', '=', tenantId).where('m.person_id', '=', personId).where('m.channel', '=', 'webchat')
      .orderBy('m.seq', 'desc').limit(limit).execute() as WebchatRow[]
    return rows.reverse()
  }

  /** What the person wrote in the web chat that the bot has not taken yet (no transcript row), oldest first. */
  async listPendingInbound(tenantId: TenantId, personId: string): Promise<Array<{ id: string; body: string; received_at: Date }>> {
    return this.#db.selectFrom('inbound_messages as n')
      .select(['n.id', 'n.body', 'n.received_at'])
      .where('n.tenant_id', '=', tenantId).where('n.person_id', '=', personId).where('n.channel', '=', 'webchat')
      .where('n.status', '=', 'received')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('transcript_messages as m').select('m.id').whereRef('m.inbound_message_id', '=', 'n.id'))))
      .orderBy('n.received_at').limit(50).execute()
  }
}
