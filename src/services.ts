import type { Config } from './config.ts'
import type { Store } from './db/store.ts'
import { BotService, ThreadsService, type ThreadSet } from './core/bot/index.ts'
import { DeliveryService, DeliveryTracking, DeliveryWebhooks, type Channel, type ChannelProviderSettings, type ProviderResolver } from './core/delivery/index.ts'
import { defineJobs } from './jobs/definitions.ts'
import { JobQueue, type JobsLogger } from './jobs/index.ts'
import { ProviderError, ProviderRegistry, registerChannelVendors, type Channel as ProviderChannel } from './providers/index.ts'
import type { SendRetryPolicy } from './jobs/send-message.job.ts'
import { PeopleLookups, PeopleService, PersonRegistration } from './core/people/index.ts'
import { ProviderSettingsService, TenantsService } from './core/tenants/index.ts'
import { keywordHandler, SuppressionService } from './core/suppression/index.ts'
import { NotificationFiring, SchedulingService } from './core/scheduling/index.ts'
import { WebchatService } from './core/webchat/index.ts'
import { AgentEvents, AgentsService, ChatsService, QueuesService, RoutingService, SetupService } from './core/contact-center/index.ts'
import { presentChatWebhook } from './surfaces/ccai/presenters.ts'
import { OutboundWebhooksService, type WebhookTargets } from './core/outbound-webhooks/index.ts'
import type { WebhookRetryPolicy } from './jobs/outbound-webhook.job.ts'
import { FilesService, LocalFileStore, StoreTooLargeError, type FileStore } from './core/files/index.ts'
import { S3ObjectStore, S3ObjectTooLargeError } from './providers/storage/s3.ts'
import type { TenantId } from './lib/tenant-id.ts'

// Core and providers each list the channels (neither imports the other); they must be the same list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const channelsAgree: Same<Channel, ProviderChannel> = true
void channelsAgree

/**
 * The provider registry as delivery's port: the vendors send and (where they can) look messages
 * up; a ProviderError that is not retryable refuses a message for good.
 */
export function providerResolver(providers: ProviderRegistry): ProviderResolver {
  return {
    resolve: (channel, settings) => providers.resolve(channel, settings),
    isFinal: (err) => err instanceof ProviderError && !err.retryable,
    errorCode: (err) => (err instanceof ProviderError ? err.code : undefined),
  }
}

/**
 * Core's file store from the configuration: the local directory, or an S3-compatible bucket whose
 * refusals of oversized bodies become the port's; with `direct`, clients get the bucket's own
 * presigned URLs.
 */
export function fileStore(config: Config): FileStore {
  const s3 = config.files.s3
  if (!s3) return new LocalFileStore(config.files.dir)
  const bucket = new S3ObjectStore(s3)
  return {
    put: (key, body, options) => bucket.put(key, body, options).catch((err: unknown) => {
      throw err instanceof S3ObjectTooLargeError ? new StoreTooLargeError(err.maxBytes) : err
    }),
    head: (key) => bucket.head(key),
    get: (key) => bucket.get(key),
    delete: (key) => bucket.delete(key),
    ...(s3.direct ? { presignPut: (key, o) => bucket.presignPut(key, o), presignGet: (key, o) => bucket.presignGet(key, o) } satisfies Partial<FileStore> : {}),
  }
}

