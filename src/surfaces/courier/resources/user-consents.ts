import { Type } from 'typebox'
import { CONSENT_STATES, MAX_CONSENT_MESSAGE, type UserConsent } from '../../../core/consents/index.ts'
import { defineResource } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Attributes = Type.Object({
  args: Type.Object({}, { additionalProperties: true, description: 'What the consent was created with: {messages: {initial, accept, invalid-response}}' }),
  'created-at': Timestamp,
  'last-modified-at': Timestamp,
  'organization-id': Type.String(),
  state: Type.String({ description: `${CONSENT_STATES.join(', ')}` }),
  'target-id': Type.String({ description: 'The phone (E.164) the conversation runs on' }),
  type: Type.String({ description: 'sms' }),
  'user-id': Type.String(),
})
const Text = Type.String({ minLength: 1, maxLength: MAX_CONSENT_MESSAGE })
const Create = Type.Object({
  args: Type.Object({
    messages: Type.Object({
      accept: Type.String({ ...Text, description: 'Sent when the user answers yes' }),
      initial: Type.String({ ...Text, description: 'The question, sent at once' }),
      'invalid-response': Type.String({ ...Text, description: 'Sent when the answer is neither yes nor no' }),
    }, { additionalProperties: false }),
  }, { additionalProperties: false }),
  'organization-id': Uuid,
  type: Type.Literal('sms'),
  'user-id': Uuid,
})

/** `user-consents` (#115–#117): the SMS opt-in conversation with a user (README "Consent"). */
export function userConsentsResource(services: Services) {
  const consents = services.userConsents
  return defineResource({
    type: 'user-consents',
    path: '/v1/user-consents/',
    tags: ['user-consents'],
    attributes: Attributes,
    present: (c: UserConsent) => ({
      id: c.id,
      attributes: {
        args: c.args, 'created-at': c.createdAt.toISOString(), 'last-modified-at': c.lastModifiedAt.toISOString(), 'organization-id': c.organizationId,
        state: c.state, 'target-id': c.targetId, type: c.type, 'user-id': c.userId,
      },
    }),
    list: {
      summary: 'Returns user consents, oldest first (a user token: its own)',
      filters: { 'organization-id': Uuid, 'user-id': Type.String({ maxLength: 255 }) },
      run: async ({ tenant, req }, q) => consents.list(tenant, {
        organizationId: q.filters['organization-id'] as string | undefined, userId: q.filters['user-id'] as string | undefined, limit: q.limit, offset: q.offset,
      }, viewerOf(req)),
    },
    create: {
      summary: 'Asks a user for SMS consent: the initial message goes to the user\'s phone; the reply moves the state',
      attributes: Create,
      run: async ({ tenant, req }, a) => consents.create(tenant, {
        organizationId: a['organization-id'], userId: a['user-id'], type: a.type, messages: a.args.messages,
      }, viewerOf(req)),
    },
    read: {
      summary: 'Returns one user consent',
      run: async ({ tenant, req }, id) => consents.get(tenant, id, viewerOf(req)),
    },
  })
}
