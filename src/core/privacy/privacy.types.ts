import { Type } from 'typebox'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema } from '../../lib/tenant-id.ts'

/** What `purge-data` (#86) can erase; the spec's only sample is `individual`. */
export const PURGE_ENTITY_TYPES = ['individual'] as const
export type PurgeEntityType = (typeof PURGE_ENTITY_TYPES)[number]

/** A purge request as the API takes it (camelCase). */
export interface PurgeInput {
  readonly entityType: string
  readonly entityId: string
  readonly requestId: string
  readonly referenceId?: string | undefined
  readonly archive?: boolean | undefined
}

/** Where a purge is: queued → running → completed (or failed after its retries). */
export type PurgeStatus = 'queued' | 'running' | 'completed' | 'failed'

/** The audit record of a purge: who asked, when, which entity, counts per kind erased — never content. */
export interface Purge {
  readonly id: string
  readonly requestId: string
  readonly referenceId: string | null
  readonly entityType: string
  readonly entityId: string
  readonly archive: boolean
  readonly requestedBy: string
  readonly status: PurgeStatus
  readonly counts: Readonly<Record<string, number>>
  readonly createdAt: Date
  readonly completedAt: Date | null
}

const PurgePayload = Type.Object({ tenantId: TenantIdSchema, purgeId: Type.String({ minLength: 36, maxLength: 36 }) }, { additionalProperties: false })

/** The job that erases (or archives) one purge's entity (handler in src/jobs/purge.job.ts). */
export const PURGE_JOB = { name: 'privacy.purge', payload: PurgePayload } as const satisfies JobType
