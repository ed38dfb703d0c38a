// The agent API client (`/agent/v1`), as any agent workspace uses it: the bearer token is the
// one the console session answers (`agent_token`), held in memory only. The event stream is read
// with fetch (EventSource cannot send `Authorization`), resuming after `Last-Event-ID`.

import { ApiError } from './api.ts'

export interface AgentStatus { id: number; name: string; kind: 'available' | 'away' | 'system' }

export interface AgentMe {
  id: number
  email: string
  first_name: string
  last_name: string
  chat_capacity: number
  status: AgentStatus
  statuses: AgentStatus[]
  logout_pending: boolean
}

export interface AgentChat {
  id: number
  status: string
  end_user: { id: number; identifier: string | null }
  menu_path: { name: string; materialized_path: string } | null
}

/** A message of a chat as GET /chats/{id}/messages answers it. */
export interface AgentMessage {
  id: number
  chat_id: number
  from_user_id: number | null
  from_agent_id: number | null
  type: string
  content: string | null
  created_at: string
}

export interface StreamEvent { id: string; type: string; data: Record<string, unknown> }

export function agentApi(token: string) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`/agent/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    if (res.status === 204) return undefined as T
    const json = await res.json().catch(() => ({})) as { message?: string; code?: string }
    if (!res.ok) throw new ApiError(res.status, json.message ?? res.statusText, json.code)
    return json as T
  }
  return {
    me: () => call<AgentMe>('GET', '/me'),
    setStatus: (status: string) => call<AgentMe>('PUT', '/status', { status }),
    chats: () => call<AgentChat[]>('GET', '/chats'),
    messages: (chatId: number) => call<AgentMessage[]>('GET', `/chats/${chatId}/messages`),
    send: (chatId: number, content: string) => call<AgentMessage>('POST', `/chats/${chatId}/messages`, { content }),
    accept: (offerId: string) => call<AgentChat>('POST', `/offers/${encodeURIComponent(offerId)}/accept`),
    decline: (offerId: string) => call<void>('POST', `/offers/${encodeURIComponent(offerId)}/decline`),
    transfer: (chatId: number, to: { agent_id: number } | { menu_id: number }) => call<AgentChat>('POST', `/chats/${chatId}/transfer`, to),
    end: (chatId: number) => call<AgentChat>('POST', `/chats/${chatId}/end`),
    wrapUp: (chatId: number, disposition: string) => call<AgentMe>('POST', `/chats/${chatId}/wrap-up`, { disposition }),

    /**
     * Read the event stream until `signal` aborts, reconnecting (after 2 s) when it drops; each
     * connection resumes after the last event seen (`lastEventId()`), so nothing is lost.
     */
    async stream(lastEventId: () => string | null, onEvent: (e: StreamEvent) => void, onState: (live: boolean) => void, signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        try {
          const last = lastEventId()
          const res = await fetch('/agent/v1/events', { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...(last ? { 'last-event-id': last } : {}) }, signal })
          if (res.status === 401) throw new ApiError(401, 'signed out')
          if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`)
          onState(true)
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
          let buffer = ''
          for (;;) {
            const { value, done } = await reader.read()
            if (done) break
            buffer += value.replace(/\r\n?/g, '\n')
            let end
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              let id = '', type = 'message', data = ''
              for (const line of block.split('\n')) {
                const colon = line.indexOf(':')
                if (colon === 0) continue
                const field = colon < 0 ? line : line.slice(0, colon)
                const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
                if (field === 'id') id = value
                else if (field === 'event') type = value
                else if (field === 'data') data += (data ? '\n' : '') + value
              }
              if (id && data) onEvent({ id, type, data: JSON.parse(data) as Record<string, unknown> })
            }
          }
        } catch (err) {
          if (signal.aborted) return
          if (err instanceof ApiError && err.status === 401) {
            onState(false)
            return
          }
        }
        onState(false)
        await new Promise((resolve) => setTimeout(resolve, 2000))
      }
    },
  }
}

export type AgentApi = ReturnType<typeof agentApi>