/** Every core service, built once per process over one store. Surfaces reach core only through this. */
export interface Services {
  readonly config: Config
  readonly store: Store
  readonly tenants: TenantsService
  readonly people: PeopleService
  /** The directory as other domains read it in their own transactions (and the bot's stored answers). */
  readonly peopleLookups: PeopleLookups
  /** Registering a person: create or find, and with an initial thread, send them into it. */
  readonly registration: PersonRegistration
  readonly threads: ThreadsService
  /** The job queue and scheduler; not started until `start()`/`work()` (the app starts it to enqueue). */
  readonly jobs: JobQueue
  readonly delivery: DeliveryService
  /** Delivery status callbacks and history, SMS segments, per-sender rate limits, unknown senders. */
  readonly tracking: DeliveryTracking
  /** The bot runtime: pings, conversations, the transcript; it handles every inbound message. */
  readonly bot: BotService
  /** Check-ins and autopings waiting for their time. */
  readonly scheduling: SchedulingService
  /** Fires due check-ins and autopings (the worker role's scheduler loops call it). */
  readonly firing: NotificationFiring<ThreadSet>
  /** The one suppression list (STOP replies, DNC, withdrawn consents) every send checks. */
  readonly suppression: SuppressionService
  /** Which vendor each tenant uses per channel, with its options sealed under the master key. */
  readonly providerSettings: ProviderSettingsService
  /** Vendor webhooks (Messenger's handshake and events, …) for each tenant's configured provider. */
  readonly webhooks: DeliveryWebhooks
  /** The vendors; `close()` it at shutdown to release pooled connections. */
  readonly providers: ProviderRegistry
  /** The web chat embed: sessions, history and live delivery of the bot's answers. */
  readonly webchat: WebchatService
  /** The contact center's setup file: teams, agents, statuses, menus, numbers, settings. */
  readonly ccSetup: SetupService
  /** Agents: sign-in, status, the user list, force logout. */
  readonly agents: AgentsService
  /** Routing of waiting sessions to agents (offers, cascade, the sweep of worker processes). */
  readonly routing: RoutingService
  /** Contact-center chats: the Apps API's chat platform and the agent workspace. */
  readonly chats: ChatsService
  /** Queue status: wait times, agents, hours and capacity per queue (W1, Q1, O1); sessions through its QueueLoad port. */
  readonly queues: QueuesService
  /** The agent workspace's event stream (offers, chats, messages, status). */
  readonly agentEvents: AgentEvents
  /** Signed events to tenants' webhook endpoints (ccai.md §1.12), sent and retried by `webhooks.send`. */
  readonly outboundWebhooks: OutboundWebhooksService
  /** Attachments: presigned upload and download URLs, server-side stores. */
  readonly files: FilesService
}

/** Options of `createServices` beyond the configuration. */
export interface CreateServicesOptions {
  logger?: JobsLogger
  /** pg-boss schema and supervision interval (tests isolate their queues with a schema of their own). */
  jobs?: { schema?: string; superviseIntervalSeconds?: number }
  /** Retry policy of `delivery.send`. */
  sendRetry?: SendRetryPolicy
  /** A tenant's provider settings per channel, instead of the stored ones (embedding, tests). */
  channelSettings?: (tenantId: TenantId, channel: Channel) => Promise<ChannelProviderSettings | undefined>
  /** Where tenants' outbound webhooks go. Default: nowhere (every event is dropped as `no_target`). */
  webhookTargets?: WebhookTargets
  /** Retry policy of `webhooks.send`. */
  webhookRetry?: WebhookRetryPolicy
}

