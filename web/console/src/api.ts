// The console API client: same-origin fetches with the session cookie; every state-changing
// request carries the session's CSRF token in `X-CSRF-Token` (the server refuses it otherwise).

export type Role = 'owner' | 'admin' | 'supervisor' | 'agent' | 'clinician'

export interface Me {
  user: { id: string; email: string; name: string | null; role: Role }
  organization: { id: string; name: string }
  csrf_token: string
  expires_at: string
  /** A contact-center agent's session: the agent API token for the workspace; null otherwise. */
  agent_token: string | null
}

export interface PersonSummary {
  id: string
  first_name: string | null
  last_name: string | null
  phone: string | null
  email: string | null
  external_id: string | null
  created_at: string
}

export interface PersonDetail extends PersonSummary {
  identities: Array<{ surface: string; public_id: string; legacy_id: string | null; created_at: string }>
  suppressions: Suppression[]
  /** What the signed-in user may do to this person. */
  actions: PersonAction[]
}

export type PersonAction = 'edit' | 'add_suppression' | 'consent_withdrawn' | 'consent_given' | 'lift_suppression' | 'ping'

export interface Suppression { scope: string; address: string; reason: string; source: string; created_at: string }

export interface PersonEdit { first_name?: string | null; last_name?: string | null; phone?: string; email?: string | null }

export interface TimelineEvent {
  id: string
  /** `message`, or a console action (`person_edited`, `consent_given`, …). */
  kind: string
  direction: 'in' | 'out' | null
  channel: string
  text: string
  thread_name: string | null
  actor: string | null
  created_at: string
}

export interface TimelinePage { events: TimelineEvent[]; next_cursor: string | null }

/** What the workspace needs besides the agent API: dispositions and transfer targets. */
export interface WorkspaceSetup {
  dispositions: string[]
  agents: Array<{ id: number; name: string; status: string }>
  queues: Array<{ id: number; name: string }>
}

/** An answer other than 2xx: its status and the server's message. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string | undefined
  constructor(status: number, message: string, code?: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

let csrf = ''

/** Remember the session's CSRF token (from sign-in or GET /session). */
export function setCsrf(token: string): void {
  csrf = token
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf
  const res = await fetch(`/console/api${path}`, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  if (res.status === 204) return undefined as T
  const json = await res.json().catch(() => ({})) as { message?: string; code?: string }
  if (!res.ok) throw new ApiError(res.status, json.message ?? res.statusText, json.code)
  return json as T
}

export const api = {
  session: () => call<Me>('GET', '/session'),
  signIn: (email: string, password: string, company?: string) => call<Me>('POST', '/session', { email, password, ...(company ? { company } : {}) }),
  workspace: () => call<WorkspaceSetup>('GET', '/workspace'),
  signOut: () => call<void>('DELETE', '/session'),
  searchPeople: (q: string) => call<{ people: PersonSummary[] }>('GET', `/people?q=${encodeURIComponent(q)}`),
  person: (id: string) => call<PersonDetail>('GET', `/people/${encodeURIComponent(id)}`),
  timeline: (id: string, opts: { limit?: number; before?: string | null } = {}) =>
    call<TimelinePage>('GET', `/people/${encodeURIComponent(id)}/timeline?limit=${opts.limit ?? 200}${opts.before ? `&before=${encodeURIComponent(opts.before)}` : ''}`),
  /** The URL of the person's live timeline stream (Server-Sent Events). */
  timelineStream: (id: string) => `/console/api/people/${encodeURIComponent(id)}/timeline/stream`,
  editPerson: (id: string, body: PersonEdit) => call<PersonDetail>('PATCH', `/people/${encodeURIComponent(id)}`, body),
  addSuppression: (id: string, body: { scope: string; address: string; reason: string; note?: string }) =>
    call<{ suppression: Suppression; created: boolean }>('POST', `/people/${encodeURIComponent(id)}/suppressions`, body),
  liftSuppression: (id: string, body: { scope: string; address: string; note?: string }) =>
    call<{ lifted: Suppression }>('POST', `/people/${encodeURIComponent(id)}/suppressions/lift`, body),
  recordConsent: (id: string, body: { scope: string; address: string; state: 'given' | 'withdrawn'; note?: string }) =>
    call<{ state: string; lifted: Suppression[]; remaining: Suppression[]; added: Suppression | null }>('POST', `/people/${encodeURIComponent(id)}/consents`, body),
  threads: () => call<{ threads: string[] }>('GET', '/threads'),
  ping: (id: string, threadName: string) => call<{ thread_name: string }>('POST', `/people/${encodeURIComponent(id)}/ping`, { thread_name: threadName }),
}

// The supervisor view (issue 11, item 4).

export interface SupervisorQueue {
  id: number
  name: string
  channels: string[]
  waiting: number
  estimated_wait_seconds: number | null
  longest_wait_seconds: number
  logged_in_agents: number
  available_agents: number
  after_hours: boolean
  answered: number
  answered_within_target: number
  unanswered: number
  service_level: number | null
}
export interface SupervisorQueues { target_seconds: number; window_hours: number; queues: SupervisorQueue[] }
export interface SupervisorAgent { id: number; name: string; email: string; status: string; status_kind: string; status_since: string; teams: string[]; logout_pending: boolean }
export interface SupervisorActionResult { agent: SupervisorAgent; previous_status: string; current_status: string; message: string | null }
export interface SupervisorCharts {
  from: string
  to: string
  bucket: 'hour' | 'day'
  volume: Array<{ at: string; channel: string; count: number }>
  delivery: Array<{ provider: string; status: string; count: number }>
  first_response: Array<{ at: string; sessions: number; average_seconds: number; median_seconds: number; p90_seconds: number }>
}

export const supervisorApi = {
  queues: () => call<SupervisorQueues>('GET', '/supervisor/queues'),
  agents: () => call<{ agents: SupervisorAgent[]; statuses: string[] }>('GET', '/supervisor/agents'),
  setStatus: (id: number, status: string) => call<SupervisorActionResult>('POST', `/supervisor/agents/${id}/status`, { status }),
  forceLogout: (id: number) => call<SupervisorActionResult>('POST', `/supervisor/agents/${id}/force_logout`),
  charts: (from: string, to: string) => call<SupervisorCharts>('GET', `/supervisor/charts?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
}
