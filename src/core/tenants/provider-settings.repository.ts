import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** One stored row: the vendor in the clear (for listing), the options sealed. */
export interface ProviderSettingsRow {
  channel: string
  vendor: string
  sealed: string
  updatedAt: Date
}

/** Data access for `tenant_provider_settings`; every method takes the tenant first. */
export class ProviderSettingsRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async upsert(tenantId: TenantId, channel: string, vendor: string, sealed: string): Promise<ProviderSettingsRow> {
    const row = await this.#db.insertInto('tenant_provider_settings')
      .values({ tenant_id: tenantId, channel, vendor, sealed_settings: sealed })
      .onConflict((oc) => oc.columns(['tenant_id', 'channel']).doUpdateSet({ vendor, sealed_settings: sealed, updated_at: new Date() }))
      .returning(['channel', 'vendor', 'sealed_settings', 'updated_at'])
      .executeTakeFirstOrThrow()
    return { channel: row.channel, vendor: row.vendor, sealed: row.sealed_settings, updatedAt: row.updated_at }
  }

  async find(tenantId: TenantId, channel: string): Promise<ProviderSettingsRow | undefined> {
    const row = await this.#db.selectFrom('tenant_provider_settings').select(['channel', 'vendor', 'sealed_settings', 'updated_at'])
      .where('tenant_id', '=', tenantId).where('channel', '=', channel).executeTakeFirst()
    return row ? { channel: row.channel, vendor: row.vendor, sealed: row.sealed_settings, updatedAt: row.updated_at } : undefined
  }

  async list(tenantId: TenantId): Promise<ProviderSettingsRow[]> {
    const rows = await this.#db.selectFrom('tenant_provider_settings').select(['channel', 'vendor', 'sealed_settings', 'updated_at'])
      .where('tenant_id', '=', tenantId).execute()
    return rows.map((row) => ({ channel: row.channel, vendor: row.vendor, sealed: row.sealed_settings, updatedAt: row.updated_at }))
  }

  async delete(tenantId: TenantId, channel: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('tenant_provider_settings').where('tenant_id', '=', tenantId).where('channel', '=', channel).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
