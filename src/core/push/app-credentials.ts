import { createPrivateKey, type KeyObject } from 'node:crypto'
import { sql, type Kysely, type Selectable } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { openSecret, sealSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { Organizations } from '../messaging/organizations.ts'
import type { Tenant } from '../tenants/index.ts'

type CredentialRow = Selectable<DB['msg_app_credentials']>

/** The app credential types (`spec/courier.md` §1.9). */
export const APP_CREDENTIAL_TYPES = ['apn', 'fcm'] as const
export type AppCredentialType = (typeof APP_CREDENTIAL_TYPES)[number]
/** How a sealed member is served. */
export const MASKED = '****'
const TEXT_MAX = 255

/** An app credential (#6–#9); its private key is never in it, only `MASKED` in its place. */
export interface AppCredential {
  readonly id: string
  readonly organizationId: string
  readonly type: AppCredentialType
  readonly appName: string
  readonly displayName: string
  readonly storeId: string
  readonly testMode: boolean
  readonly archived: boolean
  /** apn: `{key-id, team-id, p8: "****"}`; fcm: the service account with `private_key: "****"`. */
  readonly data: Record<string, unknown>
  readonly createdAt: Date
  readonly lastModifiedAt: Date
}

export interface CreateAppCredential {
  readonly organizationId: string
  readonly type: string
  readonly appName: string
  readonly displayName?: string | undefined
  readonly storeId?: string | undefined
  readonly testMode?: boolean | undefined
  readonly data: Record<string, unknown>
}

export type UpdateAppCredential = Partial<Omit<CreateAppCredential, 'type'>> & { readonly archived?: boolean | undefined }

/**
 * What a push needs to build the vendor's provider: APNs (`apn`) a token key for the bundle id
 * (`store-id`), FCM (`fcm`) a service account; the private key in clear.
 */
export type CredentialSecret =
  | { readonly type: 'apn'; readonly id: string; readonly keyId: string; readonly teamId: string; readonly bundleId: string; readonly privateKey: string; readonly testMode: boolean }
  | { readonly type: 'fcm'; readonly id: string; readonly serviceAccount: Record<string, unknown>; readonly projectId: string }

const at = (member: string) => ({ pointer: `/data/attributes/${member}` })
const bad = (why: string, member: string) => new ValidationError('invalid_app_credential', why, at(member))
const notFound = (id: string) => new NotFoundError('resource_not_found', `No app-credentials with id ${id}`, { type: 'app-credentials', id })
const context = (tenantId: TenantId, id: string) => `msg_app_credential:${tenantId}:${id}`
const APPLE_ID = /^[A-Z0-9]{10}$/

/**
 * App credentials: an organisation's push credentials for one of its apps. The key material is
 * checked when it is given (an APNs `.p8` must be Apple's EC P-256 key, an FCM service account
 * must carry an RSA private key, its client e-mail and project id), sealed under the master key
 * bound to the row, and served masked. Credentials are archived, never deleted; an archived one
 * is not used for pushes.
 */
export class AppCredentialsService {
  readonly #db: Kysely<DB>
  readonly #orgs: Organizations
  readonly #secretKey: Buffer

  constructor(deps: { db: Kysely<DB>; organizations: Organizations; secretKey: Buffer }) {
    this.#db = deps.db
    this.#orgs = deps.organizations
    this.#secretKey = deps.secretKey
  }

  /** #6: the tenant's credentials, oldest first (archived ones only with `includeArchived`). */
  async list(tenant: Tenant, q: { appName?: string; type?: string; includeArchived: boolean; limit: number; offset: number }): Promise<{ items: AppCredential[]; total: number }> {
    let query = this.#db.selectFrom('msg_app_credentials').where('tenant_id', '=', tenant.id)
    if (!q.includeArchived) query = query.where('archived', '=', false)
    if (q.appName !== undefined) query = query.where('app_name', '=', q.appName)
    if (q.type !== undefined) query = query.where('type', '=', q.type as AppCredentialType)
    const total = await query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset).execute()
    return { items: rows.map(present), total: Number(total.n) }
  }

  /** #8 */
  async get(tenant: Tenant, id: string): Promise<AppCredential> {
    return present(await this.#row(tenant.id, id))
  }

  /** #7: a new credential. ValidationError `invalid_app_credential` at the member at fault; nothing written then. */
  async create(tenant: Tenant, input: CreateAppCredential): Promise<AppCredential> {
    await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
    if (!(APP_CREDENTIAL_TYPES as readonly string[]).includes(input.type)) throw bad(`type must be one of ${APP_CREDENTIAL_TYPES.join(', ')}`, 'type')
    const type = input.type as AppCredentialType
    checkText(input.appName, 'app-name', 1)
    if (input.displayName !== undefined) checkText(input.displayName, 'display-name', 0)
    if (input.storeId !== undefined) checkText(input.storeId, 'store-id', 0)
    const storeId = input.storeId ?? ''
    if (type === 'apn' && storeId === '') throw bad('store-id is required for apn: the app\'s bundle id (the APNs topic)', 'store-id')
    const { publicData, secret } = checkData(type, input.data, undefined)
    const id = crypto.randomUUID()
    const row = await this.#db.insertInto('msg_app_credentials').values({
      id, tenant_id: tenant.id, organization_id: input.organizationId, type, app_name: input.appName, display_name: input.displayName ?? '',
      store_id: storeId, test_mode: input.testMode ?? false, data: JSON.stringify(publicData), secret_sealed: sealSecret(this.#secretKey, context(tenant.id, id), secret),
    }).returningAll().executeTakeFirstOrThrow()
    return present(row)
  }

  /**
   * #9: change any member but `type`; `archived: true` archives (false brings it back). `data`
   * members given replace the stored ones, those left out are kept; the private key may be left
   * out or given masked (`****`) to keep the stored one. The result is checked as at create.
   */
  async update(tenant: Tenant, id: string, input: UpdateAppCredential): Promise<AppCredential> {
    const row = await this.#row(tenant.id, id)
    const set: Record<string, unknown> = {}
    if (input.organizationId !== undefined) {
      await this.#orgs.find(tenant, input.organizationId, at('organization-id'))
      set.organization_id = input.organizationId
    }
    if (input.appName !== undefined) set.app_name = checkText(input.appName, 'app-name', 1)
    if (input.displayName !== undefined) set.display_name = checkText(input.displayName, 'display-name', 0)
    if (input.storeId !== undefined) {
      checkText(input.storeId, 'store-id', 0)
      if (row.type === 'apn' && input.storeId === '') throw bad('store-id is required for apn: the app\'s bundle id (the APNs topic)', 'store-id')
      set.store_id = input.storeId
    }
    if (input.testMode !== undefined) set.test_mode = input.testMode
    if (input.archived !== undefined) set.archived = input.archived
    if (input.data !== undefined) {
      const stored = this.#openSecret(row)
      // Members left out keep their stored values (so `data: {}` changes nothing).
      const { publicData, secret } = checkData(row.type, { ...row.data, ...input.data }, stored)
      set.data = JSON.stringify(publicData)
      if (secret !== stored) set.secret_sealed = sealSecret(this.#secretKey, context(tenant.id, id), secret)
    }
    const updated = await this.#db.updateTable('msg_app_credentials').set({ ...set, last_modified_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    return present(updated)
  }

  /**
   * The live (not archived) credential of `type` for the app `appName`, the last changed when
   * there are several, with its key in clear; undefined when there is none or its key cannot be
   * opened (another master key).
   */
  async forApp(tenantId: TenantId, type: AppCredentialType, appName: string): Promise<CredentialSecret | undefined> {
    const row = await this.#db.selectFrom('msg_app_credentials').selectAll().where('tenant_id', '=', tenantId).where('type', '=', type)
      .where('app_name', '=', appName).where('archived', '=', false).orderBy('last_modified_at', 'desc').orderBy('id').limit(1).executeTakeFirst()
    if (!row) return undefined
    const secret = this.#openSecret(row)
    if (secret === undefined) return undefined
    if (row.type === 'apn') {
      return { type: 'apn', id: row.id, keyId: String(row.data['key-id']), teamId: String(row.data['team-id']), bundleId: row.store_id, privateKey: secret, testMode: row.test_mode }
    }
    const serviceAccount = { ...row.data, private_key: secret }
    return { type: 'fcm', id: row.id, serviceAccount, projectId: String(row.data.project_id) }
  }

  async #row(tenantId: TenantId, id: string): Promise<CredentialRow> {
    const row = await this.#db.selectFrom('msg_app_credentials').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    return row
  }

  #openSecret(row: CredentialRow): string | undefined {
    try {
      return openSecret(this.#secretKey, context(row.tenant_id, row.id), row.secret_sealed, 'an app credential key')
    } catch {
      return undefined
    }
  }
}

