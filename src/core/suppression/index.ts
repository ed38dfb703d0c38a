export { SuppressionService, normalizeAddress } from './suppression.service.ts'
export { DncService, dncPhoneOf, isEmergencyNumber } from './dnc.service.ts'
export type { DncEntryInput } from './dnc.service.ts'
export { keywordHandler, keywordOf, STOP_KEYWORDS, START_KEYWORDS, HELP_KEYWORDS, defaultHelpText } from './keywords.ts'
export type { KeywordHandlerDeps, Keyword } from './keywords.ts'
export { SUPPRESSION_REASONS, SUPPRESSION_SCOPES } from './suppression.types.ts'
export type {
  Suppression, SuppressionReason, SuppressionScope, AddSuppressionInput, RemoveSuppressionInput, ListSuppressionsOptions,
} from './suppression.types.ts'
