import type { Kysely } from 'kysely'
import type { DB, NewPersonRow, PersonUpdateRow } from '../../db/schema.ts'
import { GroupCommit } from '../../lib/group-commit.ts'
import { toE164 } from '../../lib/phone.ts'
import { isTimeZone } from '../../lib/timezone.ts'
import { ConflictError, NotFoundError, ValidationError, uniqueViolation } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import type { Notifier } from '../../db/notifier.ts'
import { PersonCache } from './people.cache.ts'
import { PeopleRepository } from './people.repository.ts'
import { PROTOCOLS, type CreatePersonInput, type Person, type PersonFields, type PersonRef, type Protocol, type UpdatePersonInput } from './people.types.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { UUID } from '../../lib/uuid.ts'

/**
 * The channel migration 0003 announces person changes on; since 0020 a payload is a
 * comma-separated list of core person ids (one notification per statement, not per row).
 */
const PERSON_CHANGED = 'switchboard_person_changed'
const LEGACY = /^[1-9][0-9]{0,17}$/

function fieldColumns(f: PersonFields): PersonUpdateRow {
  const row: PersonUpdateRow = {}
  if (f.firstName !== undefined) row.first_name = f.firstName
  if (f.lastName !== undefined) row.last_name = f.lastName
  if (f.externalId !== undefined) row.external_id = f.externalId
  if (f.externalUsername !== undefined) row.external_username = f.externalUsername
  if (f.externalOrg !== undefined) row.external_org = f.externalOrg
  if (f.externalData1 !== undefined) row.external_data_1 = f.externalData1
  if (f.externalData2 !== undefined) row.external_data_2 = f.externalData2
  if (f.externalData3 !== undefined) row.external_data_3 = f.externalData3
  if (f.timezone !== undefined && f.timezone !== '') row.timezone = f.timezone
  if (f.languageType !== undefined && f.languageType !== '') row.language_type = f.languageType
  return row
}

function checkTimezone(tz: string | undefined): void {
  if (tz !== undefined && tz !== '' && !isTimeZone(tz)) throw new ValidationError('invalid_timezone', `unknown time zone ${tz}`, { timezone: tz })
}

/**
 * Concurrent creates and updates are written together (group commit): one statement and one commit
 * for many, which is what lets writes keep up with the database's own rate. At most this many
 * writes of each kind are under way, each with at most MAX_BATCH people.
 *
 * Two, not more: while one write commits, the next one's statement runs, and everything arriving
 * meanwhile joins the write after. More writes in flight only make smaller groups, so more
 * statements and commits for the same people. Updates have a further reason: an update announces
 * its change (NOTIFY), and a committing transaction that notifies holds the notification queue's
 * lock, one for the whole server, until its commit is on disk, so notifying commits run one at a
 * time however many are in flight (the others wait in pg_stat_activity's `Lock: object`).
 * Measured on PostgreSQL at 50 connections, runs interleaved: PATCH with 4 in flight 3,090 and
 * 3,468 req/s (p99 36, 38 ms), with 2 4,683 and 4,543 (p99 27, 26 ms); POST with 8 in flight
 * 2,004 and 2,541 req/s, with 4 2,637 and 2,666, with 2 2,903 and 4,361 (0.085 statements per
 * request instead of 0.16). See bench/README.md.
 */
const MAX_WRITES_IN_FLIGHT = 2
const MAX_BATCH = 100

interface PendingUpdate {
  tenantId: TenantId
  by: 'uuid' | 'legacy'
  key: string
  columns: Array<keyof PersonUpdateRow & string>
  changes: PersonUpdateRow
}

/** A Cass person id as the store keeps it (a lowercase UUID, or the legacy integer); undefined when it is neither. */
function refKey(ref: PersonRef): string | undefined {
  const trimmed = ref.trim()
  return UUID.test(trimmed) ? trimmed.toLowerCase() : LEGACY.test(trimmed) ? trimmed : undefined
}

/** The person directory: one core person per human, found by any of their ids. */
export class PeopleService {
  readonly #db: Kysely<DB>
  readonly #repo: PeopleRepository
  readonly #cache: PersonCache | undefined
  readonly #inserts: GroupCommit<NewPersonRow, Person | undefined>
  readonly #updates: GroupCommit<PendingUpdate, Person | undefined>

