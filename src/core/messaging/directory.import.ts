import { sql, type Kysely, type Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { CsvError, readCsv } from '../../lib/csv.ts'
import { toE164 } from '../../lib/phone.ts'
import { parseSetupText } from '../../lib/schema-problems.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ValidationError } from '../errors.ts'
import { PeopleBulk, type BulkPersonRow } from '../people/index.ts'
import type { Tenant } from '../tenants/index.ts'
import {
  checkFileShape, checkIndividual, checkItem, INDIVIDUAL_COLUMNS,
  type DirectoryGroupItem, type DirectoryOrganizationItem, type DirectoryUserItem, type NormalIndividual,
} from './directory.schema.ts'
import { DIRECTORY_IMPORT_REPLICATOR, replicatorRan } from './replicators.ts'

/** Rows written per statement: big enough to amortise round trips, small enough to keep memory flat. */
export const IMPORT_BATCH = 1000
/** Largest YAML/JSON directory file read whole (CSV streams and has no limit). */
export const MAX_DIRECTORY_TEXT = 64 * 1024 * 1024
/** Problems reported at most (the count says how many there were). */
const MAX_PROBLEMS = 100

/** A directory file: YAML or JSON text, or CSV (individuals only) as chunks read as they come. */
export type DirectorySource =
  | { readonly format: 'yaml' | 'json'; readonly text: string }
  | { readonly format: 'csv'; readonly chunks: AsyncIterable<string | Buffer> | Iterable<string> }
  /** A JSON body already parsed (the admin API's). */
  | { readonly format: 'parsed'; readonly value: unknown }

/** What an import did with one kind of record. */
export interface ImportCounts { created: number; updated: number; unchanged: number }

export interface DirectoryImportResult {
  readonly organizations: ImportCounts
  readonly individuals: ImportCounts
  readonly users: ImportCounts
  readonly groups: ImportCounts
}

/** Progress of an import: individuals written so far (the long part). */
export type ImportProgress = (p: { readonly individuals: number }) => void

type Trx = Transaction<DB>
const zero = (): ImportCounts => ({ created: 0, updated: 0, unchanged: 0 })

class Problems {
  readonly list: string[] = []
  count = 0
  add(...lines: string[]): void {
    for (const l of lines) {
      this.count++
      if (this.list.length < MAX_PROBLEMS) this.list.push(l)
    }
  }
  get any(): boolean {
    return this.count > 0
  }
  fail(): never {
    const errors = this.count > this.list.length ? [...this.list, `… and ${this.count - this.list.length} more problems`] : this.list
    throw new ValidationError('invalid_directory', errors[0]!, { errors })
  }
}

/**
 * The directory import (README "Messaging API: the directory"): clinics by external id,
 * individuals (core people) by external id, users by email, groups by external id; a second import
 * updates in place and says what was created, updated and unchanged. The whole import is ONE
 * transaction: a file with any problem (its shape, a bad phone, a reference to nothing, a phone
 * another person has) writes nothing and reports every problem (up to 100) at its path. Individuals
 * are read row by row (CSV streams) and written IMPORT_BATCH at a time with multi-row statements,
 * so memory stays flat; what is kept per row is its external id and phone, to find duplicates.
 */
export class DirectoryImport {
  readonly #db: Kysely<DB>
  readonly #bulk = new PeopleBulk()

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async run(tenant: Tenant, source: DirectorySource, onProgress?: ImportProgress): Promise<DirectoryImportResult> {
    const problems = new Problems()
    let doc: Record<string, unknown[] | undefined> = {}
    if (source.format !== 'csv') {
      const parsed = source.format === 'parsed'
        ? (source.value === undefined || source.value === null ? { ok: false as const, problem: '(document): the directory file is empty' } : { ok: true as const, value: source.value })
        : parseSetupText(source.text, source.format, 'the directory file', MAX_DIRECTORY_TEXT)
      if (!parsed.ok) problems.add(parsed.problem)
      else problems.add(...checkFileShape(parsed.value))
      if (problems.any) problems.fail()
      doc = parsed.ok ? parsed.value as Record<string, unknown[] | undefined> : {}
      for (const kind of ['organizations', 'users', 'groups'] as const) {
        ;(doc[kind] ?? []).forEach((item, n) => problems.add(...checkItem(kind, item, `${kind}[${n}]`)))
      }
      // Shapes first: cross-references of a file that is not even well-formed would only add noise.
      if (problems.any) problems.fail()
    }
    return this.#db.transaction().execute(async (trx) => {
      const result = { organizations: zero(), individuals: zero(), users: zero(), groups: zero() }
      const clinics = await this.#organizations(trx, tenant.id, (doc.organizations ?? []) as DirectoryOrganizationItem[], problems, result.organizations)
      const rows = source.format === 'csv' ? csvIndividuals(source.chunks, problems) : docIndividuals(doc.individuals ?? [])
      await this.#individuals(trx, tenant.id, rows, clinics, problems, result.individuals, onProgress)
      const users = await this.#users(trx, tenant.id, (doc.users ?? []) as DirectoryUserItem[], problems, result.users)
      await this.#groups(trx, tenant, (doc.groups ?? []) as DirectoryGroupItem[], clinics, users, problems, result.groups)
      if (problems.any) problems.fail()
      await replicatorRan(trx, tenant.id, DIRECTORY_IMPORT_REPLICATOR)
      return result
    })
  }

  /** Clinics of the file created or updated; answers every clinic of the tenant by external id. */
  async #organizations(trx: Trx, tenantId: TenantId, items: DirectoryOrganizationItem[], problems: Problems, counts: ImportCounts): Promise<Map<string, string>> {
    const existing = await trx.selectFrom('msg_organizations').select(['id', 'external_id', 'name', 'display_name', 'timezone']).where('tenant_id', '=', tenantId).execute()
    const byExt = new Map(existing.map((o) => [o.external_id, o]))
    const seen = new Set<string>()
    for (const [n, o] of items.entries()) {
      const ext = o.external_id.trim()
      if (seen.has(ext)) {
        problems.add(`organizations[${n}].external_id: "${ext}" is listed twice`)
        continue
      }
      seen.add(ext)
      const values = { name: o.name, display_name: o.display_name ?? null, timezone: o.timezone ?? 'UTC' }
      const found = byExt.get(ext)
      if (!found) {
        const row = await trx.insertInto('msg_organizations').values({ tenant_id: tenantId, external_id: ext, ...values }).returning(['id', 'external_id', 'name', 'display_name', 'timezone']).executeTakeFirstOrThrow()
        byExt.set(ext, row)
        counts.created++
      } else if (found.name === values.name && found.display_name === values.display_name && found.timezone === values.timezone) {
        counts.unchanged++
      } else {
        await trx.updateTable('msg_organizations').set({ ...values, updated_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', found.id).execute()
        counts.updated++
      }
    }
    return new Map([...byExt].map(([ext, o]) => [ext, o.id]))
  }

  /** Individuals checked row by row and written a batch at a time (nothing is written once a problem is found). */
  async #individuals(trx: Trx, tenantId: TenantId, rows: AsyncIterable<{ base: string; value: unknown }>, clinics: Map<string, string>, problems: Problems, counts: ImportCounts, onProgress?: ImportProgress): Promise<void> {
    // Only ids and phones are kept per row (with the row's number), to find duplicates.
    const seenIds = new Map<string, number>()
    const seenPhones = new Map<string, number>()
    let rowNo = 0
    let batch: Array<{ base: string; row: NormalIndividual }> = []
    let done = 0
    const flush = async () => {
      const current = batch
      batch = []
      if (current.length === 0 || problems.any) return
      const people: BulkPersonRow[] = current.map(({ row }) => ({ externalId: row.externalId, firstName: row.firstName, lastName: row.lastName, phone: row.phone, timezone: row.timezone }))
      const conflicts = await this.#bulk.phoneConflicts(trx, tenantId, people)
      if (conflicts.length > 0) {
        const baseOf = new Map(current.map((c) => [c.row.externalId, c.base]))
        for (const c of conflicts) problems.add(`${baseOf.get(c.externalId)}.phone: ${c.phone} belongs to another person of the tenant`)
        return
      }
      const written = await this.#bulk.upsertByExternalId(trx, tenantId, people)
      const personIds = written.map((w) => w.personId)
      const own = await trx.selectFrom('msg_individuals')
        .select(['person_id', 'account_type', sql<string | null>`birth_date::text`.as('birth_date'), 'preferred_name', 'owner_id'])
        .where('tenant_id', '=', tenantId).where('person_id', 'in', personIds).execute()
      const ownBy = new Map(own.map((o) => [o.person_id, o]))
      const changed: Array<{ personId: string; row: NormalIndividual; ownerId: string | null }> = []
      current.forEach(({ row }, n) => {
        const w = written[n]!
        const ownerId = row.organization === null ? null : clinics.get(row.organization) ?? null
        const o = ownBy.get(w.personId)
        const same = o !== undefined && o.account_type === row.accountType && o.birth_date === row.birthDate && o.preferred_name === row.preferredName && o.owner_id === ownerId
        if (!same) changed.push({ personId: w.personId, row, ownerId })
        if (w.outcome === 'created') counts.created++
        else if (w.outcome === 'updated' || !same) counts.updated++
        else counts.unchanged++
      })
      if (changed.length > 0) {
        const col = <T>(f: (c: (typeof changed)[number]) => T) => changed.map(f)
        await sql`
          INSERT INTO msg_individuals (person_id, tenant_id, account_type, birth_date, preferred_name, owner_id)
          SELECT v.person_id, ${tenantId}::uuid, v.account_type, v.birth_date, v.preferred_name, v.owner_id
          FROM unnest(${col((c) => c.personId)}::uuid[], ${col((c) => c.row.accountType)}::text[], ${col((c) => c.row.birthDate)}::date[],
            ${col((c) => c.row.preferredName)}::text[], ${col((c) => c.ownerId)}::uuid[]) AS v(person_id, account_type, birth_date, preferred_name, owner_id)
          ON CONFLICT (person_id) DO UPDATE SET account_type = excluded.account_type, birth_date = excluded.birth_date,
            preferred_name = excluded.preferred_name, owner_id = excluded.owner_id, synced_at = now()`.execute(trx)
      }
      done += current.length
      onProgress?.({ individuals: done })
    }
    for await (const { base, value } of rows) {
      const no = rowNo++
      const checked = checkIndividual(value, base)
      if (!checked.ok) {
        problems.add(...checked.problems)
        continue
      }
      const row = checked.row
      const twice = seenIds.get(row.externalId)
      if (twice !== undefined) {
        problems.add(`${base}.external_id: "${row.externalId}" is listed twice (first at individuals[${twice}])`)
        continue
      }
      seenIds.set(row.externalId, no)
      if (row.phone !== null) {
        const other = seenPhones.get(row.phone)
        if (other !== undefined) problems.add(`${base}.phone: ${row.phone} is also the phone of individuals[${other}]`)
        else seenPhones.set(row.phone, no)
      }
      if (row.organization !== null && !clinics.has(row.organization)) problems.add(`${base}.organization: no organization "${row.organization}"`)
      batch.push({ base, row })
      if (batch.length >= IMPORT_BATCH) await flush()
    }
    await flush()
  }

  /** Users of the file by email; answers every user of the tenant: email → id. */
  async #users(trx: Trx, tenantId: TenantId, items: DirectoryUserItem[], problems: Problems, counts: ImportCounts): Promise<Map<string, string>> {
    const refs = [...new Set(items.map((u) => u.individual).filter((x): x is string => x !== undefined && x !== ''))]
    const persons = await this.#bulk.idsByExternalId(trx, tenantId, refs)
    const existing = await trx.selectFrom('msg_users').selectAll().where('tenant_id', '=', tenantId).execute()
    const byEmail = new Map(existing.map((u) => [u.email, u]))
    const ids = new Map(existing.map((u) => [u.email, u.id]))
    const seen = new Set<string>()
    for (const [n, u] of items.entries()) {
      const email = u.email.trim().toLowerCase()
      if (seen.has(email)) {
        problems.add(`users[${n}].email: "${email}" is listed twice`)
        continue
      }
      seen.add(email)
      let personId: string | null = null
      if (u.individual !== undefined && u.individual !== '') {
        personId = persons.get(u.individual) ?? null
        if (personId === null) problems.add(`users[${n}].individual: no individual "${u.individual}"`)
      }
      if (problems.any) continue
      const values = {
        username: u.username ?? email, first_name: u.first_name ?? null, last_name: u.last_name ?? null,
        phone: u.phone ? toE164(u.phone) ?? null : null, locale: u.locale ?? null, tz: u.tz ?? null, person_id: personId,
        notifications: JSON.stringify(u.notifications ?? []),
      }
      const found = byEmail.get(email)
      if (!found) {
        const row = await trx.insertInto('msg_users').values({ tenant_id: tenantId, email, ...values }).returning('id').executeTakeFirstOrThrow()
        ids.set(email, row.id)
        counts.created++
      } else if (found.username === values.username && found.first_name === values.first_name && found.last_name === values.last_name && found.phone === values.phone
        && found.locale === values.locale && found.tz === values.tz && found.person_id === values.person_id && JSON.stringify(found.notifications) === values.notifications) {
        counts.unchanged++
      } else {
        await trx.updateTable('msg_users').set({ ...values, synced_at: sql`now()`, updated_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', found.id).execute()
        counts.updated++
      }
    }
    return ids
  }

  /** Groups of the file by external id, their parents, and their members (replaced by the file's lists). */
  async #groups(trx: Trx, tenant: Tenant, items: DirectoryGroupItem[], clinics: Map<string, string>, users: Map<string, string>, problems: Problems, counts: ImportCounts): Promise<void> {
    if (items.length === 0) return
    const tenantId = tenant.id
    const existing = await trx.selectFrom('msg_individual_groups').select(['id', 'external_id', 'name', 'parent_id', 'organization_id']).where('tenant_id', '=', tenantId).execute()
    const byExt = new Map(existing.map((g) => [g.external_id, g]))
    const inFile = new Map<string, number>()
    items.forEach((g, n) => {
      const ext = g.external_id.trim()
      if (inFile.has(ext)) problems.add(`groups[${n}].external_id: "${ext}" is listed twice`)
      else inFile.set(ext, n)
    })
    const refs = [...new Set(items.flatMap((g) => g.individuals ?? []))]
    const persons = await this.#bulk.idsByExternalId(trx, tenantId, refs)
    items.forEach((g, n) => {
      if (g.parent !== undefined && g.parent !== '' && !inFile.has(g.parent) && !byExt.has(g.parent)) problems.add(`groups[${n}].parent: no group "${g.parent}"`)
      if (g.parent !== undefined && g.parent === g.external_id) problems.add(`groups[${n}].parent: a group cannot be its own parent`)
      if (g.organization !== undefined && g.organization !== '' && !clinics.has(g.organization)) problems.add(`groups[${n}].organization: no organization "${g.organization}"`)
      ;(g.individuals ?? []).forEach((x, k) => {
        if (!persons.has(x)) problems.add(`groups[${n}].individuals[${k}]: no individual "${x}"`)
      })
      ;(g.users ?? []).forEach((x, k) => {
        if (!users.has(x.trim().toLowerCase())) problems.add(`groups[${n}].users[${k}]: no user "${x}"`)
      })
    })
    // A parent chain must end: a cycle among the file's groups is refused.
    items.forEach((g, n) => {
      const seen = new Set<string>([g.external_id])
      let at = g.parent
      while (at !== undefined && at !== '') {
        if (seen.has(at)) {
          problems.add(`groups[${n}].parent: the parents of "${g.external_id}" go round in a circle`)
          break
        }
        seen.add(at)
        const next = inFile.get(at)
        at = next !== undefined ? items[next]!.parent : undefined
      }
    })
    if (problems.any) return
    const ids = new Map([...byExt].map(([ext, g]) => [ext, g.id]))
    const changed = new Set<string>()
    for (const g of items) {
      const ext = g.external_id.trim()
      const organizationId = g.organization ? clinics.get(g.organization)! : tenantId
      const found = byExt.get(ext)
      if (!found) {
        const row = await trx.insertInto('msg_individual_groups').values({ tenant_id: tenantId, external_id: ext, name: g.name, organization_id: organizationId }).returning('id').executeTakeFirstOrThrow()
        ids.set(ext, row.id)
        changed.add(ext)
        counts.created++
      } else if (found.name !== g.name || found.organization_id !== organizationId) {
        await trx.updateTable('msg_individual_groups').set({ name: g.name, organization_id: organizationId, updated_at: sql`now()` }).where('tenant_id', '=', tenantId).where('id', '=', found.id).execute()
        changed.add(ext)
      }
    }
    for (const g of items) {
      const id = ids.get(g.external_id.trim())!
      const parentId = g.parent ? ids.get(g.parent)! : null
      const found = byExt.get(g.external_id.trim())
      if (found && found.parent_id !== parentId) changed.add(g.external_id.trim())
      if (!found || found.parent_id !== parentId) await trx.updateTable('msg_individual_groups').set({ parent_id: parentId }).where('tenant_id', '=', tenantId).where('id', '=', id).execute()
      const wantPeople = [...new Set((g.individuals ?? []).map((x) => persons.get(x)!))].sort()
      const wantUsers = [...new Set((g.users ?? []).map((x) => users.get(x.trim().toLowerCase())!))].sort()
      const havePeople = (await trx.selectFrom('msg_group_individuals').select('person_id').where('group_id', '=', id).execute()).map((r) => r.person_id).sort()
      const haveUsers = (await trx.selectFrom('msg_group_users').select('user_id').where('group_id', '=', id).execute()).map((r) => r.user_id).sort()
      if (wantPeople.join() !== havePeople.join()) {
        changed.add(g.external_id.trim())
        await trx.deleteFrom('msg_group_individuals').where('group_id', '=', id).execute()
        for (let i = 0; i < wantPeople.length; i += IMPORT_BATCH) {
          await trx.insertInto('msg_group_individuals').values(wantPeople.slice(i, i + IMPORT_BATCH).map((p) => ({ tenant_id: tenantId, group_id: id, person_id: p }))).execute()
        }
      }
      if (wantUsers.join() !== haveUsers.join()) {
        changed.add(g.external_id.trim())
        await trx.deleteFrom('msg_group_users').where('group_id', '=', id).execute()
        if (wantUsers.length > 0) await trx.insertInto('msg_group_users').values(wantUsers.map((u) => ({ tenant_id: tenantId, group_id: id, user_id: u }))).execute()
      }
      if (found) {
        if (changed.has(g.external_id.trim())) counts.updated++
        else counts.unchanged++
      }
    }
    if (changed.size > 0) {
      await trx.updateTable('msg_individual_groups').set({ synced_at: sql`now()` })
        .where('tenant_id', '=', tenantId).where('external_id', 'in', [...changed]).execute()
    }
  }
}

