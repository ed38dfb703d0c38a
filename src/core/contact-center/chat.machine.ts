/**
 * The chat state machine of `spec/ccai.md` §4.2, pure: the next status of a chat for an event, and
 * the effects the service performs in the same transaction (webhooks, routing, releasing the
 * agent). No I/O here; `chats.service.ts` applies the result. Calls will get a machine of their own
 * over the same queues, agents and offers.
 */

export type ChatStatus = 'selecting' | 'queued' | 'va_assigned' | 'assigned' | 'dismissed' | 'va_dismissed' | 'finished' | 'deflected' | 'failed' | 'timeout'

/** Statuses no event leaves. */
export const TERMINAL_STATUSES: ReadonlySet<ChatStatus> = new Set(['finished', 'deflected', 'failed', 'timeout'])

/** The Apps API's display text of each status (`status_text`). */
export const STATUS_TEXT: Readonly<Record<ChatStatus, string>> = {
  selecting: 'Selecting', queued: 'Queued', va_assigned: 'Virtual Agent Assigned', assigned: 'Assigned', dismissed: 'Dismissed',
  va_dismissed: 'Virtual Agent Dismissed', finished: 'Finished', deflected: 'Deflected', failed: 'Failed', timeout: 'Timeout',
}

export type ChatEvent =
  /** H12: a chat starts on a leaf queue, with its virtual agent first when the queue has one. */
  | { type: 'start'; virtualAgent: boolean }
  /** Routing: the agent accepted the offer. */
  | { type: 'accepted' }
  /** H4 or the virtual agent's hand-off: to the queue for a human. */
  | { type: 'escalate' }
  /** The agent handed the chat back to a queue (transfer to a queue). */
  | { type: 'requeue' }
  /** H1 by the end user, the agent in the workspace, or the system. */
  | { type: 'end'; by: 'end_user' | 'agent' | 'system' }
  /** Scheduler: no message for the dismissal timeout. */
  | { type: 'inactive' }
  /** H2. */
  | { type: 'resume' }
  /** An end-user message (H3). */
  | { type: 'end_user_message' }
  /** H4 / hand-off while the target queue is closed or full: deflection options offered, the virtual agent keeps the chat. */
  | { type: 'offer_deflection' }
  /**
   * The end user picked a deflection option (H5, or H1 with `escalation_id`), or the queue's
   * configuration deflected a new chat: `stay` waits for a human, `end` ends, any other channel deflects.
   */
  | { type: 'deflection_chosen'; option: string }
  /** An agent transfer was accepted by the new agent: the chat stays assigned, to them. */
  | { type: 'transferred' }
  /** Scheduler: the chat expired (Chat Expiration/Timeout). */
  | { type: 'expire' }

export type ChatEffect =
  | { type: 'webhook'; event: 'participant_joined' | 'participant_left' | 'chat_ended' | 'chat_dismissed'; who?: 'end_user' | 'agent' | 'virtual_agent' }
  /** Offer the chat to an agent (it waits in its queue). */
  | { type: 'route' }
  /** The handling agent's capacity is free again (wrap-up, back to their status, a pending logout). */
  | { type: 'release_agent' }
  /** Withdraw a pending offer (the chat ended while offered). */
  | { type: 'withdraw_offer' }

/** Why an event was refused, as the service maps it to the catalog. */
export type ChatRefusal = 'ended' | 'not_dismissed' | 'dismissed' | 'no_virtual_agent' | 'not_queued' | 'not_assigned'

export type Transition = { ok: true; status: ChatStatus; effects: ChatEffect[] } | { ok: false; refusal: ChatRefusal }

const ok = (status: ChatStatus, ...effects: ChatEffect[]): Transition => ({ ok: true, status, effects })
const no = (refusal: ChatRefusal): Transition => ({ ok: false, refusal })

