import { Type, type Static, type TSchema } from 'typebox'
import { NO_NUL } from '../../http/validation.ts'

/** A language: letters (a code or a name), optionally a region or script after - or _. */
const LANGUAGE = '^[A-Za-z\\u00C0-\\u024F]{2,24}([_-][A-Za-z0-9]{2,8})?$'
const Text = (description: string, maxLength = 1000) => Type.Optional(Type.String({ maxLength, pattern: NO_NUL, description }))

/** Credentials that legacy (v1) callers pass as parameters instead of the Basic header. */
const Credentials = {
  client: Text('Client name (legacy: instead of the Authorization header)'),
  auth: Text('Client token (legacy: instead of the Authorization header)'),
}

const PersonFields = {
  first_name: Text('Person’s first name, used by the bot when chatting to them'),
  last_name: Text('Person’s last name'),
  // Unique-indexed: 255 characters (at most 1020 bytes) stay well under a btree entry's limit.
  external_id: Text('The ID of this person in your company’s system (required if phone is not used)', 255),
  external_username: Text('Person’s username in your company'),
  external_org: Text('Person’s organization in your company'),
  external_data_1: Text('Any additional information you want to pass through'),
  external_data_2: Text('Any additional information you want to pass through'),
  external_data_3: Text('Any additional information you want to pass through'),
  phone: Text('Phone number including country code (required if protocol is sms or WHATSAPP)'),
  language_type: Type.Optional(Type.String({
    maxLength: 32, pattern: LANGUAGE,
    description: 'The person’s language (extension): a locale (es-US, es_US), a code (es) or a name (Spanish); bulk messages pick their message-js text by it',
  })),
}

/** Parameters of `add_external_person` and `external_person` creation: query, JSON or form. */
export const CreatePersonParams = Type.Object({
  ...PersonFields,
  initial_thread_name: Text('Thread to begin the chat with (with ping=1)'),
  ping: Text('1 to send the person into initial_thread_name'),
  protocol: Text("sms (default), sandbox, facebook, WHATSAPP or web — case sensitive"),
  timezone: Text('IANA time zone, e.g. America/New_York'),
  new_id: Text('1 to answer with the UUID person id instead of the legacy integer id'),
  New_id: Text('Same as new_id (older spelling)'),
  ...Credentials,
}, { additionalProperties: false })
export type CreatePersonParams = Static<typeof CreatePersonParams>

/**
 * A request body that may be left out: parameters can all come in the query string. Fastify checks
 * a missing body as `null`, so a bare object schema would refuse a POST or PATCH without one.
 */
export const OptionalBody = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** Body (or query) of PATCH `external_person`. `person_id` may be in the path or here. */
export const UpdatePersonBody = Type.Object({
  person_id: Text('Person id (UUID or legacy integer) when not in the path'),
  ...PersonFields,
  timezone: Text('IANA time zone (extension)'),
  ...Credentials,
}, { additionalProperties: false })
export type UpdatePersonBody = Static<typeof UpdatePersonBody>

export const PersonIdParams = Type.Object({
  person_id: Type.String({ maxLength: 100, pattern: NO_NUL, description: 'UUID or legacy integer id' }),
})

export const CredentialsOnly = Type.Object(Credentials, { additionalProperties: false })

export const GetNewIdQuery = Type.Object({
  person_id: Text('Legacy integer person id'),
  ...Credentials,
}, { additionalProperties: false })

// `type: ["string", "null"]` rather than anyOf: the same JSON Schema 2020-12 meaning, and the
// response serialiser handles it directly instead of validating each branch per field.
const Nullable = (description?: string) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...(description ? { description } : {}) })

export const Message = Type.Object({ message: Type.String() }, { additionalProperties: true })

export const CreatePersonResponse = Type.Object({
  existing_person: Type.Boolean(),
  person_id: Type.String(),
  external_id: Nullable(),
  phone: Nullable('E.164'),
  message: Type.String(),
})

