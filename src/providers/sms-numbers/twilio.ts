/**
 * Twilio SMS accounts, numbers and carrier lookups, over the tenant's `sms` settings of vendor
 * `twilio` (`accountSid`, `authToken` or `apiKeySid` + `apiKeySecret`, `baseUrl`, `timeoutMs`):
 * - an organisation's account is a sub-account: `POST /2010-04-01/Accounts.json` (`FriendlyName`);
 * - numbers by area code: `GET /2010-04-01/Accounts/{sub}/AvailablePhoneNumbers/US/Local.json?AreaCode=…&SmsEnabled=true`,
 *   then `POST /2010-04-01/Accounts/{sub}/IncomingPhoneNumbers.json` (`PhoneNumber`);
 *   with `SmsUrl`/`SmsMethod` (our inbound webhook), set again on a claimed number with
 *   `POST /2010-04-01/Accounts/{sub}/IncomingPhoneNumbers/{PN…}.json`;
 * - a held number: `GET /2010-04-01/Accounts/{sub}/IncomingPhoneNumbers.json?PhoneNumber=…`;
 * - carriers: Lookup v2, `GET /v2/PhoneNumbers/{n}?Fields=line_type_intelligence` at `lookupBaseUrl`
 *   (default https://lookups.twilio.com, or `baseUrl` when that is set).
 * The parent account's credentials act on its sub-accounts; the sub-account's own auth token (in
 * the creation answer) is returned as its webhook secret, since Twilio signs the webhooks of a
 * sub-account's numbers with it.
 */
