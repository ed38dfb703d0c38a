import type { TenantId } from '../../lib/tenant-id.ts'
import type { CcChannel } from './setup.schema.ts'

/**
 * What the sessions of one queue and channel say right now: the inputs of the wait estimate that
 * come from chats and calls rather than from the setup file and the agents' statuses.
 */
export interface ChannelLoad {
  /** Sessions waiting in the queue on this channel. */
  readonly queued: number
  /** Average handle time of the queue's recent sessions on this channel; null when there are none. */
  readonly ahtSeconds: number | null
  /** Sessions arriving per hour (the Erlang C forecast of Q1 `scheduled_callback_ewt`); 0 when left out. */
  readonly arrivalsPerHour?: number
  /** Callbacks already booked in the 15-minute slot starting at `slotStart` (Q1 `scheduled_calls`); 0 when left out. */
  readonly scheduledCallbacks?: (slotStart: Date) => number
}

/** The load of one queue, per channel; a channel left out has no sessions (queued 0, AHT null). */
export type QueueChannelLoads = Partial<Record<CcChannel, ChannelLoad>>

/** What an agent is handling right now. */
export interface AgentLoad {
  /** Chats assigned to the agent plus chat offers pending with it. */
  readonly chats: number
  /** Calls assigned to the agent plus call offers pending with it. */
  readonly calls: number
  /**
   * Whether the agent takes offers now: it chose an available status, even while the system shows
   * a busy one (In-chat with chat capacity left). Left out: its current status decides (kind `available`).
   */
  readonly takesOffers?: boolean
}

/**
 * The port through which the queue status (W1, Q1, O1) reads live sessions: queue lengths, handle
 * times and callbacks per queue (keyed by menu id, the uuid), and each agent's sessions (keyed by
 * agent id). The chats and calls domains implement it; `NO_QUEUE_LOAD` stands in until they do.
 */
export interface QueueLoad {
  load(tenantId: TenantId, menuIds: readonly string[]): Promise<Map<string, QueueChannelLoads>>
  agents(tenantId: TenantId, agentIds: readonly string[]): Promise<Map<string, AgentLoad>>
}

/**
 * A QueueLoad that reads nothing: every queue empty with no handle-time history (the default AHT
 * applies), every agent without sessions. The default of QueuesService until the real sessions
 * are wired in (`QueuesService.useLoad`); it makes estimates from agents' statuses alone.
 */
export const NO_QUEUE_LOAD: QueueLoad = {
  load: async () => new Map(),
  agents: async () => new Map(),
}
