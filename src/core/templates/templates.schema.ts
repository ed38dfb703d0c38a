import { Type, type Static } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { normalizeLanguage } from '../../lib/languages.ts'
import { dedupeProblems, describeIssue, schemaIssues, type SchemaIssue } from '../../lib/schema-problems.ts'
import { compileText, LIQUID_LIMITS } from './liquid.ts'
import type { TemplateDefinition, TemplatesDocument } from './templates.types.ts'
import { checkDataSchema } from './data-schema.ts'

/**
 * The template file (README "Templates"): the tenant's message templates by id, each with the parts
 * it can be sent as (push, sms, email, in-app), every text a Liquid template over `data` (the
 * template data) and `recipient` (name, language), an optional JSON Schema of the data, and
 * per-language variants of the parts under `languages`. Loaded as a whole; the highest version is
 * current.
 */

/** A template id: what `template-id` names (≤255 characters, as the messaging API allows). */
export const TEMPLATE_ID = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$'
/** A language key of `languages` (and `language`): a code or a locale, `es`, `es-US`, `es_US`. */
export const LANGUAGE_KEY = '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$'
/** Most templates in one file, and most language variants of one template. */
export const MAX_TEMPLATES = 500
export const MAX_LANGUAGES = 50

const Text = (description: string) => Type.String({ minLength: 1, maxLength: LIQUID_LIMITS.maxSourceLength, description: `${description} (Liquid)` })

const Push = Type.Object({
  title: Text('The notification’s title'),
  body: Text('The notification’s text'),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'The push category (badge counts are kept per category); a variant without one keeps the default’s' })),
}, { additionalProperties: false })
const Sms = Text('The text message')
const Email = Type.Object({
  subject: Text('The subject line'),
  text: Type.Optional(Text('The plain-text body')),
  html: Type.Optional(Text('The HTML body; values are HTML-escaped unless piped through `raw`')),
}, { additionalProperties: false, description: 'At least one of text and html' })
const InApp = Type.Object({ title: Text('The in-app title'), body: Text('The in-app text') }, { additionalProperties: false })

/** The parts of a template or of one of its language variants. */
const Parts = {
  push: Type.Optional(Push),
  sms: Type.Optional(Sms),
  email: Type.Optional(Email),
  'in-app': Type.Optional(InApp),
}
const Variant = Type.Object(Parts, { additionalProperties: false, description: 'The parts in this language; a part left out is the default’s' })

const Template = Type.Object({
  description: Type.Optional(Type.String({ maxLength: 1000, description: 'What the template is for (shown back only)' })),
  language: Type.Optional(Type.String({ pattern: LANGUAGE_KEY, description: 'The language the default parts are written in (default en)' })),
  'data-schema': Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A JSON Schema (2020-12 keywords) the template data must satisfy; local $ref only' })),
  ...Parts,
  languages: Type.Optional(Type.Record(Type.String({ pattern: LANGUAGE_KEY }), Variant, { maxProperties: MAX_LANGUAGES, description: 'Variants by language code or locale (es, es-US); a recipient whose language has none gets the default parts' })),
}, { additionalProperties: false })

/** The whole file, as checked (template ids and language keys are checked one by one, to name them). */
const TemplatesFileSchema = Type.Object({
  templates: Type.Record(Type.String(), Type.Object({
    description: Template.properties.description, language: Template.properties.language, 'data-schema': Template.properties['data-schema'],
    ...Parts, languages: Type.Optional(Type.Record(Type.String(), Variant, { maxProperties: MAX_LANGUAGES })),
  }, { additionalProperties: false }), { maxProperties: MAX_TEMPLATES }),
}, { additionalProperties: false })

/** The published JSON Schema of the file (`/schemas/templates.json`). */
export const TemplatesFileJsonSchema = Type.Object({
  templates: Type.Record(Type.String({ pattern: TEMPLATE_ID }), Template, { maxProperties: MAX_TEMPLATES, description: 'The templates by id (the `template-id` of a multicast)' }),
}, { additionalProperties: false, $id: 'https://switchboard.local/schemas/templates.json', title: 'Switchboard template file' })

export type TemplateFileItem = Static<typeof Template>

