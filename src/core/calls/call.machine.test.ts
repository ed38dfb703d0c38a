import { describe, expect, it } from 'vitest'
import { CALL_STATUSES, callTransition, type CallEvent, type CallStatus } from './call.machine.ts'

// Every transition of spec/ccai.md §4.1, one row each, and the refusals around them.
describe('call machine (§4.1)', () => {
  const rows: Array<[CallStatus | null, CallEvent, CallStatus, string[]]> = [
    [null, { type: 'call_in' }, 'selecting', []],
    ['selecting', { type: 'select' }, 'queued', ['route']],
    [null, { type: 'create_incoming' }, 'queued', ['route']],
    [null, { type: 'create_scheduled' }, 'scheduled', []],
    ['scheduled', { type: 'fire' }, 'queued', ['route']],
    ['scheduled', { type: 'cancel', reason: 'dnc' }, 'failed', []],
    ['queued', { type: 'accepted' }, 'assigned', ['agent_in_call', 'dial']],
    ['selecting', { type: 'deflect' }, 'deflected', []],
    ['queued', { type: 'deflect' }, 'deflected', ['withdraw_offer']],
    ['deflected', { type: 'voicemail_started' }, 'voicemail', []],
    ['voicemail', { type: 'voicemail_recorded' }, 'voicemail_received', []],
    ['voicemail_received', { type: 'voicemail_opened' }, 'voicemail_read', []],
    [null, { type: 'create_outbound' }, 'assigned', ['agent_in_call', 'dial']],
    ['assigned', { type: 'dialing' }, 'connecting', []],
    [null, { type: 'create_dialer' }, 'connecting', ['dial']],
    ['connecting', { type: 'dialer_answered' }, 'queued', ['route']],
    ['connecting', { type: 'answered' }, 'connected', []],
    ['connecting', { type: 'provider_failed', fallback: true }, 'switching', ['hang_up_legs', 'dial']],
    ['connecting', { type: 'provider_failed', fallback: false }, 'failed', ['hang_up_legs', 'release_agent']],
    ['switching', { type: 'answered' }, 'connected', []],
    ['switching', { type: 'provider_failed', fallback: true }, 'failed', ['hang_up_legs', 'release_agent']],
    ['connected', { type: 'hang_up', by: 'end_user' }, 'finished', ['hang_up_legs', 'release_agent', 'recover_parent']],
    ['selecting', { type: 'hang_up', by: 'end_user' }, 'failed', []],
    ['queued', { type: 'hang_up', by: 'end_user' }, 'failed', ['withdraw_offer']],
    ['assigned', { type: 'leg_failed', reason: 'busy' }, 'failed', ['hang_up_legs', 'release_agent']],
    ['connecting', { type: 'leg_failed', reason: 'no_answer' }, 'failed', ['hang_up_legs', 'release_agent']],
    ['switching', { type: 'leg_failed', reason: 'voip_error' }, 'failed', ['hang_up_legs', 'release_agent']],
    ['failed', { type: 'recovered' }, 'recovered', []],
    [null, { type: 'action_only' }, 'action_only', []],
    ['action_only', { type: 'action_only_end' }, 'action_only_finished', []],
    ['connected', { type: 'hold' }, 'connected', ['hold_legs']],
    ['connected', { type: 'transferred' }, 'connected', []],
  ]
  it.each(rows)('%s + %o → %s', (from, event, to, effects) => {
    const t = callTransition(from, event)
    expect(t.ok && t.status).toBe(to)
    expect(t.ok && t.effects.map((e) => e.type)).toEqual(effects)
  })

  it('sets fail_reason and disconnected_by on the way to failed/finished', () => {
    expect(callTransition('connecting', { type: 'leg_failed', reason: 'busy' })).toMatchObject({ failReason: 'busy', disconnectedBy: 'system' })
    expect(callTransition('connected', { type: 'hang_up', by: 'agent' })).toMatchObject({ status: 'finished', disconnectedBy: 'agent' })
    expect(callTransition('queued', { type: 'hang_up', by: 'end_user' })).toMatchObject({ failReason: 'abandoned' })
  })

  it('refuses events that do not apply, and everything on ended calls', () => {
    for (const ended of ['finished', 'voicemail_read', 'action_only_finished', 'recovered'] as const) {
      expect(callTransition(ended, { type: 'hang_up', by: 'agent' })).toEqual({ ok: false, refusal: 'ended' })
      expect(callTransition(ended, { type: 'transferred' })).toEqual({ ok: false, refusal: 'ended' })
      expect(callTransition(ended, { type: 'hold' })).toEqual({ ok: false, refusal: 'ended' })
    }
    expect(callTransition('assigned', { type: 'transferred' })).toEqual({ ok: false, refusal: 'not_connected' })
    expect(callTransition('queued', { type: 'hold' })).toEqual({ ok: false, refusal: 'not_connected' })
    expect(callTransition('connected', { type: 'accepted' })).toEqual({ ok: false, refusal: 'not_queued' })
    expect(callTransition('queued', { type: 'fire' })).toEqual({ ok: false, refusal: 'not_scheduled' })
    expect(callTransition('queued', { type: 'create_incoming' })).toEqual({ ok: false, refusal: 'exists' })
    // C1's 202 and the deflected caller's "schedule a call".
    expect(callTransition(null, { type: 'create_outbound_pending' })).toEqual({ ok: true, status: 'assigned', effects: [{ type: 'agent_in_call' }] })
    expect(callTransition('assigned', { type: 'confirm' })).toEqual({ ok: true, status: 'assigned', effects: [{ type: 'dial' }] })
    expect(callTransition('failed', { type: 'confirm' })).toEqual({ ok: false, refusal: 'ended' })
    expect(callTransition('connecting', { type: 'confirm' })).toEqual({ ok: false, refusal: 'not_connected' })
    expect(callTransition('deflected', { type: 'callback_chosen' })).toEqual({ ok: true, status: 'deflected', effects: [] })
    expect(callTransition('voicemail', { type: 'callback_chosen' })).toEqual({ ok: false, refusal: 'not_deflected' })
    // Every status is reachable from a creation.
    const reached = new Set<string>(rows.map((r) => r[2]))
    expect(CALL_STATUSES.filter((s) => !reached.has(s))).toEqual([])
  })
})
