import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { NotFoundError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import { ORGANIZATION_VIEWER, type DirectoryViewer } from './directory.service.ts'

/** A channel member's profile (`individual-profiles`, #49). */
export interface IndividualProfile {
  /** The individual's id (Cass person id). */
  readonly id: string
  /** A URL of the individual's photo; '' while the directory has none (README "Messaging: get-profile"). */
  readonly photo: string
}

/**
 * Profiles of channel members as another member sees them (#49): answered only when both the
 * acting individual and the profile's individual subscribe to the channel (and the caller sees the
 * channel); otherwise the profile is not found, so nobody learns who is in a channel they are not in.
 */
export class ProfilesService {
  readonly #db: Kysely<DB>
  readonly #channels: ChannelsService

  constructor(deps: { db: Kysely<DB>; channels: ChannelsService }) {
    this.#db = deps.db
    this.#channels = deps.channels
  }

  /** #49: the profile of `profileIndividualId` in channel `channelId`, as `individualId` sees it. */
  async get(tenant: Tenant, channelId: string, individualId: string, profileIndividualId: string, viewer: DirectoryViewer = ORGANIZATION_VIEWER): Promise<IndividualProfile> {
    await this.#channels.assertVisible(tenant, channelId, viewer)
    const acting = await this.#channels.actingIndividual(tenant, viewer, individualId, { parameter: 'individual-id' })
    const me = await this.#channels.individual(this.#db, tenant.id, acting ?? individualId, { parameter: 'individual-id' })
    const them = await this.#channels.individual(this.#db, tenant.id, profileIndividualId, { parameter: 'profile-individual-id' })
    const members = await this.#db.selectFrom('msg_channel_subscribers').select('individual_id')
      .where('tenant_id', '=', tenant.id).where('channel_id', '=', channelId).where('individual_id', 'in', [me.id, them.id]).execute()
    const has = (id: string) => members.some((m) => m.individual_id === id)
    if (!has(me.id)) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${channelId} for individual ${me.cassId}`, { type: 'messaging-channels', id: channelId, parameter: 'individual-id' })
    if (!has(them.id)) throw new NotFoundError('resource_not_found', `No individual-profiles with id ${them.cassId} in this channel`, { type: 'individual-profiles', id: them.cassId, parameter: 'profile-individual-id' })
    return { id: them.cassId, photo: '' }
  }
}
