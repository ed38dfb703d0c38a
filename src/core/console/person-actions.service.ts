import { sql, type Kysely, type Transaction } from 'kysely'
import type { Notifier } from '../../db/notifier.ts'
import type { DB } from '../../db/schema.ts'
import { toE164 } from '../../lib/phone.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, uniqueViolation } from '../errors.ts'
import { LiveChannel } from '../live.ts'
import type { PeopleLookups, Person } from '../people/index.ts'
import { normalizeAddress, type Suppression, type SuppressionScope, type SuppressionService } from '../suppression/index.ts'
import type { ConsoleRole, ConsoleUser } from './console.types.ts'

/** What a console user may do to a person from the person page. */
export const PERSON_ACTIONS = ['edit', 'add_suppression', 'consent_withdrawn', 'consent_given', 'lift_suppression', 'ping'] as const
export type PersonAction = (typeof PERSON_ACTIONS)[number]

/**
 * Who may do what. Anyone who talks to people may correct their details and must be able to honour
 * a "do not contact me" at once (add a suppression, record a withdrawn consent); contacting someone
 * again (recording a given consent, lifting a suppression) is a compliance decision of owners,
 * admins and supervisors.
 */
const ALLOWED: Record<ConsoleRole, readonly PersonAction[]> = {
  owner: PERSON_ACTIONS,
  admin: PERSON_ACTIONS,
  supervisor: PERSON_ACTIONS,
  agent: ['edit', 'add_suppression', 'consent_withdrawn', 'ping'],
  clinician: ['edit', 'add_suppression', 'consent_withdrawn', 'ping'],
}

/** Whether `role` may do `action` to a person. */
export function canAct(role: ConsoleRole, action: PersonAction): boolean {
  return ALLOWED[role].includes(action)
}

/** The person's own opt-outs: only their renewed consent (or their START) lifts them. */
const OWN_OPT_OUTS = ['stop_keyword', 'consent_withdrawn'] as const
/** What the organisation put there: lifted by hand. */
const ORG_REASONS = ['manual', 'dnc'] as const
const REASON_TEXT: Record<string, string> = { stop_keyword: 'a STOP reply', consent_withdrawn: 'a withdrawn consent', dnc: 'the do-not-contact list', manual: 'added by hand' }
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const MAX_NAME = 200
const MAX_NOTE = 500
/** The channel migrations/0040 announces timeline changes on: `<tenant id>:<person id>`, comma-separated. */
const TIMELINE_CHANNEL = 'switchboard_timeline'

/** One entry of a person's timeline: a message in or out on any surface, or a console action. */
export interface TimelineEntry {
  readonly id: string
  /** `message`, or the activity's kind (`person_edited`, `consent_given`, …). */
  readonly kind: string
  readonly direction: 'in' | 'out' | null
  readonly channel: string
  readonly text: string
  readonly threadName: string | null
  /** Who did it (activities): `console:<email>`. */
  readonly actor: string | null
  readonly createdAt: Date
}

/** A page of the timeline, newest first, and the cursor of the next (older) page. */
export interface TimelinePage {
  readonly events: TimelineEntry[]
  readonly next: string | null
}

/** Changes to a person's details; null clears a name or the e-mail. Absent: unchanged. */
export interface EditPersonInput {
  firstName?: string | null | undefined
  lastName?: string | null | undefined
  phone?: string | null | undefined
  email?: string | null | undefined
}

/**
 * The bot as the person page uses it: the tenant's thread names, and sending a person into a thread
 * (the person API's ping, on its path: the suppression list, the person's protocol). `ping` throws
 * ValidationError `thread_not_found` / `person_unreachable` / `missing_placeholder`.
 */
export interface PersonPagePing {
  threadNames(tenantId: TenantId): Promise<string[]>
  ping(tenantId: TenantId, person: Person, threadName: string): Promise<void>
}

/** A suppression or consent of one of the person's addresses on one scope (a channel, or `all`). */
export interface AddressScope {
  scope: string
  address: string
}

interface PersonRow { id: string; first_name: string | null; last_name: string | null; phone: string | null; email: string | null }

/** A timeline cursor: the last entry's time (UTC, microseconds) and id. */
function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url')
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id, extra] = (cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '').split('|')
  if (extra !== undefined || !at || !id || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/.test(at) || !/^[\w-]{1,64}$/.test(id) || Number.isNaN(Date.parse(`${at}Z`))) {
    throw new ValidationError('invalid_cursor', 'cursor is not one this API answered')
  }
  return { at, id }
}

const scopeLabel = (scope: string) => (scope === 'all' ? 'every channel' : scope === 'sms' ? 'SMS' : scope)

