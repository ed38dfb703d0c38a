import { Type } from 'typebox'
import { NO_NUL } from '../../http/validation.ts'
import { CONSOLE_ROLES } from '../../core/console/index.ts'

export const Message = Type.Object({ message: Type.String(), code: Type.String() })

export const SignInBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, pattern: NO_NUL }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'The tenant’s name or id; needed only when the email signs in to several with the same password' })),
}, { additionalProperties: false })

const Role = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('supervisor'), Type.Literal('agent'), Type.Literal('clinician')])

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), role: Role,
  created_at: Type.String({ format: 'date-time' }),
})

export const Session = Type.Object({
  user: User,
  organization: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }),
  csrf_token: Type.String({ description: 'Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE' }),
  expires_at: Type.String({ format: 'date-time' }),
})

export const CreateUserBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, pattern: NO_NUL }),
  role: Type.String({ minLength: 1, maxLength: 20, description: CONSOLE_ROLES.join(', ') }),
  name: Type.Optional(Type.String({ maxLength: 200, pattern: NO_NUL })),
  password: Type.Optional(Type.String({ minLength: 12, maxLength: 200, description: 'Generated (and answered once) when absent' })),
}, { additionalProperties: false })

export const CreatedUser = Type.Object({ user: User, password: Type.String({ description: 'Shown once' }) })

export const PersonSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  first_name: Type.Union([Type.String(), Type.Null()]), last_name: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]), email: Type.Union([Type.String(), Type.Null()]),
  external_id: Type.Union([Type.String(), Type.Null()]), created_at: Type.String({ format: 'date-time' }),
})

export const PeopleQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, pattern: NO_NUL, description: 'Part of a name, email or external id; phone digits; or a surface id' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
}, { additionalProperties: false })

export const PersonDetail = Type.Object({
  ...PersonSummary.properties,
  identities: Type.Array(Type.Object({
    surface: Type.String(), public_id: Type.String(), legacy_id: Type.Union([Type.String(), Type.Null()]), created_at: Type.String({ format: 'date-time' }),
  })),
  suppressions: Type.Array(Type.Object({
    scope: Type.String(), address: Type.String(), reason: Type.String(), source: Type.String({ description: 'Who or what put it there' }), created_at: Type.String({ format: 'date-time' }),
  })),
})

export const TimelineQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
}, { additionalProperties: false })

export const Timeline = Type.Object({
  events: Type.Array(Type.Object({
    id: Type.String(), direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
    channel: Type.String({ description: '`messaging` for care-team channel messages; else the delivery channel' }),
    text: Type.String(), thread_name: Type.Union([Type.String(), Type.Null()]), created_at: Type.String({ format: 'date-time' }),
  }), { description: 'Newest first' }),
})

export const PersonId = Type.Object({ id: Type.String({ maxLength: 100, description: 'The core person id' }) })
