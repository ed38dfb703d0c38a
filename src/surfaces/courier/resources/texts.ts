import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AuthError, ForbiddenError, NotFoundError } from '../../../core/errors.ts'
import {
  MAX_CALLBACK_JSON, MAX_EXPECTED_RESPONSE, MAX_EXPECTED_RESPONSES, MAX_TEXT,
  type Text, type TextAccount, type TextAccountNumber, type TextNumberInfo, type TextNumberLog, type TextReceiveLog, type TextUserNumberMap,
} from '../../../core/texts/index.ts'
import { registerErrorHandling } from '../../../http/errors.ts'
import { JSONAPI_ERROR_SHAPE } from '../../../http/jsonapi/errors.ts'
import { defineResource, ErrorDocument, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import { declareSurface } from '../../../http/openapi.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'
import { UUID } from '../../../lib/uuid.ts'

const E164 = Type.String({ pattern: '^\\+[1-9]\\d{1,14}$', maxLength: 16, description: 'phonenumberE164' })
const E164_US = Type.String({ pattern: '^\\+1[2-9]\\d{2}[2-9]\\d{6}$', maxLength: 12, description: 'phonenumberE164_us: a US number, +1 and ten digits' })
const Events = Type.Record(Type.String(), Type.Unknown(), {
  description: '{"unknown-number": {}} turns the unknown-number event on ({} turns it off); {"unknown-number": {"url": "https://…"}} also posts it there as a signed webhook',
})

/** Texts and numbers take the organisation key only (a user token: 403). */
function orgOnly({ req }: JsonApiContext): void {
  if (viewerOf(req).kind === 'user') throw new ForbiddenError('organization_key_required', 'texts and numbers are managed with the organisation API key, not a user token')
}

const NumberAttributes = Type.Object({
  'account-id': Uuid,
  alert: Type.Boolean(),
  'capability-mms': Type.Boolean(),
  'capability-sms': Type.Boolean(),
  'capability-voice': Type.Boolean(),
  'created-at': Timestamp,
  events: Type.Record(Type.String(), Type.Object({}, { additionalProperties: true })),
  'forward-to': Type.String(),
  lata: Type.String(),
  latitude: Type.String(),
  logging: Type.Boolean(),
  longitude: Type.String(),
  notes: Type.String(),
  'phone-number': Type.String(),
  'postal-code': Type.String(),
  'rate-center': Type.String(),
  region: Type.String(),
  'twilio-id': Type.String({ description: 'The vendor\'s id of the number: Twilio\'s PN… sid (the sandbox\'s SP…)' }),
})

/** A number as the wire shows it (also the answer of #101, which is another type's action). */
export function presentTextAccountNumber(n: TextAccountNumber) {
  return {
    id: n.id,
    attributes: {
      'account-id': n.accountId, alert: n.alert, 'capability-mms': n.capabilityMms, 'capability-sms': n.capabilitySms, 'capability-voice': n.capabilityVoice,
      'created-at': n.createdAt.toISOString(), events: { ...n.events }, 'forward-to': n.forwardTo, lata: n.lata, latitude: n.latitude, logging: n.logging,
      longitude: n.longitude, notes: n.notes, 'phone-number': n.phoneNumber, 'postal-code': n.postalCode, 'rate-center': n.rateCenter, region: n.region,
      'twilio-id': n.providerNumberId,
    },
  }
}

/** `text-account-numbers` (#92–#96): numbers of an account, provisioned by area code. */
export function textAccountNumbersResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-account-numbers',
    path: '/v1/text-account-numbers/',
    tags: ['text-account-numbers'],
    attributes: NumberAttributes,
    present: presentTextAccountNumber,
    list: {
      summary: 'The tenant\'s numbers (of one account; with one phone number), oldest first',
      params: { 'account-id': { schema: Uuid }, 'phone-number': { schema: E164 } },
      filters: { 'phone-number': E164 },
      run: async (ctx, q) => {
        const phone = (q.filters['phone-number'] ?? q.params['phone-number']) as string | undefined
        return texts.listNumbers(ctx.tenant, { limit: q.limit, offset: q.offset, accountId: q.params['account-id'] as string | undefined, phoneNumber: phone })
      },
    },
    create: {
      summary: 'Provisions a number for the account in area-code: the vendor\'s first free number there, bought into the account',
      attributes: Type.Object({
        'account-id': Uuid,
        alert: Type.Optional(Type.Boolean({ default: false })),
        'area-code': Type.String({ minLength: 3, maxLength: 3, description: 'A US area code' }),
        'forward-to': Type.Optional(Type.String({ maxLength: 32, description: 'E.164; inbound texts to the number are forwarded there by SMS' })),
        logging: Type.Optional(Type.Boolean({ default: false })),
        notes: Type.Optional(Type.String({ maxLength: 255 })),
      }),
      run: async (ctx, a) => {
        return texts.createNumber(ctx.tenant, { accountId: a['account-id'], areaCode: a['area-code'], alert: a.alert, forwardTo: a['forward-to'], logging: a.logging, notes: a.notes })
      },
    },
    read: {
      summary: 'Returns a number',
      run: async (ctx, id) => {
        return texts.getNumber(ctx.tenant, id)
      },
    },
    update: {
      summary: 'Modifies a number: alert, events, forward-to, logging, notes',
      attributes: Type.Object({
        alert: Type.Boolean(), events: Events, 'forward-to': Type.String({ maxLength: 32 }), logging: Type.Boolean(), notes: Type.String({ maxLength: 255 }),
      }),
      run: async (ctx, id, a) => {
        return texts.updateNumber(ctx.tenant, id, { alert: a.alert, events: a.events, forwardTo: a['forward-to'], logging: a.logging, notes: a.notes })
      },
    },
    actions: [{
      name: 'reset-logs', method: 'POST', summary: 'Empties the number\'s log (text-number-logs)',
      run: async (ctx, id) => {
        return { resource: await texts.resetLogs(ctx.tenant, id) }
      },
    }],
  })
}