import { vendorHttp, networkError, type ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { badSettings, optionalInteger, optionalString, requiredString, baseUrl as readBaseUrl, statusError } from '../support.ts'
import { ProviderError } from '../types.ts'
import type { CarrierInfo, NumbersProvider, VendorNumber } from './types.ts'

const VENDOR = 'twilio'

type Json = Record<string, unknown>
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')

/** A Twilio number resource (available or incoming) as a VendorNumber. */
function toNumber(raw: Json, held: boolean): VendorNumber {
  const caps = (raw.capabilities ?? {}) as Json
  const cap = (name: string) => caps[name] === true || caps[name.toUpperCase()] === true
  return {
    phoneNumber: str(raw.phone_number), id: held ? str(raw.sid) : '', capabilities: { sms: cap('sms'), mms: cap('mms'), voice: cap('voice') },
    lata: str(raw.lata), latitude: str(raw.latitude), longitude: str(raw.longitude), postalCode: str(raw.postal_code), rateCenter: str(raw.rate_center), region: str(raw.region),
  }
}

export function createTwilioNumbers(settings: ChannelSettings, options: ProviderOptions = {}): NumbersProvider {
  const accountSid = requiredString(VENDOR, settings, 'accountSid')
  const authToken = optionalString(VENDOR, settings, 'authToken')
  const apiKeySid = optionalString(VENDOR, settings, 'apiKeySid')
  const apiKeySecret = optionalString(VENDOR, settings, 'apiKeySecret')
  if (!authToken && !(apiKeySid && apiKeySecret)) throw badSettings(VENDOR, 'set "authToken", or "apiKeySid" and "apiKeySecret"')
  const base = readBaseUrl(VENDOR, settings, 'baseUrl', 'https://api.twilio.com')
  const lookupBase = readBaseUrl(VENDOR, settings, 'lookupBaseUrl', settings.baseUrl !== undefined ? base : 'https://lookups.twilio.com')
  const timeoutMs = optionalInteger(VENDOR, settings, 'timeoutMs', 100, 120_000) ?? 10_000
  const http = vendorHttp(VENDOR, options)
  const authorization = 'Basic ' + Buffer.from(apiKeySid && apiKeySecret ? `${apiKeySid}:${apiKeySecret}` : `${accountSid}:${authToken}`).toString('base64')

  async function call(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<Json> {
    const body = form?.toString()
    let answer
    try {
      answer = await http.request(url, {
        method, timeoutMs,
        headers: {
          authorization, accept: 'application/json', 'user-agent': 'switchboard',
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      })
    } catch (err) {
      throw networkError(VENDOR, err)
    }
    let parsed: Json | undefined
    try {
      parsed = JSON.parse(answer.body.toString('utf8')) as Json
    } catch {
      parsed = undefined
    }
    if (answer.status < 200 || answer.status > 299) {
      const code = typeof parsed?.code === 'number' ? ` (${parsed.code})` : ''
      throw statusError(VENDOR, answer.status, `${answer.status}${code}: ${str(parsed?.message) || 'no message'}`)
    }
    if (!parsed || typeof parsed !== 'object') throw new ProviderError('bad_response', `twilio ${answer.status}: the answer is not JSON`, { retryable: true, status: answer.status })
    return parsed
  }
  const account = (sub: string) => {
    if (!/^AC[0-9a-zA-Z]{32}$/.test(sub)) throw new ProviderError('invalid_account', `twilio: ${sub} is not an account sid`, { retryable: false })
    return `${base}/2010-04-01/Accounts/${encodeURIComponent(sub)}`
  }

  return {
    id: 'twilio',
    async createAccount(friendlyName) {
      const answer = await call('POST', `${base}/2010-04-01/Accounts.json`, new URLSearchParams({ FriendlyName: friendlyName.slice(0, 64) }))
      const sid = str(answer.sid)
      if (!/^AC[0-9a-zA-Z]{32}$/.test(sid)) throw new ProviderError('bad_response', 'twilio: the new account has no sid', { retryable: false })
      const token = str(answer.auth_token)
      return { accountId: sid, ...(token ? { webhookSecret: token } : {}) }
    },
    async searchNumbers(sub, areaCode) {
      const q = new URLSearchParams({ AreaCode: areaCode, SmsEnabled: 'true' })
      const answer = await call('GET', `${account(sub)}/AvailablePhoneNumbers/US/Local.json?${q.toString()}`)
      const list = Array.isArray(answer.available_phone_numbers) ? answer.available_phone_numbers as Json[] : []
      return list.map((n) => toNumber(n, false)).filter((n) => n.phoneNumber !== '')
    },
    async buyNumber(sub, phoneNumber, hooks) {
      const answer = await call('POST', `${account(sub)}/IncomingPhoneNumbers.json`, new URLSearchParams({ PhoneNumber: phoneNumber, SmsUrl: hooks.smsUrl, SmsMethod: 'POST' }))
      const n = toNumber(answer, true)
      if (!n.id || !n.phoneNumber) throw new ProviderError('bad_response', 'twilio: the bought number has no sid', { retryable: false })
      return n
    },
    async setWebhooks(sub, numberId, hooks) {
      if (!/^PN[0-9a-zA-Z]{32}$/.test(numberId)) throw new ProviderError('invalid_number', `twilio: ${numberId} is not a number sid`, { retryable: false })
      await call('POST', `${account(sub)}/IncomingPhoneNumbers/${encodeURIComponent(numberId)}.json`, new URLSearchParams({ SmsUrl: hooks.smsUrl, SmsMethod: 'POST' }))
    },
    async findNumber(sub, phoneNumber) {
      const answer = await call('GET', `${account(sub)}/IncomingPhoneNumbers.json?${new URLSearchParams({ PhoneNumber: phoneNumber }).toString()}`)
      const list = Array.isArray(answer.incoming_phone_numbers) ? answer.incoming_phone_numbers as Json[] : []
      const found = list.map((n) => toNumber(n, true)).find((n) => n.phoneNumber === phoneNumber && n.id !== '')
      return found
    },
    async lookup(phoneNumber): Promise<CarrierInfo> {
      const answer = await call('GET', `${lookupBase}/v2/PhoneNumbers/${encodeURIComponent(phoneNumber)}?Fields=line_type_intelligence`)
      const lti = (answer.line_type_intelligence ?? {}) as Json
      const invalid = answer.valid === false
      return {
        type: str(lti.type), carrierName: str(lti.carrier_name), mobileCountryCode: str(lti.mobile_country_code), mobileNetworkCode: str(lti.mobile_network_code),
        error: invalid ? `invalid: ${(answer.validation_errors as unknown[] | undefined)?.map(str).join(', ') ?? ''}`.replace(/: $/, '') : lti.error_code != null ? `twilio_${str(lti.error_code)}` : '',
      }
    },
  }
}
