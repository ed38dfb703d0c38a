import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { InboundHandler, InboundMessage, SendAnswer, SendMessageInput, SendOptions, TenantRef } from '../delivery/index.ts'
import { ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import type { Channel, ChannelsService } from './channels.ts'
import { ORG_PREFERENCE_DEFAULTS } from './org-preferences.ts'
import type { PeopleLookups } from '../people/index.ts'

/** The delivery pipeline as the SMS path uses it: an outbox row and its job in the caller's transaction. */
export interface ChannelSmsDelivery {
  send(tenant: TenantRef, input: SendMessageInput, opts?: SendOptions): Promise<SendAnswer>
  wake(): void
}

/** A posted channel message, as the SMS path reads it. */
export interface PostedMessage {
  readonly id: string
  readonly channelId: string
  /** The author's core person id (null: the organisation). */
  readonly authorId: string | null
  readonly message: string
}

/** What #51 sets. */
export interface SetSms {
  readonly active: boolean
  readonly initialMessage?: string
  readonly initialMessageJs?: Record<string, unknown>
}

/** The longest SMS body the path sends (Twilio's limit for one message). */
const MAX_SMS = 1600

/**
 * A channel's SMS path (#51). While it is active, every message posted to the channel reaches its
 * SMS recipients — the subscribers with a phone who are not care-team users and not the author —
 * through the delivery pipeline (outbox, `delivery.send`, the tenant's SMS provider; the
 * suppression list honoured there), as `<author's name>: <text>`; each person's first one of an
 * activation leads with the channel's `initial-message` (or the organisation's `initial-sms-message`). An SMS from such a
 * person comes back as their message in the channel that texted them last (`inboundHandler`).
 */
export class ChannelSmsService {
  readonly #db: Kysely<DB>
  readonly #channels: ChannelsService
  readonly #delivery: ChannelSmsDelivery
  readonly #people: PeopleLookups

  constructor(deps: { db: Kysely<DB>; channels: ChannelsService; delivery: ChannelSmsDelivery; people: PeopleLookups }) {
    this.#people = deps.people
    this.#db = deps.db
    this.#channels = deps.channels
    this.#delivery = deps.delivery
  }

  /**
   * #51: switch the SMS path on or off, with its own first message. Switching it on when no
   * subscriber can be texted is ValidationError `sms_unavailable` (nothing changes). Switching it
   * on again after it was off starts a new activation: everyone gets the first message again.
   */
  async set(tenant: Tenant, channelId: string, input: SetSms): Promise<Channel> {
    const channel = await this.#channels.get(tenant, channelId)
    if (input.active && !channel.subscribers.some((s) => s.person.phone !== null && s.userId === null)) {
      throw new ValidationError('sms_unavailable', 'no subscriber of this channel can be texted (an individual with a phone who is not a care-team user)', { pointer: '/active' })
    }
    await this.#db.updateTable('msg_channels').set({
      sms_active: input.active,
      sms_activated_at: input.active ? sql`CASE WHEN sms_active THEN sms_activated_at ELSE now() END` : sql`sms_activated_at`,
      ...(input.initialMessage !== undefined ? { sms_initial_message: input.initialMessage } : {}),
      ...(input.initialMessageJs !== undefined ? { sms_initial_message_js: JSON.stringify(input.initialMessageJs) } : {}),
      last_modified_at: sql`now()`,
    }).where('tenant_id', '=', tenant.id).where('id', '=', channelId).execute()
    return this.#channels.get(tenant, channelId)
  }

  /**
   * A message was posted (in `trx`, the post's transaction): queue its SMS to the channel's SMS
   * recipients when the path is active. Answers whether anything was queued (then `wake` after
   * the commit). Keyed by message and person, so a retried post queues nothing twice.
   */
  async posted(trx: Transaction<DB>, tenantId: TenantId, m: PostedMessage): Promise<boolean> {
    const c = await trx.selectFrom('msg_channels').select(['organization_id', 'sms_active', 'sms_activated_at', 'sms_initial_message', 'sms_initial_message_js', 'text_number_id'])
      .where('tenant_id', '=', tenantId).where('id', '=', m.channelId).executeTakeFirst()
    if (!c?.sms_active || !m.message) return false
    // From the channel's text number (`text-number-id`) when it has one, else the tenant's SMS sender.
    const sender = await this.#channels.smsSender(trx, tenantId, c)
    // The subscribers who are not care-team users, then who they are (phone, language, name) through
    // the people domain, in this transaction.
    const subscribers = await trx.selectFrom('msg_channel_subscribers as s').select('s.individual_id').where('s.tenant_id', '=', tenantId).where('s.channel_id', '=', m.channelId)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('msg_users as u').select('u.id').whereRef('u.tenant_id', '=', 's.tenant_id').whereRef('u.person_id', '=', 's.individual_id'))))
      .orderBy('s.created_at').execute()
    const people = await this.#people.findMany(trx, tenantId, [...subscribers.map((x) => x.individual_id), ...(m.authorId ? [m.authorId] : [])])
    const recipients = subscribers.flatMap((x) => {
      const p = people.get(x.individual_id)
      return p && p.phone !== null ? [{ id: p.id, phone: p.phone, language_type: p.languageType }] : []
    })
    const to = recipients.filter((r) => r.id !== m.authorId)
    if (to.length === 0) return false
    const person = m.authorId ? people.get(m.authorId) : undefined
    const author = person ? { first_name: person.firstName, last_name: person.lastName } : undefined
    const name = author ? [author.first_name, author.last_name].filter(Boolean).join(' ') : ''
    const body = name ? `${name}: ${m.message}` : m.message
    const activatedAt = c.sms_activated_at ?? new Date(0)
    const introduced = new Set((await trx.selectFrom('msg_channel_sms').select('person_id').where('tenant_id', '=', tenantId).where('channel_id', '=', m.channelId)
      .where('initial', '=', true).where('created_at', '>=', activatedAt).where('person_id', 'in', to.map((r) => r.id)).execute()).map((r) => r.person_id))
    const orgDefault = await trx.selectFrom('msg_org_preferences').select(['value', 'value_js']).where('tenant_id', '=', tenantId)
      .where('organization_id', '=', c.organization_id).where('name', '=', 'initial-sms-message').executeTakeFirst()
    for (const r of to) {
      // The first SMS of an activation leads with the initial message, in one SMS so they arrive in order.
      const initial = !introduced.has(r.id)
      const text = initial ? `${initialMessage(c.sms_initial_message, c.sms_initial_message_js, orgDefault, r.language_type)}\n\n${body}` : body
      const sent = await this.#delivery.send({ id: tenantId }, {
        channel: 'sms', to: r.phone!, body: text.slice(0, MAX_SMS), personId: r.id, idempotencyKey: `msg-sms:${m.id}:${r.id}`,
        ...(sender ? { from: sender.from, data: sender.data } : {}),
      }, { trx, peopleChecked: true })
      await trx.insertInto('msg_channel_sms').values({ outbox_message_id: sent.message.id, tenant_id: tenantId, channel_id: m.channelId, person_id: r.id, message_id: m.id, initial })
        .onConflict((oc) => oc.column('outbox_message_id').doNothing()).execute()
    }
    return true
  }

  /** Whether an active, unarchived channel's SMS path sends from the text number (its replies are the channel's). */
  async servesNumber(tenantId: TenantId, numberId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('msg_channels').select('id').where('tenant_id', '=', tenantId).where('text_number_id', '=', numberId)
      .where('sms_active', '=', true).where('archived_at', 'is', null).limit(1).executeTakeFirst()
    return row !== undefined
  }

  /** Wake the send workers after a commit that queued SMS. */
  wake(): void {
    this.#delivery.wake()
  }

  /**
   * The inbound handler (conversation phase: after an active contact-center SMS session, before
   * the bot). An SMS from a person whom an active SMS path texted becomes their message in the
   * channel that texted them last (still active, not archived, the person still subscribed), is
   * relayed to the channel's other SMS recipients, and is consumed. Idempotent by inbound id.
   */
  readonly inboundHandler: InboundHandler = async (n: InboundMessage) => {
    if (n.channel !== 'sms' || !n.personId || !n.body) return undefined
    const personId = n.personId
    const channelId = await this.#db.transaction().execute(async (trx) => {
      const target = await trx.selectFrom('msg_channel_sms as x').innerJoin('msg_channels as c', (j) => j.onRef('c.tenant_id', '=', 'x.tenant_id').onRef('c.id', '=', 'x.channel_id'))
        .select('c.id').where('x.tenant_id', '=', n.tenantId).where('x.person_id', '=', personId)
        .where('c.sms_active', '=', true).where('c.archived_at', 'is', null)
        .where((eb) => eb.exists(eb.selectFrom('msg_channel_subscribers as s').select('s.individual_id')
          .whereRef('s.tenant_id', '=', 'c.tenant_id').whereRef('s.channel_id', '=', 'c.id').where('s.individual_id', '=', personId)))
        .orderBy('x.created_at', 'desc').limit(1).executeTakeFirst()
      if (!target) return undefined
      const row = await trx.insertInto('msg_messages').values({
        tenant_id: n.tenantId, channel_id: target.id, author_id: personId, message: n.body, source: 'sms', inbound_message_id: n.id,
      }).onConflict((oc) => oc.column('inbound_message_id').where('inbound_message_id', 'is not', null).doNothing()).returning('id').executeTakeFirst()
      if (!row) return target.id // stored by an earlier run of this job
      await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', n.tenantId).where('id', '=', target.id).execute()
      await this.posted(trx, n.tenantId, { id: row.id, channelId: target.id, authorId: personId, message: n.body })
      return target.id
    })
    if (!channelId) return undefined
    this.#delivery.wake()
    return 'consumed'
  }
}

/**
 * The first SMS of an activation: the channel's `initial-message-js` in the person's language (its
 * key's language part, `es_US` for `es`), else the channel's `initial-message`, else the
 * organisation's `initial-sms-message` (its `value`, or `value-js` in the person's language), else
 * its default.
 */
function initialMessage(own: string | null, ownJs: Record<string, unknown> | null, org: { value: string | null; value_js: Record<string, unknown> | null } | undefined, language: string | null): string {
  const pick = (js: Record<string, unknown> | null) => {
    if (!js || !language) return undefined
    const lang = language.toLowerCase().split(/[-_]/)[0]
    const key = Object.keys(js).find((k) => k.toLowerCase().split(/[-_]/)[0] === lang)
    const v = key ? js[key] : undefined
    return typeof v === 'string' && v.trim() ? v : undefined
  }
  return pick(ownJs) ?? (own?.trim() ? own : undefined) ?? pick(org?.value_js ?? null) ?? (org?.value?.trim() ? org.value : undefined) ?? ORG_PREFERENCE_DEFAULTS['initial-sms-message']
}