/** `text-accounts` (#97–#101): an organisation's SMS account on the tenant's SMS vendor. */
export function textAccountsResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-accounts',
    path: '/v1/text-accounts/',
    tags: ['text-accounts'],
    attributes: Type.Object({
      'allow-custom-number': Type.Boolean(),
      'created-at': Timestamp,
      'organization-id': Uuid,
      'phone-number': Type.String({ description: 'The account\'s own number (its first number, or the custom one); "" when none' }),
      'twilio-id': Type.String({ description: 'The vendor\'s account id: the Twilio sub-account\'s AC… sid (the sandbox\'s SB…)' }),
    }),
    present: (a: TextAccount) => ({
      id: a.id,
      attributes: { 'allow-custom-number': a.allowCustomNumber, 'created-at': a.createdAt.toISOString(), 'organization-id': a.organizationId, 'phone-number': a.phoneNumber, 'twilio-id': a.providerAccountId },
    }),
    list: {
      summary: 'The tenant\'s text accounts (of one organisation), oldest first',
      params: { 'organization-id': { schema: Uuid } },
      run: async (ctx, q) => {
        return texts.listAccounts(ctx.tenant, { limit: q.limit, offset: q.offset, organizationId: q.params['organization-id'] as string | undefined })
      },
    },
    create: {
      summary: 'Creates the organisation\'s account on the tenant\'s SMS vendor (Twilio: a sub-account)',
      attributes: Type.Object({ 'allow-custom-number': Type.Optional(Type.Boolean({ default: false })), 'organization-id': Uuid }),
      run: async (ctx, a) => {
        return texts.createAccount(ctx.tenant, { organizationId: a['organization-id'], allowCustomNumber: a['allow-custom-number'] })
      },
    },
    read: {
      summary: 'Returns a text account',
      run: async (ctx, id) => {
        return texts.getAccount(ctx.tenant, id)
      },
    },
    update: {
      summary: 'Modifies a text account: allow-custom-number, and phone-number (only while custom numbers are allowed; "" clears it)',
      attributes: Type.Object({ 'allow-custom-number': Type.Boolean(), 'phone-number': Type.String({ maxLength: 32 }) }),
      run: async (ctx, id, a) => {
        return texts.updateAccount(ctx.tenant, id, { allowCustomNumber: a['allow-custom-number'], phoneNumber: a['phone-number'] })
      },
    },
    actions: [{
      name: 'claim-number', method: 'POST',
      summary: 'Makes the account\'s phone-number one of its numbers (the vendor must hold it in the account); answers the text-account-numbers resource',
      body: Type.Object({ notes: Type.String({ maxLength: 255 }) }, { additionalProperties: false }),
      run: async (ctx, id, body) => {
        const n = await texts.claimNumber(ctx.tenant, id, (body as { notes: string }).notes)
        return { payload: { data: { ...presentTextAccountNumber(n), type: 'text-account-numbers' }, meta: {} } }
      },
    }],
  })
}

