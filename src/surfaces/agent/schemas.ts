import { Type } from 'typebox'
import { NO_NUL } from '../../http/validation.ts'

export const Message = Type.Object({ message: Type.String(), code: Type.String() })

export const LoginBody = Type.Object({
  // No NUL: PostgreSQL text cannot hold one (the lookup would fail with a 500; fuzz found it).
  email: Type.String({ minLength: 1, maxLength: 254, pattern: NO_NUL }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
  company: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NO_NUL, description: 'The organisation’s Apps API subdomain; needed only when the email signs in to several' })),
}, { additionalProperties: false })

const Status = Type.Object({ id: Type.Integer(), name: Type.String(), kind: Type.Union([Type.Literal('available'), Type.Literal('away'), Type.Literal('system')]) })

export const Me = Type.Object({
  id: Type.Integer({ description: 'The agent’s Apps API user id' }),
  email: Type.String(), first_name: Type.String(), last_name: Type.String(), agent_number: Type.Union([Type.String(), Type.Null()]),
  teams: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })),
  roles: Type.Array(Type.String()), permissions: Type.Array(Type.String()), chat_capacity: Type.Integer(),
  status: Status,
  statuses: Type.Array(Status, { description: 'The statuses the agent may choose (Available, Unavailable, custom)' }),
  logout_pending: Type.Boolean({ description: 'A force logout waits for the current interaction to end' }),
})

export const LoginAnswer = Type.Object({
  token: Type.String({ description: 'Bearer token for the other agent API calls' }),
  expires_at: Type.String({ format: 'date-time' }),
  agent: Me,
})

export const StatusBody = Type.Object({ status: Type.String({ minLength: 1, maxLength: 100, description: 'Available, Unavailable or a custom status' }) }, { additionalProperties: false })

export const TransferBody = Type.Object({
  agent_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The agent (Apps API user id) to offer the chat to' })),
  menu_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The leaf chat queue to put the chat back in' })),
}, { additionalProperties: false })

export const WrapUpBody = Type.Object({ disposition: Type.String({ minLength: 1, maxLength: 100, description: 'How the chat ended (one of the setup’s dispositions when it lists any)' }) }, { additionalProperties: false })
