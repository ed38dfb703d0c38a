import { randomUUID } from 'node:crypto'
import type { IssuedCredentials, Tenant } from '../../src/core/tenants/index.ts'
import type { Services } from '../../src/services.ts'

export interface TestTenant {
  tenant: Tenant
  credentials: IssuedCredentials
  /** `Authorization` header value for the Cass surface. */
  cassAuth: string
  /** `Authorization` header value for the Apps API (`subdomain:api_token`). */
  ccaiAuth: string
}

/** A fresh tenant with a unique name, so tests never share data. */
export async function createTenant(services: Services, name = `Test ${randomUUID()}`): Promise<TestTenant> {
  const { tenant, credentials } = await services.tenants.create(name)
  const cassAuth = 'Basic ' + Buffer.from(`${credentials.cass.client}:${credentials.cass.token}`).toString('base64')
  const ccaiAuth = 'Basic ' + Buffer.from(`${credentials.ccai.subdomain}:${credentials.ccai.token}`).toString('base64')
  return { tenant, credentials, cassAuth, ccaiAuth }
}

let phoneCounter = Math.floor(Math.random() * 1_000_000)

/** A valid, unique US phone number in E.164 (area code 415, exchange 555-01xx style avoided). */
export function uniquePhone(): string {
  phoneCounter = (phoneCounter + 1) % 10_000_000
  return '+1415' + String(2000000 + (phoneCounter % 7_999_999)).padStart(7, '0')
}
