import type { Kysely } from 'kysely'
import type { Notifier } from '../../db/notifier.ts'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { LiveChannel } from '../live.ts'

/** The channel migrations/0016 announces agent events on: payload `<tenant id>:<agent id>`. */
const AGENT_CHANNEL = 'switchboard_cc_agent'

/** One event of an agent's workspace stream. `id` is its cursor (`Last-Event-ID`). */
export interface AgentEvent {
  readonly id: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly createdAt: Date
}

/** A live subscription; `close()` ends it. */
export interface AgentEventSubscription {
  close(): void
}

/**
 * The agent workspace's event stream: offers, chat changes, messages, status, recorded in the
 * transaction of the change (`cc_agent_events`) and read in order after a cursor. Every tab of an
 * agent — in any API process — reads the same rows, so two tabs see the same stream, and a
 * reconnecting tab resumes after its last event without losing or repeating one.
 */
export class AgentEvents {
  readonly #db: Kysely<DB>
  readonly #live: LiveChannel

  constructor(db: Kysely<DB>, notifier: Notifier) {
    this.#db = db
    this.#live = new LiveChannel(notifier, AGENT_CHANNEL)
  }

  /** The newest event id of the agent ("0" for none): where a fresh stream starts. */
  async head(tenantId: TenantId, agentId: string): Promise<string> {
    const r = await this.#db.selectFrom('cc_agent_events').select((eb) => eb.fn.max('id').as('id')).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).executeTakeFirst()
    return r?.id ? String(r.id) : '0'
  }

  /** The agent's events after `cursor`, oldest first (at most `limit`). */
  async after(tenantId: TenantId, agentId: string, cursor: string, limit = 500): Promise<AgentEvent[]> {
    const from = /^\d{1,18}$/.test(cursor) ? cursor : '0'
    const rows = await this.#db.selectFrom('cc_agent_events').select(['id', 'type', 'data', 'created_at']).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId)
      .where('id', '>', from).orderBy('id').limit(limit).execute()
    return rows.map((r) => ({ id: String(r.id), type: r.type, data: r.data, createdAt: r.created_at }))
  }

  /** Deliver every event after `cursor` to `onEvent`, now and as they come, in order, until closed. */
  async subscribe(tenantId: TenantId, agentId: string, cursor: string, onEvent: (e: AgentEvent) => void): Promise<AgentEventSubscription> {
    let last = cursor
    let closed = false
    let reading: Promise<void> | undefined
    let again = false
    const read = () => {
      if (reading) {
        again = true
        return
      }
      reading = (async () => {
        do {
          again = false
          for (;;) {
            const batch = await this.after(tenantId, agentId, last)
            for (const e of batch) {
              if (closed) return
              last = e.id
              onEvent(e)
            }
            if (batch.length < 500) break
          }
        } while (again && !closed)
      })().catch(() => { again = true }).finally(() => {
        reading = undefined
      })
    }
    const sub = { key: `${tenantId}:${agentId}`, poke: read }
    await this.#live.add(sub)
    read()
    return { close: () => {
      closed = true
      this.#live.remove(sub)
    } }
  }
}
