/**
 * The call state machine of `spec/ccai.md` §4.1, pure: the next status of a call for an event and
 * the effects the calls service performs in the same transaction (routing, dialling the legs,
 * hanging them up, releasing the agent). No I/O here; `calls.service.ts` applies the result, as
 * `chats.service.ts` does with `chat.machine.ts`.
 */
import { CALL_CLOSED_STATUSES } from '../contact-center/session-status.ts'

export const CALL_STATUSES = [
  'selecting', 'queued', 'assigned', 'connecting', 'connected', 'finished', 'failed', 'switching', 'recovered',
  'scheduled', 'action_only', 'action_only_finished', 'deflected', 'voicemail', 'voicemail_received', 'voicemail_read',
] as const
export type CallStatus = (typeof CALL_STATUSES)[number]

/** Statuses no event of the call's own leaves (`failed` only to `recovered`, by its callback child). */
export const ENDED_STATUSES: ReadonlySet<CallStatus> = new Set(['finished', 'failed', 'recovered', 'action_only_finished', 'voicemail', 'voicemail_received', 'voicemail_read', 'deflected'])

/** §4.1: C5 (and the flag/custom-data writes) answer "Call is already ended" in these (the contact center's shared handlers read the same set). */
export const CLOSED_FOR_UPDATES: ReadonlySet<string> = CALL_CLOSED_STATUSES

/** States before both parties are connected: a failure here ends the call as `failed`. */
const PRE_CONNECT: ReadonlySet<CallStatus> = new Set(['selecting', 'queued', 'assigned', 'connecting', 'switching'])

/** The display text of each status (§3.1.1), kept in `status_text`. */
export const CALL_STATUS_TEXT: Readonly<Record<CallStatus, string>> = {
  selecting: 'Selecting', queued: 'Queued', assigned: 'Assigned', connecting: 'Connecting', connected: 'Connected', finished: 'Finished',
  failed: 'Failed', switching: 'Switching', recovered: 'Recovered', scheduled: 'Scheduled', action_only: 'Action Only',
  action_only_finished: 'Action Only Finished', deflected: 'Deflected', voicemail: 'Voicemail', voicemail_received: 'Voicemail Received', voicemail_read: 'Voicemail Read',
}

/** Why a call failed (`fail_reason`, §3.1). */
export type FailReason = 'no_answer' | 'busy' | 'invalid_number' | 'no_agent_available' | 'abandoned' | 'voip_error' | 'dnc' | 'canceled'
export type HungUpBy = 'end_user' | 'agent' | 'system'

export type CallEvent =
  /** C1/C2: created with its agent. */
  | { type: 'create_outbound' }
  /** C1/C2 answered 202: created with its agent, dialled once the agent confirms. */
  | { type: 'create_outbound_pending' }
  /** The agent confirms a call waiting for it (202): the platform dials. */
  | { type: 'confirm' }
  /** C3: created queued on its menu. */
  | { type: 'create_incoming' }
  /** C4 (or "schedule a call" after a deflection): created for later. */
  | { type: 'create_scheduled' }
  /** The campaign dialer: the contact is dialled first, with no agent yet. */
  | { type: 'create_dialer' }
  /** The dialer's contact answered: the call waits on the campaign's queue for an agent. */
  | { type: 'dialer_answered' }
  /** An IVR/in-app call starts in the menu; `select` puts it on a leaf queue. */
  | { type: 'call_in' }
  | { type: 'select' }
  /** The scheduler at `scheduled_at`. */
  | { type: 'fire' }
  /** Routing: the agent accepted the offer. */
  | { type: 'accepted' }
  /** The platform placed the legs (dialling). */
  | { type: 'dialing' }
  /** Telephony: every leg answered. */
  | { type: 'answered' }
  /** Telephony: the provider failed mid-connect; `fallback` when another provider is configured and not yet tried. */
  | { type: 'provider_failed'; fallback: boolean }
  /** Telephony: a party's leg ended before the call connected (busy, no answer, invalid number, failed). */
  | { type: 'leg_failed'; reason: FailReason }
  /** A party hung up (or the system ended the call). */
  | { type: 'hang_up'; by: HungUpBy }
  /** Cancelled before it was dialled (a scheduled call; DNC at dial time). */
  | { type: 'cancel'; reason: FailReason }
  /** Config: the queue is after hours or over capacity with a voicemail/schedule deflection. */
  | { type: 'deflect' }
  /** The deflected end user leaves a voicemail; the provider finished recording it; an agent opened it. */
  | { type: 'voicemail_started' }
  | { type: 'voicemail_recorded' }
  | { type: 'voicemail_opened' }
  /** The deflected end user chose "schedule a call": a scheduled child call is made; this one stays `deflected`. */
  | { type: 'callback_chosen' }
  /** A recovery callback (child call) of this failed call finished without error. */
  | { type: 'recovered' }
  /** Agent actions on a connected call: hold/resume, a transfer (the call stays connected, to the new agent). */
  | { type: 'hold' }
  | { type: 'resume' }
  | { type: 'transferred' }
  /** SDK calls on the customer's own telephony. */
  | { type: 'action_only' }
  | { type: 'action_only_end' }

export type CallEffect =
  /** Offer the call to an agent of its queue. */
  | { type: 'route' }
  /** Withdraw a pending offer. */
  | { type: 'withdraw_offer' }
  /** The agent is In-call now. */
  | { type: 'agent_in_call' }
  /** Place the agent's and the end user's legs (again on the fallback provider after `switching`). */
  | { type: 'dial'; fallback?: boolean }
  /** Hang up every leg still up. */
  | { type: 'hang_up_legs' }
  /** The agent's call is over: wrap-up, then back to their chosen status. */
  | { type: 'release_agent' }
  /** Hold or resume the end user's leg. */
  | { type: 'hold_legs'; onHold: boolean }
  /** Mark the failed parent of this recovery call `recovered`. */
  | { type: 'recover_parent' }