/** `text-number-info` (#102–#104): carrier lookups of US numbers, cached. */
export function textNumberInfoResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-number-info',
    path: '/v1/text-number-info/',
    tags: ['text-number-info'],
    attributes: Type.Object({
      'carrier-name': Type.String(), 'created-at': Timestamp, error: Type.String(), 'last-modified-at': Timestamp, 'mobile-country-code': Type.String(),
      'mobile-network-code': Type.String(), number: Type.String(),
      status: Type.String({ description: 'resolved, or failed (error says why); pending before a first answer' }),
      type: Type.String({ description: 'The line type: mobile, landline, fixedVoip, nonFixedVoip, tollFree…; "" when unknown' }),
    }),
    present: (i: TextNumberInfo) => ({
      id: i.id,
      attributes: {
        'carrier-name': i.carrierName, 'created-at': i.createdAt.toISOString(), error: i.error, 'last-modified-at': i.lastModifiedAt.toISOString(),
        'mobile-country-code': i.mobileCountryCode, 'mobile-network-code': i.mobileNetworkCode, number: i.number, status: i.status, type: i.type,
      },
    }),
    list: {
      summary: 'The lookup of a US number (none until one was made)',
      params: { number: { schema: E164_US, required: true } },
      run: async (ctx, q) => {
        return texts.listNumberInfo(ctx.tenant, { limit: q.limit, offset: q.offset, number: q.params.number as string })
      },
    },
    create: {
      summary: 'Looks a US number\'s carrier up through the tenant\'s SMS vendor, answered from the cache unless reresolve',
      attributes: Type.Object({ number: Type.String({ maxLength: 16 }), reresolve: Type.Optional(Type.Boolean({ default: false })) }),
      run: async (ctx, a) => {
        return texts.lookupNumber(ctx.tenant, { number: a.number, reresolve: a.reresolve })
      },
    },
    read: {
      summary: 'Returns a lookup',
      run: async (ctx, id) => {
        return texts.getNumberInfo(ctx.tenant, id)
      },
    },
  })
}

/** `text-number-logs` (#105): what a number sent and received while logging. */
export function textNumberLogsResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-number-logs',
    path: '/v1/text-number-logs/',
    tags: ['text-number-logs'],
    attributes: Type.Object({ 'created-at': Timestamp, log: Type.String() }),
    present: (l: TextNumberLog) => ({ id: l.id, attributes: { 'created-at': l.createdAt.toISOString(), log: l.log } }),
    list: {
      summary: 'The number\'s log, oldest first (reset-logs empties it)',
      params: { 'number-id': { schema: Uuid, required: true } },
      run: async (ctx, q) => {
        return texts.listLogs(ctx.tenant, { limit: q.limit, offset: q.offset, numberId: q.params['number-id'] as string })
      },
    },
  })
}

