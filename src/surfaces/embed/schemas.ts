import { Type, type Static } from 'typebox'
import { MAX_HISTORY, MAX_WEBCHAT_TEXT } from '../../core/webchat/index.ts'
import { NO_NUL } from '../../http/validation.ts'

const Flag = (description: string) => Type.String({ pattern: '^(|true|false|1|0|yes|no|True|False|TRUE|FALSE)$', description })
const Optional = Type.Optional

/** `/embed/1/{company}`. */
export const CompanyParams = Type.Object({
  company: Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'The tenant’s Cass client name' }),
})
export type CompanyParams = Static<typeof CompanyParams>

/** The chat page's parameters (Cass "Web embed and popup"). Unknown parameters are ignored. */
export const PageQuery = Type.Object({
  auth_code: Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'The tenant’s public embed code (not its API token)' }),
  name: Optional(Type.String({ maxLength: 60, description: 'Bot name shown in the header (default "Assistant")' })),
  color: Optional(Type.String({ pattern: '^([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})?$', description: 'Brand colour, hex without `#` (3 or 6 digits); text on it is black or white, whichever contrasts more' })),
  avatar: Optional(Type.String({ maxLength: 2000, description: 'Bot avatar URL (http or https); default the bot avatar served at /embed/assets/avatar.svg' })),
  intro: Optional(Type.String({ maxLength: 1000, description: 'Short intro text shown above the conversation' })),
  threadId: Optional(Type.String({ maxLength: 100, pattern: NO_NUL, description: 'Initial thread for a person who never talked with the bot (default: the tenant’s default thread)' })),
  personId: Optional(Type.String({ maxLength: 100, pattern: NO_NUL, description: 'Cass person id (UUID or legacy integer) of an identified person; without it the chat is anonymous' })),
  is_rounded: Optional(Flag('Round corners (default true)')),
  show_header: Optional(Flag('Show the header with the bot’s name and avatar (default true)')),
  popup: Optional(Flag('Set by popup.js: the page runs in the popup and shows a close button')),
}, { additionalProperties: true })
export type PageQuery = Static<typeof PageQuery>

const AuthCode = Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'The tenant’s public embed code' })
const Token = Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'Session token from POST /session' })

/** POST /embed/1/{company}/api/session. */
export const SessionBody = Type.Object({
  auth_code: AuthCode,
  token: Optional(Type.String({ maxLength: 200, pattern: NO_NUL, description: 'A token from an earlier anonymous session: resumes that person' })),
  person_id: Optional(Type.String({ maxLength: 100, pattern: NO_NUL, description: 'Cass person id (UUID or legacy integer): an identified session' })),
  thread_id: Optional(Type.String({ maxLength: 100, pattern: NO_NUL, description: 'Initial thread for a person who never talked with the bot' })),
}, { additionalProperties: false })
export type SessionBody = Static<typeof SessionBody>

export const SessionResponse = Type.Object({
  token: Type.String({ description: 'Signed session token: send it with every other call; an anonymous page keeps it to stay the same person' }),
  person_id: Type.String({ description: 'Cass person id (UUID)' }),
  anonymous: Type.Boolean(),
  created: Type.Boolean({ description: 'A new anonymous person was created' }),
  started_thread: Type.Union([Type.String(), Type.Null()], { description: 'The thread this session started (first contact only)' }),
})

/** GET /embed/1/{company}/api/messages. */
export const HistoryQuery = Type.Object({
  auth_code: AuthCode,
  token: Token,
  limit: Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY, default: 100, description: `Newest messages to return, oldest first (1-${MAX_HISTORY}, default 100)` })),
}, { additionalProperties: false })
export type HistoryQuery = Static<typeof HistoryQuery>

export const ChatMessage = Type.Object({
  id: Type.String({ description: 'Inbound message id (the person’s) or outbox message id (the bot’s)' }),
  cursor: Type.String({ description: 'Position in the chat (the live stream’s event id); empty for a message the bot has not taken yet' }),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')], { description: '`in`: the person wrote it; `out`: the bot' }),
  text: Type.String(),
  quick_replies: Type.Array(Type.String(), { description: 'Answers offered as buttons (an `ask` step’s choices)' }),
  created_at: Type.String({ format: 'date-time' }),
  pending: Type.Boolean({ description: 'The person’s message is stored but the bot has not taken it yet' }),
})

export const HistoryResponse = Type.Object({
  messages: Type.Array(ChatMessage),
  cursor: Type.String({ description: 'Stream after this position (GET /events?after=) to miss nothing' }),
})

/** POST /embed/1/{company}/api/messages. */
export const SendBody = Type.Object({
  auth_code: AuthCode,
  token: Token,
  text: Type.String({ minLength: 1, maxLength: MAX_WEBCHAT_TEXT, description: `What the person wrote (1-${MAX_WEBCHAT_TEXT} characters)` }),
}, { additionalProperties: false })
export type SendBody = Static<typeof SendBody>

export const SendResponse = Type.Object({ message: ChatMessage })

/** GET /embed/1/{company}/api/events. */
export const EventsQuery = Type.Object({
  auth_code: AuthCode,
  token: Token,
  after: Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'Cursor to stream after (from the history); the `Last-Event-ID` header of a reconnecting EventSource wins. Default 0: from the beginning' })),
}, { additionalProperties: false })
export type EventsQuery = Static<typeof EventsQuery>

export const Message = Type.Object({ message: Type.String() })
