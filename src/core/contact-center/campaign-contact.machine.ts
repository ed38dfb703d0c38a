/**
 * The campaign contact's statuses (spec §3.8, §4.3) as a pure state machine: a function of the
 * status and an event that answers the next status, or undefined when the event does not apply.
 * K1/K3 (`initialStatus`) and K6/K7 (`isEditable`) use it; the dialer drives the rest: progressive
 * and predictive dials (Upcoming → Dialing → Queued → Connected), and preview, where the agent is
 * offered the contact first and dials it (Dialing → Connected), skips it (→ Skipped, back in the
 * pool) or skips and closes it (→ Skipped & Closed, terminal).
 */

/** Display strings, sent verbatim (§3.8). */
export const CONTACT_STATUSES = [
  'Upcoming', 'Dialing', 'Queued', 'Connected', 'Finished', 'Transferred', 'Transferred and Finished', 'Not Picked Up',
  'Not Reached to Contact', 'Abandoned by Contact', 'Skipped', 'Skipped & Closed', 'Invalid Number', 'Carrier Error',
  'Abandoned by Dialer', 'Voicemail Hung Up', 'Dialer General Error', 'Redial Scheduled', 'Do Not Call',
  'Invalid Outbound Number', 'Blocked Phone Number',
] as const
export type ContactStatus = (typeof CONTACT_STATUSES)[number]

/** How a dial can end before anyone talks (§4.3: from Dialing). */
export const DIAL_OUTCOMES = [
  'Not Picked Up', 'Not Reached to Contact', 'Invalid Number', 'Carrier Error', 'Voicemail Hung Up', 'Dialer General Error',
  'Blocked Phone Number', 'Invalid Outbound Number', 'Do Not Call', 'Abandoned by Dialer',
] as const satisfies readonly ContactStatus[]
export type DialOutcome = (typeof DIAL_OUTCOMES)[number]

export type ContactEvent =
  | { type: 'dial' }
  | { type: 'answered' }
  | { type: 'agent_connected' }
  | { type: 'transferred' }
  | { type: 'finished' }
  | { type: 'contact_hung_up' }
  | { type: 'dial_failed'; outcome: DialOutcome }
  | { type: 'skipped'; close: boolean }
  | { type: 'redial_scheduled' }
  | { type: 'redial_due' }

/** Statuses the dialer dials (or offers, in preview) a contact in: new, or skipped by an agent (§4.3: "available to another agent"). */
export const DIALABLE: readonly ContactStatus[] = ['Upcoming', 'Skipped']

/** Statuses the dialer holds a contact in: K6/K7 refuse it (§4.3). */
const HELD: readonly ContactStatus[] = ['Dialing', 'Queued', 'Connected']

/** A new contact's status (K1, K3): `Do Not Call` when the company DNC list holds the number. */
export function initialStatus(onDncList: boolean): ContactStatus {
  return onDncList ? 'Do Not Call' : 'Upcoming'
}

/** Whether K6/K7 may change or remove a contact in this status. */
export function isEditable(status: string): boolean {
  return !(HELD as readonly string[]).includes(status)
}

/** The next status, or undefined when `event` does not apply in `status`. */
export function transition(status: ContactStatus, event: ContactEvent): ContactStatus | undefined {
  switch (event.type) {
    case 'dial': return DIALABLE.includes(status) ? 'Dialing' : undefined
    case 'answered': return status === 'Dialing' ? 'Queued' : undefined
    // Preview mode connects the agent first, so a dial may go straight to Connected.
    case 'agent_connected': return status === 'Queued' || status === 'Dialing' ? 'Connected' : undefined
    case 'transferred': return status === 'Connected' ? 'Transferred' : undefined
    case 'finished': return status === 'Connected' ? 'Finished' : status === 'Transferred' ? 'Transferred and Finished' : undefined
    // Preview: the person answered and hung up before the agent's leg was up (still Dialing).
    case 'contact_hung_up': return status === 'Queued' || status === 'Connected' || status === 'Dialing' ? 'Abandoned by Contact' : undefined
    case 'dial_failed': return status === 'Dialing' ? event.outcome : undefined
    case 'skipped': return DIALABLE.includes(status) ? (event.close ? 'Skipped & Closed' : 'Skipped') : undefined
    case 'redial_scheduled': return (['Not Picked Up', 'Not Reached to Contact', 'Carrier Error', 'Abandoned by Dialer', 'Voicemail Hung Up', 'Dialer General Error', 'Abandoned by Contact'] as readonly ContactStatus[]).includes(status) ? 'Redial Scheduled' : undefined
    case 'redial_due': return status === 'Redial Scheduled' ? 'Upcoming' : undefined
  }
}
