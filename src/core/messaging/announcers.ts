import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { openSecret, sealSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { checkUrlSyntax, STRICT_URL_POLICY, UnsafeUrlError, type UrlPolicy } from '../../lib/url-safety.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { EnqueueWebhookInput, WebhookTarget } from '../outbound-webhooks/index.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { Organizations } from './organizations.ts'
import type { DirectoryViewer } from './directory.service.ts'

type Executor = Kysely<DB> | Transaction<DB>
type AnnouncerRow = Selectable<DB['msg_announcers']>

/**
 * The events an announcer fires on: `individual-shared` (an individual became a subscriber of one
 * of the organisation's channels, at its creation or later) and `message-posted` (a message — not a
 * draft — was posted to one of the organisation's channels, or a draft was posted by un-drafting it).
 */
export const ANNOUNCER_EVENTS = ['individual-shared', 'message-posted'] as const
export type AnnouncerEvent = (typeof ANNOUNCER_EVENTS)[number]
/** The announcer types: `webhook`, with args `{url, secret}` (the secret signs each POST). */
export const ANNOUNCER_TYPES = ['webhook'] as const
/** A webhook secret's length bounds (as the contact center's). */
export const ANNOUNCER_SECRET_MIN = 16
export const ANNOUNCER_SECRET_MAX = 200
const URL_MAX = 2048
/** The outbound-webhook topic prefix of announcer events: `messaging.<event>:<announcer id>`. */
const TOPIC = /^messaging\.(individual-shared|message-posted):([0-9a-f-]{36})$/

/** A messaging announcer (#2–#5); `args.secret` is only ever its masked form. */
export interface Announcer {
  readonly id: string
  readonly organizationId: string
  readonly name: string
  readonly type: string
  readonly event: string
  /** `{url, secret}` with the secret masked (`****` + its last four characters). */
  readonly args: Record<string, unknown>
  readonly createdBy: string | null
  readonly lastModifiedBy: string | null
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface AnnouncerInput {
  readonly organizationId?: string
  readonly name?: string
  readonly type?: string
  readonly event?: string
  readonly args?: Record<string, unknown>
}

/** How a secret is served: `****` and its last four characters (as the contact center's webhook secrets). */
export function maskAnnouncerSecret(clear: string): string {
  return `****${clear.slice(-4)}`
}
const isMasked = (v: string) => /^\*{4}[^*]{0,4}$/.test(v)
const context = (tenantId: TenantId, id: string) => `msg_announcer_secret:${tenantId}:${id}`
const at = (member: string) => ({ pointer: `/data/attributes/${member}` })
const bad = (why: string, member: string) => new ValidationError('invalid_announcer', why, at(member))
const notFound = (id: string) => new NotFoundError('resource_not_found', `No announcers with id ${id}`, { type: 'announcers', id })

/** What the outbound-webhooks service is, as far as announcers need it (enqueue in the caller's transaction). */
export interface AnnouncerWebhooks {
  enqueue(trx: Transaction<DB>, tenantId: TenantId, input: EnqueueWebhookInput): Promise<unknown>
  wake(): void
}

/**
 * Messaging announcers: an organisation's event hooks. An announcer of type `webhook` receives a
 * signed POST (through the outbound-webhooks domain: queued in the transaction of the change, sent
 * and retried by `webhooks.send`, its URL held to the outbound URL policy at every connection) for
 * each event it listens to in the organisation's channels. The signing secret is stored sealed
 * under the master key and served masked.
 */
export class AnnouncersService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #people: PeopleLookups
  readonly #webhooks: AnnouncerWebhooks
  readonly #secretKey: Buffer
  readonly #policy: UrlPolicy

  constructor(deps: { db: Kysely<DB>; organizations: Organizations; peopleLookups: PeopleLookups; webhooks: AnnouncerWebhooks; secretKey: Buffer; urlPolicy?: UrlPolicy }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#people = deps.peopleLookups
    this.#webhooks = deps.webhooks
    this.#secretKey = deps.secretKey
    this.#policy = deps.urlPolicy ?? STRICT_URL_POLICY
  }

  /** #2: the tenant's announcers (of one organisation, of one name), oldest first; and how many match. */
  async list(tenant: Tenant, q: { organizationId?: string; name?: string; limit: number; offset: number }): Promise<{ items: Announcer[]; total: number }> {
    if (q.organizationId !== undefined) await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    let query = this.#db.selectFrom('msg_announcers').where('tenant_id', '=', tenant.id)
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId)
    if (q.name !== undefined) query = query.where('name', '=', q.name)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map((r) => this.#present(r)), total: Number(total.n) }
  }

  /** #4 */
  async get(tenant: Tenant, id: string): Promise<Announcer> {
    const row = await this.#db.selectFrom('msg_announcers').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    return this.#present(row)
  }

  /** #3: a new announcer. ValidationError `invalid_announcer` at the member at fault. */
  async create(tenant: Tenant, input: Required<AnnouncerInput>, actor: string): Promise<Announcer> {
    await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
    checkEvent(input.event)
    checkType(input.type)
    const id = randomUUID()
    const { url, secret } = this.#checkArgs(input.args, undefined)
    const row = await this.#db.insertInto('msg_announcers').values({
      id, tenant_id: tenant.id, organization_id: input.organizationId, name: input.name, type: input.type, event: input.event,
      args: JSON.stringify({ url }), secret_sealed: sealSecret(this.#secretKey, context(tenant.id, id), secret), created_by: actor, last_modified_by: actor,
    }).returningAll().executeTakeFirstOrThrow()
    return this.#present(row)
  }

  /**
   * #5: change name, type, event and/or args. New `args` replace the old ones; their `secret` may be
   * left out or given masked (as served) to keep the stored one.
   */
  async update(tenant: Tenant, id: string, input: AnnouncerInput, actor: string): Promise<Announcer> {
    const row = await this.#db.selectFrom('msg_announcers').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    if (input.event !== undefined) checkEvent(input.event)
    if (input.type !== undefined) checkType(input.type)
    const set: Record<string, unknown> = {}
    if (input.args !== undefined) {
      const stored = this.#secret(row)
      const { url, secret } = this.#checkArgs(input.args, stored)
      set.args = JSON.stringify({ url })
      if (secret !== stored) set.secret_sealed = sealSecret(this.#secretKey, context(tenant.id, id), secret)
    }
    if (input.name !== undefined) set.name = input.name
    if (input.type !== undefined) set.type = input.type
    if (input.event !== undefined) set.event = input.event
    const updated = await this.#db.updateTable('msg_announcers').set({ ...set, last_modified_by: actor, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    return this.#present(updated)
  }

  /**
   * The `WebhookTargets` port's answer for an announcer topic (`messaging.<event>:<announcer id>`):
   * the announcer's current URL and secret, or null (not an announcer topic, the announcer is gone,
   * or its secret cannot be opened: the event is then dropped as `no_target`).
   */
  async webhookTarget(tenantId: TenantId, topic: string): Promise<WebhookTarget | null> {
    const m = TOPIC.exec(topic)
    if (!m) return null
    const row = await this.#db.selectFrom('msg_announcers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', m[2]!).executeTakeFirst()
    if (!row || row.type !== 'webhook') return null
    const secret = this.#secret(row)
    const url = typeof row.args.url === 'string' ? row.args.url : undefined
    return secret && url ? { url, secrets: [secret] } : null
  }

  /**
   * The messages' posting port (in the post's transaction): queue a `message-posted` event for each
   * announcer of the channel's organisation. True when one was queued (`wake` after the commit).
   */
  async messagePosted(trx: Transaction<DB>, tenantId: TenantId, m: { id: string; channelId: string; authorId: string | null; message: string }): Promise<boolean> {
    const hooks = await this.#listening(trx, tenantId, 'message-posted', m.channelId)
    if (hooks.length === 0) return false
    const author = m.authorId ? (await this.#people.findMany(trx, tenantId, [m.authorId])).get(m.authorId) : undefined
    const row = await trx.selectFrom('msg_messages').select(['posted_at', 'source', 'seq']).where('tenant_id', '=', tenantId).where('id', '=', m.id).executeTakeFirstOrThrow()
    for (const a of hooks) {
      await this.#enqueue(trx, tenantId, a, `message-posted:${m.id}`, {
        'channel-id': m.channelId, 'message-id': m.id, 'individual-id': author?.cassId ?? null, message: m.message,
        'posted-time': row.posted_at.toISOString(), source: row.source,
      })
    }
    return true
  }

  /**
   * The channels' subscription port (in the change's transaction): queue an `individual-shared`
   * event per new subscriber for each announcer of the channel's organisation. `by`: the acting
   * individual (person id) that shared the channel, if any. True when one was queued.
   */
  async individualsShared(trx: Transaction<DB>, tenantId: TenantId, s: { channelId: string; personIds: readonly string[]; by: string | null }): Promise<boolean> {
    if (s.personIds.length === 0) return false
    const hooks = await this.#listening(trx, tenantId, 'individual-shared', s.channelId)
    if (hooks.length === 0) return false
    const people = await this.#people.findMany(trx, tenantId, [...s.personIds, ...(s.by ? [s.by] : [])])
    const sharedAt = new Date().toISOString()
    for (const personId of s.personIds) {
      const who = people.get(personId)
      if (!who) continue
      // One event per subscription made: a later re-subscription is a new event, so the key is fresh.
      const event = randomUUID()
      for (const a of hooks) {
        await this.#enqueue(trx, tenantId, a, `individual-shared:${event}`, {
          'channel-id': s.channelId, 'individual-id': who.cassId, 'shared-by-individual-id': s.by ? people.get(s.by)?.cassId ?? null : null, 'shared-at': sharedAt,
        })
      }
    }
    return true
  }

  /** Whether the tenant has any announcer of `event` (one indexed look): batches ask this once instead of once per item. */
  async anyListening(trx: Executor, tenantId: TenantId, event: AnnouncerEvent): Promise<boolean> {
    return (await trx.selectFrom('msg_announcers').select('id').where('tenant_id', '=', tenantId).where('event', '=', event).limit(1).executeTakeFirst()) !== undefined
  }

  /** Wake the webhook workers (after a transaction that queued events commits). */
  wake(): void {
    this.#webhooks.wake()
  }

  /** The announcers of `event` of the channel's organisation (one indexed look). */
  async #listening(trx: Executor, tenantId: TenantId, event: AnnouncerEvent, channelId: string): Promise<AnnouncerRow[]> {
    return trx.selectFrom('msg_announcers as a').innerJoin('msg_channels as c', (j) => j.onRef('c.tenant_id', '=', 'a.tenant_id').onRef('c.organization_id', '=', 'a.organization_id'))
      .selectAll('a').where('a.tenant_id', '=', tenantId).where('a.event', '=', event).where('c.id', '=', channelId).orderBy('a.created_at').orderBy('a.id').execute()
  }

  /** One announcer event, as a JSON:API-like document (README "Messaging API: announcers"). */
  async #enqueue(trx: Transaction<DB>, tenantId: TenantId, a: AnnouncerRow, key: string, attributes: Record<string, unknown>): Promise<void> {
    const id = randomUUID()
    await this.#webhooks.enqueue(trx, tenantId, {
      topic: `messaging.${a.event}:${a.id}`,
      idempotencyKey: `announcer:${a.id}:${key}`,
      body: {
        data: {
          type: 'announcer-events', id,
          attributes: { event: a.event, 'announcer-id': a.id, 'announcer-name': a.name, 'organization-id': a.organization_id, 'occurred-at': new Date().toISOString(), ...attributes },
        },
        meta: {},
      },
    })
  }

  /** `args` of a webhook: a URL the outbound URL policy allows (syntax; addresses at each send) and a secret. */
  #checkArgs(args: Record<string, unknown>, stored: string | undefined): { url: string; secret: string } {
    for (const key of Object.keys(args)) {
      if (key !== 'url' && key !== 'secret') throw bad('a webhook announcer takes only args.url and args.secret', `args/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    }
    const url = args.url
    if (typeof url !== 'string' || url.length === 0 || url.length > URL_MAX) throw bad(`args.url must be an http(s) URL of at most ${URL_MAX} characters`, 'args/url')
    try {
      checkUrlSyntax(url, this.#policy)
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw bad(`args.url: ${err.message}`, 'args/url')
      throw err
    }
    const secret = args.secret
    if (secret === undefined || (typeof secret === 'string' && isMasked(secret) && stored !== undefined)) {
      if (stored === undefined) throw bad(`args.secret is required: ${ANNOUNCER_SECRET_MIN} to ${ANNOUNCER_SECRET_MAX} characters that sign each POST`, 'args/secret')
      if (secret !== undefined && maskAnnouncerSecret(stored) !== secret) throw bad('args.secret: the masked value is not the stored secret\'s', 'args/secret')
      return { url, secret: stored }
    }
    if (typeof secret !== 'string' || secret.length < ANNOUNCER_SECRET_MIN || secret.length > ANNOUNCER_SECRET_MAX || secret.includes('\u0000')) {
      throw bad(`args.secret must be ${ANNOUNCER_SECRET_MIN} to ${ANNOUNCER_SECRET_MAX} characters`, 'args/secret')
    }
    return { url, secret }
  }

  /** The stored secret in clear, or undefined when it cannot be opened (another master key). */
  #secret(row: AnnouncerRow): string | undefined {
    if (!row.secret_sealed) return undefined
    try {
      return openSecret(this.#secretKey, context(row.tenant_id, row.id), row.secret_sealed, 'an announcer secret')
    } catch {
      return undefined
    }
  }

  #present(r: AnnouncerRow): Announcer {
    const secret = this.#secret(r)
    return {
      id: r.id, organizationId: r.organization_id, name: r.name, type: r.type, event: r.event,
      args: { ...r.args, ...(r.secret_sealed ? { secret: secret === undefined ? '****' : maskAnnouncerSecret(secret) } : {}) },
      createdBy: r.created_by, lastModifiedBy: r.last_modified_by, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
    }
  }
}

/**
 * Announcers are the organisation's: they see every channel of it. A user token (one care-team
 * member) may not list, read or change them: ForbiddenError `organization_key_required`.
 */
export function requireOrganizationKey(viewer: DirectoryViewer): void {
  if (viewer.kind === 'user') throw new ForbiddenError('organization_key_required', 'announcers are managed with the organisation API key, not a user token')
}

function checkEvent(event: string): void {
  if (!(ANNOUNCER_EVENTS as readonly string[]).includes(event)) throw bad(`event must be one of ${ANNOUNCER_EVENTS.join(', ')}`, 'event')
}
function checkType(type: string): void {
  if (!(ANNOUNCER_TYPES as readonly string[]).includes(type)) throw bad(`type must be one of ${ANNOUNCER_TYPES.join(', ')} (args {url, secret})`, 'type')
}
