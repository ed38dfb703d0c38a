import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import type { Organizations } from './organizations.ts'

type BookmarkRow = Selectable<DB['msg_bookmarks']>

/** A bookmark: a message of a channel pinned, by an individual or the organisation. */
export interface Bookmark {
  readonly id: string
  readonly organizationId: string
  readonly channelId: string
  readonly messageId: string
  /** The individual who made it, or the organisation's id when the organisation key did. */
  readonly createdBy: string
  readonly createdAt: Date
}

export interface CreateBookmark {
  readonly channelId: string
  readonly messageId: string
  /** false (default): the new bookmark replaces the channel's others; true: it joins them. */
  readonly allowMultiMessage?: boolean
  /** The acting individual (a subscriber of the channel); absent: the organisation. */
  readonly individualId?: string
}

/**
 * Bookmarks (#33–#35): a message of a channel pinned. A channel's newest bookmark is its current
 * one, echoed on the channel (`messaging-channels.bookmark`). Without `allowMultiMessage` a new
 * bookmark replaces the channel's others.
 */
export class BookmarksService {
  readonly #db: Kysely<DB>
  readonly #channels: ChannelsService
  readonly #orgs: Organizations

  constructor(deps: { db: Kysely<DB>; channels: ChannelsService; organizations: Organizations }) {
    this.#db = deps.db
    this.#channels = deps.channels
    this.#orgs = deps.organizations
  }

  /** #34: bookmark a posted message of the channel (the channel's last-modified-time moves). */
  async create(tenant: Tenant, input: CreateBookmark): Promise<Bookmark> {
    const id = await this.#db.transaction().execute(async (trx) => {
      const channel = await trx.selectFrom('msg_channels').select(['id', 'organization_id']).where('tenant_id', '=', tenant.id).where('id', '=', input.channelId).forUpdate().executeTakeFirst()
      if (!channel) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${input.channelId}`, { type: 'messaging-channels', id: input.channelId, pointer: '/data/attributes/channel-id' })
      const acting = input.individualId ? await this.#channels.individual(trx, tenant.id, input.individualId, { pointer: '/data/attributes/individual-id' }) : undefined
      if (acting) {
        const sub = await trx.selectFrom('msg_channel_subscribers').select('individual_id').where('tenant_id', '=', tenant.id).where('channel_id', '=', channel.id).where('individual_id', '=', acting.id).executeTakeFirst()
        if (!sub) throw new ForbiddenError('not_a_subscriber', 'the individual does not subscribe to this channel', { pointer: '/data/attributes/individual-id' })
      }
      const message = await trx.selectFrom('msg_messages').select(['id', 'channel_id', 'draft']).where('tenant_id', '=', tenant.id).where('id', '=', input.messageId).executeTakeFirst()
      if (!message || message.draft) throw new NotFoundError('resource_not_found', `No messaging-messages with id ${input.messageId}`, { type: 'messaging-messages', id: input.messageId, pointer: '/data/attributes/message-id' })
      if (message.channel_id !== channel.id) throw new ValidationError('message_not_in_channel', 'the message is not one of this channel\'s', { pointer: '/data/attributes/message-id' })
      if (!input.allowMultiMessage) await trx.deleteFrom('msg_bookmarks').where('tenant_id', '=', tenant.id).where('channel_id', '=', channel.id).execute()
      const row = await trx.insertInto('msg_bookmarks').values({
        tenant_id: tenant.id, organization_id: channel.organization_id, channel_id: channel.id, message_id: message.id, created_by: acting?.cassId ?? channel.organization_id,
      }).returning('id').executeTakeFirstOrThrow()
      await trx.updateTable('msg_channels').set({ last_modified_at: sql`now()` }).where('tenant_id', '=', tenant.id).where('id', '=', channel.id).execute()
      return row.id
    })
    return this.get(tenant, id)
  }

  /** #35: one bookmark of the tenant. */
  async get(tenant: Tenant, id: string): Promise<Bookmark> {
    const row = await this.#db.selectFrom('msg_bookmarks').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!row) throw new NotFoundError('resource_not_found', `No messaging-bookmarks with id ${id}`, { type: 'messaging-bookmarks', id })
    return present(row)
  }

  /** #33: an organisation's bookmarks, newest first, of one channel if given. */
  async list(tenant: Tenant, q: { organizationId: string; channelId?: string; limit: number; offset: number }): Promise<{ items: Bookmark[]; total: number }> {
    await this.#orgs.find(tenant, q.organizationId, { parameter: 'organization-id' })
    if (q.channelId !== undefined) {
      const channel = await this.#db.selectFrom('msg_channels').select('id').where('tenant_id', '=', tenant.id).where('id', '=', q.channelId).executeTakeFirst()
      if (!channel) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${q.channelId}`, { type: 'messaging-channels', id: q.channelId, parameter: 'filter[channel-id]' })
    }
    let query = this.#db.selectFrom('msg_bookmarks').where('tenant_id', '=', tenant.id).where('organization_id', '=', q.organizationId)
    if (q.channelId !== undefined) query = query.where('channel_id', '=', q.channelId)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(present), total: Number(total.n) }
  }
}

function present(r: BookmarkRow): Bookmark {
  return { id: r.id, organizationId: r.organization_id, channelId: r.channel_id, messageId: r.message_id, createdBy: r.created_by, createdAt: r.created_at }
}