/** Build the services over an open store. Jobs are defined here, before anything starts the queue. */
export function createServices(config: Config, store: Store, options: CreateServicesOptions = {}): Services {
  const jobs = new JobQueue({
    db: store.db, url: store.url, superviseIntervalSeconds: config.jobSuperviseSeconds, ...(options.logger ? { logger: options.logger } : {}), ...options.jobs,
  })
  const tenants = new TenantsService(store.db, config.secretKey, store.notifier)
  // The registry is filled below; the settings service only asks it when a tenant configures.
  const providerCatalog = { vendors: () => providers.vendors(), problem: (c: Channel, s: ChannelProviderSettings) => providers.problem(c, s) }
  const providerSettings = new ProviderSettingsService(store.db, config.secretKey, providerCatalog, { urlPolicy: config.urlPolicy })
  const providers = new ProviderRegistry()
  registerChannelVendors(providers, { urlPolicy: config.urlPolicy })
  // One directory for every domain: its change notifications keep the person cache right.
  const people = new PeopleService(store.db, store.notifier)
  const peopleLookups = new PeopleLookups({ onChange: (personId) => people.forget(personId) })
  const tracking = new DeliveryTracking(store.db, { directory: people, lookups: peopleLookups })
  const delivery = new DeliveryService(store.db, jobs, {
    providers: providerResolver(providers), tracking, people: peopleLookups, publicUrl: config.publicUrl,
    channelSettings: options.channelSettings ?? providerSettings.channelSettings,
  })
  const suppression = new SuppressionService(store.db)
  // Compliance first, explicitly: STOP/START/HELP are answered here and never reach the bot.
  delivery.onInbound(keywordHandler({ suppression, delivery, tenantInfo: (id) => tenants.messagingSettings(id) }), { phase: 'compliance' })
  const webhooks = new DeliveryWebhooks(store.db, { delivery, tracking, adapter: (channel, settings) => providers.resolve(channel, settings) })
  // Tenant webhook URLs go through the guarded client: the outbound URL policy holds at every connection.
  const outboundWebhooks = new OutboundWebhooksService(store.db, jobs, {
    // The contact center's chat events go to the URL of its setup file, signed with its secrets.
    targets: options.webhookTargets ?? { resolve: async (tenantId, topic) => (topic === 'ccai.chat' ? ccSetup.webhookTarget(tenantId) : null) },
    urlPolicy: config.urlPolicy,
  })
  const agents = new AgentsService(store.db, jobs)
  defineJobs(jobs, {
    agents,
    delivery, sendRetry: options.sendRetry ?? { retryDelaySeconds: config.deliveryRetrySeconds },
    webhooks: outboundWebhooks, ...(options.webhookRetry ? { webhookRetry: options.webhookRetry } : {}),
  })
  const threads = new ThreadsService(store.db, store.notifier)
  const scheduling = new SchedulingService(store.db)
  const bot = new BotService({ db: store.db, threads, delivery, scheduling, people, peopleLookups })
  const registration = new PersonRegistration({ people, bot })
  const webchat = new WebchatService({ db: store.db, notifier: store.notifier, tenants, people, peopleLookups, threads, bot, secretKey: config.secretKey })
  delivery.onInbound(bot.inboundHandler)
  const firing = new NotificationFiring<ThreadSet>(store.db, { bot, threads })
  const ccSetup = new SetupService({ db: store.db, secretKey: config.secretKey, threadNames: async (id) => (await threads.current({ id })).names })
  const routing = new RoutingService(store.db, { onError: (err) => options.logger?.error({ err }, 'routing pass failed') })
  routing.useOfferTimeout(async (tenantId, trx) => (await ccSetup.settings(tenantId, trx))?.offerTimeoutSeconds ?? 30)
  agents.onEvents({ agentAvailable: (tenantId) => void routing.kick(tenantId) })
  const chats = new ChatsService({
    db: store.db, jobs, routing,
    // The Apps API owns the wire shape of its webhooks; one ordering key per chat keeps them in order.
    webhook: async (trx, tenantId, event, key) => {
      await outboundWebhooks.enqueue(trx, tenantId, { topic: 'ccai.chat', body: presentChatWebhook(event), idempotencyKey: key, orderingKey: `chat:${event.chat.num}` })
    },
    wakeWebhooks: () => outboundWebhooks.wake(),
  })
  const files = new FilesService({
    store: fileStore(config), secretKey: config.secretKey, publicUrl: config.publicUrl,
    maxBytes: config.files.maxBytes, urlSeconds: config.files.urlSeconds,
  })
  return {
    config,
    store,
    tenants,
    people,
    peopleLookups,
    registration,
    threads,
    jobs,
    delivery,
    tracking,
    bot,
    webchat,
    ccSetup,
    agents,
    routing,
    chats,
    // Sessions are not wired in yet: NO_QUEUE_LOAD (nothing queued, every agent free) until `queues.useLoad`.
    queues: new QueuesService({ db: store.db }),
    agentEvents: new AgentEvents(store.db, store.notifier),
    scheduling,
    firing,
    suppression,
    providerSettings,
    webhooks,
    providers,
    outboundWebhooks,
    files,
  }
}
