import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { ChannelProviderSettings, ProviderResolver } from '../delivery/index.ts'
import { NotFoundError } from '../errors.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { SuppressionService } from '../suppression/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { AppCredentialsService } from './app-credentials.ts'
import type { BadgeCountsService } from './badge-counts.ts'
import type { DeviceLogEntry, PushStatus, UserDevicesService } from './devices.ts'
import { pushRendering, type UserNotificationsService } from './user-notifications.ts'

/** A notification for an individual's devices. */
export interface PushNotification {
  readonly title: string
  readonly body: string
  /** The notification category (APNs `aps.category`; also in the log). */
  readonly category?: string | undefined
  /** Custom keys delivered with the notification (next to `aps`; FCM `data`; Web Push `data`). */
  readonly data?: Readonly<Record<string, unknown>> | undefined
}

/** What became of the push to one device. */
export interface DevicePush {
  readonly deviceId: string
  /** The id of its user-device-logs entry. */
  readonly logId: string
  readonly type: 'apn' | 'fcm' | 'web'
  readonly status: PushStatus
  readonly error?: string | undefined
}

/** What `sendToIndividual` did: the badge it sent and one entry per device it considered. */
export interface PushResult {
  readonly individualId: string
  readonly badge: number
  readonly devices: readonly DevicePush[]
}

/**
 * Where the vendors live, when not at their public hosts (an operator's proxy, the tests' local
 * peers): APNs per environment with the CA of a private TLS peer, and FCM's base URL.
 */
export interface PushEndpoints {
  readonly apns?: { readonly production?: { readonly url: string; readonly ca?: string }; readonly sandbox?: { readonly url: string; readonly ca?: string } }
  readonly fcm?: string
}

/**
 * Push to an individual's devices. Each active device that allows notifications gets the
 * notification through its vendor — APNs (HTTP/2, token auth) or FCM v1 with the organisation's
 * app credential for the device's `app-name` (APNs's sandbox when the credential is in
 * `test-mode` or the device is a `sandbox` build), Web Push with the tenant's `webpush` provider
 * settings (VAPID) — with the individual's badge (the sum of its badge counts). The suppression
 * list holds a push back: an entry of scope `push` (or `all`) for the individual's id, or for the
 * device's token (a web device's subscription endpoint). A token the vendor reports unregistered
 * deactivates its device. Every push, sent or not, is recorded with its outcome in the device's
 * logs (#120). Sends are immediate (the caller — a request, a multicast job — decides about
 * retrying); a failure of one device does not stop the others.
 */
export class PushService {
  readonly #db: Kysely<DB>
  readonly #people: PeopleLookups
  readonly #devices: UserDevicesService
  readonly #credentials: AppCredentialsService
  readonly #badges: BadgeCountsService
  readonly #suppression: SuppressionService
  readonly #providers: ProviderResolver
  readonly #channelSettings: (tenantId: TenantId, channel: 'push') => Promise<ChannelProviderSettings | undefined>
  readonly #endpoints: PushEndpoints
  readonly #notifications: UserNotificationsService | undefined

  constructor(deps: {
    db: Kysely<DB>; peopleLookups: PeopleLookups; devices: UserDevicesService; credentials: AppCredentialsService; badges: BadgeCountsService
    suppression: SuppressionService; providers: ProviderResolver; channelSettings: (tenantId: TenantId, channel: 'push') => Promise<ChannelProviderSettings | undefined>
    endpoints?: PushEndpoints
    /** Where a push to an individual is recorded as their user notification (#132), with the devices' logs. */
    notifications?: UserNotificationsService
  }) {
    this.#notifications = deps.notifications
    this.#db = deps.db
    this.#people = deps.peopleLookups
    this.#devices = deps.devices
    this.#credentials = deps.credentials
    this.#badges = deps.badges
    this.#suppression = deps.suppression
    this.#providers = deps.providers
    this.#channelSettings = deps.channelSettings
    this.#endpoints = deps.endpoints ?? {}
  }

