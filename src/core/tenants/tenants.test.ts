import { randomBytes, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestStore } from '../../../test/helpers/store.ts'
import { eventually } from '../../../test/helpers/wait.ts'
import type { Store } from '../../db/store.ts'
import { hashSecret, randomSecret, SealedSecretError } from '../../lib/secrets.ts'
import { AuthError, ValidationError } from '../errors.ts'
import { TenantsService } from './tenants.service.ts'
import type { IssuedCredentials, Tenant, TenantId } from './tenants.types.ts'

// The contact-center company secret is kept sealed under the master key (HS256 verification needs
// it), while authentication keeps comparing hashes.
let store: Store
let tenants: TenantsService
const masterKey = randomBytes(32)

beforeAll(async () => {
  store = await openTestStore()
  tenants = new TenantsService(store.db, masterKey)
})
afterAll(async () => store?.close())

async function newTenant(service = tenants): Promise<{ tenant: Tenant; credentials: IssuedCredentials }> {
  return service.create(`Secrets ${randomUUID()}`)
}

/** Every text column of every credential row of the tenant, joined: what a database dump holds. */
async function dumpCredentials(tenantId: TenantId): Promise<string> {
  const rows = await sql<{ row: string }>`SELECT c::text AS row FROM tenant_credentials c WHERE tenant_id = ${tenantId}`.execute(store.db)
  expect(rows.rows.length).toBe(4)
  return rows.rows.map((r) => r.row).join('\n')
}

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)

