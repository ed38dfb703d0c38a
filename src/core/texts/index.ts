// Texts and numbers (#92–#113): SMS accounts, numbers, logs, lookups, user pins and texts.
export { TextsService, TEXT_STATUS_JOB, MAX_TEXT, MAX_EXPECTED_RESPONSES, MAX_EXPECTED_RESPONSE, MAX_CALLBACK_JSON, normalizeResponse, textStatus } from './texts.service.ts'
export type {
  NumbersPort, NumbersLookup, VendorNumberInfo, CarrierLookup, TextAccount, TextAccountNumber, TextNumberLog, TextReceiveLog, TextNumberInfo,
  TextUserNumberMap, Text, TextStatus, CreateText,
} from './texts.types.ts'
