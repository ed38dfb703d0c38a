export { Organizations, type Organization } from './organizations.ts'
export {
  OrgPreferences, ORG_PREFERENCE_NAMES, ORG_PREFERENCE_TYPES, ORG_PREFERENCE_DEFAULTS,
  type OrgPreference, type OrgPreferenceName, type OrgPreferenceType, type SetOrgPreference,
} from './org-preferences.ts'
export { ChannelsService, SUBSCRIPTION_TYPES, type Channel, type ChannelGroup, type Subscriber, type CreateChannel, type PatchOp, type ChannelQuery, type SubscriptionType } from './channels.ts'
export { ChannelSmsService, type ChannelSmsDelivery, type SetSms } from './channel-sms.ts'
export { MessagesService, type MessagePostedPort, type CommunicationSummary, REACTION_TYPES, type Message, type Receipt, type ReactionType, type PostMessage, type MessageQuery, type MessageAttachment } from './messages.ts'
export { DirectoryService, ORGANIZATION_VIEWER, USER_TOKEN_PREFIX, type DirectoryViewer, type Individual, type IndividualGroup, type DirectoryUser, type Clinic, type UserFilters } from './directory.service.ts'
export { IMPORT_BATCH, MAX_DIRECTORY_TEXT, type DirectorySource, type DirectoryImportResult, type ImportCounts, type ImportProgress } from './directory.import.ts'
export { DirectoryFileJsonSchema } from './directory.schema.ts'
export type { ClinicSource } from './organizations.ts'
export { AttachmentsService, PENDING_UPLOAD_GRACE_MS, type Attachment, type AttachmentTicket, type CreateAttachment, type AttachmentQuery, type Thumbnailer } from './attachments.ts'
export { BookmarksService, type Bookmark, type CreateBookmark } from './bookmarks.ts'
// System resources (#87–#91)
export { SniffersService, MAX_SNIFFER_SECONDS, redactBody, redactQuery, type Sniffer, type SnifferLog, type SniffedRequest } from './sniffers.ts'
export { ReplicatorsService, DIRECTORY_IMPORT_REPLICATOR, type Replicator } from './replicators.ts'
export { PluginsService, PLUGIN_TYPES, PLUGIN_TEXT_MAX, checkPluginArgs, type Plugin, type PluginInput, type PluginType } from './plugins.ts'
export { RespondersService, RESPONDER_TYPES, RESPONDER_MESSAGE_MAX, AUTO_RESPONDER_SOURCE, type Responder, type ResponderInput, type ResponderQuery, type ResponderSortField } from './responders.ts'
export { RULE_DAYS, TIME_PATTERN, DEFAULT_CALENDAR, activeWindowStart, calendarHours, calendarProblem, type CalendarArgs, type CalendarRule, type RuleDay } from './responder-calendar.ts'
export { PLACEHOLDERS, renderPlaceholders, unknownPlaceholders, type PlaceholderSubject } from './placeholders.ts'
// Bulk messages and bulk attachments (#36–#43)
export { BulkMessagesService, BULK_MESSAGE_JOB, type BulkMessage, type CreateBulkMessage, type BulkRunHooks } from './bulk-messages.ts'
export type { BulkAttachment, BulkAttachmentTicket, CreateBulkAttachment } from './attachments.ts'
// Announcers (#2–#5) and aggregation requests (#1)
export { AnnouncersService, ANNOUNCER_EVENTS, ANNOUNCER_TYPES, ANNOUNCER_SECRET_MIN, ANNOUNCER_SECRET_MAX, maskAnnouncerSecret, requireOrganizationKey, type Announcer, type AnnouncerInput, type AnnouncerEvent, type AnnouncerWebhooks } from './announcers.ts'
export { AggregationRequestsService, AGGREGATION_COLUMNS, AGGREGATION_JOB, MAX_AGGREGATION_ENTRIES, type AggregationRequest, type AggregationEntry, type AggregationColumn } from './aggregation-requests.ts'
// Messaging operations (#63–#65)
export { OperationsService, OPERATION_JOB, OPERATION_TYPES, type Operation, type OperationType, type OperationStatus, type CreateOperation, type MoveGroupArgs, type OperationRunHooks } from './operations.ts'
// Profiles of channel members (#49)
export { ProfilesService, type IndividualProfile } from './profiles.ts'
// Multicast parameters (#139): templates rendered for one individual without sending
export { validateMulticastParams, recipientOf, type MulticastParams, type MulticastParamsDeps } from './multicast-params.ts'
// Templated multicasts (#26, #79–#81, #129–#130, #138)
export { MulticastsService, MULTICAST_JOB, FILTER_TYPES, type Multicast, type UserMulticast, type CreateMulticast, type MulticastRunHooks, type MulticastKind } from './multicasts.ts'
