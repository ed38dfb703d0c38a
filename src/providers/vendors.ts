import type { UrlPolicy } from '../lib/url-safety.ts'
import { createSmtpProvider } from './email/smtp.ts'
import { createFacebookMessengerProvider } from './messenger/facebook.ts'
import { createApnsProvider } from './push/apns.ts'
import { createFcmProvider } from './push/fcm.ts'
import { createWebPushProvider } from './push/webpush.ts'
import type { ProviderRegistry } from './registry.ts'
import type { ChannelProvider } from './types.ts'

/**
 * Make the e-mail, push and Messenger vendors available: `smtp` (email), `apns`, `fcm`, `webpush`
 * (push) and `facebook` (messenger). Each factory refuses other channels and invalid settings with
 * a ProviderError `unsupported_channel` / `invalid_settings`. `urlPolicy` is the operator's
 * outbound URL policy, applied to URLs that come from tenants (vendor base URLs other than the
 * vendor's own, Web Push endpoints, e-mail attachment URLs).
 */
export function registerChannelVendors(registry: ProviderRegistry, options: { urlPolicy?: UrlPolicy } = {}): ProviderRegistry {
  return registry
    .register('smtp', (channel, settings) => createSmtpProvider(channel as 'email', settings, options) as unknown as ChannelProvider)
    .register('apns', (channel, settings) => createApnsProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('fcm', (channel, settings) => createFcmProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('webpush', (channel, settings) => createWebPushProvider(channel as 'push', settings, options) as unknown as ChannelProvider)
    .register('facebook', (channel, settings) => createFacebookMessengerProvider(channel as 'messenger', settings, options) as unknown as ChannelProvider)
}
