import type { FastifyRequest } from 'fastify'
import { BodyError } from './body-parsers.ts'

/** Parameters of a request that takes them from the query string and the body alike. */
export type Params = Record<string, unknown>

/** Query string and body merged; the body wins where both name a field. */
export function mergedParams<P extends Params = Params>(req: FastifyRequest): P {
  const body = req.body !== null && typeof req.body === 'object' ? (req.body as Params) : {}
  return { ...(req.query as Params), ...body } as P
}

/** A flag parameter: `true`, `1`, `yes`, `on` (any case, surrounding blanks ignored) or a JSON true. */
export function flag(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  return typeof value === 'string' && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase())
}

/** A route schema without its body: the GET twin of a GET-or-POST endpoint. */
export function withoutBody<T extends { body?: unknown }>(schema: T): Omit<T, 'body'> {
  const { body: _body, ...rest } = schema
  return rest
}

/** OpenAPI security requirements, by the scheme names declared in app.ts. */
export const SECURITY = {
  /** Basic `client:token`, or the legacy `client`/`auth` parameters (the Cass surface). */
  cass: [{ basic: [] }, { clientParams: [] }] as Array<Record<string, string[]>>,
  /** Basic `client:token` only (admin, sandbox). */
  basic: [{ basic: [] }] as Array<Record<string, string[]>>,
  /** The messaging API key: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
  apiKey: [{ apiKeyBearer: [] }, { apiKeyHeader: [] }] as Array<Record<string, string[]>>,
}

/**
 * A preValidation hook for writes that must be `application/json`: a browser holding cached Basic
 * credentials could otherwise be made to post a form (or JSON as `text/plain`) from another site.
 */
export async function requireJson(req: FastifyRequest): Promise<void> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new BodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Content-Type must be application/json', 415)
}

type JsonSchema = { type?: string | string[]; anyOf?: JsonSchema[]; properties?: Record<string, JsonSchema> }

/** The JSON types a schema accepts (through `type` and `anyOf`). */
function typesOf(schema: JsonSchema | undefined, out = new Set<string>()): Set<string> {
  if (!schema) return out
  if (typeof schema.type === 'string') out.add(schema.type)
  else if (Array.isArray(schema.type)) for (const t of schema.type) out.add(t)
  for (const branch of schema.anyOf ?? []) typesOf(branch, out)
  return out
}

/** The properties of an object schema, or of the object branch of `anyOf` (an optional body). */
function propertiesOf(schema: JsonSchema | undefined): Record<string, JsonSchema> | undefined {
  if (!schema) return undefined
  if (schema.properties) return schema.properties
  for (const branch of schema.anyOf ?? []) {
    const found = propertiesOf(branch)
    if (found) return found
  }
  return undefined
}

/**
 * The Cass surface's documented leniency for JSON: a number where the schema takes only text is
 * read as its text (`"new_id": 1`, a phone as a number), as its vendor's server did. Nothing else
 * is converted — a list, an object, a boolean or null where text is expected stays as it is and
 * the schema refuses it. Changes `values` in place; call it before validation.
 */
export function jsonNumbersAsText(values: unknown, schema: unknown): void {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return
  const properties = propertiesOf(schema as JsonSchema | undefined)
  if (!properties) return
  const record = values as Record<string, unknown>
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || !Object.hasOwn(properties, key)) continue
    const types = typesOf(properties[key])
    if (types.has('string') && !types.has('number') && !types.has('integer')) record[key] = String(value)
  }
}
