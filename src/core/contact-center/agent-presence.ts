import type { Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { recordAgentEvent } from './routing.service.ts'
import type { SetupRepository } from './setup.repository.ts'
import { SYSTEM_STATUSES } from './setup.schema.ts'

/** Session statuses in which an agent is busy with it: a chat `assigned`, a call from `assigned` to its end. */
export const AGENT_LIVE_STATUSES = ['assigned', 'connecting', 'connected', 'switching'] as const

/**
 * Set an agent's system status (In-chat, In-call, Wrap-up, Offline) and tell their workspace. With
 * `chosen: null` the status they chose is forgotten (Offline).
 */
export async function setAgentStatus(trx: Transaction<DB>, setup: SetupRepository, tenantId: TenantId, agentId: string, name: string, opts: { chosen?: null; logoutPending?: boolean } = {}): Promise<void> {
  const status = (await setup.statuses(trx, tenantId)).find((s) => s.name === name)!
  await trx.updateTable('cc_agents').set({
    status_id: status.id, status_updated_at: new Date(), ...(opts.chosen === null ? { chosen_status_id: null, idle_since: null } : {}),
    ...(opts.logoutPending !== undefined ? { logout_pending: opts.logoutPending } : {}),
  }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  await recordAgentEvent(trx, tenantId, agentId, 'status', { status: name })
}

/**
 * An agent's chat or call ended or left them (`closed` is the workspace event saying so): with
 * another session still theirs, they stay busy (In-chat when only chats are left); else Wrap-up for
 * the setting's wrap-up time (until they post a disposition), then back to the status they chose
 * (`backToChosen`); with no wrap-up time, at once.
 */
export async function releaseAgent(trx: Transaction<DB>, setup: SetupRepository, tenantId: TenantId, agentId: string, closed: { event: string; data: Record<string, unknown>; sessionNum: number }): Promise<void> {
  await recordAgentEvent(trx, tenantId, agentId, closed.event, closed.data)
  // The agent row first (FOR NO KEY UPDATE: the event row above holds a key-share lock on it, and two
  // ends of one agent's chats upgrading that to FOR UPDATE deadlocked), then the other sessions, read
  // after the lock so that the last of two concurrent ends sees the first one's.
  await trx.selectFrom('cc_agents').select('id').where('tenant_id', '=', tenantId).where('id', '=', agentId).forNoKeyUpdate().executeTakeFirstOrThrow()
  const others = await trx.selectFrom('cc_sessions').select(['channel']).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId)
    .where('num', '!=', closed.sessionNum).where('status', 'in', [...AGENT_LIVE_STATUSES]).execute()
  if (others.length > 0) {
    await trx.updateTable('cc_agents').set({ idle_since: new Date() }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
    if (!others.some((o) => o.channel === 'call')) {
      const current = await trx.selectFrom('cc_agents as a').innerJoin('cc_statuses as s', (j) => j.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.status_id'))
        .select('s.name').where('a.tenant_id', '=', tenantId).where('a.id', '=', agentId).executeTakeFirst()
      if (current?.name === SYSTEM_STATUSES.inCall) await setAgentStatus(trx, setup, tenantId, agentId, SYSTEM_STATUSES.inChat)
    }
    return
  }
  const seconds = (await setup.settings(trx, tenantId))?.wrapUpSeconds ?? 0
  if (seconds > 0) {
    const session = await trx.selectFrom('cc_sessions').select('id').where('tenant_id', '=', tenantId).where('num', '=', closed.sessionNum).executeTakeFirstOrThrow()
    const until = new Date(Date.now() + seconds * 1000)
    await setAgentStatus(trx, setup, tenantId, agentId, SYSTEM_STATUSES.wrapUp)
    await trx.updateTable('cc_agents').set({ wrap_up_until: until, wrap_up_session_id: session.id, idle_since: null }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
    await recordAgentEvent(trx, tenantId, agentId, 'wrap_up', { ...closed.data, until: until.toISOString() })
    return
  }
  await backToChosen(trx, setup, tenantId, agentId)
}

/** Wrap-up is over (or there was none): back to the chosen status (idle from now), or Offline when a force logout waits. */
export async function backToChosen(trx: Transaction<DB>, setup: SetupRepository, tenantId: TenantId, agentId: string): Promise<void> {
  const agent = await trx.selectFrom('cc_agents').select(['chosen_status_id', 'logout_pending']).where('tenant_id', '=', tenantId).where('id', '=', agentId).forNoKeyUpdate().executeTakeFirstOrThrow()
  await trx.updateTable('cc_agents').set({ wrap_up_until: null, wrap_up_session_id: null }).where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  if (agent.logout_pending) {
    await setAgentStatus(trx, setup, tenantId, agentId, SYSTEM_STATUSES.offline, { chosen: null, logoutPending: false })
    await trx.updateTable('cc_agent_sessions').set({ revoked_at: new Date() }).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).where('revoked_at', 'is', null).execute()
    return
  }
  const statuses = await setup.statuses(trx, tenantId)
  const chosen = statuses.find((s) => s.id === agent.chosen_status_id) ?? statuses.find((s) => s.name === SYSTEM_STATUSES.unavailable)!
  await trx.updateTable('cc_agents').set({ status_id: chosen.id, status_updated_at: new Date(), idle_since: chosen.kind === 'available' ? new Date() : null })
    .where('tenant_id', '=', tenantId).where('id', '=', agentId).execute()
  await recordAgentEvent(trx, tenantId, agentId, 'status', { status: chosen.name })
}
