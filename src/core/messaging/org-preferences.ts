import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { Tenant } from '../tenants/index.ts'
import { ValidationError } from '../errors.ts'
import type { Organizations } from './organizations.ts'

/** The preferences an organisation has (`spec/courier.md` §1.9, #82). */
export const ORG_PREFERENCE_NAMES = ['default-channel-title', 'group-provider-ack', 'initial-sms-message'] as const
export type OrgPreferenceName = (typeof ORG_PREFERENCE_NAMES)[number]
export const ORG_PREFERENCE_TYPES = ['string', 'json'] as const
export type OrgPreferenceType = (typeof ORG_PREFERENCE_TYPES)[number]

/**
 * What a preference is until it is set (README "Messaging: decisions"): a channel's title falls back
 * to its participants' names, provider messages in group channels are not acknowledged for the
 * group, and the first SMS of a channel says who writes and how to answer.
 */
export const ORG_PREFERENCE_DEFAULTS: Readonly<Record<OrgPreferenceName, string>> = {
  'default-channel-title': '',
  'group-provider-ack': 'false',
  'initial-sms-message': 'You have a new secure message from your care team. Reply to this text to answer.',
}

/** A preference of an organisation: set (`explicit`) or its default. */
export interface OrgPreference {
  readonly id: string
  readonly organizationId: string
  readonly name: OrgPreferenceName
  readonly type: OrgPreferenceType
  readonly value: string | null
  readonly valueJs: Record<string, unknown> | null
  readonly explicit: boolean
  readonly createdAt: Date | null
}

/** A preference to set (#83). */
export interface SetOrgPreference {
  readonly organizationId: string
  readonly name: OrgPreferenceName
  readonly type?: OrgPreferenceType
  readonly value?: string | null
  readonly valueJs?: Record<string, unknown> | null
}

/** The stable id of a preference not set yet: the same on every read, and the row's once it is set. */
function defaultId(organizationId: string, name: string): string {
  const h = createHash('sha256').update(`org-preference\u0000${organizationId}\u0000${name}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** Organisation preferences: read with defaults filled in, set by name (a second set replaces). */
export class OrgPreferences {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations

  constructor(db: Kysely<DB>, orgs: Organizations) {
    this.#db = db
    this.#orgs = orgs
  }

  /** Every preference of the organisation (set ones and defaults), in name order; `names` narrows. */
  async list(tenant: Tenant, organizationId: string, names?: readonly OrgPreferenceName[]): Promise<OrgPreference[]> {
    await this.#orgs.find(tenant, organizationId, { parameter: 'organization-id' })
    const rows = await this.#db.selectFrom('msg_org_preferences').selectAll()
      .where('tenant_id', '=', tenant.id).where('organization_id', '=', organizationId).execute()
    return ORG_PREFERENCE_NAMES.filter((n) => !names || names.includes(n)).map((name): OrgPreference => {
      const row = rows.find((r) => r.name === name)
      if (!row) return { id: defaultId(organizationId, name), organizationId, name, type: 'string', value: ORG_PREFERENCE_DEFAULTS[name], valueJs: null, explicit: false, createdAt: null }
      return { id: row.id, organizationId, name, type: row.type as OrgPreferenceType, value: row.value, valueJs: row.value_js, explicit: true, createdAt: row.created_at }
    })
  }

  /**
   * Set a preference (#83). `json` takes its value in `valueJs` (an object), `string` in `value`.
   * Throws ValidationError `invalid_preference`, NotFoundError `resource_not_found` for another
   * tenant's organisation.
   */
  async set(tenant: Tenant, input: SetOrgPreference): Promise<OrgPreference> {
    await this.#orgs.find(tenant, input.organizationId, { pointer: '/data/attributes/organization-id' })
    const type = input.type ?? (input.valueJs != null && input.value == null ? 'json' : 'string')
    if (type === 'json' && (input.valueJs === undefined || input.valueJs === null)) {
      throw new ValidationError('invalid_preference', 'a json preference needs value-js', { pointer: '/data/attributes/value-js' })
    }
    if (type === 'string' && (input.value === undefined || input.value === null)) {
      throw new ValidationError('invalid_preference', 'a string preference needs value', { pointer: '/data/attributes/value' })
    }
    const id = defaultId(input.organizationId, input.name)
    const valueJs = input.valueJs == null ? null : JSON.stringify(input.valueJs)
    const row = await this.#db.insertInto('msg_org_preferences')
      .values({ id, tenant_id: tenant.id, organization_id: input.organizationId, name: input.name, type, value: input.value ?? null, value_js: valueJs })
      .onConflict((oc) => oc.columns(['tenant_id', 'organization_id', 'name']).doUpdateSet({ type, value: input.value ?? null, value_js: valueJs, updated_at: sql`now()` }))
      .returningAll().executeTakeFirstOrThrow()
    return { id: row.id, organizationId: row.organization_id, name: input.name, type, value: row.value, valueJs: row.value_js, explicit: true, createdAt: row.created_at }
  }
}
