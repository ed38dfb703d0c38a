import { Type } from 'typebox'
import { NO_NUL } from '../../http/validation.ts'
import { CONSOLE_ROLES } from '../../core/console/index.ts'

export const Message = Type.Object({ message: Type.String(), code: Type.String() })

export const SignInBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, pattern: NO_NUL }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'The tenant’s name or id; needed only when the email signs in to several with the same password' })),
  company: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NO_NUL, description: 'A contact-center agent’s company (the Apps API subdomain, as the agent API’s sign-in takes it): signs in with the agent’s email and password, role `agent`' })),
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
  agent_token: Type.Union([Type.String(), Type.Null()], { description: 'A contact-center agent’s session: the agent API token (`Authorization: Bearer`) the workspace uses for `/agent/v1`; null for other console users' }),
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
  actions: Type.Array(Type.String(), { description: 'What the signed-in user may do to the person: `edit`, `add_suppression`, `consent_withdrawn`, `consent_given`, `lift_suppression`, `ping`' }),
})

export const TimelineQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  before: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `next_cursor` of the previous page: entries older than its last' })),
}, { additionalProperties: false })

export const TimelineEvent = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: '`message` (in or out on any surface), or what a console user did: `person_edited`, `consent_given`, `consent_withdrawn`, `suppression_added`, `suppression_lifted`' }),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Null()], { description: 'null for a console action' }),
  channel: Type.String({ description: '`messaging` for care-team channel messages, `console` for a console action; else the delivery channel' }),
  text: Type.String(), thread_name: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()], { description: 'Who did a console action: `console:<email>`' }),
  created_at: Type.String({ format: 'date-time' }),
})

export const Timeline = Type.Object({
  events: Type.Array(TimelineEvent, { description: 'Newest first' }),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `before` for the next (older) page; null at the oldest' }),
})

export const PersonId = Type.Object({ id: Type.String({ maxLength: 100, description: 'The core person id' }) })

const Nullable = (max: number) => Type.Union([Type.String({ maxLength: max, pattern: NO_NUL }), Type.Null()])

export const EditPersonBody = Type.Object({
  first_name: Type.Optional(Nullable(200)), last_name: Type.Optional(Nullable(200)),
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: NO_NUL, description: 'Changed, never removed' })),
  email: Type.Optional(Nullable(320)),
}, { additionalProperties: false, minProperties: 1 })

const Scope = Type.String({ minLength: 1, maxLength: 20, description: 'A channel (`sms`, `email`, `whatsapp`, `voice`, …) or `all`' })
const Address = Type.String({ minLength: 1, maxLength: 320, pattern: NO_NUL, description: 'The person’s phone or e-mail address' })
const Note = Type.Optional(Type.String({ maxLength: 500, pattern: NO_NUL, description: 'Why, or how the consent was given; shown in the timeline' }))

export const AddSuppressionBody = Type.Object({
  scope: Scope, address: Address,
  reason: Type.String({ minLength: 1, maxLength: 40, description: '`manual` or `dnc` (a withdrawn consent is recorded with POST …/consents)' }), note: Note,
}, { additionalProperties: false })

export const LiftSuppressionBody = Type.Object({ scope: Scope, address: Address, note: Note }, { additionalProperties: false })

export const ConsentBody = Type.Object({
  scope: Scope, address: Address, state: Type.String({ minLength: 1, maxLength: 20, description: '`given` or `withdrawn`' }), note: Note,
}, { additionalProperties: false })

export const SuppressionEntry = Type.Object({
  scope: Type.String(), address: Type.String(), reason: Type.String(), source: Type.String(), created_at: Type.String({ format: 'date-time' }),
})

export const SuppressionResult = Type.Object({ suppression: SuppressionEntry, created: Type.Boolean() })

export const ConsentResult = Type.Object({
  state: Type.String(),
  lifted: Type.Array(SuppressionEntry, { description: 'The person’s own opt-outs the consent lifted' }),
  remaining: Type.Array(SuppressionEntry, { description: 'What still holds sends back on that scope (put there by the organisation)' }),
  added: Type.Union([SuppressionEntry, Type.Null()], { description: 'The `consent_withdrawn` entry of a withdrawal' }),
})

/** `POST /console/api/people/:id/ping`. */
export const PingBody = Type.Object({ thread_name: Type.String({ minLength: 1, maxLength: 200, description: 'One of the organisation’s thread names' }) }, { additionalProperties: false })
