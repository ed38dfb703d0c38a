import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { toE164 } from '../../lib/phone.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { decrypt, encrypt } from '../../lib/secrets.ts'
import { Type } from 'typebox'
import type { DeliveryService, InboundMessage, OutboxStatus, SuppressionReason } from '../delivery/index.ts'
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { OutboundWebhooksService, WebhookTarget } from '../outbound-webhooks/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type {
  CreateText, NumbersLookup, NumbersPort, Text, TextAccount, TextAccountNumber, TextNumberInfo, TextNumberLog, TextReceiveLog, TextStatus, TextUserNumberMap, VendorNumberInfo,
} from './texts.types.ts'
import { UUID } from '../../lib/uuid.ts'

type AccountRow = Selectable<DB['text_accounts']>
type NumberRow = Selectable<DB['text_account_numbers']>
type TextRow = Selectable<DB['texts']>
type Where = { pointer?: string; parameter?: string }
type Page = { limit: number; offset: number }

/** The longest text (ten SMS segments of GSM-7). */
export const MAX_TEXT = 1600
/** Expected responses a text may list, and the longest one. */
export const MAX_EXPECTED_RESPONSES = 20
export const MAX_EXPECTED_RESPONSE = 160
/** Bytes of JSON `callback-json` may take. */
export const MAX_CALLBACK_JSON = 4096
/** How long a text's status is watched for its status callbacks (a delivery report can come late). */
const WATCH_MS = 72 * 3600_000
/** A reply to a text is matched to it within this long of the text. */
const REPLY_WINDOW_MS = 7 * 24 * 3600_000

const TextStatusPayload = Type.Object({ tenantId: Type.String(), textId: Type.String() })
/** `texts.status`: watches a text's outbox message and posts its status changes (see `watchStatus`). */
export const TEXT_STATUS_JOB = { name: 'texts.status', payload: TextStatusPayload } as const satisfies JobType

const at = (member: string): Where => ({ pointer: `/data/attributes/${member}` })
const notFound = (type: string, id: string, where: Where = {}) => new NotFoundError('resource_not_found', `No ${type} with id ${id}`, { type, id, ...where })
const US_E164 = /^\+1[2-9]\d{2}[2-9]\d{6}$/
const URL_MAX = 2048

/** A reply as `expected-responses` compares it: case and spacing ignored. */
export function normalizeResponse(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()
}

/** A text's status from its outbox message (see TextStatus). */
export function textStatus(outbox: { status: OutboxStatus; lastError: string | null; suppressedReason: SuppressionReason | null } | undefined): { status: TextStatus; error: string } {
  if (!outbox) return { status: 'accepted', error: '' }
  switch (outbox.status) {
    case 'queued':
    case 'sending':
      return { status: 'accepted', error: '' }
    case 'sent':
    case 'delivered':
    case 'undelivered':
      return { status: outbox.status, error: outbox.status === 'undelivered' ? outbox.lastError ?? '' : '' }
    case 'suppressed':
      return { status: 'failed', error: `suppressed (${outbox.suppressedReason ?? 'suppression list'})` }
    default:
      return { status: 'failed', error: outbox.lastError ?? '' }
  }
}

const FINAL: ReadonlySet<TextStatus> = new Set(['delivered', 'undelivered', 'failed'])

/**
 * Texts and numbers (#92–#113): an organisation's SMS account on the tenant's SMS vendor (the
 * sandbox, or a Twilio sub-account), its numbers (provisioned by area code or claimed), their
 * logs, inbound texts, carrier lookups, users pinned to numbers, and texts sent through a number by
 * the delivery pipeline (so the suppression list, retries and the vendor's outcome are delivery's).
 * Status changes and replies are posted to the text's callback URLs as signed outbound webhooks.
 */
