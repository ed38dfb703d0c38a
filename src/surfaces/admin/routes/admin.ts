import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { NotFoundError, ValidationError } from '../../../core/errors.ts'
import type { Services } from '../../../services.ts'
import { requireJson, SECURITY } from '../../../http/params.ts'
import { tenantOf } from '../../../http/tenant.ts'
import { presentProvider, presentSettings, presentSuppression } from '../presenters.ts'
import {
  AddSuppressionBody, ChannelParams, Message, PatchSettingsBody, ProviderList, ProviderOne, SetProviderBody, SettingsOne,
  SuppressionList, SuppressionOne, SuppressionParams, SuppressionQuery,
} from '../schemas.ts'

const security = SECURITY.basic
const tags = ['admin']
const errors = { 400: Message, 401: Message }

/** The admin API's routes: providers, suppressions, settings. */
export async function adminRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { providerSettings, suppression, tenants } = services

  app.get('/providers', {
    schema: { tags, summary: 'Every channel’s provider', description: 'The vendor per channel (`sandbox` when nothing is set) with secrets masked, and the vendors this server can use.', security, response: { 200: ProviderList, ...errors } },
  }, async (req) => ({ data: (await providerSettings.list(tenantOf(req))).map(presentProvider), vendors: providerSettings.vendors() }))

  app.get('/providers/:channel', {
    schema: { tags, summary: 'One channel’s provider', params: ChannelParams, security, response: { 200: ProviderOne, ...errors } },
  }, async (req) => ({ data: presentProvider(await providerSettings.get(tenantOf(req), req.params.channel)) }))

  app.put('/providers/:channel', {
    schema: {
      tags, summary: 'Set a channel’s provider',
      description: 'Replaces the vendor and options of the channel. The vendor validates the options; URLs among them must not point at private addresses unless the operator allows it. Stored encrypted (AES-256-GCM); the answer shows secrets masked.',
      params: ChannelParams, body: SetProviderBody, security, response: { 200: ProviderOne, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req) => ({ data: presentProvider(await providerSettings.set(tenantOf(req), req.params.channel, req.body.vendor, req.body.options ?? {})) }))

  app.delete('/providers/:channel', {
    schema: { tags, summary: 'Back to the sandbox', params: ChannelParams, security, response: { 204: Type204(), ...errors } },
  }, async (req, reply) => {
    await providerSettings.unset(tenantOf(req), req.params.channel)
    return reply.code(204).send(null)
  })

  app.get('/suppressions', {
    schema: { tags, summary: 'The suppression list, newest first', querystring: SuppressionQuery, security, response: { 200: SuppressionList, ...errors } },
  }, async (req) => {
    const q = req.query
    return { data: (await suppression.list(tenantOf(req), { scope: q.scope, address: q.address, limit: q.limit })).map(presentSuppression) }
  })

  app.post('/suppressions', {
    schema: {
      tags, summary: 'Suppress an address',
      description: 'Nothing is sent to the address on the scope’s channel (or any channel, for `all`) until the entry is removed. 201 when added, 200 with the existing entry when there already was one.',
      body: AddSuppressionBody, security, response: { 201: SuppressionOne, 200: SuppressionOne, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req, reply) => {
    const b = req.body
    const { entry, created } = await suppression.add(tenantOf(req), { scope: b.scope, address: b.address, reason: b.reason ?? 'manual', source: b.source ?? 'admin-api' })
    return reply.code(created ? 201 : 200).send({ data: presentSuppression(entry) })
  })

  app.delete('/suppressions/:scope/:address', {
    schema: { tags, summary: 'Lift a suppression', params: SuppressionParams, security, response: { 204: Type204(), 404: Message, ...errors } },
  }, async (req, reply) => {
    const removed = await suppression.remove(tenantOf(req), { scope: req.params.scope, address: req.params.address })
    if (!removed) throw new NotFoundError('suppression_not_found', `no ${req.params.scope} suppression for ${req.params.address}`)
    return reply.code(204).send(null)
  })

  app.get('/settings', {
    schema: { tags, summary: 'Messaging settings', security, response: { 200: SettingsOne, ...errors } },
  }, async (req) => presentSettings(tenantOf(req).name, (await tenants.messagingSettings(tenantOf(req).id))!))

  app.patch('/settings', {
    schema: {
      tags, summary: 'Change messaging settings', description: '`sms_help_text`: the answer to HELP/INFO on SMS and WhatsApp; null restores the default. `sms_consent_required`: a promotional SMS needs the number\'s accepted user consent.',
      body: PatchSettingsBody, security, response: { 200: SettingsOne, 415: Message, ...errors },
    },
    preValidation: requireJson,
  }, async (req) => {
    const help = req.body.sms_help_text
    if (help !== undefined && help !== null && typeof help !== 'string') throw new ValidationError('invalid_help_text', 'sms_help_text must be a string or null')
    const consent = req.body.sms_consent_required
    return presentSettings(tenantOf(req).name, await tenants.updateMessagingSettings(tenantOf(req), { smsHelpText: help, ...(consent !== undefined ? { smsConsentRequired: consent } : {}) }))
  })
}

/** An empty 204 answer in the OpenAPI document. */
function Type204() {
  return { type: 'null', description: 'No content' } as const
}
