// User consents (#115–#117): the SMS opt-in conversation and the tenant's consent requirement.
export { UserConsentsService, MAX_CONSENT_MESSAGE, type UserConsent, type CreateUserConsent, type ConsentQuery, type ConsentMessages } from './consents.service.ts'
export { CONSENT_STATES, CONSENT_WORDS, classifyReply, consentStep, normalizeReply, type ConsentState, type ConsentReply, type ConsentEffect, type ConsentStep } from './consent-machine.ts'