/**
 * A person's one timeline as the console shows it (messages on every surface, and what console
 * users did), paged newest first with a cursor and live through the database's announcements; and
 * the person page's actions — edit their details, record a consent, add or lift a suppression —
 * each written in one transaction with its timeline activity, so an action and its record never
 * part. Suppressions go through the one suppression list every send checks.
 */
export class PersonActions {
  readonly #db: Kysely<DB>
  readonly #suppression: SuppressionService
  readonly #people: PeopleLookups
  readonly #live: LiveChannel
  readonly #bot: PersonPagePing | undefined

  constructor(deps: { db: Kysely<DB>; suppression: SuppressionService; people: PeopleLookups; notifier: Notifier; bot?: PersonPagePing }) {
    this.#db = deps.db
    this.#suppression = deps.suppression
    this.#people = deps.people
    this.#live = new LiveChannel(deps.notifier, TIMELINE_CHANNEL)
    this.#bot = deps.bot
  }

  /** The tenant's bot threads a person can be pinged into (names, in the threads file's order). */
  async threadNames(tenantId: TenantId): Promise<string[]> {
    return this.#bot ? this.#bot.threadNames(tenantId) : []
  }

  /**
   * Send the person into one of the tenant's threads, as the person API's ping does, and record it
   * in their timeline (after the ping is taken: the ping has its own transaction). Throws
   * ForbiddenError, NotFoundError `person_not_found`, ValidationError `invalid_person_action`,
   * `thread_not_found`, `person_unreachable`; nothing is recorded then.
   */
  async ping(by: ConsoleUser, personId: string, threadName: string): Promise<void> {
    this.#allow(by, 'ping')
    if (threadName.trim() === '' || threadName.length > 200 || threadName.includes('\u0000')) throw new ValidationError('invalid_person_action', 'thread_name must be the name of one of the organisation’s threads', { field: 'thread_name' })
    const person = (await this.#people.findMany(this.#db, by.tenantId, [personId])).get(personId)
    if (!person) throw new NotFoundError('person_not_found', 'no such person', { personId })
    if (!this.#bot) throw new ValidationError('thread_not_found', `no thread ${threadName}`, { threadName })
    await this.#bot.ping(by.tenantId, person, threadName)
    await this.#db.transaction().execute((trx) => this.#record(trx, by, personId, 'pinged', `Pinged into the thread ${threadName}`, { thread_name: threadName }))
  }

  /**
   * The person's timeline, newest first: `limit` entries older than `before` (a cursor from a
   * previous page), and the cursor of the next page (null at the oldest). Throws ValidationError
   * `invalid_cursor`.
   */
  async timeline(tenantId: TenantId, personId: string, opts: { limit: number; before?: string | undefined }): Promise<TimelinePage> {
    let q = this.#db.selectFrom('person_timeline')
      .select(['id', 'kind', 'direction', 'channel', 'text', 'thread_name', 'actor', 'created_at',
        sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('at')])
      .where('tenant_id', '=', tenantId).where('person_id', '=', personId)
    if (opts.before !== undefined) {
      const { at, id } = decodeCursor(opts.before)
      q = q.where(sql<boolean>`(created_at, id) < (${at}::timestamp AT TIME ZONE 'UTC', ${id}::text)`)
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit + 1).execute()
    const page = rows.slice(0, opts.limit)
    const last = page.at(-1)
    return {
      events: page.map((r) => ({ id: r.id, kind: r.kind, direction: r.direction, channel: r.channel, text: r.text, threadName: r.thread_name, actor: r.actor, createdAt: r.created_at })),
      next: rows.length > opts.limit && last ? encodeCursor(last.at, last.id) : null,
    }
  }

  /** Call `onChange` whenever the person's timeline may have changed, until `close()`. */
  async watch(tenantId: TenantId, personId: string, onChange: () => void): Promise<{ close(): void }> {
    const sub = { key: `${tenantId}:${personId}`, poke: onChange }
    await this.#live.add(sub)
    return { close: () => this.#live.remove(sub) }
  }

  /**
   * Change the person's first and last name, phone and e-mail (null or '' clears a name or the
   * e-mail; the phone can be changed, not removed). Throws ForbiddenError `forbidden`, NotFoundError
   * `person_not_found`, ValidationError `invalid_phone` / `invalid_person_action`, ConflictError
   * `phone_taken`; nothing changes then.
   */
  async edit(by: ConsoleUser, personId: string, input: EditPersonInput): Promise<{ changed: string[] }> {
    this.#allow(by, 'edit')
    const changes: { firstName?: string | null; lastName?: string | null; phone?: string; email?: string | null } = {}
    for (const field of ['firstName', 'lastName'] as const) {
      const raw = input[field]
      if (raw === undefined) continue
      const value = raw === null ? null : raw.trim() || null
      if (value !== null && (value.length > MAX_NAME || value.includes('\u0000'))) throw new ValidationError('invalid_person_action', `${field === 'firstName' ? 'first_name' : 'last_name'} must be at most ${MAX_NAME} characters`, { field: field === 'firstName' ? 'first_name' : 'last_name' })
      changes[field] = value
    }
    if (input.phone !== undefined) {
      if (input.phone === null || input.phone.trim() === '') throw new ValidationError('invalid_person_action', 'the phone can be changed, not removed', { field: 'phone' })
      const phone = toE164(input.phone)
      if (phone === undefined) throw new ValidationError('invalid_phone', `invalid phone number ${input.phone}`, { phone: input.phone })
      changes.phone = phone
    }
    if (input.email !== undefined) {
      const email = input.email === null ? null : input.email.trim() || null
      if (email !== null && (!EMAIL.test(email) || email.length > 320)) throw new ValidationError('invalid_person_action', 'email must be an e-mail address', { field: 'email' })
      changes.email = email
    }
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const before = await this.#people.updateContact(trx, by.tenantId, personId, changes)
        if (!before) throw new NotFoundError('person_not_found', 'no such person', { personId })
        const labels = { firstName: 'first name', lastName: 'last name', phone: 'phone', email: 'e-mail' } as const
        const changed = (Object.keys(changes) as Array<keyof typeof changes>).filter((k) => (changes[k] ?? null) !== before[k])
        if (changed.length > 0) {
          const text = `Edited ${changed.map((k) => `${labels[k]}: ${before[k] ?? '—'} → ${changes[k] ?? '—'}`).join('; ')}`
          await this.#record(trx, by, personId, 'person_edited', text, { fields: changed })
        }
        return { changed: changed.map((k) => ({ firstName: 'first_name', lastName: 'last_name', phone: 'phone', email: 'email' })[k]) }
      })
    } catch (err) {
      if (uniqueViolation(err) === 'people_tenant_phone') throw new ConflictError('phone_taken', 'phone belongs to another person', { phone: changes.phone ?? '' })
      throw err
    }
  }

