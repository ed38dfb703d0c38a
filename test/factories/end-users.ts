import type { TenantId } from '../../src/lib/tenant-id.ts'
import type { Services } from '../../src/services.ts'

/**
 * The Apps API id of the tenant's end user `visitor-<key>` (E1: made on first use, the same one
 * after): chats start only for end users the tenant knows (H12).
 */
export async function endUserNum(services: Services, tenantId: TenantId, key: number | string): Promise<number> {
  return (await services.endUsers.upsert(tenantId, { identifier: `visitor-${key}` })).num
}