async function* docIndividuals(items: unknown[]): AsyncGenerator<{ base: string; value: unknown }> {
  for (const [n, value] of items.entries()) yield { base: `individuals[${n}]`, value }
}

/** Individuals of a CSV file: a header naming the columns, then one row each (empty cells left out). */
async function* csvIndividuals(chunks: AsyncIterable<string | Buffer> | Iterable<string>, problems: Problems): AsyncGenerator<{ base: string; value: unknown }> {
  let header: string[] | undefined
  let n = 0
  try {
    for await (const rec of readCsv(chunks)) {
      if (!header) {
        header = rec.fields.map((f) => f.trim())
        const unknown = header.filter((h) => !(INDIVIDUAL_COLUMNS as string[]).includes(h))
        for (const h of unknown) problems.add(`line ${rec.line}: unknown column "${h}" (columns: ${INDIVIDUAL_COLUMNS.join(', ')})`)
        if (!header.includes('external_id')) problems.add(`line ${rec.line}: the header has no external_id column`)
        if (problems.any) return
        continue
      }
      const base = `individuals[${n}] (line ${rec.line})`
      n++
      if (rec.fields.length !== header.length) {
        problems.add(`${base}: ${rec.fields.length} fields, the header has ${header.length}`)
        continue
      }
      const value: Record<string, string> = {}
      header.forEach((h, i) => {
        if (rec.fields[i] !== '') value[h] = rec.fields[i]!
      })
      yield { base, value }
    }
  } catch (err) {
    if (err instanceof CsvError || err instanceof TypeError) problems.add(err instanceof CsvError ? err.message : `(document): ${err.message}`)
    else throw err
  }
  if (!header) problems.add('(document): the CSV file is empty')
}
