import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { toE164 } from '../../lib/phone.ts'
import { ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { SuppressionRepository } from './suppression.repository.ts'
import {
  SUPPRESSION_REASONS, SUPPRESSION_SCOPES, type AddSuppressionInput, type ListSuppressionsOptions, type RemoveSuppressionInput,
  type Suppression, type SuppressionReason, type SuppressionScope,
} from './suppression.types.ts'

/** A tenant as the suppression list needs it: its id. */
export type TenantRef = Pick<Tenant, 'id'>

const PHONE_SCOPES: ReadonlySet<string> = new Set(['sms', 'whatsapp', 'voice'])
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const MAX_ADDRESS = 500
const MAX_SOURCE = 200

/**
 * The one suppression list: addresses a tenant must not send to, per channel or on every channel,
 * with the reason (`stop_keyword`, `dnc`, `consent_withdrawn`, `manual`) and what added them.
 * Delivery checks it when a message is queued and again, in the same statement that claims the
 * attempt, right before the provider gets it; later surfaces (contact-center DNC, messaging
 * consents) add their entries here.
 */
export class SuppressionService {
  readonly #db: Kysely<DB>
  readonly #repo: SuppressionRepository

  constructor(db: Kysely<DB>) {
    this.#db = db
    this.#repo = new SuppressionRepository(db)
  }

  /**
   * Suppress an address on a channel (`scope` or `channel`) or on `all` channels, until
   * `expiresAt` (permanently without). A live entry that exists for that scope and address is kept
   * as it is and returned, `created: false`; an expired one is replaced. Runs in `trx` when given.
   * Throws ValidationError `invalid_scope`, `invalid_address`, `invalid_reason`, `invalid_source`,
   * `invalid_expiry` (not in the future); nothing is written then.
   */
  async add(tenant: TenantRef, input: AddSuppressionInput, opts: { trx?: Transaction<DB> } = {}): Promise<{ entry: Suppression; created: boolean }> {
    const scope = this.#scope(input.scope ?? input.channel)
    const address = normalizeAddress(scope, input.address)
    const reason = this.#reason(input.reason)
    const source = this.#source(input.source)
    const expiresAt = futureOrNull(input.expiresAt)
    const write = async (trx: Transaction<DB> | Kysely<DB>) => {
      const entry = await this.#repo.insert(trx, tenant.id, { scope, address, reason, source, expiresAt })
      if (entry) return { entry, created: true }
      const existing = await this.#repo.find(trx, tenant.id, scope, address)
      if (!existing) throw new Error('suppression conflicted but none exists')
      return { entry: existing, created: false }
    }
    return write(opts.trx ?? this.#db)
  }

  /**
   * Lift the entry for this scope and address (only when its reason is one of `reasons`, if
   * given). Returns the removed entry, or undefined when there was none. Throws ValidationError
   * `invalid_scope`, `invalid_address`.
   */
  async remove(tenant: TenantRef, input: RemoveSuppressionInput, opts: { trx?: Transaction<DB> } = {}): Promise<Suppression | undefined> {
    const scope = this.#scope(input.scope ?? input.channel)
    const address = normalizeAddress(scope, input.address)
    return this.#repo.delete(opts.trx ?? this.#db, tenant.id, scope, address, input.reasons)
  }

  /**
   * The live entry that holds back sends on `channel` to `address` (for that channel, else for all
   * channels), or undefined when the address may be sent to. Throws ValidationError
   * `invalid_scope` (for a channel that does not exist), `invalid_address`.
   */
  async isSuppressed(tenant: TenantRef, channel: string, address: string): Promise<Suppression | undefined> {
    const scope = this.#scope(channel)
    if (scope === 'all') throw new ValidationError('invalid_scope', 'ask about one channel, not all', { scope: channel })
    return this.#repo.findFor(this.#db, tenant.id, scope, normalizeAddress(scope, address))
  }

  /** The tenant's entries, newest first, optionally of one scope or address. */
  async list(tenant: TenantRef, opts: ListSuppressionsOptions = {}): Promise<Suppression[]> {
    const scope = opts.scope === undefined ? undefined : this.#scope(opts.scope)
    const address = opts.address === undefined ? undefined : normalizeAddress(scope ?? 'all', opts.address)
    const limit = opts.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('invalid_limit', 'limit must be an integer 1-1000')
    return this.#repo.list(tenant.id, { scope, address, limit })
  }

  /**
   * The entry of exactly this scope and address, or undefined; in `trx` when given. Throws
   * ValidationError `invalid_scope`, `invalid_address`.
   */
  async find(tenant: TenantRef, input: { scope: string; address: string }, opts: { trx?: Transaction<DB> } = {}): Promise<Suppression | undefined> {
    const scope = this.#scope(input.scope)
    return this.#repo.find(opts.trx ?? this.#db, tenant.id, scope, normalizeAddress(scope, input.address))
  }

  #scope(raw: string | undefined): SuppressionScope {
    if (typeof raw !== 'string' || !(SUPPRESSION_SCOPES as readonly string[]).includes(raw)) {
      throw new ValidationError('invalid_scope', `scope must be one of ${SUPPRESSION_SCOPES.join(', ')}`, { scope: raw ?? null })
    }
    return raw as SuppressionScope
  }

  #reason(raw: string): SuppressionReason {
    if (typeof raw !== 'string' || !(SUPPRESSION_REASONS as readonly string[]).includes(raw)) {
      throw new ValidationError('invalid_reason', `reason must be one of ${SUPPRESSION_REASONS.join(', ')}`, { reason: raw ?? null })
    }
    return raw as SuppressionReason
  }

  #source(raw: string): string {
    const text = typeof raw === 'string' ? raw.trim() : ''
    if (text.length === 0 || text.length > MAX_SOURCE || text.includes('\u0000')) {
      throw new ValidationError('invalid_source', `source must be 1-${MAX_SOURCE} characters`)
    }
    return text
  }
}

