import { Type } from 'typebox'

/** A UUID parameter or attribute (`spec/courier.md` §1.8). */
export const Uuid = Type.String({ format: 'uuid', description: 'UUID' })
/** A timestamp on the wire: ISO 8601 with milliseconds and `Z` (README "Messaging: decisions"). */
export const Timestamp = Type.String({ description: 'ISO 8601, UTC, with milliseconds' })
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()])
