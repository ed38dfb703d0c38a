import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { NotFoundError } from '../../core/errors.ts'
import { tenantOf } from '../tenant.ts'
import type { Tenant } from '../../core/tenants/index.ts'
import { JsonApiError } from './errors.ts'
import { itemQuerySchema, listQuerySchema, parseItemQuery, parseListQuery, type ItemQuery, type ItemQuerySpec, type ListQuery, type ListSpec } from './query.ts'
import { UUID } from '../../lib/uuid.ts'

/**
 * The generic JSON:API layer (`spec/courier.md` §1; no messaging knowledge here). A resource type is
 * a declaration — its `type`, path, wire attributes (TypeBox, kebab-case: the validator, the type
 * and the OpenAPI description at once), a presenter, and which of list / create / read / update /
 * actions it has, each over a core service call. `registerResource` does the rest once: documents
 * `{data, meta}` (§1.3), 200/201 (§1.4), paths with or without the trailing slash (§1.1), offset
 * pagination with per-resource bounds and `meta` `page[…]` on every list (§1.5), `filter[x]`,
 * `filter[cmp-x]` windows, `sort` with `-`, both include-flag spellings (§1.6), `type`/`id`
 * checks of bodies, 404 for unknown ids, and errors as §1.7 error objects (errors.ts).
 */

/** What a resource's service calls get: the tenant and the request (for the principal). */
export interface JsonApiContext {
  readonly tenant: Tenant
  readonly req: FastifyRequest
}

/** A page of a list and how many there are in all (`page[total]`). */
export interface Listed<T> {
  readonly items: readonly T[]
  readonly total: number
}

/** A resource object on the wire: `id` and the attributes (the layer adds `type`). */
export interface Presented<A> {
  readonly id: string
  readonly attributes: A
}

/** An action sub-path of an item, `/{collection}/{id}/{name}/` (§1.1). */
export interface ActionSpec extends ItemQuerySpec {
  readonly name: string
  readonly method: 'GET' | 'POST'
  readonly summary?: string
  /** A plain JSON body (§1.10); `{}` when left out. */
  readonly body?: TSchema
  /** The answer: the resource (rendered as a document) or a plain JSON payload (§1.10). */
  readonly run: (ctx: JsonApiContext, id: string, body: unknown, q: ItemQuery) => Promise<{ resource: unknown } | { payload: unknown }>
}

export interface JsonApiResource<T, A extends TObject, C extends TObject = TObject, U extends TSchema = TObject> {
  /** The `type` member and the collection name, e.g. `org-preferences`. */
  readonly type: string
  /** The collection path with its version and trailing slash, e.g. `/v1/org-preferences/`. */
  readonly path: string
  readonly tags: readonly string[]
  /** The attributes as the presenter renders them. */
  readonly attributes: A
  readonly present: (item: T) => Presented<Static<A>>
  /** Ids of this type look like this; anything else is 404 without a lookup. Default: a UUID. */
  readonly idPattern?: RegExp
  /** Checked before every operation of the resource runs (it throws to refuse): who may use it at all, e.g. the organisation API key only. */
  readonly guard?: (ctx: JsonApiContext) => void
  readonly list?: ListSpec<T> & { readonly summary?: string }
  readonly read?: ItemQuerySpec & { readonly summary?: string; readonly run: (ctx: JsonApiContext, id: string, q: ItemQuery) => Promise<T> }
  readonly create?: {
    readonly summary?: string; readonly attributes: C; readonly run: (ctx: JsonApiContext, attributes: Static<C>) => Promise<T>
    /** A create that answers a plain JSON payload instead of the resource (§1.10: upload tickets). */
    readonly payload?: { readonly schema: TSchema; readonly render: (item: T) => unknown }
    /** The request body is plain JSON (§1.10: #130), `attributes` at the top level, not a JSON:API document. */
    readonly plain?: boolean
  }
  /**
   * PATCH of an item. `attributes` is an object schema whose members all become optional, or — with
   * `partial: false` — any schema taken as it is (the JSON-Patch operation array of #47).
   */
  readonly update?: { readonly summary?: string; readonly attributes: U; readonly partial?: boolean; readonly run: (ctx: JsonApiContext, id: string, attributes: Static<U>) => Promise<T> }
  readonly actions?: readonly ActionSpec[]
}

/** Declare a resource (an identity function that infers the attribute types). */
export function defineResource<T, A extends TObject, C extends TObject = TObject, U extends TSchema = TObject>(r: JsonApiResource<T, A, C, U>): JsonApiResource<T, A, C, U> {
  return r
}


/** The §1.7 error document, for the OpenAPI description of every 4XX. */
export const ErrorDocument = Type.Object({
  errors: Type.Array(Type.Object({
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
    source: Type.Optional(Type.Object({ pointer: Type.Optional(Type.String()), parameter: Type.Optional(Type.String()) })),
    meta: Type.Object({}, { additionalProperties: true }),
  })),
}, { $id: 'JsonApiErrors' })

/** `{data: {type, id, attributes}, meta}` of `type` with `attributes`. */
function resourceObject(type: string, attributes: TObject) {
  return Type.Object({ attributes, id: Type.String(), type: Type.Literal(type) })
}

/** A request document: `data` with `type` (and `id` for updates) and the attributes; optional `meta`. */
function requestDocument(attributes: TSchema, withId: boolean) {
  return Type.Object({
    data: Type.Object({
      type: Type.String({ description: 'The resource type; must be the collection\'s' }),
      ...(withId ? { id: Type.String() } : { id: Type.Optional(Type.String()) }),
      attributes: (attributes as { type?: string }).type === 'object' ? { ...attributes, additionalProperties: false } : attributes,
    }, { additionalProperties: false }),
    meta: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }, { additionalProperties: false })
}

