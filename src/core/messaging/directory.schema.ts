import { Type, type Static, type TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { toE164 } from '../../lib/phone.ts'
import { describeIssue, schemaIssues } from '../../lib/schema-problems.ts'
import { isTimeZone } from '../../lib/timezone.ts'

/**
 * The directory file (README "Messaging API: the directory"): the tenant's clinics, individuals,
 * users (care-team members) and individual groups (care teams), as YAML or JSON; individuals alone
 * may come as CSV (one row per individual, a header line naming the columns). Keyed by external id
 * (users by email): importing again updates in place.
 */

const Text = (description: string, max = 255) => Type.String({ maxLength: max, description })
const ExternalId = Type.String({ minLength: 1, maxLength: 255, pattern: '\\S', description: 'The id in the system the directory comes from; the key of a second import' })
const Email = Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'The user’s email: the key of a second import' })

export const DirectoryOrganization = Type.Object({
  external_id: ExternalId,
  name: Type.String({ minLength: 1, maxLength: 255, description: 'The clinic’s name' }),
  display_name: Type.Optional(Text('Shown name (default: name)')),
  timezone: Type.Optional(Text('IANA time zone (default UTC)', 64)),
}, { additionalProperties: false })

export const DirectoryIndividual = Type.Object({
  external_id: ExternalId,
  first_name: Type.Optional(Text('First name')),
  last_name: Type.Optional(Text('Last name')),
  preferred_name: Type.Optional(Text('Preferred name')),
  birth_date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })),
  phone: Type.Optional(Text('Mobile phone (E.164 or national); the bot and the SMS path reach them there', 40)),
  account_type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Default patient' })),
  organization: Type.Optional(Type.String({ maxLength: 255, description: 'The owning clinic’s external id (default: the tenant’s organisation)' })),
  timezone: Type.Optional(Text('IANA time zone', 64)),
}, { additionalProperties: false })

export const DirectoryUser = Type.Object({
  email: Email,
  first_name: Type.Optional(Text('First name')),
  last_name: Type.Optional(Text('Last name')),
  username: Type.Optional(Text('Username (default: the email)')),
  phone: Type.Optional(Text('Phone', 40)),
  locale: Type.Optional(Text('Locale, e.g. en-US', 32)),
  tz: Type.Optional(Text('IANA time zone', 64)),
  individual: Type.Optional(Type.String({ maxLength: 255, description: 'External id of the individual this user also is (primary-individual-id)' })),
  notifications: Type.Optional(Type.Array(Type.Enum(['email', 'sms', 'push']), { uniqueItems: true, description: 'How the user is told of new messages' })),
}, { additionalProperties: false })

export const DirectoryGroup = Type.Object({
  external_id: ExternalId,
  name: Type.String({ minLength: 1, maxLength: 255, description: 'The care team’s name' }),
  parent: Type.Optional(Type.String({ maxLength: 255, description: 'External id of the parent group' })),
  organization: Type.Optional(Type.String({ maxLength: 255, description: 'The clinic’s external id (default: the tenant’s organisation)' })),
  individuals: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { uniqueItems: true, maxItems: 100_000, description: 'External ids of the member individuals' })),
  users: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { uniqueItems: true, maxItems: 10_000, description: 'Emails of the member users (the group’s leaders)' })),
}, { additionalProperties: false })

/** The whole file; every list optional. */
export const DirectoryFileSchema = Type.Object({
  organizations: Type.Optional(Type.Array(Type.Unknown())),
  individuals: Type.Optional(Type.Array(Type.Unknown())),
  users: Type.Optional(Type.Array(Type.Unknown())),
  groups: Type.Optional(Type.Array(Type.Unknown())),
}, { additionalProperties: false })

/** The published JSON Schema of the file (items spelled out). */
export const DirectoryFileJsonSchema = Type.Object({
  organizations: Type.Optional(Type.Array(DirectoryOrganization)),
  individuals: Type.Optional(Type.Array(DirectoryIndividual)),
  users: Type.Optional(Type.Array(DirectoryUser)),
  groups: Type.Optional(Type.Array(DirectoryGroup)),
}, { additionalProperties: false, $id: 'https://switchboard.local/schemas/directory.json', title: 'Switchboard directory file' })