  /**
   * Suppress one of the person's addresses on a channel or on all, for `reason` `manual` or `dnc`,
   * from the console user. An address already suppressed on that scope keeps its entry (`created`
   * false, no activity). Throws ForbiddenError, NotFoundError `person_not_found`, ValidationError
   * `invalid_scope` / `invalid_address` / `invalid_person_action`.
   */
  async addSuppression(by: ConsoleUser, personId: string, input: AddressScope & { reason: string; note?: string | undefined }): Promise<{ entry: Suppression; created: boolean }> {
    this.#allow(by, 'add_suppression')
    if (!(ORG_REASONS as readonly string[]).includes(input.reason)) {
      throw new ValidationError('invalid_person_action', `reason must be one of ${ORG_REASONS.join(', ')} (a withdrawn consent is recorded as a consent)`, { field: 'reason' })
    }
    const note = this.#note(input.note)
    return this.#db.transaction().execute(async (trx) => {
      const { scope, address } = await this.#ownAddress(trx, by.tenantId, personId, input)
      const result = await this.#suppression.add({ id: by.tenantId }, { scope, address, reason: input.reason, source: `console:${by.email}` }, { trx })
      if (result.created) {
        await this.#record(trx, by, personId, 'suppression_added', `Suppressed ${address} on ${scopeLabel(scope)} (${REASON_TEXT[input.reason]})${note ? `: ${note}` : ''}`, { scope, address, reason: input.reason })
      }
      return result
    })
  }

  /**
   * Lift the suppression of one of the person's addresses on one scope, when the organisation put
   * it there (`manual`, `dnc`). The person's own opt-out (a STOP reply, a withdrawn consent) is
   * lifted only by recording their consent: ConflictError `suppression_needs_consent`. Throws
   * ForbiddenError, NotFoundError `person_not_found` / `suppression_not_found`, ValidationError.
   */
  async liftSuppression(by: ConsoleUser, personId: string, input: AddressScope & { note?: string | undefined }): Promise<Suppression> {
    this.#allow(by, 'lift_suppression')
    const note = this.#note(input.note)
    return this.#db.transaction().execute(async (trx) => {
      const { scope, address } = await this.#ownAddress(trx, by.tenantId, personId, input)
      const entry = await this.#suppression.find({ id: by.tenantId }, { scope, address }, { trx })
      if (!entry) throw new NotFoundError('suppression_not_found', `${address} is not suppressed on ${scope}`)
      if ((OWN_OPT_OUTS as readonly string[]).includes(entry.reason)) {
        throw new ConflictError('suppression_needs_consent', `this suppression is the person's own opt-out (${REASON_TEXT[entry.reason]}): record their consent to lift it`, { reason: entry.reason })
      }
      const removed = await this.#suppression.remove({ id: by.tenantId }, { scope, address, reasons: ORG_REASONS }, { trx })
      if (!removed) throw new NotFoundError('suppression_not_found', `${address} is not suppressed on ${scope}`)
      await this.#record(trx, by, personId, 'suppression_lifted', `Lifted the suppression of ${address} on ${scopeLabel(scope)} (${REASON_TEXT[removed.reason]}, by ${removed.source})${note ? `: ${note}` : ''}`, { scope, address, reason: removed.reason })
      return removed
    })
  }

  /**
   * Record the person's consent to be contacted at one of their addresses on a scope, or its
   * withdrawal. Given: their own opt-outs on that scope and address (STOP, withdrawn consent) are
   * lifted; what the organisation put there stays. Withdrawn: the address is suppressed with reason
   * `consent_withdrawn`. Always recorded in the timeline, with `note` (how the consent was given).
   */
  async recordConsent(by: ConsoleUser, personId: string, input: AddressScope & { state: string; note?: string | undefined }): Promise<{ lifted: Suppression[]; remaining: Suppression[]; added: Suppression | null }> {
    if (input.state !== 'given' && input.state !== 'withdrawn') throw new ValidationError('invalid_person_action', 'state must be given or withdrawn', { field: 'state' })
    this.#allow(by, input.state === 'given' ? 'consent_given' : 'consent_withdrawn')
    const note = this.#note(input.note)
    return this.#db.transaction().execute(async (trx) => {
      const { scope, address } = await this.#ownAddress(trx, by.tenantId, personId, input)
      const suffix = note ? `: ${note}` : ''
      if (input.state === 'withdrawn') {
        const { entry } = await this.#suppression.add({ id: by.tenantId }, { scope, address, reason: 'consent_withdrawn', source: `console:${by.email}` }, { trx })
        await this.#record(trx, by, personId, 'consent_withdrawn', `Consent withdrawn for ${address} on ${scopeLabel(scope)}${suffix}`, { scope, address })
        return { lifted: [], remaining: [], added: entry }
      }
      const lifted = await this.#suppression.remove({ id: by.tenantId }, { scope, address, reasons: OWN_OPT_OUTS }, { trx })
      const left = await this.#suppression.find({ id: by.tenantId }, { scope, address }, { trx })
      const remaining = left ? [left] : []
      const parts = [`Consent given for ${address} on ${scopeLabel(scope)}`]
      if (lifted) parts.push(`lifted ${REASON_TEXT[lifted.reason]}`)
      if (remaining.length > 0) parts.push(`still suppressed by ${remaining.map((s) => REASON_TEXT[s.reason]).join(', ')}`)
      await this.#record(trx, by, personId, 'consent_given', `${parts.join('; ')}${suffix}`, { scope, address, lifted: lifted?.reason ?? null })
      return { lifted: lifted ? [lifted] : [], remaining, added: null }
    })
  }

  #allow(by: ConsoleUser, action: PersonAction): void {
    if (!canAct(by.role, action)) throw new ForbiddenError('forbidden', `a console ${by.role} may not ${action.replace('_', ' ')}`)
  }

  #note(raw: string | undefined): string {
    const note = (raw ?? '').trim()
    if (note.length > MAX_NOTE || note.includes('\u0000')) throw new ValidationError('invalid_person_action', `note must be at most ${MAX_NOTE} characters`, { field: 'note' })
    return note
  }

  /**
   * The scope and the address as the suppression list keeps them, when the address is the
   * person's phone or e-mail (locked for the transaction). Throws NotFoundError `person_not_found`,
   * ValidationError `invalid_scope` / `invalid_address` / `invalid_person_action`.
   */
  async #ownAddress(trx: Transaction<DB>, tenantId: TenantId, personId: string, input: AddressScope): Promise<{ scope: string; address: string }> {
    const person: PersonRow | undefined = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(personId)
      ? await this.#people.lockContact(trx, tenantId, personId)
      : undefined
    if (!person) throw new NotFoundError('person_not_found', 'no such person', { personId })
    // The suppression list's own checks first: an unknown scope or a malformed address.
    await this.#suppression.find({ id: tenantId }, input, { trx })
    const scope = input.scope
    const address = normalizeAddress(scope as SuppressionScope, input.address)
    const own = [person.phone, person.email?.toLowerCase() ?? null].filter((a): a is string => a !== null)
    if (!own.includes(address)) throw new ValidationError('invalid_person_action', 'address must be the person’s phone or e-mail', { field: 'address' })
    return { scope, address }
  }

  async #record(trx: Transaction<DB>, by: ConsoleUser, personId: string, kind: string, text: string, details: Record<string, unknown>): Promise<void> {
    await trx.insertInto('person_activities').values({ tenant_id: by.tenantId, person_id: personId, kind, text, actor: `console:${by.email}`, details: JSON.stringify(details) }).execute()
  }
}
