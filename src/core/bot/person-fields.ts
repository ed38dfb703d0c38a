import type { AnswerField, Person } from '../people/index.ts'
import type { PersonValues } from './render.ts'
import type { StorableField } from './threads.schema.ts'

/**
 * Each person field as thread files name it (snake_case: `store: {field: first_name}`, what
 * `<<NAME>>` shows) and as the core person names it. Thread content is a published format, so it
 * keeps its names; the bot maps at this edge and the rest of core speaks the camelCase `Person`.
 */
export const THREAD_PERSON_FIELDS = {
  first_name: 'firstName', last_name: 'lastName', external_id: 'externalId', external_username: 'externalUsername',
  external_org: 'externalOrg', external_data_1: 'externalData1', external_data_2: 'externalData2', external_data_3: 'externalData3',
} as const satisfies Record<StorableField, AnswerField>

/** The person's fields as the runtime and placeholders see them (the thread language). */
export function personValues(person: Person): PersonValues {
  const values: Record<string, string | null> = {}
  for (const [thread, core] of Object.entries(THREAD_PERSON_FIELDS)) values[thread] = person[core]
  return values as PersonValues
}