  /** With `events`, reads by Cass id are cached and kept fresh by the database's change events. */
  constructor(db: Kysely<DB>, events?: Notifier) {
    this.#db = db
    this.#repo = new PeopleRepository(db)
    const repo = this.#repo
    this.#inserts = new GroupCommit({
      maxGroup: MAX_BATCH, maxInFlight: MAX_WRITES_IN_FLIGHT,
      groupKey: () => '',
      // Rows of a batch are told apart by these, and two creates of one phone must not race in one statement.
      memberKeys: (row) => [
        ...(row.phone ? [`${row.tenant_id}\u0000p\u0000${row.phone}`] : []),
        ...(row.external_id ? [`${row.tenant_id}\u0000e\u0000${row.external_id}`] : []),
      ],
      write: (rows) => repo.insertManyIfAbsent(rows),
    })
    this.#updates = new GroupCommit({
      maxGroup: MAX_BATCH, maxInFlight: MAX_WRITES_IN_FLIGHT,
      groupKey: (u) => `${u.tenantId}\u0000${u.by}\u0000${u.columns.join(',')}`,
      memberKey: (u) => u.key,
      write: (items) => repo.updateManyByCassRef(items[0]!.tenantId, items[0]!.by, items[0]!.columns, items.map((u) => ({ ref: u.key, changes: u.changes }))),
    })
    if (events) {
      const cache = new PersonCache(events)
      this.#cache = cache
      events.onReset(() => cache.clear())
      events.listen(PERSON_CHANGED, (ids) => {
        for (const personId of ids.split(',')) cache.invalidate(personId)
      }).catch(() => cache.clear())
    }
  }

  /**
   * Validate a new person without writing: the protocol, the phone the protocol needs, an
   * identifier, the phone's format and the time zone. Returns the normalised phone and protocol.
   * Throws ValidationError `invalid_protocol`, `phone_required`, `identifier_required`,
   * `invalid_phone`, `invalid_timezone`.
   */
  validateNew(input: CreatePersonInput): { phone: string | null; protocol: Protocol } {
    // An empty protocol, as form clients send for a blank field, means the default.
    const protocol = (input.protocol === undefined || input.protocol === '' ? 'sms' : input.protocol) as Protocol
    if (!PROTOCOLS.includes(protocol)) throw new ValidationError('invalid_protocol', `invalid protocol ${input.protocol}`, { protocol: input.protocol })
    const rawPhone = input.phone !== undefined && input.phone !== '' ? input.phone : undefined
    if (rawPhone === undefined && (protocol === 'sms' || protocol === 'WHATSAPP')) {
      throw new ValidationError('phone_required', 'phone is required for this protocol', { protocol })
    }
    if (rawPhone === undefined && (input.externalId === undefined || input.externalId === '')) {
      throw new ValidationError('identifier_required', 'external_id is required when phone is not given')
    }
    let phone: string | null = null
    if (rawPhone !== undefined) {
      phone = toE164(rawPhone) ?? null
      if (phone === null) throw new ValidationError('invalid_phone', `invalid phone number ${rawPhone}`, { phone: rawPhone })
    }
    checkTimezone(input.timezone)
    return { phone, protocol }
  }

  /**
   * Create a person, or find the tenant's existing person with the same external id or phone.
   * Safe under concurrency: the database's unique indexes decide, so simultaneous creates of one
   * phone yield one person.
   */
  async create(tenant: Tenant, input: CreatePersonInput): Promise<{ person: Person; created: boolean }> {
    const { phone, protocol } = this.validateNew(input)
    const externalId = input.externalId !== undefined && input.externalId !== '' ? input.externalId : null
    const row = { ...fieldColumns({ ...input, externalId: externalId ?? undefined }), phone, protocol }
    // The person that made the insert conflict can lose that phone (a concurrent PATCH) before we
    // read it; then the insert is simply tried again.
    for (let attempt = 1; ; attempt++) {
      const person = await this.#inserts.submit({ ...row, tenant_id: tenant.id })
      if (person) return { person, created: true }
      const existing = await this.#repo.findExisting(this.#db, tenant.id, externalId, phone)
      if (existing) return { person: existing, created: false }
      if (attempt >= 3) throw new Error('insert keeps conflicting but no existing person matches')
    }
  }

  /**
   * The tenant's person with this Cass id (UUID or legacy integer).
   * Throws NotFoundError `person_not_found`, or `person_not_in_tenant` when another tenant owns it.
   */
  async getByRef(tenant: Tenant, ref: PersonRef): Promise<Person> {
    const key = refKey(ref)
    if (key === undefined) throw new NotFoundError('person_not_found', `unknown person ${ref}`, { personId: ref })
    const lookup = key.length === 36 ? { uuid: key } : { legacy: key }
    let person = this.#cache?.get(key)
    if (!person) {
      const generation = this.#cache?.generation ?? 0
      const found = await this.#repo.findByCassRef(tenant.id, lookup)
      if (!found) throw new NotFoundError('person_not_found', `unknown person ${ref}`, { personId: ref })
      if (!found.person) throw new NotFoundError('person_not_in_tenant', `person ${ref} belongs to another tenant`, { personId: ref })
      person = found.person
      this.#cache?.put(person, generation)
    }
    if (person.tenantId !== tenant.id) throw new NotFoundError('person_not_in_tenant', `person ${ref} belongs to another tenant`, { personId: ref })
    return person
  }

  /**
   * Drop this process's cached copy of a person another domain changed in its own transaction
   * (PeopleLookups.storeAnswer); the database announces the change to every process on commit.
   */
  forget(personId: string): void {
    this.#cache?.invalidate(personId)
  }

  /**
   * A new anonymous person of the web chat (the embed without `personId`): protocol `web`, no
   * phone or external id, with a Cass identity like any other person.
   */
  async createAnonymous(tenant: Pick<Tenant, 'id'>): Promise<Person> {
    const person = await this.#repo.insertIfAbsent(tenant.id, { protocol: 'web' })
    // Nothing unique is set, so nothing can conflict.
    if (!person) throw new Error('inserting an anonymous person conflicted')
    return person
  }

  /** The tenant's person with this external id; NotFoundError `person_not_found` otherwise. */
  async getByExternalId(tenant: Tenant, externalId: string): Promise<Person> {
    const person = await this.#repo.findByExternalId(tenant.id, externalId)
    if (!person) throw new NotFoundError('person_not_found', `unknown person with external id ${externalId}`, { externalId })
    return person
  }

  /**
   * Change directory fields. external_id can be set once and never changed; the phone is
   * normalised and must stay unique in the tenant. Throws the getByRef errors, ValidationError
   * `invalid_phone` / `invalid_timezone`, ConflictError `external_id_taken` / `phone_taken`.
   */
  async update(tenant: Tenant, ref: PersonRef, given: UpdatePersonInput): Promise<Person> {
    // As on creation, an empty phone or external_id means "not given": an empty external_id
    // would otherwise be stored, and then could never be replaced by the real one.
    const input = { ...given }
    if (input.externalId === '') delete input.externalId
    if (input.phone === '') delete input.phone
    // Bad input is refused, but an unknown person is reported first, as it always was.
    let invalid: unknown
    let phone: string | undefined
    if (input.phone !== undefined) {
      phone = toE164(input.phone)
      if (phone === undefined) invalid = new ValidationError('invalid_phone', `invalid phone number ${input.phone}`, { phone: input.phone })
    }
    try {
      checkTimezone(input.timezone)
    } catch (err) {
      invalid ??= err
    }
    const key = refKey(ref)
    const changes = fieldColumns(input)
    if (phone !== undefined) changes.phone = phone
    if (invalid !== undefined || key === undefined || Object.keys(changes).length === 0) {
      const target = await this.getByRef(tenant, ref)
      if (invalid !== undefined) throw invalid
      return target
    }
    // One statement finds the person by their Cass id and changes them, written together with
    // other concurrent updates. A set external_id is kept by the database's trigger, whose refusal
    // answers as the check before the update used to: `external_id cannot be changed`.
    const columns = (Object.keys(changes) as Array<keyof PersonUpdateRow & string>).sort()
    let updated: Person | undefined
    try {
      updated = await this.#updates.submit({ tenantId: tenant.id, by: key.length === 36 ? 'uuid' : 'legacy', key, columns, changes })
    } catch (err) {
      const constraint = uniqueViolation(err)
      if (constraint === 'people_tenant_external_id') throw new ConflictError('external_id_taken', 'external_id belongs to another person', { externalId: input.externalId })
      if (constraint === 'people_tenant_phone') throw new ConflictError('phone_taken', 'phone belongs to another person', { phone: input.phone })
      if ((err as { constraint?: string }).constraint === 'people_external_id_immutable') {
        throw new ConflictError('external_id_taken', 'external_id cannot be changed', { externalId: input.externalId })
      }
      throw err
    }
    if (updated) {
      this.#cache?.invalidate(updated.id)
      return updated
    }
    // Nobody of this tenant has that id: getByRef says whether it is unknown or another tenant's.
    await this.getByRef(tenant, ref)
    throw new NotFoundError('person_not_found', `unknown person ${ref}`, { personId: ref })
  }
}
