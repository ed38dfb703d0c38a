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
  /** The agent API token of a contact-center agent's session (role `agent`, signed in with their agent credentials); null otherwise. */
  readonly agentToken: string | null
}

/**
 * What the console needs of the contact center to sign an agent in with their agent credentials
 * (the agents service): the agent API's own sign-in, and its sign-out when the console session ends.
 */
export interface AgentSignIn {
  signIn(email: string, password: string, ip: string | null, company?: string): Promise<{ token: string; agent: { tenantId: TenantId; email: string; firstName: string; lastName: string } }>
  signOutToken(token: string): Promise<void>
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
