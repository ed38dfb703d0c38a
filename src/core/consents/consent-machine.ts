/**
 * The SMS opt-in conversation of a user consent (#115–#117) as a pure state machine: the state and
 * the user's reply in, the next state and the effects out. The service performs the effects in one
 * transaction (README "Consent").
 */

/** Where a consent is: waiting for the user's answer, or answered. */
export const CONSENT_STATES = ['pending', 'accepted', 'declined'] as const
export type ConsentState = (typeof CONSENT_STATES)[number]

/** What a reply said: yes, no, the carrier STOP, or anything else. */
export type ConsentReply = 'yes' | 'no' | 'stop' | 'other'

/** What the service does for a step. */
export type ConsentEffect =
  | { readonly kind: 'send'; readonly message: 'accept' | 'invalid-response' }
  /** The number goes on the suppression list for SMS (`consent_withdrawn`). */
  | { readonly kind: 'suppress' }

export interface ConsentStep {
  readonly state: ConsentState
  readonly effects: readonly ConsentEffect[]
  /**
   * Whether the reply is the conversation's and no other inbound handler sees it. A STOP is not:
   * the carrier-keyword handler still records it (`stop_keyword`) and sends the confirmation.
   */
  readonly consumed: boolean
}

/**
 * The usual ways of saying yes and no, per language (ISO 639-1), compared after lower-casing,
 * removing accents and trailing punctuation. A reply is read in the recipient's language first; a
 * word of another listed language is understood too (a Spanish speaker answering "ok").
 */
export const CONSENT_WORDS: Readonly<Record<string, { readonly yes: readonly string[]; readonly no: readonly string[] }>> = {
  en: { yes: ['yes', 'y', 'yeah', 'yep', 'yup', 'ok', 'okay', 'sure', 'agree', 'i agree', 'accept', 'i accept'], no: ['no', 'n', 'nope', 'nah', 'decline', 'no thanks', 'no thank you'] },
  es: { yes: ['si', 'claro', 'vale', 'de acuerdo', 'acepto', 'bueno'], no: ['no', 'no gracias', 'rechazo'] },
  fr: { yes: ['oui', 'ouais', "d'accord", 'daccord', 'accepte', "j'accepte"], no: ['non', 'non merci', 'refuse'] },
  de: { yes: ['ja', 'jawohl', 'einverstanden', 'klar'], no: ['nein', 'nee', 'ablehnen'] },
  pt: { yes: ['sim', 'claro', 'aceito'], no: ['nao', 'nao obrigado', 'nao obrigada'] },
  it: { yes: ['si', 'certo', 'accetto', 'va bene'], no: ['no', 'no grazie'] },
}

/** The carrier opt-out keywords (as the suppression keyword handler knows them). */
const STOP_WORDS = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit'])

/** A reply as compared: lower case, no accents, no surrounding space or punctuation, single spaces. */
export function normalizeReply(body: string): string {
  return body.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
    .replace(/[’`]/g, "'").replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '').replace(/\s+/g, ' ')
}

/** What a reply says, read in `language` (a tag such as `es` or `es-US`; null: English) and then the others. */
export function classifyReply(body: string, language: string | null): ConsentReply {
  const text = normalizeReply(body)
  if (STOP_WORDS.has(text)) return 'stop'
  const own = CONSENT_WORDS[(language ?? 'en').toLowerCase().split(/[-_]/)[0] ?? 'en']
  for (const words of [own, ...Object.values(CONSENT_WORDS)]) {
    if (!words) continue
    if (words.yes.includes(text)) return 'yes'
    if (words.no.includes(text)) return 'no'
  }
  return 'other'
}

/** The next state of a consent on a reply. Only a pending consent takes replies. */
export function consentStep(state: ConsentState, reply: ConsentReply): ConsentStep {
  if (state !== 'pending') return { state, effects: [], consumed: false }
  switch (reply) {
    case 'yes':
      return { state: 'accepted', effects: [{ kind: 'send', message: 'accept' }], consumed: true }
    case 'no':
      return { state: 'declined', effects: [{ kind: 'suppress' }], consumed: true }
    case 'stop':
      return { state: 'declined', effects: [], consumed: false }
    case 'other':
      return { state: 'pending', effects: [{ kind: 'send', message: 'invalid-response' }], consumed: true }
  }
}
