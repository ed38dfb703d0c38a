import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { MAX_CAMPAIGN_IMPORT_BYTES, readContact } from '../../../core/contact-center/index.ts'
import { ValidationError } from '../../../core/errors.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { boundaryOf, FORM_OVERHEAD, parseUploadForm } from '../../files/form.ts'
import { CcaiError, paramMissing } from '../errors.ts'
import { toId } from '../params.ts'
import { presentCampaignContact, presentCampaignImport } from '../presenters.ts'
import { COMMON_ERRORS, Message } from '../schemas.ts'

const tags = ['campaigns']
const Ts = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
const NullInt = Type.Union([Type.Integer(), Type.Null()])
const NullStr = Type.Union([Type.String(), Type.Null()])
const Contact = Type.Object({
  assigned_call_id: NullInt, assigned_participant_id: NullInt, campaign_id: Type.Integer(), created_at: Ts, id: Type.Integer({ description: 'contact_id of K6/K7' }),
  name: Type.String(), outbound_number: NullStr, priority: NullInt, status: Type.String({ description: 'CampaignContactStatus (§4.3): Upcoming, Do Not Call, …' }),
  unique_id: NullStr, updated_at: Ts, phone_number: Type.String(), phone: Type.String(), email: NullStr, external_unique_id: NullStr,
}, { description: 'Campaign contact (§3.8)' })
const ImportJob = Type.Object({
  id: Type.Integer(), job_id: Type.Integer(), campaign_id: Type.Integer(),
  status: Type.Union([Type.Literal('created'), Type.Literal('in_progress'), Type.Literal('finished'), Type.Literal('failed')]),
  filename: Type.String(), total_rows: Type.Integer(), imported_rows: Type.Integer(), failed_rows: Type.Integer(),
  errors: Type.Array(Type.Object({ row: Type.Integer({ description: '1-based data row (CSV header not counted); 0: the file as a whole' }), message: Type.String() })),
  created_at: Ts, finished_at: Ts,
}, { description: 'Import job (§3.8)' })
const CampaignParams = Type.Object({ campaign_id: Type.String({ description: 'Campaign id' }) })
const JobParams = Type.Object({ campaign_id: Type.String({ description: 'Campaign id' }), job_id: Type.String({ description: 'Import job id' }) })
const Field = Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Null()]))
const ContactBody = Type.Object({
  phone_number: Field, name: Field, email: Field, outbound_number: Field, external_unique_id: Field,
}, { additionalProperties: true })
const ContactIdBody = Type.Object({
  contact_id: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 20 }), Type.Null()])),
  phone_number: Field, name: Field, email: Field, external_unique_id: Field, outbound_number: Field,
}, { additionalProperties: true })

/** The campaign id of the path; an id that cannot be one names no campaign (404). */
function campaignOf(raw: string): number {
  const id = toId(raw)
  if (id === undefined) throw new CcaiError(404, 'Not Found')
  return id
}

/** `contact_id` of a K6/K7 body: missing is Rails' missing parameter, a non-id names no contact. */
function contactIdOf(body: Record<string, unknown>): number {
  const raw = body.contact_id
  if (raw === undefined || raw === null || raw === '') throw paramMissing('contact_id')
  const id = toId(raw)
  if (id === undefined) throw new CcaiError(404, 'Not Found')
  return id
}

/** The `filename` of the form's `file` part, when the client named it. */
function filenameOf(body: Buffer): string {
  const head = body.subarray(0, 8192).toString('latin1')
  return /name="file"\s*;\s*filename="([^"]{1,255})"/i.exec(head)?.[1] ?? 'contacts'
}

/**
 * Campaign contacts (§2.5, K1-K7): add, list, update and remove the contacts of a campaign the
 * setup file declares, and import many from a JSON or CSV file as a job polled through K4/K5.
 * A number on the company DNC list is added with status "Do Not Call"; others start "Upcoming".
 */