  /**
   * Push `n` to every active device of the individual (its Cass id). NotFoundError
   * `resource_not_found` for an unknown individual. The devices' logs and — unless `record` is
   * false (a multicast records its own) — the individual's user notification (#132) are written in
   * one transaction once every device was tried.
   */
  async sendToIndividual(tenant: Pick<Tenant, 'id'>, individualId: string, n: PushNotification, opts: { record?: boolean; organizationId?: string } = {}): Promise<PushResult> {
    const person = await this.#people.findByCassId(this.#db, tenant.id, individualId)
    if (!person) throw new NotFoundError('resource_not_found', `No individuals with id ${individualId}`, { type: 'individuals', id: individualId })
    const devices = await this.#devices.pushable(tenant.id, person.id)
    const badge = await this.#badges.total(tenant.id, person.id)
    const personSuppressed = await this.#suppression.isSuppressed(tenant, 'push', person.cassId)
    const category = n.category ?? ''
    const logs: DeviceLogEntry[] = []
    const results = await Promise.all(devices.map(async (device): Promise<DevicePush> => {
      const logId = randomUUID()
      const finish = async (status: PushStatus, error?: string, providerMessageId?: string): Promise<DevicePush> => {
        logs.push({ id: logId, deviceId: device.id, title: n.title, body: n.body, category, badgeCount: badge, data: { ...n.data }, status, error, providerMessageId })
        return { deviceId: device.id, logId, type: device.type, status, ...(error !== undefined ? { error } : {}) }
      }
      const address = device.type === 'web' ? endpointOf(device.token) : device.token
      if (personSuppressed || (address !== undefined && address.length <= 500 && (await this.#suppression.isSuppressed(tenant, 'push', address)))) {
        return finish('suppressed', 'on the suppression list for push')
      }
      const settings = await this.#settings(tenant.id, device)
      if (!settings) return finish('no-credentials', device.type === 'web' ? 'no webpush provider settings for push' : `no live ${device.type} app credential for app "${device.app_name}"`)
      try {
        const provider = this.#providers.resolve('push', settings)
        const accepted = await provider.send({
          id: logId, channel: 'push', to: device.token, subject: n.title, body: n.body,
          data: { ...n.data, badge, 'badge-count': badge, ...(n.category !== undefined ? { category: n.category } : {}) },
        })
        return await finish('sent', undefined, accepted.providerMessageId)
      } catch (err) {
        const code = this.#providers.errorCode?.(err)
        const message = err instanceof Error ? err.message : String(err)
        if (code === 'unregistered') {
          await this.#devices.deactivate(tenant.id, device.id, message)
          return finish('unregistered', message)
        }
        return finish('failed', message)
      }
    }))
    const record = opts.record !== false && this.#notifications
    await this.#db.transaction().execute(async (trx) => {
      await this.#devices.logMany(trx, tenant.id, logs)
      if (record) {
        const r = pushRendering(n)
        await this.#notifications!.record(trx, tenant.id, [{
          personId: person.id, organizationId: opts.organizationId ?? tenant.id, category,
          data: { apn: r, fcm: r, sms: { bodies: [] }, web: r }, active: results.some((d) => d.status === 'sent'),
        }])
      }
    })
    return { individualId: person.cassId, badge, devices: results }
  }

  /** The provider settings for a device, or undefined when the tenant has none that can reach it. */
  async #settings(tenantId: TenantId, device: { type: 'apn' | 'fcm' | 'web'; app_name: string; topic: string; sandbox: boolean }): Promise<ChannelProviderSettings | undefined> {
    if (device.type === 'web') {
      const s = await this.#channelSettings(tenantId, 'push')
      return s?.provider === 'webpush' ? s : undefined
    }
    const cred = await this.#credentials.forApp(tenantId, device.type, device.app_name)
    if (!cred) return undefined
    if (cred.type === 'apn') {
      const environment = cred.testMode || device.sandbox ? 'sandbox' : 'production'
      const endpoint = this.#endpoints.apns?.[environment]
      return {
        provider: 'apns', teamId: cred.teamId, keyId: cred.keyId, privateKey: cred.privateKey, topic: device.topic !== '' ? device.topic : cred.bundleId, environment,
        ...(endpoint ? { baseUrl: endpoint.url } : {}), ...(endpoint?.ca ? { ca: endpoint.ca } : {}),
      }
    }
    return { provider: 'fcm', serviceAccount: cred.serviceAccount, projectId: cred.projectId, ...(this.#endpoints.fcm ? { baseUrl: this.#endpoints.fcm } : {}) }
  }
}

/** A web device's address on the suppression list: its subscription's endpoint. */
function endpointOf(token: string): string | undefined {
  try {
    const sub = JSON.parse(token) as { endpoint?: unknown }
    return typeof sub.endpoint === 'string' ? sub.endpoint : undefined
  } catch {
    return undefined
  }
}
