import type { TenantId } from '../../lib/tenant-id.ts'

/** A number a vendor offers or holds (the providers' `VendorNumber`, seen from core). */
export interface VendorNumberInfo {
  readonly phoneNumber: string
  readonly id: string
  readonly capabilities: { readonly sms: boolean; readonly mms: boolean; readonly voice: boolean }
  readonly lata: string
  readonly latitude: string
  readonly longitude: string
  readonly postalCode: string
  readonly rateCenter: string
  readonly region: string
}

/** What a carrier lookup found. */
export interface CarrierLookup {
  readonly type: string
  readonly carrierName: string
  readonly mobileCountryCode: string
  readonly mobileNetworkCode: string
  readonly error: string
}

/**
 * The tenant's vendor of SMS accounts and numbers (the providers' `NumbersProvider`, implemented in
 * src/providers/sms-numbers and wired in services.ts, so core never imports providers). Methods
 * throw the providers' errors (`code`, `retryable`).
 */
export interface NumbersPort {
  readonly id: string
  /** `webhookSecret`: the account's own secret its numbers' webhooks are signed with (Twilio: the sub-account's auth token). */
  createAccount(friendlyName: string): Promise<{ readonly accountId: string; readonly webhookSecret?: string | undefined }>
  searchNumbers(accountId: string, areaCode: string): Promise<VendorNumberInfo[]>
  /** Buy a number, its inbound messages posted to `hooks.smsUrl`. */
  buyNumber(accountId: string, phoneNumber: string, hooks: { readonly smsUrl: string }): Promise<VendorNumberInfo>
  /** Point a held number (`numberId`: the vendor's id) at `hooks.smsUrl`. */
  setWebhooks(accountId: string, numberId: string, hooks: { readonly smsUrl: string }): Promise<void>
  findNumber(accountId: string, phoneNumber: string): Promise<VendorNumberInfo | undefined>
  lookup(phoneNumber: string): Promise<CarrierLookup>
}

/** The numbers vendor of a tenant's SMS settings. */
export type NumbersLookup = (tenantId: TenantId) => Promise<NumbersPort>

/** An organisation's SMS account (#97–#101). */
export interface TextAccount {
  readonly id: string
  readonly organizationId: string
  readonly allowCustomNumber: boolean
  /** The account's own number ('' when none yet). */
  readonly phoneNumber: string
  /** The vendor's account id: Twilio's sub-account sid, the sandbox's SB…. */
  readonly providerAccountId: string
  readonly provider: string
  readonly createdAt: Date
}

/** A number of an account (#92–#96). */
export interface TextAccountNumber {
  readonly id: string
  readonly accountId: string
  readonly phoneNumber: string
  readonly providerNumberId: string
  readonly alert: boolean
  readonly forwardTo: string
  readonly logging: boolean
  readonly notes: string
  readonly events: Readonly<Record<string, Record<string, unknown>>>
  readonly capabilitySms: boolean
  readonly capabilityMms: boolean
  readonly capabilityVoice: boolean
  readonly lata: string
  readonly latitude: string
  readonly longitude: string
  readonly postalCode: string
  readonly rateCenter: string
  readonly region: string
  readonly createdAt: Date
}

/** One line of a number's log (#105). */
export interface TextNumberLog {
  readonly id: string
  readonly log: string
  readonly createdAt: Date
}

/** An inbound SMS to a number (#106); `id` is the provider's message id. */
export interface TextReceiveLog {
  readonly id: string
  readonly sender: string
  readonly to: string
  readonly message: string
  readonly sid: string
  readonly createdAt: Date
}

/** A carrier lookup (#102–#104). */
export interface TextNumberInfo {
  readonly id: string
  readonly number: string
  /** `pending` before the first lookup answered, then `resolved` or `failed`. */
  readonly status: string
  readonly type: string
  readonly carrierName: string
  readonly mobileCountryCode: string
  readonly mobileNetworkCode: string
  readonly error: string
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

/** A user pinned to a number (#107–#109). */
export interface TextUserNumberMap {
  readonly id: string
  readonly organizationId: string
  readonly numberId: string
  readonly userId: string
  readonly createdAt: Date
}

/**
 * A text's status: `accepted` (queued with delivery), `sent` (the vendor took it), `delivered`,
 * `undelivered`, `failed` (the vendor refused it, delivery gave up, or the target is on the
 * suppression list: `error` says `suppressed (<reason>)`).
 */
export type TextStatus = 'accepted' | 'sent' | 'delivered' | 'undelivered' | 'failed'

/** A text sent through a number (#110–#113). */
export interface Text {
  readonly id: string
  readonly accountId: string
  readonly numberId: string
  readonly organizationId: string
  readonly createdBy: string
  readonly target: string
  readonly from: string
  readonly message: string
  readonly callbackStatusUrl: string
  readonly callbackUrl: string
  readonly status: TextStatus
  readonly error: string
  readonly twilioSid: string
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface CreateText {
  readonly accountId: string
  readonly numberId?: string | undefined
  readonly organizationId?: string | undefined
  readonly target: string
  readonly message: string
  readonly callbackStatusUrl?: string | undefined
  readonly callbackUrl?: string | undefined
  readonly callbackJson?: Record<string, unknown> | undefined
  readonly callbackOneOff?: boolean | undefined
  readonly expectedResponses?: readonly string[] | undefined
}
