import type { KeyObject } from 'node:crypto'
import { vendorHttp, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import {
  assertChannel, badSettings, baseUrl, customPushData, optionalInteger, optionalString, post, privateKey, readJson, retryAfterMs, signJwt,
  DEFAULT_TIMEOUT_MS,
} from '../support.ts'
import { ProviderError, type OutboundMessage, type PushProvider, type SendResult } from '../types.ts'

const VENDOR = 'fcm'
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'
const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** An access token is used until this long before it expires. */
const TOKEN_MARGIN_MS = 60_000

/** FCM `errorCode`s (google.firebase.fcm.v1.FcmError) that a retry cannot fix. */
const PERMANENT = new Set(['UNREGISTERED', 'INVALID_ARGUMENT', 'SENDER_ID_MISMATCH', 'THIRD_PARTY_AUTH_ERROR', 'PERMISSION_DENIED', 'NOT_FOUND'])

interface GoogleError {
  code?: number
  message?: string
  status?: string
  details?: Array<{ '@type'?: string; errorCode?: string }>
}

/** An FCM v1 error answer as a ProviderError: the FcmError `errorCode` when given, else the status. */
export function fcmError(httpStatus: number, error: GoogleError | undefined, retryAfter?: number): ProviderError {
  const fcmCode = error?.details?.find((d) => typeof d?.errorCode === 'string')?.errorCode ?? error?.status
  const text = `fcm ${httpStatus}: ${fcmCode ?? 'error'}${error?.message ? ` ${error.message}` : ''}`
  if (fcmCode === 'UNREGISTERED' || (httpStatus === 404 && fcmCode === 'NOT_FOUND')) return new ProviderError('unregistered', text, { retryable: false, status: httpStatus })
  if (fcmCode === 'QUOTA_EXCEEDED' || fcmCode === 'RESOURCE_EXHAUSTED' || httpStatus === 429) {
    return new ProviderError('rate_limited', text, { retryable: true, status: httpStatus, retryAfterMs: retryAfter })
  }
  if (fcmCode === 'UNAVAILABLE' || fcmCode === 'INTERNAL' || httpStatus >= 500) {
    return new ProviderError('unavailable', text, { retryable: true, status: httpStatus, retryAfterMs: retryAfter })
  }
  if (fcmCode === 'INVALID_ARGUMENT') return new ProviderError('invalid_message', text, { retryable: false, status: httpStatus })
  if (fcmCode !== undefined && PERMANENT.has(fcmCode)) return new ProviderError('rejected', text, { retryable: false, status: httpStatus })
  return new ProviderError('rejected', text, { retryable: false, status: httpStatus })
}

interface ServiceAccount {
  projectId: string
  clientEmail: string
  key: KeyObject
  keyId: string | undefined
  tokenUri: string
}

function serviceAccount(settings: ChannelSettings): ServiceAccount {
  let raw = settings.serviceAccount
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw)
    } catch {
      throw badSettings(VENDOR, 'setting "serviceAccount" is not JSON')
    }
  }
  const sa = raw as { project_id?: unknown; client_email?: unknown; private_key?: unknown; private_key_id?: unknown; token_uri?: unknown } | undefined
  if (!sa || typeof sa !== 'object') throw badSettings(VENDOR, 'setting "serviceAccount" (the service account JSON) is required')
  if (typeof sa.client_email !== 'string' || typeof sa.private_key !== 'string') throw badSettings(VENDOR, 'the service account needs client_email and private_key')
  const key = privateKey(VENDOR, sa.private_key, 'serviceAccount.private_key')
  if (key.asymmetricKeyType !== 'rsa') throw badSettings(VENDOR, 'the service account key must be RSA')
  const projectId = optionalString(VENDOR, settings, 'projectId') ?? (typeof sa.project_id === 'string' ? sa.project_id : undefined)
  if (!projectId) throw badSettings(VENDOR, 'no project id (setting "projectId" or the service account\'s project_id)')
  const tokenUri = baseUrl(VENDOR, { provider: VENDOR, tokenUri: sa.token_uri }, 'tokenUri', 'https://oauth2.googleapis.com/token')
  return { projectId, clientEmail: sa.client_email, key, keyId: typeof sa.private_key_id === 'string' ? sa.private_key_id : undefined, tokenUri }
}

/**
 * Firebase Cloud Messaging HTTP v1 (`POST /v1/projects/{project}/messages:send`), authorised with
 * an OAuth 2 access token from the service account (a JWT bearer grant signed RS256, sent to the
 * account's `token_uri`), cached until a minute before it expires.
 * Settings: `serviceAccount` (the service account JSON, as an object or string), `projectId`
 * (default: the account's), `baseUrl` (https://fcm.googleapis.com), `timeoutMs`.
 * The message: `to` is the registration token, `subject` the notification title, `body` its
 * text; `data` keys other than the push control keys travel as FCM `data` (values as strings);
 * `data.collapseId` → Android `collapse_key`, `data.ttl` (seconds) → Android `ttl`,
 * `data.priority` (`high` | `normal`) → Android priority, `data.badge`/`data.sound` → APNs `aps`,
 * `data.category` → APNs `aps.category` and Android `notification.click_action`.
 */
