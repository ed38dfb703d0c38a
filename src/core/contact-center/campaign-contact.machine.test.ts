import { describe, expect, it } from 'vitest'
import { CONTACT_STATUSES, DIAL_OUTCOMES, DIALABLE, initialStatus, isEditable, transition, type ContactEvent, type ContactStatus } from './campaign-contact.machine.ts'

// §4.3 transition by transition; every event refused in every status it does not name.
const cases: Array<[ContactStatus, ContactEvent, ContactStatus]> = [
  ['Upcoming', { type: 'dial' }, 'Dialing'],
  ['Skipped', { type: 'dial' }, 'Dialing'],
  ['Dialing', { type: 'answered' }, 'Queued'],
  ['Queued', { type: 'agent_connected' }, 'Connected'],
  ['Dialing', { type: 'agent_connected' }, 'Connected'],
  ['Connected', { type: 'finished' }, 'Finished'],
  ['Connected', { type: 'transferred' }, 'Transferred'],
  ['Transferred', { type: 'finished' }, 'Transferred and Finished'],
  ['Queued', { type: 'contact_hung_up' }, 'Abandoned by Contact'],
  ['Connected', { type: 'contact_hung_up' }, 'Abandoned by Contact'],
  // Preview: answered, then gone before the agent's leg was up.
  ['Dialing', { type: 'contact_hung_up' }, 'Abandoned by Contact'],
  ['Upcoming', { type: 'skipped', close: false }, 'Skipped'],
  ['Upcoming', { type: 'skipped', close: true }, 'Skipped & Closed'],
  // Skipped is back in the pool: another agent may skip it too.
  ['Skipped', { type: 'skipped', close: false }, 'Skipped'],
  ['Skipped', { type: 'skipped', close: true }, 'Skipped & Closed'],
  ...(['Not Picked Up', 'Not Reached to Contact', 'Carrier Error', 'Abandoned by Dialer', 'Voicemail Hung Up', 'Dialer General Error', 'Abandoned by Contact'] as const)
    .map((from): [ContactStatus, ContactEvent, ContactStatus] => [from, { type: 'redial_scheduled' }, 'Redial Scheduled']),
  ['Redial Scheduled', { type: 'redial_due' }, 'Upcoming'],
  ...DIAL_OUTCOMES.map((outcome): [ContactStatus, ContactEvent, ContactStatus] => ['Dialing', { type: 'dial_failed', outcome }, outcome]),
]

describe('campaign contact machine', () => {
  it.each(cases)('%s + %j → %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to)
  })

  it('refuses every event in a status it does not name', () => {
    const events: ContactEvent[] = [...new Map(cases.map(([, e]) => [JSON.stringify(e), e])).values()]
    for (const status of CONTACT_STATUSES) {
      for (const event of events) {
        const allowed = cases.some(([from, e]) => from === status && JSON.stringify(e) === JSON.stringify(event))
        if (!allowed) expect(transition(status, event), `${status} + ${JSON.stringify(event)}`).toBeUndefined()
      }
    }
    // Terminal statuses take nothing.
    for (const status of ['Finished', 'Transferred and Finished', 'Skipped & Closed', 'Do Not Call', 'Invalid Number'] as const) {
      for (const event of events) expect(transition(status, event)).toBeUndefined()
    }
  })

  it('a new contact is Upcoming, or Do Not Call when listed; K6/K7 refuse only what the dialer holds', () => {
    expect(initialStatus(false)).toBe('Upcoming')
    expect(initialStatus(true)).toBe('Do Not Call')
    expect(CONTACT_STATUSES.filter((s) => !isEditable(s))).toEqual(['Dialing', 'Queued', 'Connected'])
    // The dialer dials (or offers) new and skipped contacts only; Skipped & Closed never again.
    expect(DIALABLE).toEqual(['Upcoming', 'Skipped'])
    expect(CONTACT_STATUSES.filter((s) => transition(s, { type: 'dial' }) !== undefined)).toEqual(DIALABLE)
  })
})