type Doc = { data: unknown; meta: Record<string, unknown> }

/** Register every operation `r` declares on `app` (the surface's plugin context). */
export function registerResource<T, A extends TObject, C extends TObject, U extends TSchema>(app: FastifyInstance, r: JsonApiResource<T, A, C, U>): void {
  const itemPath = `${r.path}:id/`
  const idPattern = r.idPattern ?? UUID
  const ctxOf = (req: FastifyRequest): JsonApiContext => {
    const ctx = { tenant: tenantOf(req), req }
    r.guard?.(ctx)
    return ctx
  }
  const render = (item: T) => {
    const p = r.present(item)
    return { attributes: p.attributes, id: p.id, type: r.type }
  }
  const single = (item: T): Doc => ({ data: render(item), meta: {} })
  const one = resourceObject(r.type, r.attributes)
  const SingleDoc = Type.Object({ data: one, meta: Type.Object({}, { additionalProperties: true }) })
  const tags = [...r.tags]
  /** The id of the URL, or 404 when it cannot be one of this type's. */
  const idOf = (req: FastifyRequest): string => {
    const id = (req.params as { id: string }).id
    if (!idPattern.test(id)) throw new NotFoundError('resource_not_found', `No ${r.type} with id ${id}`, { type: r.type, id })
    return id
  }
  /** A body's `type` must be the collection's (409, JSON:API §"Creating Resources"). */
  const checkType = (body: { data: { type: string } }) => {
    if (body.data.type !== r.type) throw new JsonApiError(409, 'type_mismatch', `data.type must be "${r.type}"`, { pointer: '/data/type' })
  }

  if (r.list) {
    const list = r.list
    app.get(r.path, {
      schema: { tags, summary: list.summary ?? `List ${r.type}`, querystring: listQuerySchema(list), response: { 200: Type.Object({ data: Type.Array(one), meta: Type.Object({}, { additionalProperties: true }) }), '4XX': ErrorDocument } },
    }, async (req) => {
      const q: ListQuery = parseListQuery(list, req.query as Record<string, unknown>)
      const page = await list.run(ctxOf(req), q)
      return { data: page.items.map(render), meta: { 'page[limit]': q.limit, 'page[offset]': q.offset, 'page[total]': page.total } }
    })
  }
  if (r.create) {
    const create = r.create
    app.post(r.path, {
      schema: {
        tags, summary: create.summary ?? `Create ${r.type}`, body: create.plain ? { ...create.attributes, additionalProperties: false } : requestDocument(create.attributes, false),
        response: { 201: create.payload?.schema ?? SingleDoc, '4XX': ErrorDocument },
      },
    }, async (req, reply) => {
      if (create.plain) {
        const item = await create.run(ctxOf(req), req.body as Static<C>)
        return reply.code(201).send(create.payload ? create.payload.render(item) : single(item))
      }
      const body = req.body as { data: { type: string; id?: string; attributes: Static<C> } }
      checkType(body)
      if (body.data.id !== undefined) throw new JsonApiError(403, 'client_id_unsupported', 'Client-generated ids are not supported', { pointer: '/data/id' })
      const item = await create.run(ctxOf(req), body.data.attributes)
      return reply.code(201).send(create.payload ? create.payload.render(item) : single(item))
    })
  }
  if (r.read) {
    const read = r.read
    app.get(itemPath, {
      schema: { tags, summary: read.summary ?? `Read one of ${r.type}`, params: Type.Object({ id: Type.String({ description: 'Resource identifier' }) }), querystring: itemQuerySchema(read), response: { 200: SingleDoc, '4XX': ErrorDocument } },
    }, async (req) => single(await read.run(ctxOf(req), idOf(req), parseItemQuery(read, req.query as Record<string, unknown>))))
  }
  if (r.update) {
    const update = r.update
    const partial = update.partial === false ? update.attributes : Type.Partial(update.attributes as unknown as TObject) as unknown as TObject
    app.patch(itemPath, {
      schema: { tags, summary: update.summary ?? `Update one of ${r.type}`, params: Type.Object({ id: Type.String({ description: 'Resource identifier' }) }), body: requestDocument(partial, true), response: { 200: SingleDoc, '4XX': ErrorDocument } },
    }, async (req) => {
      const id = idOf(req)
      const body = req.body as { data: { type: string; id: string; attributes: Static<U> } }
      checkType(body)
      if (body.data.id !== id) throw new JsonApiError(409, 'id_mismatch', 'data.id must be the id in the URL', { pointer: '/data/id' })
      return single(await update.run(ctxOf(req), id, body.data.attributes))
    })
  }
  for (const action of r.actions ?? []) {
    const route = {
      schema: {
        tags, summary: action.summary ?? `${action.name} one of ${r.type}`, params: Type.Object({ id: Type.String({ description: 'Resource identifier' }) }), querystring: itemQuerySchema(action),
        ...(action.method === 'POST' ? { body: action.body ?? Type.Object({}, { additionalProperties: false }) } : {}),
        response: { '4XX': ErrorDocument },
      },
    }
    const handler = async (req: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const out = await action.run(ctxOf(req), idOf(req), req.body ?? {}, parseItemQuery(action, req.query as Record<string, unknown>))
      const body = 'resource' in out ? single(out.resource as T) : out.payload
      return reply.code(action.method === 'POST' ? 201 : 200).send(body)
    }
    if (action.method === 'POST') app.post(`${itemPath}${action.name}/`, route, handler)
    else app.get(`${itemPath}${action.name}/`, route, handler)
  }
}
