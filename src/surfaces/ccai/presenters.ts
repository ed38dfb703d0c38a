import type { Agent } from '../../core/contact-center/index.ts'
import type { AgentStatusResult, ForceLogoutJob } from '../../core/contact-center/index.ts'

/** §1.7: ISO 8601 UTC with milliseconds and `Z`, or null. */
export function ts(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null
}

/** A User of `GET /users` (§3.5), with the filter attributes as extra keys (§1.4 allows a superset). */
export function presentUser(a: Agent) {
  return {
    id: a.num,
    email: a.email,
    first_name: a.firstName,
    last_name: a.lastName,
    agent_number: a.agentNumber ?? '',
    location: a.location,
    max_chat_limit: a.chatCapacity,
    max_chat_limit_enabled: true,
    unrestricted_international_calling: a.permissions.includes('unrestricted_international_calling'),
    deactivated_at: ts(a.deactivatedAt),
    ucaas_user_name: null,
    ucaas_sip_uri: null,
    external_user: false,
    phone_numbers: [...a.phoneNumbers],
    extension_numbers: [],
    teams: a.teams.map((t) => ({ name: t.name })),
    roles: a.roles.map((name) => ({ name })),
    status_id: a.status.num,
    online: a.status.name !== 'Offline',
    wrap_up: a.status.name === 'Wrap-up',
    last_login_time: ts(a.lastLoginAt),
    status_updated_at: ts(a.statusUpdatedAt),
  }
}

/** An AgentStatusResult (§3.15): `message` only on a refusal or a deferred logout. */
export function presentStatusResult(r: AgentStatusResult) {
  return {
    agent_id: r.agent.num,
    name: `${r.agent.firstName} ${r.agent.lastName}`,
    email: r.agent.email,
    agent_number: r.agent.agentNumber ?? '',
    previous_status: r.previousStatus,
    current_status: r.currentStatus,
    ...(r.message !== undefined ? { message: r.message } : {}),
  }
}

/** A force-logout job (A4). */
export function presentForceLogoutJob(j: ForceLogoutJob) {
  return { id: j.num, status: j.status, total: j.total, processed: j.processed, results: j.results.map(presentStatusResult) }
}
