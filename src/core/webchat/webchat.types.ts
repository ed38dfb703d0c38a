/** One message of a person's web chat, as the chat page shows it. */
export interface WebchatMessage {
  /** The inbound message id of what the person wrote, the outbox message id of the bot's answer. */
  readonly id: string
  /** Position in the person's chat: the live stream's event id, and the cursor to resume after. */
  readonly cursor: string
  /** `in`: the person wrote it; `out`: the bot sent it. */
  readonly direction: 'in' | 'out'
  readonly text: string
  /** The answers the bot offers as buttons (an `ask` step's choices); empty otherwise. */
  readonly quickReplies: readonly string[]
  readonly createdAt: Date
  /** The person's message is stored but the bot has not taken it yet (history only). */
  readonly pending: boolean
}

/** The person behind a web chat session. */
export interface WebchatPerson {
  /** Core person id. */
  readonly id: string
  /** Cass person id (UUID): what `personId` of the embed URL names. */
  readonly cassId: string
  readonly protocol: string
}

/** A started web chat session. */
export interface WebchatSession {
  readonly person: WebchatPerson
  /** Signed session token (HMAC under the server's secret key); the page keeps it across reloads. */
  readonly token: string
  /** No `personId` was given: the person was created (or remembered) anonymously. */
  readonly anonymous: boolean
  /** A person created by this call (anonymous sessions only). */
  readonly created: boolean
  /** The session started a thread (the embed's `threadId`, or the tenant's default thread). */
  readonly startedThread: string | null
}

/** The chat so far: the newest messages, oldest first, and the cursor the live stream resumes after. */
export interface WebchatHistory {
  readonly messages: readonly WebchatMessage[]
  readonly cursor: string
}

/** A live subscription to a person's chat; `close` ends it. */
export interface WebchatSubscription {
  close(): void
}