export type DirectoryOrganizationItem = Static<typeof DirectoryOrganization>
export type DirectoryIndividualItem = Static<typeof DirectoryIndividual>
export type DirectoryUserItem = Static<typeof DirectoryUser>
export type DirectoryGroupItem = Static<typeof DirectoryGroup>

/** The CSV columns of individuals (the header names them; any order, unknown ones refused). */
export const INDIVIDUAL_COLUMNS = Object.keys(DirectoryIndividual.properties) as Array<keyof DirectoryIndividualItem>

const validators = new Map<TSchema, Validator>()
function check(schema: TSchema, value: unknown, base: string): string[] {
  let v = validators.get(schema)
  if (!v) {
    v = Compile(schema) as unknown as Validator
    validators.set(schema, v)
  }
  if (v.Check(value)) return []
  return [...new Set(schemaIssues(v, value).map((i) => describeIssue(base, i)))]
}

const birthDateOk = (d: string) => {
  const at = new Date(`${d}T00:00:00Z`)
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === d
}

/** An individual as the import writes it: normalised phone, nulls for what is left out. */
export interface NormalIndividual {
  readonly externalId: string
  readonly firstName: string | null
  readonly lastName: string | null
  readonly preferredName: string | null
  readonly birthDate: string | null
  readonly phone: string | null
  readonly accountType: string
  readonly organization: string | null
  readonly timezone: string | null
}

const orNull = (s: string | undefined) => (s === undefined || s.trim() === '' ? null : s.trim())

/** Check one individual (at `base`, e.g. `individuals[3]`); its problems, or the normalised row. */
export function checkIndividual(value: unknown, base: string): { ok: true; row: NormalIndividual } | { ok: false; problems: string[] } {
  const problems = check(DirectoryIndividual, value, base)
  if (problems.length > 0) return { ok: false, problems }
  const v = value as DirectoryIndividualItem
  const phoneRaw = orNull(v.phone)
  const phone = phoneRaw === null ? null : toE164(phoneRaw) ?? undefined
  if (phone === undefined) problems.push(`${base}.phone: not a phone number "${phoneRaw}"`)
  const birthDate = orNull(v.birth_date)
  if (birthDate !== null && !birthDateOk(birthDate)) problems.push(`${base}.birth_date: not a date "${birthDate}"`)
  const tz = orNull(v.timezone)
  if (tz !== null && !isTimeZone(tz)) problems.push(`${base}.timezone: unknown time zone "${tz}"`)
  if (problems.length > 0) return { ok: false, problems }
  return {
    ok: true,
    row: {
      externalId: v.external_id.trim(), firstName: orNull(v.first_name), lastName: orNull(v.last_name), preferredName: orNull(v.preferred_name),
      birthDate, phone: phone ?? null, accountType: orNull(v.account_type) ?? 'patient', organization: orNull(v.organization), timezone: tz,
    },
  }
}

/** Check a clinic, a user or a group at `base`; its problems (cross-references are checked on import). */
export function checkItem(kind: 'organizations' | 'users' | 'groups', value: unknown, base: string): string[] {
  const schema = kind === 'organizations' ? DirectoryOrganization : kind === 'users' ? DirectoryUser : DirectoryGroup
  const problems = check(schema, value, base)
  if (problems.length > 0) return problems
  if (kind === 'organizations') {
    const tz = (value as DirectoryOrganizationItem).timezone
    if (tz !== undefined && !isTimeZone(tz)) problems.push(`${base}.timezone: unknown time zone "${tz}"`)
  }
  if (kind === 'users') {
    const u = value as DirectoryUserItem
    if (u.tz !== undefined && u.tz !== '' && !isTimeZone(u.tz)) problems.push(`${base}.tz: unknown time zone "${u.tz}"`)
    if (u.phone !== undefined && u.phone !== '' && toE164(u.phone) === undefined) problems.push(`${base}.phone: not a phone number "${u.phone}"`)
  }
  return problems
}

/** Check the file's top level (which lists it has). */
export function checkFileShape(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['(document): must be an object (organizations, individuals, users, groups)']
  return check(DirectoryFileSchema, value, '')
}
