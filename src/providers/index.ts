export { CHANNELS, ProviderError, isChannel } from './types.ts'
export type {
  Channel, ChannelProvider, OutboundMessage, SendResult, RawWebhook, ParsedInbound,
  SmsProvider, WhatsappProvider, MessengerProvider, EmailProvider, PushProvider, WebchatProvider, VoiceProvider,
} from './types.ts'
export { createSandboxProvider, SANDBOX_FAILURES } from './sandbox.ts'
export type { SandboxRecord, SandboxOptions } from './sandbox.ts'
export { ProviderRegistry } from './registry.ts'
export type { ChannelSettings, ProviderFactory, ProviderValidator } from './registry.ts'
export type { WebhookEvent, WebhookStatusEvent, WebhookStatus, InboundMedia } from './types.ts'
export { registerChannelVendors } from './vendors.ts'
