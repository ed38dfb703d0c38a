import { describe, expect, it } from 'vitest'
import { smsTransition } from './sms-sessions.machine.ts'

// The SMS part of §4.2, transition by transition: S1 starts `selecting` (or `assigned` with an
// agent); the consumer's reply queues a selecting session (when there is a queue), reaches the
// assigned agent, and never revives an ended one.
describe('SMS session machine', () => {
  it('starts selecting without an agent, with the end user joined', () => {
    expect(smsTransition(null, { type: 'start', agent: false })).toEqual({ ok: true, status: 'selecting', effects: [{ type: 'webhook', event: 'participant_joined', who: 'end_user' }] })
  })

  it('starts assigned with an agent, who joins after the end user', () => {
    const t = smsTransition(null, { type: 'start', agent: true })
    expect(t).toEqual({
      ok: true, status: 'assigned',
      effects: [{ type: 'webhook', event: 'participant_joined', who: 'end_user' }, { type: 'assign_agent' }, { type: 'webhook', event: 'participant_joined', who: 'agent' }],
    })
  })

  it('refuses to start a session twice', () => {
    expect(smsTransition('selecting', { type: 'start', agent: false })).toEqual({ ok: false, refusal: 'ended' })
  })

  it('queues a selecting session on the reply when there is a queue, and keeps it selecting when there is none', () => {
    expect(smsTransition('selecting', { type: 'reply', queue: true })).toEqual({ ok: true, status: 'queued', effects: [{ type: 'queue' }] })
    expect(smsTransition('selecting', { type: 'reply', queue: false })).toEqual({ ok: true, status: 'selecting', effects: [] })
  })

  it('hands a reply to the assigned agent, and leaves a queued session waiting', () => {
    expect(smsTransition('assigned', { type: 'reply', queue: true })).toEqual({ ok: true, status: 'assigned', effects: [{ type: 'notify_agent' }] })
    expect(smsTransition('queued', { type: 'reply', queue: true })).toEqual({ ok: true, status: 'queued', effects: [] })
  })

  it('refuses a reply to an ended session', () => {
    for (const status of ['finished', 'failed', 'timeout', 'deflected'] as const) expect(smsTransition(status, { type: 'reply', queue: true })).toEqual({ ok: false, refusal: 'ended' })
  })
})