export async function campaignRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { campaigns } = services
  // K3's multipart body is read whole (bounded) and parsed by the files surface's form reader.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MAX_CAMPAIGN_IMPORT_BYTES + FORM_OVERHEAD }, (_req, body, done) => done(null, body))
  const base = '/outbound_dialer/campaigns/:campaign_id'

  app.post(`${base}/contacts`, {
    schema: {
      tags, summary: 'Add a contact to a campaign',
      description: '201 with the contact, status "Upcoming" ("Do Not Call" when the number is on the company DNC list). 400 "phone_number is invalid", "phone_number has already been taken" (in this campaign), "<field> is invalid"; 404 for an unknown campaign.',
      params: CampaignParams, body: ContactBody, response: { 201: Contact, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const campaign = campaignOf(req.params.campaign_id)
    const body = req.body as Record<string, unknown>
    if (body.phone_number === undefined || body.phone_number === null || body.phone_number === '') {
      await campaigns.campaign(tenantOf(req).id, campaign)
      throw paramMissing('phone_number')
    }
    const contact = await campaigns.addContact(tenantOf(req).id, campaign, readContact(body))
    return reply.code(201).send(presentCampaignContact(contact))
  })

  app.get(`${base}/contacts`, {
    schema: { tags, summary: 'List the contacts of a campaign', description: 'Every contact, in id order.', params: CampaignParams, response: { 200: Type.Array(Contact), ...COMMON_ERRORS } },
  }, async (req) => (await campaigns.contacts(tenantOf(req).id, campaignOf(req.params.campaign_id))).map(presentCampaignContact))

  app.post(`${base}/contacts/import`, {
    bodyLimit: MAX_CAMPAIGN_IMPORT_BYTES + FORM_OVERHEAD,
    schema: {
      tags, summary: 'Import contacts from a file (async)',
      description: `multipart/form-data with the part \`file\`: a JSON array of {name, phone_number, email?, outbound_number?, external_unique_id?}, or CSV with a header line naming those columns (at most ${MAX_CAMPAIGN_IMPORT_BYTES / 1024 / 1024} MB). 201 with the import job (status "created") and \`Location\` of K4; the job imports the rows in batches, each bad row an entry of \`errors\` ({row, message}) while the others are imported. 400 "param is missing or the value is empty: file".`,
      params: CampaignParams, consumes: ['multipart/form-data'], response: { 201: ImportJob, 400: Message, 413: Message, 415: Message, ...COMMON_ERRORS },
    },
  }, async (req: FastifyRequest<{ Params: { campaign_id: string } }>, reply) => {
    const campaign = campaignOf(req.params.campaign_id)
    const tenantId = tenantOf(req).id
    await campaigns.campaign(tenantId, campaign)
    const body = req.body
    if (!Buffer.isBuffer(body)) throw paramMissing('file')
    let file: Buffer
    try {
      file = parseUploadForm(body, boundaryOf(req.headers['content-type'])).file
    } catch (err) {
      if (err instanceof ValidationError) throw paramMissing('file')
      throw err
    }
    if (file.toString('utf8').trim() === '') throw paramMissing('file')
    const job = await campaigns.startImport(tenantId, campaign, { filename: filenameOf(body), bytes: Buffer.from(file) })
    return reply.code(201).header('location', `/apps/api/v1/outbound_dialer/campaigns/${campaign}/contacts/jobs/${job.num}`).send(presentCampaignImport(job))
  })

  app.get(`${base}/contacts/jobs/:job_id`, {
    schema: { tags, summary: 'An import job', description: 'Progress (`total_rows`, `imported_rows`, `failed_rows`) and per-row `errors` of one import of the campaign.', params: JobParams, response: { 200: ImportJob, ...COMMON_ERRORS } },
  }, async (req) => {
    const job = toId(req.params.job_id)
    if (job === undefined) throw new CcaiError(404, 'Not Found')
    return presentCampaignImport(await campaigns.importJob(tenantOf(req).id, campaignOf(req.params.campaign_id), job))
  })

  app.get(`${base}/contacts/jobs`, {
    schema: { tags, summary: 'List the import jobs of a campaign', description: 'Newest first.', params: CampaignParams, response: { 200: Type.Array(ImportJob), ...COMMON_ERRORS } },
  }, async (req) => (await campaigns.importJobs(tenantOf(req).id, campaignOf(req.params.campaign_id))).map(presentCampaignImport))

  app.patch(`${base}/contact`, {
    schema: {
      tags, summary: 'Update a contact',
      description: 'The contact `contact_id` (in the body) gets the given `name`, `email`, `phone_number`, `external_unique_id`, `outbound_number`. 400 "param is missing or the value is empty: contact_id", "Contact cannot be updated in status {status}" (Dialing, Queued, Connected), "phone_number has already been taken"; 404 for an unknown campaign or contact.',
      params: CampaignParams, body: ContactIdBody, response: { 200: Contact, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const campaign = campaignOf(req.params.campaign_id)
    const body = req.body as Record<string, unknown>
    const contactId = contactIdOf(body)
    // A phone number sent empty is not a change: the contact keeps its number.
    const input = readContact(body)
    return presentCampaignContact(await campaigns.updateContact(tenantOf(req).id, campaign, contactId, input))
  })

  app.delete(`${base}/contact`, {
    schema: {
      tags, summary: 'Remove a contact',
      description: '200 with the removed contact. `phone_number` and `external_unique_id`, when sent, must be the contact’s too (else 404). Refused as K6.',
      params: CampaignParams, body: ContactIdBody, response: { 200: Contact, 400: Message, ...COMMON_ERRORS },
    },
  }, async (req) => {
    const campaign = campaignOf(req.params.campaign_id)
    const body = (req.body ?? {}) as Record<string, unknown>
    const contactId = contactIdOf(body)
    const match = readContact({ phone_number: body.phone_number, external_unique_id: body.external_unique_id })
    return presentCampaignContact(await campaigns.removeContact(tenantOf(req).id, campaign, contactId, match))
  })
}