/** `text-receive-logs` (#106): inbound texts to the tenant's numbers, by the provider's message id. */
export function textReceiveLogsResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-receive-logs',
    path: '/v1/text-receive-logs/',
    tags: ['text-receive-logs'],
    idPattern: /^[A-Za-z0-9_-]{1,64}$/,
    attributes: Type.Object({ 'created-at': Timestamp, message: Type.String(), sender: Type.String(), sid: Type.String(), to: Type.String() }),
    present: (r: TextReceiveLog) => ({ id: r.id, attributes: { 'created-at': r.createdAt.toISOString(), message: r.message, sender: r.sender, sid: r.sid, to: r.to } }),
    read: {
      summary: 'Returns an inbound text by the provider\'s message id',
      run: async (ctx, id) => {
        return texts.getReceiveLog(ctx.tenant, id)
      },
    },
  })
}

/** `text-user-number-maps` (#107–#109): users pinned to numbers. */
export function textUserNumberMapsResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'text-user-number-maps',
    path: '/v1/text-user-number-maps/',
    tags: ['text-user-number-maps'],
    attributes: Type.Object({ 'created-at': Timestamp, 'number-id': Type.String(), 'organization-id': Uuid, 'user-id': Type.String() }),
    present: (m: TextUserNumberMap) => ({
      id: m.id, attributes: { 'created-at': m.createdAt.toISOString(), 'number-id': m.numberId, 'organization-id': m.organizationId, 'user-id': m.userId },
    }),
    list: {
      summary: 'Users pinned to numbers, oldest first',
      filters: { 'number-id': Uuid, 'organization-id': Uuid, 'user-id': Uuid },
      run: async (ctx, q) => {
        return texts.listUserNumberMaps(ctx.tenant, {
          limit: q.limit, offset: q.offset, numberId: q.filters['number-id'] as string | undefined,
          organizationId: q.filters['organization-id'] as string | undefined, userId: q.filters['user-id'] as string | undefined,
        })
      },
    },
    create: {
      summary: 'Pins a user to a number: texts to the user\'s phone go from it (one number per user and organisation)',
      attributes: Type.Object({ 'number-id': Uuid, 'organization-id': Uuid, 'user-id': Uuid }),
      run: async (ctx, a) => {
        return texts.createUserNumberMap(ctx.tenant, { numberId: a['number-id'], organizationId: a['organization-id'], userId: a['user-id'] })
      },
    },
    read: {
      summary: 'Returns a pin',
      run: async (ctx, id) => {
        return texts.getUserNumberMap(ctx.tenant, id)
      },
    },
  })
}

