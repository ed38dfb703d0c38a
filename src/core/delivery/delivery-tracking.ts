import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { smsSegments } from '../../lib/sms-segments.ts'
import type { PeopleLookups, PeopleService } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { Channel, OutboxStatus } from './delivery.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { UUID } from '../../lib/uuid.ts'

/** A delivery status a provider reports after it accepted a message. */
export type ReportedStatus = 'sent' | 'delivered' | 'undelivered' | 'failed'

/** One entry of a message's status history. */
export interface StatusEvent {
  readonly status: string
  /** The vendor's own status word, for callbacks (Twilio: queued, sent, delivered, read…). */
  readonly providerStatus: string | null
  readonly errorCode: string | null
  /** False when the event arrived late or twice and did not move the message. */
  readonly applied: boolean
  readonly at: Date
}

/** What a provider's status callback says about one of our messages. */
export interface StatusReport {
  readonly provider: string
  readonly providerMessageId: string
  readonly status: ReportedStatus
  readonly providerStatus?: string | undefined
  readonly errorCode?: string | undefined
  /**
   * Our message id, when the callback URL carries it (`?message=`): a report that arrives before
   * the provider's id was recorded (the callback overtook our `recordSent`) still finds its message.
   */
  readonly messageId?: string | undefined
}

/**
 * How far along a status is. A callback only moves a message forward: `sent` never replaces
 * `delivered`, and the first final outcome stays (late or repeated callbacks are recorded in the
 * history, marked not applied).
 */
const RANK: Readonly<Record<string, number>> = { queued: 0, sending: 1, sent: 2, delivered: 3, undelivered: 3, failed: 3, suppressed: 3 }


/** Longest wait a worker sleeps for a send slot; a later slot defers the job instead. */
export const MAX_SLOT_WAIT_MS = 2_000

/**
 * The delivery bookkeeping around a provider: status callbacks moving messages forward, a status
 * history per message, SMS segment counts, and per-sender send slots (rate limits that hold across
 * every worker process, because the slot is reserved in the database).
 */
export class DeliveryTracking {
  readonly #db: Kysely<DB>
  readonly #people: { readonly directory: PeopleService; readonly lookups: PeopleLookups }
  /**
   * `people` is the process's one directory (src/services.ts): a sender it admits is created by the
   * same writer, with the same change notifications and cache, as every other person.
   */
  constructor(db: Kysely<DB>, people: { directory: PeopleService; lookups: PeopleLookups }) {
    this.#db = db
    this.#people = people
  }

  /**
   * The tenant's policy for a message from a number that is nobody in its directory
   * (`settings.unknown_senders`): `create` (the default) makes a person with that phone, so the
   * message reaches a conversation; `ignore` creates nobody (the message is still stored and the
   * inbound handlers, such as STOP/START/HELP, still see it, with no person).
   */
  async unknownSenderPolicy(tenant: Pick<Tenant, 'id'>): Promise<'create' | 'ignore'> {
    const row = await this.#db.selectFrom('tenants').select(sql<string | null>`settings->>'unknown_senders'`.as('policy'))
      .where('id', '=', tenant.id).executeTakeFirst()
    return row?.policy === 'ignore' ? 'ignore' : 'create'
  }

  /**
   * Apply the unknown-sender policy to a phone that wrote in on `channel`: under `create`, the
   * tenant's person with that phone exists afterwards (made now if needed, protocol `sms` or
   * `WHATSAPP`). Returns whether a person was created.
   */
  async admitSender(tenant: Tenant, channel: 'sms' | 'whatsapp', phone: string): Promise<boolean> {
    if ((await this.unknownSenderPolicy(tenant)) === 'ignore') return false
    const known = await this.#people.lookups.idsByPhones(this.#db, tenant.id, [phone])
    if (known.has(phone)) return false
    const { created } = await this.#people.directory.create(tenant, { phone, protocol: channel === 'whatsapp' ? 'WHATSAPP' : 'sms' })
    return created
  }

