import type { ProviderOptions } from './http.ts'
import { createSmtpProvider } from './email/smtp.ts'
import { createFacebookMessengerProvider } from './messenger/facebook.ts'
import { createApnsProvider } from './push/apns.ts'
import { createFcmProvider } from './push/fcm.ts'
import { createWebPushProvider } from './push/webpush.ts'
import type { ProviderRegistry } from './registry.ts'
import { createTwilioProvider } from './twilio.ts'
import type { ChannelProvider } from './types.ts'
import { validateTwilioVoiceSettings } from './voice/twilio.ts'

/**
 * Make the vendors available: `twilio` (sms, whatsapp; voice settings for call control), `smtp` (email), `apns`, `fcm`, `webpush`
 * (push) and `facebook` (messenger). Each factory refuses other channels and invalid settings with
 * a ProviderError `unsupported_channel` / `invalid_settings`. `urlPolicy` is the operator's
 * outbound URL policy: every connection a tenant's setting can steer (vendor base URLs, FCM's
 * token_uri, Web Push endpoints, the SMTP host, e-mail attachment URLs) goes through the guarded
 * HTTP client, which checks the address it connects to under it.
 */
export function registerChannelVendors(registry: ProviderRegistry, options: ProviderOptions = {}): ProviderRegistry {
  return registry
    // `voice` settings are Twilio Programmable Voice's (a call-control provider the calls domain
    // builds with createTwilioCallControl, not a message sender), so they are checked as such.
    .register('twilio', (channel, settings) => createTwilioProvider(channel, settings, options), {
      validate: (channel, settings) => {
        if (channel === 'voice') return validateTwilioVoiceSettings(settings)
        void createTwilioProvider(channel, settings, options).close?.().catch(() => {})
      },
    })
    .register('smtp', (channel, settings) => createSmtpProvider(channel as 'email', settings, options) as unknown as ChannelProvider)
    .register('apns', (channel, settings) => createApnsProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('fcm', (channel, settings) => createFcmProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('webpush', (channel, settings) => createWebPushProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('facebook', (channel, settings) => createFacebookMessengerProvider(channel as 'messenger', settings, options) as unknown as ChannelProvider)
}
