/**
 * The SMS-session part of the chat machine (`spec/ccai.md` §4.2, S1), pure: how an outbound SMS
 * session starts and what an end user's reply does to it. Every other event of an SMS session
 * (accepting an offer, ending it, an agent's message) is the chat machine's (`chat.machine.ts`);
 * `sms-sessions.service.ts` applies the result in one transaction.
 */
import { TERMINAL_STATUSES, type ChatStatus } from './chat.machine.ts'

export type SmsEvent =
  /** S1: the API starts a session, assigned to an agent when one is named. */
  | { type: 'start'; agent: boolean }
  /** The end user texted the session's number; `queue` says whether the tenant has a queue for it. */
  | { type: 'reply'; queue: boolean }

export type SmsEffect =
  | { type: 'webhook'; event: 'participant_joined'; who: 'end_user' | 'agent' }
  /** The named agent takes the session: connected participant, In-chat, `chat_assigned` on their stream. */
  | { type: 'assign_agent' }
  /** Put the session in its queue (`queued_at`, the menu) and offer it to an agent. */
  | { type: 'queue' }
  /** The handling agent's workspace hears the message. */
  | { type: 'notify_agent' }

export type SmsTransition = { ok: true; status: ChatStatus; effects: SmsEffect[] } | { ok: false; refusal: 'ended' }

const ok = (status: ChatStatus, ...effects: SmsEffect[]): SmsTransition => ({ ok: true, status, effects })

/** The SMS session's next status for `event` from `status` (null: not started), with its effects. */
export function smsTransition(status: ChatStatus | null, event: SmsEvent): SmsTransition {
  if (event.type === 'start') {
    if (status !== null) return { ok: false, refusal: 'ended' }
    return event.agent
      ? ok('assigned', { type: 'webhook', event: 'participant_joined', who: 'end_user' }, { type: 'assign_agent' }, { type: 'webhook', event: 'participant_joined', who: 'agent' })
      : ok('selecting', { type: 'webhook', event: 'participant_joined', who: 'end_user' })
  }
  if (status === null || TERMINAL_STATUSES.has(status)) return { ok: false, refusal: 'ended' }
  if (status === 'selecting') return event.queue ? ok('queued', { type: 'queue' }) : ok('selecting')
  if (status === 'assigned') return ok('assigned', { type: 'notify_agent' })
  return ok(status)
}
