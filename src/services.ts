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
import { DncService, keywordHandler, SuppressionService } from './core/suppression/index.ts'
import { NotificationFiring, SchedulingService } from './core/scheduling/index.ts'
import { WebchatService } from './core/webchat/index.ts'
import { ChannelsService, ChannelSmsService, MessagesService, Organizations, OrgPreferences } from './core/messaging/index.ts'
import { DirectoryService } from './core/messaging/index.ts'
import { ReplicatorsService, SniffersService } from './core/messaging/index.ts'
import { PluginsService, RespondersService } from './core/messaging/index.ts'
import { SupervisorService } from './core/supervisor/index.ts'
import { AgentEvents, AgentsService, CampaignsService, ChatsService, QueuesService, RoutingService, SessionQueueLoad, SetupService } from './core/contact-center/index.ts'
import { SmsSessionsService } from './core/contact-center/index.ts'
import { EndUsersService } from './core/contact-center/index.ts'
import { ChatMediaService, ChatProfileService } from './core/contact-center/index.ts'
import { presentChatWebhook } from './surfaces/ccai/presenters.ts'
import { OutboundWebhooksService, type WebhookTargets } from './core/outbound-webhooks/index.ts'
import type { WebhookRetryPolicy } from './jobs/outbound-webhook.job.ts'
import { FilesService, LocalFileStore, StoreTooLargeError, type FileStore } from './core/files/index.ts'
import { S3ObjectStore, S3ObjectTooLargeError } from './providers/storage/s3.ts'
import type { TenantId } from './lib/tenant-id.ts'
import { AttachmentsService, BookmarksService, type Thumbnailer } from './core/messaging/index.ts'
import { jpegThumbnail, UnreadableImageError } from './providers/images/thumbnails.ts'
import { BulkMessagesService, MulticastsService } from './core/messaging/index.ts'
import { defineMessagingJobs, defineMulticastJobs } from './jobs/definitions.ts'
import type { BulkMessageJobOptions } from './jobs/bulk-message.job.ts'
import type { MulticastJobOptions } from './jobs/multicast.job.ts'
import { AggregationRequestsService, AnnouncersService } from './core/messaging/index.ts'
import { defineAggregationJobs } from './jobs/definitions.ts'
import { OperationsService, ProfilesService } from './core/messaging/index.ts'
import { defineMessagingOperationJobs } from './jobs/definitions.ts'
import type { OperationJobOptions } from './jobs/messaging-operation.job.ts'
import { PrivacyService } from './core/privacy/index.ts'
import { definePrivacyJobs } from './jobs/definitions.ts'
import { defineCampaignJobs } from './jobs/definitions.ts'
import { ConsoleService, PersonActions } from './core/console/index.ts'
import { PeopleSearch } from './core/people/index.ts'
import { TemplatesService } from './core/templates/index.ts'
import { AppCredentialsService, BadgeCountsService, PushService, UserDevicesService, UserNotificationsService, type PushEndpoints } from './core/push/index.ts'
import { UserConsentsService } from './core/consents/index.ts'
import { UserEmailsService } from './core/emails/index.ts'
import { defineUserEmailJobs } from './jobs/definitions.ts'
import { defineTextJobs } from './jobs/definitions.ts'
import { TextsService } from './core/texts/index.ts'
import { numbersProviderFor } from './providers/sms-numbers/index.ts'
import { CALL_LEG_EVENT_JOB, CallsService } from './core/calls/index.ts'
import { DialerService, type DialerOptions } from './core/contact-center/dialer.service.ts'
import { defineCallJobs, defineDialerJobs } from './jobs/definitions.ts'
import { createCallControl, fallbackOf, type CallControlProvider, type VoiceProviderDeps, type VoiceSettings } from './providers/voice/index.ts'
import { TicketsService } from './core/crm/index.ts'

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
  /** Outbound SMS sessions (S1): started by the Apps API, joined by the consumer's replies, answered as SMS. */
  readonly smsSessions: SmsSessionsService
  /** Queue status: wait times, agents, hours and capacity per queue (W1, Q1, O1); sessions through its QueueLoad port. */
  readonly queues: QueuesService
  /** The messaging API's organisations (the tenant, and its clinics with the directory). */
  readonly organizations: Organizations
  /** Organisation preferences of the messaging API. */
  readonly orgPreferences: OrgPreferences
  /** Messaging channels and their subscribers. */
  readonly channels: ChannelsService
  /** Messages of channels: posts, edits, acks, reactions, receipts. */
  readonly messages: MessagesService
  /** A messaging channel's SMS path (#51): posts reach individuals by SMS, their replies come back. */
  readonly channelSms: ChannelSmsService
  /** Messaging plugins: named snippets and templates that expand into a message for a channel. */
  readonly messagingPlugins: PluginsService
  /** Messaging responders: a care team's auto-replies within their window and weekly calendar. */
  readonly messagingResponders: RespondersService
  /** The messaging directory: its import, individuals, care teams, users and their user tokens. */
  readonly directory: DirectoryService
  /** Sniffers (#89–#91) and replicators (#87, #88) of the messaging API. */
  readonly sniffers: SniffersService
  readonly replicators: ReplicatorsService
  /** The agent workspace's event stream (offers, chats, messages, status). */
  readonly agentEvents: AgentEvents
  /** Signed events to tenants' webhook endpoints (ccai.md §1.12), sent and retried by `webhooks.send`. */
  readonly outboundWebhooks: OutboundWebhooksService
  /** Attachments: presigned upload and download URLs, server-side stores. */
  readonly files: FilesService
  /** Contact-center end users (E1/E2), identities of the core person; `forPhone` for SMS sessions and calls. */
  readonly endUsers: EndUsersService
  /** Photos, videos and agents' files of chats (H6–H11, the media download, agent attachments). */
  readonly chatMedia: ChatMediaService
  /** Customer flags and custom data of chats (H14–H17). */
  readonly chatProfile: ChatProfileService
  // Messaging attachments and bookmarks (#28–#35)
  /** Attachments of messages: upload tickets, processing (type sniffing, thumbnails), soft removal. */
  readonly attachments: AttachmentsService
  /** Bookmarks of channels. */
  readonly bookmarks: BookmarksService
  // Bulk messages and bulk attachments (#36–#43)
  /** Bulk messages: one message fanned out to many individuals by a resumable job. */
  readonly bulkMessages: BulkMessagesService
  // Announcers (#2–#5) and aggregation requests (#1)
  /** Messaging announcers: an organisation's event hooks, fired as signed webhooks. */
  readonly announcers: AnnouncersService
  /** Aggregation requests: per-individual columns computed by a job. */
  readonly aggregations: AggregationRequestsService
  // Messaging operations (#63–#65)
  /** Messaging operations (`move-group`): administrative jobs polled for status and logs. */
  readonly operations: OperationsService
  /** Channel members' profiles as another member sees them (#49). */
  readonly profiles: ProfilesService
  // Purge-data (#86)
  /** Purge-data: erase or archive an individual everywhere, as a job, with an audit record. */
  readonly privacy: PrivacyService
  // The web console (issue 11)
  /** Console users, sessions (cookie + CSRF token) and the sign-in lockout. */
  readonly console: ConsoleService
  /** The directory as a person at the console searches it, with identities per surface. */
  readonly peopleSearch: PeopleSearch
  /** A person's one timeline (paged, live) and the person page's actions: edit, consent, suppression. */
  readonly personActions: PersonActions
  // Message templates (issue 13)
  /** Message templates: the template file, and rendering a template for one recipient. */
  readonly templates: TemplatesService
  // Push (issue 13, item 3)
  /** App credentials (#6–#9): APNs token keys and FCM service accounts, sealed, served masked. */
  readonly appCredentials: AppCredentialsService
  /** User devices (#118–#120): push tokens of individuals, and the log of pushes to each. */
  readonly userDevices: UserDevicesService
  /** Badge counts (#18–#21): per individual, organisation and category. */
  readonly badgeCounts: BadgeCountsService
  /** `push.sendToIndividual`: a notification to every active device of an individual. */
  readonly push: PushService
  /** The company Do-Not-Call list of the Apps API (D1–D3): entries of the one suppression list. */
  readonly dnc: DncService
  // User emails (issue 13, item 6)
  /** User emails (#125–#128) and their attachments (#121–#124), sent through delivery on the tenant's e-mail provider. */
  readonly userEmails: UserEmailsService
  /** Outbound campaigns' contacts (K1-K7) and their file imports. */
  readonly campaigns: CampaignsService
  // Templated multicasts (issue 13, item 2)
  /** Multicasts (#26, #79–#81, #129–#130, #138): a template rendered per recipient and sent by a resumable job. */
  readonly multicasts: MulticastsService
  /** Texts and numbers (#92–#113, issue 13 item 4): SMS accounts, numbers, lookups, texts. */
  readonly texts: TextsService
  // User consents and user notifications (issue 13, items 5 and 3)
  /** User consents (#115–#117): the SMS opt-in conversation, and the tenant's consent requirement. */
  readonly userConsents: UserConsentsService
  /** User notifications (#131–#134): what each individual was sent, acknowledged and counted per day. */
  readonly userNotifications: UserNotificationsService
  // Calls (issue 12, items 1–2)
  /** Contact-center calls (C1–C8, CD1, W2) on the tenant's voice provider (the sandbox by default). */
  readonly calls: CallsService
  /**
   * The tenant's call control of `vendor` (its voice provider or its fallback), undefined when it
   * has none of that vendor: what a vendor's voice callbacks are verified and read with.
   */
  readonly voiceVendor: (tenantId: TenantId, vendor: string) => Promise<CallControlProvider | undefined>
  /** CRM tickets of the built-in CRM adapter (issue 12, item 3): the admin API's tickets, `ticket_id` of calls. */
  readonly crmTickets: TicketsService
  // The campaign dialer (issue 12, item 5)
  /** Runs campaigns: one self-rescheduling runner per campaign, started when contacts are added. */
  readonly dialer: DialerService
  // The console's supervisor view (issue 11, item 4)
  /** Queues now with their service level, agents by status, and the supervisor charts' aggregates. */
  readonly supervisor: SupervisorService
}

