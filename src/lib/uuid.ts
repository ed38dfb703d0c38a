/** A UUID in its canonical 8-4-4-4-12 hex form, either case (ids of every table; any version). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether `id` is a UUID (so it can be compared with a uuid column without a database error). */
export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id)
}
