import { Type, type Static } from 'typebox'
import { CHANNELS } from '../../core/delivery/index.ts'

/** One of the delivery channels, listed in the OpenAPI document. */
export const ChannelParam = Type.Enum(CHANNELS, { description: 'Delivery channel' })

const Nullable = (description: string) => Type.Union([Type.String(), Type.Null()], { description })
const DateTime = (description: string) => Type.String({ format: 'date-time', description })

/** `?limit=&channel=` of the list endpoints. */
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'How many, newest first (1-200, default 50)' })),
  channel: Type.Optional(ChannelParam),
}, { additionalProperties: false })
export type ListQuery = Static<typeof ListQuery>

/** `/api/outbox/:id`. */
export const MessageIdParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'Outbox message id' }) })

/** POST /sandbox/api/outbox: a test message, queued like any other. */
export const SendBody = Type.Object({
  channel: ChannelParam,
  to: Type.String({ minLength: 1, maxLength: 500, description: 'Phone (any common writing, stored E.164) for sms, whatsapp and voice; e-mail address for email; device token, page-scoped id or chat session otherwise' }),
  body: Type.String({ minLength: 1, maxLength: 20000, description: 'Message text' }),
  subject: Type.Optional(Type.String({ maxLength: 500, description: 'E-mail subject or push title' })),
  from: Type.Optional(Type.String({ maxLength: 500, description: 'Sender number or address (default: the provider’s)' })),
  idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Sending again with the same key returns the first message (200) and sends nothing' })),
}, { additionalProperties: false })
export type SendBody = Static<typeof SendBody>

/** POST /sandbox/api/inbound: the person's answer. */
export const InboundBody = Type.Object({
  channel: ChannelParam,
  from: Type.String({ minLength: 1, maxLength: 500, description: 'The person’s phone or address: matched to the tenant’s person' }),
  body: Type.String({ minLength: 1, maxLength: 20000, description: 'What the person writes' }),
  to: Type.Optional(Type.String({ maxLength: 500, description: 'The number or address written to' })),
}, { additionalProperties: false })
export type InboundBody = Static<typeof InboundBody>

/** The HTML page's forms: the same fields plus the page's anti-forgery token. */
export const SendForm = Type.Object({
  channel: ChannelParam,
  to: Type.String({ maxLength: 500 }),
  body: Type.String({ maxLength: 20000 }),
  subject: Type.Optional(Type.String({ maxLength: 500 })),
  csrf: Type.String({ maxLength: 200 }),
}, { additionalProperties: false })
export type SendForm = Static<typeof SendForm>

export const ReplyForm = Type.Object({
  channel: ChannelParam,
  from: Type.String({ maxLength: 500 }),
  body: Type.String({ maxLength: 20000 }),
  csrf: Type.String({ maxLength: 200 }),
}, { additionalProperties: false })
export type ReplyForm = Static<typeof ReplyForm>

/** `GET /sandbox?channel=`. */
export const PageQuery = Type.Object({ channel: Type.Optional(ChannelParam) }, { additionalProperties: false })

/** An outbox message on the wire. */
export const OutboxItem = Type.Object({
  id: Type.String(),
  channel: ChannelParam,
  to: Type.String(),
  from: Nullable('Sender, when one was given'),
  subject: Nullable('E-mail subject or push title'),
  body: Type.String(),
  data: Type.Object({}, { additionalProperties: true, description: 'Channel extras' }),
  status: Type.Enum(['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'suppressed'], { description: 'queued → sending → sent (→ delivered | undelivered), or failed; suppressed: never sent, the recipient is on the suppression list' }),
  suppressed_reason: Type.Union([Type.Enum(['stop_keyword', 'dnc', 'consent_withdrawn', 'manual', 'consent_required']), Type.Null()], { description: 'Why a suppressed message was not sent' }),
  provider: Nullable('The provider that took it (sandbox)'),
  provider_message_id: Nullable('The provider’s id of the message'),
  person_id: Nullable('Core id of the tenant’s person it went to'),
  idempotency_key: Type.String(),
  attempts: Type.Integer(),
  last_error: Nullable('Error of the last failed attempt'),
  send_at: DateTime('Not sent before'),
  created_at: DateTime('Queued at'),
  updated_at: DateTime('Last change'),
  sent_at: Type.Union([DateTime('Accepted by the provider at'), Type.Null()]),
})

/** A received message on the wire. */
export const InboundItem = Type.Object({
  id: Type.String(),
  channel: ChannelParam,
  from: Type.String(),
  to: Nullable('The number or address written to'),
  body: Type.String(),
  person_id: Nullable('Core id of the tenant’s person whose phone or address matched'),
  provider: Type.String(),
  provider_message_id: Nullable('The provider’s id of the message'),
  status: Type.Enum(['received', 'processed'], { description: 'processed once the inbound handlers ran' }),
  received_at: DateTime('Received at'),
  processed_at: Type.Union([DateTime('Handled at'), Type.Null()]),
})

/** Envelopes of the JSON API: `{data: ...}`; errors are `{message}`. */
export const OutboxList = Type.Object({ data: Type.Array(OutboxItem) })
export const OutboxOne = Type.Object({ data: OutboxItem })
export const InboundList = Type.Object({ data: Type.Array(InboundItem) })
export const InboundOne = Type.Object({ data: InboundItem })
export const Message = Type.Object({ message: Type.String() })
