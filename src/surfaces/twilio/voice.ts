import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ForbiddenError, ValidationError } from '../../core/errors.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { UUID } from '../../lib/uuid.ts'

/** Twilio's answer to a callback that wants no reply: empty TwiML. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
/** The TwiML for a leg we no longer know (the call ended meanwhile): Twilio hangs it up. */
const HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'

/** A vendor callback as the tenant's voice provider reads it (no framework types). */
export interface VoiceCallbackRequest {
  readonly method: string
  /** The public URL Twilio called, query included: its signature covers it. */
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: unknown
}

/**
 * What the routes need of the tenant's Twilio voice provider: its signature check and its reading
 * of a callback into events (a `CallControlProvider` of `src/providers/voice` is one). Throwing an
 * error with `code: 'invalid_webhook'` means a signed body it cannot read (400).
 */
export interface VoiceCallbackReader<E> {
  verifySignature(req: VoiceCallbackRequest): boolean
  parseCallWebhook(req: VoiceCallbackRequest): E[]
}

/** The seams the voice routes are wired to (core's calls domain at merge). */
export interface TwilioVoiceHooks<E> {
  /** `SWITCHBOARD_PUBLIC_URL`: what Twilio signed is this plus the path and query. */
  readonly publicUrl: string
  /** The tenant named in the path, or undefined. */
  findTenant(id: TenantId): Promise<Tenant | undefined>
  /** The tenant's Twilio voice provider, or undefined when its `voice` is not Twilio. */
  reader(tenant: Tenant): Promise<VoiceCallbackReader<E> | undefined>
  /** Apply the events of a verified callback (the one webhook pipeline of calls). */
  onEvents(tenant: Tenant, events: E[]): Promise<void>
  /**
   * The TwiML for a leg that answered (`answerDocument` of the tenant's provider, from the leg core
   * keeps), or undefined when the leg is unknown or over: the leg is then hung up.
   */
  answer(tenant: Tenant, legId: string, req: VoiceCallbackRequest): Promise<{ readonly contentType: string; readonly body: string } | undefined>
  /**
   * The TwiML after the person keyed a choice (`<Gather>`'s `Digits`) or a recording ended
   * (`<Record>`'s action): core applies the choice; undefined hangs the leg up.
   */
  input?(tenant: Tenant, legId: string, digits: string | undefined, req: VoiceCallbackRequest): Promise<{ readonly contentType: string; readonly body: string } | undefined>
}

type VoiceRequest = FastifyRequest<{ Params: { tenantId: TenantId }; Querystring: { leg?: string } }>

/**
 * Twilio Programmable Voice's two URLs on the Twilio webhook surface (registered inside it, so
 * `/webhooks/twilio` prefixes them and its error shape applies):
 * - `POST /voice/{tenant id}/answer?leg={leg id}`: the leg answered; the answer is its TwiML.
 * - `POST /voice/{tenant id}/status?leg={leg id}`: the leg's status callbacks and the conference's
 *   (or a voicemail's) recording callback; answered 200 with empty TwiML once the events are applied.
 * - `POST /voice/{tenant id}/input?leg={leg id}`: a `<Gather>`'s digits (a deflection choice) or the
 *   end of a `<Record>`; the answer is the TwiML the leg runs next.
 * Both are form posts signed with `X-Twilio-Signature` under the tenant's auth token, checked
 * against the public URL. An unknown tenant, a tenant whose voice is not Twilio and a wrong
 * signature all answer 403 alike; a signed body that cannot be read is 400.
 */
export function registerTwilioVoiceRoutes<E>(app: FastifyInstance, hooks: TwilioVoiceHooks<E>): void {
  /** The tenant, its reader and the request as the provider sees it, once the signature holds. */
  async function verified(req: VoiceRequest): Promise<{ tenant: Tenant; reader: VoiceCallbackReader<E>; raw: VoiceCallbackRequest }> {
    const tenant = UUID.test(req.params.tenantId) ? await hooks.findTenant(req.params.tenantId.toLowerCase() as TenantId) : undefined
    if (!tenant) throw new ForbiddenError('forbidden', 'unknown tenant')
    const reader = await hooks.reader(tenant)
    if (!reader) throw new ForbiddenError('forbidden', 'the tenant has no Twilio voice settings')
    const raw: VoiceCallbackRequest = { method: req.method, url: hooks.publicUrl + req.url, headers: req.headers, body: req.body }
    if (!reader.verifySignature(raw)) throw new ForbiddenError('forbidden', 'bad signature')
    req.log = req.log.child({ tenantId: tenant.id })
    return { tenant, reader, raw }
  }

  /** The leg id of the URL's `?leg=`; a signed URL without one was not made by us. */
  function legOf(req: VoiceRequest): string {
    const leg = req.query.leg
    if (typeof leg !== 'string' || leg === '') throw new ValidationError('invalid_webhook', 'the callback URL has no leg')
    return leg
  }

  app.post('/voice/:tenantId/answer', async (req: VoiceRequest, reply: FastifyReply) => {
    const { tenant, raw } = await verified(req)
    const doc = await hooks.answer(tenant, legOf(req), raw)
    if (!doc) return reply.code(200).type('text/xml; charset=utf-8').send(HANGUP_TWIML)
    return reply.code(200).type(doc.contentType).send(doc.body)
  })

  app.post('/voice/:tenantId/input', async (req: VoiceRequest, reply: FastifyReply) => {
    const { tenant, raw } = await verified(req)
    const body = req.body as Record<string, unknown> | null
    const digits = body && typeof body.Digits === 'string' && /^[0-9*#]{1,20}$/.test(body.Digits) ? body.Digits : undefined
    const doc = await hooks.input?.(tenant, legOf(req), digits, raw)
    if (!doc) return reply.code(200).type('text/xml; charset=utf-8').send(HANGUP_TWIML)
    return reply.code(200).type(doc.contentType).send(doc.body)
  })

  app.post('/voice/:tenantId/status', async (req: VoiceRequest, reply: FastifyReply) => {
    const { tenant, reader, raw } = await verified(req)
    let events: E[]
    try {
      events = reader.parseCallWebhook(raw)
    } catch (err) {
      if ((err as { code?: unknown }).code === 'invalid_webhook') throw new ValidationError('invalid_webhook', (err as Error).message)
      throw err
    }
    await hooks.onEvents(tenant, events)
    return reply.code(200).type('text/xml; charset=utf-8').send(EMPTY_TWIML)
  })
}
