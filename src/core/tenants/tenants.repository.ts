import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { CredentialKind, Surface, Tenant } from './tenants.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

type Executor = Kysely<DB> | Transaction<DB>

interface TenantWithClient {
  id: TenantId
  name: string
  embed_code: string
  created_at: Date
  cass_client: string | null
}

function toTenant(row: TenantWithClient): Tenant {
  return { id: row.id, name: row.name, embedCode: row.embed_code, cassClient: row.cass_client ?? row.name, createdAt: row.created_at }
}

/** Data access for tenants and their credentials. Tenants are the one table without `tenant_id`. */
export class TenantsRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  #selectTenants(db: Executor) {
    return db
      .selectFrom('tenants as t')
      .leftJoin('tenant_credentials as c', (j) =>
        j.onRef('c.tenant_id', '=', 't.id').on('c.surface', '=', 'cass').on('c.kind', '=', 'token').on('c.revoked_at', 'is', null))
      .select(['t.id', 't.name', 't.embed_code', 't.created_at', 'c.key as cass_client'])
  }

  async insertTenant(trx: Executor, name: string, embedCode: string): Promise<{ id: TenantId; created_at: Date }> {
    return trx.insertInto('tenants').values({ name, embed_code: embedCode }).returning(['id', 'created_at']).executeTakeFirstOrThrow()
  }

  /** A credential row; `secretSealed` only for a secret that must be recoverable. */
  async insertCredential(trx: Executor, tenantId: TenantId, surface: Surface, kind: CredentialKind, key: string, secretHash: string, secretSealed: string | null = null): Promise<void> {
    await trx.insertInto('tenant_credentials').values({ tenant_id: tenantId, surface, kind, key, secret_hash: secretHash, secret_sealed: secretSealed }).execute()
  }

  /** The tenant's active credential of this kind on a surface: its id, public key and sealed secret (null: only a hash). */
  async findActiveCredential(db: Executor, tenantId: TenantId, surface: Surface, kind: CredentialKind, forUpdate = false): Promise<{ id: string; key: string; secretSealed: string | null } | undefined> {
    let q = db.selectFrom('tenant_credentials').select(['id', 'key', 'secret_sealed'])
      .where('tenant_id', '=', tenantId).where('surface', '=', surface).where('kind', '=', kind).where('revoked_at', 'is', null)
    if (forUpdate) q = q.forUpdate()
    const row = await q.executeTakeFirst()
    return row ? { id: row.id, key: row.key, secretSealed: row.secret_sealed } : undefined
  }

  /** Replace the secret of one credential row of the tenant (hash and sealed value together). */
  async replaceSecret(trx: Executor, tenantId: TenantId, credentialId: string, secretHash: string, secretSealed: string | null): Promise<void> {
    await trx.updateTable('tenant_credentials').set({ secret_hash: secretHash, secret_sealed: secretSealed })
      .where('tenant_id', '=', tenantId).where('id', '=', credentialId).execute()
  }

  async findById(id: string): Promise<Tenant | undefined> {
    // Any string may be asked for (a job payload, a URL); a row found makes it a tenant id.
    const row = await this.#selectTenants(this.#db).where('t.id', '=', id as TenantId).executeTakeFirst()
    return row ? toTenant(row) : undefined
  }

  async findByName(name: string): Promise<Tenant | undefined> {
    const row = await this.#selectTenants(this.#db).where('t.name', '=', name).executeTakeFirst()
    return row ? toTenant(row) : undefined
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.#selectTenants(this.#db).orderBy('t.created_at').orderBy('t.name').execute()
    return rows.map(toTenant)
  }

  /** The active credential with this public key on a surface, and its tenant. */
  async findCredential(surface: Surface, kind: CredentialKind, key: string): Promise<{ tenant: Tenant; secretHash: string } | undefined> {
    const row = await this.#selectTenants(this.#db)
      .innerJoin('tenant_credentials as k', 'k.tenant_id', 't.id')
      .where('k.surface', '=', surface)
      .where('k.kind', '=', kind)
      .where('k.key', '=', key)
      .where('k.revoked_at', 'is', null)
      .select('k.secret_hash')
      .executeTakeFirst()
    return row ? { tenant: toTenant(row), secretHash: row.secret_hash } : undefined
  }

  /** The key of the live credential whose secret hashes to `secretHash` (keys that are the secret alone). */
  async findKeyByHash(surface: Surface, kind: CredentialKind, secretHash: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('tenant_credentials').select('key')
      .where('surface', '=', surface).where('kind', '=', kind).where('secret_hash', '=', secretHash).where('revoked_at', 'is', null)
      .executeTakeFirst()
    return row?.key
  }

  /** The tenant's name and its settings object, or undefined when it is gone. */
  async findSettings(id: TenantId): Promise<{ name: string; settings: Record<string, unknown> } | undefined> {
    return this.#db.selectFrom('tenants').select(['name', 'settings']).where('id', '=', id).executeTakeFirst()
  }

  /** Merge `patch` into the tenant's settings (a key set to null is removed); the settings after. */
  async mergeSettings(id: TenantId, patch: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const set: Record<string, unknown> = {}
    const unset: string[] = []
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) unset.push(k)
      else set[k] = v
    }
    const row = await this.#db.updateTable('tenants')
      .set({ settings: sql<string>`(settings - ${sql.val(unset)}::text[]) || ${JSON.stringify(set)}::jsonb` })
      .where('id', '=', id)
      .returning('settings')
      .executeTakeFirst()
    return row?.settings
  }

  async keyTaken(trx: Executor, surface: Surface, key: string): Promise<boolean> {
    const row = await trx.selectFrom('tenant_credentials').select('id').where('surface', '=', surface).where('key', '=', key).executeTakeFirst()
    return row !== undefined
  }
}
