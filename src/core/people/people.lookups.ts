import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB, PersonUpdateRow } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { PeopleRepository, PERSON_COLUMNS, toPerson } from './people.repository.ts'
import type { AnswerField, Person } from './people.types.ts'

/** The connection or the caller's transaction: every lookup runs where the caller is. */
export type PeopleExecutor = Kysely<DB> | Transaction<DB>

const ANSWER_COLUMNS = {
  firstName: 'first_name', lastName: 'last_name', externalId: 'external_id', externalUsername: 'external_username',
  externalOrg: 'external_org', externalData1: 'external_data_1', externalData2: 'external_data_2', externalData3: 'external_data_3',
} as const satisfies Record<AnswerField, keyof PersonUpdateRow>

/** What `PeopleLookups` tells the directory after it changed a person (drop what is cached of them). */
export interface PeopleLookupsOptions {
  readonly onChange?: (personId: string) => void
}

/**
 * The people directory as other domains read it inside their own transactions: delivery matching
 * addresses to people, the bot reading the person it talks with, the web chat its visitor. Every
 * method takes the executor (connection or transaction) and the tenant first; a batch method is
 * one statement per batch, whatever its size. No other core domain names the `people` table (see
 * boundaries.test.ts).
 */
export class PeopleLookups {
  readonly #onChange: (personId: string) => void

  constructor(options: PeopleLookupsOptions = {}) {
    this.#onChange = options.onChange ?? (() => {})
  }