  /**
   * The provider accepted these messages: each becomes `sent` (or `delivered`), with the vendor's
   * id, the SMS segment count and encoding, and a history entry — one statement for all of them.
   * A message no longer being sent (a status callback got there first, or it was finished
   * meanwhile) is left as it is.
   */
  async recordSent(sent: ReadonlyArray<{ tenantId: TenantId; messageId: string; provider: string; providerMessageId: string; status: 'sent' | 'delivered'; channel: Channel; body: string }>): Promise<void> {
    if (sent.length === 0) return
    const seg = sent.map((m) => (m.channel === 'sms' ? smsSegments(m.body) : undefined))
    const col = <T>(f: (m: (typeof sent)[number], i: number) => T) => sent.map(f)
    await sql`
      WITH v AS (
        SELECT * FROM unnest(
          ${col((m) => m.tenantId)}::uuid[], ${col((m) => m.messageId)}::uuid[], ${col((m) => m.status)}::text[],
          ${col((m) => m.provider)}::text[], ${col((m) => m.providerMessageId)}::text[],
          ${col((_, i) => seg[i]?.segments ?? null)}::int[], ${col((_, i) => seg[i]?.encoding ?? null)}::text[]
        ) AS v(tenant_id, id, status, provider, provider_message_id, segments, encoding)
      ), moved AS (
        UPDATE outbox_messages o SET
          status = v.status, provider = v.provider, provider_message_id = v.provider_message_id,
          last_error = NULL, sent_at = now(), updated_at = now(), segments = v.segments, encoding = v.encoding
        FROM v
        WHERE o.tenant_id = v.tenant_id AND o.id = v.id AND o.status IN ('queued', 'sending')
        RETURNING o.tenant_id, o.id, o.status
      )
      INSERT INTO outbox_status_events (tenant_id, message_id, status) SELECT tenant_id, id, status FROM moved`.execute(this.#db)
  }

  /**
   * A provider's status callback: the message with that vendor id moves forward to `status`
   * (never back), and the report joins its history either way. Returns the message's status after
   * it, or undefined when the tenant has no message with that vendor id.
   */
  async recordStatus(tenant: Pick<Tenant, 'id'>, report: StatusReport): Promise<{ messageId: string; status: OutboxStatus; applied: boolean } | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const byVendorId = await trx.selectFrom('outbox_messages').select(['id', 'status'])
        .where('tenant_id', '=', tenant.id).where('provider', '=', report.provider).where('provider_message_id', '=', report.providerMessageId)
        .forUpdate().executeTakeFirst()
      // Not recorded yet: the message named in the callback URL, still being sent with no vendor id,
      // takes this one (recordSent then finds it moved on and leaves it).
      const row = byVendorId ?? (report.messageId && UUID.test(report.messageId)
        ? await trx.updateTable('outbox_messages')
          .set({ provider: report.provider, provider_message_id: report.providerMessageId, sent_at: sql`coalesce(sent_at, now())` })
          .where('tenant_id', '=', tenant.id).where('id', '=', report.messageId)
          .where('status', 'in', ['queued', 'sending']).where('provider_message_id', 'is', null)
          .returning(['id', 'status']).executeTakeFirst()
        : undefined)
      if (!row) return undefined
      const current = row.status as string
      const applied = (RANK[report.status] ?? 0) > (RANK[current] ?? 0)
      if (applied) {
        const final = report.status === 'undelivered' || report.status === 'failed'
        await trx.updateTable('outbox_messages')
          .set({
            status: report.status, status_at: sql`now()`, updated_at: sql`now()`,
            provider_error_code: report.errorCode ?? null,
            ...(final ? { last_error: `${report.provider} reported ${report.providerStatus ?? report.status}${report.errorCode ? ` (error ${report.errorCode})` : ''}` } : {}),
          })
          .where('tenant_id', '=', tenant.id).where('id', '=', row.id)
          .execute()
      }
      await trx.insertInto('outbox_status_events').values({
        tenant_id: tenant.id, message_id: row.id, status: applied ? report.status : current,
        provider_status: report.providerStatus ?? report.status, error_code: report.errorCode ?? null, applied,
      }).execute()
      return { messageId: row.id, status: (applied ? report.status : current) as OutboxStatus, applied }
    })
  }

  /** A message's status history, oldest first (empty for another tenant's message). */
  async history(tenant: Pick<Tenant, 'id'>, messageId: string): Promise<StatusEvent[]> {
    const rows = await this.#db.selectFrom('outbox_status_events')
      .select(['status', 'provider_status', 'error_code', 'applied', 'at'])
      .where('tenant_id', '=', tenant.id).where('message_id', '=', messageId)
      .orderBy('id').execute()
    return rows.map((r) => ({ status: r.status, providerStatus: r.provider_status, errorCode: r.error_code, applied: r.applied, at: r.at }))
  }

  /** The SMS segment count and encoding recorded for a message (null before it was sent, and for other channels). */
  async segments(tenant: Pick<Tenant, 'id'>, messageId: string): Promise<{ segments: number | null; encoding: string | null } | undefined> {
    return this.#db.selectFrom('outbox_messages').select(['segments', 'encoding'])
      .where('tenant_id', '=', tenant.id).where('id', '=', messageId).executeTakeFirst()
  }

  /**
   * Reserve the next send slot of a sender (a tenant's number on a channel) at `perSecond` sends a
   * second: one atomic upsert, so workers in every process share the limit. Returns the ms to wait
   * until the reserved slot (0: now) and the slot's time on the database's clock (`slotAt`: one
   * sender's slots are at least 1/perSecond apart); or, when the next free slot is more than `maxWaitMs` away,
   * reserves nothing and returns `{ deferMs }`: how long until that slot, so the caller can put the
   * job off instead of holding a worker.
   */
  async reserveSlot(tenantId: TenantId, channel: Channel, sender: string, perSecond: number, maxWaitMs = MAX_SLOT_WAIT_MS): Promise<{ waitMs: number; slotAt: Date } | { deferMs: number }> {
    const intervalMs = Math.max(1, Math.round(1000 / perSecond))
    const reserved = await sql<{ wait_ms: number; slot_at: Date }>`
      INSERT INTO sender_rate_slots AS s (tenant_id, channel, sender, next_slot)
      VALUES (${tenantId}, ${channel}, ${sender}, clock_timestamp() + make_interval(secs => ${intervalMs / 1000}))
      ON CONFLICT (tenant_id, channel, sender) DO UPDATE
        SET next_slot = greatest(s.next_slot, clock_timestamp()) + make_interval(secs => ${intervalMs / 1000})
        WHERE s.next_slot <= clock_timestamp() + make_interval(secs => ${maxWaitMs / 1000})
      RETURNING greatest(0, extract(epoch FROM (next_slot - make_interval(secs => ${intervalMs / 1000}) - clock_timestamp())) * 1000)::float8 AS wait_ms,
        next_slot - make_interval(secs => ${intervalMs / 1000}) AS slot_at`
      .execute(this.#db)
    const row = reserved.rows[0]
    if (row) return { waitMs: Math.ceil(row.wait_ms), slotAt: new Date(row.slot_at) }
    const next = await sql<{ defer_ms: number }>`
      SELECT greatest(0, extract(epoch FROM (next_slot - clock_timestamp())) * 1000)::float8 AS defer_ms
      FROM sender_rate_slots WHERE tenant_id = ${tenantId} AND channel = ${channel} AND sender = ${sender}`.execute(this.#db)
    return { deferMs: Math.ceil(next.rows[0]?.defer_ms ?? 0) }
  }

  /** Undo `beginAttempt` for an attempt that did not call the provider (put off for a send slot). */
  async releaseAttempt(tenantId: TenantId, messageId: string): Promise<void> {
    await this.#db.updateTable('outbox_messages')
      .set({ status: 'queued', attempts: sql`greatest(attempts - 1, 0)`, updated_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', messageId).where('status', '=', 'sending')
      .execute()
  }
}