export class TextsService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #delivery: DeliveryService
  readonly #orgs: Organizations
  readonly #numbers: NumbersLookup
  readonly #webhooks: OutboundWebhooksService
  readonly #secretKey: Buffer
  readonly #publicUrl: string
  readonly #servesChannels: ((tenantId: TenantId, numberId: string) => Promise<boolean>) | undefined

  constructor(deps: {
    db: Kysely<DB>; jobs: JobQueue; delivery: DeliveryService; organizations: Organizations; numbers: NumbersLookup; webhooks: OutboundWebhooksService
    /** Seals the accounts' webhook secrets (SWITCHBOARD_SECRET_KEY). */
    secretKey: Buffer
    /** SWITCHBOARD_PUBLIC_URL: the numbers' inbound webhook URL is set at the vendor from it. */
    publicUrl: string
    /**
     * Whether a messaging channel's SMS path sends from the number (`text-number-id`): an inbound text
     * to it is then logged here and passed on to the conversation phase (the channel's reply), not consumed.
     */
    servesChannels?: (tenantId: TenantId, numberId: string) => Promise<boolean>
  }) {
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#delivery = deps.delivery
    this.#orgs = deps.organizations
    this.#numbers = deps.numbers
    this.#webhooks = deps.webhooks
    this.#secretKey = deps.secretKey
    this.#publicUrl = deps.publicUrl
    this.#servesChannels = deps.servesChannels
  }

  /** Where the vendor posts a tenant's numbers' inbound messages: the vendor's webhook route (README "Twilio"). */
  #hooks(tenantId: TenantId, vendor: string): { smsUrl: string } {
    return { smsUrl: `${this.#publicUrl}/webhooks/${vendor}/${tenantId}/sms` }
  }

  /**
   * A number of the tenant's accounts of `organizationId`, as an SMS sender: `from`, and the delivery
   * `data` its vendor needs (on Twilio the sub-account holding it), or undefined. A messaging
   * channel's `text-number-id` sends through it.
   */
  async numberSender(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, organizationId: string, numberId: string): Promise<{ from: string; data: Record<string, unknown> } | undefined> {
    if (!isUuid(numberId)) return undefined
    const row = await db.selectFrom('text_account_numbers as n').innerJoin('text_accounts as a', (j) => j.onRef('a.tenant_id', '=', 'n.tenant_id').onRef('a.id', '=', 'n.account_id'))
      .select(['n.phone_number', 'a.provider', 'a.provider_account_id'])
      .where('n.tenant_id', '=', tenantId).where('n.id', '=', numberId).where('a.organization_id', '=', organizationId).executeTakeFirst()
    if (!row) return undefined
    return { from: row.phone_number, data: row.provider === 'twilio' ? { twilioAccountSid: row.provider_account_id } : {} }
  }

  /**
   * The webhook secret kept for one of the tenant's accounts at `vendor` (a Twilio sub-account's
   * auth token), for the webhook pipeline to check its numbers' webhooks with; undefined when none is kept.
   */
  async webhookSecret(tenantId: TenantId, vendor: string, providerAccountId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('text_accounts').select('provider_secret').where('tenant_id', '=', tenantId)
      .where('provider', '=', vendor).where('provider_account_id', '=', providerAccountId).where('provider_secret', 'is not', null).executeTakeFirst()
    if (!row?.provider_secret) return undefined
    try {
      return decrypt(this.#secretKey, row.provider_secret)
    } catch {
      // Sealed under another master key: no secret to check with (the webhook is refused as unsigned).
      return undefined
    }
  }

  // --- accounts (#97–#101) ---

  /** #98: a new account of an organisation on the tenant's SMS vendor. */
  async createAccount(tenant: Tenant, input: { organizationId: string; allowCustomNumber?: boolean | undefined }): Promise<TextAccount> {
    const org = await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
    const vendor = await this.#numbers(tenant.id)
    const { accountId, webhookSecret } = await vendorCall(() => vendor.createAccount(`${tenant.name} / ${org.name}`.slice(0, 64)))
    const row = await this.#db.insertInto('text_accounts').values({
      tenant_id: tenant.id, organization_id: org.id, allow_custom_number: input.allowCustomNumber ?? false, provider: vendor.id, provider_account_id: accountId,
      provider_secret: webhookSecret ? encrypt(this.#secretKey, webhookSecret) : null,
    }).returningAll().executeTakeFirstOrThrow()
    return presentAccount(row)
  }

  /** #97: the tenant's accounts (of one organisation), oldest first. */
  async listAccounts(tenant: Tenant, q: Page & { organizationId?: string | undefined }): Promise<{ items: TextAccount[]; total: number }> {
    if (q.organizationId !== undefined) await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#db.selectFrom('text_accounts').where('tenant_id', '=', tenant.id)
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(presentAccount), total: Number(total.n) }
  }

  /** #99 */
  async getAccount(tenant: Tenant, id: string): Promise<TextAccount> {
    return presentAccount(await this.#account(this.#db, tenant.id, id))
  }

  /**
   * #100: `allow-custom-number`, and `phone-number` (the account's own number, E.164; '' clears it),
   * which may be set only while custom numbers are allowed.
   */
  async updateAccount(tenant: Tenant, id: string, input: { allowCustomNumber?: boolean | undefined; phoneNumber?: string | undefined }): Promise<TextAccount> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await this.#account(trx, tenant.id, id, {}, true)
      const allow = input.allowCustomNumber ?? row.allow_custom_number
      const set: { allow_custom_number: boolean; phone_number?: string | null } = { allow_custom_number: allow }
      if (input.phoneNumber !== undefined) {
        if (input.phoneNumber === '') set.phone_number = null
        else {
          const phone = toE164(input.phoneNumber)
          if (!phone || phone !== input.phoneNumber.trim()) throw new ValidationError('invalid_text_account', 'phone-number must be an E.164 number like +15551234567', at('phone-number'))
          if (!allow && phone !== row.phone_number) throw new ValidationError('invalid_text_account', 'phone-number can be set only with allow-custom-number true', at('phone-number'))
          set.phone_number = phone
        }
      }
      const updated = await trx.updateTable('text_accounts').set(set).where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      return presentAccount(updated)
    })
  }

  /**
   * #101: the account's own number (`phone-number`) becomes a number of the account, with `notes`.
   * The vendor must hold it in the account (Twilio: an incoming number of the sub-account).
   */
  async claimNumber(tenant: Tenant, accountId: string, notes: string): Promise<TextAccountNumber> {
    if (notes.length > 255 || notes.includes('\u0000')) throw new ValidationError('invalid_text_number', 'notes must be at most 255 characters', { pointer: '/notes' })
    const account = await this.#account(this.#db, tenant.id, accountId)
    if (!account.phone_number) throw new ValidationError('invalid_text_account', 'the account has no phone-number to claim: set allow-custom-number and phone-number first', { pointer: '' })
    const vendor = await this.#vendorOf(tenant.id, account)
    const held = await vendorCall(() => vendor.findNumber(account.provider_account_id, account.phone_number!))
    if (!held) throw new ValidationError('invalid_text_account', `${account.phone_number} is not a number of the account ${account.provider_account_id} at ${vendor.id}`, { pointer: '' })
    // Its inbound messages come to us from now on (Twilio: the number's SmsUrl).
    await vendorCall(() => vendor.setWebhooks(account.provider_account_id, held.id, this.#hooks(tenant.id, vendor.id)))
    return this.#insertNumber(tenant.id, account, held, { notes })
  }

  // --- numbers (#92–#96) ---

  /**
   * #93: a number for the account in `areaCode`: the vendor's first offered number the tenant does
   * not hold already, bought into the account. The account's first number becomes its phone-number.
   */
  async createNumber(tenant: Tenant, input: {
    accountId: string; areaCode: string; alert?: boolean | undefined; forwardTo?: string | undefined; logging?: boolean | undefined; notes?: string | undefined
  }): Promise<TextAccountNumber> {
    if (!/^[2-9]\d\d$/.test(input.areaCode)) throw new ValidationError('invalid_text_number', 'area-code must be a US area code of three digits', at('area-code'))
    const settings = checkNumberSettings({ forwardTo: input.forwardTo, notes: input.notes })
    const account = await this.#account(this.#db, tenant.id, input.accountId, at('account-id'))
    const vendor = await this.#vendorOf(tenant.id, account)
    const offered = await vendorCall(() => vendor.searchNumbers(account.provider_account_id, input.areaCode))
    const held = new Set((await this.#db.selectFrom('text_account_numbers').select('phone_number').where('tenant_id', '=', tenant.id)
      .where('phone_number', 'in', offered.length > 0 ? offered.map((n) => n.phoneNumber) : ['']).execute()).map((r) => r.phone_number))
    // A number must be one delivery can send from (a real area code): the sandbox offers any.
    const pick = offered.find((n) => !held.has(n.phoneNumber) && toE164(n.phoneNumber) === n.phoneNumber)
    if (!pick) throw new ValidationError('no_number_available', `no number is available in area code ${input.areaCode}`, at('area-code'))
    const bought = await vendorCall(() => vendor.buyNumber(account.provider_account_id, pick.phoneNumber, this.#hooks(tenant.id, vendor.id)))
    // The purchase answer lacks the location the offer had (Twilio's IncomingPhoneNumber has none).
    const merged: VendorNumberInfo = {
      phoneNumber: bought.phoneNumber || pick.phoneNumber, id: bought.id, capabilities: bought.capabilities,
      lata: bought.lata || pick.lata, latitude: bought.latitude || pick.latitude, longitude: bought.longitude || pick.longitude,
      postalCode: bought.postalCode || pick.postalCode, rateCenter: bought.rateCenter || pick.rateCenter, region: bought.region || pick.region,
    }
    return this.#insertNumber(tenant.id, account, merged, {
      alert: input.alert, logging: input.logging, ...settings,
    })
  }

  /** #92: numbers of the tenant (of one account; with one phone number), oldest first. */
  async listNumbers(tenant: Tenant, q: Page & { accountId?: string | undefined; phoneNumber?: string | undefined }): Promise<{ items: TextAccountNumber[]; total: number }> {
    if (q.accountId !== undefined) await this.#account(this.#db, tenant.id, q.accountId, { parameter: 'account-id' })
    let query = this.#db.selectFrom('text_account_numbers').where('tenant_id', '=', tenant.id)
    if (q.accountId !== undefined) query = query.where('account_id', '=', q.accountId)
    if (q.phoneNumber !== undefined) query = query.where('phone_number', '=', toE164(q.phoneNumber) ?? q.phoneNumber)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(presentNumber), total: Number(total.n) }
  }

  /** #94 */
  async getNumber(tenant: Tenant, id: string): Promise<TextAccountNumber> {
    return presentNumber(await this.#number(this.#db, tenant.id, id))
  }

  /** #95: `alert`, `events`, `forward-to`, `logging`, `notes`. */
  async updateNumber(tenant: Tenant, id: string, input: {
    alert?: boolean | undefined; events?: Record<string, unknown> | undefined; forwardTo?: string | undefined; logging?: boolean | undefined; notes?: string | undefined
  }): Promise<TextAccountNumber> {
    const settings = checkNumberSettings({ forwardTo: input.forwardTo, notes: input.notes })
    const events = input.events === undefined ? undefined : checkEvents(input.events)
    await this.#number(this.#db, tenant.id, id)
    const set = {
      ...(input.alert !== undefined ? { alert: input.alert } : {}), ...(input.logging !== undefined ? { logging: input.logging } : {}),
      ...(settings.forwardTo !== undefined ? { forward_to: settings.forwardTo } : {}), ...(settings.notes !== undefined ? { notes: settings.notes } : {}),
      ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
    }
    if (Object.keys(set).length === 0) return this.getNumber(tenant, id)
    const row = await this.#db.updateTable('text_account_numbers').set(set).where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    return presentNumber(row)
  }

  /** #96: the number's log (#105) emptied. */
  async resetLogs(tenant: Tenant, id: string): Promise<TextAccountNumber> {
    const row = await this.#number(this.#db, tenant.id, id)
    await this.#db.deleteFrom('text_number_logs').where('tenant_id', '=', tenant.id).where('number_id', '=', id).execute()
    return presentNumber(row)
  }

  // --- logs (#105, #106) ---

  /** #105: the number's log, oldest first. */
  async listLogs(tenant: Tenant, q: Page & { numberId: string }): Promise<{ items: TextNumberLog[]; total: number }> {
    await this.#number(this.#db, tenant.id, q.numberId, { parameter: 'number-id' })
    const query = this.#db.selectFrom('text_number_logs').where('tenant_id', '=', tenant.id).where('number_id', '=', q.numberId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map((r) => ({ id: r.id, log: r.log, createdAt: r.created_at })), total: Number(total.n) }
  }

  /** #106: one inbound text, by the provider's message id. */
  async getReceiveLog(tenant: Tenant, id: string): Promise<TextReceiveLog> {
    const row = await this.#db.selectFrom('text_receive_logs').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('text-receive-logs', id)
    return { id: row.id, sender: row.sender, to: row.recipient, message: row.message, sid: row.id, createdAt: row.created_at }
  }

  // --- number info (#102–#104) ---

  /** #103: the carrier of a US number, from the cache unless `reresolve` (or the last lookup failed). */
  async lookupNumber(tenant: Tenant, input: { number: string; reresolve?: boolean | undefined }): Promise<TextNumberInfo> {
    const number = usNumber(input.number, at('number'))
    const cached = await this.#db.selectFrom('text_number_info').selectAll().where('tenant_id', '=', tenant.id).where('number', '=', number).executeTakeFirst()
    if (cached && cached.status === 'resolved' && input.reresolve !== true) return presentInfo(cached)
    const vendor = await this.#numbers(tenant.id)
    let values: { status: string; type: string; carrier_name: string; mobile_country_code: string; mobile_network_code: string; error: string }
    try {
      const found = await vendor.lookup(number)
      values = {
        status: found.error ? 'failed' : 'resolved', type: found.type, carrier_name: found.carrierName,
        mobile_country_code: found.mobileCountryCode, mobile_network_code: found.mobileNetworkCode, error: found.error,
      }
    } catch (err) {
      if (!isProviderError(err)) throw err
      values = { status: 'failed', type: '', carrier_name: '', mobile_country_code: '', mobile_network_code: '', error: err.message.slice(0, 500) }
    }
    const row = await this.#db.insertInto('text_number_info').values({ tenant_id: tenant.id, number, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'number']).doUpdateSet({ ...values, last_modified_at: sql`clock_timestamp()` }))
      .returningAll().executeTakeFirstOrThrow()
    return presentInfo(row)
  }

  /** #102: the lookups of one number (none or one). */
  async listNumberInfo(tenant: Tenant, q: Page & { number: string }): Promise<{ items: TextNumberInfo[]; total: number }> {
    const number = usNumber(q.number, { parameter: 'number' })
    const rows = await this.#db.selectFrom('text_number_info').selectAll().where('tenant_id', '=', tenant.id).where('number', '=', number).execute()
    return { items: rows.slice(q.offset, q.offset + q.limit).map(presentInfo), total: rows.length }
  }

  /** #104 */
  async getNumberInfo(tenant: Tenant, id: string): Promise<TextNumberInfo> {
    const row = await this.#db.selectFrom('text_number_info').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('text-number-info', id)
    return presentInfo(row)
  }

  // --- user-number maps (#107–#109) ---

  /** #108: pin a user to a number (one number per user and organisation). */
  async createUserNumberMap(tenant: Tenant, input: { organizationId: string; numberId: string; userId: string }): Promise<TextUserNumberMap> {
    const org = await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
    await this.#number(this.#db, tenant.id, input.numberId, at('number-id'))
    const user = await this.#db.selectFrom('msg_users').select('id').where('tenant_id', '=', tenant.id).where('id', '=', input.userId).executeTakeFirst()
    if (!user) throw notFound('users', input.userId, at('user-id'))
    const row = await this.#db.insertInto('text_user_number_maps').values({ tenant_id: tenant.id, organization_id: org.id, number_id: input.numberId, user_id: input.userId })
      .onConflict((oc) => oc.columns(['tenant_id', 'organization_id', 'user_id']).doNothing()).returningAll().executeTakeFirst()
    if (!row) throw new ConflictError('text_number_taken', 'this user is pinned to a number of this organisation already', at('user-id'))
    return presentMap(row)
  }

  /** #107 */
  async listUserNumberMaps(tenant: Tenant, q: Page & { numberId?: string | undefined; organizationId?: string | undefined; userId?: string | undefined }): Promise<{ items: TextUserNumberMap[]; total: number }> {
    let query = this.#db.selectFrom('text_user_number_maps').where('tenant_id', '=', tenant.id)
    if (q.numberId !== undefined) query = query.where('number_id', '=', q.numberId)
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId)
    if (q.userId !== undefined) query = query.where('user_id', '=', q.userId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(presentMap), total: Number(total.n) }
  }

  /** #109 */
  async getUserNumberMap(tenant: Tenant, id: string): Promise<TextUserNumberMap> {
    const row = await this.#db.selectFrom('text_user_number_maps').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('text-user-number-maps', id)
    return presentMap(row)
  }

  // --- texts (#110–#113) ---

  /**
   * #111: send `message` to `target` through a number of the account: `number-id`, else the number
   * the user with the target's phone is pinned to, else the account's own number, else its oldest.
   * One outbox message (`text:<id>`) in the transaction that records the text.
   */
  async createText(tenant: Tenant, input: CreateText, createdBy: string): Promise<Text> {
    const target = toE164(input.target)
    if (!target) throw new ValidationError('invalid_text_message', 'target must be a phone number in E.164 form like +15551234567', at('target'))
    if (input.message.trim() === '' || input.message.length > MAX_TEXT || input.message.includes('\u0000')) {
      throw new ValidationError('invalid_text_message', `message must be 1 to ${MAX_TEXT} characters`, at('message'))
    }
    const statusUrl = callbackUrl(input.callbackStatusUrl, 'callback-status-url')
    const replyUrl = callbackUrl(input.callbackUrl, 'callback-url')
    const expected = input.expectedResponses ?? []
    if (expected.length > MAX_EXPECTED_RESPONSES || expected.some((e) => e.length === 0 || e.length > MAX_EXPECTED_RESPONSE)) {
      throw new ValidationError('invalid_text_message', `expected-responses lists at most ${MAX_EXPECTED_RESPONSES} responses of 1 to ${MAX_EXPECTED_RESPONSE} characters`, at('expected-responses'))
    }
    const callbackJson = input.callbackJson ?? {}
    if (Buffer.byteLength(JSON.stringify(callbackJson)) > MAX_CALLBACK_JSON) throw new ValidationError('invalid_text_message', `callback-json takes at most ${MAX_CALLBACK_JSON} bytes of JSON`, at('callback-json'))
    const account = await this.#account(this.#db, tenant.id, input.accountId, at('account-id'))
    const org = input.organizationId === undefined ? account.organization_id : (await this.#orgs.find(tenant, input.organizationId, at('organization-id'))).id
    if (org !== account.organization_id) throw new ValidationError('invalid_text_message', 'the account is not this organisation\'s', at('organization-id'))
    const number = await this.#senderNumber(tenant.id, account, org, target, input.numberId)
    const text = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('texts').values({
        tenant_id: tenant.id, account_id: account.id, number_id: number.id, organization_id: org, created_by: createdBy, target, sender: number.phone_number,
        message: input.message, callback_status_url: statusUrl, callback_url: replyUrl, callback_json: JSON.stringify(callbackJson),
        callback_one_off: input.callbackOneOff ?? false, expected_responses: JSON.stringify(expected),
      }).returningAll().executeTakeFirstOrThrow()
      const sent = await this.#delivery.send(tenant, {
        channel: 'sms', to: target, from: number.phone_number, body: input.message, idempotencyKey: `text:${row.id}`,
        // On Twilio the number is held by the account's sub-account: the text goes out through it.
        data: { textId: row.id, ...(account.provider === 'twilio' ? { twilioAccountSid: account.provider_account_id } : {}) },
      }, { trx })
      await trx.updateTable('texts').set({ outbox_id: sent.message.id }).where('tenant_id', '=', tenant.id).where('id', '=', row.id).execute()
      if (number.logging) await log(trx, tenant.id, number.id, target, `sent to ${target}: ${input.message}`)
      if (statusUrl !== '' || number.alert) {
        await this.#jobs.enqueue(trx, TEXT_STATUS_JOB, { tenantId: tenant.id, textId: row.id }, { key: `text-status:${row.id}`, tenantId: tenant.id })
      }
      return row
    })
    this.#delivery.wake()
    return this.getText(tenant, text.id)
  }

  /** #112 */
  async getText(tenant: Tenant, id: string): Promise<Text> {
    const row = await this.#db.selectFrom('texts').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('texts', id)
    return (await this.#presentTexts(tenant.id, [row]))[0]!
  }

  /** #110: the account's texts (from one number; to one target), oldest first. */
  async listTexts(tenant: Tenant, q: Page & { accountId: string; numberId?: string | undefined; target?: string | undefined }): Promise<{ items: Text[]; total: number }> {
    await this.#account(this.#db, tenant.id, q.accountId, { parameter: 'account-id' })
    let query = this.#db.selectFrom('texts').where('tenant_id', '=', tenant.id).where('account_id', '=', q.accountId)
    if (q.numberId !== undefined) query = query.where('number_id', '=', q.numberId)
    if (q.target !== undefined) query = query.where('target', '=', toE164(q.target) ?? q.target)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: await this.#presentTexts(tenant.id, rows), total: Number(total.n) }
  }

  /**
   * The status watch of a text (job `texts.status`): when its status moved since last reported,
   * post it to `callback-status-url` (and with the number's `alert`, log a failure). Answers when to
   * look again, or null once the status is final or the watch is over.
   */
  async watchStatus(tenantId: TenantId, textId: string, now = new Date()): Promise<Date | null> {
    const row = await this.#db.selectFrom('texts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', textId).executeTakeFirst()
    if (!row) return null
    const outbox = await this.#outbox(tenantId, row.outbox_id ? [row.outbox_id] : [])
    const { status, error } = textStatus(row.outbox_id ? outbox.get(row.outbox_id) : undefined)
    // `accepted` is where every text starts (the create answered it): only moves from there are posted.
    if (status !== row.reported_status && status !== 'accepted') {
      let queued = false
      await this.#db.transaction().execute(async (trx) => {
        const moved = await trx.updateTable('texts').set({ reported_status: status }).where('tenant_id', '=', tenantId).where('id', '=', textId)
          .where('reported_status', '=', row.reported_status).executeTakeFirst()
        if (Number(moved.numUpdatedRows) === 0) return
        if (row.callback_status_url !== '') {
          await this.#webhooks.enqueue(trx, tenantId, {
            topic: `texts.status:${row.id}`, idempotencyKey: `text-status:${row.id}:${status}`, orderingKey: `text:${row.id}`,
            body: {
              'text-id': row.id, status, error, 'twilio-sid': row.outbox_id ? outbox.get(row.outbox_id)?.providerMessageId ?? '' : '',
              from: row.sender, target: row.target, 'callback-json': row.callback_json,
            },
          })
          queued = true
        }
        if ((status === 'failed' || status === 'undelivered')) {
          const number = await trx.selectFrom('text_account_numbers').select(['alert']).where('tenant_id', '=', tenantId).where('id', '=', row.number_id).executeTakeFirst()
          if (number?.alert) await log(trx, tenantId, row.number_id, row.target, `alert: text to ${row.target} ${status}${error ? `: ${error}` : ''}`)
        }
      })
      if (queued) this.#webhooks.wake()
    }
    const age = now.getTime() - row.created_at.getTime()
    if (FINAL.has(status) || age > WATCH_MS) return null
    return new Date(now.getTime() + (age < 60_000 ? 1000 : age < 600_000 ? 10_000 : 60_000))
  }

  // --- inbound (receive logs, forward-to, unknown-number, replies) ---

  /**
   * Delivery's inbound handler: an SMS to one of the tenant's numbers lands in the receive logs
   * (#106), in the number's log when `logging`, is forwarded to `forward-to`, raises the
   * unknown-number event for a sender nobody in the directory has, and is posted as a reply to the
   * latest text from the number to the sender that has a `callback-url`. Consumed: the bot never
   * sees texts to an account number. Idempotent (the job may run it again).
   */
  async inboundHandler(message: InboundMessage): Promise<void | 'consumed'> {
    if (message.channel !== 'sms' || !message.to) return
    const tenantId = message.tenantId
    const number = await this.#db.selectFrom('text_account_numbers').selectAll().where('tenant_id', '=', tenantId).where('phone_number', '=', message.to).executeTakeFirst()
    if (!number) return
    const logId = message.providerMessageId ?? message.id
    let forwarded = false
    let queued = false
    await this.#db.transaction().execute(async (trx) => {
      const first = await trx.insertInto('text_receive_logs').values({
        tenant_id: tenantId, id: logId, number_id: number.id, inbound_id: message.id, sender: message.from, recipient: message.to!, message: message.body,
      }).onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing()).returning('id').executeTakeFirst()
      if (!first) return
      if (number.logging) await log(trx, tenantId, number.id, message.from, `received from ${message.from}: ${message.body}`)
      if (number.forward_to !== '' && number.forward_to !== message.from) {
        const account = await trx.selectFrom('text_accounts').select(['provider', 'provider_account_id']).where('tenant_id', '=', tenantId).where('id', '=', number.account_id).executeTakeFirstOrThrow()
        await this.#delivery.send({ id: tenantId }, {
          channel: 'sms', to: number.forward_to, from: number.phone_number, body: `From ${message.from}: ${message.body}`.slice(0, MAX_TEXT), idempotencyKey: `text-forward:${message.id}`,
          ...(account.provider === 'twilio' ? { data: { twilioAccountSid: account.provider_account_id } } : {}),
        }, { trx })
        forwarded = true
      }
      const unknown = (number.events as Record<string, unknown>)['unknown-number']
      if (unknown && message.personId === null && !(await this.#knownUser(trx, tenantId, message.from))) {
        await log(trx, tenantId, number.id, message.from, `unknown-number: ${message.from}`)
        if (typeof (unknown as { url?: unknown }).url === 'string') {
          await this.#webhooks.enqueue(trx, tenantId, {
            topic: `texts.unknown-number:${number.id}`, idempotencyKey: `text-unknown-number:${message.id}`,
            body: { event: 'unknown-number', 'number-id': number.id, 'phone-number': number.phone_number, sender: message.from, message: message.body, sid: logId },
          })
          queued = true
        }
      }
      queued = (await this.#reply(trx, tenantId, number, message, logId)) || queued
    })
    if (forwarded) this.#delivery.wake()
    if (queued) this.#webhooks.wake()
    // A channel's SMS path sends from this number: the reply is the channel's too.
    if (this.#servesChannels && await this.#servesChannels(tenantId, number.id)) return undefined
    return 'consumed'
  }

  /**
   * Where a text webhook goes: `texts.status:<text>` to the text's callback-status-url,
   * `texts.reply:<text>` to its callback-url, `texts.unknown-number:<number>` to the number's
   * `events.unknown-number.url`; signed with the hex SHA-256 of the organisation API key (the
   * tenant's current courier key). Null for anything else.
   */
  async webhookTarget(tenantId: TenantId, topic: string): Promise<WebhookTarget | null> {
    const m = /^texts\.(status|reply|unknown-number):([0-9a-f-]{36})$/.exec(topic)
    if (!m) return null
    let url: string | undefined
    if (m[1] === 'unknown-number') {
      const row = await this.#db.selectFrom('text_account_numbers').select('events').where('tenant_id', '=', tenantId).where('id', '=', m[2]!).executeTakeFirst()
      const u = (row?.events as Record<string, { url?: unknown }> | undefined)?.['unknown-number']?.url
      url = typeof u === 'string' ? u : undefined
    } else {
      const row = await this.#db.selectFrom('texts').select(['callback_status_url', 'callback_url']).where('tenant_id', '=', tenantId).where('id', '=', m[2]!).executeTakeFirst()
      url = m[1] === 'status' ? row?.callback_status_url : row?.callback_url
    }
    if (!url) return null
    const key = await this.#db.selectFrom('tenant_credentials').select('secret_hash').where('tenant_id', '=', tenantId).where('surface', '=', 'courier')
      .where('kind', '=', 'api_key').where('revoked_at', 'is', null).orderBy('created_at', 'desc').limit(1).executeTakeFirst()
    return key ? { url, secrets: [key.secret_hash] } : null
  }

  /**
   * The tenant of a text, by its id alone: #113's vendor callbacks carry no API key (the vendor's
   * signature under that tenant's settings authenticates them).
   */
  async tenantOfText(id: string): Promise<TenantId | undefined> {
    if (!isUuid(id)) return undefined
    return (await this.#db.selectFrom('texts').select('tenant_id').where('id', '=', id).executeTakeFirst())?.tenant_id
  }

  // --- internals ---

  /** Post an inbound text as the reply to the latest text from `number` to its sender with a callback-url (one-off: only the first). */
  async #reply(trx: Transaction<DB>, tenantId: TenantId, number: NumberRow, message: InboundMessage, sid: string): Promise<boolean> {
    const text = await trx.selectFrom('texts').selectAll().where('tenant_id', '=', tenantId).where('sender', '=', number.phone_number).where('target', '=', message.from)
      .where('created_at', '>', new Date(message.receivedAt.getTime() - REPLY_WINDOW_MS)).orderBy('created_at', 'desc').limit(1).forUpdate().executeTakeFirst()
    if (!text || text.callback_url === '' || (text.callback_one_off && text.replied_at !== null)) return false
    const said = normalizeResponse(message.body)
    const expected = text.expected_responses
    const matched = expected.find((e) => normalizeResponse(e) === said) ?? null
    await trx.updateTable('texts').set({ replied_at: sql`coalesce(replied_at, now())`, last_modified_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', text.id).execute()
    await this.#webhooks.enqueue(trx, tenantId, {
      topic: `texts.reply:${text.id}`, idempotencyKey: `text-reply:${message.id}`, orderingKey: `text:${text.id}`,
      body: {
        'text-id': text.id, from: message.from, to: number.phone_number, message: message.body, sid,
        expected: expected.length === 0 ? null : matched !== null, 'matched-response': matched, 'callback-json': text.callback_json,
      },
    })
    return true
  }

  /** Whether a care-team user has this phone (a known number besides the directory's people). */
  async #knownUser(trx: Transaction<DB>, tenantId: TenantId, phone: string): Promise<boolean> {
    return (await trx.selectFrom('msg_users').select('id').where('tenant_id', '=', tenantId).where('phone', '=', phone).limit(1).executeTakeFirst()) !== undefined
  }

  /** The number a text goes from (see createText). */
  async #senderNumber(tenantId: TenantId, account: AccountRow, org: string, target: string, numberId: string | undefined): Promise<NumberRow> {
    if (numberId !== undefined) {
      const row = await this.#number(this.#db, tenantId, numberId, at('number-id'))
      if (row.account_id !== account.id) throw new ValidationError('invalid_text_message', 'the number is not one of the account\'s', at('number-id'))
      return row
    }
    const pinned = await this.#db.selectFrom('text_user_number_maps as m').innerJoin('msg_users as u', (j) => j.onRef('u.id', '=', 'm.user_id').onRef('u.tenant_id', '=', 'm.tenant_id'))
      .innerJoin('text_account_numbers as n', (j) => j.onRef('n.id', '=', 'm.number_id').onRef('n.tenant_id', '=', 'm.tenant_id'))
      .selectAll('n').where('m.tenant_id', '=', tenantId).where('m.organization_id', '=', org).where('u.phone', '=', target).where('n.account_id', '=', account.id)
      .orderBy('m.created_at').limit(1).executeTakeFirst()
    if (pinned) return pinned
    const numbers = await this.#db.selectFrom('text_account_numbers').selectAll().where('tenant_id', '=', tenantId).where('account_id', '=', account.id).orderBy('created_at').orderBy('id').execute()
    const own = numbers.find((n) => n.phone_number === account.phone_number) ?? numbers[0]
    if (!own) throw new ValidationError('invalid_text_message', 'the account has no number to send from: provision one first', at('number-id'))
    return own
  }

  async #insertNumber(tenantId: TenantId, account: AccountRow, n: VendorNumberInfo, s: { alert?: boolean | undefined; logging?: boolean | undefined; forwardTo?: string | undefined; notes?: string | undefined }): Promise<TextAccountNumber> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('text_account_numbers').values({
        tenant_id: tenantId, account_id: account.id, phone_number: n.phoneNumber, provider_number_id: n.id, alert: s.alert ?? false, logging: s.logging ?? false,
        forward_to: s.forwardTo ?? '', notes: s.notes ?? '', events: JSON.stringify({}),
        capability_sms: n.capabilities.sms, capability_mms: n.capabilities.mms, capability_voice: n.capabilities.voice,
        lata: n.lata, latitude: n.latitude, longitude: n.longitude, postal_code: n.postalCode, rate_center: n.rateCenter, region: n.region,
      }).onConflict((oc) => oc.columns(['tenant_id', 'phone_number']).doNothing()).returningAll().executeTakeFirst()
      if (!row) throw new ConflictError('text_number_taken', `${n.phoneNumber} is a number of this tenant already`, { pointer: '' })
      await trx.updateTable('text_accounts').set({ phone_number: n.phoneNumber }).where('tenant_id', '=', tenantId).where('id', '=', account.id).where('phone_number', 'is', null).execute()
      return presentNumber(row)
    })
  }

  /** The vendor that holds the account: the tenant's current one, which must be the account's. */
  async #vendorOf(tenantId: TenantId, account: AccountRow): Promise<NumbersPort> {
    const vendor = await this.#numbers(tenantId)
    if (vendor.id !== account.provider) {
      throw new ValidationError('invalid_text_account', `the account was made at ${account.provider}; the tenant's SMS provider is now ${vendor.id}`, { pointer: '' })
    }
    return vendor
  }

  async #account(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, id: string, where: Where = {}, lock = false): Promise<AccountRow> {
    let q = db.selectFrom('text_accounts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id)
    if (lock) q = q.forUpdate()
    const row = isUuid(id) ? await q.executeTakeFirst() : undefined
    if (!row) throw notFound('text-accounts', id, where)
    return row
  }

  async #number(db: Kysely<DB> | Transaction<DB>, tenantId: TenantId, id: string, where: Where = {}): Promise<NumberRow> {
    const row = isUuid(id) ? await db.selectFrom('text_account_numbers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst() : undefined
    if (!row) throw notFound('text-account-numbers', id, where)
    return row
  }

  async #outbox(tenantId: TenantId, ids: readonly string[]) {
    const out = new Map<string, { status: OutboxStatus; lastError: string | null; suppressedReason: SuppressionReason | null; providerMessageId: string | null; updatedAt: Date }>()
    if (ids.length === 0) return out
    const rows = await this.#db.selectFrom('outbox_messages').select(['id', 'status', 'last_error', 'suppressed_reason', 'provider_message_id', 'updated_at'])
      .where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()
    for (const r of rows) {
      out.set(r.id, {
        status: r.status as OutboxStatus, lastError: r.last_error, suppressedReason: r.suppressed_reason as SuppressionReason | null, providerMessageId: r.provider_message_id, updatedAt: r.updated_at,
      })
    }
    return out
  }

  async #presentTexts(tenantId: TenantId, rows: readonly TextRow[]): Promise<Text[]> {
    const outbox = await this.#outbox(tenantId, rows.flatMap((r) => (r.outbox_id ? [r.outbox_id] : [])))
    return rows.map((r) => {
      const o = r.outbox_id ? outbox.get(r.outbox_id) : undefined
      const { status, error } = textStatus(o)
      return {
        id: r.id, accountId: r.account_id, numberId: r.number_id, organizationId: r.organization_id, createdBy: r.created_by, target: r.target, from: r.sender,
        message: r.message, callbackStatusUrl: r.callback_status_url, callbackUrl: r.callback_url, status, error, twilioSid: o?.providerMessageId ?? '',
        createdAt: r.created_at, lastModifiedAt: o && o.updatedAt > r.last_modified_at ? o.updatedAt : r.last_modified_at,
      }
    })
  }
}

