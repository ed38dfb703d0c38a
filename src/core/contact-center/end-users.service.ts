import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups } from '../people/index.ts'
import { EndUsersRepository, type EndUser } from './end-users.repository.ts'
import { lockChat, refuseUnlessWritable } from './chat-media.service.ts'

export type { EndUser }

/** What E1 (and mid-session authentication) may set; absent means "leave as is". */
export interface UpsertEndUserInput {
  identifier: string
  name?: string
  email?: string
  /** As the client wrote it (§1.8); normalised to E.164. */
  phone?: string
}

/**
 * The tenant's CRM as mid-session authentication reaches it (core/crm's adapter, wired in
 * services.ts). Without `linkContact` the CRM cannot link contacts: C5/H18 on a session with a
 * ticket answer "Unsupported CRM request".
 */
export interface CrmContactsPort {
  /** Update the ticket's contact (name, email; phone only if it has none); its id, or undefined when the ticket is not there. */
  linkContact?(trx: Transaction<DB>, tenantId: TenantId, ticketId: string, update: { name?: string | undefined; email?: string | undefined; phone?: string | undefined }): Promise<{ contactId: string } | undefined>
}

/**
 * A phone as the Apps API takes it (§1.8): spaces, dashes, dots and parentheses stripped, then a
 * leading `+`, a country code and 8–15 digits in all. Undefined when it is not that.
 */
export function normalizePhone(raw: string): string | undefined {
  const text = raw.replace(/[\s\-.()]/g, '')
  return /^\+[1-9][0-9]{7,14}$/.test(text) ? text : undefined
}

/** A display name as a new person's first and last name ("Ada King Lovelace" → Ada, King Lovelace). */
function splitName(name: string | undefined): { firstName: string | null; lastName: string | null } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean)
  return { firstName: parts[0] ?? null, lastName: parts.length > 1 ? parts.slice(1).join(' ') : null }
}

/**
 * End users of the contact center (§3.6), identities of the core person: E1 creates or updates one
 * by its external `identifier`, E2 finds one, and an SMS or a call gets the end user of its phone.
 * Each end user is a person of the people directory: one with the same phone when there is one
 * (the person API's person included), else a new one. People are reached only through the people
 * domain's lookups, in this service's transaction.
 */
export class EndUsersService {
  readonly #db: Kysely<DB>
  readonly #people: PeopleLookups
  readonly #repo = new EndUsersRepository()
  readonly #crm: CrmContactsPort | undefined

  constructor(deps: { db: Kysely<DB>; people: PeopleLookups; crm?: CrmContactsPort | undefined }) {
    this.#db = deps.db
    this.#people = deps.people
    this.#crm = deps.crm
  }

