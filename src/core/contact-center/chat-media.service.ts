import type { Readable } from 'node:stream'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { FileContent, FilesService, UploadTicket } from '../files/index.ts'
import type { Agent } from './contact-center.types.ts'
import type { ChatMessage, ChatsService } from './chats.service.ts'
import { TERMINAL_STATUSES, type ChatStatus } from './chat.machine.ts'
import { nextNums } from './setup.repository.ts'
import { CALL_CLOSED_STATUSES } from './session-status.ts'

type Executor = Kysely<DB> | Transaction<DB>

/** What a chat's media is: end users attach photos and videos; agents attach any file. */
export type MediaKind = 'photo' | 'video' | 'file'

/** The photo types an end user may give (§3.7; `screenshot` inferred). */
export const PHOTO_TYPES = ['photo', 'screenshot'] as const

/** The purpose (middle key segment) of chat media in the files store. */
const PURPOSE = 'chat-media'

/** A photo, video or file attached to a chat (§3.7, §3.16), with a signed URL to read it. */
export interface ChatMedia {
  /** The media id of the Apps API. */
  readonly num: number
  readonly chatNum: number
  readonly kind: MediaKind
  readonly photoType: string | null
  /** A signed download URL, valid until `urlExpiresAt`. */
  readonly url: string
  readonly urlExpiresAt: Date
  readonly key: string
  readonly contentType: string | null
  readonly size: number | null
  readonly fileName: string | null
  readonly uploadedBy: 'end_user' | 'agent'
  readonly attachedAt: Date
}

/** The photos and videos of a chat, as the chat object shows them (`photos`, `videos`). */
export interface ChatMediaLists {
  readonly photos: ChatMedia[]
  readonly videos: ChatMedia[]
}

/** What the media service needs of the files domain. */
export type MediaFiles = Pick<FilesService, 'createUpload' | 'stat' | 'read' | 'put' | 'delete' | 'signedDownload'>

/** A file an agent sends into a chat. */
export interface AgentAttachment {
  readonly contentType: string
  readonly stream: Readable
  readonly fileName: string | null
}