/** Why an event was refused. */
export type CallRefusal = 'ended' | 'not_connected' | 'not_queued' | 'not_scheduled' | 'not_deflected' | 'not_failed' | 'exists'

export type CallTransition = { ok: true; status: CallStatus; effects: CallEffect[]; failReason?: FailReason; disconnectedBy?: HungUpBy } | { ok: false; refusal: CallRefusal }

const ok = (status: CallStatus, effects: CallEffect[] = [], extra: { failReason?: FailReason; disconnectedBy?: HungUpBy } = {}): CallTransition => ({ ok: true, status, effects, ...extra })
const no = (refusal: CallRefusal): CallTransition => ({ ok: false, refusal })

/** The call's next status for `event` from `status` (null: not created yet), with its effects; or why it is refused. */
export function callTransition(status: CallStatus | null, event: CallEvent): CallTransition {
  if (status === null) {
    switch (event.type) {
      case 'create_outbound': return ok('assigned', [{ type: 'agent_in_call' }, { type: 'dial' }])
      case 'create_outbound_pending': return ok('assigned', [{ type: 'agent_in_call' }])
      case 'create_incoming': return ok('queued', [{ type: 'route' }])
      case 'create_scheduled': return ok('scheduled')
      case 'create_dialer': return ok('connecting', [{ type: 'dial' }])
      case 'call_in': return ok('selecting')
      case 'action_only': return ok('action_only')
      default: return no('ended')
    }
  }
  if (event.type.startsWith('create_') || event.type === 'call_in') return no('exists')
  switch (event.type) {
    case 'select': return status === 'selecting' ? ok('queued', [{ type: 'route' }]) : no('not_queued')
    case 'fire': return status === 'scheduled' ? ok('queued', [{ type: 'route' }]) : no('not_scheduled')
    case 'cancel':
      if (status === 'scheduled') return ok('failed', [], { failReason: event.reason, disconnectedBy: 'system' })
      return no('not_scheduled')
    case 'accepted': return status === 'queued' ? ok('assigned', [{ type: 'agent_in_call' }, { type: 'dial' }]) : no('not_queued')
    case 'dialer_answered': return status === 'connecting' ? ok('queued', [{ type: 'route' }]) : no('not_connected')
    case 'confirm': return status === 'assigned' ? ok('assigned', [{ type: 'dial' }]) : no(ENDED_STATUSES.has(status) ? 'ended' : 'not_connected')
    case 'dialing': return status === 'assigned' ? ok('connecting') : no('not_connected')
    case 'answered':
      if (status === 'connecting' || status === 'switching') return ok('connected')
      return no('not_connected')
    case 'provider_failed':
      if (status !== 'assigned' && status !== 'connecting' && status !== 'switching') return no('not_connected')
      if (event.fallback && status !== 'switching') return ok('switching', [{ type: 'hang_up_legs' }, { type: 'dial', fallback: true }])
      return ok('failed', [{ type: 'hang_up_legs' }, { type: 'release_agent' }], { failReason: 'voip_error', disconnectedBy: 'system' })
    case 'leg_failed':
      if (!PRE_CONNECT.has(status)) return no(status === 'connected' ? 'not_connected' : 'ended')
      return ok('failed', failEffects(status), { failReason: event.reason, disconnectedBy: 'system' })
    case 'hang_up':
      if (status === 'connected') return ok('finished', [{ type: 'hang_up_legs' }, { type: 'release_agent' }, { type: 'recover_parent' }], { disconnectedBy: event.by })
      if (PRE_CONNECT.has(status) || status === 'scheduled') {
        return ok('failed', status === 'scheduled' ? [] : failEffects(status), { failReason: event.by === 'end_user' ? 'abandoned' : 'canceled', disconnectedBy: event.by })
      }
      if (status === 'action_only') return ok('action_only_finished', [], { disconnectedBy: event.by })
      return no('ended')
    case 'deflect': return status === 'selecting' || status === 'queued' ? ok('deflected', status === 'queued' ? [{ type: 'withdraw_offer' }] : []) : no('not_queued')
    case 'callback_chosen': return status === 'deflected' ? ok('deflected') : no('not_deflected')
    case 'voicemail_started': return status === 'deflected' ? ok('voicemail') : no('not_deflected')
    case 'voicemail_recorded': return status === 'voicemail' ? ok('voicemail_received') : no('not_deflected')
    case 'voicemail_opened': return status === 'voicemail_received' ? ok('voicemail_read') : no('not_deflected')
    case 'recovered': return status === 'failed' ? ok('recovered') : no('not_failed')
    case 'hold': case 'resume': case 'transferred':
      if (status !== 'connected') return no(ENDED_STATUSES.has(status) ? 'ended' : 'not_connected')
      return ok('connected', event.type === 'transferred' ? [] : [{ type: 'hold_legs', onHold: event.type === 'hold' }])
    case 'action_only_end': return status === 'action_only' ? ok('action_only_finished') : no('ended')
    default: return no('ended')
  }
}

/** What a pre-connect failure undoes: the pending offer, the legs placed, the agent taken. */
function failEffects(status: CallStatus): CallEffect[] {
  if (status === 'selecting') return []
  if (status === 'queued') return [{ type: 'withdraw_offer' }]
  return [{ type: 'hang_up_legs' }, { type: 'release_agent' }]
}
