import { describe, expect, it } from 'vitest'
import { formatPythonUtc } from './python-time.ts'

// Expected strings are what CPython prints: str(datetime.fromtimestamp(s, timezone.utc)) with the
// microseconds, e.g. datetime(2023, 6, 30, 19, 26, 36, 566729, tzinfo=timezone.utc).
describe('formatPythonUtc', () => {
  it('prints the documented example byte for byte', () => {
    expect(formatPythonUtc(1688153196566729n)).toBe('2023-06-30 19:26:36.566729+00:00')
  })
  it('always prints six digits of microseconds, zero-padded', () => {
    expect(formatPythonUtc(1688153196000000n)).toBe('2023-06-30 19:26:36.000000+00:00')
    expect(formatPythonUtc(1688153196000007n)).toBe('2023-06-30 19:26:36.000007+00:00')
    expect(formatPythonUtc(1688153196999999n)).toBe('2023-06-30 19:26:36.999999+00:00')
  })
  it('pads every field and handles the epoch, leap days and years before 1970', () => {
    expect(formatPythonUtc(0n)).toBe('1970-01-01 00:00:00.000000+00:00')
    expect(formatPythonUtc(BigInt(Date.UTC(2024, 1, 29, 3, 4, 5)) * 1000n + 6n)).toBe('2024-02-29 03:04:05.000006+00:00')
    expect(formatPythonUtc(-1n)).toBe('1969-12-31 23:59:59.999999+00:00')
    expect(formatPythonUtc(-1_500_000n)).toBe('1969-12-31 23:59:58.500000+00:00')
    expect(formatPythonUtc(BigInt(Date.UTC(999, 0, 1)) * 1000n)).toBe('0999-01-01 00:00:00.000000+00:00')
  })
  it('agrees with the ISO form of the same instant', () => {
    for (const iso of ['2026-03-08T07:00:00.123Z', '2026-11-01T05:59:59.999Z', '2038-01-19T03:14:08.000Z']) {
      const micros = BigInt(Date.parse(iso)) * 1000n + 456n
      expect(formatPythonUtc(micros)).toBe(iso.replace('T', ' ').replace('Z', '') + '456+00:00')
    }
  })
  it('refuses times Python cannot hold', () => {
    expect(() => formatPythonUtc(BigInt(Date.UTC(10000, 0, 1)) * 1000n)).toThrow(RangeError)
  })
})
