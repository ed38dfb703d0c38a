import type { CampaignsService } from '../core/contact-center/index.ts'
import { campaignImportJob } from './campaign-import.job.ts'
import type { AgentsService } from '../core/contact-center/index.ts'
import type { DeliveryService } from '../core/delivery/index.ts'
import { forceLogoutJob } from './force-logout.job.ts'
import type { OutboundWebhooksService } from '../core/outbound-webhooks/index.ts'
import { inboundMessageJob } from './inbound-message.job.ts'
import { outboundWebhookJob, type WebhookRetryPolicy } from './outbound-webhook.job.ts'
import { pruneJobKeysJob } from './prune-job-keys.job.ts'
import type { JobQueue } from './queue.ts'
import { sendBatchJob, sendMessageJob, type SendRetryPolicy } from './send-message.job.ts'
import { bulkMessageJob, type BulkMessageJobOptions } from './bulk-message.job.ts'
import type { BulkMessagesService } from '../core/messaging/index.ts'
import type { TenantsService } from '../core/tenants/index.ts'
import type { AggregationRequestsService } from '../core/messaging/index.ts'
import { aggregationRequestJob } from './aggregation-request.job.ts'
import type { AttachmentsService, OperationsService } from '../core/messaging/index.ts'
import { messagingOperationJob, type OperationJobOptions } from './messaging-operation.job.ts'
import { prunePendingAttachmentsJob } from './prune-pending-attachments.job.ts'
import type { PrivacyService } from '../core/privacy/index.ts'
import { purgeJob } from './purge.job.ts'
import type { UserEmailsService } from '../core/emails/index.ts'
import { prunePendingEmailAttachmentsJob } from './prune-pending-email-attachments.job.ts'
import type { MulticastsService } from '../core/messaging/index.ts'
import { multicastJob, type MulticastJobOptions } from './multicast.job.ts'
import type { TextsService } from '../core/texts/index.ts'
import { textStatusJob } from './text-status.job.ts'
import type { CallsService } from '../core/calls/index.ts'
import { callConfirmTimeoutJob, callControlJob, callDialJob, callLegEventJob, callScheduledJob } from './calls.job.ts'
import type { DialerService } from '../core/contact-center/dialer.service.ts'
import { dialerRoundJob, dialerSweepJob } from './dialer.job.ts'

/**
 * Define every job of the application on `jobs` (before it starts). Kept apart from the queue's
 * index so that core, which enqueues through the index, never imports the handlers.
 */
export function defineJobs(jobs: JobQueue, deps: {
  delivery: DeliveryService
  sendRetry?: SendRetryPolicy
  /** Outbound webhooks; without them `webhooks.send` is not defined (tests of other domains). */
  webhooks?: OutboundWebhooksService
  webhookRetry?: WebhookRetryPolicy
  /** The contact center's agents (force-logout jobs). */
  agents?: AgentsService
}): void {
  jobs.define(pruneJobKeysJob(jobs))
  jobs.define(sendMessageJob({ delivery: deps.delivery, retry: deps.sendRetry }))
  jobs.define(inboundMessageJob(deps))
  if (deps.webhooks) jobs.define(outboundWebhookJob({ webhooks: deps.webhooks, retry: deps.webhookRetry }))
  if (deps.agents) jobs.define(forceLogoutJob({ agents: deps.agents }))
  jobs.define(sendBatchJob({ delivery: deps.delivery, retry: deps.sendRetry }))
}

/**
 * Define the messaging API's jobs: `messaging.bulk_post` (bulk messages, #41/#43). Apart from
 * `defineJobs` because the services it posts through are built after the others; called by the
 * composition root before anything starts the queue.
 */
export function defineMessagingJobs(jobs: JobQueue, deps: { bulkMessages: BulkMessagesService; tenants: TenantsService; options?: BulkMessageJobOptions }): void {
  jobs.define(bulkMessageJob(deps))
}

/** Define `messaging.aggregate` (aggregation requests, #1); called by the composition root before the queue starts. */
export function defineAggregationJobs(jobs: JobQueue, deps: { aggregations: AggregationRequestsService }): void {
  jobs.define(aggregationRequestJob(deps))
}

/**
 * Define the messaging operations' job (`messaging.operation`, #64) and the periodic cleanup of
 * attachments whose upload never completed (`messaging.prune-pending-attachments`).
 */
export function defineMessagingOperationJobs(jobs: JobQueue, deps: { operations: OperationsService; attachments: AttachmentsService; options?: OperationJobOptions }): void {
  jobs.define(messagingOperationJob(deps))
  jobs.define(prunePendingAttachmentsJob(deps))
}

/** Define purge-data's job: `privacy.purge` (#86). Called by the composition root with the other messaging jobs. */
export function definePrivacyJobs(jobs: JobQueue, deps: { privacy: PrivacyService }): void {
  jobs.define(purgeJob(deps))
}

/** Define the user emails' periodic cleanup of attachments whose upload never completed (issue 13, item 6). */
export function defineUserEmailJobs(jobs: JobQueue, deps: { userEmails: UserEmailsService }): void {
  jobs.define(prunePendingEmailAttachmentsJob(deps))
}

/** Define the campaign contact import (`cc.campaign_import`, issue 12 item 5); called by the composition root before the queue starts. */
export function defineCampaignJobs(jobs: JobQueue, deps: { campaigns: CampaignsService }): void {
  jobs.define(campaignImportJob(deps))
}

/** Define `messaging.multicast` (templated multicasts, #26, #80, #130, #138): built after push and templates. */
export function defineMulticastJobs(jobs: JobQueue, deps: { multicasts: MulticastsService; tenants: TenantsService; options?: MulticastJobOptions }): void {
  jobs.define(multicastJob(deps))
}

/** Define `texts.status` (texts and numbers, issue 13 item 4): the status watch of texts with callbacks. */
export function defineTextJobs(jobs: JobQueue, deps: { texts: TextsService }): void {
  jobs.define(textStatusJob(deps))
}

/** Define the calls' jobs (issue 12, items 1–2): dialling, scheduled calls, leg events, leg control. */
export function defineCallJobs(jobs: JobQueue, deps: { calls: CallsService }): void {
  jobs.define(callDialJob(deps))
  jobs.define(callScheduledJob(deps))
  jobs.define(callLegEventJob(deps))
  jobs.define(callControlJob(deps))
  jobs.define(callConfirmTimeoutJob(deps))
}

/** Define the campaign dialer's jobs (issue 12, item 5): a campaign's rounds and the minute sweep. */
export function defineDialerJobs(jobs: JobQueue, deps: { dialer: DialerService }): void {
  jobs.define(dialerRoundJob(deps))
  jobs.define(dialerSweepJob(deps))
}
