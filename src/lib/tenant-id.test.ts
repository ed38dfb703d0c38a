import { Kysely } from 'kysely'
import { Compile } from 'typebox/compile'
import { expect, it } from 'vitest'
import type { DB } from '../db/schema.ts'
import { asTenantId, TenantIdSchema, type TenantId } from './tenant-id.ts'

// The brand exists only for the compiler: `npm run typecheck` fails if an `@ts-expect-error` below
// stops being an error, i.e. if a plain string would again pass for a tenant id.
it('a plain string does not pass for a tenant id in a repository call or a query (checked by tsc)', () => {
  const scoped = (tenantId: TenantId, personId: string) => `${tenantId}/${personId}`
  const plain: string = '00000000-0000-4000-8000-000000000000'
  // @ts-expect-error a person id (any plain string) is not a tenant id
  expect(scoped(plain, 'p')).toBe(`${plain}/p`)
  expect(scoped(asTenantId(plain), 'p')).toBe(`${plain}/p`)

  const db = null as unknown as Kysely<DB>
  const query = () => db.selectFrom('people').selectAll()
    // @ts-expect-error tenant_id columns take a TenantId
    .where('tenant_id', '=', plain)
  expect(typeof query).toBe('function')
})

it('the payload schema of a tenant id accepts a UUID and refuses anything else', () => {
  const check = Compile(TenantIdSchema)
  expect(check.Check('0b7c1e2a-8d4f-4e6b-9a0c-1d2e3f405060')).toBe(true)
  expect(check.Check('tenant-1')).toBe(false)
  expect(check.Check(42)).toBe(false)
})