/** `texts` (#110–#112): texts sent through a number by delivery. #113 is `registerTextCallback`. */
export function textsResource(services: Services) {
  const texts = services.texts
  return defineResource({
    guard: orgOnly,
    type: 'texts',
    path: '/v1/texts/',
    tags: ['texts'],
    attributes: Type.Object({
      'callback-status-url': Type.String(), 'callback-url': Type.String(), 'created-at': Timestamp, 'created-by': Uuid, error: Type.String(), from: Type.String(),
      'last-modified-at': Timestamp, message: Type.String(),
      status: Type.String({ description: 'accepted (queued), sent, delivered, undelivered or failed (a suppressed target too: error "suppressed (<reason>)")' }),
      target: Type.String(), 'twilio-sid': Type.String({ description: 'The vendor\'s message id once it took the text ("" before)' }),
    }),
    present: (x: Text) => ({
      id: x.id,
      attributes: {
        'callback-status-url': x.callbackStatusUrl, 'callback-url': x.callbackUrl, 'created-at': x.createdAt.toISOString(), 'created-by': x.createdBy, error: x.error,
        from: x.from, 'last-modified-at': x.lastModifiedAt.toISOString(), message: x.message, status: x.status, target: x.target, 'twilio-sid': x.twilioSid,
      },
    }),
    list: {
      summary: 'The account\'s texts (from one number; to one target), oldest first',
      params: { 'account-id': { schema: Uuid, required: true } },
      filters: { 'number-id': Uuid, target: E164 },
      run: async (ctx, q) => {
        return texts.listTexts(ctx.tenant, {
          limit: q.limit, offset: q.offset, accountId: q.params['account-id'] as string, numberId: q.filters['number-id'] as string | undefined, target: q.filters.target as string | undefined,
        })
      },
    },
    create: {
      summary: 'Sends a text through a number of the account (delivery: suppression list, retries); status and replies are posted to the callback URLs',
      attributes: Type.Object({
        'account-id': Uuid,
        'callback-json': Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: `Echoed in every callback (at most ${MAX_CALLBACK_JSON} bytes of JSON)` })),
        'callback-one-off': Type.Optional(Type.Boolean({ default: false, description: 'Post only the first reply to callback-url' })),
        'callback-status-url': Type.Optional(Type.String({ maxLength: 2048 })),
        'callback-url': Type.Optional(Type.String({ maxLength: 2048 })),
        'expected-responses': Type.Optional(Type.Array(Type.String({ maxLength: MAX_EXPECTED_RESPONSE }), { maxItems: MAX_EXPECTED_RESPONSES })),
        message: Type.String({ maxLength: MAX_TEXT }),
        'number-id': Type.Optional(Uuid),
        'organization-id': Type.Optional(Uuid),
        target: Type.String({ maxLength: 32 }),
      }),
      run: async (ctx, a) => {
        return texts.createText(ctx.tenant, {
          accountId: a['account-id'], numberId: a['number-id'], organizationId: a['organization-id'], target: a.target, message: a.message,
          callbackStatusUrl: a['callback-status-url'], callbackUrl: a['callback-url'], callbackJson: a['callback-json'], callbackOneOff: a['callback-one-off'],
          expectedResponses: a['expected-responses'],
        }, ctx.tenant.id)
      },
    },
    read: {
      summary: 'Returns a text with its status',
      run: async (ctx, id) => {
        return texts.getText(ctx.tenant, id)
      },
    },
  })
}


/**
 * #113 `POST /v1/texts/{id}/callback/`: the vendor's callbacks about a text (Twilio's status
 * callback, or an inbound reply), authenticated by the vendor's signature (`X-Twilio-Signature`
 * under the tenant's auth token, over SWITCHBOARD_PUBLIC_URL + the path) instead of the API key,
 * and applied by the one webhook pipeline. 204 when taken; 404 `resource_not_found` alike for an
 * unknown text, a tenant whose SMS vendor takes no webhooks (the sandbox) and a wrong signature.
 */
export async function registerTextCallback(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    declareSurface(scope, 'courier')
    registerErrorHandling(scope, JSONAPI_ERROR_SHAPE)
    const handler = async (req: FastifyRequest<{ Params: { id: string } }>, reply: import('fastify').FastifyReply) => {
      const id = req.params.id
      // An unknown text, a tenant whose vendor takes no webhooks and a wrong signature answer alike,
      // so the endpoint tells nobody which text ids exist.
      const refused = () => new NotFoundError('resource_not_found', `No texts with id ${id}`, { type: 'texts', id })
      const owner = UUID.test(id) ? await services.texts.tenantOfText(id) : undefined
      const tenant = owner ? await services.tenants.findById(owner) : undefined
      if (!tenant) throw refused()
      try {
        await services.webhooks.handle(tenant, { channels: ['sms'] }, { method: req.method, url: services.config.publicUrl + req.url, headers: req.headers, body: req.body })
      } catch (err) {
        if (err instanceof AuthError || err instanceof NotFoundError) {
          req.log.warn({ reason: err.code, tenantId: tenant.id }, 'text callback refused')
          throw refused()
        }
        throw err
      }
      return reply.code(204).send()
    }
    const route = {
      schema: {
        tags: ['texts'], summary: 'The vendor\'s callbacks about a text (status, replies), signed by the vendor; no API key',
        params: Type.Object({ id: Type.String({ description: 'Resource identifier' }) }),
        body: Type.Record(Type.String(), Type.Unknown()), security: [],
        response: { '4XX': ErrorDocument },
      },
    }
    scope.post('/v1/texts/:id/callback/', route, handler)
  })
}
