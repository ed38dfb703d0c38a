import { CHANNELS, type Channel, type SuppressionReason } from '../delivery/index.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

export type { SuppressionReason }

/** Why an address is suppressed: a STOP reply, a do-not-contact list, a withdrawn consent, by hand. */
export const SUPPRESSION_REASONS = ['stop_keyword', 'dnc', 'consent_withdrawn', 'manual'] as const satisfies readonly SuppressionReason[]

/** Which sends an entry holds back: one channel's, or every channel's that reaches the address. */
export const SUPPRESSION_SCOPES = [...CHANNELS, 'all'] as const
export type SuppressionScope = Channel | 'all'

/** One entry of a tenant's suppression list. */
export interface Suppression {
  readonly id: string
  readonly tenantId: TenantId
  readonly scope: SuppressionScope
  /** E.164 phone, lower-cased e-mail address, or the channel's opaque address. */
  readonly address: string
  readonly reason: SuppressionReason
  /** What added it: `inbound:<message id>` (a STOP), `admin-api`, `cli`, a surface's name. */
  readonly source: string
  readonly createdAt: Date
  /** When it stops holding sends back; null: permanent. An expired entry is treated as absent. */
  readonly expiresAt: Date | null
}

/** What `SuppressionService.add` needs. `channel` is a synonym of `scope`. */
export interface AddSuppressionInput {
  readonly scope?: string | undefined
  readonly channel?: string | undefined
  readonly address: string
  readonly reason: string
  readonly source: string
  /** When the entry lapses (must be in the future); absent or null: permanent. */
  readonly expiresAt?: Date | null | undefined
}

/** Which entry `SuppressionService.remove` removes. */
export interface RemoveSuppressionInput {
  readonly scope?: string | undefined
  readonly channel?: string | undefined
  readonly address: string
  /** Only an entry with one of these reasons (START lifts the person's own opt-out, not a DNC). */
  readonly reasons?: readonly SuppressionReason[] | undefined
}

export interface ListSuppressionsOptions {
  readonly scope?: string | undefined
  readonly address?: string | undefined
  /** 1-1000; default 100. */
  readonly limit?: number | undefined
}
