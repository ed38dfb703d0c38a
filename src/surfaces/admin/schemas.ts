import { Type } from 'typebox'
import { SUPPRESSION_REASONS, SUPPRESSION_SCOPES } from '../../core/suppression/index.ts'

const DateTime = (description: string) => Type.String({ format: 'date-time', description })
const NoNul = '^[^\\u0000]*$'

export const Message = Type.Object({ message: Type.String(), code: Type.String() })

/** `/admin/providers/{channel}`. */
export const ChannelParams = Type.Object({ channel: Type.String({ maxLength: 50, description: 'sms, whatsapp, messenger, email, push, webchat or voice' }) })

/** PUT /admin/providers/{channel}: replaces the channel's vendor and options. */
export const SetProviderBody = Type.Object({
  vendor: Type.String({ minLength: 1, maxLength: 50, description: 'A vendor from `GET /admin/providers` (`vendors`)' }),
  options: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The vendor’s options (credentials included); stored encrypted, shown masked' })),
}, { additionalProperties: false })

export const ProviderItem = Type.Object({
  channel: Type.String(),
  vendor: Type.String(),
  configured: Type.Boolean({ description: 'false: nothing set, the default sandbox' }),
  options: Type.Object({}, { additionalProperties: true, description: 'Secrets masked as `****` plus their last 4 characters' }),
  updated_at: Type.Union([DateTime('Last change'), Type.Null()]),
})
export const ProviderOne = Type.Object({ data: ProviderItem })
export const ProviderList = Type.Object({ data: Type.Array(ProviderItem), vendors: Type.Array(Type.String(), { description: 'Vendors this server can use' }) })

export const SuppressionItem = Type.Object({
  id: Type.String(),
  scope: Type.String({ description: 'A channel, or `all`' }),
  address: Type.String({ description: 'E.164 phone, lower-cased e-mail address, or the channel’s address' }),
  reason: Type.Enum(SUPPRESSION_REASONS),
  source: Type.String(),
  created_at: DateTime('Added at'),
  expires_at: Type.Union([DateTime('When it lapses (expired entries are not listed)'), Type.Null()], { description: 'null: permanent' }),
})
export const SuppressionOne = Type.Object({ data: SuppressionItem })
export const SuppressionList = Type.Object({ data: Type.Array(SuppressionItem) })

export const SuppressionQuery = Type.Object({
  scope: Type.Optional(Type.String({ maxLength: 50 })),
  address: Type.Optional(Type.String({ maxLength: 500, pattern: NoNul })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
}, { additionalProperties: false })

export const AddSuppressionBody = Type.Object({
  scope: Type.Enum(SUPPRESSION_SCOPES, { description: 'The channel to suppress, or `all`' }),
  address: Type.String({ minLength: 1, maxLength: 500, description: 'Phone (any common writing), e-mail address or the channel’s address' }),
  reason: Type.Optional(Type.Enum(SUPPRESSION_REASONS, { description: 'Default `manual`' })),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NoNul, description: 'Default `admin-api`' })),
}, { additionalProperties: false })

export const SuppressionParams = Type.Object({ scope: Type.String({ maxLength: 50 }), address: Type.String({ maxLength: 500 }) })

export const SettingsItem = Type.Object({
  sms_help_text: Type.Union([Type.String(), Type.Null()], { description: 'The answer to HELP/INFO; null: the default' }),
  sms_help_text_default: Type.String({ description: 'What HELP answers while sms_help_text is null' }),
  sms_consent_required: Type.Boolean({ description: 'A promotional SMS (a multicast\'s) needs the number\'s accepted user consent (README "Consent")' }),
})
export const SettingsOne = Type.Object({ data: SettingsItem })
export const PatchSettingsBody = Type.Object({
  // Checked by core, not here: the app coerces scalars, which would turn null and "" into each other.
  sms_help_text: Type.Optional(Type.Unknown({ description: 'A text of 1-640 characters, or null for the default' })),
  sms_consent_required: Type.Optional(Type.Boolean({ description: 'Require an accepted user consent before promotional SMS' })),
}, { additionalProperties: false })

/** PUT /admin/contact-center: what the load did (generated passwords shown once). */
export const ContactCenterLoaded = Type.Object({
  data: Type.Object({
    version: Type.Integer({ description: 'The setup version this load made' }),
    teams: Type.Integer(), agents: Type.Integer(), menus: Type.Integer(), phone_numbers: Type.Integer(),
    deactivated_agents: Type.Integer({ description: 'Agents gone from the file or marked inactive (signed out, Offline)' }),
    generated_passwords: Type.Array(Type.Object({ email: Type.String(), password: Type.String() }), { description: 'Agents new to the file without a password: their sign-in, shown only now' }),
  }),
})
export const ContactCenterInvalid = Type.Object({ message: Type.String(), code: Type.String(), errors: Type.Optional(Type.Array(Type.String(), { description: 'With code invalid_contact_center: every problem, `path: problem`' })) })
/** GET /admin/contact-center: the current file as loaded. */
export const ContactCenterCurrent = Type.Object({
  data: Type.Object({
    version: Type.Integer({ description: '0 when nothing was loaded' }),
    format: Type.Union([Type.Literal('yaml'), Type.Literal('json'), Type.Null()]),
    source: Type.Union([Type.String(), Type.Null()]),
    loaded_at: Type.Union([DateTime('When this version was loaded'), Type.Null()]),
  }),
})