function present(r: CredentialRow): AppCredential {
  const data = r.type === 'apn' ? { ...r.data, p8: MASKED } : { ...r.data, private_key: MASKED }
  return {
    id: r.id, organizationId: r.organization_id, type: r.type, appName: r.app_name, displayName: r.display_name, storeId: r.store_id,
    testMode: r.test_mode, archived: r.archived, data, createdAt: r.created_at, lastModifiedAt: r.last_modified_at,
  }
}

function checkText(value: string, member: string, min: number): string {
  if (value.length < min || value.length > TEXT_MAX || value.includes('\u0000')) throw bad(`${member} must be ${min} to ${TEXT_MAX} characters`, member)
  return value
}

function parseKey(pem: string, member: string, what: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    throw bad(`${member} is not ${what} (a PEM private key)`, member)
  }
}

/**
 * The public members of `data` and the private key, checked. apn: `{key-id, team-id, p8}` (Apple's
 * 10-character ids and the .p8 EC P-256 key); fcm: the service account JSON (`type:
 * service_account`, `project_id`, `client_email`, `private_key` RSA; `token_uri`, `private_key_id`
 * and the rest kept as given). The key may be left out or masked when `stored` is given (update).
 */
function checkData(type: AppCredentialType, data: Record<string, unknown>, stored: string | undefined): { publicData: Record<string, unknown>; secret: string } {
  const secretMember = type === 'apn' ? 'p8' : 'private_key'
  const given = data[secretMember]
  let secret: string
  if ((given === undefined || given === MASKED) && stored !== undefined) secret = stored
  else if (typeof given !== 'string' || given.length === 0 || given.length > 8192) {
    throw bad(type === 'apn' ? 'data.p8 is required: the .p8 token key Apple issued (PEM)' : 'data.private_key is required: the service account\'s private key (PEM)', `data/${secretMember}`)
  } else secret = given
  if (type === 'apn') {
    for (const key of Object.keys(data)) {
      if (!['key-id', 'team-id', 'p8'].includes(key)) throw bad('apn data takes key-id, team-id and p8 only', `data/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    }
    if (typeof data['key-id'] !== 'string' || !APPLE_ID.test(data['key-id'])) throw bad('data.key-id must be the 10-character key id Apple shows for the key', 'data/key-id')
    if (typeof data['team-id'] !== 'string' || !APPLE_ID.test(data['team-id'])) throw bad('data.team-id must be the 10-character Apple team id', 'data/team-id')
    const key = parseKey(secret, 'data/p8', 'a .p8 token key')
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw bad('data.p8 must be the EC P-256 token key Apple issued', 'data/p8')
    return { publicData: { 'key-id': data['key-id'], 'team-id': data['team-id'] }, secret }
  }
  if (data.type !== undefined && data.type !== 'service_account') throw bad('data must be a service account JSON (type service_account)', 'data/type')
  for (const member of ['project_id', 'client_email'] as const) {
    const v = data[member]
    if (typeof v !== 'string' || v.length === 0 || v.length > TEXT_MAX) throw bad(`data.${member} is required (the service account JSON)`, `data/${member}`)
  }
  if (data.token_uri !== undefined && (typeof data.token_uri !== 'string' || !/^https?:\/\/[^\s]+$/.test(data.token_uri) || data.token_uri.length > 2048)) {
    throw bad('data.token_uri must be an http(s) URL', 'data/token_uri')
  }
  const key = parseKey(secret, 'data/private_key', 'the service account\'s key')
  if (key.asymmetricKeyType !== 'rsa') throw bad('data.private_key must be the service account\'s RSA key', 'data/private_key')
  const publicData: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(data)) if (k !== 'private_key') publicData[k] = v
  return { publicData, secret }
}