async function log(trx: Transaction<DB>, tenantId: TenantId, numberId: string, party: string, line: string): Promise<void> {
  await trx.insertInto('text_number_logs').values({ tenant_id: tenantId, number_id: numberId, party, log: line.slice(0, 2000) }).execute()
}

const isUuid = (id: string) => UUID.test(id)

function usNumber(raw: string, where: Where): string {
  if (!US_E164.test(raw)) throw new ValidationError('invalid_text_number', 'number must be a US number in E.164 form like +15551234567', where)
  return raw
}

/** A callback URL: '' (none), or an http(s) URL (the outbound URL policy is applied when it is called). */
function callbackUrl(raw: string | undefined, member: string): string {
  if (raw === undefined || raw === '') return ''
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ValidationError('invalid_text_message', `${member} must be an http(s) URL`, at(member))
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || raw.length > URL_MAX || url.username || url.password) {
    throw new ValidationError('invalid_text_message', `${member} must be an http(s) URL of at most ${URL_MAX} characters, without credentials`, at(member))
  }
  return raw
}

function checkNumberSettings(s: { forwardTo?: string | undefined; notes?: string | undefined }): { forwardTo?: string; notes?: string } {
  const out: { forwardTo?: string; notes?: string } = {}
  if (s.forwardTo !== undefined) {
    if (s.forwardTo === '') out.forwardTo = ''
    else {
      const phone = toE164(s.forwardTo)
      if (!phone) throw new ValidationError('invalid_text_number', 'forward-to must be a phone number in E.164 form, or "" for none', at('forward-to'))
      out.forwardTo = phone
    }
  }
  if (s.notes !== undefined) {
    if (s.notes.length > 255 || s.notes.includes('\u0000')) throw new ValidationError('invalid_text_number', 'notes must be at most 255 characters', at('notes'))
    out.notes = s.notes
  }
  return out
}

