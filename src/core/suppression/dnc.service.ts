import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { toE164 } from '../../lib/phone.ts'
import { ValidationError } from '../errors.ts'
import { SuppressionRepository } from './suppression.repository.ts'
import { futureOrNull, type TenantRef } from './suppression.service.ts'

/**
 * Emergency service numbers (the US 911 and its test line 933, the EU 112, the UK 999, Australia's
 * 000 and the common national ones): a DNC list never holds them. Compared on the digits alone, also
 * behind the North American country code ("+1 911").
 */
const EMERGENCY = new Set(['911', '933', '112', '999', '000', '110', '119', '118', '100', '101', '102', '108', '190', '192', '193', '995', '997', '998', '15', '17', '18'])

/** Whether a number as written (`"911"`, `"+1 911"`, `112`) is an emergency service number. */
export function isEmergencyNumber(raw: string): boolean {
  const digits = raw.trim().replace(/^\+/, '').replace(/[\s\-.()]/g, '')
  if (!/^\d{2,4}$/.test(digits)) return false
  return EMERGENCY.has(digits) || (digits.startsWith('1') && EMERGENCY.has(digits.slice(1)) && digits.length === 4)
}

/**
 * A number as the DNC list keeps it, or undefined: spaces, dashes, dots and parentheses stripped,
 * then E.164 in form (a leading +, 8-15 digits, §1.8), in the form the rest of the list and the
 * outbox use when the number plan knows it. A well-formed number the plan does not know (the
 * vendor's own sample "+1-(358)-213-1634") is kept as written: a DNC list must be able to hold it.
 */
export function dncPhoneOf(raw: string): string | undefined {
  const stripped = raw.trim().replace(/[\s\-.()]/g, '')
  if (!/^\+[1-9]\d{7,14}$/.test(stripped)) return undefined
  return toE164(stripped) ?? stripped
}

function dncAddress(raw: string): string {
  const phone = typeof raw === 'string' ? dncPhoneOf(raw) : undefined
  if (!phone) throw new ValidationError('invalid_address', `invalid phone number ${String(raw)}`, { address: raw })
  return phone
}

/** One number to put on the list. */
export interface DncEntryInput {
  /** A phone number with its country code; normalized to E.164. */
  readonly phone: string
  /** When it lapses (in the future); null: permanent. */
  readonly expiresAt: Date | null
}

/**
 * The contact center's company Do-Not-Call list (Apps API D1–D3) is the one suppression list, not a
 * list of its own: a number put on it is an entry of scope `all` and reason `dnc`, so no channel that
 * reaches the number (SMS, WhatsApp, voice) sends to it; its check shows every live entry that
 * reaches a phone, a person's STOP reply included. Expired entries are absent.
 */
export class DncService {
  readonly #db: Kysely<DB>
  readonly #repo: SuppressionRepository

  constructor(db: Kysely<DB>) {
    this.#db = db
    this.#repo = new SuppressionRepository(db)
  }

  /**
   * Put numbers on the list in order, in one transaction: per number `created`, or `updated` (its
   * expiry) when it was listed already. Throws ValidationError `invalid_address` (not a phone) or
   * `invalid_expiry` (not in the future) before anything is written.
   */
  async add(tenant: TenantRef, entries: readonly DncEntryInput[], opts: { source: string }): Promise<Array<'created' | 'updated'>> {
    const rows = entries.map((e) => ({ address: dncAddress(e.phone), expiresAt: futureOrNull(e.expiresAt) }))
    if (rows.length === 0) return []
    return this.#db.transaction().execute(async (trx) => {
      const out: Array<'created' | 'updated'> = []
      for (const row of rows) out.push(await this.#repo.upsertDnc(trx, tenant.id, row.address, row.expiresAt, opts.source))
      return out
    })
  }

  /**
   * Take numbers off the list in order, in one transaction: per number whether it was listed (by the
   * organisation: a person's own STOP stays until they send START). Throws ValidationError
   * `invalid_address` before anything is removed.
   */
  async remove(tenant: TenantRef, phones: readonly string[]): Promise<boolean[]> {
    const addresses = phones.map((p) => dncAddress(p))
    if (addresses.length === 0) return []
    return this.#db.transaction().execute(async (trx) => {
      const out: boolean[] = []
      for (const address of addresses) out.push(await this.#repo.removeDnc(trx, tenant.id, address))
      return out
    })
  }

  /**
   * Whether a number is on the list now, and until when (null: permanently); undefined when it is
   * not. Throws ValidationError `invalid_address`.
   */
  async check(tenant: TenantRef, phone: string): Promise<{ expiresAt: Date | null } | undefined> {
    return this.#repo.checkDnc(this.#db, tenant.id, dncAddress(phone))
  }

  /**
   * Which of many numbers are on the list now (one query; campaign contact imports check a batch
   * at once). Numbers are taken as `dncPhoneOf` gives them; one that is not a phone is not listed.
   */
  async listed(tenant: TenantRef, phones: readonly string[], db: Kysely<DB> | Transaction<DB> = this.#db): Promise<Set<string>> {
    const addresses = phones.flatMap((p) => {
      const a = dncPhoneOf(p)
      return a ? [a] : []
    })
    return this.#repo.listedDnc(db, tenant.id, addresses)
  }
}
