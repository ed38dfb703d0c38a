import { describe, expect, it } from 'vitest'
import { classifyReply, consentStep, normalizeReply } from './consent-machine.ts'

describe('classifyReply', () => {
  it('reads yes and no and their usual variants, in the recipient\'s language and the others', () => {
    for (const yes of ['yes', 'Y', ' Yeah! ', 'ok', 'OKAY.', 'Sí', 'si', 'oui', 'Ja', 'sim', 'Yes 👍']) expect(classifyReply(yes, 'en'), yes).toBe('yes')
    for (const no of ['no', 'N', 'nope', 'Non', 'nein', 'não', 'No gracias']) expect(classifyReply(no, 'es-US'), no).toBe('no')
    expect(classifyReply('oui', 'fr')).toBe('yes')
    expect(classifyReply('si', 'it')).toBe('yes')
  })
  it('knows the carrier STOP keywords and leaves everything else an invalid response', () => {
    for (const stop of ['STOP', 'stop', 'Unsubscribe', 'quit']) expect(classifyReply(stop, null)).toBe('stop')
    for (const other of ['maybe', 'yes please call me', '', '42', 'yess']) expect(classifyReply(other, 'en'), other).toBe('other')
  })
  it('normalizes case, accents, punctuation and spacing', () => {
    expect(normalizeReply('  D’ACCORD !! ')).toBe("d'accord")
    expect(normalizeReply('No   Thanks.')).toBe('no thanks')
  })
})

describe('consentStep', () => {
  it('moves a pending consent on each kind of reply', () => {
    expect(consentStep('pending', 'yes')).toEqual({ state: 'accepted', effects: [{ kind: 'send', message: 'accept' }], consumed: true })
    expect(consentStep('pending', 'no')).toEqual({ state: 'declined', effects: [{ kind: 'suppress' }], consumed: true })
    expect(consentStep('pending', 'stop')).toEqual({ state: 'declined', effects: [], consumed: false })
    expect(consentStep('pending', 'other')).toEqual({ state: 'pending', effects: [{ kind: 'send', message: 'invalid-response' }], consumed: true })
  })
  it('leaves an answered consent alone', () => {
    for (const s of ['accepted', 'declined'] as const) {
      for (const r of ['yes', 'no', 'stop', 'other'] as const) expect(consentStep(s, r)).toEqual({ state: s, effects: [], consumed: false })
    }
  })
})
