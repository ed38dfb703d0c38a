/**
 * Placeholders of messaging texts (plugin templates, responder messages): `{{first-name}}`,
 * `{{last-name}}`, `{{preferred-name}}` (the first name when none), `{{name}}` (preferred or first
 * name, then the last name) and `{{organization}}` (the individual's organisation). Spaces inside the
 * braces are allowed; names are case-insensitive; an unknown one is refused when the text is saved.
 */
export const PLACEHOLDERS = ['first-name', 'last-name', 'preferred-name', 'name', 'organization'] as const
export type PlaceholderName = (typeof PLACEHOLDERS)[number]

/** What placeholders render from: an individual's names and organisation (empty when unknown). */
export interface PlaceholderSubject {
  readonly firstName: string | null
  readonly lastName: string | null
  readonly preferredName: string | null
  readonly organization: string | null
}

const PATTERN = /\{\{\s*([^{}]*?)\s*\}\}/g

/** The placeholders of `text` that are not known, in order of appearance (empty when all are). */
export function unknownPlaceholders(text: string): string[] {
  const unknown: string[] = []
  for (const m of text.matchAll(PATTERN)) {
    const name = m[1]!.toLowerCase()
    if (!(PLACEHOLDERS as readonly string[]).includes(name) && !unknown.includes(m[1]!)) unknown.push(m[1]!)
  }
  return unknown
}

/** `text` with every known placeholder replaced from `subject` (missing values render empty). */
export function renderPlaceholders(text: string, subject: PlaceholderSubject | null): string {
  return text.replace(PATTERN, (whole, raw: string) => {
    const name = raw.toLowerCase() as PlaceholderName
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) return whole
    if (!subject) return ''
    const first = subject.preferredName || subject.firstName || ''
    switch (name) {
      case 'first-name': return subject.firstName ?? ''
      case 'last-name': return subject.lastName ?? ''
      case 'preferred-name': return first
      case 'name': return [first, subject.lastName ?? ''].filter(Boolean).join(' ')
      case 'organization': return subject.organization ?? ''
    }
  })
}
