import { Type, type TSchema } from 'typebox'
import type { JsonApiContext, Listed } from './resource.ts'
import { JsonApiError } from './errors.ts'

/** One bound of a `filter[cmp-<field>]` window (§1.6): `>`, `<`, `>=`, `<=` and an instant. */
export interface Bound {
  readonly op: '>' | '<' | '>=' | '<='
  readonly at: Date
}

/** A list request as a resource's service reads it, every value checked. */
export interface ListQuery {
  readonly limit: number
  readonly offset: number
  /** Scoping parameters without the `filter[…]` wrapper (`organization-id`). */
  readonly params: Readonly<Record<string, unknown>>
  /** `filter[<name>]` values by name. */
  readonly filters: Readonly<Record<string, unknown>>
  /** `filter[cmp-<field>]` bounds by field. */
  readonly windows: Readonly<Record<string, readonly Bound[]>>
  /** `sort` fields in order; `-` means descending. */
  readonly sort: readonly { readonly field: string; readonly descending: boolean }[]
  /** Include flags by their declared name, false unless given. */
  readonly flags: Readonly<Record<string, boolean>>
}

/** What a list operation takes and answers (the layer validates and parses; `run` reads). */
export interface ListSpec<T> {
  /** `page[limit]` bounds and default (§1.5: 1..1000, 100 unless the operation says otherwise). */
  readonly page?: { readonly min?: number; readonly max: number; readonly default: number }
  /** Scoping parameters: `{ 'organization-id': { schema: Uuid, required: true } }`. */
  readonly params?: Readonly<Record<string, { readonly schema: TSchema; readonly required?: boolean }>>
  /** `filter[<name>]` schemas. */
  readonly filters?: Readonly<Record<string, TSchema>>
  /** Fields with a `filter[cmp-<field>]` window. */
  readonly windows?: readonly string[]
  /** Sortable fields and the default order. */
  readonly sort?: { readonly fields: readonly string[]; readonly default?: readonly string[] }
  /** Include flags, as the operation spells them: `include[archived]` or `include-senders`. */
  readonly flags?: readonly string[]
  readonly run: (ctx: JsonApiContext, q: ListQuery) => Promise<Listed<T>>
}

const DEFAULT_PAGE = { min: 1, max: 1000, default: 100 }
const COMPARATOR = /^(>=|<=|>|<)(.+)$/

/** The querystring schema of a list: every parameter it takes, nothing else (an unknown one is a 400). */
export function listQuerySchema(spec: ListSpec<unknown>) {
  const page = { ...DEFAULT_PAGE, ...spec.page }
  const props: Record<string, TSchema> = {
    'page[limit]': Type.Optional(Type.Integer({ minimum: page.min, maximum: page.max, default: page.default, description: `Page size (${page.min}..${page.max})` })),
    'page[offset]': Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Items to skip' })),
  }
  for (const [name, p] of Object.entries(spec.params ?? {})) props[name] = p.required ? p.schema : Type.Optional(p.schema)
  for (const [name, schema] of Object.entries(spec.filters ?? {})) props[`filter[${name}]`] = Type.Optional(schema)
  for (const field of spec.windows ?? []) {
    props[`filter[cmp-${field}]`] = Type.Optional(Type.Array(Type.String({ maxLength: 40, pattern: '^(>=|<=|>|<)' }), {
      maxItems: 2, description: `\`[comparator][datetime]\` against ${field}; comparators >, <, >=, <=; two give a window`,
    }))
  }
  if (spec.sort) {
    const values = spec.sort.fields.flatMap((f) => [f, `-${f}`])
    props.sort = Type.Optional(Type.Array(Type.Union(values.map((v) => Type.Literal(v))), { description: 'Fields; a leading - sorts descending' }))
  }
  for (const flag of spec.flags ?? []) props[flag] = Type.Optional(Type.Boolean({ default: false }))
  return Type.Object(props, { additionalProperties: false })
}

/** The query of an item operation (read, GET actions): scoping parameters and include flags only. */
export interface ItemQuerySpec {
  readonly params?: ListSpec<unknown>['params']
  readonly flags?: readonly string[]
}

/** What an item operation's query said. */
export interface ItemQuery {
  readonly params: Readonly<Record<string, unknown>>
  readonly flags: Readonly<Record<string, boolean>>
}

/** The querystring schema of an item operation: its parameters and flags, nothing else. */
export function itemQuerySchema(spec: ItemQuerySpec) {
  const props: Record<string, TSchema> = {}
  for (const [name, p] of Object.entries(spec.params ?? {})) props[name] = p.required ? p.schema : Type.Optional(p.schema)
  for (const flag of spec.flags ?? []) props[flag] = Type.Optional(Type.Boolean({ default: false }))
  return Type.Object(props, { additionalProperties: false })
}

/** The checked query of an item operation. */
export function parseItemQuery(spec: ItemQuerySpec, query: Record<string, unknown>): ItemQuery {
  const params: Record<string, unknown> = {}
  for (const name of Object.keys(spec.params ?? {})) if (query[name] !== undefined) params[name] = query[name]
  const flags: Record<string, boolean> = {}
  for (const flag of spec.flags ?? []) flags[flag] = query[flag] === true
  return { params, flags }
}

/** The checked query of a list (the schema already validated types, bounds and names). */
export function parseListQuery(spec: ListSpec<unknown>, query: Record<string, unknown>): ListQuery {
  const page = { ...DEFAULT_PAGE, ...spec.page }
  const params: Record<string, unknown> = {}
  for (const name of Object.keys(spec.params ?? {})) if (query[name] !== undefined) params[name] = query[name]
  const filters: Record<string, unknown> = {}
  for (const name of Object.keys(spec.filters ?? {})) if (query[`filter[${name}]`] !== undefined) filters[name] = query[`filter[${name}]`]
  const windows: Record<string, Bound[]> = {}
  for (const field of spec.windows ?? []) {
    const parameter = `filter[cmp-${field}]`
    const raw = query[parameter] as string[] | undefined
    if (!raw) continue
    windows[field] = raw.map((item) => {
      const m = COMPARATOR.exec(item)
      const at = m ? new Date(m[2]!) : undefined
      if (!m || !at || Number.isNaN(at.getTime())) throw new JsonApiError(400, 'invalid', `${parameter} items are a comparator (>, <, >=, <=) followed by a date-time: "${item}"`, { parameter })
      return { op: m[1] as Bound['op'], at }
    })
  }
  const sortRaw = (query.sort as string[] | undefined) ?? spec.sort?.default ?? []
  const sort = sortRaw.map((s) => (s.startsWith('-') ? { field: s.slice(1), descending: true } : { field: s, descending: false }))
  const flags: Record<string, boolean> = {}
  for (const flag of spec.flags ?? []) flags[flag] = query[flag] === true
  return { limit: (query['page[limit]'] as number | undefined) ?? page.default, offset: (query['page[offset]'] as number | undefined) ?? 0, params, filters, windows, sort, flags }
}

/** Whether `at` is inside every bound of a window. */
export function inWindow(at: Date | null, bounds: readonly Bound[] | undefined): boolean {
  if (!bounds || bounds.length === 0) return true
  if (!at) return false
  const t = at.getTime()
  return bounds.every((b) => (b.op === '>' ? t > b.at.getTime() : b.op === '<' ? t < b.at.getTime() : b.op === '>=' ? t >= b.at.getTime() : t <= b.at.getTime()))
}
