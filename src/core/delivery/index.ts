export { DeliveryService } from './delivery.service.ts'
export type { DeliveryServiceOptions, TenantRef, SendOptions, SendAnswer, DeliveryOutcome } from './delivery.service.ts'
export type { AttemptItem } from './delivery-attempts.ts'
export { SEND_MESSAGE_JOB, INBOUND_MESSAGE_JOB, SendMessagePayload, InboundMessagePayload, SEND_BATCH_JOB, SendBatchPayload, SEND_BATCH_MAX } from './delivery.jobs.ts'
export { CHANNELS } from './delivery.types.ts'
export type {
  Channel, OutboxMessage, OutboxStatus, SendMessageInput, InboundMessage, ReceiveMessageInput, ListMessagesOptions, InboundHandler, ConsentGate,
  ChannelProviderSettings, InboundPhase, StoredFileRef, MessageAttachmentFile, SuppressionReason, DeliveryProvider, ProviderResolver, ProviderMessage, ProviderAccepted,
} from './delivery.types.ts'
export { DeliveryTracking, MAX_SLOT_WAIT_MS } from './delivery-tracking.ts'
export type { ReportedStatus, StatusEvent, StatusReport } from './delivery-tracking.ts'
export { DeliveryWebhooks } from './delivery-webhooks.ts'
export type { WebhookRequest, WebhookEventInput, WebhookAdapter, WebhookAdapterLookup, WebhookAccountSecrets, WebhookOutcome } from './delivery-webhooks.ts'
