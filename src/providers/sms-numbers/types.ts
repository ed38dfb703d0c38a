/**
 * SMS accounts, numbers and carrier lookups on a vendor (the texts domain's provider side): an
 * organisation's account (a Twilio sub-account), numbers searched by area code and bought into it,
 * a number the account already holds, and a carrier lookup. Providers know nothing of core.
 */

/** A number the vendor offers or holds, with what it can do and where it is. */
export interface VendorNumber {
  /** E.164. */
  readonly phoneNumber: string
  /** The vendor's id of a held number (Twilio's PN… sid); '' for one only offered. */
  readonly id: string
  readonly capabilities: { readonly sms: boolean; readonly mms: boolean; readonly voice: boolean }
  readonly lata: string
  readonly latitude: string
  readonly longitude: string
  readonly postalCode: string
  readonly rateCenter: string
  readonly region: string
}

/** What a carrier lookup found (Twilio Lookup v2's line type intelligence). */
export interface CarrierInfo {
  /** `mobile`, `landline`, `fixedVoip`, `nonFixedVoip`, `tollFree`… ('' when unknown). */
  readonly type: string
  readonly carrierName: string
  readonly mobileCountryCode: string
  readonly mobileNetworkCode: string
  /** The vendor's error about this number ('' when none). */
  readonly error: string
}

/** Where the vendor posts a number's inbound messages (our webhook URL), set when it is bought or claimed. */
export interface NumberWebhooks {
  readonly smsUrl: string
}

/** A vendor of SMS accounts and numbers. Every method throws ProviderError. */
export interface NumbersProvider {
  readonly id: 'sandbox' | 'twilio'
  /**
   * A new account for an organisation: its vendor id (Twilio: the sub-account's AC… sid) and, when the
   * vendor signs the account's webhooks with a secret of its own, that secret (Twilio: its auth token).
   */
  createAccount(friendlyName: string): Promise<{ readonly accountId: string; readonly webhookSecret?: string | undefined }>
  /** Numbers on offer in a US area code, in the vendor's order. */
  searchNumbers(accountId: string, areaCode: string): Promise<VendorNumber[]>
  /** Buy an offered number into the account, its inbound messages posted to `hooks`. */
  buyNumber(accountId: string, phoneNumber: string, hooks: NumberWebhooks): Promise<VendorNumber>
  /** Point a number the account holds (`numberId`: its vendor id) at `hooks`. */
  setWebhooks(accountId: string, numberId: string, hooks: NumberWebhooks): Promise<void>
  /** A number the account already holds, or undefined. */
  findNumber(accountId: string, phoneNumber: string): Promise<VendorNumber | undefined>
  /** The carrier of a number. */
  lookup(phoneNumber: string): Promise<CarrierInfo>
}
