import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { toE164 } from '../../lib/phone.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { ConsentGate, DeliveryService, InboundHandler, InboundMessage } from '../delivery/index.ts'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from '../messaging/directory.service.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { SuppressionService } from '../suppression/index.ts'
import type { Tenant } from '../tenants/index.ts'
import { classifyReply, consentStep, type ConsentState } from './consent-machine.ts'
import { UUID } from '../../lib/uuid.ts'

type ConsentRow = Selectable<DB['msg_user_consents']>

/** The longest message text of a consent (four SMS segments). */
export const MAX_CONSENT_MESSAGE = 640

/** The texts of the conversation (`args.messages`). */
export interface ConsentMessages {
  readonly initial: string
  readonly accept: string
  readonly 'invalid-response': string
}

/** A user consent (#115–#117). */
export interface UserConsent {
  readonly id: string
  readonly organizationId: string
  readonly userId: string
  readonly type: 'sms'
  readonly state: ConsentState
  /** The phone (E.164) the conversation runs on. */
  readonly targetId: string
  readonly args: Record<string, unknown>
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface CreateUserConsent {
  readonly organizationId: string
  readonly userId: string
  readonly type: string
  readonly messages: ConsentMessages
}

export interface ConsentQuery {
  readonly organizationId?: string | undefined
  readonly userId?: string | undefined
  readonly limit: number
  readonly offset: number
}

const at = (member: string) => ({ pointer: `/data/attributes/${member}` })

/**
 * User consents: the SMS opt-in conversation with a user (README "Consent"). Creating one sends the
 * `initial` message to the user's phone through delivery, in the transaction that stores the
 * consent (`pending`). The user's reply reaches `inboundHandler` (the `consent` inbound phase, before
 * the carrier keywords and the bot) and moves every pending consent of that phone through the pure
 * machine of consent-machine.ts: yes → `accepted` and the `accept` message; no → `declined` and a
 * `consent_withdrawn` entry of the suppression list (SMS); STOP → `declined`, the keyword handler
 * then recording the `stop_keyword` entry; anything else → the `invalid-response` message, still
 * `pending`. `gate` is delivery's check of the tenant's `sms_consent_required` setting.
 */
export class UserConsentsService {
  readonly #db: Kysely<DB>
  readonly #delivery: DeliveryService
  readonly #suppression: SuppressionService
  readonly #orgs: Organizations
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; delivery: DeliveryService; suppression: SuppressionService; organizations: Organizations; peopleLookups: PeopleLookups }) {
    this.#db = deps.db
    this.#delivery = deps.delivery
    this.#suppression = deps.suppression
    this.#orgs = deps.organizations
    this.#people = deps.peopleLookups
  }

  /**
   * #116: ask the user. ValidationError `invalid_user_consent` (type, texts), `user_without_phone`;
   * NotFoundError `resource_not_found` (organisation, user); ForbiddenError `not_your_individual`
   * (a user token asking for another user); ConflictError `consent_target_suppressed`. Nothing is
   * written or sent when it throws.
   */
  async create(tenant: Tenant, input: CreateUserConsent, viewer: DirectoryViewer): Promise<UserConsent> {
    if (input.type !== 'sms') throw new ValidationError('invalid_user_consent', 'type must be sms', at('type'))
    for (const key of ['initial', 'accept', 'invalid-response'] as const) {
      const text = input.messages[key]
      if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_CONSENT_MESSAGE || text.includes('\u0000')) {
        throw new ValidationError('invalid_user_consent', `args.messages.${key} must be a text of 1-${MAX_CONSENT_MESSAGE} characters`, at(`args/messages/${key}`))
      }
    }
    await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
    const user = UUID.test(input.userId)
      ? await this.#db.selectFrom('msg_users').select(['id', 'person_id', 'phone', 'locale']).where('tenant_id', '=', tenant.id).where('id', '=', input.userId.toLowerCase()).executeTakeFirst()
      : undefined
    if (!user) throw new NotFoundError('resource_not_found', `No users with id ${input.userId}`, { type: 'users', id: input.userId, ...at('user-id') })
    if (viewer.kind === 'user' && viewer.userId !== user.id) throw new ForbiddenError('not_your_individual', 'a user token asks for its own consent only', at('user-id'))
    const person = user.person_id ? await this.#people.findById(this.#db, tenant.id, user.person_id) : undefined
    const phone = toE164(user.phone ?? '') ?? toE164(person?.phone ?? '')
    if (!phone) throw new ValidationError('user_without_phone', 'the user has no phone number to ask for an SMS consent', at('user-id'))
    const listed = await this.#suppression.isSuppressed(tenant, 'sms', phone)
    if (listed) throw new ConflictError('consent_target_suppressed', `the user's phone is on the suppression list for SMS (${listed.reason})`, { ...at('user-id'), reason: listed.reason })
    const language = user.locale ?? person?.languageType ?? null
    const args = { messages: { initial: input.messages.initial, accept: input.messages.accept, 'invalid-response': input.messages['invalid-response'] } }
    const row = await this.#db.transaction().execute(async (trx) => {
      const made = await trx.insertInto('msg_user_consents').values({
        tenant_id: tenant.id, organization_id: input.organizationId.toLowerCase(), user_id: user.id, person_id: user.person_id, type: 'sms',
        target_id: phone, language, args: JSON.stringify(args),
      }).returningAll().executeTakeFirstOrThrow()
      await this.#delivery.send(tenant, {
        channel: 'sms', to: phone, body: args.messages.initial, idempotencyKey: `user-consent:${made.id}:initial`,
        ...(user.person_id ? { personId: user.person_id } : {}), data: { 'user-consent-id': made.id },
      }, { trx })
      return made
    })
    this.#delivery.wake()
    return present(row)
  }

  /** #115: consents, oldest first; a user token sees its own. */
  async list(tenant: Tenant, q: ConsentQuery, viewer: DirectoryViewer): Promise<{ items: UserConsent[]; total: number }> {
    if (q.organizationId !== undefined) await this.#orgs.find(tenant, q.organizationId, { parameter: 'filter[organization-id]' })
    let query = this.#db.selectFrom('msg_user_consents').where('tenant_id', '=', tenant.id)
    if (viewer.kind === 'user') query = query.where('user_id', '=', viewer.userId)
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId.toLowerCase())
    if (q.userId !== undefined) {
      // filter[user-id] is a string (spec §1.8): anything but a uuid matches no consent.
      if (!UUID.test(q.userId)) return { items: [], total: 0 }
      query = query.where('user_id', '=', q.userId.toLowerCase())
    }
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map(present), total: Number(total.n) }
  }

  /** #117: one consent; NotFoundError `resource_not_found` when it is not the viewer's. */
  async get(tenant: Tenant, id: string, viewer: DirectoryViewer): Promise<UserConsent> {
    let query = this.#db.selectFrom('msg_user_consents').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id.toLowerCase())
    if (viewer.kind === 'user') query = query.where('user_id', '=', viewer.userId)
    const row = await query.executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No user-consents with id ${id}`, { type: 'user-consents', id })
    return present(row)
  }

  /**
   * The inbound handler of the `consent` phase: an SMS from a phone with pending consents is their
   * answer. Idempotent: a retry of the same inbound message finds the consents it settled
   * (`answered_by`) and repeats nothing (replies are keyed by consent and inbound message).
   */
  readonly inboundHandler: InboundHandler = async (message: InboundMessage) => {
    if (message.channel !== 'sms') return
    const tenant = { id: message.tenantId }
    const rows = await this.#db.selectFrom('msg_user_consents').selectAll().where('tenant_id', '=', message.tenantId).where('target_id', '=', message.from)
      .where((eb) => eb.or([eb('state', '=', 'pending'), eb('answered_by', '=', message.id)])).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()
    if (rows.length === 0) return
    const newest = rows[0]!
    const reply = classifyReply(message.body, newest.language)
    const step = consentStep('pending', reply)
    if (rows.some((r) => r.state !== 'pending')) return step.consumed ? 'consumed' : undefined // settled by this message already
    let queued = false
    await this.#db.transaction().execute(async (trx) => {
      if (step.state !== 'pending') {
        await trx.updateTable('msg_user_consents').set({ state: step.state, answered_by: message.id, last_modified_at: sql`clock_timestamp()` })
          .where('tenant_id', '=', message.tenantId).where('id', 'in', rows.map((r) => r.id)).where('state', '=', 'pending').execute()
      } else {
        await trx.updateTable('msg_user_consents').set({ last_modified_at: sql`clock_timestamp()` }).where('tenant_id', '=', message.tenantId).where('id', '=', newest.id).execute()
      }
      for (const effect of step.effects) {
        if (effect.kind === 'send') {
          const texts = (newest.args as { messages?: Record<string, string> }).messages ?? {}
          const body = texts[effect.message]
          if (!body) continue
          const sent = await this.#delivery.send(tenant, {
            channel: 'sms', to: message.from, body, idempotencyKey: `user-consent:${newest.id}:${message.id}`, data: { 'user-consent-id': newest.id },
            ...(message.to !== null && toE164(message.to) ? { from: message.to } : {}), ...(message.personId ? { personId: message.personId } : {}),
          }, { trx })
          queued ||= sent.created
        } else {
          await this.#suppression.add(tenant, { scope: 'sms', address: message.from, reason: 'consent_withdrawn', source: `user-consent:${newest.id}` }, { trx })
        }
      }
    })
    if (queued) this.#delivery.wake()
    return step.consumed ? 'consumed' : undefined
  }

  /**
   * Delivery's consent gate: with the tenant's `sms_consent_required` on, the phones of `phones`
   * without an accepted consent (a promotional SMS to them is held back); otherwise none.
   */
  readonly gate: ConsentGate = async (db, tenantId, phones) => {
    if (!(await this.consentRequired(db, tenantId)) || phones.length === 0) return new Set()
    const ok = await db.selectFrom('msg_user_consents').select('target_id').distinct()
      .where('tenant_id', '=', tenantId).where('state', '=', 'accepted').where('target_id', 'in', [...phones]).execute()
    const consented = new Set(ok.map((r) => r.target_id))
    return new Set(phones.filter((p) => !consented.has(p)))
  }

  /** Whether the tenant requires an accepted consent before promotional SMS (`tenants.settings.sms_consent_required`). */
  async consentRequired(db: Kysely<DB>, tenantId: TenantId): Promise<boolean> {
    const row = await db.selectFrom('tenants').select(sql<boolean | null>`(settings->>'sms_consent_required')::boolean`.as('required')).where('id', '=', tenantId).executeTakeFirst()
    return row?.required === true
  }
}

function present(r: ConsentRow): UserConsent {
  return {
    id: r.id, organizationId: r.organization_id, userId: r.user_id, type: r.type, state: r.state, targetId: r.target_id, args: r.args,
    createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
  }
}