export const PersonResponse = Type.Object({
  person_id: Type.String({ description: 'UUID' }),
  phone: Nullable('E.164'),
  external_id: Nullable(), external_username: Nullable(), external_org: Nullable(),
  external_data_1: Nullable(), external_data_2: Nullable(), external_data_3: Nullable(),
  first_name: Nullable(), last_name: Nullable(), protocol: Type.String(),
  language_type: Nullable(), gender: Nullable(), timezone: Nullable(),
})

export const UpdatePersonResponse = Type.Object({ data: Type.Object({ person_id: Type.String() }) })
export const NewIdResponse = Type.Object({ old_id: Type.String(), new_id: Type.String() })

const Flag = (description: string) => Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 10 })], { description }))

const PingFields = {
  person_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Integer({ minimum: 0 })], { description: 'Person id: UUID or legacy integer' })),
  thread_name: Text('Thread to send the person into (required)', 100),
  next_thread_name: Text('Thread the conversation continues in when this one finishes', 100),
  messages: Type.Optional(Type.Union([
    Type.Array(Type.String({ maxLength: 2000, pattern: NO_NUL }), { maxItems: 20 }),
    Type.String({ maxLength: 2000, pattern: NO_NUL }),
  ], { description: 'Texts sent instead of the thread’s opening (its leading says and first question): a list, a repeated parameter, or a JSON array in a string' })),
  is_asynch: Flag('true: answer at once and deliver in the background; otherwise answer once the provider took the messages (502 when it refused)'),
  is_auto_next: Flag('true: continue into next_thread_name right after the opening, without waiting for an answer'),
  ...Credentials,
}

/** `/ping_person` (v1) parameters: query, JSON or form. */
export const PingParams = Type.Object(PingFields, { additionalProperties: false })
export type PingParams = Static<typeof PingParams>

/** `/v2/ping_person` parameters: v1's plus `placeholders`. */
export const PingV2Params = Type.Object({
  ...PingFields,
  placeholders: Type.Optional(Type.Union([
    Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 2000, pattern: NO_NUL }), Type.Number(), Type.Boolean()])),
    Type.String({ maxLength: 20000, description: 'A JSON object in a string (query and form callers)' }),
  ], { description: 'Placeholder values: key `appointment` fills <<APPOINTMENT>> (case-insensitive)' })),
}, { additionalProperties: false })
export type PingV2Params = Static<typeof PingV2Params>

export const PingResponse = Type.Object({
  message: Type.String(),
  person_id: Type.String(),
  thread_name: Type.String(),
  next_thread_name: Nullable(),
})

export const ThreadsLoadedResponse = Type.Object({
  message: Type.String(),
  version: Type.Integer({ description: 'The new current version' }),
  threads: Type.Array(Type.String(), { description: 'Thread names of this version' }),
})

export const ThreadsCurrentResponse = Type.Object({
  version: Type.Integer({ description: '0 when nothing was loaded (only the built-in threads exist)' }),
  threads: Type.Array(Type.String(), { description: 'Thread names, built-ins included' }),
  format: Nullable('yaml or json'),
  source: Nullable('The file as loaded'),
})

export const ThreadsErrorResponse = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.String(), { description: 'Every problem, each `path: problem`' })),
})

/** `GET /notifications` parameters (query, or a GET body). */
export const NotificationsQuery = Type.Object({
  person_id: Type.Optional(Type.Union([Type.String({ maxLength: 100, pattern: NO_NUL }), Type.Integer({ minimum: 0 })], { description: 'Person id: UUID or legacy integer' })),
  ...Credentials,
}, { additionalProperties: false })

/** One queued notification, as the Cass API shows it. */
export const NotificationItem = Type.Object({
  type: Type.Union([Type.Literal('checkin'), Type.Literal('autoping')]),
  schedule: Type.String({ description: 'When it is (was) due, UTC, Python style: `2023-06-30 19:26:36.566729+00:00`' }),
  thread_name: Type.String(),
})

export const NotificationsResponse = Type.Object({ data: Type.Array(NotificationItem) })
