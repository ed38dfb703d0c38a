import { Type } from 'typebox'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema } from '../../lib/tenant-id.ts'

/** Payload of `cc.force_logout`: which job (A2 over more than 100 agents) of which tenant to run. */
export const ForceLogoutPayload = Type.Object({ tenantId: TenantIdSchema, jobNum: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })

/** The contact center's background jobs; handlers in src/jobs, defined when the process is wired. */
export const FORCE_LOGOUT_JOB = { name: 'cc.force_logout', payload: ForceLogoutPayload } as const satisfies JobType
