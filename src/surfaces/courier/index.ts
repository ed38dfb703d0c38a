import type { FastifyInstance } from 'fastify'
import { registerErrorHandling } from '../../http/errors.ts'
import { JSONAPI_ERROR_SHAPE } from '../../http/jsonapi/errors.ts'
import { registerResource, type JsonApiResource } from '../../http/jsonapi/resource.ts'
import { declareSurface } from '../../http/openapi.ts'
import { SECURITY } from '../../http/params.ts'
import { setTenant } from '../../http/tenant.ts'
import type { Services } from '../../services.ts'
import { authenticateCourier } from './auth.ts'
import { orgPreferencesResource } from './resources/org-preferences.ts'
import { organizationsResource } from './resources/organizations.ts'
import { communicationMessagesResource, messagingChannelsResource, registerCommunicationSummaries } from './resources/messaging-channels.ts'
import { messagingMessagesResource } from './resources/messaging-messages.ts'
import { individualsResource } from './resources/individuals.ts'
import { individualGroupsResource } from './resources/individual-groups.ts'
import { usersResource } from './resources/users.ts'
import { messagingAttachmentsResource } from './resources/messaging-attachments.ts'
import { messagingBookmarksResource } from './resources/messaging-bookmarks.ts'
import { replicatorsResource, sniffersResource } from './resources/system.ts'
import { captureForSniffers } from './sniff.ts'
import { messagingPluginsResource } from './resources/messaging-plugins.ts'
import { messagingRespondersResource } from './resources/messaging-responders.ts'
import { messagingBulkMessagesResource } from './resources/messaging-bulk-messages.ts'
import { messagingBulkAttachmentsResource } from './resources/messaging-bulk-attachments.ts'
import { announcersResource } from './resources/announcers.ts'
import { aggregationRequestsResource } from './resources/aggregation-requests.ts'
import { messagingOperationsResource } from './resources/messaging-operations.ts'
import { systemPurgesResource } from './resources/system-purges.ts'
import { appCredentialsResource } from './resources/app-credentials.ts'
import { userDevicesResource } from './resources/user-devices.ts'
import { badgeCountsResource, bulkBadgeCountsResource } from './resources/badge-counts.ts'
import { userEmailAttachmentsResource, userEmailsResource } from './resources/user-emails.ts'
import { multicastsResource, userMulticastsResource } from './resources/multicasts.ts'
import {
  registerTextCallback, textAccountNumbersResource, textAccountsResource, textNumberInfoResource, textNumberLogsResource, textReceiveLogsResource, textsResource, textUserNumberMapsResource,
} from './resources/texts.ts'
import { userConsentsResource } from './resources/user-consents.ts'
import { registerNotificationCounts, userNotificationsResource } from './resources/user-notifications.ts'

/** Where the messaging API lives; an unknown path under them is a JSON:API 404. */
const PREFIXES = ['/v1', '/v2'] as const

/**
 * The messaging API (`spec/courier.md`): JSON:API resources declared in `resources/` over core
 * services and registered by the generic layer (`src/http/jsonapi/`). Every request is
 * authenticated with the organisation API key before its body is read; every error is a §1.7
 * error object.
 */
export async function courierSurface(app: FastifyInstance, { services }: { services: Services }) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const resources: JsonApiResource<any, any, any, any>[] = [
    messagingChannelsResource(services), messagingMessagesResource(services), organizationsResource(services), orgPreferencesResource(services),
  ]
  resources.push(individualsResource(services), individualGroupsResource(services), usersResource(services))
  // Messaging attachments and bookmarks (#28–#35)
  resources.push(messagingAttachmentsResource(services), messagingBookmarksResource(services))
  // System: replicators and sniffers (#87–#91)
  resources.push(replicatorsResource(services), sniffersResource(services))
  resources.push(communicationMessagesResource(services))
  resources.push(messagingPluginsResource(services), messagingRespondersResource(services))
  // Bulk messages and bulk attachments (#36–#43)
  resources.push(messagingBulkMessagesResource(services), messagingBulkAttachmentsResource(services))
  // Announcers (#2–#5) and aggregation requests (#1)
  resources.push(announcersResource(services), aggregationRequestsResource(services))
  // Messaging operations (#63–#65)
  resources.push(messagingOperationsResource(services))
  // Purge-data (#86)
  resources.push(systemPurgesResource(services))
  // Push: app credentials (#6–#9), badge counts (#18–#21), user devices (#118–#120)
  resources.push(appCredentialsResource(services), badgeCountsResource(services), bulkBadgeCountsResource(services), userDevicesResource(services))
  // User emails and their attachments (#121–#128)
  resources.push(userEmailAttachmentsResource(services), userEmailsResource(services))
  // Templated multicasts (#79–#81, #129–#130; #26 and #138 are actions of individuals and users)
  resources.push(multicastsResource(services), userMulticastsResource(services))
  // Texts and numbers (#92–#112; #113 is registered apart: the vendor's signature, not the API key, authenticates it)
  resources.push(
    textAccountNumbersResource(services), textAccountsResource(services), textNumberInfoResource(services), textNumberLogsResource(services),
    textReceiveLogsResource(services), textUserNumberMapsResource(services), textsResource(services),
  )
  // User consents (#115–#117) and user notifications (#132–#134; #131 is registered below)
  resources.push(userConsentsResource(services), userNotificationsResource(services))
  for (const prefix of PREFIXES) {
    await app.register(async (scope) => {
      declareSurface(scope, 'courier')
      scope.addHook('onRoute', (route) => {
        if (route.schema && !route.schema.security) route.schema.security = SECURITY.apiKey
      })
      registerErrorHandling(scope, JSONAPI_ERROR_SHAPE, { notFound: true })
      scope.addHook('onRequest', async (req) => {
        setTenant(req, await authenticateCourier(req, services.tenants, services.directory))
      })
      captureForSniffers(scope, services)
      for (const r of resources) {
        if (r.path.startsWith(`${prefix}/`)) registerResource(scope, { ...r, path: r.path.slice(prefix.length) })
      }
      if (prefix === '/v1') registerCommunicationSummaries(scope, services)
      if (prefix === '/v1') registerNotificationCounts(scope, services)
    }, { prefix })
  }
  await registerTextCallback(app, services)
}
