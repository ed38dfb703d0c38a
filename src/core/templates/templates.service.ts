import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { pickLanguage } from '../../lib/languages.ts'
import { parseSetupText } from '../../lib/schema-problems.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { checkData } from './data-schema.ts'
import { compile, renderText, type CompiledText } from './liquid.ts'
import { TemplatesRepository, type Executor } from './templates.repository.ts'
import { validateTemplatesDocument } from './templates.schema.ts'
import type { LoadedTemplates, Recipient, RenderedMessage, TemplateDefinition, TemplateParts, TemplatesDocument, TemplateSummary } from './templates.types.ts'

/** Largest template file accepted. */
export const MAX_TEMPLATES_SOURCE = 1024 * 1024
const PARTS = ['push', 'sms', 'email', 'in-app'] as const
const CACHE_MAX = 1000

/**
 * Parse a template file (YAML, or JSON with `format: 'json'`) and validate it, every text compiled.
 * Throws ValidationError `invalid_templates` with `errors`, each `path: problem`.
 */
export function parseTemplates(source: string, format?: 'yaml' | 'json'): TemplatesDocument {
  const fail = (errors: string[]): never => {
    throw new ValidationError('invalid_templates', errors[0]!, { errors })
  }
  const parsed = parseSetupText(source, format, 'the template file', MAX_TEMPLATES_SOURCE)
  if (!parsed.ok) fail([parsed.problem])
  const result = validateTemplatesDocument((parsed as { value: unknown }).value)
  if (!result.ok) fail(result.errors)
  return (result as { document: TemplatesDocument }).document
}

type CompiledParts = {
  push?: { title: CompiledText; body: CompiledText; category?: string }
  sms?: CompiledText
  email?: { subject: CompiledText; text?: CompiledText; html?: CompiledText }
  inApp?: { title: CompiledText; body: CompiledText }
}

/** A text of a validated file: it compiled at load, so it compiles now. */
function compiled(text: string, kind: 'text' | 'html' = 'text'): CompiledText {
  const r = compile(text, kind)
  if (!r.ok) throw new Error(`a stored template text does not compile: ${r.problem}`)
  return r.compiled
}

function compileParts(p: TemplateParts, fallback?: TemplateParts): CompiledParts {
  const out: CompiledParts = {}
  if (p.push) {
    const category = p.push.category ?? fallback?.push?.category
    out.push = { title: compiled(p.push.title), body: compiled(p.push.body), ...(category !== undefined ? { category } : {}) }
  }
  if (p.sms !== undefined) out.sms = compiled(p.sms)
  if (p.email) {
    out.email = {
      subject: compiled(p.email.subject), ...(p.email.text !== undefined ? { text: compiled(p.email.text) } : {}),
      ...(p.email.html !== undefined ? { html: compiled(p.email.html, 'html') } : {}),
    }
  }
  if (p['in-app']) out.inApp = { title: compiled(p['in-app'].title), body: compiled(p['in-app'].body) }
  return out
}

/**
 * A template ready to render many times without a query (a multicast renders one per recipient):
 * its texts compiled once, its data schema kept.
 */
export class PreparedTemplate {
  readonly id: string
  readonly version: number
  readonly definition: TemplateDefinition
  readonly #default: CompiledParts
  readonly #variants: Map<string, CompiledParts>
  readonly #languages: string[]

  constructor(id: string, version: number, definition: TemplateDefinition) {
    this.id = id
    this.version = version
    this.definition = definition
    this.#default = compileParts(definition)
    this.#languages = Object.keys(definition.languages ?? {})
    this.#variants = new Map(this.#languages.map((lang) => [lang, compileParts(definition.languages![lang]!, definition)]))
  }

