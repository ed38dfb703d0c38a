import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { PHOTO_TYPES } from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentPhoto, presentUploadUrl, presentVideo } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['chats']
const Id = Type.Object({ id: Type.String({ description: 'Chat id' }) })
const MediaParams = Type.Object({ id: Type.String({ description: 'Chat id' }), media_id: Type.String({ description: 'Media id (from `message_received`, H6, H9)' }) })
const UploadQuery = Type.Object({
  content_type: Type.Optional(Type.String({ maxLength: 255, description: 'Bind the upload to this media type (it must then be sent as Content-Type); an image/* for photos, a video/* for videos' })),
}, { additionalProperties: true })
const UploadUrl = Type.Object({
  url: Type.String({ description: 'Presigned PUT URL' }), s3_path: Type.String({ description: 'The value to attach with H6/H9' }), method: Type.Literal('PUT'),
  headers: Type.Record(Type.String(), Type.String(), { description: 'Headers the PUT must carry' }), expires_at: Type.Union([Type.String(), Type.Null()]),
}, { description: 'UploadUrl (§3.16)' })
const Photo = Type.Object({ id: Type.Integer(), photo_type: Type.String(), url: Type.String({ description: 'Signed download URL (valid for the files URL lifetime)' }) })
const Video = Type.Object({ id: Type.Integer(), url: Type.String({ description: 'Signed download URL (valid for the files URL lifetime)' }) })
/** Media a browser may show in place; anything else downloads (as the files surface does). */
const INLINE = /^(image\/(?!svg)|video\/|audio\/)/
const MAX_ITEMS = 20

const chatNum = (raw: string): number => toId(raw) ?? (() => { throw new CcaiError(404, 'Not Found') })()
const object = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const s3Path = (item: unknown): string => {
  if (!object(item) || typeof item.s3_path !== 'string' || item.s3_path.trim() === '') throw paramMissing('s3_path')
  return item.s3_path.trim()
}

/**
 * Chat media (§2.8 H6–H11, §2.16): presigned upload URLs for an end user's photos and videos,
 * attaching what was uploaded, listing them, and the download of any attached media (agents'
 * files above all) by the id the `message_received` webhook carries.
 */
export async function chatMediaRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { chatMedia } = services

  for (const kind of ['photo', 'video'] as const) {
    const plural = `${kind}s`
    app.get(`/chats/:id/${plural}/upload_url`, {
      schema: {
        tags, summary: `A presigned upload URL for a ${kind} of the chat`,
        description: `PUT the bytes to \`url\` with \`headers\` before \`expires_at\`, then attach \`s3_path\` with \`POST /chats/:id/${plural}\`. The URL is bound to this chat: its \`s3_path\` cannot be attached to another. 400 "Chat is already ended" on an ended chat; a dismissed chat must be resumed first.`,
        params: Id, querystring: UploadQuery, response: { 200: UploadUrl, 400: Message, ...COMMON_ERRORS },
      },
    }, async (req) => {
      const num = chatNum(req.params.id)
      const type = req.query.content_type
      return presentUploadUrl(await chatMedia.uploadUrl(tenantOf(req).id, num, kind, typeof type === 'string' && type.trim() !== '' ? type : undefined))
    })

    app.get(`/chats/:id/${plural}`, {
      schema: { tags, summary: `The ${plural} of the chat`, description: 'Oldest first, with signed download URLs.', params: Id, response: { 200: Type.Array(kind === 'photo' ? Photo : Video), 400: Message, ...COMMON_ERRORS } },
    }, async (req) => (await chatMedia.list(tenantOf(req).id, chatNum(req.params.id), kind)).map(kind === 'photo' ? presentPhoto : presentVideo))
  }

  app.post('/chats/:id/photos', {
    schema: {
      tags, summary: 'Attach uploaded photos',
      description: `\`photo\`: \`[{"s3_path": …, "photo_type": "photo"|"screenshot"}]\` (at most ${MAX_ITEMS}), each the \`s3_path\` of a photo upload URL of this chat, uploaded. All or none: 400 "s3_path is not an upload of this chat", "s3_path has not been uploaded", "s3_path is already attached", "s3_path is not an image".`,
      params: Id,
      body: Type.Object({ photo: Type.Optional(Type.Unknown({ description: 'Array of {s3_path, photo_type?} (one object is taken as a list of one)' })) }, { additionalProperties: true }),
      response: { 201: Type.Array(Photo), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const num = chatNum(req.params.id)
    const given = req.body.photo
    const list = Array.isArray(given) ? given : object(given) ? [given] : []
    if (list.length === 0) throw paramMissing('photo')
    if (list.length > MAX_ITEMS) throw new CcaiError(400, `photo has more than ${MAX_ITEMS} items`)
    const items = list.map((item) => {
      const key = s3Path(item)
      const type = (item as Record<string, unknown>).photo_type
      if (type !== undefined && type !== null && !(PHOTO_TYPES as readonly unknown[]).includes(type)) throw new CcaiError(400, 'photo_type is invalid')
      return { key, ...(typeof type === 'string' ? { photoType: type } : {}) }
    })
    const attached = await chatMedia.attach(tenantOf(req).id, num, 'photo', items)
    return reply.code(201).send(attached.map(presentPhoto))
  })

  app.post('/chats/:id/videos', {
    schema: {
      tags, summary: 'Attach an uploaded video',
      description: '`video`: `{"s3_path": …}` of a video upload URL of this chat, uploaded. 400 as for photos ("s3_path is not a video").',
      params: Id,
      body: Type.Object({ video: Type.Optional(Type.Unknown({ description: '{s3_path}' })) }, { additionalProperties: true }),
      response: { 201: Video, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const num = chatNum(req.params.id)
    const given = req.body.video
    if (!object(given)) throw paramMissing('video')
    const [attached] = await chatMedia.attach(tenantOf(req).id, num, 'video', [{ key: s3Path(given) }])
    return reply.code(201).send(presentVideo(attached!))
  })

  app.get('/chats/:id/media/:media_id', {
    schema: {
      tags, summary: 'Download a media file of the chat',
      description: 'The bytes of an attached media (an agent’s attachment, whose id the `message_received` webhook carries, or an end user’s photo or video), with its content type; on a chat in any state.',
      params: MediaParams,
      response: { 200: Type.Unknown({ description: 'The file' }), ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const num = chatNum(req.params.id)
    const mediaNum = toId(req.params.media_id) ?? (() => { throw new CcaiError(404, 'Not Found') })()
    const { media, file } = await chatMedia.content(tenantOf(req).id, num, mediaNum)
    const disposition = INLINE.test(file.contentType) ? 'inline' : 'attachment'
    return reply
      .header('content-type', file.contentType)
      .header('content-length', String(file.size))
      .header('content-disposition', media.fileName ? `${disposition}; filename*=UTF-8''${encodeURIComponent(media.fileName)}` : disposition)
      // Whatever the file is, it runs nothing and loads nothing if a browser renders it anyway.
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .send(file.stream)
  })
}
