import { Type, type TSchema } from 'typebox'

/** `{"message": …}`: every error of the Apps API. */
export const Message = Type.Object({ message: Type.String() }, { description: 'The error, in the vendor’s words' })
const Ts = (description: string) => Type.Union([Type.String({ format: 'date-time', description }), Type.Null()])
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** The errors every operation may answer. */
export const COMMON_ERRORS = { 401: Message, 404: Message, 429: Message }

/** A list query parameter in Rails' bracket form, or one bare value. */
const List = (description: string) => Type.Union([Type.String(), Type.Array(Type.String())], { description })

export const UsersQuery = Type.Object({
  page: Type.Optional(Type.String({ description: 'Page, from 1 (no filters with pagination)' })),
  per: Type.Optional(Type.String({ description: 'Page size, an integer below 1000 (default 100)' })),
  'id[]': Type.Optional(List('User ids')),
  'agent_number[]': Type.Optional(List('Agent numbers')),
  'status_id[]': Type.Optional(List('Agent status ids')),
  'online[]': Type.Optional(List('true/false')),
  'wrap_up[]': Type.Optional(List('true/false')),
  'location[]': Type.Optional(List('Location names')),
  'last_login_time[from]': Type.Optional(Type.String({ description: 'Signed in after (UTC)' })),
  'last_login_time[to]': Type.Optional(Type.String({ description: 'Signed in before (UTC)' })),
  'status_updated_at[from]': Type.Optional(Type.String({ description: 'Status changed after (UTC)' })),
  'status_updated_at[to]': Type.Optional(Type.String({ description: 'Status changed before (UTC)' })),
}, { additionalProperties: true })

export const User = Type.Object({
  id: Type.Integer(), email: Type.String(), first_name: Type.String(), last_name: Type.String(), agent_number: Type.String(),
  location: Nullable(Type.String()), max_chat_limit: Type.Integer(), max_chat_limit_enabled: Type.Boolean(),
  unrestricted_international_calling: Type.Boolean(), deactivated_at: Ts('Deactivation time; null for an active user'),
  ucaas_user_name: Nullable(Type.String()), ucaas_sip_uri: Nullable(Type.String()), external_user: Type.Boolean(),
  phone_numbers: Type.Array(Type.String()), extension_numbers: Type.Array(Type.Integer()),
  teams: Type.Array(Type.Object({ name: Type.String() })), roles: Type.Array(Type.Object({ name: Type.String() })),
  status_id: Type.Integer({ description: 'Current agent status id' }), online: Type.Boolean(), wrap_up: Type.Boolean(),
  last_login_time: Ts('Last sign-in'), status_updated_at: Ts('Last status change'),
})

/** Ids are integers; numeric strings are accepted (§1.3). */
export const IdInput = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\s*\\d{1,15}\\s*$' })])
const IdList = Type.Union([Type.Array(IdInput, { maxItems: 10000 }), IdInput])

export const AgentStatusesBody = Type.Object({
  status: Type.Optional(Type.String({ description: 'Target status name (Available, Unavailable or a custom one)' })),
  agent_ids: Type.Optional(IdList),
  team_ids: Type.Optional(IdList),
}, { additionalProperties: true })

export const ForceLogoutBody = Type.Object({
  agent_ids: Type.Optional(IdList),
  team_ids: Type.Optional(IdList),
  ip_addrs: Type.Optional(Type.Union([Type.Array(Type.String(), { maxItems: 1000 }), Type.String()], { description: 'CIDR ("34.211.11.0/24"), one IPv4/IPv6 address, or a range "a.b.c.d-e.f.g.h", matched against the sign-in address' })),
}, { additionalProperties: true })

export const AgentStatusResult = Type.Object({
  agent_id: Type.Integer(), name: Type.String(), email: Type.String(), agent_number: Type.String(),
  previous_status: Type.String(), current_status: Type.String(),
  message: Type.Optional(Type.String({ description: 'Only when the change was refused or deferred' })),
})

export const ForceLogoutJob = Type.Object({
  id: Type.Integer(), status: Type.Union([Type.Literal('in_progress'), Type.Literal('finished')]),
  total: Type.Integer(), processed: Type.Integer(), results: Type.Array(AgentStatusResult),
})

export const JobParams = Type.Object({ id: Type.String({ description: 'Job id' }) })
