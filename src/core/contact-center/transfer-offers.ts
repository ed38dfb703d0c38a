import type { Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { recordAgentEvent } from './routing.service.ts'
import { nextNums, type SetupRepository } from './setup.repository.ts'

/**
 * Offer a session (a chat or a call) to the agent it is being transferred to, in `trx`: the offer
 * (expiring after the tenant's offer timeout), its entry in the session's `offer_events`, the
 * `transferring` Transfer item (§3.7) and the receiving agent's `offer` event. What may be offered
 * (capacity, one transfer at a time) the caller has checked.
 */
export async function offerTransfer(trx: Transaction<DB>, setup: SetupRepository, tenantId: TenantId, t: {
  readonly session: { readonly id: string; readonly num: number }
  readonly from: { readonly id: string; readonly num: number }
  readonly to: { readonly id: string; readonly num: number }
  readonly fromMenuId: string | null
  readonly toMenuId: string | null
  readonly channel: 'chat' | 'call'
}): Promise<{ offerId: string; expiresAt: Date }> {
  const timeout = (await setup.settings(trx, tenantId))?.offerTimeoutSeconds ?? 30
  const offeredAt = new Date()
  const expiresAt = new Date(offeredAt.getTime() + timeout * 1000)
  const offer = await trx.insertInto('cc_offers').values({ tenant_id: tenantId, session_id: t.session.id, agent_id: t.to.id, offered_at: offeredAt, expires_at: expiresAt }).returning('id').executeTakeFirstOrThrow()
  const events = (await trx.selectFrom('cc_sessions').select('offer_events').where('tenant_id', '=', tenantId).where('id', '=', t.session.id).executeTakeFirstOrThrow()).offer_events
  await trx.updateTable('cc_sessions').set({ offer_events: JSON.stringify([...events, { agent_id: t.to.num, offered_at: offeredAt.toISOString(), result: 'pending' }]) })
    .where('tenant_id', '=', tenantId).where('id', '=', t.session.id).execute()
  const [tn] = await nextNums(trx, tenantId, 'transfer')
  await trx.insertInto('cc_transfers').values({
    tenant_id: tenantId, num: tn!, session_id: t.session.id, status: 'transferring', from_agent_id: t.from.id, to_agent_id: t.to.id,
    from_menu_id: t.fromMenuId, to_menu_id: t.toMenuId, offer_id: offer.id,
  }).execute()
  // A call's offer names it as the call and, for the agent API's routing code, as the chat too.
  await recordAgentEvent(trx, tenantId, t.to.id, 'offer', {
    offer_id: offer.id, chat_id: t.session.num, ...(t.channel === 'call' ? { call_id: t.session.num } : {}), channel: t.channel,
    expires_at: expiresAt.toISOString(), transfer_from: t.from.num,
  })
  return { offerId: offer.id, expiresAt }
}