/** `events`: only `unknown-number`, an object, optionally with an http(s) `url` for its webhook. */
function checkEvents(events: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [name, value] of Object.entries(events)) {
    if (name !== 'unknown-number') throw new ValidationError('invalid_text_number', `events has no "${name.slice(0, 50)}"; the only event is unknown-number`, at('events'))
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('invalid_text_number', 'events.unknown-number must be an object', at('events'))
    const v = value as Record<string, unknown>
    const extra = Object.keys(v).filter((k) => k !== 'url')
    if (extra.length > 0) throw new ValidationError('invalid_text_number', 'events.unknown-number takes only url', at('events'))
    if (v.url !== undefined) {
      if (typeof v.url !== 'string') throw new ValidationError('invalid_text_number', 'events.unknown-number.url must be an http(s) URL', at('events'))
      try {
        callbackUrl(v.url, 'events')
      } catch {
        throw new ValidationError('invalid_text_number', 'events.unknown-number.url must be an http(s) URL', at('events'))
      }
      out[name] = { url: v.url }
    } else out[name] = {}
  }
  return out
}

function isProviderError(err: unknown): err is Error & { code: string; retryable: boolean } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { retryable?: unknown }).retryable === 'boolean'
}

/** A vendor call; its failure becomes `sms_provider_failed` (502). */
async function vendorCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AppError || !isProviderError(err)) throw err
    throw new AppError('sms_provider_failed', err.message.slice(0, 500), { error: err.code })
  }
}

