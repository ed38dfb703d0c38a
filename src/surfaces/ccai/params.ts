import { CcaiError } from './errors.ts'

/**
 * Query parameters in Rails' bracket syntax (§1.3): `id[]=1&id[]=2` is a list, `wait[from]=5` a
 * range bound; a bare scalar is taken where a list is expected (`menu_id=5` for `menu_id[]`).
 */
export type Query = Record<string, unknown>

const texts = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])

/** The values of a list parameter `name[]` (or bare `name`), undefined when neither was sent. */
export function listParam(query: Query, name: string): string[] | undefined {
  const hasList = Object.hasOwn(query, `${name}[]`)
  const hasBare = Object.hasOwn(query, name)
  if (!hasList && !hasBare) return undefined
  return [...texts(query[`${name}[]`]), ...texts(query[name])]
}

/** `name[from]` / `name[to]`, undefined when neither was sent. */
export function rangeParam(query: Query, name: string): { from?: string; to?: string } | undefined {
  const from = query[`${name}[from]`]
  const to = query[`${name}[to]`]
  if (from === undefined && to === undefined) return undefined
  return { ...(from !== undefined ? { from: String(Array.isArray(from) ? from[0] : from) } : {}), ...(to !== undefined ? { to: String(Array.isArray(to) ? to[0] : to) } : {}) }
}

/** The largest Apps API id: ids are int4 columns, and a larger one reached the database as a 500. */
export const MAX_ID = 2_147_483_647

/**
 * An integer id as clients send it: a number or a numeric string (§1.3); undefined when it is
 * neither, or past the int4 range (no id is that large).
 */
export function toId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 && value <= MAX_ID ? value : undefined
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) {
    const n = Number(value)
    return n > 0 && n <= MAX_ID ? n : undefined
  }
  return undefined
}

/** A list of integer ids (JSON array or one value); `invalid` names the parameter in the 400. */
export function idList(value: unknown, name: string): number[] {
  if (value === undefined || value === null) return []
  const items = Array.isArray(value) ? value : [value]
  return items.map((v) => {
    const id = toId(v)
    if (id === undefined) throw new CcaiError(400, `${name} is invalid`)
    return id
  })
}

/** A boolean in a query string: true/false or 1/0 (§1.3); undefined otherwise. */
export function toBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  return undefined
}

/** An ISO 8601 timestamp; undefined when it does not parse. */
export function toTime(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) return undefined
  const d = new Date(value.trim())
  return Number.isNaN(d.getTime()) ? undefined : d
}