let validator: Validator | undefined
/** Patterns worded for people. */
const special = (where: string, issue: SchemaIssue): string | undefined => {
  if (issue.keyword !== 'pattern') return undefined
  if (where.endsWith('.category')) return `${where}: a category is letters, digits, _ . - (at most 64)`
  if (where.endsWith('.language')) return `${where}: not a language code or locale (es, es-US)`
  return undefined
}
const PART_NAMES = ['push', 'sms', 'email', 'in-app'] as const

/** Each Liquid text of a set of parts, with its path (`push.title`, `sms`, …). */
function textsOf(parts: Partial<Record<(typeof PART_NAMES)[number], unknown>>): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const name of PART_NAMES) {
    const part = parts[name]
    if (part === undefined) continue
    if (typeof part === 'string') out.push([name, part])
    else for (const [k, v] of Object.entries(part as Record<string, unknown>)) if (k !== 'category' && typeof v === 'string') out.push([`${name}.${k}`, v])
  }
  return out
}

/**
 * Check a parsed template file: its shape, every template id and language key, the data schemas,
 * and every text compiled as Liquid. Every problem at its path (`templates.reminder.languages.es.sms:
 * Liquid: undefined filter: upcasee, line:1, col:4`), up to 50.
 */
export function validateTemplatesDocument(doc: unknown): { ok: true; document: TemplatesDocument } | { ok: false; errors: string[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, errors: ['(document): must be an object with "templates"'] }
  validator ??= Compile(TemplatesFileSchema) as unknown as Validator
  const issues = schemaIssues(validator, doc)
  if (issues.length > 0) return { ok: false, errors: dedupeProblems(issues.map((i) => describeIssue('', i, special))) }
  const errors: string[] = []
  const templates = (doc as { templates: Record<string, TemplateFileItem> }).templates
  for (const [id, t] of Object.entries(templates)) {
    const base = `templates.${id}`
    if (!new RegExp(TEMPLATE_ID).test(id)) errors.push(`${base}: a template id is letters, digits, _ . : - (at most 255, starting with a letter or digit)`)
    if (t.language !== undefined && !new RegExp(LANGUAGE_KEY).test(t.language)) errors.push(`${base}.language: not a language code or locale "${t.language}"`)
    const own = PART_NAMES.filter((p) => t[p] !== undefined)
    if (own.length === 0) errors.push(`${base}: a template has at least one of push, sms, email, in-app`)
    if (t.email !== undefined && t.email.text === undefined && t.email.html === undefined) errors.push(`${base}.email: an email has text, html or both`)
    if (t['data-schema'] !== undefined) errors.push(...checkDataSchema(t['data-schema'], `${base}.data-schema`))
    for (const [path, text] of textsOf(t)) {
      const problem = compileText(text, path.endsWith('.html') ? 'html' : 'text')
      if (problem) errors.push(`${base}.${path}: ${problem}`)
    }
    const seen = new Map<string, string>()
    for (const [lang, variant] of Object.entries(t.languages ?? {})) {
      const at = `${base}.languages.${lang}`
      if (!new RegExp(LANGUAGE_KEY).test(lang)) {
        errors.push(`${at}: not a language code or locale (es, es-US)`)
        continue
      }
      const key = normalizeLanguage(lang)
      const twin = seen.get(key)
      if (twin !== undefined) errors.push(`${at}: the same language as languages.${twin}`)
      seen.set(key, lang)
      const parts = PART_NAMES.filter((p) => variant[p] !== undefined)
      if (parts.length === 0) errors.push(`${at}: a language variant has at least one of push, sms, email, in-app`)
      for (const p of parts) if (t[p] === undefined) errors.push(`${at}.${p}: the template has no default ${p} part (a variant only translates the default’s parts)`)
      if (variant.email !== undefined && variant.email.text === undefined && variant.email.html === undefined) errors.push(`${at}.email: an email has text, html or both`)
      for (const [path, text] of textsOf(variant)) {
        const problem = compileText(text, path.endsWith('.html') ? 'html' : 'text')
        if (problem) errors.push(`${at}.${path}: ${problem}`)
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors: dedupeProblems(errors) }
  return { ok: true, document: { templates: templates as unknown as Record<string, TemplateDefinition> } }
}
