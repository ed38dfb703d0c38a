import { Errors } from 'typebox/schema'
import { describeIssue, type SchemaIssue } from '../../lib/schema-problems.ts'

/**
 * A template's `data-schema`: a JSON Schema (2020-12 keywords) the template data must satisfy. It is
 * written by the tenant's operator, so it is checked word by word at load (known keywords and
 * formats, types that exist, patterns that compile, `$ref` only into the schema itself, bounded
 * depth) and interpreted when data is checked — never compiled to code.
 */

const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'])
const FORMATS = new Set([
  'date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference',
  'iri', 'iri-reference', 'uri-template', 'url', 'uuid', 'regex', 'json-pointer', 'relative-json-pointer',
])
/** Keywords whose value is one subschema. */
const ONE = new Set(['additionalProperties', 'items', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems'])
/** Keywords whose value is a list of subschemas. */
const LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
/** Keywords whose value maps names to subschemas. */
const MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'])
const NON_NEGATIVE = new Set(['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'])
const NUMBERS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'])
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly'])
const OTHER = new Set(['type', 'enum', 'const', 'required', 'pattern', 'format', 'uniqueItems', 'dependentRequired', '$ref'])
const MAX_DEPTH = 32

const quote = (s: string) => JSON.stringify(s)

/** Whether a local `$ref` (`#`, `#/$defs/x`) points at something in `root`. */
function resolves(root: unknown, ref: string): boolean {
  if (ref === '#') return true
  if (!ref.startsWith('#/')) return false
  let at: unknown = root
  for (const raw of ref.slice(2).split('/')) {
    const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, seg)) return false
    at = (at as Record<string, unknown>)[seg]
  }
  return at !== null && (typeof at === 'object' || typeof at === 'boolean')
}

/** Every problem of a data schema at `base` (`templates.reminder.data-schema`), each `path: problem`. */
export function checkDataSchema(schema: unknown, base: string): string[] {
  const problems: string[] = []
  const walk = (node: unknown, path: string, depth: number): void => {
    if (typeof node === 'boolean') return
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      problems.push(`${path}: a schema is an object (or true/false)`)
      return
    }
    if (depth > MAX_DEPTH) {
      problems.push(`${path}: nested deeper than ${MAX_DEPTH} schemas`)
      return
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      const at = `${path}.${key}`
      if (ONE.has(key)) walk(value, at, depth + 1)
      else if (LIST.has(key)) {
        if (!Array.isArray(value) || value.length === 0) problems.push(`${at}: must be a non-empty list of schemas`)
        else value.forEach((v, i) => walk(v, `${at}[${i}]`, depth + 1))
      } else if (MAP.has(key)) {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) problems.push(`${at}: must be an object of schemas`)
        else {
          for (const [name, v] of Object.entries(value)) {
            if (key === 'patternProperties' && !compiles(name)) problems.push(`${at}: not a regular expression ${quote(name)}`)
            walk(v, `${at}.${name}`, depth + 1)
          }
        }
      } else if (NON_NEGATIVE.has(key)) {
        if (!Number.isInteger(value) || (value as number) < 0) problems.push(`${at}: must be a non-negative integer`)
      } else if (NUMBERS.has(key)) {
        if (typeof value !== 'number' || (key === 'multipleOf' && value <= 0)) problems.push(`${at}: must be a number${key === 'multipleOf' ? ' above 0' : ''}`)
      } else if (key === 'type') {
        const types = Array.isArray(value) ? value : [value]
        for (const ty of types) if (typeof ty !== 'string' || !TYPES.has(ty)) problems.push(`${at}: unknown type ${quote(String(ty))}`)
        if (types.length === 0) problems.push(`${at}: must name a type`)
      } else if (key === 'required') {
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) problems.push(`${at}: must be a list of property names`)
      } else if (key === 'enum') {
        if (!Array.isArray(value)) problems.push(`${at}: must be a list`)
      } else if (key === 'pattern') {
        if (typeof value !== 'string' || !compiles(value)) problems.push(`${at}: not a regular expression ${quote(String(value))}`)
      } else if (key === 'format') {
        if (typeof value !== 'string' || !FORMATS.has(value)) problems.push(`${at}: unknown format ${quote(String(value))}`)
      } else if (key === 'uniqueItems') {
        if (typeof value !== 'boolean') problems.push(`${at}: must be true or false`)
      } else if (key === 'dependentRequired') {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => !Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
          problems.push(`${at}: must map property names to lists of property names`)
        }
      } else if (key === '$ref') {
        if (typeof value !== 'string' || !resolves(schema, value)) problems.push(`${at}: only a reference into this schema ("#/$defs/name") is allowed, and it must exist`)
      } else if (!ANNOTATIONS.has(key) && !OTHER.has(key)) problems.push(`${at}: unknown JSON Schema keyword ${quote(key)}`)
    }
  }
  walk(schema, base, 0)
  if (problems.length > 0) return problems
  // The checker itself must take it (a construct it cannot interpret is a load-time problem too).
  try {
    Errors(schema as never, null)
  } catch (err) {
    problems.push(`${base}: not a usable JSON Schema: ${(err as Error).message}`)
  }
  return problems
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u')
    return true
  } catch {
    return false
  }
}

/** The problems of `data` against a (checked) data schema, each `data.path: problem`; empty when it satisfies it. */
export function checkData(schema: Record<string, unknown>, data: unknown): string[] {
  const [ok, errors] = Errors(schema as never, data)
  if (ok) return []
  const issues = (errors as unknown as SchemaIssue[]).filter((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf')
  const lines = (issues.length > 0 ? issues : (errors as unknown as SchemaIssue[])).map((issue) => describeIssue('data', issue))
  return [...new Set(lines)].slice(0, 50)
}
