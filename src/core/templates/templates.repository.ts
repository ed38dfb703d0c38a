import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { TemplateDefinition, TemplatesDocument } from './templates.types.ts'

/** A connection or a transaction: reads take either. */
export type Executor = Kysely<DB> | Transaction<DB>

/** Data access for a tenant's templates: the loaded versions, and the current templates by id. */
export class TemplatesRepository {
  readonly #db: Kysely<DB>
  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  /** The tenant's current version number; 0 when nothing was loaded. */
  async currentVersion(db: Executor, tenantId: TenantId): Promise<number> {
    const row = await db.selectFrom('template_versions').select(sql<number>`max(version)`.as('v')).where('tenant_id', '=', tenantId).executeTakeFirst()
    return row?.v ?? 0
  }

  /** The file of a version as it was loaded. */
  async findVersion(tenantId: TenantId, version: number, db: Executor = this.#db): Promise<{ source: string; format: 'yaml' | 'json'; createdAt: Date } | undefined> {
    const row = await db.selectFrom('template_versions').select(['source', 'format', 'created_at'])
      .where('tenant_id', '=', tenantId).where('version', '=', version).executeTakeFirst()
    return row ? { source: row.source, format: row.format, createdAt: row.created_at } : undefined
  }

  /** One current template and the version it comes from. */
  async findTemplate(db: Executor, tenantId: TenantId, templateId: string): Promise<{ definition: TemplateDefinition; version: number } | undefined> {
    const row = await db.selectFrom('templates').select(['definition', 'version']).where('tenant_id', '=', tenantId).where('template_id', '=', templateId).executeTakeFirst()
    return row ? { definition: row.definition as unknown as TemplateDefinition, version: row.version } : undefined
  }

  /**
   * Store a new version (the next number) and make it current: the tenant's `templates` rows are
   * replaced by its templates. Serialised per tenant by a transaction-scoped advisory lock.
   */
  async insertVersion(trx: Transaction<DB>, tenantId: TenantId, document: TemplatesDocument, source: string, format: 'yaml' | 'json'): Promise<number> {
    await sql`SELECT pg_advisory_xact_lock(hashtext('templates:' || ${tenantId}))`.execute(trx)
    const version = (await this.currentVersion(trx, tenantId)) + 1
    await trx.insertInto('template_versions').values({ tenant_id: tenantId, version, document: JSON.stringify(document), source, format }).execute()
    await trx.deleteFrom('templates').where('tenant_id', '=', tenantId).execute()
    const rows = Object.entries(document.templates).map(([id, t]) => ({ tenant_id: tenantId, template_id: id, definition: JSON.stringify(t), version }))
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('templates').values(rows.slice(i, i + 200)).execute()
    return version
  }
}