/** Which stored media types each kind accepts (SVG is not a photo: it can carry script). */
const ACCEPTS: Readonly<Record<'photo' | 'video', RegExp>> = { photo: /^image\/(?!svg)/, video: /^video\// }

/**
 * Media of contact-center chats. End users upload through presigned URLs (H8, H11) handed out for
 * one chat and recorded here, so only an object uploaded for this tenant's chat can be attached
 * (H6, H9); attached media get their Apps API id and show in the chat's `photos`/`videos` and in
 * H7/H10. Agents attach files from the workspace: stored, then sent as an agent message whose
 * `media_id` the tenant's `message_received` webhook carries, read back with
 * `GET /chats/:chat_id/media/:media_id`. Writes run with the chat row locked; refused on ended
 * chats ("Chat is already ended") and on dismissed ones (resume first).
 */
export class ChatMediaService {
  readonly #db: Kysely<DB>
  readonly #files: MediaFiles
  readonly #chats: ChatsService

  constructor(deps: { db: Kysely<DB>; files: MediaFiles; chats: ChatsService }) {
    this.#db = deps.db
    this.#files = deps.files
    this.#chats = deps.chats
  }

  /**
   * H8/H11: a presigned PUT for a photo or video of the chat. With `contentType` the upload must
   * carry it (it is signed into the URL); it must suit the kind (`media_wrong_type`).
   */
  async uploadUrl(tenantId: TenantId, chatNum: number, kind: 'photo' | 'video', contentType?: string): Promise<UploadTicket> {
    if (contentType !== undefined && !ACCEPTS[kind].test(contentType.trim().toLowerCase())) throw wrongType(kind, 'content_type')
    return this.#db.transaction().execute(async (trx) => {
      const s = await lockChat(trx, tenantId, chatNum)
      refuseUnlessWritable(s.status)
      const ticket = await this.#files.createUpload(tenantId, { purpose: PURPOSE, contentType })
      await trx.insertInto('cc_media').values({ tenant_id: tenantId, session_id: s.id, kind, storage_key: ticket.key, uploaded_by: 'end_user', content_type: null, num: null }).execute()
      return ticket
    })
  }

  /**
   * H6/H9: attach uploaded objects to the chat, all or none. Each `key` must be an upload URL this
   * chat handed out for this kind (`media_upload_unknown`), not attached yet
   * (`media_already_attached`), with the bytes in the store (`media_not_uploaded`) of a type that
   * suits the kind (`media_wrong_type`).
   */
  async attach(tenantId: TenantId, chatNum: number, kind: 'photo' | 'video', items: ReadonlyArray<{ key: string; photoType?: string }>): Promise<ChatMedia[]> {
    const rows = await this.#db.transaction().execute(async (trx) => {
      const s = await lockChat(trx, tenantId, chatNum)
      refuseUnlessWritable(s.status)
      const nums = await nextNums(trx, tenantId, 'media', items.length)
      const now = new Date()
      const done: string[] = []
      for (const [i, item] of items.entries()) {
        const row = await trx.selectFrom('cc_media').select(['id', 'num']).where('tenant_id', '=', tenantId).where('session_id', '=', s.id)
          .where('storage_key', '=', item.key).where('kind', '=', kind).where('uploaded_by', '=', 'end_user').forUpdate().executeTakeFirst()
        if (!row) throw new ValidationError('media_upload_unknown', 's3_path is not an upload of this chat', { s3Path: item.key.slice(0, 200) })
        if (row.num !== null) throw new ValidationError('media_already_attached', 's3_path is already attached', { s3Path: item.key })
        const stored = await this.#files.stat(tenantId, item.key)
        if (!stored) throw new ValidationError('media_not_uploaded', 's3_path has not been uploaded', { s3Path: item.key })
        if (!ACCEPTS[kind].test(stored.contentType)) throw wrongType(kind)
        await trx.updateTable('cc_media').set({
          num: nums[i]!, attached_at: now, content_type: stored.contentType, size: stored.size, photo_type: kind === 'photo' ? item.photoType ?? 'photo' : null,
        }).where('tenant_id', '=', tenantId).where('id', '=', row.id).execute()
        done.push(row.id)
      }
      return selectMedia(trx, tenantId).where('m.id', 'in', done).orderBy('m.num').execute()
    })
    return rows.map((r) => this.#present(tenantId, r))
  }

  /** H7/H10: the attached photos or videos of a chat, oldest first. Refused on ended chats (§4.2). */
  async list(tenantId: TenantId, chatNum: number, kind: 'photo' | 'video'): Promise<ChatMedia[]> {
    const s = await findChat(this.#db, tenantId, chatNum)
    if (TERMINAL_STATUSES.has(s.status as ChatStatus)) throw chatEnded(chatNum)
    const rows = await selectMedia(this.#db, tenantId).where('m.session_id', '=', s.id).where('m.kind', '=', kind).where('m.num', 'is not', null).orderBy('m.num').execute()
    return rows.map((r) => this.#present(tenantId, r))
  }

  /** The photos and videos of a session, for the chat object (the chats service's port). */
  async forSession(db: Executor, tenantId: TenantId, sessionId: string): Promise<ChatMediaLists> {
    const rows = await selectMedia(db, tenantId).where('m.session_id', '=', sessionId).where('m.num', 'is not', null).where('m.kind', 'in', ['photo', 'video']).orderBy('m.num').execute()
    const media = rows.map((r) => this.#present(tenantId, r))
    return { photos: media.filter((m) => m.kind === 'photo'), videos: media.filter((m) => m.kind === 'video') }
  }

  /**
   * H3 with media: the attached media `mediaId` names, of this chat and of a kind that suits the
   * message type (`file` takes any); ValidationError `media_id_not_found` otherwise.
   */
  async requireAttached(tenantId: TenantId, chatNum: number, type: 'photo' | 'video' | 'file', mediaId: string): Promise<ChatMedia> {
    const num = /^\s*\d{1,9}\s*$/.test(mediaId) ? Number(mediaId) : undefined
    const row = num === undefined ? undefined : await selectMedia(this.#db, tenantId).where('s.num', '=', chatNum).where('m.num', '=', num).executeTakeFirst()
    if (!row || (type !== 'file' && row.kind !== type)) throw new ValidationError('media_id_not_found', `media_id ${mediaId.slice(0, 40)} is not found`, { mediaId: mediaId.slice(0, 40) })
    return this.#present(tenantId, row)
  }

  /**
   * The workspace: an agent sends a file into one of their chats. It is stored, recorded as the
   * chat's media, and sent as an agent message of type photo, video or file (by its media type)
   * whose `media_id` reaches the tenant through `message_received`. NotFoundError `chat_not_found`
   * for a chat that is not the agent's, `chat_ended` once it ended; nothing is kept then.
   */
  async sendFromAgent(agent: Agent, chatNum: number, file: AgentAttachment): Promise<{ media: ChatMedia; message: ChatMessage }> {
    const before = await findChat(this.#db, agent.tenantId, chatNum)
    assertAgentsLiveChat(before, agent, chatNum)
    const stored = await this.#files.put(agent.tenantId, { purpose: PURPOSE, contentType: file.contentType, stream: file.stream })
    const kind: MediaKind = ACCEPTS.photo.test(stored.contentType) ? 'photo' : ACCEPTS.video.test(stored.contentType) ? 'video' : 'file'
    let row: MediaRow
    try {
      row = await this.#db.transaction().execute(async (trx) => {
        const s = await lockChat(trx, agent.tenantId, chatNum)
        assertAgentsLiveChat(s, agent, chatNum)
        const [num] = await nextNums(trx, agent.tenantId, 'media')
        const inserted = await trx.insertInto('cc_media').values({
          tenant_id: agent.tenantId, num: num!, session_id: s.id, kind, storage_key: stored.key, photo_type: kind === 'photo' ? 'photo' : null,
          content_type: stored.contentType, size: stored.size, file_name: file.fileName, uploaded_by: 'agent', agent_id: agent.id, attached_at: new Date(),
        }).returning('id').executeTakeFirstOrThrow()
        return selectMedia(trx, agent.tenantId).where('m.id', '=', inserted.id).executeTakeFirstOrThrow()
      })
    } catch (err) {
      await this.#files.delete(agent.tenantId, stored.key)
      throw err
    }
    const media = this.#present(agent.tenantId, row)
    const message = await this.#chats.agentMessage(agent, chatNum, { type: kind, content: file.fileName, mediaId: String(media.num) })
    return { media, message }
  }

  /**
   * `GET /chats/:chat_id/media/:media_id`: the bytes of a chat's attached media (agents' files
   * above all), on a chat in any state. NotFoundError `media_not_found` for anything else.
   */
  async content(tenantId: TenantId, chatNum: number, mediaNum: number): Promise<{ media: ChatMedia; file: FileContent }> {
    const row = await selectMedia(this.#db, tenantId).where('s.num', '=', chatNum).where('m.num', '=', mediaNum).executeTakeFirst()
    if (!row) throw new NotFoundError('media_not_found', 'no such media in this chat', { mediaId: mediaNum })
    try {
      return { media: this.#present(tenantId, row), file: await this.#files.read(tenantId, row.storage_key) }
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError('media_not_found', 'the media file is gone from the store', { mediaId: mediaNum })
      throw err
    }
  }

  #present(tenantId: TenantId, r: MediaRow): ChatMedia {
    const link = this.#files.signedDownload(tenantId, r.storage_key)
    return {
      num: r.num!, chatNum: r.chat_num, kind: r.kind, photoType: r.photo_type, url: link.url, urlExpiresAt: link.expiresAt, key: r.storage_key,
      contentType: r.content_type, size: r.size === null ? null : Number(r.size), fileName: r.file_name, uploadedBy: r.uploaded_by, attachedAt: r.attached_at!,
    }
  }
}

type MediaRow = Awaited<ReturnType<ReturnType<typeof selectMedia>['executeTakeFirstOrThrow']>>

function selectMedia(db: Executor, tenantId: TenantId) {
  return db.selectFrom('cc_media as m').innerJoin('cc_sessions as s', (j) => j.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.id', '=', 'm.session_id'))
    .select(['m.id', 'm.num', 's.num as chat_num', 'm.kind', 'm.photo_type', 'm.storage_key', 'm.content_type', 'm.size', 'm.file_name', 'm.uploaded_by', 'm.attached_at'])
    .where('m.tenant_id', '=', tenantId).where('s.channel', '=', 'chat')
}

/** The chat's row, locked for the transaction; NotFoundError `chat_not_found`. */
export async function lockChat(trx: Transaction<DB>, tenantId: TenantId, chatNum: number, channel: 'chat' | 'call' = 'chat') {
  const row = await trx.selectFrom('cc_sessions').select(['id', 'num', 'status', 'agent_id', 'custom_data', 'verified', 'bad_actor', 'repeat_customer'])
    .where('tenant_id', '=', tenantId).where('num', '=', chatNum).where('channel', '=', channel).forUpdate().executeTakeFirst()
  if (!row) throw notFoundIn(channel, chatNum)
  return row
}

/** The chat's row, unlocked; NotFoundError `chat_not_found`. */
export async function findChat(db: Executor, tenantId: TenantId, chatNum: number, channel: 'chat' | 'call' = 'chat') {
  const row = await db.selectFrom('cc_sessions').select(['id', 'num', 'status', 'agent_id', 'custom_data', 'verified', 'bad_actor', 'repeat_customer'])
    .where('tenant_id', '=', tenantId).where('num', '=', chatNum).where('channel', '=', channel).executeTakeFirst()
  if (!row) throw notFoundIn(channel, chatNum)
  return row
}

/** A chat's or a call's NotFoundError (the session of `lockChat`/`findChat` on that channel). */
function notFoundIn(channel: 'chat' | 'call', num: number) {
  return channel === 'call' ? new NotFoundError('call_not_found', 'no such call', { callId: num }) : new NotFoundError('chat_not_found', 'no such chat', { chatId: num })
}

const chatEnded = (chatNum: number) => new ValidationError('chat_ended', 'Chat is already ended', { chatId: chatNum })

/** §4.2: refused on ended chats; a dismissed chat must be resumed (H2) first. */
export function refuseUnlessWritable(status: string, channel: 'chat' | 'call' = 'chat'): void {
  // §4.1: a call takes updates until it is terminal (finished, failed, recovered, voicemail …).
  if (channel === 'call') {
    if (CALL_CLOSED_STATUSES.has(status)) throw new ValidationError('call_ended', 'Call is already ended', { callId: 0 })
    return
  }
  if (TERMINAL_STATUSES.has(status as ChatStatus)) throw new ValidationError('chat_ended', 'Chat is already ended')
  if (status === 'dismissed' || status === 'va_dismissed') throw new ValidationError('chat_dismissed', 'Chat is dismissed; resume it first')
}

function assertAgentsLiveChat(s: { status: string; agent_id: string | null }, agent: Agent, chatNum: number): void {
  if (s.agent_id !== agent.id) throw new NotFoundError('chat_not_found', 'no such chat of this agent', { chatId: chatNum })
  if (s.status !== 'assigned') throw chatEnded(chatNum)
}

const wrongType = (kind: 'photo' | 'video', field = 's3_path') => new ValidationError('media_wrong_type', `${field} is not ${kind === 'photo' ? 'an image' : 'a video'}`, { kind })
