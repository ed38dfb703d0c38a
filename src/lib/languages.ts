/**
 * Languages as people's records give them: a locale (`es-US`, `es_US`), a code (`es`) or a name
 * (`Spanish`). The names known here map to their code; anything else is taken as a code or locale.
 */
const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  english: 'en', spanish: 'es', 'español': 'es', espanol: 'es', french: 'fr', 'français': 'fr', german: 'de', deutsch: 'de',
  portuguese: 'pt', chinese: 'zh', vietnamese: 'vi', korean: 'ko', russian: 'ru', arabic: 'ar', tagalog: 'tl', italian: 'it', japanese: 'ja',
}

/** One spelling of a language: lower case, `_` between language and region (`es-US` → `es_us`, `Spanish` → `es`). */
export function normalizeLanguage(language: string): string {
  const norm = language.trim().toLowerCase().replace(/-/g, '_')
  return LANGUAGE_NAMES[norm] ?? norm
}

/** The language part of a normalised language (`es_us` → `es`). */
export function primaryLanguage(normalized: string): string {
  return normalized.split('_')[0]!
}

/**
 * The key of `keys` for a person's language: the same locale, else the same language (`es-US`
 * finds `es`, `es` finds `es-MX`); undefined when none fits or no language is given.
 */
export function pickLanguage(keys: readonly string[], language: string | null | undefined): string | undefined {
  if (language === null || language === undefined || language.trim() === '') return undefined
  const want = normalizeLanguage(language)
  const exact = keys.find((k) => normalizeLanguage(k) === want)
  if (exact !== undefined) return exact
  return keys.find((k) => primaryLanguage(normalizeLanguage(k)) === primaryLanguage(want))
}
