import { Type } from 'typebox'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema } from '../../lib/tenant-id.ts'

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' })

/** Payload of `webhooks.send`: which event of which tenant to POST. */
export const SendWebhookPayload = Type.Object({ tenantId: TenantIdSchema, webhookId: Uuid }, { additionalProperties: false })

/**
 * The job core enqueues for every outbound webhook; its handler (src/jobs/outbound-webhook.job.ts)
 * is defined on the queue when the process is wired. Key: `webhook:<id>`.
 */
export const SEND_WEBHOOK_JOB = { name: 'webhooks.send', payload: SendWebhookPayload } as const satisfies JobType

/** The idempotency key of an event's job. */
export function webhookJobKey(webhookId: string): string {
  return `webhook:${webhookId}`
}
