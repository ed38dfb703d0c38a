import type { TenantId } from '../../lib/tenant-id.ts'

/** What a console user may do: owners and admins manage users; the others see their own work. */
export const CONSOLE_ROLES = ['owner', 'admin', 'supervisor', 'agent', 'clinician'] as const
export type ConsoleRole = (typeof CONSOLE_ROLES)[number]

/** A person who signs in to the web console of one tenant. */
export interface ConsoleUser {
  readonly id: string
  readonly tenantId: TenantId
  readonly email: string
  readonly name: string | null
  readonly role: ConsoleRole
  readonly createdAt: Date
}

/** A signed-in browser: its user, and the tenant's name for the header. */
export interface ConsoleSession {
  readonly id: string
  readonly user: ConsoleUser
  readonly tenantName: string
  readonly expiresAt: Date
}

/** A new console user; without `password`, one is generated and returned once. */
export interface CreateConsoleUserInput {
  email: string
  role: string
  name?: string | undefined
  password?: string | undefined
  /** The user who created this one (null: the command line or `tenant create`). */
  createdBy?: string | null | undefined
}
