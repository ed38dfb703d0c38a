import type { WebchatMessage, WebchatSession } from '../../core/webchat/index.ts'

/** A chat message on the wire (snake_case, like the rest of the Cass surface). */
export function presentMessage(m: WebchatMessage) {
  return {
    id: m.id, cursor: m.cursor, direction: m.direction, text: m.text, quick_replies: [...m.quickReplies],
    created_at: m.createdAt.toISOString(), pending: m.pending,
  }
}

/** A started or resumed chat session. */
export function presentSession(s: WebchatSession) {
  return { token: s.token, person_id: s.person.cassId, anonymous: s.anonymous, created: s.created, started_thread: s.startedThread }
}