  #select(db: PeopleExecutor, tenantId: TenantId) {
    return db.selectFrom('people as p')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'p.id').on('i.surface', '=', 'cass'))
      .select(PERSON_COLUMNS)
      .where('p.tenant_id', '=', tenantId)
  }

  /** The tenant's person with this core id. */
  async findById(db: PeopleExecutor, tenantId: TenantId, id: string): Promise<Person | undefined> {
    const row = await this.#select(db, tenantId).where('p.id', '=', id).executeTakeFirst()
    return row ? toPerson(row) : undefined
  }

  /** The tenant's people of these core ids, by id (absent: not the tenant's). One statement. */
  async findMany(db: PeopleExecutor, tenantId: TenantId, ids: readonly string[]): Promise<Map<string, Person>> {
    if (ids.length === 0) return new Map()
    const rows = await this.#select(db, tenantId).where('p.id', 'in', [...ids]).execute()
    return new Map(rows.map((r) => [r.id, toPerson(r)]))
  }

  /** The tenant's people of these Cass person ids (the messaging API's individual ids), by Cass id. One statement. */
  async findManyByCassIds(db: PeopleExecutor, tenantId: TenantId, cassIds: readonly string[]): Promise<Map<string, Person>> {
    const ids = [...new Set(cassIds.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).map((id) => id.toLowerCase()))]
    if (ids.length === 0) return new Map()
    const rows = await this.#select(db, tenantId).where('i.public_id', 'in', ids).execute()
    return new Map(rows.map((r) => { const p = toPerson(r); return [p.cassId, p] }))
  }

  /** The tenant's person with this Cass person id (a UUID, any case); undefined for anything else. */
  async findByCassId(db: PeopleExecutor, tenantId: TenantId, cassId: string): Promise<Person | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(cassId)) return undefined
    const row = await this.#select(db, tenantId).where('i.public_id', '=', cassId.toLowerCase()).executeTakeFirst()
    return row ? toPerson(row) : undefined
  }

  /** The tenant's person with this external id. */
  async findByExternalId(db: PeopleExecutor, tenantId: TenantId, externalId: string): Promise<Person | undefined> {
    const row = await this.#select(db, tenantId).where('p.external_id', '=', externalId).executeTakeFirst()
    return row ? toPerson(row) : undefined
  }

  /** Core ids of the tenant's people with these E.164 phones, by phone. One statement. */
  async idsByPhones(db: PeopleExecutor, tenantId: TenantId, phones: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    if (phones.length === 0) return found
    const rows = await db.selectFrom('people').select(['id', 'phone']).where('tenant_id', '=', tenantId).where('phone', 'in', [...phones]).execute()
    for (const r of rows) if (r.phone) found.set(r.phone, r.id)
    return found
  }

  /**
   * Core ids of the tenant's people with these e-mail addresses, matched case-insensitively, by
   * the lower-cased address. Several people may share an address in some directories; the oldest
   * wins, predictably. One statement.
   */
  async idsByEmails(db: PeopleExecutor, tenantId: TenantId, emails: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))]
    if (wanted.length === 0) return found
    const rows = await db.selectFrom('people').select(['id', sql<string>`lower(email)`.as('email')]).where('tenant_id', '=', tenantId)
      .where(sql<string>`lower(email)`, 'in', wanted).orderBy('created_at').execute()
    for (const r of rows) if (!found.has(r.email)) found.set(r.email, r.id)
    return found
  }

  /** The stored e-mail addresses of these core ids (those that have one), keyed by id. One statement. */
  async emailsOf(db: PeopleExecutor, tenantId: TenantId, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map()
    const rows = await db.selectFrom('people').select(['id', 'email']).where('tenant_id', '=', tenantId).where('id', 'in', [...ids])
      .where('email', 'is not', null).where('email', '!=', '').execute()
    return new Map(rows.map((r) => [r.id, r.email!]))
  }

  /** Which of these core ids are the tenant's people. One statement. */
  async existingIds(db: PeopleExecutor, tenantId: TenantId, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await db.selectFrom('people').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute()
    return new Set(rows.map((r) => r.id))
  }

  /** Whether another of the tenant's people than `exceptId` has this external id. */
  async externalIdTaken(db: PeopleExecutor, tenantId: TenantId, exceptId: string, externalId: string): Promise<boolean> {
    const row = await db.selectFrom('people').select('id')
      .where('tenant_id', '=', tenantId).where('external_id', '=', externalId).where('id', '!=', exceptId)
      .executeTakeFirst()
    return row !== undefined
  }

  /**
   * The core id of the tenant's person with this E.164 phone, creating the person (protocol `sms`,
   * with a Cass identity, as the person API would) when there is none, in the caller's
   * transaction. `names` fill a new person only. Safe under concurrency: the unique phone index
   * decides, and the loser reads the winner's person.
   */
  async ensureByPhone(trx: Transaction<DB>, tenantId: TenantId, phone: string, names: { firstName?: string | null; lastName?: string | null } = {}): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const found = (await this.idsByPhones(trx, tenantId, [phone])).get(phone)
      if (found) return found
      const created = await new PeopleRepository(trx).insertIfAbsent(tenantId, { phone, protocol: 'sms', first_name: names.firstName ?? null, last_name: names.lastName ?? null })
      if (created) return created.id
      if (attempt >= 3) throw new Error('inserting a person by phone keeps conflicting but none has the phone')
    }
  }

  /**
   * A new person without a phone or external id (protocol `web`, a Cass identity like any other
   * person), in the caller's transaction: someone known only to another surface so far.
   */
  async createUnreachable(trx: Transaction<DB>, tenantId: TenantId, names: { firstName?: string | null; lastName?: string | null } = {}): Promise<string> {
    const created = await new PeopleRepository(trx).insertIfAbsent(tenantId, { protocol: 'web', first_name: names.firstName ?? null, last_name: names.lastName ?? null })
    // Nothing unique is set, so nothing can conflict.
    if (!created) throw new Error('inserting a person without phone conflicted')
    return created.id
  }

  /**
   * Give the person this E.164 phone if they have none and no other person of the tenant has it,
   * in the caller's transaction; whether it was given. Announced as every change of a person is.
   */
  async claimPhone(trx: Transaction<DB>, tenantId: TenantId, personId: string, phone: string): Promise<boolean> {
    const r = await trx.updateTable('people').set({ phone, updated_at: sql`now()` })
      .where('tenant_id', '=', tenantId).where('id', '=', personId).where('phone', 'is', null)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('people as o').select('o.id').where('o.tenant_id', '=', tenantId).where('o.phone', '=', phone))))
      .executeTakeFirst()
    const changed = Number(r.numUpdatedRows) > 0
    if (changed) this.#onChange(personId)
    return changed
  }

  /**
   * Store one value in a person's field, in the caller's transaction (the bot's stored answers);
   * external_id only while it is unset. Announced as every change of a person is: the database's
   * trigger (migration 0003) tells every process on commit, and `onChange` drops this process's
   * cached copy at once (the announcement on commit drops it again, with anything read meanwhile).
   */
  async storeAnswer(trx: Transaction<DB>, tenantId: TenantId, personId: string, field: AnswerField, value: string): Promise<void> {
    const column = ANSWER_COLUMNS[field]
    let q = trx.updateTable('people').set({ [column]: value, updated_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', personId)
    if (column === 'external_id') q = q.where('external_id', 'is', null)
    await q.execute()
    this.#onChange(personId)
  }

  /**
   * The console's edit of a person (issue 11): set first and last name, phone (E.164, already
   * normalised by the caller) and e-mail in the caller's transaction; null clears a name or the
   * e-mail. Answers the values as they were, or undefined when the tenant has no such person.
   * A phone another person of the tenant has fails with the `people_tenant_phone` unique violation.
   * Announced like every change of a person.
   */
  async updateContact(trx: Transaction<DB>, tenantId: TenantId, personId: string,
    changes: { firstName?: string | null; lastName?: string | null; phone?: string; email?: string | null }): Promise<{ firstName: string | null; lastName: string | null; phone: string | null; email: string | null } | undefined> {
    const before = await trx.selectFrom('people').select(['first_name', 'last_name', 'phone', 'email'])
      .where('tenant_id', '=', tenantId).where('id', '=', personId).forUpdate().executeTakeFirst()
    if (!before) return undefined
    const set: PersonUpdateRow = {}
    if (changes.firstName !== undefined) set.first_name = changes.firstName
    if (changes.lastName !== undefined) set.last_name = changes.lastName
    if (changes.phone !== undefined) set.phone = changes.phone
    if (changes.email !== undefined) set.email = changes.email
    if (Object.keys(set).length > 0) {
      await trx.updateTable('people').set({ ...set, updated_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', personId).execute()
      this.#onChange(personId)
    }
    return { firstName: before.first_name, lastName: before.last_name, phone: before.phone, email: before.email }
  }

  /**
   * The console's person actions (issue 11): a person's name, phone and e-mail, the row locked for
   * the caller's transaction (so an edit cannot slip in between the check and the action), or
   * undefined when the tenant has no such person.
   */
  async lockContact(trx: Transaction<DB>, tenantId: TenantId, personId: string): Promise<{ id: string; first_name: string | null; last_name: string | null; phone: string | null; email: string | null } | undefined> {
    return trx.selectFrom('people').select(['id', 'first_name', 'last_name', 'phone', 'email'])
      .where('tenant_id', '=', tenantId).where('id', '=', personId).forUpdate().executeTakeFirst()
  }

  /** Purge-data (#86): the person's stored phone and e-mail address, for matching their delivery records. */
  async addressesOf(db: PeopleExecutor, tenantId: TenantId, personId: string): Promise<string[]> {
    const row = await db.selectFrom('people').select(['phone', 'email']).where('tenant_id', '=', tenantId).where('id', '=', personId).executeTakeFirst()
    return [row?.phone ?? null, row?.email?.toLowerCase() ?? null].filter((a): a is string => a !== null && a !== '')
  }

  /**
   * Purge-data (#86): delete the person and its identity on every surface in the caller's
   * transaction (what still points at the person cascades). Answers the rows as they were, for an
   * archive. Announced like any change of a person, so no process keeps it cached.
   */
  async erase(trx: Transaction<DB>, tenantId: TenantId, personId: string): Promise<{ people: unknown[]; identities: unknown[] }> {
    const identities = await trx.deleteFrom('person_identities').where('tenant_id', '=', tenantId).where('person_id', '=', personId).returningAll().execute()
    const people = await trx.deleteFrom('people').where('tenant_id', '=', tenantId).where('id', '=', personId).returningAll().execute()
    this.#onChange(personId)
    return { people, identities }
  }
}
