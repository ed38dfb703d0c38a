/**
 * The campaign dialer's side of a call (issue 12, item 5): which agents of a queue are idle (the
 * pacing's input and the "answered with nobody free" test), and the contact's status (§4.3) as the
 * call it was dialled on moves (§4.1). The calls service calls `dialerCallMoved` in the transaction
 * of every call transition; a call the dialer did not place changes nothing here.
 */
import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { parseDuration } from '../scheduling/index.ts'
import { transition, type ContactEvent, type ContactStatus, type DialOutcome } from './campaign-contact.machine.ts'
import { DEFAULT_PREVIEW, DEFAULT_RETRY, redialAt, type PreviewRules, type RetryRules } from './dialer.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'

type Executor = Kysely<DB> | Transaction<DB>

/**
 * Agents of `menuId`'s teams who could take a call now: active, signed in, chose Available and are
 * Available (not in a call, a chat or wrap-up), with no session assigned, no pending offer and no
 * open preview offer; in agent number order.
 */
export async function idleAgents(db: Executor, tenantId: TenantId, menuId: string): Promise<string[]> {
  const rows = await db.selectFrom('cc_agents as a')
    .innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
    .innerJoin('cc_statuses as cs', (j) => j.onRef('cs.tenant_id', '=', 'a.tenant_id').onRef('cs.id', '=', 'a.chosen_status_id'))
    .select('a.id')
    .where('a.tenant_id', '=', tenantId).where('a.deactivated_at', 'is', null).where('a.logout_pending', '=', false)
    .where('cs.kind', '=', 'available').where('s.name', '=', SYSTEM_STATUSES.available)
    .where((eb) => eb.exists(eb.selectFrom('cc_agent_teams as at')
      .innerJoin('cc_menu_teams as mt', (j) => j.onRef('mt.tenant_id', '=', 'at.tenant_id').onRef('mt.team_id', '=', 'at.team_id'))
      .innerJoin('cc_teams as t', (j) => j.onRef('t.tenant_id', '=', 'at.tenant_id').onRef('t.id', '=', 'at.team_id'))
      .select(sql`1`.as('one')).whereRef('at.tenant_id', '=', 'a.tenant_id').whereRef('at.agent_id', '=', 'a.id')
      .where('mt.menu_id', '=', menuId).where('t.deleted_at', 'is', null)))
    .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_sessions x WHERE x.tenant_id = a.tenant_id AND x.agent_id = a.id AND x.status IN ('assigned', 'connecting', 'connected', 'switching'))`)
    .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_offers o WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.id AND o.result = 'pending')`)
    .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_preview_offers p WHERE p.tenant_id = a.tenant_id AND p.agent_id = a.id AND p.result = 'open')`)
    .orderBy('a.num').execute()
  return rows.map((r) => r.id)
}

/** How many agents of `menuId` are idle (see `idleAgents`). */
export async function idleAgentCount(db: Executor, tenantId: TenantId, menuId: string): Promise<number> {
  return (await idleAgents(db, tenantId, menuId)).length
}

/**
 * Answered dialer calls of `menuId` still waiting for an agent and not offered to one yet (an
 * offered call's agent is no longer idle, so counting it here too would count it twice).
 */
export async function waitingDialerCalls(db: Executor, tenantId: TenantId, menuId: string): Promise<number> {
  const row = await db.selectFrom('cc_dialer_calls as d')
    .innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'd.tenant_id').onRef('s.id', '=', 'd.session_id'))
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('d.tenant_id', '=', tenantId).where('s.menu_id', '=', menuId).where('s.status', '=', 'queued').where('d.ended_at', 'is', null)
    .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM cc_offers o WHERE o.tenant_id = d.tenant_id AND o.session_id = d.session_id AND o.result = 'pending')`)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Whether a session is a call the dialer placed (and for which campaign). */
export async function dialerCallOf(db: Executor, tenantId: TenantId, sessionId: string): Promise<{ campaignId: string; contactId: string } | undefined> {
  const row = await db.selectFrom('cc_dialer_calls').select(['campaign_id', 'contact_id']).where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).executeTakeFirst()
  return row ? { campaignId: row.campaign_id, contactId: row.contact_id } : undefined
}

/** The contact status a dial that failed before anyone talked ends in, from the call's `fail_reason`. */
export function dialOutcome(failReason: string | undefined): DialOutcome {
  switch (failReason) {
    case 'busy': case 'no_answer': case 'abandoned': return 'Not Picked Up'
    case 'invalid_number': return 'Invalid Number'
    case 'voip_error': return 'Carrier Error'
    case 'dnc': return 'Do Not Call'
    case 'no_agent_available': return 'Abandoned by Dialer'
    default: return 'Dialer General Error'
  }
}

/** A campaign's stored retry rules (`cc_campaigns.retry`) as `redialAt` takes them. */
export function retryRules(stored: unknown): RetryRules {
  const r = (stored ?? {}) as { max_attempts?: unknown; delay?: unknown; statuses?: unknown }
  return {
    maxAttempts: typeof r.max_attempts === 'number' ? r.max_attempts : DEFAULT_RETRY.maxAttempts,
    delayMs: (typeof r.delay === 'string' ? parseDuration(r.delay) : undefined) ?? DEFAULT_RETRY.delayMs,
    statuses: Array.isArray(r.statuses) ? (r.statuses as ContactStatus[]) : DEFAULT_RETRY.statuses,
  }
}

