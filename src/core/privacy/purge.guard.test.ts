import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Store } from '../../db/store.ts'
import { openTestStore } from '../../../test/helpers/store.ts'
import { PURGED_COLUMNS } from './index.ts'

// The schema guard of purge-data (#86): every column of the migrated schema that refers to a
// person or individual must be listed by one of the purge's areas (purge.areas.ts), so a table
// added later cannot keep an erased person's data unnoticed. A column listed that no longer
// exists fails too (the list stays true).
let store: Store
beforeAll(async () => {
  store = await openTestStore()
})
afterAll(async () => store?.close())

/** Column names that point at a person, whatever the table. */
const PERSON_COLUMN = /^(person_id|individual_id|author_id|individual_ids|[a-z_]+_individual_id|[a-z_]+_person_id)$/

it('every person or individual column of the schema is covered by the purge, and every listed one exists', async () => {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`.execute(store.db)
  const all = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`))
  const person = [...all].filter((c) => PERSON_COLUMN.test(c.split('.')[1]!)).sort()
  expect(person.length).toBeGreaterThan(10)
  expect(person.filter((c) => !PURGED_COLUMNS.has(c)), 'person columns no purge area lists (src/core/privacy/purge.areas.ts)').toEqual([])
  expect([...PURGED_COLUMNS].filter((c) => !all.has(c)), 'listed columns that do not exist').toEqual([])
})