describe('company secret, sealed', () => {
  it('a new tenant’s secret is recoverable and authenticates; the database holds no secret in the clear', async () => {
    const { tenant, credentials } = await newTenant()
    const secret = credentials.ccai.company_secret
    expect(await tenants.companySecret(tenant.id)).toBe(secret)
    await expect(tenants.authenticate('ccai', 'company_secret', credentials.ccai.subdomain, secret)).resolves.toMatchObject({ id: tenant.id })

    const dump = await dumpCredentials(tenant.id)
    for (const plain of [secret, credentials.ccai.token, credentials.cass.token, credentials.courier.api_key]) expect(dump).not.toContain(plain)
    expect(dump).toContain(hashSecret(secret))
    // Only the company secret is sealed; tokens stay hash-only.
    const sealed = await store.db.selectFrom('tenant_credentials').select(['kind', 'secret_sealed']).where('tenant_id', '=', tenant.id).execute()
    expect(sealed.filter((r) => r.secret_sealed !== null).map((r) => r.kind)).toEqual(['company_secret'])
  })

  it('an old-style row (hash only) gives null and still authenticates', async () => {
    const secret = randomSecret()
    const subdomain = `old-${randomUUID()}`
    const row = await store.db.insertInto('tenants').values({ name: `Old ${randomUUID()}`, embed_code: randomSecret(15) }).returning('id').executeTakeFirstOrThrow()
    await store.db.insertInto('tenant_credentials')
      .values({ tenant_id: row.id, surface: 'ccai', kind: 'company_secret', key: subdomain, secret_hash: hashSecret(secret) }).execute()
    expect(await tenants.companySecret(row.id)).toBeNull()
    await expect(tenants.authenticate('ccai', 'company_secret', subdomain, secret)).resolves.toMatchObject({ id: row.id })

    // Rotation gives such a tenant a recoverable secret.
    const rotated = await tenants.rotateCompanySecret(row.id)
    expect(rotated.subdomain).toBe(subdomain)
    expect(await tenants.companySecret(row.id)).toBe(rotated.companySecret)
  })

  it('rotation: the new secret authenticates and is recoverable, the old one is refused at once, here and by a fresh process', async () => {
    const { tenant, credentials } = await newTenant()
    const { subdomain, company_secret: old } = credentials.ccai
    // Warm both caches with the old secret, as a busy server would have them.
    await tenants.authenticate('ccai', 'company_secret', subdomain, old)
    expect(tenants.authenticateCached('ccai', 'company_secret', subdomain, old)).toMatchObject({ id: tenant.id })

    const rotated = await tenants.rotateCompanySecret(tenant.id)
    expect(rotated.subdomain).toBe(subdomain)
    expect(rotated.companySecret).not.toBe(old)
    expect(tenants.authenticateCached('ccai', 'company_secret', subdomain, old)).toBeUndefined()
    const other = new TenantsService(store.db, masterKey)
    for (const service of [tenants, other]) {
      const err = await refusal(service.authenticate('ccai', 'company_secret', subdomain, old))
      expect(err).toBeInstanceOf(AuthError)
      expect((err as AuthError).code).toBe('bad_secret')
      await expect(service.authenticate('ccai', 'company_secret', subdomain, rotated.companySecret)).resolves.toMatchObject({ id: tenant.id })
      expect(await service.companySecret(tenant.id)).toBe(rotated.companySecret)
    }
    // The other credentials are untouched.
    await expect(tenants.authenticate('ccai', 'token', subdomain, credentials.ccai.token)).resolves.toMatchObject({ id: tenant.id })
    const dump = await dumpCredentials(tenant.id)
    expect(dump).not.toContain(rotated.companySecret)
    expect(dump).not.toContain(old)
  })

  it('a rotation in another process is announced: this process refuses the old secret well before its cache expires', async () => {
    const server = new TenantsService(store.db, masterKey, store.notifier)
    const cli = new TenantsService(store.db, masterKey, store.notifier)
    const { tenant, credentials } = await newTenant(server)
    const { subdomain, company_secret: old } = credentials.ccai
    await server.authenticate('ccai', 'company_secret', subdomain, old)
    const rotated = await cli.rotateCompanySecret(tenant.id)
    // The new secret works at once (a refused secret is checked against the database) ...
    await expect(server.authenticate('ccai', 'company_secret', subdomain, rotated.companySecret)).resolves.toMatchObject({ id: tenant.id })
    // ... and the old one stops when the change notification arrives, not after the 5 s cache.
    const started = Date.now()
    const oldRefused = () => server.authenticate('ccai', 'company_secret', subdomain, old).then(() => false, (e: { code?: string }) => e.code === 'bad_secret')
    expect(await eventually(oldRefused, (v) => v, 2_000)).toBe(true)
    expect(Date.now() - started).toBeLessThan(2_500)
  })

  it('two rotations at once leave exactly one of the two secrets valid, and it is the recoverable one', async () => {
    const { tenant, credentials } = await newTenant()
    const [a, b] = await Promise.all([tenants.rotateCompanySecret(tenant.id), tenants.rotateCompanySecret(tenant.id)])
    const fresh = new TenantsService(store.db, masterKey)
    const valid: string[] = []
    for (const s of [a.companySecret, b.companySecret]) {
      if (await fresh.authenticate('ccai', 'company_secret', credentials.ccai.subdomain, s).then(() => true, () => false)) valid.push(s)
    }
    expect(valid).toHaveLength(1)
    expect(await fresh.companySecret(tenant.id)).toBe(valid[0])
  })

  it('rotating a tenant without a company secret is refused and changes nothing', async () => {
    const err = await refusal(tenants.rotateCompanySecret(randomUUID() as TenantId))
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).code).toBe('tenant_not_found')
    expect(await tenants.companySecret(randomUUID() as TenantId)).toBeNull()
  })

  it('another master key: reading the secret fails clearly (SealedSecretError naming the key), authentication is unaffected, rotation recovers', async () => {
    const { tenant, credentials } = await newTenant()
    const wrong = new TenantsService(store.db, randomBytes(32))
    const err = await refusal(wrong.companySecret(tenant.id))
    expect(err).toBeInstanceOf(SealedSecretError)
    expect((err as Error).message).toBe(`the company secret of tenant ${tenant.id} cannot be decrypted (was SWITCHBOARD_SECRET_KEY changed?)`)
    expect((err as Error).message).not.toContain(credentials.ccai.company_secret)
    // The hash decides authentication, so clients are not turned away by the operator's key problem.
    await expect(wrong.authenticate('ccai', 'company_secret', credentials.ccai.subdomain, credentials.ccai.company_secret)).resolves.toMatchObject({ id: tenant.id })
    // Rotating under the current key makes the secret readable again (the way out of a lost key).
    const rotated = await wrong.rotateCompanySecret(tenant.id)
    expect(await wrong.companySecret(tenant.id)).toBe(rotated.companySecret)
    expect(await refusal(tenants.companySecret(tenant.id))).toBeInstanceOf(SealedSecretError)
  })

  it('a sealed value copied onto another tenant’s row does not open as theirs', async () => {
    const a = await newTenant()
    const b = await newTenant()
    const sealedA = await store.db.selectFrom('tenant_credentials').select('secret_sealed')
      .where('tenant_id', '=', a.tenant.id).where('kind', '=', 'company_secret').executeTakeFirstOrThrow()
    await store.db.updateTable('tenant_credentials').set({ secret_sealed: sealedA.secret_sealed })
      .where('tenant_id', '=', b.tenant.id).where('kind', '=', 'company_secret').execute()
    const err = await refusal(tenants.companySecret(b.tenant.id))
    expect(err).toBeInstanceOf(SealedSecretError)
    expect((err as Error).message).toMatch(/sealed for another tenant or purpose/)
  })

  it('the database refuses a plaintext value in secret_sealed', async () => {
    const { tenant, credentials } = await newTenant()
    await expect(store.db.updateTable('tenant_credentials').set({ secret_sealed: credentials.ccai.company_secret })
      .where('tenant_id', '=', tenant.id).where('kind', '=', 'company_secret').execute()).rejects.toThrow(/tenant_credentials_secret_sealed_shape|check/)
    expect(await tenants.companySecret(tenant.id)).toBe(credentials.ccai.company_secret)
  })
})
