import { Type } from 'typebox'
import { OPERATION_TYPES, type Operation } from '../../../core/messaging/index.ts'
import { defineResource, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import type { Services } from '../../../services.ts'
import { Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const OperationType = Type.Union(OPERATION_TYPES.map((t) => Type.Literal(t)), { description: 'move-group (the only type)' })
const Args = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  maxProperties: 16,
  description: 'move-group: {"from-individual-group-id": uuid, "to-individual-group-id": uuid, "subscribe-leaders": boolean (default true)} — moves every channel (with its messages) of one care team to another',
})
const Attributes = Type.Object({
  args: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Only with include-args=true' })),
  'created-at': Timestamp,
  'created-by': Uuid,
  'last-modified-at': Timestamp,
  logs: Type.Record(Type.String(), Type.Unknown(), { description: '{entries: [{time, level, message}], moved-channels, moved-messages, added-subscriptions}' }),
  'organization-id': Uuid,
  status: Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  type: Type.String(),
})
const Create = Type.Object({ args: Args, 'organization-id': Uuid, type: OperationType })

/** An operation as one request shows it: its args only when asked for (`include-args`). */
interface Shown {
  readonly op: Operation
  readonly withArgs: boolean
}

/** Who acts: the user of a user token, else the organisation. */
const actor = ({ tenant, req }: JsonApiContext): string => {
  const v = viewerOf(req)
  return v.kind === 'user' ? v.userId : tenant.id
}

/** `messaging-operations` (#63–#65): administrative jobs (`move-group`) polled for status and logs. */
export function messagingOperationsResource(services: Services) {
  const operations = services.operations
  return defineResource({
    type: 'messaging-operations',
    path: '/v1/messaging-operations/',
    tags: ['messaging-operations'],
    attributes: Attributes,
    present: ({ op, withArgs }: Shown) => ({
      id: op.id,
      attributes: {
        ...(withArgs ? { args: { ...op.args } } : {}),
        'created-at': op.createdAt.toISOString(), 'created-by': op.createdBy, 'last-modified-at': op.lastModifiedAt.toISOString(),
        logs: { ...op.logs }, 'organization-id': op.organizationId, status: op.status, type: op.type,
      },
    }),
    list: {
      summary: 'Returns an organisation\'s operations, newest first (args only with include-args=true)',
      params: { 'organization-id': { schema: Uuid, required: true } },
      filters: { type: OperationType },
      flags: ['include-args'],
      run: async ({ tenant, req }, q) => {
        const page = await operations.list(tenant, {
          organizationId: q.params['organization-id'] as string, limit: q.limit, offset: q.offset,
          ...(q.filters.type !== undefined ? { type: q.filters.type as string } : {}),
        }, viewerOf(req))
        return { items: page.items.map((op) => ({ op, withArgs: q.flags['include-args'] ?? false })), total: page.total }
      },
    },
    create: {
      summary: 'Starts an operation (run as a job: poll its status and logs)',
      attributes: Create,
      run: async (ctx, a) => ({
        op: await operations.create(ctx.tenant, { organizationId: a['organization-id'], type: a.type, args: a.args }, actor(ctx), viewerOf(ctx.req)),
        withArgs: true,
      }),
    },
    read: {
      summary: 'Returns an operation: its status and logs (args only with include-args=true)',
      flags: ['include-args'],
      run: async ({ tenant, req }, id, q) => ({ op: await operations.get(tenant, id, viewerOf(req)), withArgs: q.flags['include-args'] ?? false }),
    },
  })
}