/** The chat's next status for `event` from `status`, with its effects; or why it is refused. */
export function transition(status: ChatStatus | null, event: ChatEvent): Transition {
  if (event.type === 'start') {
    if (status !== null) return no('ended')
    return event.virtualAgent
      ? ok('va_assigned', { type: 'webhook', event: 'participant_joined', who: 'end_user' }, { type: 'webhook', event: 'participant_joined', who: 'virtual_agent' })
      : ok('queued', { type: 'webhook', event: 'participant_joined', who: 'end_user' }, { type: 'route' })
  }
  if (status === null || TERMINAL_STATUSES.has(status)) return no('ended')
  switch (event.type) {
    case 'accepted':
      return status === 'queued' ? ok('assigned', { type: 'webhook', event: 'participant_joined', who: 'agent' }) : no('not_queued')
    case 'escalate':
      return status === 'va_assigned'
        ? ok('queued', { type: 'webhook', event: 'participant_left', who: 'virtual_agent' }, { type: 'route' })
        : no(status === 'va_dismissed' || status === 'dismissed' ? 'dismissed' : 'no_virtual_agent')
    case 'requeue':
      return status === 'assigned' ? ok('queued', { type: 'withdraw_offer' }, { type: 'webhook', event: 'participant_left', who: 'agent' }, { type: 'release_agent' }, { type: 'route' }) : no('not_queued')
    case 'end': {
      const effects: ChatEffect[] = []
      // A pending offer goes: the queue's (queued) or an agent transfer's (assigned).
      if (status === 'queued' || status === 'assigned') effects.push({ type: 'withdraw_offer' })
      if (status === 'assigned') effects.push({ type: 'webhook', event: 'participant_left', who: 'agent' }, { type: 'release_agent' })
      effects.push({ type: 'webhook', event: 'chat_ended' })
      return ok('finished', ...effects)
    }
    case 'inactive':
      if (status === 'assigned') return ok('dismissed', { type: 'withdraw_offer' }, { type: 'webhook', event: 'participant_left', who: 'agent' }, { type: 'release_agent' }, { type: 'webhook', event: 'chat_dismissed' })
      if (status === 'va_assigned') return ok('va_dismissed', { type: 'webhook', event: 'chat_dismissed' })
      return no('not_queued')
    case 'resume':
      if (status === 'dismissed') return ok('queued', { type: 'route' })
      if (status === 'va_dismissed') return ok('va_assigned')
      return no('not_dismissed')
    case 'end_user_message':
      return status === 'dismissed' || status === 'va_dismissed' ? no('dismissed') : ok(status)
    case 'offer_deflection':
      return status === 'va_assigned' ? ok('va_assigned') : no(status === 'va_dismissed' || status === 'dismissed' ? 'dismissed' : 'no_virtual_agent')
    case 'deflection_chosen':
      if (status === 'va_assigned') {
        if (event.option === 'stay') return transition(status, { type: 'escalate' })
        if (event.option === 'end') return transition(status, { type: 'end', by: 'end_user' })
        return ok('deflected', { type: 'webhook', event: 'participant_left', who: 'virtual_agent' }, { type: 'webhook', event: 'chat_ended' })
      }
      if (status === 'queued') {
        if (event.option === 'stay') return ok('queued')
        if (event.option === 'end') return transition(status, { type: 'end', by: 'end_user' })
        return ok('deflected', { type: 'withdraw_offer' }, { type: 'webhook', event: 'chat_ended' })
      }
      return no(status === 'va_dismissed' || status === 'dismissed' ? 'dismissed' : 'no_virtual_agent')
    case 'transferred':
      return status === 'assigned'
        ? ok('assigned', { type: 'webhook', event: 'participant_left', who: 'agent' }, { type: 'release_agent' }, { type: 'webhook', event: 'participant_joined', who: 'agent' })
        : no('not_assigned')
    case 'expire':
      if (status === 'assigned') return ok('timeout', { type: 'withdraw_offer' }, { type: 'webhook', event: 'participant_left', who: 'agent' }, { type: 'release_agent' }, { type: 'webhook', event: 'chat_ended' })
      if (status === 'queued') return ok('timeout', { type: 'withdraw_offer' }, { type: 'webhook', event: 'chat_ended' })
      return no('not_queued')
  }
}
