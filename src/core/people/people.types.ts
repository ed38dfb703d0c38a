/** How the bot reaches a person. Case-sensitive, as the Cass API has them. */
export const PROTOCOLS = ['sms', 'sandbox', 'facebook', 'WHATSAPP', 'web'] as const
export type Protocol = (typeof PROTOCOLS)[number]

/** The core person: one per human a tenant serves, with their ids on the Cass surface. */
export interface Person {
  readonly id: string
  readonly tenantId: TenantId
  /** Cass person id (lowercase UUID v4). */
  readonly cassId: string
  /** Cass legacy integer id, as a string. */
  readonly legacyId: string
  readonly firstName: string | null
  readonly lastName: string | null
  /** E.164. */
  readonly phone: string | null
  readonly externalId: string | null
  readonly externalUsername: string | null
  readonly externalOrg: string | null
  readonly externalData1: string | null
  readonly externalData2: string | null
  readonly externalData3: string | null
  readonly protocol: Protocol
  readonly languageType: string | null
  readonly gender: string | null
  readonly timezone: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** Directory fields a client may set. Absent means "leave as is". */
export interface PersonFields {
  firstName?: string
  lastName?: string
  externalId?: string
  externalUsername?: string
  externalOrg?: string
  externalData1?: string
  externalData2?: string
  externalData3?: string
  timezone?: string
  /** The person's language (`language_type`): a locale (`es-US`, `es_US`), a code (`es`) or a name (`Spanish`). */
  languageType?: string
}

export interface CreatePersonInput extends PersonFields {
  /** As written by the client; normalised to E.164 by the service. */
  phone?: string
  protocol?: string
}

export interface UpdatePersonInput extends PersonFields {
  phone?: string
}

/**
 * Directory fields another domain may write one value into (the bot stores free-text answers in
 * them). external_id is written only while unset: it never changes once set.
 */
export type AnswerField = 'firstName' | 'lastName' | 'externalId' | 'externalUsername' | 'externalOrg' | 'externalData1' | 'externalData2' | 'externalData3'

/** A person id as clients send it: the UUID or the legacy integer. */
export type PersonRef = string

import type { TenantId } from '../../lib/tenant-id.ts'