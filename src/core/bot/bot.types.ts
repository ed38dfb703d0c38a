import type { Channel } from '../delivery/index.ts'

/** What `BotService.ping` needs (the Cass `/ping_person` parameters, decoded). */
export interface PingInput {
  /** Cass person id: UUID or legacy integer. */
  readonly personRef: string
  readonly threadName: string
  /** Where the conversation continues when the thread finishes. */
  readonly nextThreadName?: string | undefined
  /** Sent instead of the thread's opening (its leading says and first question). */
  readonly messages?: readonly string[] | undefined
  /** `/v2` placeholders: key `appointment` fills `<<APPOINTMENT>>` (case-insensitive). */
  readonly placeholders?: Readonly<Record<string, string>> | undefined
  /** Continue into nextThreadName right after the opening, without waiting for an answer. */
  readonly autoNext?: boolean | undefined
  /**
   * Wait until the messages were handed to the provider (and fail with `delivery_failed` when the
   * provider refused them); false: queue them and return at once.
   */
  readonly wait: boolean
}

/** One message of a person's transcript, in or out, on any channel. */
export interface TranscriptEntry {
  readonly id: string
  /** Core person id. */
  readonly personId: string
  readonly direction: 'in' | 'out'
  readonly channel: string
  readonly text: string
  /** Bot messages only: the thread and step that sent it, or that the answer was for. */
  readonly threadName: string | null
  readonly step: number | null
  readonly conversationId: string | null
  readonly createdAt: Date
}

/** A person's conversation as the web chat needs it. */
export interface ConversationSummary {
  readonly id: string
  readonly personId: string
  readonly threadName: string
  readonly threadVersion: number
  readonly step: number
  readonly status: 'active' | 'ended' | 'replaced'
  readonly awaiting: 'none' | 'choice' | 'text'
  /** The quick replies of the question it waits on (choices' labels). */
  readonly quickReplies: readonly string[]
  readonly updatedAt: Date
}

/** How the bot reaches a person of a protocol: the delivery channel and the recipient. */
export interface BotAddress {
  readonly channel: Channel
  readonly to: string
}