/** A campaign's stored preview settings (`cc_campaigns.preview`) with the defaults applied. */
export function previewRules(stored: unknown): PreviewRules {
  const p = (stored ?? {}) as { offer_timeout?: unknown; repeat_after?: unknown }
  return {
    offerMs: (typeof p.offer_timeout === 'string' ? parseDuration(p.offer_timeout) : undefined) ?? DEFAULT_PREVIEW.offerMs,
    repeatMs: (typeof p.repeat_after === 'string' ? parseDuration(p.repeat_after) : undefined) ?? DEFAULT_PREVIEW.repeatMs,
  }
}

/**
 * A dialer call was transferred to another agent (the receiving agent's leg is up): its contact
 * goes `Connected` → `Transferred` (§4.3), and `Transferred and Finished` when the call ends.
 */
export async function dialerCallTransferred(trx: Transaction<DB>, tenantId: TenantId, sessionId: string): Promise<void> {
  const call = await trx.selectFrom('cc_dialer_calls').select('contact_id').where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).executeTakeFirst()
  if (!call) return
  const contact = await trx.selectFrom('cc_campaign_contacts').select('status').where('tenant_id', '=', tenantId).where('id', '=', call.contact_id).forUpdate().executeTakeFirst()
  const next = contact ? transition(contact.status as ContactStatus, { type: 'transferred' }) : undefined
  if (!next) return
  await trx.updateTable('cc_campaign_contacts').set({ status: next, updated_at: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', call.contact_id).execute()
}

/**
 * A dialer call moved from `from` to `to`: the contact follows (§4.3) — answered → Queued, the
 * agent's leg up → Connected, hung up after talking → Finished, a failed dial → its outcome (and
 * Redial Scheduled when the campaign's retry rules say so), the contact hanging up while waiting
 * for an agent → Abandoned by Contact (in preview, where the agent's leg is dialled with the
 * contact's: the person answered and hung up before the agent's leg was up). The dial's row records when it was answered and how it ended
 * (the pacing's counters).
 */
export async function dialerCallMoved(trx: Transaction<DB>, tenantId: TenantId, sessionId: string, from: string, to: string, failReason: string | undefined): Promise<void> {
  if (from === to) return
  const call = await trx.selectFrom('cc_dialer_calls').select(['contact_id', 'campaign_id', 'answered_at']).where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).executeTakeFirst()
  if (!call) return
  const contact = await trx.selectFrom('cc_campaign_contacts').select(['id', 'status', 'attempts']).where('tenant_id', '=', tenantId).where('id', '=', call.contact_id).forUpdate().executeTakeFirst()
  if (!contact) return
  const now = new Date()
  const status = contact.status as ContactStatus
  let event: ContactEvent | undefined
  if (to === 'queued') event = { type: 'answered' }
  else if (to === 'connected') event = { type: 'agent_connected' }
  else if (to === 'finished') event = status === 'Queued' ? { type: 'contact_hung_up' } : { type: 'finished' }
  else if (to === 'failed') {
    if (status === 'Dialing') event = failReason === 'abandoned' && (await personAnswered(trx, tenantId, sessionId)) ? { type: 'contact_hung_up' } : { type: 'dial_failed', outcome: dialOutcome(failReason) }
    // Answered, then gone before the agent's leg was up: the contact hung up (or, rarely, the agent's
    // leg failed; §4.3 has no outcome from Queued but this one).
    else if (status === 'Queued' || status === 'Connected') event = { type: 'contact_hung_up' }
  }
  const next = event ? transition(status, event) : undefined
  const ended = to === 'finished' || to === 'failed'
  const record = {
    ...(to === 'queued' || to === 'connected' || (to === 'failed' && failReason === 'no_agent_available') ? { answered_at: call.answered_at ?? now } : {}),
    ...(ended ? { ended_at: now, outcome: next ?? status } : {}),
  }
  if (Object.keys(record).length > 0) await trx.updateTable('cc_dialer_calls').set(record).where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).execute()
  if (!next) return
  let final: ContactStatus = next
  let dialAfter: Date | null = null
  if (ended) {
    const campaign = await trx.selectFrom('cc_campaigns').select('retry').where('tenant_id', '=', tenantId).where('id', '=', call.campaign_id).executeTakeFirst()
    const due = redialAt(retryRules(campaign?.retry), next, contact.attempts, now)
    const redial = due ? transition(next, { type: 'redial_scheduled' }) : undefined
    if (due && redial) {
      final = redial
      dialAfter = due
    }
  }
  await trx.updateTable('cc_campaign_contacts').set({ status: final, updated_at: now, ...(ended ? { dial_after: dialAfter } : {}) })
    .where('tenant_id', '=', tenantId).where('id', '=', contact.id).execute()
}

/** Whether the end user's leg of a call picked up (a preview call that failed before the agent's leg was up). */
async function personAnswered(trx: Transaction<DB>, tenantId: TenantId, sessionId: string): Promise<boolean> {
  const leg = await trx.selectFrom('cc_call_legs').select('id').where('tenant_id', '=', tenantId).where('session_id', '=', sessionId)
    .where('party', '=', 'end_user').where('answered_at', 'is not', null).executeTakeFirst()
  return leg !== undefined
}
