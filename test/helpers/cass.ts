import { sql } from 'kysely'
import type { Person } from '../../src/core/people/index.ts'
import type { TestTenant } from '../factories/tenants.ts'
import type { TestApp } from './app.ts'
import type { TenantId } from '../../src/lib/tenant-id.ts'

/** `Authorization: Basic base64(client:token)`. */
export function basicAuth(client: string, token: string): string {
  return 'Basic ' + Buffer.from(`${client}:${token}`).toString('base64')
}

/** `client=…&auth=…` for the legacy URL-parameter authentication. */
export function credentialsQuery(t: TestTenant): string {
  return `client=${encodeURIComponent(t.credentials.cass.client)}&auth=${encodeURIComponent(t.credentials.cass.token)}`
}

/** The exact bytes of a JSON body with keys in the given order, as the contract lists them. */
export function wire(body: Record<string, unknown>): string {
  return JSON.stringify(body)
}

/** How many people the tenant has, straight from the database. */
export async function countPeople(app: TestApp, tenantId: string): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*) AS n FROM people WHERE tenant_id = ${tenantId}`.execute(app.store.db)
  return Number(r.rows[0]?.n ?? 0)
}

/** The tenant's people rows (for checks the API cannot show, such as what was stored verbatim). */
export async function peopleRows(app: TestApp, tenantId: TenantId) {
  return app.store.db.selectFrom('people').selectAll().where('tenant_id', '=', tenantId).execute()
}

/**
 * Give the tenant a bot thread named `name` (one `say` step), loaded as a new content version that
 * keeps the tenant's other current threads.
 */
export async function addThread(app: TestApp, tenantId: TenantId, name: string, steps: unknown[] = [{ say: `This is ${name}.` }]): Promise<void> {
  const current = await app.services.threads.current({ id: tenantId })
  const document = { ...current.document, threads: { ...current.document.threads, [name]: { steps } } }
  await app.services.threads.load({ id: tenantId }, JSON.stringify(document), 'json')
}

/** A person of the tenant made through the core service (test setup, not the thing under test). */
export async function seedPerson(app: TestApp, t: TestTenant, fields: { phone?: string; externalId?: string; protocol?: string; firstName?: string } = {}): Promise<Person> {
  const { person } = await app.services.people.create(t.tenant, fields)
  return person
}
