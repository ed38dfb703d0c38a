/** The parts of a template (or of one of its language variants), each text a Liquid template. */
export interface TemplateParts {
  readonly push?: { readonly title: string; readonly body: string; readonly category?: string }
  readonly sms?: string
  readonly email?: { readonly subject: string; readonly text?: string; readonly html?: string }
  readonly 'in-app'?: { readonly title: string; readonly body: string }
}

/** One template of the file. */
export interface TemplateDefinition extends TemplateParts {
  readonly description?: string
  /** The language the default parts are written in (default `en`). */
  readonly language?: string
  /** A JSON Schema the template data must satisfy. */
  readonly 'data-schema'?: Record<string, unknown>
  /** Variants by language key (`es`, `es-US`). */
  readonly languages?: Readonly<Record<string, TemplateParts>>
}

/** A validated template file. */
export interface TemplatesDocument {
  readonly templates: Readonly<Record<string, TemplateDefinition>>
}

/** Who a template is rendered for: what `recipient` holds in the Liquid context. */
export interface Recipient {
  /** How to address them (preferred name, else first and last name); null when unknown. */
  readonly name: string | null
  /** Their language as the directory has it (`es`, `es-US`, `Spanish`); null: the default parts. */
  readonly language: string | null
}

/** A template rendered for one recipient: the parts the template has, in the language chosen. */
export interface RenderedMessage {
  readonly templateId: string
  /** The language of the parts rendered: a variant's key, or the template's `language` (default `en`). */
  readonly language: string
  readonly push?: { readonly title: string; readonly body: string; readonly category?: string }
  readonly sms?: string
  readonly email?: { readonly subject: string; readonly text?: string; readonly html?: string }
  readonly inApp?: { readonly title: string; readonly body: string }
}

/** A tenant's loaded template file: the answer of a load. */
export interface LoadedTemplates {
  readonly version: number
  readonly templates: readonly string[]
}

/** A template as `GET /admin/templates` lists it. */
export interface TemplateSummary {
  readonly id: string
  readonly description: string | null
  readonly parts: readonly ('push' | 'sms' | 'email' | 'in-app')[]
  readonly languages: readonly string[]
  readonly hasDataSchema: boolean
}