/** A valid expiry in the future, or null (permanent). Throws ValidationError `invalid_expiry`. */
export function futureOrNull(expiresAt: Date | null | undefined): Date | null {
  if (expiresAt === undefined || expiresAt === null) return null
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()) {
    throw new ValidationError('invalid_expiry', 'expires_at must be a time in the future', { expiresAt: String(expiresAt) })
  }
  return expiresAt
}

/**
 * An address in the form the list (and the outbox) keeps it: E.164 for sms, whatsapp and voice,
 * a lower-cased e-mail address for email, the trimmed text otherwise; for `all`, whichever of
 * phone or e-mail it is. Throws ValidationError `invalid_address`.
 */
export function normalizeAddress(scope: SuppressionScope, raw: string): string {
  const text = typeof raw === 'string' ? raw.trim() : ''
  if (text.length === 0 || text.length > MAX_ADDRESS || text.includes('\u0000')) {
    throw new ValidationError('invalid_address', `address must be 1-${MAX_ADDRESS} characters`, { address: raw ?? null })
  }
  if (PHONE_SCOPES.has(scope)) {
    const phone = toE164(text)
    if (!phone) throw new ValidationError('invalid_address', `invalid phone number ${text}`, { address: raw })
    return phone
  }
  if (scope === 'email') {
    if (!EMAIL.test(text) || text.length > 320) throw new ValidationError('invalid_address', `invalid e-mail address ${text}`, { address: raw })
    return text.toLowerCase()
  }
  if (scope === 'all') {
    if (/^[+\d][\d\s().-]*$/.test(text)) {
      const phone = toE164(text)
      if (phone) return phone
    }
    if (EMAIL.test(text)) return text.toLowerCase()
  }
  // Push addresses are individual ids (UUIDs), APNs device tokens (hex) or FCM tokens and Web Push
  // endpoints (case-sensitive): the hexadecimal ones are one address in any case.
  if (HEX_ID.test(text)) return text.toLowerCase()
  return text
}

/** A UUID or a hexadecimal token (APNs): case carries no meaning. */
const HEX_ID = /^[0-9a-f]+(?:-[0-9a-f]+)*$/i

