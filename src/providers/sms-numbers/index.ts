// SMS accounts, numbers and carrier lookups (texts and numbers, issue 13 item 4).
import type { ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { createSandboxNumbers } from './sandbox.ts'
import { createTwilioNumbers } from './twilio.ts'
import type { NumbersProvider } from './types.ts'

export type { NumbersProvider, VendorNumber, CarrierInfo } from './types.ts'
export { createSandboxNumbers } from './sandbox.ts'
export { createTwilioNumbers } from './twilio.ts'

const sandbox = createSandboxNumbers()

/**
 * The numbers provider of a tenant's `sms` settings: Twilio's when its SMS vendor is `twilio`, else
 * the sandbox's (no settings, `sandbox`, or a vendor without accounts and numbers). Throws
 * ProviderError `invalid_settings` on Twilio settings that cannot work.
 */
export function numbersProviderFor(settings: ChannelSettings | undefined, options: ProviderOptions = {}): NumbersProvider {
  if (settings?.provider === 'twilio') return createTwilioNumbers(settings, options)
  return sandbox
}
