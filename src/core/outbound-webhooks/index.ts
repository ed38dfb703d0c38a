export { OutboundWebhooksService, MAX_WEBHOOK_BODY_BYTES } from './outbound-webhooks.service.ts'
export type { OutboundWebhooksOptions, WebhookAttemptContext } from './outbound-webhooks.service.ts'
export { signWebhook, verifyWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './outbound-webhooks.signature.ts'
export type { VerifyWebhookOptions } from './outbound-webhooks.signature.ts'
export { SEND_WEBHOOK_JOB, SendWebhookPayload, webhookJobKey } from './outbound-webhooks.jobs.ts'
export { NO_WEBHOOK_TARGETS } from './outbound-webhooks.types.ts'
export type {
  WebhookTarget, WebhookTargets, OutboundWebhook, OutboundWebhookStatus, OutboundWebhookErrorCode, EnqueueWebhookInput, EnqueueWebhookResult,
  ListWebhooksOptions,
} from './outbound-webhooks.types.ts'
