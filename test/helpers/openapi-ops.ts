import type { FastifyInstance } from 'fastify'

/** One operation of a published OpenAPI document, as the fuzz tests drive it. */
export interface Op {
  method: string
  /** The full path, `{name}` placeholders kept. */
  path: string
  /** Top-level members of the JSON body. */
  fields: string[]
  /** Members of `data.attributes` of a JSON:API body (empty for other bodies). */
  attributes: string[]
  /** Query parameter names. */
  query: string[]
}

type Schema = { properties?: Record<string, Schema> }
type Doc = { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: Array<{ in: string; name: string }> }>> }

/** The operations of `/openapi/<doc>.json` (paths under `prefix`), but those in `skip` (`"GET /path"`). */
export async function operations(app: FastifyInstance, doc: string, prefix: string, skip: ReadonlySet<string> = new Set()): Promise<Op[]> {
  const spec = JSON.parse((await app.inject({ method: 'GET', url: `/openapi/${doc}.json` })).body) as Doc
  const ops: Op[] = []
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const full = path.startsWith(prefix) ? path : `${prefix}${path}`
      if (skip.has(`${method.toUpperCase()} ${full}`)) continue
      const schema = op.requestBody?.content?.['application/json']?.schema
      ops.push({
        method: method.toUpperCase(), path: full, fields: Object.keys(schema?.properties ?? {}),
        attributes: Object.keys(schema?.properties?.data?.properties?.attributes?.properties ?? {}),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })
    }
  }
  return ops
}
