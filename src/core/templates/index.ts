export { TemplatesService, PreparedTemplate, parseTemplates, MAX_TEMPLATES_SOURCE } from './templates.service.ts'
export { TemplatesFileJsonSchema, TEMPLATE_ID, LANGUAGE_KEY } from './templates.schema.ts'
export { LIQUID_LIMITS } from './liquid.ts'
export type { Recipient, RenderedMessage, TemplateDefinition, TemplateParts, TemplatesDocument, TemplateSummary, LoadedTemplates } from './templates.types.ts'