  /** The variant key for a recipient's language, or undefined for the default parts. */
  languageFor(language: string | null): string | undefined {
    return pickLanguage(this.#languages, language)
  }

  /**
   * Check `data` against the data schema and render every part in the recipient's language (a part
   * the variant leaves out is the default's). Throws ValidationError `invalid_template_data` (each
   * problem `data.path: problem`) or `template_render_failed` (each `part: Liquid: …`, the part named
   * as in the file: `sms`, `languages.es.push.title`).
   */
  render(data: Record<string, unknown>, recipient: Recipient): RenderedMessage {
    const schema = this.definition['data-schema']
    if (schema !== undefined) {
      const problems = checkData(schema, data)
      if (problems.length > 0) throw new ValidationError('invalid_template_data', `data does not match the data-schema of template ${this.id}: ${problems[0]}`, { templateId: this.id, errors: problems })
    }
    const lang = this.languageFor(recipient.language)
    const variant = lang !== undefined ? this.#variants.get(lang)! : undefined
    const scope = { data, recipient: { name: recipient.name, language: recipient.language } }
    const errors: string[] = []
    const text = (part: string, c: CompiledText | undefined, fromVariant: boolean): string => {
      if (c === undefined) return ''
      const r = renderText(c, scope)
      if (r.ok) return r.text
      errors.push(`${fromVariant ? `languages.${lang}.` : ''}${part}: ${r.problem}`)
      return ''
    }
    const out: { -readonly [K in keyof RenderedMessage]: RenderedMessage[K] } = { templateId: this.id, language: lang ?? this.definition.language ?? 'en' }
    const pick = <K extends keyof CompiledParts>(k: K): [CompiledParts[K], boolean] => (variant?.[k] !== undefined ? [variant[k], true] : [this.#default[k], false])
    const [push, pushV] = pick('push')
    if (push) out.push = { title: text('push.title', push.title, pushV), body: text('push.body', push.body, pushV), ...(push.category !== undefined ? { category: push.category } : {}) }
    const [sms, smsV] = pick('sms')
    if (sms) out.sms = text('sms', sms, smsV)
    const [email, emailV] = pick('email')
    if (email) {
      out.email = {
        subject: text('email.subject', email.subject, emailV), ...(email.text ? { text: text('email.text', email.text, emailV) } : {}),
        ...(email.html ? { html: text('email.html', email.html, emailV) } : {}),
      }
    }
    const [inApp, inAppV] = pick('inApp')
    if (inApp) out.inApp = { title: text('in-app.title', inApp.title, inAppV), body: text('in-app.body', inApp.body, inAppV) }
    if (errors.length > 0) throw new ValidationError('template_render_failed', `template ${this.id} does not render: ${errors[0]}`, { templateId: this.id, errors })
    return out
  }
}

/**
 * A tenant's message templates: loaded from a template file as a new version (like the bot's
 * threads), listed, and rendered for one recipient. Compiled templates are kept in this process by
 * tenant, id and version.
 */
export class TemplatesService {
  readonly #db: Kysely<DB>
  readonly #repo: TemplatesRepository
  readonly #prepared = new Map<string, PreparedTemplate>()

  constructor(db: Kysely<DB>) {
    this.#db = db
    this.#repo = new TemplatesRepository(db)
  }

  /** Parse and validate without storing. Throws ValidationError `invalid_templates`. */
  parse(source: string, format?: 'yaml' | 'json'): TemplatesDocument {
    return parseTemplates(source, format)
  }

  /**
   * Parse, validate and store a template file as the tenant's new current version (every template
   * of the previous one replaced). Throws ValidationError `invalid_templates`; nothing is stored then.
   */
  async load(tenant: Pick<Tenant, 'id'>, source: string, format?: 'yaml' | 'json'): Promise<LoadedTemplates> {
    const document = parseTemplates(source, format)
    const fmt = format ?? (source.trimStart().startsWith('{') ? 'json' : 'yaml')
    const version = await this.#db.transaction().execute((trx) => this.#repo.insertVersion(trx, tenant.id, document, source, fmt))
    return { version, templates: Object.keys(document.templates) }
  }

  /** The file of the current version as loaded, with its templates in file order; undefined when none was loaded. */
  async currentSource(tenant: Pick<Tenant, 'id'>): Promise<{ version: number; source: string; format: 'yaml' | 'json'; templates: TemplateSummary[]; loadedAt: Date } | undefined> {
    const version = await this.#repo.currentVersion(this.#db, tenant.id)
    const row = version > 0 ? await this.#repo.findVersion(tenant.id, version) : undefined
    if (!row) return undefined
    // The stored document's keys are in jsonb order; the file has the author's.
    const doc = parseTemplates(row.source, row.format)
    const templates = Object.entries(doc.templates).map(([id, t]): TemplateSummary => ({
      id, description: t.description ?? null, parts: PARTS.filter((p) => t[p] !== undefined), languages: Object.keys(t.languages ?? {}), hasDataSchema: t['data-schema'] !== undefined,
    }))
    return { version, source: row.source, format: row.format, templates, loadedAt: row.createdAt }
  }

  /**
   * The current template of this id, compiled (cached by version). `db` is the transaction a caller
   * is in, if any. Throws NotFoundError `template_not_found`.
   */
  async prepare(db: Executor | undefined, tenant: Pick<Tenant, 'id'>, templateId: string): Promise<PreparedTemplate> {
    const row = typeof templateId === 'string' && templateId.length <= 255 ? await this.#repo.findTemplate(db ?? this.#db, tenant.id, templateId) : undefined
    if (!row) throw new NotFoundError('template_not_found', `No template ${JSON.stringify(templateId)}`, { templateId })
    const key = `${tenant.id}\u0000${templateId}`
    const hit = this.#prepared.get(key)
    if (hit && hit.version === row.version) return hit
    const prepared = new PreparedTemplate(templateId, row.version, row.definition)
    this.#remember(key, prepared)
    return prepared
  }

  /**
   * Render a template for one recipient: `data` checked against its data schema, every part in the
   * recipient's language (falling back to the default parts). Throws NotFoundError
   * `template_not_found`, ValidationError `invalid_template_data` or `template_render_failed`.
   */
  async render(db: Executor | undefined, tenant: Pick<Tenant, 'id'>, templateId: string, data: Record<string, unknown>, recipient: Recipient): Promise<RenderedMessage> {
    return (await this.prepare(db, tenant, templateId)).render(data, recipient)
  }

  #remember(key: string, prepared: PreparedTemplate) {
    this.#prepared.delete(key)
    if (this.#prepared.size >= CACHE_MAX) this.#prepared.delete(this.#prepared.keys().next().value!)
    this.#prepared.set(key, prepared)
  }
}