  /**
   * E1: create the end user with this identifier, or update the given fields of the existing one.
   * A new or changed phone makes the end user the person with that phone (found or created); a
   * person without a phone is given it when nobody else has it, so their history stays theirs.
   * Throws ValidationError `end_user_phone_invalid`.
   */
  async upsert(tenantId: TenantId, input: UpsertEndUserInput): Promise<EndUser> {
    const phone = this.#phone(input.phone)
    return this.#db.transaction().execute(async (trx) => {
      await this.#repo.lockKey(trx, tenantId, `identifier:${input.identifier}`)
      const existing = await this.#repo.byIdentifier(trx, tenantId, input.identifier)
      if (!existing) {
        const names = splitName(input.name)
        const personId = phone ? await this.#people.ensureByPhone(trx, tenantId, phone, names) : await this.#people.createUnreachable(trx, tenantId, names)
        return this.#repo.insert(trx, tenantId, { identifier: input.identifier, name: input.name ?? null, email: input.email ?? null, phone: phone ?? null, personId })
      }
      return this.#update(trx, tenantId, existing, { name: input.name, email: input.email, phone, phoneOnlyIfEmpty: false })
    })
  }

  /**
   * Mid-session authentication (C5 for calls, H18 for chats — one handler by comm type): the
   * session's end user becomes the one with `identifier` (made when new; `name`, `email` set,
   * `phone` only when it has none). Refused on an ended session (`call_ended`/`chat_ended`), and
   * within `coolDownSeconds` of the session's previous request (`auth_request_duplicate`). A session
   * with a CRM ticket (`out_ticket_id`) also updates the ticket's contact and links it to the end
   * user (`out_contact_id`); `crm_unsupported` ("Unsupported CRM request", nothing written) when the
   * CRM cannot link contacts or the ticket is no longer there.
   */
  async authenticateSession(tenantId: TenantId, channel: 'chat' | 'call', num: number, input: UpsertEndUserInput, coolDownSeconds = 10): Promise<void> {
    const phone = this.#phone(input.phone)
    await this.#db.transaction().execute(async (trx) => {
      const s = await lockChat(trx, tenantId, num, channel)
      refuseUnlessWritable(s.status, channel)
      if (!(await this.#repo.recordAuthRequest(trx, tenantId, num, coolDownSeconds))) {
        throw new ValidationError('auth_request_duplicate', 'Duplicate request: Please wait for the interval to expire', { chatId: num })
      }
      await this.#repo.lockKey(trx, tenantId, `identifier:${input.identifier}`)
      const existing = await this.#repo.byIdentifier(trx, tenantId, input.identifier)
      let user: EndUser
      if (existing) {
        user = await this.#update(trx, tenantId, existing, { name: input.name, email: input.email, phone, phoneOnlyIfEmpty: true })
      } else {
        const names = splitName(input.name)
        const personId = phone ? await this.#people.ensureByPhone(trx, tenantId, phone, names) : await this.#people.createUnreachable(trx, tenantId, names)
        user = await this.#repo.insert(trx, tenantId, { identifier: input.identifier, name: input.name ?? null, email: input.email ?? null, phone: phone ?? null, personId })
      }
      const ticket = await trx.selectFrom('cc_sessions').select('out_ticket_id').where('tenant_id', '=', tenantId).where('id', '=', s.id).executeTakeFirstOrThrow()
      if (ticket.out_ticket_id !== null) {
        const linked = this.#crm?.linkContact ? await this.#crm.linkContact(trx, tenantId, ticket.out_ticket_id, { name: input.name, email: input.email, phone: user.phone ?? phone }) : undefined
        if (!linked) throw new ValidationError('crm_unsupported', 'Unsupported CRM request')
        if (user.outContactId !== linked.contactId) user = await this.#repo.update(trx, tenantId, user.id, { outContactId: linked.contactId })
      }
      await trx.updateTable('cc_sessions').set({ end_user_num: user.num, person_id: user.personId }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
      await trx.updateTable('cc_participants').set({ end_user_num: user.num }).where('tenant_id', '=', tenantId).where('session_id', '=', s.id).where('type', '=', 'end_user').execute()
    })
  }

  /** E2: an end user by its Apps API id or its identifier; NotFoundError `end_user_not_found`. */
  async find(tenantId: TenantId, by: { num: number } | { identifier: string }, db: Kysely<DB> | Transaction<DB> = this.#db): Promise<EndUser> {
    const found = 'num' in by ? await this.#repo.byNum(db, tenantId, by.num) : await this.#repo.byIdentifier(db, tenantId, by.identifier)
    if (!found) throw new NotFoundError('end_user_not_found', 'no such end user')
    return found
  }

  /**
   * The end user of an E.164 phone (an SMS session, a call), in the caller's transaction: the
   * tenant's first end user with that phone, else a new one with `identifier: null` that is the
   * person with that phone (found or created). Concurrent calls for one phone yield one end user.
   */
  async forPhone(trx: Transaction<DB>, tenantId: TenantId, e164: string): Promise<EndUser> {
    const phone = normalizePhone(e164)
    if (!phone) throw new ValidationError('end_user_phone_invalid', `phone ${e164} is invalid`, { phone: e164 })
    await this.#repo.lockKey(trx, tenantId, `phone:${phone}`)
    const existing = await this.#repo.firstByPhone(trx, tenantId, phone)
    if (existing) return existing
    const personId = await this.#people.ensureByPhone(trx, tenantId, phone)
    return this.#repo.insert(trx, tenantId, { identifier: null, name: null, email: null, phone, personId })
  }

  #phone(raw: string | undefined): string | undefined {
    if (raw === undefined || raw === '') return undefined
    const phone = normalizePhone(raw)
    if (!phone) throw new ValidationError('end_user_phone_invalid', 'phone is invalid', { phone: raw })
    return phone
  }

  /** Apply name, email and phone to an end user; with `phoneOnlyIfEmpty`, a phone it has is kept. */
  async #update(trx: Transaction<DB>, tenantId: TenantId, user: EndUser, c: { identifier?: string; name?: string | undefined; email?: string | undefined; phone?: string | undefined; phoneOnlyIfEmpty: boolean }): Promise<EndUser> {
    let personId: string | undefined
    let phone: string | undefined
    if (c.phone !== undefined && c.phone !== user.phone && !(c.phoneOnlyIfEmpty && user.phone !== null)) {
      phone = c.phone
      const person = await this.#people.findById(trx, tenantId, user.personId)
      const keep = person?.phone === phone || (person !== undefined && person.phone === null && await this.#people.claimPhone(trx, tenantId, person.id, phone))
      if (!keep) personId = await this.#people.ensureByPhone(trx, tenantId, phone)
    }
    return this.#repo.update(trx, tenantId, user.id, {
      ...(c.identifier !== undefined ? { identifier: c.identifier } : {}),
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.email !== undefined ? { email: c.email } : {}),
      ...(phone !== undefined ? { phone } : {}),
      ...(personId !== undefined ? { personId } : {}),
    })
  }
}