/** Core's thumbnailer port over sharp: an unreadable image is `undefined`, anything else a failure. */
const sharpThumbnailer: Thumbnailer = (image) => jpegThumbnail(image).then((t) => ({ bytes: t.bytes, contentType: t.contentType }), (err: unknown) => {
  if (err instanceof UnreadableImageError) return undefined
  throw err
})

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
  /** Options of the bulk-message job (its concurrency; the tests' crash hook). */
  bulkMessageJob?: BulkMessageJobOptions
  /** Options of the messaging operation job (batch size; the tests' pacing hook). */
  operationJob?: OperationJobOptions
  /** Where APNs and FCM live when not at their public hosts (an operator's proxy; the tests' local peers). */
  pushEndpoints?: PushEndpoints
  /** Options of the multicast job (batch size; the tests' crash hook). */
  multicastJob?: MulticastJobOptions
  /** The campaign dialer's pacing of rounds and abandon-rate ceiling (tests, the bench). */
  dialer?: DialerOptions
}

/** Build the services over an open store. Jobs are defined here, before anything starts the queue. */
export function createServices(config: Config, store: Store, options: CreateServicesOptions = {}): Services {
  const jobs = new JobQueue({
    db: store.db, url: store.url, superviseIntervalSeconds: config.jobSuperviseSeconds, ...(options.logger ? { logger: options.logger } : {}),
    // Workers wake for jobs other processes commit (pg-boss's NOTIFY) instead of at their next poll.
    notifier: store.notifier, ...options.jobs,
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
    // Files an outbox message lists (a user email's attachments), read at each attempt.
    readFile: async (tenantId, key) => readAll(await files.read(tenantId, key)),
  })
  const suppression = new SuppressionService(store.db)
  // Compliance first, explicitly: STOP/START/HELP are answered here and never reach the bot.
  delivery.onInbound(keywordHandler({ suppression, delivery, tenantInfo: (id) => tenants.messagingSettings(id) }), { phase: 'compliance' })
  const webhooks = new DeliveryWebhooks(store.db, {
    delivery, tracking, adapter: (channel, settings) => providers.resolve(channel, settings),
    // A text account's numbers are signed by its own (sub-)account at the vendor (texts, wired below).
    accountSecrets: (tenantId, vendor, accountId) => texts.webhookSecret(tenantId, vendor, accountId),
  })
  // Tenant webhook URLs go through the guarded client: the outbound URL policy holds at every connection.
  const outboundWebhooks = new OutboundWebhooksService(store.db, jobs, {
    // The contact center's chat events go to the URL of its setup file, signed with its secrets.
    // Messaging announcers' events (`messaging.<event>:<announcer id>`) go to that announcer's URL.
    // Texts' callbacks (`texts.<kind>:<id>`) go to the text's callback URLs (README "Texts and numbers").
    targets: options.webhookTargets ?? {
      resolve: async (tenantId, topic) => (topic === 'ccai.chat' ? ccSetup.webhookTarget(tenantId) : topic.startsWith('texts.') ? texts.webhookTarget(tenantId, topic) : announcers.webhookTarget(tenantId, topic)),
    },
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
  // A consumer's reply to an active SMS session joins it (and never reaches the bot).
  delivery.onInbound((message) => smsSessions.inboundHandler(message))
  // Then a reply on a messaging channel's SMS path joins that channel (README "Messaging API: channel SMS").
  delivery.onInbound((message) => channelSms.inboundHandler(message))
  delivery.onInbound(bot.inboundHandler)
  const firing = new NotificationFiring<ThreadSet>(store.db, { bot, threads })
  const ccSetup = new SetupService({ db: store.db, secretKey: config.secretKey, threadNames: async (id) => (await threads.current({ id })).names })
  const routing = new RoutingService(store.db, { onError: (err) => options.logger?.error({ err }, 'routing pass failed') })
  routing.useOfferTimeout(async (tenantId, trx) => (await ccSetup.settings(tenantId, trx))?.offerTimeoutSeconds ?? 30)
  agents.onEvents({ agentAvailable: (tenantId) => void routing.kick(tenantId) })
  const chats: ChatsService = new ChatsService({
    db: store.db, jobs, routing,
    // The Apps API owns the wire shape of its webhooks; one ordering key per chat keeps them in order.
    webhook: async (trx, tenantId, event, key) => {
      await outboundWebhooks.enqueue(trx, tenantId, { topic: 'ccai.chat', body: presentChatWebhook(event), idempotencyKey: key, orderingKey: `chat:${event.chat.num}` })
    },
    wakeWebhooks: () => outboundWebhooks.wake(),
    sms: { deliverAgentMessage: (trx, tenantId, chatNum, message): Promise<void> => smsSessions.deliverAgentMessage(trx, tenantId, chatNum, message), wake: () => delivery.wake() },
    // A queue's virtual agent runs the tenant's bot thread named in its setup.
    threads: (tenantId) => threads.current({ id: tenantId }),
    onError: (err) => options.logger?.error({ err }, 'chat lifecycle sweep failed'),
    media: (db, tenantId, sessionId) => chatMedia.forSession(db, tenantId, sessionId),
  })
  const directory = new DirectoryService(store.db, people)
  const organizations = new Organizations((tenantId) => directory.clinics(tenantId))
  const orgPreferences = new OrgPreferences(store.db, organizations)
  // A channel's `text-number-id` is one of the texts domain's numbers (texts, wired below).
  const channels = new ChannelsService({
    db: store.db, peopleLookups, organizations, orgPreferences,
    textNumbers: { sender: (db, tenantId, organizationId, numberId) => texts.numberSender(db, tenantId, organizationId, numberId) },
  })
  const smsSessions: SmsSessionsService = new SmsSessionsService({
    db: store.db, chats, routing, delivery, suppression,
    endUsers: { forPhone: (trx, tenantId, e164) => endUsers.forPhone(trx, tenantId, e164) },
    webhook: async (trx, tenantId, event, key) => {
      await outboundWebhooks.enqueue(trx, tenantId, { topic: 'ccai.chat', body: presentChatWebhook(event), idempotencyKey: key, orderingKey: `chat:${event.chat.num}` })
    },
    wakeWebhooks: () => outboundWebhooks.wake(),
  })
  // C5/H18 update the contact of the session's CRM ticket through the built-in CRM adapter (wired at the end).
  const endUsers = new EndUsersService({ db: store.db, people: peopleLookups, crm: { linkContact: (trx, tenantId, ticketId, update) => crmTickets.linkContact(trx, tenantId, ticketId, update) } })
  // --- messaging channels' SMS path (branch msgchan): posts go out by SMS; replies come back in.
  const channelSms = new ChannelSmsService({ db: store.db, channels, delivery, people: peopleLookups })
  const files = new FilesService({
    store: fileStore(config), secretKey: config.secretKey, publicUrl: config.publicUrl,
    maxBytes: config.files.maxBytes, urlSeconds: config.files.urlSeconds,
  })
  const attachments = new AttachmentsService({ db: store.db, files, channels, thumbnailer: sharpThumbnailer })
  const messages = new MessagesService({ db: store.db, peopleLookups, channels, sms: channelSms, attachments: (db, tenantId, ids, thumbnails) => attachments.forMessages(db, tenantId, ids, thumbnails) })
  const chatMedia: ChatMediaService = new ChatMediaService({ db: store.db, files, chats })
  // Bulk messages (#36–#43): their job posts through the messages and channels above.
  const bulkMessages = new BulkMessagesService({ db: store.db, jobs, channels, messages, directory, attachments, people: peopleLookups })
  defineMessagingJobs(jobs, { bulkMessages, tenants, ...(options.bulkMessageJob ? { options: options.bulkMessageJob } : {}) })
  const chatProfile = new ChatProfileService({ db: store.db, companySecret: (tenantId) => tenants.companySecret(tenantId) })
  // ── Messaging plugins and responders (#66–#78): responders answer through the posting hook ──
  const messagingPlugins = new PluginsService({ db: store.db, organizations, channels, directory })
  const messagingResponders = new RespondersService({
    db: store.db, organizations, directory, plugins: messagingPlugins, messages,
    onError: (err, context) => options.logger?.error({ err, ...context }, 'messaging responder failed'),
  })
  messages.onPosted((tenant, message) => messagingResponders.onPosted(tenant, message), (tenant, ms) => messagingResponders.onPostedMany(tenant, ms))
  // ── Announcers (#2–#5): events queued as signed webhooks in the transaction of the post or the sharing ──
  const announcers: AnnouncersService = new AnnouncersService({ db: store.db, organizations, peopleLookups, webhooks: outboundWebhooks, secretKey: config.secretKey, urlPolicy: config.urlPolicy })
  messages.addPostedPort({
    posted: (trx, tenantId, m) => announcers.messagePosted(trx, tenantId, m), listening: (trx, tenantId) => announcers.anyListening(trx, tenantId, 'message-posted'), wake: () => announcers.wake(),
  })
  channels.addSharedPort({
    shared: (trx, tenantId, s) => announcers.individualsShared(trx, tenantId, s), listening: (trx, tenantId) => announcers.anyListening(trx, tenantId, 'individual-shared'), wake: () => announcers.wake(),
  })
  // ── Aggregation requests (#1): computed by `messaging.aggregate` ──
  const aggregations = new AggregationRequestsService({ db: store.db, jobs, peopleLookups })
  defineAggregationJobs(jobs, { aggregations })
  // ── Messaging operations (#63–#65) and the cleanup of attachments whose upload never completed ──
  const operations = new OperationsService({ db: store.db, jobs, organizations, directory })
  defineMessagingOperationJobs(jobs, { operations, attachments, ...(options.operationJob ? { options: options.operationJob } : {}) })
  // Purge-data (#86): erases through every domain's tables in one transaction, files after it.
  const privacy = new PrivacyService({ db: store.db, jobs, files, people: peopleLookups })
  definePrivacyJobs(jobs, { privacy })
  // ── Push (issue 13, item 3): app credentials, devices, badge counts, and the push to an individual ──
  const appCredentials = new AppCredentialsService({ db: store.db, organizations, secretKey: config.secretKey })
  const userDevices = new UserDevicesService({ db: store.db, peopleLookups })
  const badgeCounts = new BadgeCountsService({ db: store.db, organizations, peopleLookups })
  // User notifications (#131–#134): recorded by pushes to individuals and by multicasts.
  const userNotifications = new UserNotificationsService({ db: store.db, organizations, peopleLookups })
  const push = new PushService({ notifications: userNotifications,
    db: store.db, peopleLookups, devices: userDevices, credentials: appCredentials, badges: badgeCounts, suppression, providers: providerResolver(providers),
    channelSettings: options.channelSettings ?? providerSettings.channelSettings, ...(options.pushEndpoints ? { endpoints: options.pushEndpoints } : {}),
  })
  // ── User emails (issue 13, item 6): sent through delivery; pending attachments pruned periodically ──
  const userEmails = new UserEmailsService({ db: store.db, delivery, files, peopleLookups, organizations })
  defineUserEmailJobs(jobs, { userEmails })
  // ── Campaigns (issue 12, item 5): contacts of the setup file's campaigns, checked against the DNC list ──
  const dnc = new DncService(store.db)
  const campaigns = new CampaignsService({ db: store.db, jobs, dnc })
  defineCampaignJobs(jobs, { campaigns })
  // ── Templated multicasts (issue 13, item 2) ──
  const templates = new TemplatesService(store.db)
  const multicasts = new MulticastsService({ db: store.db, jobs, templates, delivery, push, people: peopleLookups, channels, directory, organizations, notifications: userNotifications })
  defineMulticastJobs(jobs, { multicasts, tenants, ...(options.multicastJob ? { options: options.multicastJob } : {}) })
  // ── Texts and numbers (issue 13, item 4): accounts and numbers on the tenant's SMS vendor, texts through delivery ──
  const texts: TextsService = new TextsService({
    db: store.db, jobs, delivery, organizations, webhooks: outboundWebhooks, secretKey: config.secretKey, publicUrl: config.publicUrl,
    servesChannels: (tenantId, numberId) => channelSms.servesNumber(tenantId, numberId),
    numbers: async (tenantId) => numbersProviderFor(await delivery.channelSettings(tenantId, 'sms'), { urlPolicy: config.urlPolicy }),
  })
  defineTextJobs(jobs, { texts })
  // Texts to an account number are the texts domain's (receive logs, forwarding, replies): after STOP/HELP, before any conversation.
  delivery.onInbound((message) => texts.inboundHandler(message), { phase: 'compliance' })
  // ── User consents (issue 13, item 5): the SMS opt-in conversation answers before the keywords and
  // the bot (the `consent` inbound phase); delivery asks it about promotional SMS ──
  const userConsents = new UserConsentsService({ db: store.db, delivery, suppression, organizations, peopleLookups })
  delivery.onInbound(userConsents.inboundHandler, { phase: 'consent' })
  delivery.setConsentGate(userConsents.gate)
  // ── Calls (issue 12, items 1–2): on the tenant's `voice` provider; the sandbox's callbacks are jobs ──
  const voiceSettings = (tenantId: TenantId) => (options.channelSettings ?? providerSettings.channelSettings)(tenantId, 'voice') as Promise<VoiceSettings | undefined>
  const calls: CallsService = new CallsService({
    db: store.db, jobs, routing, dnc, publicUrl: config.publicUrl,
    endUsers: { forPhone: (trx, tenantId, e164) => endUsers.forPhone(trx, tenantId, e164) },
    // `ticket_id` resolves through the built-in CRM adapter (wired at the end).
    tickets: { findTicket: (tenantId, ticketId) => crmTickets.findTicket(tenantId, ticketId) },
    voice: async (tenantId, attempt) => createCallControl(await voiceSettings(tenantId), voiceDeps(tenantId), attempt),
    onError: (err) => options.logger?.error({ err }, 'call telephony failed'),
  })
  function voiceDeps(tenantId: TenantId): VoiceProviderDeps {
    return {
      // One job per simulated event, keyed by the leg and status: durable, never twice.
      sandboxEmit: async (event, delayMs) => {
        await jobs.enqueue(store.db, CALL_LEG_EVENT_JOB, {
          tenantId, providerCallId: event.providerCallId, status: event.status, ...(event.legId ? { legId: event.legId } : {}),
          ...(event.durationSeconds !== undefined ? { durationSeconds: event.durationSeconds } : {}), ...(event.recordingUrl ? { recordingUrl: event.recordingUrl } : {}),
          ...(event.digits !== undefined ? { digits: event.digits } : {}),
        }, { key: `voice-sandbox:${tenantId}:${event.providerCallId}:${event.status}${event.digits !== undefined ? ':digits' : ''}`, runAt: new Date(Date.now() + delayMs), tenantId })
      },
      http: { urlPolicy: config.urlPolicy },
    }
  }
  defineCallJobs(jobs, { calls })
  /** A vendor's call control among the tenant's voice settings (its own or its fallback's), for that vendor's callbacks. */
  const voiceVendor = async (tenantId: TenantId, vendor: string): Promise<CallControlProvider | undefined> => {
    const settings = await voiceSettings(tenantId)
    for (const attempt of [0, 1] as const) {
      const chosen = attempt === 0 ? settings : fallbackOf(settings)
      if ((chosen?.provider ?? 'sandbox') !== vendor) continue
      try {
        return createCallControl(settings, voiceDeps(tenantId), attempt)
      } catch {
        return undefined
      }
    }
    return undefined
  }
  // ── CRM tickets (issue 12, item 3): the built-in CRM adapter; `ticket_id` of calls and C5's contact update ──
  const crmTickets = new TicketsService({ db: store.db, publicUrl: config.publicUrl })
  // ── The campaign dialer (issue 12, item 5): a runner per campaign, dialling through calls ──
  const dialer = new DialerService({ db: store.db, jobs, dnc, calls: () => calls, ...(options.dialer ? { options: options.dialer } : {}) })
  campaigns.onContactsAdded((tenantId, campaignId) => dialer.ensure(tenantId, campaignId))
  defineDialerJobs(jobs, { dialer })
  const queues = new QueuesService({ db: store.db, load: new SessionQueueLoad(store.db) })
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
    smsSessions,
    // Wait estimates read the live sessions: queue lengths, recent handle times, each agent's load.
    queues,
    agentEvents: new AgentEvents(store.db, store.notifier),
    organizations,
    orgPreferences,
    channels,
    messages,
    channelSms,
    messagingPlugins,
    messagingResponders,
    directory,
    sniffers: new SniffersService(store.db),
    replicators: new ReplicatorsService(store.db),
    scheduling,
    firing,
    suppression,
    providerSettings,
    webhooks,
    providers,
    outboundWebhooks,
    files,
    endUsers,
    chatMedia,
    chatProfile,
    attachments,
    bookmarks: new BookmarksService({ db: store.db, channels, organizations }),
    bulkMessages,
    announcers,
    aggregations,
    operations,
    profiles: new ProfilesService({ db: store.db, channels }),
    privacy,
    // The web console (issue 11)
    // Agents sign in to the console with their agent credentials (the agent API's sign-in).
    console: new ConsoleService(store.db, config.secretKey, {
      signIn: (email, password, ip, company) => agents.signIn(email, password, ip, company),
      signOutToken: async (token) => {
        const signed = await agents.authenticate(token).catch(() => null)
        if (signed) await agents.signOut(signed.agent, signed.sessionId)
      },
    }),
    peopleSearch: new PeopleSearch(store.db),
    personActions: new PersonActions({
      db: store.db, suppression, people: peopleLookups, notifier: store.notifier,
      // The person page's "ping into a thread": the person API's ping, by the person's Cass id.
      bot: {
        threadNames: async (tenantId) => [...(await threads.current({ id: tenantId })).names],
        ping: async (tenantId, person, threadName) => {
          const tenant = await tenants.findById(tenantId)
          if (tenant) await bot.ping(tenant, { personRef: person.cassId, threadName, wait: true })
        },
      },
    }),
    // Message templates (issue 13)
    templates,
    appCredentials,
    userDevices,
    badgeCounts,
    push,
    userEmails,
    dnc,
    campaigns,
    multicasts,
    texts,
    userConsents,
    userNotifications,
    calls,
    voiceVendor,
    crmTickets,
    dialer,
    // The console's supervisor view (issue 11, item 4)
    supervisor: new SupervisorService({ db: store.db, agents, queues }),
  }
}

/** A stored file's bytes, whole (an e-mail attachment: bounded by the file store's size limit). */
async function readAll(file: { stream: NodeJS.ReadableStream }): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of file.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks)
}
