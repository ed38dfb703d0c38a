/**
 * A UTC instant as Python's `str(datetime)` prints an aware UTC datetime, which is what the Cass
 * Notification API sends as `schedule`: `2023-06-30 19:26:36.566729+00:00` — a space between date
 * and time, six digits of microseconds, `+00:00`. Unlike Python, the microseconds are always
 * printed (Python drops them when they are zero), so clients can rely on one fixed shape; Python's
 * `datetime.fromisoformat` reads both.
 *
 * `epochMicros`: microseconds since 1970-01-01T00:00:00Z (the database keeps microseconds; a JS Date
 * only milliseconds). Years 1-9999, as Python's datetime.
 */
export function formatPythonUtc(epochMicros: bigint): string {
  const ms = epochMicros / 1000n - (epochMicros % 1000n < 0n ? 1n : 0n) // floor, also before 1970
  const micros = Number(((epochMicros % 1_000_000n) + 1_000_000n) % 1_000_000n)
  const d = new Date(Number(ms))
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) throw new RangeError(`time out of range: ${epochMicros}`)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(micros, 6)}+00:00`
}
