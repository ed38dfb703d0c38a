import { describe, expect, it } from 'vitest'
import { transition, type ChatEvent, type ChatStatus } from './chat.machine.ts'

// §4.2 transition by transition: the next status and the effects, or the refusal.
const next = (from: ChatStatus | null, event: ChatEvent) => {
  const t = transition(from, event)
  return t.ok ? [t.status, t.effects.map((e) => (e.type === 'webhook' ? `${e.event}${e.who ? `:${e.who}` : ''}` : e.type))] : t.refusal
}

describe('chat machine (§4.2)', () => {
  it('starts queued (routed) or with the virtual agent', () => {
    expect(next(null, { type: 'start', virtualAgent: false })).toEqual(['queued', ['participant_joined:end_user', 'route']])
    expect(next(null, { type: 'start', virtualAgent: true })).toEqual(['va_assigned', ['participant_joined:end_user', 'participant_joined:virtual_agent']])
  })
  it('queued → assigned when an agent accepts; only a queued chat can be accepted', () => {
    expect(next('queued', { type: 'accepted' })).toEqual(['assigned', ['participant_joined:agent']])
    expect(next('assigned', { type: 'accepted' })).toBe('not_queued')
  })
  it('va_assigned → queued on escalation; refused without a virtual agent', () => {
    expect(next('va_assigned', { type: 'escalate' })).toEqual(['queued', ['participant_left:virtual_agent', 'route']])
    expect(next('queued', { type: 'escalate' })).toBe('no_virtual_agent')
    expect(next('va_dismissed', { type: 'escalate' })).toBe('dismissed')
  })
  it('ends from every live status, releasing an agent or withdrawing an offer', () => {
    expect(next('assigned', { type: 'end', by: 'agent' })).toEqual(['finished', ['withdraw_offer', 'participant_left:agent', 'release_agent', 'chat_ended']])
    expect(next('queued', { type: 'end', by: 'end_user' })).toEqual(['finished', ['withdraw_offer', 'chat_ended']])
    expect(next('va_assigned', { type: 'end', by: 'system' })).toEqual(['finished', ['chat_ended']])
    expect(next('selecting', { type: 'end', by: 'end_user' })).toEqual(['finished', ['chat_ended']])
  })
  it('refuses everything on a terminal chat', () => {
    for (const s of ['finished', 'failed', 'timeout', 'deflected'] as const) {
      for (const e of [{ type: 'end', by: 'agent' }, { type: 'end_user_message' }, { type: 'resume' }, { type: 'accepted' }] as ChatEvent[]) expect(next(s, e)).toBe('ended')
    }
  })
  it('dismisses inactive chats and resumes them', () => {
    expect(next('assigned', { type: 'inactive' })).toEqual(['dismissed', ['withdraw_offer', 'participant_left:agent', 'release_agent', 'chat_dismissed']])
    expect(next('va_assigned', { type: 'inactive' })).toEqual(['va_dismissed', ['chat_dismissed']])
    expect(next('dismissed', { type: 'resume' })).toEqual(['queued', ['route']])
    expect(next('va_dismissed', { type: 'resume' })).toEqual(['va_assigned', []])
    expect(next('assigned', { type: 'resume' })).toBe('not_dismissed')
    expect(next('dismissed', { type: 'end_user_message' })).toBe('dismissed')
    expect(next('assigned', { type: 'end_user_message' })).toEqual(['assigned', []])
  })
  it('requeues an assigned chat (transfer to a queue)', () => {
    expect(next('assigned', { type: 'requeue' })).toEqual(['queued', ['withdraw_offer', 'participant_left:agent', 'release_agent', 'route']])
    expect(next('queued', { type: 'requeue' })).toBe('not_queued')
  })
  it('offers deflection on an escalation to a closed or full queue; the end user picks an option', () => {
    expect(next('va_assigned', { type: 'offer_deflection' })).toEqual(['va_assigned', []])
    expect(next('queued', { type: 'offer_deflection' })).toBe('no_virtual_agent')
    expect(next('va_dismissed', { type: 'offer_deflection' })).toBe('dismissed')
    expect(next('finished', { type: 'offer_deflection' })).toBe('ended')
    expect(next('va_assigned', { type: 'deflection_chosen', option: 'stay' })).toEqual(['queued', ['participant_left:virtual_agent', 'route']])
    expect(next('va_assigned', { type: 'deflection_chosen', option: 'sms' })).toEqual(['deflected', ['participant_left:virtual_agent', 'chat_ended']])
    expect(next('va_assigned', { type: 'deflection_chosen', option: 'end' })).toEqual(['finished', ['chat_ended']])
    expect(next('deflected', { type: 'deflection_chosen', option: 'sms' })).toBe('ended')
  })
  it('queued → deflected by the queue’s configuration', () => {
    expect(next('queued', { type: 'deflection_chosen', option: 'voicemail' })).toEqual(['deflected', ['withdraw_offer', 'chat_ended']])
    expect(next('queued', { type: 'deflection_chosen', option: 'stay' })).toEqual(['queued', []])
  })
  it('assigned → assigned on an accepted agent transfer: the old agent leaves, the new one joins', () => {
    expect(next('assigned', { type: 'transferred' })).toEqual(['assigned', ['participant_left:agent', 'release_agent', 'participant_joined:agent']])
    expect(next('queued', { type: 'transferred' })).toBe('not_assigned')
    expect(next('finished', { type: 'transferred' })).toBe('ended')
  })
  it('expires queued and assigned chats (timeout)', () => {
    expect(next('assigned', { type: 'expire' })).toEqual(['timeout', ['withdraw_offer', 'participant_left:agent', 'release_agent', 'chat_ended']])
    expect(next('queued', { type: 'expire' })).toEqual(['timeout', ['withdraw_offer', 'chat_ended']])
    expect(next('va_assigned', { type: 'expire' })).toBe('not_queued')
  })
})
