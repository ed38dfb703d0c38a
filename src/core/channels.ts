/**
 * Every channel a message can go out or come in on. Providers keep the same list for their side
 * (core does not import providers); src/jobs/send-message.job.ts checks that the two agree.
 */
export const CHANNELS = ['sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice'] as const
export type Channel = (typeof CHANNELS)[number]

/**
 * A tenant's settings for the provider of one channel (which vendor and its decrypted options),
 * as the delivery worker hands them to the provider registry.
 */
export interface ChannelProviderSettings {
  readonly provider: string
  readonly [option: string]: unknown
}
