/** A person's fields as placeholders see them (snake_case, as thread files name fields). */
export interface PersonValues {
  readonly first_name?: string | null
  readonly last_name?: string | null
  readonly external_id?: string | null
  readonly external_username?: string | null
  readonly external_org?: string | null
  readonly external_data_1?: string | null
  readonly external_data_2?: string | null
  readonly external_data_3?: string | null
}

/** The placeholders of the spec's table and the person field each one shows. */
export const PERSON_PLACEHOLDERS: Readonly<Record<string, keyof PersonValues>> = {
  NAME: 'first_name',
  EXTERNAL_ID: 'external_id',
  EXTERNAL_USERNAME: 'external_username',
  EXTERNAL_ORG: 'external_org',
  ED1: 'external_data_1',
  ED2: 'external_data_2',
  ED3: 'external_data_3',
}

const PLACEHOLDER = /<<\s*([A-Za-z_][A-Za-z0-9_]*)\s*>>/g

/** What a text can draw on: the person, the ping's placeholders, the conversation's variables. */
export interface RenderContext {
  readonly person: PersonValues
  /** From `/v2/ping_person`; keys are case-insensitive. */
  readonly placeholders?: Readonly<Record<string, string>>
  /** Conversation variables (`store: {var}`, choice `set`); case-insensitive. */
  readonly variables?: Readonly<Record<string, string>>
}

/** Placeholder names a text uses, upper-cased, in order of first use. */
export function placeholdersIn(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1]!.toUpperCase()
    if (!out.includes(name)) out.push(name)
  }
  return out
}

function upperKeys(record: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const [k, v] of Object.entries(record ?? {})) map.set(k.toUpperCase(), v)
  return map
}

/**
 * Fill a text's placeholders. Person placeholders (`<<NAME>>`, `<<ED1>>`…) always resolve — to
 * the empty string while the field is unset; then the ping's placeholders, then conversation
 * variables, all matched case-insensitively. Any other placeholder renders empty and is listed in
 * `missing`. Pure: no I/O.
 */
export function renderText(text: string, ctx: RenderContext): { text: string; missing: string[] } {
  const placeholders = upperKeys(ctx.placeholders)
  const variables = upperKeys(ctx.variables)
  const missing: string[] = []
  const out = text.replace(PLACEHOLDER, (_all, raw: string) => {
    const name = raw.toUpperCase()
    const field = Object.hasOwn(PERSON_PLACEHOLDERS, name) ? PERSON_PLACEHOLDERS[name] : undefined
    if (field !== undefined) return ctx.person[field] ?? ''
    const value = placeholders.get(name) ?? variables.get(name)
    if (value !== undefined) return value
    if (!missing.includes(name)) missing.push(name)
    return ''
  })
  return { text: out, missing }
}
