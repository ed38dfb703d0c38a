import type { TenantId } from '../../lib/tenant-id.ts'
import type { CcChannel, DeflectionOption, MenuType } from './setup.schema.ts'

/** The contact center's settings (from the setup file, defaults applied). */
export interface CcSettings {
  readonly timeZone: string
  readonly smsEnabled: boolean
  readonly outboundSmsEnabled: boolean
  readonly chatDismissalSeconds: number
  readonly offerTimeoutSeconds: number
  readonly wrapUpSeconds: number
  /** `queued`/`assigned` → `timeout` after this (§4.2, `chat_expiration_timeout`). */
  readonly chatExpirationSeconds: number
  readonly rateLimitPerSecond: number
  readonly webhookUrl: string | null
  /** How many webhook secrets are set (0–2); the secrets themselves never leave the service unsealed except to sign. */
  readonly webhookSecretCount: number
  /** C1/C2 answer 202 and wait for the agent to confirm (agent API) before dialling; cancelled after `outboundConfirmSeconds`. */
  readonly confirmOutboundCalls: boolean
  readonly outboundConfirmSeconds: number
}

/** A team of agents. `num` is its Apps API id. */
export interface Team {
  readonly id: string
  readonly num: number
  readonly name: string
}

/** How an agent status behaves: takes offers, is settable but takes none, or is set by the system. */
export type StatusKind = 'available' | 'away' | 'system'

export interface AgentStatus {
  readonly id: string
  readonly num: number
  readonly name: string
  readonly kind: StatusKind
}

/** An agent (an Apps API "user"), with the live state routing and the user filters read. */
export interface Agent {
  readonly id: string
  readonly tenantId: TenantId
  readonly num: number
  readonly email: string
  readonly firstName: string
  readonly lastName: string
  readonly agentNumber: string | null
  readonly location: string | null
  readonly roles: readonly string[]
  readonly permissions: readonly string[]
  readonly chatCapacity: number
  readonly phoneNumbers: readonly string[]
  readonly teams: readonly Team[]
  readonly deactivatedAt: Date | null
  readonly status: AgentStatus
  readonly statusUpdatedAt: Date
  readonly lastLoginAt: Date | null
  readonly loginIp: string | null
  readonly logoutPending: boolean
}

/** Behaviour of a leaf queue when closed or full, and its virtual agent, as declared. */
export interface MenuConfig {
  readonly hours?: {
    readonly time_zone?: string
    readonly weekly: ReadonlyArray<{ day: string; open: string; close: string }>
    readonly holidays?: ReadonlyArray<{ date: string; name: string; open?: string; close?: string }>
  }
  readonly after_hours?: { message?: string; deflection?: DeflectionOption[] }
  readonly over_capacity?: { max_queued?: number; max_wait?: string; message?: string; deflection?: DeflectionOption[] }
  readonly manual_redirection?: { enabled: boolean; message?: string }
  readonly virtual_agent?: { thread: string; name?: string }
}

/** A menu (queue) of the tree. Leaves are the queues sessions wait in. */
export interface Menu {
  readonly id: string
  readonly num: number
  readonly parentNum: number | null
  readonly menuType: MenuType
  readonly name: string
  /** Names from the root, joined by " / " (the Apps API's materialized_path). */
  readonly path: string
  readonly depth: number
  readonly position: number
  readonly leaf: boolean
  readonly hidden: boolean
  readonly outputMsg: string | null
  readonly channels: readonly CcChannel[]
  readonly languages: readonly string[]
  readonly priority: number
  readonly teamNums: readonly number[]
  readonly config: MenuConfig
  readonly deleted: boolean
}

export interface PhoneNumber {
  readonly number: string
  readonly sms: boolean
  readonly voice: boolean
  readonly us: boolean
}

/** What a load changed, and the passwords it generated for agents that had none (shown once). */
export interface SetupLoadResult {
  readonly version: number
  readonly teams: number
  readonly agents: number
  readonly menus: number
  readonly phoneNumbers: number
  readonly deactivatedAgents: number
  readonly generatedPasswords: ReadonlyArray<{ email: string; password: string }>
}