function presentAccount(r: AccountRow): TextAccount {
  return {
    id: r.id, organizationId: r.organization_id, allowCustomNumber: r.allow_custom_number, phoneNumber: r.phone_number ?? '',
    providerAccountId: r.provider_account_id, provider: r.provider, createdAt: r.created_at,
  }
}

function presentNumber(r: NumberRow): TextAccountNumber {
  return {
    id: r.id, accountId: r.account_id, phoneNumber: r.phone_number, providerNumberId: r.provider_number_id, alert: r.alert, forwardTo: r.forward_to,
    logging: r.logging, notes: r.notes, events: r.events as Record<string, Record<string, unknown>>,
    capabilitySms: r.capability_sms, capabilityMms: r.capability_mms, capabilityVoice: r.capability_voice,
    lata: r.lata, latitude: r.latitude, longitude: r.longitude, postalCode: r.postal_code, rateCenter: r.rate_center, region: r.region, createdAt: r.created_at,
  }
}

function presentInfo(r: Selectable<DB['text_number_info']>): TextNumberInfo {
  return {
    id: r.id, number: r.number, status: r.status, type: r.type, carrierName: r.carrier_name, mobileCountryCode: r.mobile_country_code,
    mobileNetworkCode: r.mobile_network_code, error: r.error, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
  }
}

function presentMap(r: Selectable<DB['text_user_number_maps']>): TextUserNumberMap {
  return { id: r.id, organizationId: r.organization_id, numberId: r.number_id, userId: r.user_id, createdAt: r.created_at }
}