export function createFcmProvider(channel: 'push', settings: ChannelSettings, options: ProviderOptions = {}): PushProvider {
  assertChannel(VENDOR, channel, 'push')
  const sa = serviceAccount(settings)
  const origin = baseUrl(VENDOR, settings, 'baseUrl', 'https://fcm.googleapis.com')
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 300_000) ?? DEFAULT_TIMEOUT_MS
  const endpoint = `${origin}/v1/projects/${encodeURIComponent(sa.projectId)}/messages:send`
  // The base URL and the service account's token_uri are the tenant's to set: every connection
  // (the token request included) is checked as it is made.
  const http = vendorHttp(VENDOR, options)

  let cached: { token: string; expiresAt: number } | undefined
  let pending: Promise<string> | undefined
  const fetchToken = async (): Promise<string> => {
    const now = Math.floor(Date.now() / 1000)
    const assertion = signJwt('RS256', sa.key, { iss: sa.clientEmail, scope: SCOPE, aud: sa.tokenUri, iat: now, exp: now + 3600 }, sa.keyId ? { kid: sa.keyId } : {})
    const res = await post(VENDOR, http, sa.tokenUri, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: GRANT, assertion }).toString(),
      timeoutMs,
    })
    const answer = (await readJson(res)) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined
    if (!res.ok || typeof answer?.access_token !== 'string') {
      const why = `fcm token ${res.status}: ${String(answer?.error ?? 'no access token')}${answer?.error_description ? ` ${String(answer.error_description)}` : ''}`
      // A refused grant (bad key, disabled account) needs new settings; an outage passes.
      const retryable = res.status >= 500 || res.status === 429 || res.ok
      throw new ProviderError(retryable ? 'unavailable' : 'auth_failed', why, { retryable, status: res.status, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) })
    }
    const expiresIn = typeof answer.expires_in === 'number' ? answer.expires_in : 3600
    cached = { token: answer.access_token, expiresAt: Date.now() + expiresIn * 1000 }
    return answer.access_token
  }
  const accessToken = async (): Promise<string> => {
    if (cached && Date.now() < cached.expiresAt - TOKEN_MARGIN_MS) return cached.token
    // Concurrent sends share one token request.
    pending ??= fetchToken().finally(() => {
      pending = undefined
    })
    return pending
  }

  return {
    id: VENDOR,
    channel: 'push',
    async send(message: OutboundMessage & { readonly channel: 'push' }): Promise<SendResult> {
      const data = message.data ?? {}
      const custom: Record<string, string> = {}
      for (const [k, v] of Object.entries(customPushData(data))) custom[k] = typeof v === 'string' ? v : JSON.stringify(v)
      const android: Record<string, unknown> = {}
      if (typeof data.collapseId === 'string') android.collapse_key = data.collapseId
      if (Number.isInteger(data.ttl)) android.ttl = `${data.ttl as number}s`
      if (data.priority === 'high' || data.priority === 'normal') android.priority = data.priority.toUpperCase()
      const aps: Record<string, unknown> = {}
      if (Number.isInteger(data.badge)) aps.badge = data.badge
      if (typeof data.sound === 'string') aps.sound = data.sound
      if (typeof data.category === 'string') {
        // The category picks the notification's actions: APNs' `aps.category` on iOS, the
        // notification's `click_action` (the activity's intent filter) on Android.
        aps.category = data.category
        android.notification = { click_action: data.category }
      }
      const payload = {
        message: {
          token: message.to,
          notification: { ...(message.subject ? { title: message.subject } : {}), body: message.body },
          ...(Object.keys(custom).length > 0 ? { data: custom } : {}),
          ...(Object.keys(android).length > 0 ? { android } : {}),
          ...(Object.keys(aps).length > 0 ? { apns: { payload: { aps } } } : {}),
        },
      }
      const body = JSON.stringify(payload)
      const call = async () => post(VENDOR, http, endpoint, {
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json; charset=utf-8' },
        body, timeoutMs,
      })
      let res = await call()
      if (res.status === 401) {
        // Our token was revoked or expired early: fetch a new one and try once more.
        await res.body?.cancel()
        cached = undefined
        res = await call()
      }
      const answer = (await readJson(res)) as { name?: unknown; error?: GoogleError } | undefined
      if (res.ok && typeof answer?.name === 'string') return { providerMessageId: answer.name, status: 'sent' }
      if (res.ok) throw new ProviderError('bad_response', 'fcm: the answer has no message name', { retryable: true, status: res.status })
      throw fcmError(res.status, answer?.error, retryAfterMs(res.headers.get('retry-after')))
    },
    async close() {
      http.close()
    },
  }
}
