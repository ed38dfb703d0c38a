import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { expect } from 'vitest'

// The JSON:API 1.0 response schema of the json-api project (test/fixtures, CC0), compiled once.
const ajv = new Ajv2020({ allErrors: true })
;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
const validate = ajv.compile(JSON.parse(readFileSync(new URL('../fixtures/jsonapi-1.0.schema.json', import.meta.url), 'utf8')) as object)

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The vendor's page keys of list `meta` (`spec/courier.md` §1.5), brackets and all. */
const PAGE_META = ['page[limit]', 'page[offset]', 'page[total]']

/**
 * The document with the vendor's two deliberate departures from JSON:API member names set aside
 * (README "Messaging: decisions"): the bracketed page keys of list `meta` (§1.5) and an attribute
 * named `type` (org-preferences, communication summaries…, as the vendor's samples have it), which
 * JSON:API reserves. Both are checked here instead; everything else must be valid JSON:API 1.0.
 */
function withoutVendorNames(body: Json): Json {
  const meta = { ...body.meta as Json }
  for (const k of PAGE_META) {
    if (k in meta) {
      expect(Number.isInteger(meta[k]), `${k} is an integer`).toBe(true)
      delete meta[k]
    }
  }
  const strip = (r: Json) => {
    if (!r?.attributes || !('type' in r.attributes)) return r
    expect(typeof r.attributes.type, 'attribute type is a string').toBe('string')
    const { type: _type, ...attributes } = r.attributes as Json
    return { ...r, attributes }
  }
  return { ...body, meta, data: Array.isArray(body.data) ? body.data.map(strip) : strip(body.data) }
}

/** Assert a success document is valid JSON:API 1.0 (and has `data` and `meta`, as §1.3 says). */
export function expectJsonApi(body: unknown): Json {
  const ok = validate(withoutVendorNames(body as Json))
  expect(ok, JSON.stringify(validate.errors)).toBe(true)
  expect(body).toHaveProperty('data')
  expect(body).toHaveProperty('meta')
  return body as Json
}

/**
 * Assert an error document of `spec/courier.md` §1.7: one error object with the integer `status`
 * of the response, a `code`, a `detail`, `meta`, and the `source` given (pointer or parameter).
 */
export function expectJsonApiError(res: { statusCode: number; body: string }, status: number, source?: { pointer: string } | { parameter: string }): Json {
  expect(res.statusCode, res.body).toBe(status)
  const body = JSON.parse(res.body) as Json
  expect(body.errors).toHaveLength(1)
  const e = body.errors[0] as Json
  expect(e).toMatchObject({ status, meta: {} })
  expect(typeof e.code).toBe('string')
  expect(typeof e.detail).toBe('string')
  if (source) expect(e.source).toEqual(source)
  // Everything else about the document is JSON:API's (with a string status, as the schema wants it).
  const asSpec = { errors: [{ ...e, status: String(e.status) }] }
  expect(validate(asSpec), JSON.stringify(validate.errors)).toBe(true)
  return e
}
